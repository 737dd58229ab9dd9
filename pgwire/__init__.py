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
from .connection import Connection, PreparedStatement, ServerVersion, connect
from .exceptions import *  # noqa: F403
from .exceptions import __all__ as _exception_names
from .record import Record
from .sync import connect as connect_sync
from .transaction import Transaction
from .types import TypeRegistry

__version__ = "0.1.0"

__all__ = [
    "Connection",
    "PreparedStatement",
    "Record",
    "ServerVersion",
    "Transaction",
    "TypeRegistry",
    "connect",
    "connect_sync",
    "exceptions",
    *_exception_names,
]
