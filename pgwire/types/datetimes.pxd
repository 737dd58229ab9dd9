# Static types for datetimes.py when it is compiled (Cython pure Python mode).
# Decoders are cpdef so that the codecs call them in C with a DataRow buffer
# and an offset; encoders stay Python functions.
cimport cython

# The datetime C API, under names that datetimes.py defines in Python for the
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

from pgwire._bytes cimport read_int32, read_int64
from pgwire.types.codec cimport Codec

cdef long long _US_PER_DAY, _TS_MIN_US, _TS_MAX_US
cdef long _PG_EPOCH_ORDINAL, _MAX_ORDINAL

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

cdef class DateCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class TimeCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class TimeTZCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class TimestampCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class TimestampTZCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class IntervalCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
