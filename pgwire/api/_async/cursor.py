"""Server-side cursors: named portals read a batch at a time.

``conn.cursor(query, *args)`` gives a factory: ``async for record in ...``
iterates with ``prefetch`` rows per round trip, and ``await ...`` gives a
:class:`Cursor` with ``fetch(n)``, ``fetchrow()`` and ``forward(n)``, as in
asyncpg.  A portal lives until its transaction ends (PostgreSQL docs,
"Extended Query", section 55.2.3), so cursors need an open transaction.
The blocking API has the same classes in :mod:`pgwire.sync`; what they share
is :class:`CursorState`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ...exceptions import InterfaceError
from ...protocol.engine import StatementResult
from ...types.record import Record
from ..base import check_record_class

if TYPE_CHECKING:
    from .connection import Connection

DEFAULT_PREFETCH = 50


class CursorState:
    """Buffer, portal and decoder of one cursor, whatever the API waits with."""

    def __init__(self, connection: Any, query: str, args: Sequence[Any],
                 prefetch: int | None, record_class: type[Record] | None) -> None:
        if prefetch is None:
            prefetch = DEFAULT_PREFETCH
        if not isinstance(prefetch, int) or prefetch <= 0:
            raise InterfaceError(f"prefetch must be a positive integer, got {prefetch!r}")
        check_record_class(record_class)
        if not connection.is_in_transaction():
            raise InterfaceError(
                "cursor cannot be created outside of a transaction: portals end with the "
                "transaction, so open one with connection.transaction() first"
            )
        self.connection = connection
        self.query = query
        self.args = args
        self.prefetch = prefetch
        self.record_class = record_class
        self.portal = connection._session.new_portal_name()
        self.buffer: deque[Record] = deque()
        self.exhausted = False
        self.row_decoder: Callable[[bytes], Any] | None = None
        self.skipped = 0

    def take(self, result: StatementResult) -> None:
        """Keep the rows of one Execute and learn whether the portal is done."""
        if result.row_decoder is not None:
            self.row_decoder = result.row_decoder
        rows = result.rows
        if self.record_class is not None and rows and type(rows[0]) is not self.record_class:
            rows = [self.record_class._make(r._mapping, tuple(r)) for r in rows]
        self.buffer.extend(rows)
        if not result.suspended:
            self.exhausted = True

    def skip(self, result: StatementResult) -> int:
        """Count the rows of an Execute whose rows were not decoded."""
        if not result.suspended:
            self.exhausted = True
        return len(result.rows)

    def pop(self, count: int) -> list[Record]:
        buffer = self.buffer
        return [buffer.popleft() for _ in range(min(count, len(buffer)))]

    def check_count(self, n: int) -> None:
        if not isinstance(n, int) or n <= 0:
            raise InterfaceError(f"n must be a positive integer, got {n!r}")


class Cursor:
    """An open server-side cursor (asyncio)."""

    def __init__(self, state: CursorState) -> None:
        self._state = state

    async def _fetch_more(self, count: int, timeout: float | None,
                          decode: bool = True) -> None:
        state = self._state
        conn: Connection = state.connection
        decoder = state.row_decoder if decode else _skip_row
        result = await conn._run(
            conn._session.cursor_fetch_flow(state.portal, count, decoder), timeout
        )
        if decode:
            state.take(result)
        else:
            state.skipped += state.skip(result)

    async def fetch(self, n: int, *, timeout: float | None = None) -> list[Record]:
        """Return up to ``n`` rows (fewer at the end)."""
        state = self._state
        state.check_count(n)
        if len(state.buffer) < n and not state.exhausted:
            await self._fetch_more(n - len(state.buffer), timeout)
        return state.pop(n)

    async def fetchrow(self, *, timeout: float | None = None) -> Record | None:
        rows = await self.fetch(1, timeout=timeout)
        return rows[0] if rows else None

    async def forward(self, n: int, *, timeout: float | None = None) -> int:
        """Skip ``n`` rows without decoding them; return how many were skipped."""
        state = self._state
        state.check_count(n)
        skipped = len(state.pop(n))
        if skipped < n and not state.exhausted:
            state.skipped = 0
            await self._fetch_more(n - skipped, timeout, decode=False)
            skipped += state.skipped
        return skipped

    async def close(self, *, timeout: float | None = None) -> None:
        """Close the portal now instead of at the end of the transaction."""
        state = self._state
        state.exhausted = True
        state.buffer.clear()
        conn: Connection = state.connection
        if conn.is_in_transaction() and not conn.is_closed():
            await conn._run(conn._session.cursor_close_flow(state.portal), timeout)

    def __repr__(self) -> str:
        return f"<pgwire.Cursor {self._state.query!r}>"


def _skip_row(body: bytes) -> None:
    return None


class CursorFactory:
    """What ``Connection.cursor()`` returns: iterate it, or await it."""

    def __init__(self, connection: Connection, query: str, args: Sequence[Any],
                 prefetch: int | None, timeout: float | None,
                 record_class: type[Record] | None) -> None:
        self._connection = connection
        self._query = query
        self._args = args
        self._prefetch = prefetch
        self._timeout = timeout
        self._record_class = record_class

    async def _open(self, prefetch: int) -> Cursor:
        state = CursorState(self._connection, self._query, self._args, prefetch,
                            self._record_class)
        conn = self._connection
        result = await conn._run(
            conn._session.cursor_open_flow(state.query, state.args, state.portal, prefetch),
            self._timeout,
        )
        state.take(result)
        return Cursor(state)

    def __await__(self) -> Any:
        return self._open(1).__await__()

    def __aiter__(self) -> CursorIterator:
        return CursorIterator(self)


class CursorIterator:
    """``async for`` over a cursor, ``prefetch`` rows per round trip."""

    def __init__(self, factory: CursorFactory) -> None:
        self._factory = factory
        self._cursor: Cursor | None = None

    def __aiter__(self) -> CursorIterator:
        return self

    async def __anext__(self) -> Record:
        factory = self._factory
        if self._cursor is None:
            prefetch = DEFAULT_PREFETCH if factory._prefetch is None else factory._prefetch
            self._cursor = await factory._open(prefetch)
        cursor = self._cursor
        state = cursor._state
        if not state.buffer:
            if state.exhausted:
                raise StopAsyncIteration
            await cursor._fetch_more(state.prefetch, factory._timeout)
            if not state.buffer:
                raise StopAsyncIteration
        return state.buffer.popleft()
