"""Results as the APIs hand them out: records, statuses, and pipeline items.

Nothing here waits: these are the pieces both APIs (and the DB-API module)
share to shape what a flow returned -- the rows of a result as records of
the requested class, a :class:`Result` for :meth:`Connection.query`, the
items a pipeline queues and how their outcomes become values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..exceptions import InterfaceError, PipelineAbortedError
from ..flows.sqltext import first_keyword
from ..protocol.messages import Column
from ..protocol.operations import StatementResult
from ..types.record import Record, recast


def check_record_class(record_class: Any) -> None:
    if record_class is not None and not (
        isinstance(record_class, type) and issubclass(record_class, Record)
    ):
        raise InterfaceError(
            f"record_class is expected to be a subclass of pgwire.Record, got {record_class!r}"
        )


def rows_of(result: StatementResult, record_class: type[Record] | None) -> list[Record]:
    rows = result.rows
    if record_class is not None and rows and type(rows[0]) is not record_class:
        return [recast(r, record_class) for r in rows]
    return rows


class Result:
    """The outcome of one statement: its command status, columns and rows.

    ``rows`` are :class:`~pgwire.Record` objects; ``columns`` describe them
    (name, type OID, size, modifier...), or are None for a statement that
    returns no rows.  ``rowcount`` is the count in the status (``INSERT 0
    5`` -> 5), or None when the status has none (``CREATE TABLE``).
    """

    __slots__ = ("status", "columns", "rows")

    def __init__(self, status: str, columns: tuple[Column, ...] | None,
                 rows: list[Record]) -> None:
        self.status = status
        self.columns = columns
        self.rows = rows

    @classmethod
    def of(cls, result: StatementResult, record_class: type[Record] | None = None) -> Result:
        """The :class:`Result` of a statement's raw outcome, its rows recast
        to ``record_class`` when one is given."""
        columns = tuple(result.columns) if result.columns is not None else None
        return cls(result.status or "", columns, rows_of(result, record_class))

    @property
    def rowcount(self) -> int | None:
        """The row count at the end of the status (``INSERT 0 5`` -> 5), or
        None when it has none (``CREATE TABLE``)."""
        last = self.status.rpartition(" ")[2]
        return int(last) if last.isdigit() else None

    def __repr__(self) -> str:
        return f"<pgwire.Result {self.status!r} rows={len(self.rows)}>"


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
