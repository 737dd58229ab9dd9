# Big-endian field reads and writes for the compiled modules: the C
# counterparts of _bytes.py (which the pure Python build uses).  ``data`` is
# the start of a bytes buffer; the caller has checked the bounds.  The
# pack_* functions take a value already known to fit (they keep its low bits).

cdef extern from *:
    """
    #include <stdint.h>
    #include <string.h>

    static CYTHON_INLINE uint16_t pgw_u16(const char *data, Py_ssize_t pos) {
        const unsigned char *p = (const unsigned char *)data + pos;
        return (uint16_t)(((uint16_t)p[0] << 8) | p[1]);
    }
    static CYTHON_INLINE uint32_t pgw_u32(const char *data, Py_ssize_t pos) {
        const unsigned char *p = (const unsigned char *)data + pos;
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    }
    static CYTHON_INLINE uint64_t pgw_u64(const char *data, Py_ssize_t pos) {
        return ((uint64_t)pgw_u32(data, pos) << 32) | pgw_u32(data, pos + 4);
    }
    static CYTHON_INLINE int16_t pgw_i16(const char *data, Py_ssize_t pos) {
        return (int16_t)pgw_u16(data, pos);
    }
    static CYTHON_INLINE int32_t pgw_i32(const char *data, Py_ssize_t pos) {
        return (int32_t)pgw_u32(data, pos);
    }
    static CYTHON_INLINE int64_t pgw_i64(const char *data, Py_ssize_t pos) {
        return (int64_t)pgw_u64(data, pos);
    }
    static CYTHON_INLINE double pgw_f32(const char *data, Py_ssize_t pos) {
        uint32_t u = pgw_u32(data, pos);
        float f;
        memcpy(&f, &u, 4);
        return (double)f;
    }
    static CYTHON_INLINE double pgw_f64(const char *data, Py_ssize_t pos) {
        uint64_t u = pgw_u64(data, pos);
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    static CYTHON_INLINE PyObject *pgw_pack_i16(long value) {
        char b[2];
        b[0] = (char)((value >> 8) & 0xff);
        b[1] = (char)(value & 0xff);
        return PyBytes_FromStringAndSize(b, 2);
    }
    static CYTHON_INLINE PyObject *pgw_pack_i32(long value) {
        char b[4];
        b[0] = (char)((value >> 24) & 0xff);
        b[1] = (char)((value >> 16) & 0xff);
        b[2] = (char)((value >> 8) & 0xff);
        b[3] = (char)(value & 0xff);
        return PyBytes_FromStringAndSize(b, 4);
    }
    static CYTHON_INLINE PyObject *pgw_pack_i64(long long value) {
        char b[8];
        unsigned long long u = (unsigned long long)value;
        int i;
        for (i = 7; i >= 0; i--) { b[i] = (char)(u & 0xff); u >>= 8; }
        return PyBytes_FromStringAndSize(b, 8);
    }
    static CYTHON_INLINE PyObject *pgw_pack_f8(double value) {
        uint64_t u;
        memcpy(&u, &value, 8);
        return pgw_pack_i64((long long)u);
    }
    /* value: an int (exactly).  Its two's complement in width (2, 4 or 8)
       big-endian bytes, or None when it does not fit. */
    static CYTHON_UNUSED PyObject *pgw_pack_int_fitting(PyObject *value, int width) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        char b[8];
        unsigned long long u;
        int i;
        if (v == -1 && PyErr_Occurred()) return NULL;
        if (overflow || (width == 2 && (v < -32768 || v > 32767))
                || (width == 4 && (v < INT32_MIN || v > INT32_MAX))) {
            Py_RETURN_NONE;
        }
        u = (unsigned long long)v;
        for (i = width - 1; i >= 0; i--) { b[i] = (char)(u & 0xff); u >>= 8; }
        return PyBytes_FromStringAndSize(b, width);
    }
    /* The UTF-8 bytes of a str, or None when it contains NUL (which no text
       value can hold); a lone surrogate raises UnicodeEncodeError. */
    static CYTHON_UNUSED PyObject *pgw_utf8_no_nul(PyObject *value) {
        PyObject *data = PyUnicode_AsUTF8String(value);
        if (data != NULL && memchr(PyBytes_AS_STRING(data), 0, (size_t)PyBytes_GET_SIZE(data))) {
            Py_DECREF(data);
            Py_RETURN_NONE;
        }
        return data;
    }
    /* Appends to a bytearray, which over-allocates as it grows (like a list),
       so a buffer built field by field is not copied at every append. */
    static CYTHON_INLINE int pgw_append(PyObject *buffer, const char *data, Py_ssize_t n) {
        Py_ssize_t size = PyByteArray_GET_SIZE(buffer);
        if (PyByteArray_Resize(buffer, size + n) < 0) return -1;
        memcpy(PyByteArray_AS_STRING(buffer) + size, data, (size_t)n);
        return 0;
    }
    static CYTHON_INLINE int pgw_append_i16(PyObject *buffer, long value) {
        char b[2];
        b[0] = (char)((value >> 8) & 0xff);
        b[1] = (char)(value & 0xff);
        return pgw_append(buffer, b, 2);
    }
    static CYTHON_INLINE int pgw_append_i32(PyObject *buffer, long value) {
        char b[4];
        b[0] = (char)((value >> 24) & 0xff);
        b[1] = (char)((value >> 16) & 0xff);
        b[2] = (char)((value >> 8) & 0xff);
        b[3] = (char)(value & 0xff);
        return pgw_append(buffer, b, 4);
    }
    static CYTHON_INLINE int pgw_append_bytes(PyObject *buffer, PyObject *data) {
        return pgw_append(buffer, PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data));
    }
    /* Whole fields of a binary tuple (a 4-byte length, then the value), for
       values whose encoding is plain; 1 means "not this way" (nothing was
       appended: the caller uses the type's encoder), -1 an error. */
    static CYTHON_UNUSED int pgw_append_int_field(PyObject *buffer, PyObject *value, int width) {
        int overflow, i;
        long long v = PyLong_AsLongLongAndOverflow(value, &overflow);
        char b[12];
        unsigned long long u;
        if (v == -1 && PyErr_Occurred()) return -1;
        if (overflow || (width == 2 && (v < -32768 || v > 32767))
                || (width == 4 && (v < INT32_MIN || v > INT32_MAX))) {
            return 1;
        }
        b[0] = 0; b[1] = 0; b[2] = 0; b[3] = (char)width;
        u = (unsigned long long)v;
        for (i = 3 + width; i >= 4; i--) { b[i] = (char)(u & 0xff); u >>= 8; }
        return pgw_append(buffer, b, 4 + width);
    }
    static CYTHON_UNUSED int pgw_append_float8_field(PyObject *buffer, PyObject *value) {
        double d = PyFloat_AS_DOUBLE(value);
        uint64_t u;
        char b[12];
        int i;
        memcpy(&u, &d, 8);
        b[0] = 0; b[1] = 0; b[2] = 0; b[3] = 8;
        for (i = 11; i >= 4; i--) { b[i] = (char)(u & 0xff); u >>= 8; }
        return pgw_append(buffer, b, 12);
    }
    /* value: a str.  Only ASCII is taken (its UTF-8 is its own storage, so
       nothing is cached on the str), and only without NUL. */
    static CYTHON_UNUSED int pgw_append_ascii_field(PyObject *buffer, PyObject *value) {
        Py_ssize_t n;
        const char *data;
        if (!PyUnicode_IS_ASCII(value)) return 1;
        n = PyUnicode_GET_LENGTH(value);
        data = (const char *)PyUnicode_DATA(value);
        if (n > 0x7fffffff || memchr(data, 0, (size_t)n)) return 1;
        if (pgw_append_i32(buffer, (long)n) < 0) return -1;
        return pgw_append(buffer, data, n);
    }
    /* A bytes object of n bytes filled in place by the put_* functions,
       before anything else sees it (the way CPython builds its own). */
    static CYTHON_INLINE PyObject *pgw_new_bytes(Py_ssize_t n) {
        return PyBytes_FromStringAndSize(NULL, n);
    }
    static CYTHON_INLINE void pgw_put_i16(PyObject *target, Py_ssize_t pos, long value) {
        unsigned char *p = (unsigned char *)PyBytes_AS_STRING(target) + pos;
        p[0] = (unsigned char)((value >> 8) & 0xff);
        p[1] = (unsigned char)(value & 0xff);
    }
    static CYTHON_INLINE void pgw_put_i32(PyObject *target, Py_ssize_t pos, long value) {
        unsigned char *p = (unsigned char *)PyBytes_AS_STRING(target) + pos;
        p[0] = (unsigned char)((value >> 24) & 0xff);
        p[1] = (unsigned char)((value >> 16) & 0xff);
        p[2] = (unsigned char)((value >> 8) & 0xff);
        p[3] = (unsigned char)(value & 0xff);
    }
    /* Copies data (bytes, or any contiguous buffer) to target at pos; returns
       the number of bytes copied, or -1 with an exception set. */
    static CYTHON_INLINE Py_ssize_t pgw_put_data(PyObject *target, Py_ssize_t pos, PyObject *data) {
        Py_buffer view;
        Py_ssize_t n;
        if (PyBytes_CheckExact(data)) {
            n = PyBytes_GET_SIZE(data);
            memcpy(PyBytes_AS_STRING(target) + pos, PyBytes_AS_STRING(data), (size_t)n);
            return n;
        }
        if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return -1;
        n = view.len;
        if (pos + n > PyBytes_GET_SIZE(target)) {
            PyBuffer_Release(&view);
            PyErr_SetString(PyExc_ValueError, "a value changed size while it was sent");
            return -1;
        }
        memcpy(PyBytes_AS_STRING(target) + pos, view.buf, (size_t)n);
        PyBuffer_Release(&view);
        return n;
    }
    static CYTHON_INLINE PyObject *pgw_filled(PyObject *target) {
        Py_INCREF(target);
        return target;
    }
    """
    int read_int16 "pgw_i16"(const char *data, Py_ssize_t pos) noexcept
    unsigned int read_uint16 "pgw_u16"(const char *data, Py_ssize_t pos) noexcept
    long read_int32 "pgw_i32"(const char *data, Py_ssize_t pos) noexcept
    unsigned long read_uint32 "pgw_u32"(const char *data, Py_ssize_t pos) noexcept
    long long read_int64 "pgw_i64"(const char *data, Py_ssize_t pos) noexcept
    double read_float4 "pgw_f32"(const char *data, Py_ssize_t pos) noexcept
    double read_float8 "pgw_f64"(const char *data, Py_ssize_t pos) noexcept
    bytes pack_int16 "pgw_pack_i16"(long value)
    bytes pack_int32 "pgw_pack_i32"(long value)
    bytes pack_int64 "pgw_pack_i64"(long long value)
    bytes pack_float8 "pgw_pack_f8"(double value)
    object pack_int_fitting "pgw_pack_int_fitting"(object value, int width)
    object utf8_no_nul "pgw_utf8_no_nul"(object value)
    # ``buffer`` is a bytearray, ``data`` a bytes object.
    int append_int16 "pgw_append_i16"(bytearray buffer, long value) except -1
    int append_int32 "pgw_append_i32"(bytearray buffer, long value) except -1
    int append_bytes "pgw_append_bytes"(bytearray buffer, bytes data) except -1
    # value: an int, a float and a str (exactly) respectively.
    int append_int_field "pgw_append_int_field"(bytearray buffer, object value, int width) except -1
    int append_float8_field "pgw_append_float8_field"(bytearray buffer, object value) except -1
    int append_ascii_field "pgw_append_ascii_field"(bytearray buffer, object value) except -1
    # A bytes object built in place: new_bytes(n), then put_* within its n
    # bytes, then filled() gives it out.
    bytes new_bytes "pgw_new_bytes"(Py_ssize_t n)
    void put_int16 "pgw_put_i16"(bytes target, Py_ssize_t pos, long value) noexcept
    void put_int32 "pgw_put_i32"(bytes target, Py_ssize_t pos, long value) noexcept
    Py_ssize_t put_data "pgw_put_data"(bytes target, Py_ssize_t pos, object data) except -1
    bytes filled "pgw_filled"(bytes target)
