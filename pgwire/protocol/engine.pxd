# Static types for protocol.py when it is compiled (Cython pure Python mode).
# The operations and the engine stay Python classes (other modules subclass
# and extend them); only their hot methods get typed locals, in protocol.py.
cimport cython

from pgwire.protocol.wire cimport BodyReader, MessageReader

cdef int _DATA_ROW, _AUTHENTICATION, _BACKEND_KEY_DATA, _BIND_COMPLETE, _CLOSE_COMPLETE
cdef int _COMMAND_COMPLETE, _COPY_BOTH_RESPONSE, _COPY_DATA, _COPY_DONE, _COPY_IN_RESPONSE
cdef int _COPY_OUT_RESPONSE, _EMPTY_QUERY_RESPONSE, _ERROR_RESPONSE
cdef int _NEGOTIATE_PROTOCOL_VERSION, _NOTICE_RESPONSE, _NOTIFICATION_RESPONSE, _NO_DATA
cdef int _PARAMETER_DESCRIPTION, _PARAMETER_STATUS, _PARSE_COMPLETE, _PORTAL_SUSPENDED
cdef int _READY_FOR_QUERY, _ROW_DESCRIPTION

@cython.locals(reader=BodyReader, count=Py_ssize_t)
cpdef list parse_row_description(bytes body)

@cython.locals(reader=BodyReader, code=int)
cpdef dict parse_fields(bytes body)

@cython.locals(reader=BodyReader, count=Py_ssize_t, length=Py_ssize_t)
cpdef list parse_data_row_text(bytes body)
