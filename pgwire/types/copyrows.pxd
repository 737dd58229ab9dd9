# Static types for copyrows.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire.protocol.wire cimport append_fields

cdef class RecordEncoder:
    cdef readonly Py_ssize_t count
    cdef readonly list names
    cdef readonly str format
    cdef readonly Py_ssize_t rows
    cdef bint _binary_format
    cdef list _binary
    cdef list _text
    cdef list _kinds
    cdef bytearray _buffer

    @cython.locals(buffer=bytearray)
    cpdef object add(self, record)

    @cython.locals(fields=list, index=Py_ssize_t)
    cdef _add_text(self, bytearray buffer, record)

    cdef object _field_error(self, Py_ssize_t index, object value, object exc)

    @cython.locals(chunk=bytes)
    cpdef bytes finish(self)
