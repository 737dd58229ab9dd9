"""Running a statement several times and checking every run: the type tests' helpers.

A type test runs each new statement ``RUNS`` times (``unique`` makes it new):
run 1 is its first use (with ``statement_cache_size=0``, the text path), the
later runs use binary both ways.  ``roundtrip`` checks that every run gave
the expected value, strictly (``_key``: the type of every nested value,
Decimal scale, offsets, Record attribute names), and reports all runs.
Failures go through ``pytest.fail(pytrace=False)``: the many expected
failures (xfail) would otherwise format long tracebacks.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from pgwire import Path, Range
from pgwire.types.record import Record

RUNS = 3  # run 1 is the first use (the text path, where taken), runs 2.. binary


def _key(value: Any) -> Any:
    """A strict comparison key: the type of every value, nested values, Decimal scale..."""
    if value is None or isinstance(value, (bool, str, bytes, UUID, dt.timedelta)):
        return (type(value).__name__, value)
    if isinstance(value, int):  # LSN keeps its class
        return (type(value).__name__, int(value))
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    if isinstance(value, (dt.datetime, dt.time)):
        return (type(value).__name__, value.isoformat(), type(value.tzinfo).__name__)
    if isinstance(value, dt.date):
        return ("date", value.isoformat())
    if isinstance(value, list):
        return ("list", [_key(item) for item in value])
    if isinstance(value, dict):
        return ("dict", sorted((name, _key(item)) for name, item in value.items()))
    if isinstance(value, Record):
        return ("Record", [(name, _key(item)) for name, item in value.items()])
    if isinstance(value, tuple):  # Point, Box... keep their class
        return (type(value).__name__, [_key(item) for item in value])
    if isinstance(value, Range):
        if value.isempty:
            return ("Range", "empty")
        return ("Range", _key(value.lower), _key(value.upper), value.lower_inc, value.upper_inc)
    if isinstance(value, Path):
        return (type(value).__name__, value.is_closed, [_key(p) for p in value.points])
    return (type(value).__name__, repr(value))


def _label(run: int) -> str:
    return "run 1 (first use)" if run == 0 else f"run {run + 1} (binary)"


class Raised:
    def __init__(self, exc: Exception) -> None:
        self.exc = exc

    def __repr__(self) -> str:
        return f"<raised {type(self.exc).__name__}: {self.exc}>"


def check_runs(values: Sequence[Any], expected: Any, first: Sequence[Any] = ()) -> None:
    """Every run gave ``expected``; run 1 may also give one of ``first``."""
    wrong = []
    for run, value in enumerate(values):
        allowed = [expected, *first] if run == 0 else [expected]
        if isinstance(value, Raised) or all(_key(value) != _key(a) for a in allowed):
            wrong.append(f"{_label(run)}: got {value!r}")
    if wrong:
        pytest.fail(f"expected {expected!r}; " + "; ".join(wrong), pytrace=False)


_statement_numbers = itertools.count(1)


def unique(sql: str) -> str:
    """``sql`` with a comment no other statement has: its next run is a first run."""
    return f"{sql} /* q{next(_statement_numbers)} */"


async def fetch_runs(conn: Any, sql: str, *args: Any, runs: int = RUNS) -> list[Any]:
    sql = unique(sql)
    results: list[Any] = []
    for _ in range(runs):
        try:
            results.append(await conn.fetchval(sql, *args))
        except Exception as exc:
            results.append(Raised(exc))
    return results


async def roundtrip(conn: Any, sql: str, args: Sequence[Any], expected: Any,
                    first: Sequence[Any] = ()) -> None:
    check_runs(await fetch_runs(conn, sql, *args), expected, first)
