# Generated from pgwire/api/_async/cursor.py by scripts/unasync.py: edit that file, not this one.
"""Server-side cursors: named portals read a batch at a time.

``conn.cursor(query, *args)`` gives a :class:`CursorFactory`: ``async for
record in ...`` iterates with ``prefetch`` rows per round trip, and ``await
...`` gives a :class:`Cursor` with ``fetch(n)``, ``fetchrow()`` and
``forward(n)``, as in asyncpg.  (The blocking API's ``conn.cursor()`` opens
the cursor at once and returns it; iterate it or call ``fetch(n)``.)  A
portal lives until its transaction ends, so cursors need an open
transaction; what a cursor keeps between round trips is
:class:`~pgwire.api.cursor_state.CursorState`.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Any

from ...protocol.messages import Column
from ...types.record import Record
from ..cursor_state import CursorState, skip_row
from .runner import Runner


class Cursor:
    """An open server-side cursor."""

    def __init__(self, state: CursorState, timeout: float | None) -> None:
        self._state = state
        self._runner: Runner = state.runner
        self._timeout = timeout  # for iteration, as given to Connection.cursor()

    @property
    def columns(self) -> list[Column]:
        """The result's columns (name, type oid...), as the server described them."""
        return list(self._state.columns or ())

    def _fetch_more(self, count: int, timeout: float | None, decode: bool = True) -> None:
        state = self._state
        decoder = state.row_decoder if decode else skip_row
        result = self._runner.run(
            self._runner.session.cursor_fetch_flow(state.portal, count, decoder), timeout
        )
        if decode:
            state.take(result)
        else:
            state.skipped += state.skip(result)

    def fetch(self, n: int, *, timeout: float | None = None) -> list[Record]:
        """Return up to ``n`` rows (fewer at the end)."""
        state = self._state
        self._runner.check_generation(state.generation)
        state.check_count(n)
        state.check_usable()
        if len(state.buffer) < n and not state.exhausted:
            self._fetch_more(n - len(state.buffer), timeout)
        return state.pop(n)

    def fetchrow(self, *, timeout: float | None = None) -> Record | None:
        """Return the next row, or None at the end."""
        rows = self.fetch(1, timeout=timeout)
        return rows[0] if rows else None

    def forward(self, n: int, *, timeout: float | None = None) -> int:
        """Skip ``n`` rows without decoding them; return how many were skipped."""
        state = self._state
        self._runner.check_generation(state.generation)
        state.check_count(n)
        state.check_usable()
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
        state.closed = True
        state.buffer.clear()
        runner = self._runner
        if (runner.in_transaction() and not runner.is_closed()
                and state.generation == runner.generation):
            runner.run(runner.session.cursor_close_flow(state.portal), timeout)

    def __iter__(self) -> Cursor:
        return self

    def __next__(self) -> Record:
        """The next row, fetching ``prefetch`` more when none is buffered."""
        state = self._state
        self._runner.check_generation(state.generation)
        if not state.buffer:
            if state.exhausted:
                raise StopIteration
            state.check_usable()
            self._fetch_more(state.prefetch, self._timeout)
            if not state.buffer:
                raise StopIteration
        return state.buffer.popleft()

    def __enter__(self) -> Cursor:
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close(timeout=self._timeout)

    def __repr__(self) -> str:
        return f"<pgwire.Cursor {self._state.query!r}>"


class CursorFactory:
    """What ``Connection.cursor()`` returns: iterate it, or it."""

    def __init__(self, runner: Runner, query: str, args: Sequence[Any],
                 prefetch: int | None, timeout: float | None,
                 record_class: type[Record] | None) -> None:
        self._runner = runner
        self._generation = runner.generation
        self._query = query
        self._args = args
        self.prefetch = prefetch
        self._timeout = timeout
        self._record_class = record_class

    def open(self, prefetch: int | None) -> Cursor:
        """Bind the portal and fetch its first ``prefetch`` rows (at least one)."""
        runner = self._runner
        runner.check_generation(self._generation)
        state = CursorState(runner, self._query, self._args, prefetch, self._record_class)
        result = runner.run(
            runner.session.cursor_open_flow(state.query, state.args, state.portal,
                                            state.prefetch),
            self._timeout,
        )
        state.take(result)
        return Cursor(state, self._timeout)

