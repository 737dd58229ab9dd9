# Static types for arrays.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire._bytes cimport read_int32
from pgwire.types.codec cimport Codec

@cython.locals(ndim=long, pos=Py_ssize_t, size=long, length=Py_ssize_t, items=list)
cpdef list decode_array(bytes data, Py_ssize_t start, Py_ssize_t end, Codec element)

cdef class ArrayCodec(Codec):
    cdef readonly Codec element
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
