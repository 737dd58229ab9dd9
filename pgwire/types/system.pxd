# Static types for system.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire.types.codec cimport Codec

cdef class FixedCodec(Codec):
    cdef readonly object decoder
    cdef readonly object encoder
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
