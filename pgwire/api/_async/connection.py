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
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from ...conninfo.params import ConnectParams
from ...drivers.aio import AsyncioDriver, open_driver, send_cancel_request
from ...exceptions import ConnectionDoesNotExistError, InterfaceError
from ...flows import copy as copy_mod
from ...flows.connect import detect_pooler_flow
from ...flows.statements import Flow, PreparedState
from ...protocol import wire
from ...protocol.copying import CopyIn, CopyOut
from ...protocol.engine import StatementResult
from ...types import TypeRegistry
from ...types.record import Record
from ..base import (
    ConnectionBase,
    PreparedStatementBase,
    ServerVersion,
    _log,
    check_record_class,
    prepare_connect,
    rows_of,
)
from .cursor import CursorFactory
from .pipeline import Pipeline
from .transaction import Transaction

__all__ = ["Connection", "ServerVersion", "connect", "PreparedStatement"]

T = TypeVar("T")


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
        self._pipeline_task: asyncio.Task[Any] | None = None
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
        """Run a flow with the connection to itself, honouring the timeout."""
        try:
            return await self._locked(lambda: self._driver.run_flow(flow), timeout)
        finally:
            flow.close()

    def pipeline(self) -> Pipeline:
        """Pipeline mode: ``async with conn.pipeline() as p:`` then ``p.fetch(...)``
        etc. return futures resolved at ``p.sync()`` or the end of the block
        (see :mod:`pgwire.pipeline`)."""
        return Pipeline(self)

    async def _enter_pipeline(self) -> None:
        if self._pipeline_task is not None and self._pipeline_task is asyncio.current_task():
            raise InterfaceError("a pipeline is already open on this connection")
        await self._lock.acquire()
        try:
            if self._recovery is not None:
                await asyncio.shield(self._recovery)
            self._check_open()
        except BaseException:
            self._lock.release()
            raise
        self._pipeline_task = asyncio.current_task()

    def _exit_pipeline(self) -> None:
        self._pipeline_task = None
        self._lock.release()

    async def _locked(self, body: Callable[[], Awaitable[T]], timeout: float | None) -> T:
        """Run ``body`` with the connection to itself, honouring the timeout.

        The timeout covers the whole call, time spent queued behind other
        operations included.  On timeout or cancellation the server is asked
        to cancel the statement and the connection waits (before the next
        operation runs) until the server has answered, so no later request
        can receive a stale result.
        """
        if self._pipeline_task is not None and self._pipeline_task is asyncio.current_task():
            raise InterfaceError(
                "the connection is in pipeline mode: queue statements on the pipeline object"
            )
        timeout = self._timeout(timeout)
        if timeout is None:
            return await self._run_locked(body)
        if timeout <= 0:
            raise asyncio.TimeoutError()
        return await asyncio.wait_for(self._run_locked(body), timeout)

    async def _run_locked(self, body: Callable[[], Awaitable[T]]) -> T:
        async with self._lock:
            if self._recovery is not None:
                await asyncio.shield(self._recovery)
            self._check_open()
            try:
                return await body()
            except asyncio.CancelledError:
                # Still holding the lock, so only our own operation can be in
                # flight, and the recovery is in place before anyone else runs.
                self._start_recovery()
                raise

    def _start_recovery(self) -> None:
        """After a timeout or cancellation with the server still working:
        cancel the statement and let its results drain before the next
        operation (called while holding the lock)."""
        if self._driver.busy and self._recovery is None:
            self._engine.abandon_pending()  # nobody reads those rows: skip decoding
            self._recovery = asyncio.get_running_loop().create_task(self._recover())

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

    # -- COPY ------------------------------------------------------------------

    async def copy_records_to_table(
        self, table_name: str, *, records: Iterable[Sequence[Any]] | AsyncIterable[Sequence[Any]],
        columns: Sequence[str] | None = None, schema_name: str | None = None,
        timeout: float | None = None, where: str | None = None,
    ) -> str:
        """Copy Python records into a table with binary COPY; return the status.

        Records are encoded one by one into a buffer sent in chunks of about
        512 KiB, so an iterable (or async iterable) of any size is streamed.
        """
        encoder, sql = await self._run(copy_mod.records_copy_flow(
            self._session, table_name, columns, schema_name, where
        ), timeout)

        async def chunks() -> AsyncIterator[bytes]:
            if isinstance(records, AsyncIterable):
                async for record in records:
                    chunk = encoder.add(record)
                    if chunk:
                        yield chunk
            else:
                for record in records:
                    chunk = encoder.add(record)
                    if chunk:
                        yield chunk
            yield encoder.finish()

        return await self._copy_in(sql, chunks(), timeout)

    async def copy_to_table(
        self, table_name: str, *, source: Any, columns: Sequence[str] | None = None,
        schema_name: str | None = None, timeout: float | None = None,
        where: str | None = None, **options: Any,
    ) -> str:
        """Copy data into a table from a path, a file object (sync or async
        ``read``) or an iterable / async iterable of bytes; return the status.

        ``options`` are COPY options: format, oids, freeze, delimiter, null,
        header, quote, escape, force_quote, force_not_null, force_null,
        encoding.
        """
        table = copy_mod.table_reference(table_name, schema_name)
        sql = copy_mod.copy_in_sql(table, columns, copy_mod.copy_options(**options), where)
        return await self._copy_in(sql, _source_chunks(source), timeout)

    async def copy_from_table(
        self, table_name: str, *, output: Any, columns: Sequence[str] | None = None,
        schema_name: str | None = None, timeout: float | None = None, **options: Any,
    ) -> str:
        """Copy a table out to a path, a file object or a callable (sync or
        async) receiving bytes; return the status."""
        table = copy_mod.table_reference(table_name, schema_name)
        sql = copy_mod.copy_out_table_sql(table, columns, copy_mod.copy_options(**options))
        return await self._copy_out(sql, output, timeout)

    async def copy_from_query(
        self, query: str, *args: Any, output: Any, timeout: float | None = None,
        **options: Any,
    ) -> str:
        """Copy the result of a query out (see :meth:`copy_from_table`).

        COPY cannot take bind parameters, so ``args`` are turned into SQL
        literals by the server itself (``quote_nullable``) with the types the
        query gives them, then written into the statement.
        """
        if args:
            query = await self._run(self._session.inline_arguments_flow(query, args), timeout)
        sql = copy_mod.copy_out_query_sql(query, copy_mod.copy_options(**options))
        return await self._copy_out(sql, output, timeout)

    async def _copy_in(self, sql: str, chunks: AsyncIterator[bytes],
                       timeout: float | None) -> str:
        driver = self._driver

        async def body() -> str:
            op = CopyIn(sql)
            ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            op.on_ready = lambda: None if ready.done() else ready.set_result(None)
            done = driver.submit(op)
            waiters: list[asyncio.Future[Any]] = [ready, done]
            try:
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                if not op.done:
                    async for chunk in chunks:
                        if op.done:
                            break  # the server failed: it ignores the rest anyway
                        if chunk:
                            driver.write_raw(wire.copy_data(chunk))
                            await driver.drain()
                            # Let a server error be read even when the source
                            # never awaits (a plain generator of records).
                            await asyncio.sleep(0)
                    if not op.done:
                        driver.write_raw(op.end())
            except BaseException as exc:
                # Abort with the reason (the server rolls the COPY back): now
                # if the server waits for data, else as soon as it does.
                op.abort(driver.engine, f"{type(exc).__name__}: {exc}")
                out = driver.engine.data_to_send()
                if out and not driver.is_closed():
                    driver.write_raw(out)
                if not isinstance(exc, asyncio.CancelledError):
                    await asyncio.wait([done])
                raise
            finally:
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()
            await done
            if op.error is not None:
                raise op.error
            return op.status or ""

        return await self._locked(body, timeout)

    async def _copy_out(self, sql: str, output: Any, timeout: float | None) -> str:
        driver = self._driver

        async def body() -> str:
            with _CopySink(output, driver) as sink:
                op = CopyOut(sql, sink.feed)
                done = driver.submit(op)
                done.add_done_callback(lambda _: sink.close())
                await sink.deliver()
                await done
            if op.error is not None:
                raise op.error
            return op.status or ""

        return await self._locked(body, timeout)

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


async def _source_chunks(source: Any) -> AsyncIterator[bytes]:
    """Read a COPY source: a path, a file object, or an (async) iterable of bytes."""
    chunks = copy_mod.sync_source_chunks(source)
    if chunks is not None:
        loop = asyncio.get_running_loop()
        # Reading a file may block: do it off the event loop.
        while chunk := await loop.run_in_executor(None, next, chunks, b""):
            yield chunk
        return
    read = getattr(source, "read", None)
    if read is not None:
        while chunk := await read(copy_mod.CHUNK_SIZE):
            yield copy_mod.as_bytes(chunk)
        return
    async for chunk in source:
        yield copy_mod.as_bytes(chunk)


class _CopySink:
    """Delivers COPY TO data to the user's output without blocking the loop.

    Data arrives in ``data_received`` callbacks, where nothing can be
    awaited: chunks wait in a queue, and reading from the socket pauses
    while the output is slower than the server.
    """

    _HIGH = 32
    _LOW = 8

    def __init__(self, output: Any, driver: AsyncioDriver) -> None:
        self._driver = driver
        self._queue: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._file: Any = None
        self._paused = False
        self._closed = False
        self._error: BaseException | None = None
        write = copy_mod.output_writer(output)
        if write is None:
            self._file = open(output, "wb")  # noqa: SIM115 - closed in __exit__
            write = self._file.write
        self._write: Callable[[bytes], Any] = write

    def __enter__(self) -> _CopySink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._closed = True
        self._resume()
        if self._file is not None:
            self._file.close()

    def feed(self, data: bytes) -> None:
        if self._closed:
            return  # the caller gave up (timeout, cancellation): drop the rest
        self._queue.put_nowait(data)
        transport = self._driver.transport
        if self._queue.qsize() > self._HIGH and transport is not None and not self._paused:
            transport.pause_reading()
            self._paused = True

    def close(self) -> None:
        self._queue.put_nowait(None)

    def _resume(self) -> None:
        transport = self._driver.transport
        if self._paused and transport is not None and not transport.is_closing():
            transport.resume_reading()
        self._paused = False

    async def deliver(self) -> None:
        while True:
            data = await self._queue.get()
            if data is None:
                break
            if self._paused and self._queue.qsize() < self._LOW:
                self._resume()
            if self._error is not None:
                continue  # keep draining so the connection stays in step
            try:
                result = self._write(data)
                if inspect.isawaitable(result):
                    await result
            except Exception as exc:
                self._error = exc
                self._resume()
        if self._error is not None:
            raise self._error
