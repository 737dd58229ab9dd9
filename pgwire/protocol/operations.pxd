# Static types for operations.py when it is compiled (Cython pure Python mode).
cimport cython

from pgwire.protocol.messages cimport (
    parse_command_tag,
    parse_fields,
    parse_parameter_description,
    parse_row_description,
)
from pgwire.protocol.wire cimport BodyReader

cdef int _DATA_ROW, _AUTHENTICATION, _BACKEND_KEY_DATA, _BIND_COMPLETE, _CLOSE_COMPLETE
cdef int _COMMAND_COMPLETE, _COPY_BOTH_RESPONSE, _COPY_DATA, _COPY_DONE, _COPY_IN_RESPONSE
cdef int _COPY_OUT_RESPONSE, _EMPTY_QUERY_RESPONSE, _ERROR_RESPONSE
cdef int _NEGOTIATE_PROTOCOL_VERSION, _NO_DATA, _PARAMETER_DESCRIPTION
cdef int _PARSE_COMPLETE, _PORTAL_SUSPENDED, _READY_FOR_QUERY, _ROW_DESCRIPTION
cdef Py_ssize_t _MAX_REASON

# The one object built per statement (per row of executemany): an extension
# type, so creating it and setting its fields costs no dictionary work.
@cython.final
cdef class StatementResult:
    cdef public object status
    cdef public object columns
    cdef public object rows
    cdef public bint suspended
    cdef public object row_decoder
    cdef public object on_description
