# Static types for uuids.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire.types.codec cimport Codec

cpdef object decode_uuid(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

cdef class UUIDCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
