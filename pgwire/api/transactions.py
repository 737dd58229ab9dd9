"""Transaction blocks: which statements a block or savepoint issues, and its state.

The outermost block issues BEGIN (with isolation level, READ ONLY and
DEFERRABLE as asked) and COMMIT or ROLLBACK; a block nested inside another
becomes a savepoint, released on success and rolled back to on error.  The
APIs' ``Transaction`` classes run the statements chosen here.
"""

from __future__ import annotations

import enum
from typing import Any

from ..exceptions import InFailedSQLTransactionError, InterfaceError

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


class TransactionBlocks:
    """Which transaction block of a connection is the outermost one, and
    the counter that names its savepoints."""

    __slots__ = ("top", "savepoints")

    def __init__(self) -> None:
        self.top: TransactionBase | None = None
        self.savepoints = 0


class TransactionBase:
    """The statements and state of a transaction block or savepoint.

    Subclasses run the statements; this class decides which ones.
    ``connection`` is the API's runner: it answers ``in_transaction()``
    and ``is_closed()`` and holds the connection's :class:`TransactionBlocks`.
    """

    __slots__ = ("_connection", "_isolation", "_readonly", "_deferrable", "_state",
                 "_nested", "_savepoint", "_generation")

    def __init__(self, connection: Any, isolation: str | None, readonly: bool,
                 deferrable: bool) -> None:
        if isolation is not None and isolation not in ISOLATION_LEVELS:
            raise ValueError(
                f"isolation is expected to be one of {', '.join(sorted(ISOLATION_LEVELS))}, "
                f"got {isolation!r}"
            )
        self._connection = connection
        self._generation = connection.generation  # see Runner.check_generation
        self._isolation = isolation
        self._readonly = readonly
        self._deferrable = deferrable
        self._state = TransactionState.NEW
        self._nested = False
        self._savepoint: str | None = None

    def _start_statement(self) -> str:
        """Check that the block can start; return BEGIN or SAVEPOINT."""
        if self._state is not TransactionState.NEW:
            raise InterfaceError(f"cannot start a transaction that is {self._state.value}")
        conn = self._connection
        blocks: TransactionBlocks = conn.transactions
        top = blocks.top
        if top is None:
            if conn.in_transaction():
                raise InterfaceError(
                    "cannot use Connection.transaction() in a manually started transaction"
                )
            parts = ["BEGIN"]
            if self._isolation is not None:
                parts.append(f"ISOLATION LEVEL {ISOLATION_LEVELS[self._isolation]}")
            if self._readonly:
                parts.append("READ ONLY")
            if self._deferrable:
                parts.append("DEFERRABLE")
            return " ".join(parts)
        if self._isolation is not None and self._isolation != top._isolation:
            raise InterfaceError(
                f"nested transaction has a different isolation level: "
                f"current {self._isolation!r} != outer {top._isolation!r}"
            )
        if (self._readonly or self._deferrable) and (
            self._readonly != top._readonly or self._deferrable != top._deferrable
        ):
            raise InterfaceError("nested transaction has different readonly/deferrable settings")
        blocks.savepoints += 1
        self._savepoint = f"pgwire_savepoint_{blocks.savepoints}"
        self._nested = True
        return f"SAVEPOINT {self._savepoint}"

    def _started(self) -> None:
        self._state = TransactionState.STARTED
        if not self._nested:
            self._connection.transactions.top = self

    def _end_statements(self, action: str) -> list[str]:
        if self._state is not TransactionState.STARTED:
            raise InterfaceError(f"cannot {action} a transaction that is {self._state.value}")
        if action == "commit":
            return [f"RELEASE SAVEPOINT {self._savepoint}"] if self._nested else ["COMMIT"]
        if self._nested:
            return [f"ROLLBACK TO SAVEPOINT {self._savepoint}",
                    f"RELEASE SAVEPOINT {self._savepoint}"]
        return ["ROLLBACK"]

    def _check_end(self, action: str, status: str | None,
                   state: TransactionState) -> TransactionState:
        """The block's final state; raise if a COMMIT was turned into a ROLLBACK.

        The server answers COMMIT of a failed transaction with the ROLLBACK
        command tag and no error (PostgreSQL docs, COMMIT): a caught error
        inside the block would otherwise lose the work without a word.
        """
        if action == "commit" and not self._nested and status == "ROLLBACK":
            self._ended(TransactionState.ROLLEDBACK)
            raise InFailedSQLTransactionError(
                "the transaction had failed (an error inside the block was caught) and the "
                "server rolled it back at COMMIT: nothing was committed"
            )
        return state

    def _ended(self, state: TransactionState) -> None:
        self._state = state
        blocks: TransactionBlocks = self._connection.transactions
        if not self._nested and blocks.top is self:
            blocks.top = None

    def _exit_action(self, exc_type: type[BaseException] | None) -> str | None:
        """What leaving the block does: 'commit', 'rollback' or nothing."""
        if self._state is not TransactionState.STARTED:
            return None  # committed or rolled back by hand inside the block
        if exc_type is None:
            return "commit"
        if self._connection.is_closed():
            self._ended(TransactionState.FAILED)
            return None
        return "rollback"

    def __repr__(self) -> str:
        kind = "savepoint" if self._nested else "transaction"
        return f"<pgwire.Transaction {kind} state={self._state.value}>"
