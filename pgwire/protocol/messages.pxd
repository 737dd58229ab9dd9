# Static types for messages.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire.protocol.wire cimport BodyReader

@cython.locals(reader=BodyReader, count=Py_ssize_t)
cpdef list parse_row_description(bytes body)

@cython.locals(reader=BodyReader, count=Py_ssize_t)
cpdef list parse_parameter_description(bytes body)

@cython.locals(reader=BodyReader, code=int)
cpdef dict parse_fields(bytes body)

cdef dict _TAGS
cdef Py_ssize_t _MAX_TAGS

@cython.locals(end=Py_ssize_t, tag=str)
cpdef str parse_command_tag(bytes body)
