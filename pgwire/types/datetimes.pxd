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
    /* Days from 2000-01-01 to a proleptic Gregorian date (the civil-from-days
       inverse of _ymd in datetimes.py). */
    static long pgw_days_from_civil(long y, long m, long d) {
        long era, yoe, doy, doe;
        y -= m <= 2;
        era = (y >= 0 ? y : y - 399) / 400;
        yoe = y - era * 400;
        doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 730425;  /* 730425: 0000-03-01 to 2000-01-01 */
    }
    /* value: a date or datetime (or subclass), checked by the caller. */
    static CYTHON_INLINE long pgw_date_days(PyObject *value) {
        return pgw_days_from_civil(PyDateTime_GET_YEAR(value), PyDateTime_GET_MONTH(value),
                                   PyDateTime_GET_DAY(value));
    }
    static CYTHON_INLINE int pgw_year_of(PyObject *value) {
        return PyDateTime_GET_YEAR(value);
    }
    /* value: a datetime; microseconds from 2000-01-01 00:00 to its wall-clock
       fields, whatever its tzinfo. */
    static CYTHON_INLINE long long pgw_wall_clock_us(PyObject *value) {
        long long seconds = (long long)pgw_date_days(value) * 86400
            + PyDateTime_DATE_GET_HOUR(value) * 3600 + PyDateTime_DATE_GET_MINUTE(value) * 60
            + PyDateTime_DATE_GET_SECOND(value);
        return seconds * 1000000 + PyDateTime_DATE_GET_MICROSECOND(value);
    }
    """
    int import_datetime "pgw_import_datetime"() except -1
    object datetime_new "pgw_datetime_new"(int year, int month, int day, int hour, int minute,
                                           int second, int us, object tz)
    object date_new "pgw_date_new"(int year, int month, int day)
    long date_days "pgw_date_days"(object value)
    int year_of "pgw_year_of"(object value)
    long long wall_clock_us "pgw_wall_clock_us"(object value)

from pgwire._bytes cimport pack_int32, pack_int64, read_int32, read_int64
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
