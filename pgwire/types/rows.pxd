# Static types for rows.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire._bytes cimport read_int16, read_int32
from pgwire.types.record cimport Record
from pgwire.types.binary cimport (
    decode_bool,
    decode_bytea,
    decode_char,
    decode_date,
    decode_float4,
    decode_float8,
    decode_int2,
    decode_int4,
    decode_int8,
    decode_numeric,
    decode_oid,
    decode_text,
    decode_time,
    decode_timestamp,
    decode_timestamptz,
    decode_timetz,
    decode_uuid,
    decode_interval,
)

cdef int _GENERIC, _BOOL, _INT2, _INT4, _INT8, _OID, _FLOAT4, _FLOAT8, _NUMERIC, _TEXT
cdef int _BYTEA, _DATE, _TIMESTAMP, _TIMESTAMPTZ, _CHAR, _TIME, _TIMETZ, _INTERVAL, _UUID

cdef extern from "Python.h":
    void untrack "PyObject_GC_UnTrack"(object obj)

@cython.final
cdef class RowDecoder:
    cdef list _decoders
    cdef list _kinds
    cdef object _mapping
    cdef object _record_class
    cdef bint _plain
    cdef Py_ssize_t _count
    cdef bint _untrack

    @cython.locals(count=Py_ssize_t, pos=Py_ssize_t, index=Py_ssize_t, length=Py_ssize_t,
                   kind=int, values=list, record=Record)
    cpdef decode_at(self, bytes data, Py_ssize_t start, Py_ssize_t end)
