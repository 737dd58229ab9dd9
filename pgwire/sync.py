"""The blocking API: ``pgwire.sync.connect(...)`` (also ``pgwire.connect_sync``) and
``pgwire.sync.create_pool(...)``.

The same classes and methods as the asyncio API, each call blocking until
done; see :mod:`pgwire.api`.
"""

from .api._sync.connection import Connection, PreparedStatement, connect
from .api._sync.cursor import Cursor
from .api._sync.pipeline import Pipeline
from .api._sync.pool import Pool, PoolAcquireContext, create_pool
from .api._sync.replication import ReplicationStream
from .api._sync.transaction import Transaction
from .api.flavours import PendingResult
from .api.listeners import LoggedQuery
from .api.pooling import PoolStats

__all__ = [
    "Connection",
    "Cursor",
    "PendingResult",
    "Pipeline",
    "Pool",
    "PoolAcquireContext",
    "LoggedQuery",
    "PoolStats",
    "ReplicationStream",
    "PreparedStatement",
    "Transaction",
    "connect",
    "create_pool",
]
