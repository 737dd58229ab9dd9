# Static types for binary.py when it is compiled (Cython pure Python mode).
# Decoders are cpdef so that pgwire.rows calls them in C with a DataRow
# buffer and an offset; encoders stay Python functions.
cimport cython

# The datetime C API, under names that binary.py defines in Python for the
# pure Python build.
cdef extern from *:
    """
    #include <datetime.h>

    static int pgw_import_datetime(void) {
        PyDateTime_IMPORT;
        return PyDateTimeAPI == NULL ? -1 : 0;
    }
    static PyObject *pgw_datetime_new(int year, int month, int day, int hour, int minute,
                                      int second, int us, PyObject *tz) {
        return PyDateTimeAPI->DateTime_FromDateAndTime(
            year, month, day, hour, minute, second, us, tz, PyDateTimeAPI->DateTimeType);
    }
    static PyObject *pgw_date_new(int year, int month, int day) {
        return PyDateTimeAPI->Date_FromDate(year, month, day, PyDateTimeAPI->DateType);
    }
    """
    int import_datetime "pgw_import_datetime"() except -1
    object datetime_new "pgw_datetime_new"(int year, int month, int day, int hour, int minute,
                                           int second, int us, object tz)
    object date_new "pgw_date_new"(int year, int month, int day)

from pgwire._bytes cimport (
    read_float4,
    read_float8,
    read_int16,
    read_int32,
    read_int64,
    read_uint16,
    read_uint32,
)

cpdef object decode_bool(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_int2(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_int4(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_int8(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_oid(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_float4(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_float8(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

cdef long long _US_PER_DAY, _TS_MIN_US, _TS_MAX_US
cdef long _PG_EPOCH_ORDINAL, _MAX_ORDINAL
cdef int _NUMERIC_SIGN_POS, _NUMERIC_SIGN_NEG, _NUMERIC_BUFFER_DIGITS

@cython.locals(ndigits=int, weight=int, sign=int, dscale=int, shift=Py_ssize_t)
cpdef object decode_numeric(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

@cython.locals(k=Py_ssize_t, start=Py_ssize_t, i=Py_ssize_t, _=Py_ssize_t, digit=int,
               power=int)
cdef object _numeric_from_buffer(bytes data, Py_ssize_t pos, int ndigits, Py_ssize_t shift,
                                 int sign, int dscale)

cpdef object decode_text(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_char(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_bytea(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

@cython.locals(z=long, era=long, doe=long, yoe=long, doy=long, mp=long, day=long,
               month=long, year=long)
cdef long _ymd(long ordinal)

@cython.locals(days=cython.longlong, rest=cython.longlong, seconds=cython.longlong, ymd=long)
cdef object _datetime_from_us(long long us, object tz)

@cython.locals(days=long, ordinal=long, ymd=long)
cpdef object decode_date(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

@cython.locals(us=cython.longlong)
cpdef object decode_timestamp(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

@cython.locals(us=cython.longlong)
cpdef object decode_timestamptz(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

cpdef object decode_time(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_timetz(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_interval(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_uuid(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
