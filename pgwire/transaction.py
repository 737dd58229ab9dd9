"""Transaction blocks for the async API: ``async with conn.transaction():``.

The outermost block issues BEGIN (with isolation level, READ ONLY and
DEFERRABLE as asked) and COMMIT or ROLLBACK; a block nested inside another
becomes a savepoint, released on success and rolled back to on error.
"""

from __future__ import annotations

import enum
from types import TracebackType
from typing import TYPE_CHECKING

from .exceptions import InterfaceError

if TYPE_CHECKING:
    from .connection import Connection

ISOLATION_LEVELS = {
    "read_committed": "READ COMMITTED",
    "read_uncommitted": "READ UNCOMMITTED",
    "repeatable_read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


class TransactionState(enum.Enum):
    NEW = "new"
    STARTED = "started"
    COMMITTED = "committed"
    ROLLEDBACK = "rolled back"
    FAILED = "failed"


class Transaction:
    """One transaction block or savepoint on a connection."""

    __slots__ = ("_connection", "_isolation", "_readonly", "_deferrable", "_state",
                 "_nested", "_savepoint")

    def __init__(self, connection: Connection, isolation: str | None, readonly: bool,
                 deferrable: bool) -> None:
        if isolation is not None and isolation not in ISOLATION_LEVELS:
            raise ValueError(
                f"isolation is expected to be one of {', '.join(sorted(ISOLATION_LEVELS))}, "
                f"got {isolation!r}"
            )
        self._connection = connection
        self._isolation = isolation
        self._readonly = readonly
        self._deferrable = deferrable
        self._state = TransactionState.NEW
        self._nested = False
        self._savepoint: str | None = None

    def _begin_statement(self) -> str:
        parts = ["BEGIN"]
        if self._isolation is not None:
            parts.append(f"ISOLATION LEVEL {ISOLATION_LEVELS[self._isolation]}")
        if self._readonly:
            parts.append("READ ONLY")
        if self._deferrable:
            parts.append("DEFERRABLE")
        return " ".join(parts)

    async def start(self) -> None:
        """Enter the block: BEGIN, or SAVEPOINT when nested."""
        if self._state is not TransactionState.NEW:
            raise InterfaceError(f"cannot start a transaction that is {self._state.value}")
        conn = self._connection
        top = conn._top_transaction
        if top is None:
            if conn.is_in_transaction():
                raise InterfaceError(
                    "cannot use Connection.transaction() in a manually started transaction"
                )
            await conn.execute(self._begin_statement())
            conn._top_transaction = self
        else:
            if self._isolation is not None and self._isolation != top._isolation:
                raise InterfaceError(
                    f"nested transaction has a different isolation level: "
                    f"current {top._isolation!r} != outer {self._isolation!r}"
                )
            if self._readonly != top._readonly or self._deferrable != top._deferrable:
                if self._readonly or self._deferrable:
                    raise InterfaceError(
                        "nested transaction has different readonly/deferrable settings"
                    )
            conn._savepoint_counter += 1
            self._savepoint = f"pgwire_savepoint_{conn._savepoint_counter}"
            self._nested = True
            await conn.execute(f"SAVEPOINT {self._savepoint}")
        self._state = TransactionState.STARTED

    def _check_started(self, action: str) -> None:
        if self._state is not TransactionState.STARTED:
            raise InterfaceError(f"cannot {action} a transaction that is {self._state.value}")

    async def commit(self) -> None:
        self._check_started("commit")
        conn = self._connection
        try:
            if self._nested:
                await conn.execute(f"RELEASE SAVEPOINT {self._savepoint}")
            else:
                await conn.execute("COMMIT")
        except BaseException:
            self._state = TransactionState.FAILED
            raise
        finally:
            if not self._nested and conn._top_transaction is self:
                conn._top_transaction = None
        self._state = TransactionState.COMMITTED

    async def rollback(self) -> None:
        self._check_started("rollback")
        conn = self._connection
        try:
            if self._nested:
                await conn.execute(f"ROLLBACK TO SAVEPOINT {self._savepoint}")
                await conn.execute(f"RELEASE SAVEPOINT {self._savepoint}")
            else:
                await conn.execute("ROLLBACK")
        except BaseException:
            self._state = TransactionState.FAILED
            raise
        finally:
            if not self._nested and conn._top_transaction is self:
                conn._top_transaction = None
        self._state = TransactionState.ROLLEDBACK

    async def __aenter__(self) -> Transaction:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._state is not TransactionState.STARTED:
            return  # committed or rolled back by hand inside the block
        if exc_type is None:
            await self.commit()
        elif self._connection.is_closed():
            self._state = TransactionState.FAILED
            if self._connection._top_transaction is self:
                self._connection._top_transaction = None
        else:
            await self.rollback()

    def __repr__(self) -> str:
        kind = "savepoint" if self._nested else "transaction"
        return f"<pgwire.Transaction {kind} state={self._state.value}>"
