"""Transaction blocks for the async API: ``async with conn.transaction():``.

The outermost block issues BEGIN (with isolation level, READ ONLY and
DEFERRABLE as asked) and COMMIT or ROLLBACK; a block nested inside another
becomes a savepoint, released on success and rolled back to on error.  The
statements are chosen by :class:`pgwire.base.TransactionBase`, shared with
the blocking API.
"""

from __future__ import annotations

from types import TracebackType

from ..base import ISOLATION_LEVELS, TransactionBase, TransactionState

__all__ = ["ISOLATION_LEVELS", "Transaction", "TransactionState"]


class Transaction(TransactionBase):
    """One transaction block or savepoint on an asyncio connection."""

    __slots__ = ()

    async def start(self) -> None:
        """Enter the block: BEGIN, or SAVEPOINT when nested."""
        await self._connection.execute(self._start_statement())
        self._started()

    async def _end(self, action: str, state: TransactionState) -> None:
        statements = self._end_statements(action)
        try:
            for statement in statements:
                await self._connection.execute(statement)
        except BaseException:
            self._ended(TransactionState.FAILED)
            raise
        self._ended(state)

    async def commit(self) -> None:
        await self._end("commit", TransactionState.COMMITTED)

    async def rollback(self) -> None:
        await self._end("rollback", TransactionState.ROLLEDBACK)

    async def __aenter__(self) -> Transaction:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        action = self._exit_action(exc_type)
        if action == "commit":
            await self.commit()
        elif action == "rollback":
            await self.rollback()
