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
import inspect
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from .base import (
    ConnectionBase,
    PreparedStatementBase,
    ServerVersion,
    _log,
    check_record_class,
    detect_pooler_flow,
    prepare_connect,
    rows_of,
)
from .connect_params import ConnectParams
from .cursor import CursorFactory
from .drivers.aio import AsyncioDriver, open_driver, send_cancel_request
from .engine.protocol import StatementResult
from .exceptions import ConnectionDoesNotExistError
from .record import Record
from .session import Flow, PreparedState
from .transaction import Transaction
from .types import TypeRegistry

__all__ = ["Connection", "ServerVersion", "connect", "PreparedStatement"]


class PreparedStatement(PreparedStatementBase):
    """A statement prepared on one connection (``Connection.prepare``)."""

    def __init__(self, connection: Connection, state: PreparedState,
                 record_class: type[Record] | None) -> None:
        self._connection = connection
        self._init_base(connection._session, state, record_class)

    async def _execute(self, args: Sequence[Any], timeout: float | None,
                       max_rows: int = 0) -> StatementResult:
        conn = self._connection
        result = await conn._run(conn._prepared_flow(self._state, args, max_rows), timeout)
        self._last_status = result.status
        return result

    async def fetch(self, *args: Any, timeout: float | None = None) -> list[Record]:
        result = await self._execute(args, timeout)
        return rows_of(result, self._record_class)

    async def fetchrow(self, *args: Any, timeout: float | None = None) -> Record | None:
        result = await self._execute(args, timeout, max_rows=1)
        rows = rows_of(result, self._record_class)
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


class Connection(ConnectionBase):
    """A connection to a PostgreSQL server (asyncio)."""

    def __init__(
        self,
        driver: AsyncioDriver,
        params: ConnectParams,
        *,
        command_timeout: float | None = None,
    ) -> None:
        self._driver = driver
        self._init_base(driver.session, params, command_timeout)
        self._lock = asyncio.Lock()
        self._recovery: asyncio.Task[None] | None = None
        self._listener_tasks: set[asyncio.Task[Any]] = set()
        driver.on_events = self._dispatch_events
        driver.on_lost = self._notify_terminated
        if driver.engine.events:  # notices sent during startup
            events, driver.engine.events = driver.engine.events, []
            self._dispatch_events(events)

    def _call_listener(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run a listener; a coroutine function's result runs as a task."""
        try:
            result = callback(*args)
            if inspect.isawaitable(result):
                task = asyncio.ensure_future(result)
                # Keep a reference until done, and log what it raises.
                self._listener_tasks.add(task)
                task.add_done_callback(self._listener_done)
        except Exception:
            _log.exception("pgwire: a listener callback raised an exception")

    def _listener_done(self, task: asyncio.Task[Any]) -> None:
        self._listener_tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("pgwire: a listener callback raised an exception",
                       exc_info=task.exception())

    async def add_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection, pid, channel, payload)`` on each NOTIFY to ``channel``.

        The callback may be a plain function or a coroutine function.
        Notifications are delivered whether they arrive during a query or
        while the connection is idle.
        """
        statement = self._listen_statement(channel, callback)
        if statement is not None:
            try:
                await self.execute(statement)
            except BaseException:
                self._unlisten_statement(channel, callback)
                raise

    async def remove_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        statement = self._unlisten_statement(channel, callback)
        if statement is not None and not self.is_closed():
            await self.execute(statement)

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
        timeout = self._timeout(timeout)
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
        check_record_class(record_class)
        result = await self._run(self._session.execute_flow(query, args), timeout)
        return rows_of(result, record_class)

    async def fetchrow(self, query: str, *args: Any, timeout: float | None = None,
                       record_class: type[Record] | None = None) -> Record | None:
        check_record_class(record_class)
        result = await self._run(self._session.execute_flow(query, args, max_rows=1), timeout)
        rows = rows_of(result, record_class)
        return rows[0] if rows else None

    async def fetchval(self, query: str, *args: Any, column: int | str = 0,
                       timeout: float | None = None) -> Any:
        row = await self.fetchrow(query, *args, timeout=timeout)
        return None if row is None else row[column]

    async def prepare(self, query: str, *, name: str | None = None,
                      timeout: float | None = None,
                      record_class: type[Record] | None = None) -> PreparedStatement:
        """Prepare a statement for repeated execution on this connection."""
        check_record_class(record_class)
        state = await self._run(self._session.prepare_flow(query), timeout)
        return PreparedStatement(self, state, record_class)

    def cursor(self, query: str, *args: Any, prefetch: int | None = None,
               timeout: float | None = None,
               record_class: type[Record] | None = None) -> CursorFactory:
        """A server-side cursor: ``async for record in conn.cursor(...)``, or
        ``cur = await conn.cursor(...)`` then ``cur.fetch(n)``.  Needs an
        open transaction."""
        return CursorFactory(self, query, args, prefetch, timeout, record_class)

    def transaction(self, *, isolation: str | None = None, readonly: bool = False,
                    deferrable: bool = False) -> Transaction:
        """A transaction block; nested blocks become savepoints."""
        return Transaction(self, isolation, readonly, deferrable)

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
    params, make_session = prepare_connect(
        dsn, host=host, port=port, user=user, password=password, database=database,
        timeout=timeout, statement_cache_size=statement_cache_size,
        server_settings=server_settings, ssl=ssl, record_class=record_class,
        connection_class=connection_class, connection_base=Connection,
        type_registry=type_registry, unsupported=unsupported,
    )
    driver = await open_driver(params, make_session, params.connect_timeout)
    try:
        if statement_cache_size > 0:
            session = driver.session
            session.note_pooler(await driver.run_flow(detect_pooler_flow(session)))
    except BaseException:
        driver.close_transport()
        raise
    return connection_class(driver, params, command_timeout=command_timeout)
