"""The ``postgresql+pgwire`` dialect classes, built on SQLAlchemy's PostgreSQL dialect.

Both dialects talk to :mod:`pgwire.dbapi`: the blocking one over
:class:`pgwire.sync.Connection`, the async one over a
:class:`pgwire.Connection` whose coroutines are awaited in SQLAlchemy's
greenlet (:class:`_AwaitedConnection`), so transactions, placeholders,
server-side cursors and two-phase commit have one implementation.  What the
dialect adds is SQLAlchemy's side: bind casts, value conversions where
SQLAlchemy's types and pgwire's differ (ranges, JSON paths), isolation
levels, pings and disconnect detection.

Decisions:

* ``paramstyle`` is pgwire.dbapi's ``pyformat``, so ``exec_driver_sql``
  takes ``%s``/``%(name)s`` as with psycopg.
* Parameters get explicit casts (``%(x)s::INTEGER``): pgwire lets the server
  infer parameter types, as asyncpg does, and a cast makes the inferred type
  the column type SQLAlchemy means.
* JSON: SQLAlchemy serializes (pgwire sends a ``str`` parameter as JSON text
  as it is), pgwire deserializes; ``json_deserializer=`` given to the engine
  becomes the connection's JSON decoder.
* Isolation level, read-only and deferrable go with each BEGIN (pgwire.dbapi
  ``isolation_level``/``read_only``/``deferrable``), never as session
  settings, so they work behind pgbouncer in transaction mode.
"""

from __future__ import annotations

import datetime
import decimal
import itertools
from collections.abc import Callable
from typing import Any, cast

from sqlalchemy import exc as sa_exc
from sqlalchemy import types as sqltypes
from sqlalchemy import util
from sqlalchemy.dialects.postgresql import ranges
from sqlalchemy.dialects.postgresql.array import ARRAY as PG_ARRAY
from sqlalchemy.dialects.postgresql.base import (
    BIT,
    INTERVAL,
    OID,
    REGCLASS,
    REGCONFIG,
    PGCompiler,
    PGDialect,
    PGExecutionContext,
    PGIdentifierPreparer,
)
from sqlalchemy.dialects.postgresql.json import JSON as PG_JSON
from sqlalchemy.dialects.postgresql.json import JSONB as PG_JSONB
from sqlalchemy.dialects.postgresql.json import JSONPathType
from sqlalchemy.dialects.postgresql.named_types import ENUM
from sqlalchemy.dialects.postgresql.types import CITEXT
from sqlalchemy.engine import URL, AdaptedConnection, processors
from sqlalchemy.util import concurrency as _concurrency

from .. import dbapi as pgwire_dbapi
from ..types.values import BitString
from ..types.values import Range as PgRange

# SQLAlchemy 2.1 names it await_; 2.0 has only await_only.
await_: Callable[[Any], Any] = getattr(_concurrency, "await_", None) or _concurrency.await_only

# -- types -----------------------------------------------------------------
# render_bind_cast: the parameter is written %(name)s::TYPE, see the module
# docstring.


class _String(sqltypes.String):
    render_bind_cast = True


class _CHAR(sqltypes.CHAR):
    render_bind_cast = True


class _Integer(sqltypes.Integer):
    render_bind_cast = True


class _SmallInteger(sqltypes.SmallInteger):
    render_bind_cast = True


class _BigInteger(sqltypes.BigInteger):
    render_bind_cast = True


class _Boolean(sqltypes.Boolean):
    render_bind_cast = True


class _Date(sqltypes.Date):
    render_bind_cast = True

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any]:
        # SQLAlchemy lets a datetime stand for a date (its time dropped);
        # pgwire refuses one as losing data, so the dialect drops it.
        def to_date(value: Any) -> Any:
            if isinstance(value, datetime.datetime):
                return value.date()
            return value

        return to_date


class _DateTime(sqltypes.DateTime):
    render_bind_cast = True


class _Time(sqltypes.Time):
    render_bind_cast = True


class _Interval(INTERVAL):
    render_bind_cast = True

    @classmethod
    def adapt_emulated_to_native(  # type: ignore[override]
        cls, interval: Any, **kw: Any
    ) -> _Interval:
        # INTERVAL's own builds an INTERVAL, which would lose the bind cast.
        return cls(precision=interval.second_precision)


class _LargeBinary(sqltypes.LargeBinary):
    render_bind_cast = True


class _Enum(ENUM):
    render_bind_cast = True


class _ARRAY(PG_ARRAY):  # type: ignore[type-arg]
    render_bind_cast = True


class _OID(OID):
    render_bind_cast = True


class _REGCLASS(REGCLASS):
    render_bind_cast = True


class _REGCONFIG(REGCONFIG):
    render_bind_cast = True


class _NumericConversions:
    """Bind and result processing shared by numeric and float columns.

    A mixin rather than SQLAlchemy 2.1's NumericCommon, which 2.0 lacks.
    """

    render_bind_cast = True

    def bind_processor(self, dialect: Any) -> Any:
        # pgwire encodes int, float and Decimal for numeric columns.
        return None

    def result_processor(self: Any, dialect: Any, coltype: Any) -> Any:
        # pgwire returns Decimal for numeric, float for float4/float8 and int
        # for integers; convert where the SQLAlchemy type asks for the other.
        if self.asdecimal:
            if coltype in _FLOAT_OIDS:
                return processors.to_decimal_processor_factory(
                    decimal.Decimal, self._effective_decimal_return_scale
                )
            return None
        if coltype in _FLOAT_OIDS:
            return None
        return processors.to_float


_FLOAT_OIDS = frozenset((700, 701))


class _Numeric(_NumericConversions, sqltypes.Numeric):  # type: ignore[type-arg]
    pass


class _Float(_NumericConversions, sqltypes.Float):  # type: ignore[type-arg]
    def bind_processor(self, dialect: Any) -> Callable[[Any], Any]:
        # A Decimal for a float column is SQLAlchemy's Float(asdecimal=True)
        # round trip; pgwire takes only int and float for float8.
        def to_float(value: Any) -> Any:
            if isinstance(value, decimal.Decimal):
                return float(value)
            return value

        return to_float


class _JSON(PG_JSON):
    def result_processor(self, dialect: Any, coltype: Any) -> None:
        # pgwire decodes json itself (with json_deserializer when given).
        return None


class _JSONB(PG_JSONB):
    def result_processor(self, dialect: Any, coltype: Any) -> None:
        return None


class _JSONIntIndexType(sqltypes.JSON.JSONIntIndexType):
    __visit_name__ = "json_int_index"
    render_bind_cast = True


class _JSONStrIndexType(sqltypes.JSON.JSONStrIndexType):
    __visit_name__ = "json_str_index"
    render_bind_cast = True


class _JSONPathType(JSONPathType):
    """A JSON path bound as ``text[]``: pgwire takes a list of str for it."""

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any]:
        def to_path(value: Any) -> Any:
            if isinstance(value, str):
                return value  # a path literal, '{a,1}'
            return [str(element) for element in value] if value else []

        return to_path


class _Bit(BIT):
    """bit/varbit: SQLAlchemy passes and expects strings of 0 and 1."""

    render_bind_cast = True

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any]:
        def to_bits(value: Any) -> Any:
            if isinstance(value, str):
                return BitString(value)
            return value

        return to_bits

    def result_processor(self, dialect: Any, coltype: Any) -> Callable[[Any], Any]:
        def to_str(value: Any) -> Any:
            return None if value is None else str(value)

        return to_str


def _to_pgwire_range(value: Any) -> Any:
    if isinstance(value, ranges.Range):
        if value.empty:
            return PgRange(empty=True)
        return PgRange(value.lower, value.upper, lower_inc=value.bounds[0] == "[",
                       upper_inc=value.bounds[1] == "]")
    return value


def _to_sqlalchemy_range(value: Any) -> Any:
    if value is None:
        return None
    if value.isempty:
        return ranges.Range(empty=True)
    bounds = ("[" if value.lower_inc else "(") + ("]" if value.upper_inc else ")")
    return ranges.Range(value.lower, value.upper, bounds=bounds)  # type: ignore[arg-type]


class _Range(ranges.AbstractSingleRangeImpl):  # type: ignore[type-arg]
    render_bind_cast = True

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any]:
        return _to_pgwire_range

    def result_processor(self, dialect: Any, coltype: Any) -> Callable[[Any], Any]:
        return _to_sqlalchemy_range


class _MultiRange(ranges.AbstractMultiRangeImpl):  # type: ignore[type-arg]
    render_bind_cast = True

    def bind_processor(self, dialect: Any) -> Callable[[Any], Any]:
        def to_ranges(value: Any) -> Any:
            if value is None or isinstance(value, str):
                return value
            return [_to_pgwire_range(element) for element in value]

        return to_ranges

    def result_processor(self, dialect: Any, coltype: Any) -> Callable[[Any], Any]:
        def to_multirange(value: Any) -> Any:
            if value is None:
                return None
            return ranges.MultiRange(_to_sqlalchemy_range(element) for element in value)

        return to_multirange


# -- execution ---------------------------------------------------------------

_cursor_numbers = itertools.count(1)


class PGExecutionContext_pgwire(PGExecutionContext):
    def create_server_side_cursor(self) -> Any:
        # A named pgwire.dbapi cursor is a portal read in batches.
        return self._dbapi_connection.cursor(f"sqlalchemy_{next(_cursor_numbers)}")


class PGCompiler_pgwire(PGCompiler):
    pass


class PGIdentifierPreparer_pgwire(PGIdentifierPreparer):
    pass


_QUERY_INTS = ("statement_cache_size",)
_QUERY_FLOATS = ("timeout", "command_timeout")


class PGDialect_pgwire(PGDialect):
    """``postgresql+pgwire://`` with ``create_engine``: pgwire's blocking API."""

    driver = "pgwire"
    supports_statement_cache = True
    supports_server_side_cursors = True
    default_paramstyle = "pyformat"
    supports_sane_multi_rowcount = True
    has_terminate = True

    supports_native_json_serialization = False
    supports_native_json_deserialization = True
    dialect_injects_custom_json_deserializer = True

    execution_ctx_cls = PGExecutionContext_pgwire
    statement_compiler = PGCompiler_pgwire
    preparer = PGIdentifierPreparer_pgwire

    colspecs = util.update_copy(
        PGDialect.colspecs,
        {
            sqltypes.String: _String,
            sqltypes.CHAR: _CHAR,
            CITEXT: CITEXT,
            sqltypes.Integer: _Integer,
            sqltypes.SmallInteger: _SmallInteger,
            sqltypes.BigInteger: _BigInteger,
            sqltypes.Boolean: _Boolean,
            sqltypes.Date: _Date,
            sqltypes.DateTime: _DateTime,
            sqltypes.Time: _Time,
            sqltypes.Interval: _Interval,
            INTERVAL: _Interval,
            sqltypes.Numeric: _Numeric,
            sqltypes.Float: _Float,
            sqltypes.LargeBinary: _LargeBinary,
            sqltypes.Enum: _Enum,
            sqltypes.ARRAY: _ARRAY,
            sqltypes.JSON: _JSON,
            PG_JSON: _JSON,
            PG_JSONB: _JSONB,
            sqltypes.JSON.JSONPathType: _JSONPathType,
            sqltypes.JSON.JSONIntIndexType: _JSONIntIndexType,
            sqltypes.JSON.JSONStrIndexType: _JSONStrIndexType,
            BIT: _Bit,
            OID: _OID,
            REGCLASS: _REGCLASS,
            REGCONFIG: _REGCONFIG,
            ranges.AbstractSingleRange: _Range,
            ranges.AbstractMultiRange: _MultiRange,
        },
    )

    @classmethod
    def import_dbapi(cls) -> Any:
        return pgwire_dbapi

    @classmethod
    def get_async_dialect_cls(cls, url: URL) -> type[PGDialectAsync_pgwire]:
        return PGDialectAsync_pgwire

    @classmethod
    def load_provisioning(cls) -> None:
        # SQLAlchemy's test provisioning for PostgreSQL (used by its
        # compliance suite) applies as it is.
        __import__("sqlalchemy.dialects.postgresql.provision")

    def retrieve_dbapi_version(self, dbapi: Any) -> Any:
        import pgwire

        return util.parse_version_string(getattr(pgwire, "__version__", None))

    def create_connect_args(self, url: URL) -> Any:
        opts: dict[str, Any] = url.translate_connect_args(username="user", database="database")
        multihosts, multiports = self._split_multihost_from_url(url)
        if multihosts:
            opts["host"] = list(multihosts) if len(multihosts) > 1 else multihosts[0]
            ports = list(multiports or ())
            if any(port is not None for port in ports):
                # libpq's form: one port per host, empty for the default.
                opts["port"] = ",".join("" if port is None else str(port) for port in ports)
        elif "port" in opts:
            opts["port"] = int(opts["port"])
        for key, value in url.query.items():
            if multihosts and key in ("host", "port"):
                continue  # read above, in either multi-host form
            if isinstance(value, tuple):
                raise sa_exc.ArgumentError(f"the URL gives {key!r} more than once")
            if key == "dbname":
                key = "database"
            if key in _QUERY_INTS:
                opts[key] = int(value)
            elif key in _QUERY_FLOATS:
                opts[key] = float(value)
            else:
                opts[key] = value
        return [], opts

    # -- transactions ------------------------------------------------------

    def get_isolation_level_values(self, dbapi_connection: Any) -> Any:
        return ["AUTOCOMMIT", "READ COMMITTED", "READ UNCOMMITTED", "REPEATABLE READ",
                "SERIALIZABLE"]

    def set_isolation_level(self, dbapi_connection: Any, level: str) -> None:
        if level == "AUTOCOMMIT":
            dbapi_connection.autocommit = True
            dbapi_connection.isolation_level = None
        else:
            dbapi_connection.autocommit = False
            dbapi_connection.isolation_level = level

    def get_isolation_level(self, dbapi_connection: Any) -> Any:
        # The base class asks the server, which opens a transaction through
        # pgwire.dbapi's implicit BEGIN: end it if it was not open before.
        was_open = _in_transaction(dbapi_connection)
        level = super().get_isolation_level(dbapi_connection)  # type: ignore[no-untyped-call]
        if not was_open and _in_transaction(dbapi_connection):
            dbapi_connection.rollback()
        return level

    def detect_autocommit_setting(self, dbapi_connection: Any) -> bool:
        return bool(dbapi_connection.autocommit)

    def set_readonly(self, connection: Any, value: bool) -> None:
        connection.read_only = value

    def get_readonly(self, connection: Any) -> bool:
        return bool(connection.read_only)

    def set_deferrable(self, connection: Any, value: bool) -> None:
        connection.deferrable = value

    def get_deferrable(self, connection: Any) -> bool:
        return bool(connection.deferrable)

    # Two-phase commit through pgwire.dbapi's tpc_* methods: SQLAlchemy's
    # ids are strings, stored by the server as they are.

    def do_begin_twophase(self, connection: Any, xid: Any) -> None:
        connection.connection.tpc_begin(xid)

    def do_prepare_twophase(self, connection: Any, xid: Any) -> None:
        connection.connection.tpc_prepare()

    def _end_twophase(self, connection: Any, action: str, xid: Any, recover: bool) -> None:
        dbapi_connection = connection.connection.dbapi_connection
        method = getattr(dbapi_connection, action)
        if recover:
            # The prepared transaction is ended from outside any transaction.
            if _in_transaction(dbapi_connection):
                dbapi_connection.rollback()
            method(xid)
        else:
            method()

    def do_rollback_twophase(self, connection: Any, xid: Any, is_prepared: bool = True,
                             recover: bool = False) -> None:
        self._end_twophase(connection, "tpc_rollback", xid, recover)

    def do_commit_twophase(self, connection: Any, xid: Any, is_prepared: bool = True,
                           recover: bool = False) -> None:
        self._end_twophase(connection, "tpc_commit", xid, recover)

    def do_recover_twophase(self, connection: Any) -> list[Any]:
        return [xid.gid for xid in connection.connection.tpc_recover()]

    def _twophase_idle_check(self, dbapi_conn: Any) -> bool:
        return not _in_transaction(dbapi_conn)

    # -- connections -------------------------------------------------------

    def on_connect(self) -> Callable[[Any], None] | None:
        deserializer = self._json_deserializer
        base = super().on_connect()

        def connect(dbapi_connection: Any) -> None:
            if deserializer is not None:
                _driver(dbapi_connection).type_registry.set_json_decoder(deserializer)
            if self.isolation_level is not None:
                self.set_isolation_level(dbapi_connection, self.isolation_level)
            if base is not None:
                base(dbapi_connection)

        return connect

    def do_ping(self, dbapi_connection: Any) -> bool:
        dbapi_connection.ping()
        return True

    def do_terminate(self, dbapi_connection: Any) -> None:
        dbapi_connection.terminate()

    def is_disconnect(self, e: Exception, connection: Any, cursor: Any) -> bool:
        if connection is not None and getattr(connection, "closed", False):
            return isinstance(e, pgwire_dbapi.Error)
        from ..exceptions import ConnectionDoesNotExistError

        if isinstance(e, (ConnectionDoesNotExistError, ConnectionError)):
            return True
        return isinstance(e, pgwire_dbapi.InterfaceError) and "closed" in str(e)

    @util.memoized_property
    def _dialect_specific_select_one(self) -> str:
        return ";"


def _in_transaction(dbapi_connection: Any) -> bool:
    return bool(dbapi_connection.sync_connection.is_in_transaction())


def _driver(dbapi_connection: Any) -> Any:
    """The pgwire connection (blocking or async) under a DB-API connection."""
    return getattr(dbapi_connection, "_connection", None) or dbapi_connection.sync_connection


# -- the async dialect --------------------------------------------------------


class _AwaitedCursor:
    """A :class:`pgwire.Cursor` (async) seen as the blocking cursor pgwire.dbapi uses."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    @property
    def columns(self) -> Any:
        return self._cursor.columns

    def fetch(self, n: int) -> Any:
        return await_(self._cursor.fetch(n))

    def close(self) -> None:
        await_(self._cursor.close())


class _AwaitedConnection:
    """A :class:`pgwire.Connection` seen as the blocking connection pgwire.dbapi uses.

    Each coroutine is awaited with SQLAlchemy's ``await_``, which switches
    from the greenlet running the caller's synchronous-looking code to the
    event loop; the methods are those pgwire.dbapi calls.
    """

    __slots__ = ("_conn",)

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    def is_in_transaction(self) -> bool:
        return bool(self._conn.is_in_transaction())

    def is_closed(self) -> bool:
        return bool(self._conn.is_closed())

    def get_settings(self) -> Any:
        return self._conn.get_settings()

    @property
    def type_registry(self) -> Any:
        return self._conn.type_registry

    def execute(self, query: str, *args: Any) -> Any:
        return await_(self._conn.execute(query, *args))

    def fetch(self, query: str, *args: Any) -> Any:
        return await_(self._conn.fetch(query, *args))

    def query(self, query: str, *args: Any) -> Any:
        return await_(self._conn.query(query, *args))

    def query_script(self, script: str) -> Any:
        return await_(self._conn.query_script(script))

    def query_many(self, command: str, args: Any) -> Any:
        return await_(self._conn.query_many(command, args))

    def cursor(self, query: str, *args: Any, prefetch: int | None = None) -> _AwaitedCursor:
        return _AwaitedCursor(await_(self._conn.cursor(query, *args, prefetch=prefetch).open(
            prefetch)))

    def close(self) -> None:
        await_(self._conn.close())

    def terminate(self) -> None:
        self._conn.terminate()


class _AsyncSoftClose:
    async def _async_soft_close(self) -> None:
        # SQLAlchemy's async results call this once a buffered result's rows
        # are read; pgwire.dbapi's cursors hold nothing more to release then.
        return None


class _AsyncCursor(_AsyncSoftClose, pgwire_dbapi.Cursor):
    pass


class _AsyncServerCursor(_AsyncSoftClose, pgwire_dbapi.ServerCursor):
    pass


class AsyncAdapt_pgwire_connection(AdaptedConnection, pgwire_dbapi.Connection):
    """The DB-API connection of the async dialect: pgwire.dbapi over an awaited
    :class:`pgwire.Connection` (``driver_connection``)."""

    def __init__(self, connection: Any) -> None:
        pgwire_dbapi.Connection.__init__(self, cast(Any, _AwaitedConnection(connection)))
        self._connection = connection

    @property
    def sync_connection(self) -> Any:
        return self._conn

    def _make_cursor(self, support: Any, name: str | None) -> pgwire_dbapi.Cursor:
        if name is None:
            return _AsyncCursor(self, support)
        return _AsyncServerCursor(self, support, name)

    def terminate(self) -> None:
        self._closed = True
        self._connection.terminate()

    def __repr__(self) -> str:
        return f"<AsyncAdapt_pgwire_connection {self._connection!r}>"


class _AsyncDBAPI:
    """pgwire.dbapi as the async dialect's DB-API module: ``connect()``
    opens a :class:`pgwire.Connection` in the event loop."""

    def __init__(self) -> None:
        for name in pgwire_dbapi.__all__:
            if name != "connect":
                setattr(self, name, getattr(pgwire_dbapi, name))

    def connect(self, *args: Any, async_creator_fn: Callable[..., Any] | None = None,
                **kwargs: Any) -> AsyncAdapt_pgwire_connection:
        if async_creator_fn is None:
            import pgwire

            async_creator_fn = pgwire.connect
        autocommit = bool(kwargs.pop("autocommit", False))
        connection = AsyncAdapt_pgwire_connection(await_(async_creator_fn(*args, **kwargs)))
        connection.autocommit = autocommit
        return connection


class PGDialectAsync_pgwire(PGDialect_pgwire):
    """``postgresql+pgwire://`` with ``create_async_engine``: pgwire's asyncio API."""

    is_async = True
    supports_statement_cache = True

    @classmethod
    def import_dbapi(cls) -> Any:
        return _AsyncDBAPI()

    @classmethod
    def get_pool_class(cls, url: URL) -> Any:
        # SQLAlchemy 2.1 picks it for any async dialect; 2.0 asks the dialect.
        from sqlalchemy.pool import AsyncAdaptedQueuePool

        return AsyncAdaptedQueuePool

    def get_driver_connection(self, connection: Any) -> Any:
        return connection._connection

    def do_terminate(self, dbapi_connection: Any) -> None:
        dbapi_connection.terminate()
