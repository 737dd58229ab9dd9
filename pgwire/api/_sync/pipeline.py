# Generated from pgwire/api/_async/pipeline.py by scripts/unasync.py: edit that file, not this one.
"""Pipeline mode: queue many statements, send them with one Sync, one round trip.

``with conn.pipeline() as p:`` gives a pipeline whose methods queue a
statement and return a pending result at once, resolved at the next sync
point (``p.sync()``, or the end of the block): an ``asyncio.Future`` on the
asyncio API, a ``PendingResult`` on the blocking API.  Queue 100 statements in a loop and
read the 100 results after one round trip.  Statements new to the
connection run inline (Parse/Describe/Bind/Execute in the same batch,
arguments in text form as on a ``statement_cache_size=0`` first run), so a
statement may use a table an earlier statement of the batch created.

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

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

from ...exceptions import InterfaceError
from ...types.record import Record
from ..flavours import SyncFlavour as flavour
from ..flavours import SyncPending as Pending
from ..results import (
    PipelineQueue,
    Shaper,
    execute_item,
    executemany_item,
    fetch_item,
    fetchrow_item,
    fetchval_item,
    resolve,
)
from .runner import Runner


class Pipeline:
    """A pipeline on one connection (see the module docstring)."""

    def __init__(self, runner: Runner, timeout: float | None = None) -> None:
        self._runner = runner
        self._timeout = timeout
        self._generation = runner.generation
        self._queue = PipelineQueue()
        self._pendings: list[Pending[Any]] = []
        self._entered = False

    def _add(self, sql: str, item: tuple[list[Sequence[Any]], int, Shaper]) -> Pending[Any]:
        if not self._entered:
            raise InterfaceError("use the pipeline inside 'with conn.pipeline()'")
        arg_list, max_rows, shaper = item
        self._queue.add(sql, arg_list, max_rows, shaper)
        pending: Pending[Any] = flavour.new_pending()
        self._pendings.append(pending)
        return pending

    def execute(self, query: str, *args: Any) -> Pending[str]:
        """Queue a statement; its pending result gives its status (e.g. 'INSERT 0 1')."""
        return self._add(query, execute_item(args))

    def fetch(self, query: str, *args: Any,
              record_class: type[Record] | None = None) -> Pending[list[Record]]:
        """Queue a query; its pending result gives all its rows, as
        :meth:`Connection.fetch` returns them, or raises the statement's
        error (:class:`~pgwire.PipelineAbortedError` when an earlier
        statement of the batch failed).

        :raises pgwire.InterfaceError: outside the pipeline's block, or for
            a COPY statement (see the module docstring).
        """
        return self._add(query, fetch_item(args, record_class))

    def fetchrow(self, query: str, *args: Any,
                 record_class: type[Record] | None = None) -> Pending[Record | None]:
        """Queue a query; its pending result gives its first row (None when
        there is none).  Errors as :meth:`fetch`."""
        return self._add(query, fetchrow_item(args, record_class))

    def fetchval(self, query: str, *args: Any, column: int | str = 0) -> Pending[Any]:
        """Queue a query; its pending result gives ``column`` (a position or a
        name) of its first row, or None when there is no row.  Errors as :meth:`fetch`."""
        return self._add(query, fetchval_item(args, column))

    def executemany(self, query: str, args: Iterable[Sequence[Any]]) -> Pending[None]:
        """Queue ``query`` once for each argument tuple; its pending result
        gives None once all of them ran.  Errors as :meth:`fetch`."""
        return self._add(query, executemany_item(args))

    def sync(self, *, timeout: float | None = None) -> None:
        """Send what is queued with one Sync and settle its pending results.

        ``timeout`` bounds the round trip (default: the pipeline's, else the
        connection's ``command_timeout``); when it expires the server is
        sent a cancel request, the pending results fail with the
        ``TimeoutError`` and the connection stays usable.
        """
        items, shapers = self._queue.take()
        pendings, self._pendings = self._pendings, []
        if not items:
            return
        runner = self._runner
        try:
            outcomes = runner.run_in_pipeline(
                runner.session.pipeline_flow(items),
                self._timeout if timeout is None else timeout)
        except BaseException as exc:
            for pending in pendings:
                flavour.settle(pending, False, exc)
            raise
        first_error = resolve(pendings, shapers, outcomes, flavour.settle)
        if first_error is not None:
            raise first_error

    def __enter__(self) -> Pipeline:
        self._runner.check_generation(self._generation)
        self._runner.enter_pipeline()
        self._entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if exc_type is None:
                self.sync()
            else:
                # The block failed: statements not yet sent are dropped.
                for pending in self._pendings:
                    pending.cancel()
                self._pendings = []
                self._queue.take()
        finally:
            self._queue.closed = True
            self._runner.exit_pipeline()
