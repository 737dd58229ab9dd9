"""The asyncio connection API, compatible with asyncpg's public surface.

``await pgwire.connect(...)`` returns a :class:`Connection` whose methods
(``execute``, ``executemany``, ``fetch``, ``fetchrow``, ``fetchval``,
``prepare``, ``transaction``, ...) behave like asyncpg's, so code can switch
by changing an import.  Operations issued concurrently on one connection
wait their turn in order instead of failing with "another operation is in
progress".
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from .connect_params import ConnectParams, build_params
from .drivers.aio import AsyncioDriver, open_driver, send_cancel_request
from .engine.protocol import Column, Engine, StatementResult, TransactionStatus
from .exceptions import (
    ConnectionDoesNotExistError,
    InterfaceError,
)
from .record import Record
from .session import Flow, PreparedState, Session
from .transaction import Transaction
from .types import TypeRegistry, default_registry

__all__ = ["Connection", "ServerVersion", "connect", "PreparedStatement"]


class ServerVersion(NamedTuple):
    """The server's version, as asyncpg reports it."""

    major: int
    minor: int
    micro: int
    releaselevel: str
    serial: int


_VERSION_RE = re.compile(r"^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*(?:(devel|alpha|beta|rc)(\d*))?")


def parse_server_version(text: str) -> ServerVersion:
    match = _VERSION_RE.match(text)
    if match is None:
        return ServerVersion(0, 0, 0, "final", 0)
    major = int(match.group(1))
    minor = int(match.group(2) or 0)
    micro = int(match.group(3) or 0)
    level = match.group(4) or "final"
    if level == "rc":
        level = "candidate"
    serial = int(match.group(5) or 0)
    return ServerVersion(major, minor, micro, level, serial)


class ConnectionSettings:
    """Read-only view of the server's reported run-time parameters."""

    __slots__ = ("_parameters",)

    def __init__(self, parameters: dict[str, str]) -> None:
        self._parameters = parameters

    def __getattr__(self, name: str) -> str:
        try:
            return self._parameters[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._parameters

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in sorted(self._parameters.items()))
        return f"<ConnectionSettings {items}>"


class Type(NamedTuple):
    oid: int
    name: str | None
    kind: str
    schema: str


class Attribute(NamedTuple):
    name: str
    type: Type


def _type_of(registry: TypeRegistry, oid: int) -> Type:
    name = registry.type_name(oid)
    kind = "scalar"
    if name is not None and name.endswith("[]"):
        # pg_type spells array types with a leading underscore: _int4.
        kind = "array"
        name = "_" + name[:-2]
    elif name == '"char"':
        name = "char"
    return Type(oid, name, kind, "pg_catalog")


class PreparedStatement:
    """A statement prepared on one connection (``Connection.prepare``)."""

    def __init__(self, connection: Connection, state: PreparedState,
                 record_class: type[Record] | None) -> None:
        self._connection = connection
        self._state = state
        self._record_class = record_class
        self._last_status: str | None = None
        session = connection._session
        if state.name:
            weakref.finalize(self, session.forget_statement, state)

    def get_query(self) -> str:
        return self._state.sql

    def get_name(self) -> str:
        return self._state.name

    def get_statusmsg(self) -> str | None:
        return self._last_status

    def get_parameters(self) -> tuple[Type, ...]:
        registry = self._connection._session.registry
        return tuple(_type_of(registry, oid) for oid in self._state.param_oids)

    def get_attributes(self) -> tuple[Attribute, ...]:
        registry = self._connection._session.registry
        columns: list[Column] = self._state.columns or []
        return tuple(Attribute(c.name, _type_of(registry, c.type_oid)) for c in columns)

    async def _execute(self, args: Sequence[Any], timeout: float | None,
                       max_rows: int = 0) -> StatementResult:
        conn = self._connection
        result = await conn._run(
            conn._session_prepared_flow(self._state, args, max_rows), timeout
        )
        self._last_status = result.status
        return result

    async def fetch(self, *args: Any, timeout: float | None = None) -> list[Record]:
        result = await self._execute(args, timeout)
        return self._connection._rows(result, self._record_class)

    async def fetchrow(self, *args: Any, timeout: float | None = None) -> Record | None:
        result = await self._execute(args, timeout, max_rows=1)
        rows = self._connection._rows(result, self._record_class)
        return rows[0] if rows else None

    async def fetchval(self, *args: Any, column: int | str = 0,
                       timeout: float | None = None) -> Any:
        row = await self.fetchrow(*args, timeout=timeout)
        return None if row is None else row[column]

    async def executemany(self, args: Iterable[Sequence[Any]], *,
                          timeout: float | None = None) -> None:
        conn = self._connection
        await conn._run(conn._session.executemany_flow(self._state.sql, args,
                                                       state=self._state), timeout)


class Connection:
    """A connection to a PostgreSQL server (asyncio)."""

    def __init__(
        self,
        driver: AsyncioDriver,
        params: ConnectParams,
        *,
        command_timeout: float | None = None,
    ) -> None:
        self._driver = driver
        self._session: Session = driver.session
        self._engine: Engine = driver.engine
        self._params = params
        self._command_timeout = command_timeout
        self._lock = asyncio.Lock()
        self._recovery: asyncio.Task[None] | None = None
        self._top_transaction: Transaction | None = None
        self._savepoint_counter = 0
        self._closing = False

    # -- running -------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closing or self._driver.is_closed():
            raise ConnectionDoesNotExistError(
                "the connection is closed"
            ) from self._engine.close_error

    async def _run(self, flow: Flow[Any], timeout: float | None) -> Any:
        """Run a flow with the connection to itself, honouring the timeout.

        The timeout covers the whole call, time spent queued behind other
        operations included.  On timeout or cancellation the server is asked
        to cancel the statement and the connection waits (before the next
        operation runs) until the server has answered, so no later request
        can receive a stale result.
        """
        if timeout is None:
            timeout = self._command_timeout
        try:
            if timeout is None:
                return await self._run_locked(flow)
            if timeout <= 0:
                raise asyncio.TimeoutError()
            return await asyncio.wait_for(self._run_locked(flow), timeout)
        finally:
            flow.close()

    async def _run_locked(self, flow: Flow[Any]) -> Any:
        async with self._lock:
            if self._recovery is not None:
                await asyncio.shield(self._recovery)
            self._check_open()
            try:
                return await self._driver.run_flow(flow)
            except asyncio.CancelledError:
                # Still holding the lock, so only our own operation can be in
                # flight, and the recovery is in place before anyone else runs.
                if self._driver.busy and self._recovery is None:
                    self._recovery = asyncio.get_running_loop().create_task(self._recover())
                raise

    async def _recover(self) -> None:
        try:
            await self._send_cancel()
            await asyncio.wait_for(self._driver.wait_idle(), 30)
        except Exception:
            # The server did not answer: the connection cannot be trusted.
            self.terminate()
        finally:
            self._recovery = None

    async def _send_cancel(self) -> None:
        engine = self._engine
        if engine.backend_pid is None or engine.backend_secret is None:
            return
        host, port = self._driver_address()
        await send_cancel_request(host, port, engine.backend_pid, engine.backend_secret,
                                  self._params.sslmode)

    def _driver_address(self) -> tuple[str, int]:
        transport = self._driver.transport
        peer = transport.get_extra_info("peername") if transport is not None else None
        if isinstance(peer, tuple):
            return str(peer[0]), int(peer[1])
        # Unix socket: peername is the socket path.
        if isinstance(peer, str) and "/.s.PGSQL." in peer:
            directory, _, port = peer.rpartition("/.s.PGSQL.")
            return directory, int(port)
        return self._params.addresses[0]

    def _session_prepared_flow(self, state: PreparedState, args: Sequence[Any],
                               max_rows: int) -> Flow[StatementResult]:
        result = yield from self._session.execute_prepared_flow(state, args, max_rows=max_rows)
        assert result is not None
        return result

    @staticmethod
    def _check_record_class(record_class: type[Record] | None) -> None:
        if record_class is not None and not (
            isinstance(record_class, type) and issubclass(record_class, Record)
        ):
            raise InterfaceError(
                f"record_class is expected to be a subclass of pgwire.Record, got {record_class!r}"
            )

    def _rows(self, result: StatementResult, record_class: type[Record] | None) -> list[Record]:
        rows = result.rows
        if record_class is not None and rows and type(rows[0]) is not record_class:
            return [record_class._make(r._mapping, tuple(r)) for r in rows]
        return rows

    # -- queries -------------------------------------------------------------

    async def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        """Run a command; return the status of the last one (e.g. ``'INSERT 0 1'``).

        Without arguments the simple query protocol is used, so ``query`` may
        hold several statements separated by semicolons.
        """
        if not args:
            op = await self._run(self._session.simple_query_flow(query), timeout)
            return op.results[-1].status if op.results else ""
        result = await self._run(self._session.execute_flow(query, args), timeout)
        return result.status or ""

    async def executemany(self, command: str, args: Iterable[Sequence[Any]], *,
                          timeout: float | None = None) -> None:
        """Run ``command`` for each argument tuple, pipelined in one round trip.

        The batch runs as one implicit transaction when none is open: if one
        row fails, none is applied.  Inside a transaction block the error
        aborts the transaction, as any failed statement would.
        """
        await self._run(self._session.executemany_flow(command, args), timeout)

    async def fetch(self, query: str, *args: Any, timeout: float | None = None,
                    record_class: type[Record] | None = None) -> list[Record]:
        self._check_record_class(record_class)
        result = await self._run(self._session.execute_flow(query, args), timeout)
        return self._rows(result, record_class)

    async def fetchrow(self, query: str, *args: Any, timeout: float | None = None,
                       record_class: type[Record] | None = None) -> Record | None:
        self._check_record_class(record_class)
        result = await self._run(self._session.execute_flow(query, args, max_rows=1), timeout)
        rows = self._rows(result, record_class)
        return rows[0] if rows else None

    async def fetchval(self, query: str, *args: Any, column: int | str = 0,
                       timeout: float | None = None) -> Any:
        row = await self.fetchrow(query, *args, timeout=timeout)
        return None if row is None else row[column]

    async def prepare(self, query: str, *, name: str | None = None,
                      timeout: float | None = None,
                      record_class: type[Record] | None = None) -> PreparedStatement:
        """Prepare a statement for repeated execution on this connection."""
        self._check_record_class(record_class)
        state = await self._run(self._session.prepare_flow(query), timeout)
        return PreparedStatement(self, state, record_class)

    def transaction(self, *, isolation: str | None = None, readonly: bool = False,
                    deferrable: bool = False) -> Transaction:
        """A transaction block; nested blocks become savepoints."""
        return Transaction(self, isolation, readonly, deferrable)

    def is_in_transaction(self) -> bool:
        return self._engine.transaction_status in (
            TransactionStatus.IN_TRANSACTION, TransactionStatus.IN_ERROR
        )

    # -- information ---------------------------------------------------------

    def get_server_pid(self) -> int:
        return self._engine.backend_pid or 0

    def get_server_version(self) -> ServerVersion:
        return parse_server_version(self._engine.parameters.get("server_version", ""))

    def get_settings(self) -> ConnectionSettings:
        return ConnectionSettings(self._engine.parameters)

    def get_reset_query(self) -> str:
        return "RESET ALL"

    @property
    def type_registry(self) -> TypeRegistry:
        """This connection's codecs (a copy of the defaults; changes stay here)."""
        return self._session.registry

    # -- closing -------------------------------------------------------------

    def is_closed(self) -> bool:
        return self._closing or self._driver.is_closed()

    async def close(self, *, timeout: float | None = None) -> None:
        """Close gracefully: wait for queued operations, send Terminate."""
        if self.is_closed():
            return
        self._closing = True
        try:
            async def _graceful() -> None:
                async with self._lock:
                    if self._recovery is not None:
                        await asyncio.shield(self._recovery)
                    if not self._driver.is_closed():
                        transport = self._driver.transport
                        assert transport is not None
                        transport.write(self._engine.terminate())
                        transport.close()
                        await self._driver.lost
            await asyncio.wait_for(_graceful(), timeout)
        except BaseException:
            self.terminate()
            raise

    def terminate(self) -> None:
        """Close the connection at once, without waiting for anything."""
        self._closing = True
        transport = self._driver.transport
        if transport is not None:
            transport.abort()

    def __repr__(self) -> str:
        state = "closed" if self.is_closed() else "open"
        return f"<pgwire.Connection {state} pid={self.get_server_pid()}>"


async def _detect_pooler(driver: AsyncioDriver) -> bool:
    """True when a connection pooler sits between us and the server.

    A pooler answers the startup itself: the BackendKeyData it sends is its
    own, so the process id there differs from the server's
    ``pg_backend_pid()``.  Newer pgbouncers also report ``pgbouncer.*``
    parameters.
    """
    engine = driver.engine
    if any(name.startswith("pgbouncer") for name in engine.parameters):
        return True
    if engine.backend_pid is None:
        return True
    op = await driver.run_flow(driver.session.simple_query_flow("SELECT pg_backend_pid()"))
    try:
        server_pid = int(op.results[0].rows[0][0])
    except (IndexError, TypeError, ValueError):
        return True
    return server_pid != engine.backend_pid


async def connect(
    dsn: str | None = None,
    *,
    host: str | list[str] | None = None,
    port: int | str | list[int] | None = None,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
    timeout: float | None = None,
    command_timeout: float | None = None,
    statement_cache_size: int = 100,
    server_settings: dict[str, str] | None = None,
    ssl: Any = None,
    record_class: type[Record] = Record,
    connection_class: type[Connection] = Connection,
    type_registry: TypeRegistry | None = None,
    **unsupported: Any,
) -> Connection:
    """Open a connection (asyncpg-compatible signature).

    ``statement_cache_size=0`` uses the unnamed statement for everything;
    with the default, named statements are cached unless a pooler such as
    pgbouncer is detected, in which case pgwire switches to unnamed
    statements by itself.
    """
    ignored = {"loop", "max_cached_statement_lifetime", "max_cacheable_statement_size",
               "passfile", "direct_tls", "target_session_attrs"}
    unknown = set(unsupported) - ignored
    if unknown:
        raise TypeError(f"connect() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    if not isinstance(record_class, type) or not issubclass(record_class, Record):
        raise InterfaceError(
            f"record_class is expected to be a subclass of pgwire.Record, got {record_class!r}"
        )
    if not isinstance(connection_class, type) or not issubclass(connection_class, Connection):
        raise InterfaceError(
            "connection_class is expected to be a subclass of pgwire.Connection, "
            f"got {connection_class!r}"
        )
    if statement_cache_size < 0:
        raise InterfaceError("statement_cache_size must not be negative")
    params = build_params(dsn, host=host, port=port, user=user, password=password,
                          database=database, ssl=ssl, server_settings=server_settings,
                          timeout=timeout)
    registry = (type_registry or default_registry).copy()

    def make_session() -> Session:
        return Session(Engine(), registry, statement_cache_size=statement_cache_size,
                       record_class=record_class)

    driver = await open_driver(params, make_session, params.connect_timeout)
    try:
        if statement_cache_size > 0:
            driver.session.note_pooler(await _detect_pooler(driver))
    except BaseException:
        driver.close_transport()
        raise
    return connection_class(driver, params, command_timeout=command_timeout)
