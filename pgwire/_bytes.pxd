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
