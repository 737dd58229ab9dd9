# Static types for bitstrings.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire.types.codec cimport Codec

cdef class BitsCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
