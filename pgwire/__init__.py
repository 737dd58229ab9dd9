"""pgwire: a PostgreSQL driver for Python that speaks the wire protocol itself.

The asyncio API follows asyncpg's public surface::

    import pgwire
    conn = await pgwire.connect("postgresql://user@localhost/db")
    rows = await conn.fetch("SELECT * FROM t WHERE id = $1", 42)

The blocking API has the same methods: ``pgwire.connect_sync(...)``.  A PEP
249 module is :mod:`pgwire.dbapi`.
"""

from . import exceptions
from ._build import compiled as compiled  # True when the Cython build is loaded
from .api._async.connection import Connection, PreparedStatement, connect
from .api._async.cursor import Cursor
from .api._async.pipeline import Pipeline
from .api._async.pool import Pool, PoolAcquireContext, create_pool
from .api._async.replication import ReplicationStream
from .api._async.transaction import Transaction
from .api._sync.connection import connect as connect_sync
from .api.info import Attribute, ServerVersion, Type
from .api.listeners import LoggedQuery
from .api.pooling import PoolStats
from .api.results import Result
from .exceptions import *  # noqa: F403
from .exceptions import __all__ as _exception_names
from .types import TypeRegistry
from .types.record import Record
from .types.values import (
    LSN,
    BitString,
    Box,
    Circle,
    Line,
    LineSegment,
    Path,
    Point,
    Polygon,
    Range,
)

__version__ = "0.1.0"

__all__ = [
    "Attribute",
    "LSN",
    "BitString",
    "Box",
    "Circle",
    "Connection",
    "Line",
    "LineSegment",
    "Path",
    "Point",
    "Polygon",
    "Range",
    "Cursor",
    "Pipeline",
    "Pool",
    "PoolAcquireContext",
    "LoggedQuery",
    "PoolStats",
    "ReplicationStream",
    "PreparedStatement",
    "Record",
    "Result",
    "ServerVersion",
    "Transaction",
    "Type",
    "TypeRegistry",
    "connect",
    "connect_sync",
    "create_pool",
    "exceptions",
    *_exception_names,
]
