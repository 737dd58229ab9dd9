# Static types for rows.py when it is compiled (Cython pure Python mode).
cimport cython
from cpython.ref cimport Py_INCREF
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM

from pgwire._bytes cimport read_int16, read_int32
from pgwire.types.codec cimport Codec
from pgwire.types.record cimport Record

cdef extern from "Python.h":
    void untrack "PyObject_GC_UnTrack"(object obj)

@cython.final
cdef class RowDecoder:
    cdef list _codecs
    cdef list _functions
    cdef object _mapping
    cdef object _record_class
    cdef bint _plain
    cdef Py_ssize_t _count
    cdef bint _untrack

    @cython.locals(count=Py_ssize_t, pos=Py_ssize_t, index=Py_ssize_t, length=Py_ssize_t,
                   row=tuple, record=Record, codec=Codec)
    cpdef decode_at(self, bytes data, Py_ssize_t start, Py_ssize_t end)
