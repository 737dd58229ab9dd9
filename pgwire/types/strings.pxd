# Static types for strings.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire._bytes cimport utf8_no_nul
from pgwire.types.codec cimport Codec

cpdef object decode_text(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_char(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_bytea(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

cdef class TextTypeCodec(Codec):
    cdef readonly object encoder
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class CharCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class ByteaCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
