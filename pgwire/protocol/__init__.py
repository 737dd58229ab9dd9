"""The sans-I/O core of pgwire: protocol messages and the connection state machine.

Nothing in this package performs I/O; drivers feed it bytes and send what it
returns.  It knows nothing of Python value codecs either: row decoders and
encoded parameters come from the layers above.

* :mod:`~pgwire.protocol.wire`: message framing, frontend message builders;
* :mod:`~pgwire.protocol.messages`: backend messages parsed into values;
* :mod:`~pgwire.protocol.engine`: the :class:`Engine` and its states;
* :mod:`~pgwire.protocol.operations`: what each operation sends and reads;
* :mod:`~pgwire.protocol.auth`: MD5 and SCRAM-SHA-256.
"""

from .engine import Engine, EngineState, Operation, StreamingOperation, TransactionStatus
from .messages import Column, Notification
from .operations import (
    CopyBoth,
    CopyIn,
    CopyOut,
    Extended,
    SimpleQuery,
    Startup,
    StatementResult,
)

__all__ = [
    "Column",
    "CopyBoth",
    "CopyIn",
    "CopyOut",
    "Engine",
    "EngineState",
    "Extended",
    "Notification",
    "Operation",
    "SimpleQuery",
    "Startup",
    "StatementResult",
    "StreamingOperation",
    "TransactionStatus",
]
