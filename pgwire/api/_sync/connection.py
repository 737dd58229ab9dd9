"""The blocking API: the asyncio API's methods and semantics, without asyncio.

``pgwire.connect_sync(...)`` returns a :class:`Connection` with the same
methods as the asyncio connection (``execute``, ``executemany``, ``fetch``,
``fetchrow``, ``fetchval``, ``prepare``, ``transaction``, ``close``, ...),
each blocking until done.  It runs the protocol flows of
:mod:`pgwire.session` over :class:`pgwire.drivers.blocking.BlockingDriver`:
no event loop, no background thread.

Thread safety: a connection may be shared between threads.  Operations
serialize on a lock, in the order the threads reach it; a transaction block
is not isolated from statements other threads issue meanwhile, so give each
thread its own connection when they use transactions.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any

from ...conninfo.params import ConnectParams
from ...drivers.blocking import BlockingDriver, open_blocking
from ...exceptions import ConnectionDoesNotExistError, InterfaceError
from ...flows import copy as copy_mod
from ...flows.connect import detect_pooler_flow
from ...flows.statements import Flow, PreparedState
from ...protocol import wire
from ...protocol.copying import CopyIn, CopyOut
from ...protocol.engine import StatementResult
from ...types import TypeRegistry
from ...types.record import Record
from .._async import pipeline as pl
from .._async.cursor import CursorState
from .._async.pipeline import PendingResult, PipelineQueue
from ..base import (
    ConnectionBase,
    PreparedStatementBase,
    TransactionBase,
    TransactionState,
    check_record_class,
    prepare_connect,
    rows_of,
)

__all__ = ["Connection", "Cursor", "Pipeline", "PreparedStatement", "Transaction", "connect"]

# How long to wait for the server to answer after a cancel request before
# giving the connection up.
_RECOVERY_SECONDS = 30.0


class Transaction(TransactionBase):
    """One transaction block or savepoint on a blocking connection."""

    __slots__ = ()

    def start(self) -> None:
        """Enter the block: BEGIN, or SAVEPOINT when nested."""
        self._connection.execute(self._start_statement())
        self._started()

    def _end(self, action: str, state: TransactionState) -> None:
        statements = self._end_statements(action)
        try:
            for statement in statements:
                self._connection.execute(statement)
        except BaseException:
            self._ended(TransactionState.FAILED)
            raise
        self._ended(state)

    def commit(self) -> None:
        self._end("commit", TransactionState.COMMITTED)

    def rollback(self) -> None:
        self._end("rollback", TransactionState.ROLLEDBACK)

    def __enter__(self) -> Transaction:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        action = self._exit_action(exc_type)
        if action == "commit":
            self.commit()
        elif action == "rollback":
            self.rollback()


class Cursor:
    """An open server-side cursor on a blocking connection (see :mod:`pgwire.cursor`)."""

    def __init__(self, state: CursorState, timeout: float | None) -> None:
        self._state = state
        self._timeout = timeout  # for iteration, as given to Connection.cursor()

    def _fetch_more(self, count: int, timeout: float | None, decode: bool = True) -> None:
        state = self._state
        conn: Connection = state.connection
        decoder = state.row_decoder if decode else _skip_row
        result = conn._run(conn._session.cursor_fetch_flow(state.portal, count, decoder),
                           timeout)
        if decode:
            state.take(result)
        else:
            state.skipped += state.skip(result)

    def fetch(self, n: int, *, timeout: float | None = None) -> list[Record]:
        """Return up to ``n`` rows (fewer at the end)."""
        state = self._state
        state.check_count(n)
        if len(state.buffer) < n and not state.exhausted:
            self._fetch_more(n - len(state.buffer), timeout)
        return state.pop(n)

    def fetchrow(self, *, timeout: float | None = None) -> Record | None:
        rows = self.fetch(1, timeout=timeout)
        return rows[0] if rows else None

    def forward(self, n: int, *, timeout: float | None = None) -> int:
        """Skip ``n`` rows without decoding them; return how many were skipped."""
        state = self._state
        state.check_count(n)
        skipped = len(state.pop(n))
        if skipped < n and not state.exhausted:
            state.skipped = 0
            self._fetch_more(n - skipped, timeout, decode=False)
            skipped += state.skipped
        return skipped

    def close(self, *, timeout: float | None = None) -> None:
        """Close the portal now instead of at the end of the transaction."""
        state = self._state
        state.exhausted = True
        state.buffer.clear()
        conn: Connection = state.connection
        if conn.is_in_transaction() and not conn.is_closed():
            conn._run(conn._session.cursor_close_flow(state.portal), timeout)

    def __iter__(self) -> Iterator[Record]:
        state = self._state
        while True:
            if not state.buffer:
                if state.exhausted:
                    return
                self._fetch_more(state.prefetch, self._timeout)
                if not state.buffer:
                    return
            yield state.buffer.popleft()

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close(timeout=self._timeout)


def _skip_row(body: bytes) -> None:
    return None


class Pipeline:
    """A pipeline on a blocking connection (see :mod:`pgwire.pipeline`)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._queue = PipelineQueue()
        self._pendings: list[PendingResult] = []
        self._entered = False

    def _add(self, sql: str, item: tuple[list[Sequence[Any]], int, Any]) -> PendingResult:
        if not self._entered:
            raise InterfaceError("use the pipeline inside 'with conn.pipeline()'")
        arg_list, max_rows, shaper = item
        self._queue.add(sql, arg_list, max_rows, shaper)
        pending = PendingResult()
        self._pendings.append(pending)
        return pending

    def execute(self, query: str, *args: Any) -> PendingResult:
        return self._add(query, pl.execute_item(args))

    def fetch(self, query: str, *args: Any,
              record_class: type[Record] | None = None) -> PendingResult:
        return self._add(query, pl.fetch_item(args, record_class))

    def fetchrow(self, query: str, *args: Any,
                 record_class: type[Record] | None = None) -> PendingResult:
        return self._add(query, pl.fetchrow_item(args, record_class))

    def fetchval(self, query: str, *args: Any, column: int | str = 0) -> PendingResult:
        return self._add(query, pl.fetchval_item(args, column))

    def executemany(self, query: str, args: Iterable[Sequence[Any]]) -> PendingResult:
        return self._add(query, pl.executemany_item(args))

    def sync(self) -> None:
        """Send what is queued with one Sync and settle its pending results."""
        items, shapers = self._queue.take()
        pendings, self._pendings = self._pendings, []
        if not items:
            return
        conn = self._connection
        try:
            outcomes = conn._driver.run_flow(conn._session.pipeline_flow(items))
        except BaseException as exc:
            if conn._driver.busy:
                conn._recover()
            for pending in pendings:
                pl.settle_pending(pending, False, exc)
            raise
        first_error = pl.resolve(pendings, shapers, outcomes, pl.settle_pending)
        if first_error is not None:
            raise first_error

    def __enter__(self) -> Pipeline:
        self._connection._enter_pipeline()
        self._entered = True
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc_info: object) -> None:
        try:
            if exc_type is None:
                self.sync()
            else:
                self._queue.take()  # the block failed: unsent statements are dropped
        finally:
            self._queue.closed = True
            self._connection._exit_pipeline()


class PreparedStatement(PreparedStatementBase):
    """A statement prepared on one blocking connection."""

    def __init__(self, connection: Connection, state: PreparedState,
                 record_class: type[Record] | None) -> None:
        self._connection = connection
        self._init_base(connection._session, state, record_class)

    def _execute(self, args: Sequence[Any], timeout: float | None,
                 max_rows: int = 0) -> StatementResult:
        conn = self._connection
        result: StatementResult = conn._run(
            conn._prepared_flow(self._state, args, max_rows), timeout
        )
        self._last_status = result.status
        return result

    def fetch(self, *args: Any, timeout: float | None = None) -> list[Record]:
        return rows_of(self._execute(args, timeout), self._record_class)

    def fetchrow(self, *args: Any, timeout: float | None = None) -> Record | None:
        rows = rows_of(self._execute(args, timeout, max_rows=1), self._record_class)
        return rows[0] if rows else None

    def fetchval(self, *args: Any, column: int | str = 0,
                 timeout: float | None = None) -> Any:
        row = self.fetchrow(*args, timeout=timeout)
        return None if row is None else row[column]

    def executemany(self, args: Iterable[Sequence[Any]], *,
                    timeout: float | None = None) -> None:
        conn = self._connection
        conn._run(conn._session.executemany_flow(self._state.sql, args, state=self._state),
                  timeout)


class Connection(ConnectionBase):
    """A connection to a PostgreSQL server (blocking, thread-safe)."""

    def __init__(
        self,
        driver: BlockingDriver,
        params: ConnectParams,
        *,
        command_timeout: float | None = None,
    ) -> None:
        self._driver = driver
        self._init_base(driver.session, params, command_timeout)
        self._lock = threading.Lock()
        self._pipeline_thread: int | None = None
        driver.on_events = self._dispatch_events
        driver.on_lost = self._notify_terminated
        if driver.engine.events:  # notices sent during startup
            events, driver.engine.events = driver.engine.events, []
            self._dispatch_events(events)

    def add_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection, pid, channel, payload)`` on each NOTIFY to ``channel``.

        A blocking connection reads from the server only inside a call: the
        callbacks run during any later call on this connection, or while
        :meth:`process_notifications` waits.
        """
        if inspect.iscoroutinefunction(callback):
            raise InterfaceError("a blocking connection cannot run a coroutine function listener")
        statement = self._listen_statement(channel, callback)
        if statement is not None:
            try:
                self.execute(statement)
            except BaseException:
                self._unlisten_statement(channel, callback)
                raise

    def remove_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        statement = self._unlisten_statement(channel, callback)
        if statement is not None and not self.is_closed():
            self.execute(statement)

    def process_notifications(self, timeout: float | None = 0) -> None:
        """Wait up to ``timeout`` seconds (None: until one arrives) for server
        messages and deliver them to the listeners.  Returns as soon as
        something was delivered, or when the time is up."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            return
        try:
            self._check_open()
            self._driver.wait_for_events(deadline)
        finally:
            self._lock.release()

    # -- running -------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closing or self._driver.is_closed():
            raise ConnectionDoesNotExistError(
                "the connection is closed"
            ) from self._engine.close_error

    def _run(self, flow: Flow[Any], timeout: float | None) -> Any:
        """Run a flow with the connection to itself, honouring the timeout."""
        try:
            return self._locked(lambda deadline: self._driver.run_flow(flow, deadline), timeout)
        finally:
            flow.close()

    def pipeline(self) -> Pipeline:
        """Pipeline mode: ``with conn.pipeline() as p:`` then ``p.fetch(...)``
        etc. return pending results settled at ``p.sync()`` or the end of
        the block (see :mod:`pgwire.pipeline`)."""
        return Pipeline(self)

    def _enter_pipeline(self) -> None:
        if self._pipeline_thread == threading.get_ident():
            raise InterfaceError("a pipeline is already open on this connection")
        self._lock.acquire()
        try:
            self._check_open()
        except BaseException:
            self._lock.release()
            raise
        self._pipeline_thread = threading.get_ident()

    def _exit_pipeline(self) -> None:
        self._pipeline_thread = None
        self._lock.release()

    def _locked(self, body: Callable[[float | None], Any], timeout: float | None) -> Any:
        """Run ``body(deadline)`` with the connection to itself.

        The timeout covers the whole call, waiting for the lock included.
        On timeout (or an interrupt such as KeyboardInterrupt) while the
        server works, a cancel request is sent and the connection reads until
        the server has answered, so the next call gets its own result; if the
        server does not answer, the connection is closed.
        """
        if self._pipeline_thread == threading.get_ident():
            raise InterfaceError(
                "the connection is in pipeline mode: queue statements on the pipeline object"
            )
        timeout = self._timeout(timeout)
        if timeout is not None and timeout <= 0:
            # As on the asyncio API: nothing is sent (a statement sent with
            # no time to wait might run, or might be cancelled).
            raise TimeoutError(f"timed out: timeout={timeout} s")
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            raise TimeoutError(f"timed out after {timeout} s waiting for the connection")
        try:
            self._check_open()
            try:
                return body(deadline)
            except BaseException as exc:
                if self._driver.busy:
                    self._recover()
                if isinstance(exc, TimeoutError) and not exc.args:
                    raise TimeoutError(f"the query timed out after {timeout} s") from None
                raise
        finally:
            self._lock.release()

    def _recover(self) -> None:
        driver = self._driver
        driver.engine.abandon_pending()  # nobody reads those rows: skip decoding
        try:
            driver.send_cancel()
            driver.drain(time.monotonic() + _RECOVERY_SECONDS)
        except BaseException:
            # No answer (or a second interrupt): the connection is out of
            # step with the server, so it is closed rather than reused.
            driver.close()

    # -- queries -------------------------------------------------------------

    def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        """Run a command; return the status of the last one (e.g. ``'INSERT 0 1'``).

        Without arguments the simple query protocol is used, so ``query`` may
        hold several statements separated by semicolons.
        """
        if not args:
            op = self._run(self._session.simple_query_flow(query), timeout)
            return op.results[-1].status if op.results else ""  # type: ignore[no-any-return]
        result = self._run(self._session.execute_flow(query, args), timeout)
        return result.status or ""  # type: ignore[no-any-return]

    def executemany(self, command: str, args: Iterable[Sequence[Any]], *,
                    timeout: float | None = None) -> None:
        """Run ``command`` for each argument tuple, pipelined in one round trip.

        The batch runs as one implicit transaction when none is open: if one
        row fails, none is applied.  Inside a transaction block the error
        aborts the transaction, as any failed statement would.
        """
        self._run(self._session.executemany_flow(command, args), timeout)

    def fetch(self, query: str, *args: Any, timeout: float | None = None,
              record_class: type[Record] | None = None) -> list[Record]:
        check_record_class(record_class)
        result = self._run(self._session.execute_flow(query, args), timeout)
        return rows_of(result, record_class)

    def fetchrow(self, query: str, *args: Any, timeout: float | None = None,
                 record_class: type[Record] | None = None) -> Record | None:
        check_record_class(record_class)
        result = self._run(self._session.execute_flow(query, args, max_rows=1), timeout)
        rows = rows_of(result, record_class)
        return rows[0] if rows else None

    def fetchval(self, query: str, *args: Any, column: int | str = 0,
                 timeout: float | None = None) -> Any:
        row = self.fetchrow(query, *args, timeout=timeout)
        return None if row is None else row[column]

    def prepare(self, query: str, *, name: str | None = None,
                timeout: float | None = None,
                record_class: type[Record] | None = None) -> PreparedStatement:
        """Prepare a statement for repeated execution on this connection."""
        check_record_class(record_class)
        state = self._run(self._session.prepare_flow(query), timeout)
        return PreparedStatement(self, state, record_class)

    # -- COPY (see the asyncio methods of the same names) ----------------------

    def copy_records_to_table(
        self, table_name: str, *, records: Iterable[Sequence[Any]],
        columns: Sequence[str] | None = None, schema_name: str | None = None,
        timeout: float | None = None, where: str | None = None,
    ) -> str:
        """Copy Python records into a table with binary COPY; return the status."""
        encoder, sql = self._run(copy_mod.records_copy_flow(
            self._session, table_name, columns, schema_name, where
        ), timeout)

        def chunks() -> Iterator[bytes]:
            for record in records:
                chunk = encoder.add(record)
                if chunk:
                    yield chunk
            yield encoder.finish()

        return self._copy_in(sql, chunks(), timeout)

    def copy_to_table(
        self, table_name: str, *, source: Any, columns: Sequence[str] | None = None,
        schema_name: str | None = None, timeout: float | None = None,
        where: str | None = None, **options: Any,
    ) -> str:
        """Copy data into a table from a path, a file object or an iterable of bytes."""
        table = copy_mod.table_reference(table_name, schema_name)
        sql = copy_mod.copy_in_sql(table, columns, copy_mod.copy_options(**options), where)
        chunks = copy_mod.sync_source_chunks(source)
        if chunks is None:
            raise InterfaceError("the blocking API cannot read an asynchronous COPY source")
        return self._copy_in(sql, chunks, timeout)

    def copy_from_table(
        self, table_name: str, *, output: Any, columns: Sequence[str] | None = None,
        schema_name: str | None = None, timeout: float | None = None, **options: Any,
    ) -> str:
        """Copy a table out to a path, a file object or a callable receiving bytes."""
        table = copy_mod.table_reference(table_name, schema_name)
        sql = copy_mod.copy_out_table_sql(table, columns, copy_mod.copy_options(**options))
        return self._copy_out(sql, output, timeout)

    def copy_from_query(
        self, query: str, *args: Any, output: Any, timeout: float | None = None,
        **options: Any,
    ) -> str:
        """Copy the result of a query out (arguments become server-made literals)."""
        if args:
            query = self._run(self._session.inline_arguments_flow(query, args), timeout)
        sql = copy_mod.copy_out_query_sql(query, copy_mod.copy_options(**options))
        return self._copy_out(sql, output, timeout)

    def _copy_in(self, sql: str, chunks: Iterator[bytes], timeout: float | None) -> str:
        driver = self._driver

        def body(deadline: float | None) -> str:
            op = CopyIn(sql)
            try:
                driver.start(op, deadline)
                driver.wait_until(lambda: op.ready or op.done, deadline)
                for chunk in chunks:
                    if op.done:
                        break  # the server failed: it ignores the rest anyway
                    if chunk:
                        driver.send_raw(wire.copy_data(chunk), deadline)
                if not op.done:
                    driver.send_raw(op.end(), deadline)
            except BaseException as exc:
                # Abort with the reason (the server rolls the COPY back); the
                # CopyFail goes out now or while the connection recovers.
                op.abort(driver.engine, f"{type(exc).__name__}: {exc}")
                out = driver.engine.data_to_send()
                if out and not driver.is_closed():
                    driver.send_raw(out, None)
                raise
            driver.wait_until(lambda: op.done, deadline)
            if op.error is not None:
                raise op.error
            return op.status or ""

        return self._locked(body, timeout)  # type: ignore[no-any-return]

    def _copy_out(self, sql: str, output: Any, timeout: float | None) -> str:
        driver = self._driver

        def body(deadline: float | None) -> str:
            with _open_output(output) as write:
                op = CopyOut(sql, write)
                driver.start(op, deadline)
                driver.wait_until(lambda: op.done, deadline)
            if op.error is not None:
                raise op.error
            return op.status or ""

        return self._locked(body, timeout)  # type: ignore[no-any-return]

    def cursor(self, query: str, *args: Any, prefetch: int | None = None,
               timeout: float | None = None,
               record_class: type[Record] | None = None) -> Cursor:
        """Open a server-side cursor (needs an open transaction); iterate it
        (``prefetch`` rows per round trip) or call ``fetch(n)``."""
        state = CursorState(self, query, args, prefetch, record_class)
        result = self._run(
            self._session.cursor_open_flow(query, args, state.portal, state.prefetch), timeout
        )
        state.take(result)
        return Cursor(state, timeout)

    def transaction(self, *, isolation: str | None = None, readonly: bool = False,
                    deferrable: bool = False) -> Transaction:
        """A transaction block; nested blocks become savepoints."""
        return Transaction(self, isolation, readonly, deferrable)

    # -- for pgwire.dbapi ----------------------------------------------------

    def _execute_result(self, query: str, args: Sequence[Any], *,
                        timeout: float | None = None) -> StatementResult:
        """Run one statement; return its command tag, rows and columns together."""
        result: StatementResult = self._run(self._session.execute_flow(query, args), timeout)
        return result

    def _executemany_results(self, command: str, args: Iterable[Sequence[Any]], *,
                             timeout: float | None = None) -> list[StatementResult]:
        """:meth:`executemany`, returning the result (command tag) of each execution."""
        results: list[StatementResult] = self._run(
            self._session.executemany_flow(command, args), timeout
        )
        return results

    def _script_results(self, script: str, *,
                        timeout: float | None = None) -> list[StatementResult]:
        """Run ``script`` (simple query protocol); return every statement's result.

        Rows are the raw text values (a list of ``bytes`` or None per row).
        """
        op = self._run(self._session.simple_query_flow(script), timeout)
        return op.results  # type: ignore[no-any-return]

    # -- closing -------------------------------------------------------------

    def is_closed(self) -> bool:
        return self._closing or self._driver.is_closed()

    def close(self, *, timeout: float | None = None) -> None:
        """Close gracefully: wait for the operation in progress, send Terminate."""
        if self.is_closed():
            return
        acquired = self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0))
        try:
            self._closing = True
            self._driver.terminate()
        finally:
            if acquired:
                self._lock.release()

    def terminate(self) -> None:
        """Close the connection at once, without waiting for anything."""
        self._closing = True
        self._driver.close()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.is_closed() else "open"
        return f"<pgwire.sync.Connection {state} pid={self.get_server_pid()}>"


def connect(
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
    """Open a blocking connection; the arguments are those of :func:`pgwire.connect`."""
    params, make_session = prepare_connect(
        dsn, host=host, port=port, user=user, password=password, database=database,
        timeout=timeout, statement_cache_size=statement_cache_size,
        server_settings=server_settings, ssl=ssl, record_class=record_class,
        connection_class=connection_class, connection_base=Connection,
        type_registry=type_registry, unsupported=unsupported,
    )
    driver = open_blocking(params, make_session, params.connect_timeout)
    try:
        if statement_cache_size > 0:
            session = driver.session
            deadline = (
                None if params.connect_timeout is None
                else time.monotonic() + params.connect_timeout
            )
            session.note_pooler(driver.run_flow(detect_pooler_flow(session), deadline))
    except BaseException:
        driver.close()
        raise
    return connection_class(driver, params, command_timeout=command_timeout)


@contextlib.contextmanager
def _open_output(output: Any) -> Iterator[Callable[[bytes], Any]]:
    """The write function for a COPY output: a path, a file object or a callable."""
    write = copy_mod.output_writer(output)
    if write is not None:
        yield write
        return
    with open(output, "wb") as file:
        yield file.write
