# Static types for composites.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire._bytes cimport read_int32, read_uint32
from pgwire.types.codec cimport Codec

cdef extern from "Python.h":
    void gc_untrack "PyObject_GC_UnTrack"(object obj)
    bint gc_is_tracked "PyObject_GC_IsTracked"(object obj)
from pgwire.types.record cimport Record

cdef class CompositeCodec(Codec):
    cdef readonly str type_name
    cdef readonly tuple names
    cdef readonly tuple type_oids
    cdef readonly list codecs
    cdef readonly list functions
    cdef readonly list encoders
    cdef readonly Py_ssize_t count
    cdef readonly object mapping
    cdef readonly dict positions

    @cython.locals(end=Py_ssize_t, count=Py_ssize_t, index=Py_ssize_t, length=Py_ssize_t,
                   values=list, functions=list, codec=Codec, record=Record)
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
    cpdef object field_values(self, object value)

cdef int MAX_RECORD_DEPTH

cdef class AnonymousRecordCodec(Codec):
    cdef readonly object lookup
    cdef readonly object name_of
    cdef readonly int depth

    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)

    @cython.locals(end=Py_ssize_t, count=Py_ssize_t, index=Py_ssize_t, length=Py_ssize_t,
                   values=list)
    cdef object _decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)

cdef class HstoreCodec(Codec):
    @cython.locals(end=Py_ssize_t, count=Py_ssize_t, length=Py_ssize_t, result=dict)
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
