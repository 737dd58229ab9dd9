# Static types for network.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire.types.codec cimport Codec

cdef extern from "Python.h":
    void gc_untrack "PyObject_GC_UnTrack"(object obj)
    bint gc_is_tracked "PyObject_GC_IsTracked"(object obj)

@cython.locals(family=int, bits=int, size=int)
cpdef object decode_inet(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_cidr(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_macaddr(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_macaddr8(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

cdef class InetCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class CidrCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class MacaddrCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class Macaddr8Codec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
