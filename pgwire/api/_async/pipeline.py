"""Pipeline mode: queue many statements, send them with one Sync, one round trip.

``async with conn.pipeline() as p:`` (``with`` for the blocking API) gives a
pipeline whose methods queue a statement and return a pending result at
once: an ``asyncio.Future`` (async API) or a :class:`PendingResult`
(blocking API), resolved at the next sync point (``p.sync()``, or the end
of the block).  Queue 100 statements in a loop and read the 100 results
after one round trip.  Statements new to the connection run inline
(Parse/Describe/Bind/Execute in the same batch, arguments in text form as
on a ``statement_cache_size=0`` first run), so a statement may use a table
an earlier statement of the batch created.

Semantics follow psycopg 3's pipeline mode: the statements between two sync
points form one implicit transaction unless the pipeline itself issues
BEGIN/COMMIT; an error fails its statement and aborts every later one up to
the sync point, each raising :class:`pgwire.PipelineAbortedError`; work
resumes after the sync.  Statements are sent with the extended protocol, so
each queued string holds one statement.  COPY cannot run in a pipeline (the
server's COPY request is refused with CopyFail and reported as an error).
While a pipeline is open, the connection belongs to it: other tasks and
threads wait, and the connection's own query methods raise
InterfaceError in the block (use the pipeline's methods).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ...exceptions import InterfaceError, PipelineAbortedError
from ...flows.sqltext import first_keyword
from ...protocol.engine import StatementResult
from ...types.record import Record
from ..base import check_record_class, rows_of

if TYPE_CHECKING:
    from .connection import Connection

# Turns the results of one queued item into the value its caller gets.
Shaper = Callable[[list[StatementResult]], Any]


def _status(results: list[StatementResult]) -> str:
    return results[-1].status or "" if results else ""


def _rows_shaper(record_class: type[Record] | None) -> Shaper:
    return lambda results: rows_of(results[0], record_class)


def _row_shaper(record_class: type[Record] | None) -> Shaper:
    def shape(results: list[StatementResult]) -> Record | None:
        rows = rows_of(results[0], record_class)
        return rows[0] if rows else None

    return shape


def _value_shaper(column: int | str) -> Shaper:
    def shape(results: list[StatementResult]) -> Any:
        rows = results[0].rows
        return rows[0][column] if rows else None

    return shape


class PipelineQueue:
    """Queued statements and how to hand out their results; no I/O."""

    def __init__(self) -> None:
        self.items: list[tuple[str, list[Sequence[Any]], int]] = []
        self.shapers: list[Shaper] = []
        self.closed = False

    def add(self, sql: str, arg_list: list[Sequence[Any]], max_rows: int,
            shaper: Shaper) -> None:
        if self.closed:
            raise InterfaceError("the pipeline is closed")
        if not isinstance(sql, str):
            raise InterfaceError(f"query must be a str, got {type(sql).__name__}")
        if first_keyword(sql) == "COPY":
            # Refused before anything is sent: in copy-in mode the server
            # would take the next queued message for a protocol violation.
            raise InterfaceError(
                "COPY cannot run in a pipeline: use the copy_* methods outside the pipeline"
            )
        self.items.append((sql, arg_list, max_rows))
        self.shapers.append(shaper)

    def take(self) -> tuple[list[tuple[str, list[Sequence[Any]], int]], list[Shaper]]:
        items, shapers = self.items, self.shapers
        self.items, self.shapers = [], []
        return items, shapers


def execute_item(args: tuple[Any, ...]) -> tuple[list[Sequence[Any]], int, Shaper]:
    return [args], 0, _status


def fetch_item(args: tuple[Any, ...], record_class: type[Record] | None) -> tuple[
        list[Sequence[Any]], int, Shaper]:
    check_record_class(record_class)
    return [args], 0, _rows_shaper(record_class)


def fetchrow_item(args: tuple[Any, ...], record_class: type[Record] | None) -> tuple[
        list[Sequence[Any]], int, Shaper]:
    check_record_class(record_class)
    return [args], 1, _row_shaper(record_class)


def fetchval_item(args: tuple[Any, ...], column: int | str) -> tuple[
        list[Sequence[Any]], int, Shaper]:
    return [args], 1, _value_shaper(column)


def executemany_item(args: Iterable[Sequence[Any]]) -> tuple[list[Sequence[Any]], int, Shaper]:
    return [tuple(a) for a in args], 0, lambda results: None


def resolve(pendings: list[Any], shapers: list[Shaper],
            outcomes: list[list[StatementResult] | BaseException],
            settle: Callable[[Any, bool, Any], None]) -> BaseException | None:
    """Settle each pending result; return the error that stopped the batch.

    That error is raised by ``sync()`` too, so a failure is never silent
    even when nobody looks at the pending result of the failed statement.
    """
    first_error: BaseException | None = None
    for pending, shaper, outcome in zip(pendings, shapers, outcomes):
        if isinstance(outcome, BaseException):
            if first_error is None and not isinstance(outcome, PipelineAbortedError):
                first_error = outcome
            settle(pending, False, outcome)
            continue
        try:
            settle(pending, True, shaper(outcome))
        except Exception as exc:
            first_error = first_error or exc
            settle(pending, False, exc)
    return first_error


def _settle_future(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
        # sync() raises the batch's error itself: an unawaited future must
        # not log "exception was never retrieved" on top of that.
        future.exception()


class Pipeline:
    """A pipeline on an asyncio connection (see the module docstring)."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._queue = PipelineQueue()
        self._futures: list[asyncio.Future[Any]] = []
        self._entered = False

    def _add(self, sql: str, item: tuple[list[Sequence[Any]], int, Shaper]) -> asyncio.Future[Any]:
        if not self._entered:
            raise InterfaceError("use the pipeline inside 'async with conn.pipeline()'")
        arg_list, max_rows, shaper = item
        self._queue.add(sql, arg_list, max_rows, shaper)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._futures.append(future)
        return future

    def execute(self, query: str, *args: Any) -> asyncio.Future[str]:
        """Queue a statement; the future gives its status (e.g. 'INSERT 0 1')."""
        return self._add(query, execute_item(args))

    def fetch(self, query: str, *args: Any,
              record_class: type[Record] | None = None) -> asyncio.Future[list[Record]]:
        return self._add(query, fetch_item(args, record_class))

    def fetchrow(self, query: str, *args: Any,
                 record_class: type[Record] | None = None) -> asyncio.Future[Record | None]:
        return self._add(query, fetchrow_item(args, record_class))

    def fetchval(self, query: str, *args: Any, column: int | str = 0) -> asyncio.Future[Any]:
        return self._add(query, fetchval_item(args, column))

    def executemany(self, query: str, args: Iterable[Sequence[Any]]) -> asyncio.Future[None]:
        return self._add(query, executemany_item(args))

    async def sync(self) -> None:
        """Send what is queued with one Sync and resolve its futures."""
        items, shapers = self._queue.take()
        futures, self._futures = self._futures, []
        if not items:
            return
        conn = self._connection
        try:
            outcomes = await conn._driver.run_flow(conn._session.pipeline_flow(items))
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                conn._start_recovery()  # the pipeline still holds the lock
            for future in futures:
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: the caller sees exc itself
            raise
        first_error = resolve(futures, shapers, outcomes, _settle_future)
        if first_error is not None:
            raise first_error

    async def __aenter__(self) -> Pipeline:
        await self._connection._enter_pipeline()
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                await self.sync()
            else:
                # The block failed: statements not yet sent are dropped.
                for future in self._futures:
                    future.cancel()
                self._queue.take()
        finally:
            self._queue.closed = True
            self._connection._exit_pipeline()


class PendingResult:
    """The result of a statement queued in a blocking pipeline.

    ``result()`` gives the value (or raises the statement's error) once the
    pipeline has synced; before that it raises InterfaceError.
    """

    __slots__ = ("_done", "_ok", "_value")

    def __init__(self) -> None:
        self._done = False
        self._ok = False
        self._value: Any = None

    def done(self) -> bool:
        return self._done

    def result(self) -> Any:
        if not self._done:
            raise InterfaceError("the pipeline has not synced yet: call sync() or leave the block")
        if not self._ok:
            raise self._value
        return self._value

    def exception(self) -> BaseException | None:
        if not self._done:
            raise InterfaceError("the pipeline has not synced yet: call sync() or leave the block")
        return None if self._ok else self._value


def settle_pending(pending: PendingResult, ok: bool, value: Any) -> None:
    if not pending._done:
        pending._done, pending._ok, pending._value = True, ok, value
