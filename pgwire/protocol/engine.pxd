# Static types for engine.py when it is compiled (Cython pure Python mode).
# The engine and the operations stay Python classes (other modules subclass
# and extend them); only their hot methods get typed locals, in engine.py.
cimport cython

from pgwire.protocol.messages cimport parse_fields
from pgwire.protocol.wire cimport MessageReader

cdef int _DATA_ROW, _NOTICE_RESPONSE, _NOTIFICATION_RESPONSE, _PARAMETER_STATUS, _ERROR_RESPONSE
cdef int _COMMAND_COMPLETE, _LONGEST_SESSION_TAG, _PARSE_COMPLETE, _CLOSE_COMPLETE
cdef dict _ROWS, _SESSION_TAGS
cdef frozenset _SESSION_TAG_FIRST_BYTES
