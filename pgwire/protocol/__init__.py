"""The sans-I/O core of pgwire: protocol messages and the connection state machine.

Nothing in this package performs I/O; drivers feed it bytes and send what it
returns.  It knows nothing of Python value codecs either: row decoders and
encoded parameters come from the layers above.
"""

from .engine import (
    Column,
    Engine,
    EngineState,
    Extended,
    Notification,
    Operation,
    SimpleQuery,
    Startup,
    StatementResult,
    TransactionStatus,
)

__all__ = [
    "Column",
    "Engine",
    "EngineState",
    "Extended",
    "Notification",
    "Operation",
    "SimpleQuery",
    "Startup",
    "StatementResult",
    "TransactionStatus",
]
