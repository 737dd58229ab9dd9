# Static types for numeric.py when it is compiled (Cython pure Python mode).
# Decoders are cpdef so that the codecs call them in C with a DataRow buffer
# and an offset; encoders stay Python functions.
cimport cython

from pgwire._bytes cimport (
    pack_float8,
    pack_int_fitting,
    read_float4,
    read_float8,
    read_int16,
    read_int32,
    read_int64,
    read_uint16,
    read_uint32,
)
from pgwire.types.codec cimport Codec

cpdef object decode_bool(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_int2(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_int4(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_int8(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_oid(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_float4(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)
cpdef object decode_float8(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

cdef int _NUMERIC_SIGN_POS, _NUMERIC_SIGN_NEG, _NUMERIC_BUFFER_DIGITS

@cython.locals(ndigits=int, weight=int, sign=int, dscale=int, shift=Py_ssize_t)
cpdef object decode_numeric(bytes data, Py_ssize_t pos=*, Py_ssize_t n=*)

@cython.locals(k=Py_ssize_t, start=Py_ssize_t, i=Py_ssize_t, _=Py_ssize_t, digit=int,
               power=int)
cdef object _numeric_from_buffer(bytes data, Py_ssize_t pos, int ndigits, Py_ssize_t shift,
                                 int sign, int dscale)

cdef class BoolCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class Int2Codec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class Int4Codec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class Int8Codec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class OidCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class Float4Codec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class Float8Codec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)

cdef class NumericCodec(Codec):
    cpdef object decode(self, bytes data, Py_ssize_t pos, Py_ssize_t n)
    cpdef object encode(self, object value)
