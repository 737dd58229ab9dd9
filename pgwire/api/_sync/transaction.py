# Generated from pgwire/api/_async/transaction.py by scripts/unasync.py: edit that file, not this one.
"""Transaction blocks: ``with conn.transaction():``.

The outermost block issues BEGIN (with isolation level, READ ONLY and
DEFERRABLE as asked) and COMMIT or ROLLBACK; a block nested inside another
becomes a savepoint, released on success and rolled back to on error.  The
statements are chosen by :class:`pgwire.api.transactions.TransactionBase`.
"""

from __future__ import annotations

from types import TracebackType

from ..transactions import ISOLATION_LEVELS, TransactionBase, TransactionState
from .runner import Runner

__all__ = ["ISOLATION_LEVELS", "Transaction", "TransactionState"]


class Transaction(TransactionBase):
    """One transaction block or savepoint."""

    __slots__ = ()

    _connection: Runner

    def _execute(self, statement: str) -> str | None:
        runner = self._connection
        runner.check_generation(self._generation)
        done = runner.run(runner.session.simple_query_flow(statement))
        return done.results[-1].status if done.results else None

    def start(self) -> None:
        """Enter the block: BEGIN, or SAVEPOINT when nested."""
        self._execute(self._start_statement())
        self._started()

    def _end(self, action: str, state: TransactionState) -> None:
        statements = self._end_statements(action)
        status = None
        try:
            for statement in statements:
                status = self._execute(statement)
        except BaseException:
            self._ended(TransactionState.FAILED)
            raise
        try:
            self._ended(self._check_end(action, status, state))
        finally:
            if self._connection.listeners.unsettled:
                self._connection.settle_listeners()

    def commit(self) -> None:
        """End the block: COMMIT, or RELEASE SAVEPOINT when nested.

        :raises pgwire.InFailedSQLTransactionError: an error inside the
            block (caught there) had failed the transaction, so the server
            rolled it back instead: nothing was committed.
        :raises pgwire.InterfaceError: the block is not started, or already
            ended.
        """
        self._end("commit", TransactionState.COMMITTED)

    def rollback(self) -> None:
        """End the block undoing its work: ROLLBACK, or ROLLBACK TO SAVEPOINT
        (then RELEASE SAVEPOINT) when nested.

        :raises pgwire.InterfaceError: the block is not started, or already
            ended.
        """
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
