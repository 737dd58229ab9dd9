# Static types for wire.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire._bytes cimport (
    append_ascii_field,
    append_bytes,
    append_float8_field,
    append_int16,
    append_int32,
    append_int_field,
    filled,
    new_bytes,
    pack_int32,
    put_data,
    put_int16,
    put_int32,
    read_int16,
    read_int32,
    read_uint16,
    read_uint32,
)

cdef Py_ssize_t _MAX_MESSAGE

@cython.locals(count=Py_ssize_t, size=Py_ssize_t, length=Py_ssize_t, pos=Py_ssize_t,
               message=bytes)
cpdef bytes bind_message(bytes prefix, params, bytes result_formats)

@cython.locals(count=Py_ssize_t, start=Py_ssize_t, index=Py_ssize_t, length=Py_ssize_t,
               compiled=bint, fast=bint, kind=int, written=int, int2_kind=int,
               int4_kind=int, int8_kind=int, float8_kind=int, text_kind=int)
cpdef append_fields(bytearray buffer, list encoders, values, list kinds=*)

@cython.locals(count=Py_ssize_t, index=Py_ssize_t, fields=list)
cpdef bytes bind_fields(bytes prefix, list encoders, values, bytes result_formats)

@cython.final
cdef class MessageReader:
    cdef readonly bytes data
    cdef readonly Py_ssize_t start
    cdef readonly Py_ssize_t end
    cdef Py_ssize_t _pos
    cdef list _chunks
    cdef Py_ssize_t _chunks_size
    cdef Py_ssize_t _need
    cdef public Py_ssize_t max_message_size

    @cython.locals(available=Py_ssize_t)
    cpdef feed(self, data)

    @cython.locals(data=bytes, pos=Py_ssize_t, available=Py_ssize_t, kind=int, length=Py_ssize_t)
    cpdef Py_ssize_t next_frame(self) except -2

    @cython.locals(kind=Py_ssize_t)
    cpdef next_message(self)

@cython.final
cdef class BodyReader:
    cdef public bytes data
    cdef public Py_ssize_t pos

    cdef int _need(self, Py_ssize_t n) except -1

    cpdef int16(self)
    cpdef int32(self)
    cpdef uint16(self)
    cpdef uint32(self)
    cpdef byte(self)
    cpdef bytes take(self, Py_ssize_t n)
    cpdef bytes rest(self)
    @cython.locals(start=Py_ssize_t, end=Py_ssize_t)
    cpdef str cstring(self)
    cpdef bint at_end(self)
