# Static types for ranges.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire._bytes cimport read_int32
from pgwire.types.codec cimport Codec

cdef extern from "Python.h":
    void gc_untrack "PyObject_GC_UnTrack"(object obj)
    bint gc_is_tracked "PyObject_GC_IsTracked"(object obj)

@cython.locals(end=Py_ssize_t, flags=int, length=Py_ssize_t)
cpdef object decode_range(bytes data, Py_ssize_t pos, Py_ssize_t n, Codec subtype,
                          str type_name)

cdef class RangeCodec(Codec):
    cdef readonly Codec subtype
    cdef readonly object encode_subtype
    cdef readonly str type_name
    cdef readonly bint check_order
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class MultirangeCodec(Codec):
    cdef readonly RangeCodec range_codec
    cdef readonly str type_name

    @cython.locals(end=Py_ssize_t, count=Py_ssize_t, length=Py_ssize_t, ranges=list)
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
