"""What a server-side cursor keeps between round trips, whatever the API waits with.

A cursor is a named portal read a batch at a time; :class:`CursorState` holds
its portal name, the rows fetched and not yet handed out, and whether the
portal is exhausted.  A portal lives until its transaction ends (PostgreSQL
docs, "Extended Query", section 54.2.3), so a cursor needs an open
transaction.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from ..exceptions import InterfaceError
from ..protocol.messages import Column
from ..protocol.operations import StatementResult
from ..types.record import Record, recast
from .results import check_record_class

DEFAULT_PREFETCH = 50


class CursorState:
    """Buffer, portal and decoder of one cursor, whatever the API waits with."""

    def __init__(self, runner: Any, query: str, args: Sequence[Any],
                 prefetch: int | None, record_class: type[Record] | None) -> None:
        if prefetch is None:
            prefetch = DEFAULT_PREFETCH
        if not isinstance(prefetch, int) or prefetch <= 0:
            raise InterfaceError(f"prefetch must be a positive integer, got {prefetch!r}")
        check_record_class(record_class)
        if not runner.in_transaction():
            raise InterfaceError(
                "cursor cannot be created outside of a transaction: portals end with the "
                "transaction, so open one with connection.transaction() first"
            )
        self.runner = runner
        self.generation = runner.generation  # see Runner.check_generation
        self.query = query
        self.args = args
        self.prefetch = prefetch
        self.record_class = record_class
        self.portal = runner.session.new_portal_name()
        self.buffer: deque[Record] = deque()
        self.exhausted = False
        self.row_decoder: Callable[[bytes], Any] | None = None
        self.columns: list[Column] | None = None
        self.skipped = 0
        self.closed = False

    def take(self, result: StatementResult) -> None:
        """Keep the rows of one Execute and learn whether the portal is done."""
        if result.row_decoder is not None:
            self.row_decoder = result.row_decoder
        if result.columns is not None:
            self.columns = result.columns
        rows = result.rows
        if self.record_class is not None and rows and type(rows[0]) is not self.record_class:
            rows = [recast(r, self.record_class) for r in rows]
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

    def check_usable(self) -> None:
        """Refuse to read a closed cursor, or one whose transaction has ended
        (its portal is gone: the server would name only pgwire's portal)."""
        if self.closed:
            raise InterfaceError("the cursor is closed")
        if not self.buffer and not self.exhausted and not self.runner.in_transaction():
            raise InterfaceError(
                "the cursor's transaction has ended, and its portal with it: "
                "read cursors inside the transaction that opened them")


def skip_row(body: bytes) -> None:
    """The row decoder of ``forward()``: rows are counted, not decoded."""
    return None
