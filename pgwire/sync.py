"""The blocking API: ``pgwire.sync.connect(...)`` (also ``pgwire.connect_sync``).

The same classes and methods as the asyncio API, each call blocking until
done; see :mod:`pgwire.api`.
"""

from .api._sync.connection import (
    Connection,
    Cursor,
    Pipeline,
    PreparedStatement,
    Transaction,
    connect,
)

__all__ = ["Connection", "Cursor", "Pipeline", "PreparedStatement", "Transaction", "connect"]
