# Static types for arrays.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire._bytes cimport read_int32

@cython.locals(end=Py_ssize_t, ndim=long, pos=Py_ssize_t, size=long, length=Py_ssize_t,
               in_place=bint, items=list)
cpdef list decode_array(bytes data, decode_element)
