# Static types for codec.py when it is compiled (Cython pure Python mode).
# Codec is an extension type: the row decoder calls decode() through its
# C method table, and compiled subclasses override it in C.
cimport cython

cdef class Codec:
    cdef readonly bint atomic
    cdef readonly object in_place
    cdef readonly object encode_function
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class FunctionCodec(Codec):
    cdef readonly object decoder
    cdef readonly object encoder
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cpdef str decode_utf8(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

cdef class Utf8Codec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class TextCodec(Codec):
    cdef readonly object parser
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
