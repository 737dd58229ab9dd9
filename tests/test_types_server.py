"""Type round trips against a real PostgreSQL 15 server, first use and later runs.

The first execution of a SQL text may take the *text path*: Parse, Describe,
Bind and Execute in one round trip with text-format arguments and results,
decoded by :mod:`pgwire.types.text`.  Later executions use the binary codecs
(:mod:`pgwire.types.binary`, :mod:`pgwire.types.arrays`) both ways.  Every
check here therefore runs a *new* statement :data:`RUNS` times and requires
all runs to give the same Python value, with the same type, scale
(``Decimal('1.50')``) and offset (aware times).  Each test runs on a
connection with the statement cache (named statements) and on one with
``statement_cache_size=0`` (the unnamed statement); the latter always takes
the text path on first use, while the cached mode has varied between the text
path and describing first, so nothing here depends on which it takes.

Sections:

* scalars: parameter -> server -> result (``SELECT $1::<type>``) and server
  literal -> result, for every type with a codec, including the documented
  edge behaviours (infinities as ``date.max``/``datetime.min``..., UTC for
  timestamptz, 30-day months, JSON ``str`` taken as JSON text);
* the server's own text rendering of the values pgwire sent;
* arrays: 1-D to 3-D (and 6-D), NULLs, empty, sent as a list or built from
  scalar parameters, and literals that stress the text array parser (quotes,
  commas, braces, backslashes, ``'NULL'``, spaces, unicode...);
* NULL of every type, types without a codec (``str``, never an exception,
  alone and in arrays), invalid or wrongly typed arguments (a ``DataError``,
  and a connection that still works), values Python cannot hold;
* JSON decoder/encoder replacement per connection, and session settings that
  change the server's text output (TimeZone, DateStyle, IntervalStyle,
  bytea_output, extra_float_digits).

Known bugs are ``xfail(strict=True)`` with ``reason="KNOWN LIMITATION of the text first run (statement_cache_size=0): ..."``; all are on
the text path, so their cases run on the ``statement_cache_size=0``
connection only (see ``in_modes``).
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio
from type_runs import RUNS, Raised, _key, _label, check_runs, fetch_runs, roundtrip, unique

import pgwire
from pgwire import Point, Range
from pgwire.types import UnrepresentableValueError, oids
from pgwire.types import datetimes as text_codecs

UTC = dt.timezone.utc


def tz(hours: int = 0, minutes: int = 0, seconds: int = 0) -> dt.timezone:
    """A fixed offset; the sign of ``hours`` applies to the whole offset."""
    sign = -1 if hours < 0 or (hours == 0 and minutes < 0) else 1
    delta = dt.timedelta(hours=abs(hours), minutes=abs(minutes), seconds=abs(seconds))
    return dt.timezone(sign * delta)


# ---------------------------------------------------------------------------
# known limitations, all on the text path (first use with statement_cache_size=0)

LIMIT_WRONG_KIND_FIRST_RUN = pytest.mark.xfail(
    strict=True,
    reason="KNOWN LIMITATION of the text first run (statement_cache_size=0): on the first run a datetime for date, an aware datetime for timestamp, an "
    "aware time for time or a ZoneInfo time for timetz is sent as text and the server "
    "silently drops or reinterprets the time/offset; binary runs raise DataError as "
    "documented",
)
LIMIT_OID_NEGATIVE_FIRST_RUN = pytest.mark.xfail(
    strict=True,
    reason="KNOWN LIMITATION of the text first run (statement_cache_size=0): on the first run -1 for oid is sent as text and oidin wraps it to "
    "4294967295; binary runs reject it (oid is unsigned) with DataError",
)
LIMIT_WRONG_TYPE_FIRST_USE = pytest.mark.xfail(
    strict=True,
    reason="KNOWN LIMITATION of the text first run (statement_cache_size=0): with statement_cache_size=0 the first use sends every argument as untyped "
    "text, so a Python value of the wrong type ('5' for int4, 5 for text, Decimal for "
    "jsonb...) is accepted by the server once, then refused with DataError by the "
    "binary encoders on every later run of the same statement",
)
LIMIT_NAME_TOO_LONG_FIRST_USE = pytest.mark.xfail(
    strict=True,
    reason="KNOWN LIMITATION of the text first run (statement_cache_size=0): a name argument over 63 bytes is silently truncated on the first use (text: "
    "namein truncates) but refused with NameTooLongError on later runs (binary: "
    "namerecv checks), so the same statement changes behaviour",
)
LIMIT_EXTRA_FLOAT_DIGITS = pytest.mark.xfail(
    strict=True,
    reason="KNOWN LIMITATION of the text first run (statement_cache_size=0): with extra_float_digits <= 0 the server rounds float text output, and the "
    "first (text) run loses precision; pgwire neither pins the setting nor can see "
    "it (not GUC_REPORT)",
)


# ---------------------------------------------------------------------------
# helpers


# Failures are reported with pytest.fail(pytrace=False): the expected
# failures (xfail) are formatted too, and formatting tracebacks through this
# long module costs more than running the whole file.


async def expect_error(exc_type: type[Exception], conn: Any, sql: str, *args: Any) -> None:
    """Each of RUNS runs of ``sql`` (used as given) raises ``exc_type``; the
    connection stays usable after each."""
    for run in range(RUNS):
        try:
            result = await conn.fetchval(sql, *args)
        except exc_type:
            await assert_usable(conn)
            continue
        except Exception as exc:
            pytest.fail(f"{_label(run)}: expected {exc_type.__name__}, got "
                        f"{type(exc).__name__}: {exc}", pytrace=False)
        pytest.fail(f"{_label(run)}: expected {exc_type.__name__}, got {result!r}", pytrace=False)


async def assert_usable(conn: Any) -> None:
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT 1 + 1") == 2
    assert await conn.fetchval(unique("SELECT $1::int4 + 1"), 41) == 42


def placeholders(count: int, cast: str = "", start: int = 1) -> str:
    return ", ".join(f"${i}{cast}" for i in range(start, start + count))


# ---------------------------------------------------------------------------
# connections
# Opening a connection per test would dominate the run time of ~1000 cases,
# so the pure round-trip tests share one connection per mode for the module
# (and one event loop); ``unique`` keeps every statement new, so each still
# sees a first run.  Tests that change session settings or codecs get a fresh
# connection (``fconn`` / ``new_conn``).  Every test runs once per API
# (``api`` fixture, conftest.py): the blocking API has its own connections.

pytestmark = pytest.mark.asyncio(loop_scope="module")

MODES = {"cached": {}, "uncached": {"statement_cache_size": 0}}


async def _connect(api: Any, cluster: Any, **overrides: Any) -> Any:
    return await api.connect(**{**cluster.connect_kwargs(), "ssl": "disable", **overrides})


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_conns() -> AsyncIterator[dict[tuple[str, str], Any]]:
    """(API, mode) -> the module's shared connection, opened on first use."""
    conns: dict[tuple[str, str], Any] = {}
    yield conns
    for conn in conns.values():
        if not conn.is_closed():
            await conn.close()


@pytest_asyncio.fixture(loop_scope="module")
async def rconn(
    request: pytest.FixtureRequest, api: Any, shared_conns: dict[tuple[str, str], Any],
    cluster: Any
) -> AsyncIterator[Any]:
    """The module's connection with cached named statements, or with statement_cache_size=0
    (one of each per API)."""
    key = (api.name, request.param)
    if key not in shared_conns:
        shared_conns[key] = await _connect(api, cluster, **MODES[request.param])
    conn = shared_conns[key]
    yield conn
    # A test that broke its connection must not break the following ones.
    if conn.is_closed() or conn.is_in_transaction():
        conn.terminate()
        del shared_conns[key]


@pytest_asyncio.fixture(loop_scope="module")
async def new_conn(api: Any, cluster: Any) -> AsyncIterator[Any]:
    """A factory of fresh connections, ``await new_conn(**overrides)``; closed at the end."""
    opened: list[Any] = []

    async def factory(**overrides: Any) -> Any:
        conn = await _connect(api, cluster, **overrides)
        opened.append(conn)
        return conn

    yield factory
    for conn in opened:
        if not conn.is_closed():
            conn.terminate()


@pytest_asyncio.fixture(loop_scope="module")
async def fconn(request: pytest.FixtureRequest, new_conn: Any) -> Any:
    """A fresh connection of this test alone, cached or with statement_cache_size=0."""
    return await new_conn(**MODES[request.param])


# Which connections run a new statement through the text path: with
# statement_cache_size=0, always (one round trip on first use); with the
# statement cache, the design has varied (text first run, or describe first),
# so tests accept both there.  Every known bug is a text-path bug: its cases
# run on the "uncached" connection only, where the text path is certain, and
# stay strict xfails whichever way the cached mode goes.
TEXT_PATH_MODES = ("uncached",)


def _is_bug(case: Any) -> bool:
    return any(mark.name == "xfail" for mark in getattr(case, "marks", ()))


def in_modes(cases: Sequence[Any]) -> list[Any]:
    """``cases`` (pytest.param or plain values) once per connection mode, mode first."""
    out = []
    for mode in MODES:
        for case in cases:
            if not hasattr(case, "values"):
                case = pytest.param(case, id=str(case))
            if _is_bug(case) and mode not in TEXT_PATH_MODES:
                continue
            out.append(pytest.param(mode, *case.values, marks=case.marks, id=f"{mode}-{case.id}"))
    return out


def over_modes(argnames: str, cases: Sequence[Any], fixture: str = "rconn") -> Any:
    """parametrize(``fixture`` + ``argnames``) over ``in_modes(cases)``."""
    names = [fixture, *(name.strip() for name in argnames.split(",") if name.strip())]
    return pytest.mark.parametrize(names, in_modes(cases), indirect=[fixture])


def assert_text_path_first_run_only(request: pytest.FixtureRequest, seen: list[str],
                                    first: str) -> None:
    """A spy text parser saw the first run and nothing else (or nothing at all where
    the mode may describe new statements first)."""
    mode = request.node.callspec.params["fconn"]
    allowed = [[first]] if mode in TEXT_PATH_MODES else [[], [first]]
    assert seen in allowed, f"{mode}: the text parser saw {seen}, expected one of {allowed}"
    seen.clear()


BOTH_MODES = pytest.mark.parametrize("rconn", list(MODES), indirect=True)
TEXT_PATH_MODE = pytest.mark.parametrize("rconn", TEXT_PATH_MODES, indirect=True)
FRESH_BOTH_MODES = pytest.mark.parametrize("fconn", list(MODES), indirect=True)
FRESH_TEXT_PATH_MODE = pytest.mark.parametrize("fconn", TEXT_PATH_MODES, indirect=True)


# ---------------------------------------------------------------------------
# scalar values: (SQL type, argument, expected result)

_TEXT_SAMPLE = "it's \"quoted\", {braced}, back\\slash, tab\t, newline\n, é, 😀, NULL"
_MANY_DIGITS = Decimal("-123456789012345678901234567890.123456789012345678901234567890")
_BYTES_ALL = bytes(range(256))

SCALARS: list[Any] = [
    # bool
    pytest.param("bool", True, True, id="bool-true"),
    pytest.param("bool", False, False, id="bool-false"),
    # integers
    pytest.param("int2", 0, 0, id="int2-zero"),
    pytest.param("int2", -32768, -32768, id="int2-min"),
    pytest.param("int2", 32767, 32767, id="int2-max"),
    pytest.param("int4", 42, 42, id="int4"),
    pytest.param("int4", -(2**31), -(2**31), id="int4-min"),
    pytest.param("int4", 2**31 - 1, 2**31 - 1, id="int4-max"),
    pytest.param("int8", -(2**63), -(2**63), id="int8-min"),
    pytest.param("int8", 2**63 - 1, 2**63 - 1, id="int8-max"),
    pytest.param("oid", 0, 0, id="oid-zero"),
    pytest.param("oid", 2**32 - 1, 2**32 - 1, id="oid-max"),
    # float4: binary decodes the exact float32 value
    pytest.param("float4", 1.5, 1.5, id="float4-exact"),
    pytest.param("float4", -0.0, -0.0, id="float4-negzero"),
    pytest.param("float4", 16777216.0, 16777216.0, id="float4-2^24"),
    pytest.param("float4", float("inf"), float("inf"), id="float4-inf"),
    pytest.param("float4", float("-inf"), float("-inf"), id="float4-neginf"),
    pytest.param("float4", float("nan"), float("nan"), id="float4-nan"),
    pytest.param("float4", 3, 3.0, id="float4-int"),
    pytest.param("float4", 0.1, 0.10000000149011612, id="float4-0.1"),
    pytest.param("float4", 3.4e38, 3.3999999521443642e38, id="float4-big"),
    # float8
    pytest.param("float8", 0.1, 0.1, id="float8-0.1"),
    pytest.param("float8", 0.1 + 0.2, 0.30000000000000004, id="float8-0.3"),
    pytest.param("float8", 5e-324, 5e-324, id="float8-denormal"),
    pytest.param("float8", 1.7976931348623157e308, 1.7976931348623157e308, id="float8-max"),
    pytest.param("float8", -0.0, -0.0, id="float8-negzero"),
    pytest.param("float8", float("nan"), float("nan"), id="float8-nan"),
    pytest.param("float8", float("inf"), float("inf"), id="float8-inf"),
    pytest.param("float8", float("-inf"), float("-inf"), id="float8-neginf"),
    pytest.param("float8", 1, 1.0, id="float8-int"),
    # numeric
    pytest.param("numeric", Decimal("0"), Decimal("0"), id="numeric-zero"),
    pytest.param("numeric", Decimal("1.50"), Decimal("1.50"), id="numeric-scale"),
    pytest.param("numeric", Decimal("-1.50"), Decimal("-1.50"), id="numeric-negative"),
    pytest.param("numeric", Decimal("0.00"), Decimal("0.00"), id="numeric-zero-scale"),
    pytest.param("numeric", Decimal("-0.0"), Decimal("0.0"), id="numeric-negzero"),
    pytest.param("numeric", Decimal("NaN"), Decimal("NaN"), id="numeric-nan"),
    pytest.param("numeric", Decimal("Infinity"), Decimal("Infinity"), id="numeric-inf"),
    pytest.param("numeric", Decimal("-Infinity"), Decimal("-Infinity"), id="numeric-neginf"),
    pytest.param("numeric", _MANY_DIGITS, _MANY_DIGITS, id="numeric-many-digits"),
    pytest.param("numeric", Decimal("12345.6789"), Decimal("12345.6789"), id="numeric-groups"),
    pytest.param("numeric", Decimal("-9999.99990"), Decimal("-9999.99990"), id="numeric-9s"),
    pytest.param("numeric", Decimal("0.0001"), Decimal("0.0001"), id="numeric-small"),
    pytest.param("numeric", Decimal("10000"), Decimal("10000"), id="numeric-10000"),
    pytest.param("numeric", Decimal("123456789.000000001"), Decimal("123456789.000000001"),
                 id="numeric-inner-zeros"),
    pytest.param("numeric", Decimal("1E+30"), Decimal("1" + "0" * 30), id="numeric-1e30"),
    pytest.param("numeric", Decimal("1E-30"), Decimal("1E-30"), id="numeric-1e-30"),
    pytest.param("numeric", Decimal("1.23E-5"), Decimal("0.0000123"), id="numeric-1.23e-5"),
    pytest.param("numeric", Decimal("-1E+1000"), Decimal("-1" + "0" * 1000), id="numeric-huge"),
    pytest.param("numeric", Decimal("1E-1000"), Decimal("1E-1000"), id="numeric-tiny"),
    pytest.param("numeric", Decimal("1E-16383"), Decimal("1E-16383"), id="numeric-max-scale"),
    pytest.param("numeric", 5, Decimal("5"), id="numeric-int"),
    pytest.param("numeric", 0.1, Decimal("0.1"), id="numeric-float"),
    pytest.param("numeric", 2**70, Decimal(2**70), id="numeric-bigint"),
    # character types
    pytest.param("text", "", "", id="text-empty"),
    pytest.param("text", _TEXT_SAMPLE, _TEXT_SAMPLE, id="text-special"),
    pytest.param("text", "x" * 10000, "x" * 10000, id="text-long"),
    pytest.param("varchar", "é😀 'v'", "é😀 'v'", id="varchar"),
    pytest.param("varchar(3)", "abcdef", "abc", id="varchar-truncated"),
    pytest.param("char(5)", "ab", "ab   ", id="char5-padded"),
    pytest.param("char(5)", "é", "é    ", id="char5-unicode"),
    pytest.param("bpchar", "ab ", "ab ", id="bpchar-trailing-space"),
    pytest.param("name", "pg_class", "pg_class", id="name"),
    pytest.param("name", "n" * 63, "n" * 63, id="name-63"),
    pytest.param("name", "naïve ☃", "naïve ☃", id="name-unicode"),
    pytest.param('"char"', "a", "a", id="char-a"),
    pytest.param('"char"', "", "", id="char-empty"),
    pytest.param('"char"', "\\", "\\", id="char-backslash"),
    pytest.param('"char"', '"', '"', id="char-quote"),
    pytest.param('"char"', " ", " ", id="char-space"),
    pytest.param('"char"', "\x7f", "\x7f", id="char-del"),
    pytest.param('"char"', "é", "é", id="char-latin1"),
    # bytea
    pytest.param("bytea", b"", b"", id="bytea-empty"),
    pytest.param("bytea", _BYTES_ALL, _BYTES_ALL, id="bytea-all-bytes"),
    pytest.param("bytea", b"\\x00", b"\\x00", id="bytea-hex-lookalike"),
    pytest.param("bytea", bytearray(b"\x00\xff"), b"\x00\xff", id="bytea-bytearray"),
    pytest.param("bytea", memoryview(b"\x01\\\x02"), b"\x01\\\x02", id="bytea-memoryview"),
    # date
    pytest.param("date", dt.date(2020, 2, 29), dt.date(2020, 2, 29), id="date-leap"),
    pytest.param("date", dt.date(1, 1, 1), dt.date(1, 1, 1), id="date-0001-01-01"),
    pytest.param("date", dt.date(1, 1, 2), dt.date(1, 1, 2), id="date-0001-01-02"),
    pytest.param("date", dt.date(999, 12, 31), dt.date(999, 12, 31), id="date-3-digit-year"),
    pytest.param("date", dt.date(9999, 12, 30), dt.date(9999, 12, 30), id="date-9999-12-30"),
    pytest.param("date", dt.date(9999, 12, 31), dt.date(9999, 12, 31), id="date-9999-12-31"),
    pytest.param("date", dt.date.max, dt.date.max, id="date-max-infinity"),
    pytest.param("date", dt.date.min, dt.date.min, id="date-min-infinity"),
    # time / timetz
    pytest.param("time", dt.time(0, 0), dt.time(0, 0), id="time-midnight"),
    pytest.param("time", dt.time(23, 59, 59, 999999), dt.time(23, 59, 59, 999999), id="time-max"),
    pytest.param("time", dt.time(12, 34, 56, 1), dt.time(12, 34, 56, 1), id="time-us"),
    pytest.param("timetz", dt.time(12, tzinfo=UTC), dt.time(12, tzinfo=UTC), id="timetz-utc"),
    pytest.param("timetz", dt.time(12, tzinfo=tz(-5)), dt.time(12, tzinfo=tz(-5)), id="timetz-minus5"),
    pytest.param("timetz", dt.time(1, 2, 3, 4, tzinfo=tz(5, 30)),
                 dt.time(1, 2, 3, 4, tzinfo=tz(5, 30)), id="timetz-plus0530"),
    pytest.param("timetz", dt.time(12, tzinfo=tz(-3, 30)), dt.time(12, tzinfo=tz(-3, 30)),
                 id="timetz-minus0330"),
    pytest.param("timetz", dt.time(12, tzinfo=tz(-9, 30)), dt.time(12, tzinfo=tz(-9, 30)),
                 id="timetz-minus0930"),
    pytest.param("timetz", dt.time(12, tzinfo=tz(5, 45, 15)), dt.time(12, tzinfo=tz(5, 45, 15)),
                 id="timetz-seconds-offset"),
    pytest.param("timetz", dt.time(0, tzinfo=tz(14)), dt.time(0, tzinfo=tz(14)), id="timetz-plus14"),
    pytest.param("timetz", dt.time(23, 59, 59, 999999, tzinfo=tz(-15, 59)),
                 dt.time(23, 59, 59, 999999, tzinfo=tz(-15, 59)), id="timetz-minus1559"),
    pytest.param("timetz", dt.time(12), dt.time(12, tzinfo=UTC), id="timetz-naive-is-utc"),
    # timestamp
    pytest.param("timestamp", dt.datetime(2020, 6, 1, 12, 30, 15, 123456),
                 dt.datetime(2020, 6, 1, 12, 30, 15, 123456), id="timestamp"),
    pytest.param("timestamp", dt.datetime(1, 1, 1, 0, 0, 0, 1), dt.datetime(1, 1, 1, 0, 0, 0, 1),
                 id="timestamp-year1"),
    pytest.param("timestamp", dt.datetime(9999, 12, 31, 23, 59, 59),
                 dt.datetime(9999, 12, 31, 23, 59, 59), id="timestamp-year9999"),
    pytest.param("timestamp", dt.datetime.max, dt.datetime.max, id="timestamp-max-infinity"),
    pytest.param("timestamp", dt.datetime.min, dt.datetime.min, id="timestamp-min-infinity"),
    # timestamptz: aware values come back as the same instant in UTC
    pytest.param("timestamptz", dt.datetime(2020, 1, 1, 12, tzinfo=UTC),
                 dt.datetime(2020, 1, 1, 12, tzinfo=UTC), id="timestamptz-utc"),
    pytest.param("timestamptz", dt.datetime(2020, 1, 1, 12, 0, 0, 654321, tzinfo=tz(5, 30)),
                 dt.datetime(2020, 1, 1, 6, 30, 0, 654321, tzinfo=UTC), id="timestamptz-plus0530"),
    pytest.param("timestamptz", dt.datetime(2020, 1, 1, 20, tzinfo=tz(-8)),
                 dt.datetime(2020, 1, 2, 4, tzinfo=UTC), id="timestamptz-minus8-next-day"),
    pytest.param("timestamptz", dt.datetime(2021, 7, 14, 12, tzinfo=ZoneInfo("Europe/Paris")),
                 dt.datetime(2021, 7, 14, 10, tzinfo=UTC), id="timestamptz-zoneinfo"),
    pytest.param("timestamptz", dt.datetime(2020, 1, 1, 12, 0, 0, 1),
                 dt.datetime(2020, 1, 1, 12, 0, 0, 1, tzinfo=UTC), id="timestamptz-naive-is-utc"),
    pytest.param("timestamptz", dt.datetime(1, 1, 1, 1, tzinfo=UTC), dt.datetime(1, 1, 1, 1, tzinfo=UTC),
                 id="timestamptz-year1"),
    pytest.param("timestamptz", dt.datetime.max.replace(tzinfo=UTC), dt.datetime.max.replace(tzinfo=UTC),
                 id="timestamptz-max-infinity"),
    pytest.param("timestamptz", dt.datetime.min.replace(tzinfo=UTC), dt.datetime.min.replace(tzinfo=UTC),
                 id="timestamptz-min-infinity"),
    # interval (encoding never sends months)
    pytest.param("interval", dt.timedelta(0), dt.timedelta(0), id="interval-zero"),
    pytest.param("interval", dt.timedelta(microseconds=1), dt.timedelta(microseconds=1), id="interval-1us"),
    pytest.param("interval", dt.timedelta(microseconds=-1), dt.timedelta(microseconds=-1),
                 id="interval-minus-1us"),
    pytest.param("interval", dt.timedelta(days=3, microseconds=7), dt.timedelta(days=3, microseconds=7),
                 id="interval-days-us"),
    pytest.param("interval", dt.timedelta(days=-3, seconds=5), dt.timedelta(days=-3, seconds=5),
                 id="interval-negative-mixed"),
    pytest.param("interval", dt.timedelta(days=40), dt.timedelta(days=40), id="interval-40-days"),
    pytest.param("interval", dt.timedelta(hours=100), dt.timedelta(hours=100), id="interval-100h"),
    pytest.param("interval", dt.timedelta(days=999999999), dt.timedelta(days=999999999),
                 id="interval-huge"),
    pytest.param("interval", dt.timedelta(days=-999999999), dt.timedelta(days=-999999999),
                 id="interval-huge-negative"),
    # uuid
    pytest.param("uuid", UUID(int=0), UUID(int=0), id="uuid-nil"),
    pytest.param("uuid", UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
                 UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), id="uuid"),
    pytest.param("uuid", "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", UUID(int=2**128 - 1), id="uuid-str"),
    # json / jsonb: a str is JSON text, anything else goes through json.dumps
    pytest.param("json", '{"b": [1, 2.5, null, true], "a": {"x": "é😀"}}',
                 {"b": [1, 2.5, None, True], "a": {"x": "é😀"}}, id="json-text"),
    pytest.param("jsonb", '{"b": [1, 2.5, null, true], "a": {"x": "é😀"}}',
                 {"a": {"x": "é😀"}, "b": [1, 2.5, None, True]}, id="jsonb-text"),
    pytest.param("json", {"nested": {"list": [1, {"deep": [None, "\\\"'"]}]}, "n": -1.5e300},
                 {"nested": {"list": [1, {"deep": [None, "\\\"'"]}]}, "n": -1.5e300}, id="json-dict"),
    # jsonb stores numbers as numeric and prints them in full: -1.5e300 comes back an int
    pytest.param("jsonb", {"nested": {"list": [1, {"deep": [None, "\\\"'"]}]}, "n": -1.5e300},
                 {"nested": {"list": [1, {"deep": [None, "\\\"'"]}]}, "n": -15 * 10**299},
                 id="jsonb-dict"),
    pytest.param("jsonb", [1, "two", {"3": 3}], [1, "two", {"3": 3}], id="jsonb-list"),
    pytest.param("jsonb", '"hello"', "hello", id="jsonb-string"),
    pytest.param("json", '"\\u00e9\\ud83d\\ude00"', "é😀", id="json-escaped-unicode"),
    pytest.param("jsonb", "123456789012345678901234567890", 123456789012345678901234567890,
                 id="jsonb-bigint"),
    pytest.param("jsonb", "1.0e2", 100, id="jsonb-exponent"),  # numeric 100
    pytest.param("json", "null", None, id="json-null-literal"),
    pytest.param("jsonb", 42, 42, id="jsonb-int"),
    pytest.param("jsonb", 1.5, 1.5, id="jsonb-float"),
    pytest.param("jsonb", True, True, id="jsonb-true"),
    pytest.param("json", False, False, id="json-false"),
]


@over_modes("sqltype, value, expected", SCALARS)
async def test_param_roundtrip(rconn: Any, sqltype: str, value: Any, expected: Any) -> None:
    await roundtrip(rconn, f"SELECT $1::{sqltype}", [value], expected)


# ---------------------------------------------------------------------------
# server literals -> Python values (first use: the text parsers, where taken)

LITERALS: list[Any] = [
    pytest.param("'t'::bool", True, id="bool"),
    pytest.param("'-32768'::int2", -32768, id="int2"),
    pytest.param("(-2147483648)::int4", -(2**31), id="int4"),
    pytest.param("'9223372036854775807'::int8", 2**63 - 1, id="int8"),
    pytest.param("'pg_class'::regclass::oid", 1259, id="oid"),
    pytest.param("'4294967295'::oid", 2**32 - 1, id="oid-max"),
    pytest.param("'1.5'::float4", 1.5, id="float4"),
    pytest.param("'0.1'::float4", 0.10000000149011612, id="float4-0.1"),
    pytest.param("'1e-45'::float4", 1.401298464324817e-45, id="float4-denormal"),
    pytest.param("'NaN'::float4", float("nan"), id="float4-nan"),
    pytest.param("'0.1'::float8 + '0.2'::float8", 0.30000000000000004, id="float8-sum"),
    pytest.param("'-Infinity'::float8", float("-inf"), id="float8-neginf"),
    pytest.param("'1e-310'::float8", 1e-310, id="float8-denormal"),
    pytest.param("'1.50'::numeric", Decimal("1.50"), id="numeric-scale"),
    pytest.param("'-0.000'::numeric", Decimal("0.000"), id="numeric-negzero"),
    pytest.param("'NaN'::numeric", Decimal("NaN"), id="numeric-nan"),
    pytest.param("'Infinity'::numeric", Decimal("Infinity"), id="numeric-inf"),
    pytest.param("'-Infinity'::numeric", Decimal("-Infinity"), id="numeric-neginf"),
    pytest.param("'1e-30'::numeric", Decimal("1E-30"), id="numeric-1e-30"),
    pytest.param("'-1e30'::numeric", Decimal("-1" + "0" * 30), id="numeric-1e30"),
    pytest.param("1::numeric / 3", Decimal("0.33333333333333333333"), id="numeric-division"),
    pytest.param("(2::numeric ^ 200)::numeric(80, 2)", Decimal(f"{2**200}.00"), id="numeric-power"),
    pytest.param("'12345678901234567890.0987654321'::numeric(40, 12)",
                 Decimal("12345678901234567890.098765432100"), id="numeric-typmod"),
    pytest.param("'it''s \"q\" \\ é'::text", "it's \"q\" \\ é", id="text"),
    pytest.param("E'tab\\there\\nnl'::varchar", "tab\there\nnl", id="varchar-escapes"),
    pytest.param("'ab'::char(5)", "ab   ", id="char5"),
    pytest.param("'pg_catalog'::name", "pg_catalog", id="name"),
    pytest.param("'x'::\"char\"", "x", id="char"),
    pytest.param("''::\"char\"", "", id="char-empty"),
    pytest.param("'\\351'::\"char\"", "é", id="char-octal"),
    pytest.param("'\\x00ff5c'::bytea", b"\x00\xff\\", id="bytea-hex"),
    pytest.param("'a\\\\b\\000'::bytea", b"a\\b\x00", id="bytea-escape-input"),
    pytest.param("(SELECT string_agg(set_byte('\\x00'::bytea, 0, i), '' ORDER BY i)"
                 " FROM generate_series(0, 255) i)", _BYTES_ALL, id="bytea-all-bytes"),
    pytest.param("'2020-02-29'::date", dt.date(2020, 2, 29), id="date"),
    pytest.param("'0001-01-01'::date", dt.date(1, 1, 1), id="date-0001-01-01"),
    pytest.param("'9999-12-31'::date", dt.date(9999, 12, 31), id="date-9999-12-31"),
    pytest.param("'infinity'::date", dt.date.max, id="date-infinity"),
    pytest.param("'-infinity'::date", dt.date.min, id="date-neg-infinity"),
    pytest.param("'00:00:00.5'::time", dt.time(0, 0, 0, 500000), id="time-fraction"),
    pytest.param("'23:59:59.999999'::time", dt.time(23, 59, 59, 999999), id="time-max"),
    pytest.param("'12:00:00-05:30'::timetz", dt.time(12, tzinfo=tz(-5, 30)), id="timetz-minus0530"),
    pytest.param("'12:00:00+05:45:15'::timetz", dt.time(12, tzinfo=tz(5, 45, 15)), id="timetz-seconds"),
    pytest.param("'00:00:00+14'::timetz", dt.time(0, tzinfo=tz(14)), id="timetz-plus14"),
    pytest.param("'23:59:59.999999-15:59'::timetz", dt.time(23, 59, 59, 999999, tzinfo=tz(-15, 59)),
                 id="timetz-minus1559"),
    pytest.param("'2020-01-01 00:00:00.000001'::timestamp", dt.datetime(2020, 1, 1, 0, 0, 0, 1),
                 id="timestamp-us"),
    pytest.param("'0001-01-01 00:00:00'::timestamp", dt.datetime(1, 1, 1), id="timestamp-year1"),
    pytest.param("'infinity'::timestamp", dt.datetime.max, id="timestamp-infinity"),
    pytest.param("'-infinity'::timestamp", dt.datetime.min, id="timestamp-neg-infinity"),
    pytest.param("'2020-06-01 12:00:00+05:30'::timestamptz", dt.datetime(2020, 6, 1, 6, 30, tzinfo=UTC),
                 id="timestamptz-offset"),
    pytest.param("'2000-01-01 00:00:00.123456-08'::timestamptz",
                 dt.datetime(2000, 1, 1, 8, 0, 0, 123456, tzinfo=UTC), id="timestamptz-us"),
    pytest.param("'infinity'::timestamptz", dt.datetime.max.replace(tzinfo=UTC), id="timestamptz-infinity"),
    pytest.param("'-infinity'::timestamptz", dt.datetime.min.replace(tzinfo=UTC),
                 id="timestamptz-neg-infinity"),
    pytest.param("'1 mon'::interval", dt.timedelta(days=30), id="interval-month-30-days"),
    pytest.param("'1 year'::interval", dt.timedelta(days=360), id="interval-year-360-days"),
    pytest.param("'1 year 2 mons -3 days 04:05:06.5'::interval",
                 dt.timedelta(days=360 + 60 - 3, hours=4, minutes=5, seconds=6.5), id="interval-mixed"),
    pytest.param("'-1 year -2 mons +3 days -04:05:06'::interval",
                 dt.timedelta(days=-420 + 3, hours=-4, minutes=-5, seconds=-6), id="interval-negative"),
    pytest.param("'-00:00:00.000001'::interval", dt.timedelta(microseconds=-1), id="interval-minus-1us"),
    pytest.param("'1 day -1 second'::interval", dt.timedelta(days=1, seconds=-1), id="interval-day-minus-sec"),
    pytest.param("'100:00:00'::interval", dt.timedelta(hours=100), id="interval-100h"),
    pytest.param("'1.5 months'::interval", dt.timedelta(days=45), id="interval-1.5-months"),
    pytest.param("'-1 mon 1 day'::interval", dt.timedelta(days=-29), id="interval-minus-month-plus-day"),
    pytest.param("'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid",
                 UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), id="uuid"),
    pytest.param("'{\"b\": [1, 2.5, null, true], \"a\": {\"x\": \"é😀\"}}'::jsonb",
                 {"a": {"x": "é😀"}, "b": [1, 2.5, None, True]}, id="jsonb"),
    pytest.param("'{\"k\": 1, \"k\": 2}'::json", {"k": 2}, id="json-duplicate-keys"),
    pytest.param("'[]'::json", [], id="json-empty-array"),
    pytest.param("'\"str\"'::jsonb", "str", id="jsonb-string"),
    pytest.param("'null'::jsonb", None, id="jsonb-null"),
    pytest.param("'123456789012345678901234567890'::jsonb", 123456789012345678901234567890,
                 id="jsonb-bigint"),
    pytest.param("'1.0e2'::json", 100.0, id="json-exponent"),
    pytest.param("json_build_object('a', 1, 'b', ARRAY[1, 2])", {"a": 1, "b": [1, 2]}, id="json-built"),
]


@over_modes("literal, expected", LITERALS)
async def test_literal(rconn: Any, literal: str, expected: Any) -> None:
    await roundtrip(rconn, f"SELECT {literal}", [], expected)


@BOTH_MODES
async def test_all_types_in_one_row(rconn: Any) -> None:
    """Many columns of different types in one row decode column by column."""
    sql = (
        "SELECT 1::int2 AS a, 2::int4 AS b, 3::int8 AS c, 1.5::float4 AS d, 2.5::float8 AS e,"
        " 1.50::numeric AS f, 'x'::text AS g, true AS h, '\\x01'::bytea AS i,"
        " '2020-01-02'::date AS j, '03:04:05'::time AS k, '2020-01-02 03:04:05'::timestamp AS l,"
        " '2020-01-02 03:04:05+01'::timestamptz AS m, '1 day'::interval AS n,"
        " '{\"a\": 1}'::jsonb AS o, NULL::int4 AS p, '(1,2)'::point AS q, ARRAY[1, NULL] AS r"
    )
    expected = [1, 2, 3, 1.5, 2.5, Decimal("1.50"), "x", True, b"\x01", dt.date(2020, 1, 2),
                dt.time(3, 4, 5), dt.datetime(2020, 1, 2, 3, 4, 5),
                dt.datetime(2020, 1, 2, 2, 4, 5, tzinfo=UTC), dt.timedelta(days=1), {"a": 1}, None,
                Point(1, 2), [1, None]]
    sql = unique(sql)
    for run in range(RUNS):
        row = await rconn.fetchrow(sql)
        assert _key(list(row.values())) == _key(expected), _label(run)


# ---------------------------------------------------------------------------
# the server's text rendering of what pgwire sent

SERVER_TEXT: list[Any] = [
    pytest.param("bool", True, "true", id="bool"),
    pytest.param("int8", -(2**63), "-9223372036854775808", id="int8"),
    pytest.param("float4", 1.5, "1.5", id="float4"),
    pytest.param("float4", 0.1, "0.1", id="float4-0.1"),
    pytest.param("float8", 0.1, "0.1", id="float8-0.1"),
    pytest.param("float8", float("-inf"), "-Infinity", id="float8-neginf"),
    pytest.param("numeric", Decimal("1.50"), "1.50", id="numeric-scale"),
    pytest.param("numeric", Decimal("-0.0"), "0.0", id="numeric-negzero"),
    pytest.param("numeric", Decimal("1E+5"), "100000", id="numeric-exponent"),
    pytest.param("numeric", Decimal("1.23E-5"), "0.0000123", id="numeric-small"),
    pytest.param("numeric", Decimal("NaN"), "NaN", id="numeric-nan"),
    pytest.param("numeric", Decimal("-Infinity"), "-Infinity", id="numeric-neginf"),
    pytest.param("numeric", 0.1, "0.1", id="numeric-from-float"),
    pytest.param("bytea", b"\x00\xff\\", "\\x00ff5c", id="bytea"),
    pytest.param('"char"', "\\", "\\", id="char-backslash"),
    pytest.param("date", dt.date(2020, 1, 2), "2020-01-02", id="date"),
    pytest.param("date", dt.date.max, "infinity", id="date-max"),
    pytest.param("date", dt.date.min, "-infinity", id="date-min"),
    pytest.param("timestamp", dt.datetime.min, "-infinity", id="timestamp-min"),
    pytest.param("timestamp", dt.datetime(2020, 1, 2, 3, 4, 5, 60), "2020-01-02 03:04:05.00006",
                 id="timestamp"),
    pytest.param("timestamptz", dt.datetime(2020, 1, 1, 12, tzinfo=tz(5, 30)), "2020-01-01 06:30:00+00",
                 id="timestamptz"),
    pytest.param("timestamptz", dt.datetime.max.replace(tzinfo=tz(3)), "infinity",
                 id="timestamptz-max-any-zone"),
    pytest.param("time", dt.time(1, 2, 3, 400000), "01:02:03.4", id="time"),
    pytest.param("timetz", dt.time(12, tzinfo=tz(-5, 30)), "12:00:00-05:30", id="timetz"),
    pytest.param("timetz", dt.time(12, tzinfo=tz(5, 45, 15)), "12:00:00+05:45:15", id="timetz-seconds"),
    pytest.param("interval", dt.timedelta(seconds=-1), "-00:00:01", id="interval-minus-1s"),
    pytest.param("interval", dt.timedelta(days=-1, seconds=1), "-23:59:59", id="interval-sign-whole"),
    pytest.param("interval", dt.timedelta(days=1, microseconds=5), "1 day 00:00:00.000005", id="interval"),
    pytest.param("interval", dt.timedelta(days=45), "45 days", id="interval-no-months"),
    pytest.param("uuid", UUID(int=1), "00000000-0000-0000-0000-000000000001", id="uuid"),
    pytest.param("jsonb", {"b": [1, 2], "a": "é"}, '{"a": "é", "b": [1, 2]}', id="jsonb"),
    pytest.param("json", '{"b" : 1}', '{"b" : 1}', id="json-kept-verbatim"),
    pytest.param("text", "é😀", "é😀", id="text"),
]


@over_modes("sqltype, value, expected", SERVER_TEXT)
async def test_server_text_rendering(rconn: Any, sqltype: str, value: Any, expected: str) -> None:
    await roundtrip(rconn, f"SELECT $1::{sqltype}::text", [value], expected)


# ---------------------------------------------------------------------------
# arrays
# Per element type: values (argument, expected) used in 1-D/2-D/3-D arrays.

_WEIRD_TEXT = ['a"b', "c,d", "{e}", "f\\g", "NULL", "null", " sp ", "", "é😀", "  ", "x y",
               "\t", "'q'", "a\nb", "\\\"", "}{", "[0:1]="]

ARRAY_SAMPLES: dict[str, list[tuple[Any, Any]]] = {
    "bool": [(True, True), (False, False)],
    "int2": [(-32768, -32768), (7, 7)],
    "int4": [(2**31 - 1, 2**31 - 1), (-5, -5)],
    "int8": [(-(2**63), -(2**63)), (0, 0)],
    "oid": [(2**32 - 1, 2**32 - 1), (1, 1)],
    "float4": [(1.5, 1.5), (float("-inf"), float("-inf"))],
    "float8": [(0.1, 0.1), (float("nan"), float("nan"))],
    "numeric": [(Decimal("1.50"), Decimal("1.50")), (Decimal("NaN"), Decimal("NaN")),
                (Decimal("-Infinity"), Decimal("-Infinity")), (Decimal("1E-20"), Decimal("1E-20"))],
    "text": [(s, s) for s in _WEIRD_TEXT],
    "varchar": [('v"1', 'v"1'), ("NULL", "NULL")],
    "char(3)": [("a", "a  "), ("b,", "b, ")],
    "name": [("a b", "a b"), ("{n}", "{n}")],
    '"char"': [("a", "a"), ("\\", "\\"), ('"', '"'), (",", ","), ("{", "{"), ("", "")],
    "bytea": [(b"", b""), (_BYTES_ALL, _BYTES_ALL), (b'\x00"\\,{}', b'\x00"\\,{}')],
    "date": [(dt.date(2020, 1, 2), dt.date(2020, 1, 2)), (dt.date.max, dt.date.max),
             (dt.date.min, dt.date.min)],
    "time": [(dt.time(1, 2, 3, 4), dt.time(1, 2, 3, 4)), (dt.time(0), dt.time(0))],
    "timetz": [(dt.time(1, 2, tzinfo=tz(-9, 30)), dt.time(1, 2, tzinfo=tz(-9, 30))),
               (dt.time(2, tzinfo=UTC), dt.time(2, tzinfo=UTC))],
    "timestamp": [(dt.datetime(2020, 1, 2, 3, 4, 5, 6), dt.datetime(2020, 1, 2, 3, 4, 5, 6)),
                  (dt.datetime.max, dt.datetime.max)],
    "timestamptz": [(dt.datetime(2020, 1, 1, tzinfo=tz(3)), dt.datetime(2019, 12, 31, 21, tzinfo=UTC)),
                    (dt.datetime.min.replace(tzinfo=UTC), dt.datetime.min.replace(tzinfo=UTC))],
    "interval": [(dt.timedelta(days=-1, microseconds=1), dt.timedelta(days=-1, microseconds=1)),
                 (dt.timedelta(days=65), dt.timedelta(days=65))],
    "uuid": [(UUID(int=5), UUID(int=5)), (str(UUID(int=6)), UUID(int=6))],
    "json": [('{"a": "b,c}", "q": "x\\"y"}', {"a": "b,c}", "q": 'x"y'}), ('"NULL"', "NULL"),
             ("[1, 2]", [1, 2])],
    "jsonb": [('{"a": "b,c}", "q": "x\\"y"}', {"a": "b,c}", "q": 'x"y'}), ('"NULL"', "NULL"),
              ("[1, 2]", [1, 2])],
}
ARRAY_TYPES = list(ARRAY_SAMPLES)


def _flat(sqltype: str) -> tuple[list[Any], list[Any]]:
    """Arguments and expected values: the samples with a NULL in second place."""
    samples = ARRAY_SAMPLES[sqltype]
    args = [samples[0][0], None, *(arg for arg, _ in samples[1:])]
    expected = [samples[0][1], None, *(exp for _, exp in samples[1:])]
    return args, expected


def _four(sqltype: str) -> tuple[list[Any], list[Any]]:
    """Four arguments (one NULL) for 2-D and 3-D arrays, and their expected values."""
    args, expected = _flat(sqltype)
    picks = [0, 1, 2 if len(args) > 2 else 0, len(args) - 1]
    return [args[i] for i in picks], [expected[i] for i in picks]


@over_modes("sqltype", ARRAY_TYPES)
async def test_array_param_1d(rconn: Any, sqltype: str) -> None:
    args, expected = _flat(sqltype)
    await roundtrip(rconn, f"SELECT $1::{sqltype}[]", [args], expected)


# A list in a json[]/jsonb[] parameter is a JSON value, never a dimension
# (test_json_array_items_are_json_values).
JSON_TYPES = ("json", "jsonb")


@over_modes("sqltype", [t for t in ARRAY_TYPES if t not in JSON_TYPES])
async def test_array_param_2d_3d(rconn: Any, sqltype: str) -> None:
    (a, b, c, d), (ea, eb, ec, ed) = _four(sqltype)
    await roundtrip(rconn, f"SELECT $1::{sqltype}[]", [[[a, b], [c, d]]], [[ea, eb], [ec, ed]])
    await roundtrip(rconn, f"SELECT $1::{sqltype}[][]", [((a, b), (c, d), (d, a))],
                    [[ea, eb], [ec, ed], [ed, ea]])
    cube = [[[a, b], [c, d]], [[d, c], [b, a]]]
    expected = [[[ea, eb], [ec, ed]], [[ed, ec], [eb, ea]]]
    await roundtrip(rconn, f"SELECT $1::{sqltype}[] AS cube", [cube], expected)


@over_modes("sqltype", ARRAY_TYPES)
async def test_array_from_scalar_params(rconn: Any, sqltype: str) -> None:
    """ARRAY[$1, $2...]: scalar arguments, so the first use may decode an array in text."""
    args, expected = _flat(sqltype)
    await roundtrip(rconn, f"SELECT ARRAY[{placeholders(len(args), f'::{sqltype}')}]", args, expected)
    (a, b, c, d), (ea, eb, ec, ed) = _four(sqltype)
    cast = f"::{sqltype}"
    await roundtrip(rconn, f"SELECT ARRAY[[$1{cast}, $2{cast}], [$3{cast}, $4{cast}]]",
                    [a, b, c, d], [[ea, eb], [ec, ed]])
    await roundtrip(
        rconn,
        f"SELECT ARRAY[[[$1{cast}], [$2{cast}]], [[$3{cast}], [$4{cast}]]]",
        [a, b, c, d],
        [[[ea], [eb]], [[ec], [ed]]],
    )


@over_modes("sqltype", ARRAY_TYPES)
async def test_array_empty(rconn: Any, sqltype: str) -> None:
    await roundtrip(rconn, f"SELECT $1::{sqltype}[]", [[]], [])
    # for json, [] is an empty JSON array: two of them
    await roundtrip(rconn, f"SELECT $1::{sqltype}[] AS nested", [[[], []]],
                    [[], []] if sqltype in JSON_TYPES else [])
    await roundtrip(rconn, f"SELECT ARRAY[]::{sqltype}[]", [], [])
    await roundtrip(rconn, f"SELECT '{{}}'::{sqltype}[]", [], [])
    await roundtrip(rconn, f"SELECT ARRAY[NULL]::{sqltype}[]", [], [None])


@over_modes("sqltype", JSON_TYPES)
async def test_json_array_items_are_json_values(rconn: Any, sqltype: str) -> None:
    """What a json[]/jsonb[] holds comes back as it was, and goes back unchanged."""
    values = [[1, 2], {"a": [1, {"b": None}]}, None, [], 3, [[1], [2, 3]]]
    await roundtrip(rconn, f"SELECT $1::{sqltype}[]", [values], values)
    # a str is JSON text already: '"x"' is the JSON string x
    await roundtrip(rconn, f"SELECT $1::{sqltype}[]", [['"x"', "[1]"]], ["x", [1]])
    literal = f"ARRAY['[1,2]'::{sqltype}, '[3,4]', '{{\"a\": 1}}', NULL]"
    read = [[1, 2], [3, 4], {"a": 1}, None]
    await roundtrip(rconn, f"SELECT {literal}", [], read)
    # written back, the value is the same one: the server says so (jsonb is
    # normalized; json keeps the text as written)
    if sqltype != "jsonb":
        return
    sql = unique(f"SELECT $1::{sqltype}[] = {literal}")
    for _ in range(RUNS):
        assert await rconn.fetchval(sql, read) is True


ARRAY_LITERALS: list[Any] = [
    pytest.param("'{1,2,NULL}'::int4[]", [1, 2, None], id="int4"),
    pytest.param("'{{1,2},{3,NULL}}'::int8[]", [[1, 2], [3, None]], id="int8-2d"),
    pytest.param("'{{{1,2},{3,4}},{{5,6},{7,NULL}}}'::int2[]",
                 [[[1, 2], [3, 4]], [[5, 6], [7, None]]], id="int2-3d"),
    pytest.param("'{{{{{{1}}}}}}'::int4[]", [[[[[[1]]]]]], id="int4-6d"),
    pytest.param("'[0:1]={1,2}'::int4[]", [1, 2], id="lower-bound"),
    pytest.param("'[-2:-1][3:4]={{1,2},{3,4}}'::int4[]", [[1, 2], [3, 4]], id="lower-bounds-2d"),
    pytest.param("'{ 1 , 2 }'::int4[]", [1, 2], id="spaces"),
    pytest.param("'{t,f,NULL}'::bool[]", [True, False, None], id="bool"),
    pytest.param("'{1.50,NaN,Infinity,-Infinity,NULL}'::numeric[]",
                 [Decimal("1.50"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), None],
                 id="numeric"),
    pytest.param("'{1.5,NaN,-Infinity}'::float4[]", [1.5, float("nan"), float("-inf")], id="float4"),
    pytest.param("ARRAY['0.1'::float4]", [0.10000000149011612], id="float4-0.1"),
    pytest.param("'{0.1,1e-310}'::float8[]", [0.1, 1e-310], id="float8"),
    pytest.param(r"""'{"a\"b","c,d","{e}","f\\g","NULL",NULL," sp ",""}'::text[]""",
                 ['a"b', "c,d", "{e}", "f\\g", "NULL", None, " sp ", ""], id="text-escapes"),
    pytest.param("ARRAY['a\"b', 'c,d', '{e}', 'f\\g', 'NULL', NULL, ' sp ', '', 'é😀', E'\\t', 'x y']",
                 ['a"b', "c,d", "{e}", "f\\g", "NULL", None, " sp ", "", "é😀", "\t", "x y"],
                 id="text-built"),
    pytest.param("'{{\"a\",\"b\"},{NULL,\"NULL\"}}'::text[]", [["a", "b"], [None, "NULL"]],
                 id="text-2d"),
    pytest.param("'{{{\"}\"}},{{\"{\"}}}'::text[]", [[["}"]], [["{"]]], id="text-3d-braces"),
    pytest.param("'{null,NuLl,\"null\"}'::text[]", [None, None, "null"], id="text-null-spellings"),
    pytest.param("'{a\\,b,c\\\"d,e\\\\f}'::text[]", ["a,b", 'c"d', "e\\f"], id="text-unquoted-escapes"),
    pytest.param("ARRAY['ab'::char(4), NULL]", ["ab  ", None], id="bpchar"),
    pytest.param("ARRAY['pg_class'::name, 'a b']", ["pg_class", "a b"], id="name"),
    pytest.param("ARRAY['a'::\"char\", '\\351', '\\', '\"', ',', '']", ["a", "é", "\\", '"', ",", ""],
                 id="char"),
    pytest.param("ARRAY['\\x00'::bytea, '\\x5c22', '', NULL]", [b"\x00", b'\\"', b"", None], id="bytea"),
    pytest.param("'{2020-01-02,infinity,-infinity,NULL}'::date[]",
                 [dt.date(2020, 1, 2), dt.date.max, dt.date.min, None], id="date"),
    pytest.param("'{\"01:02:03.5\"}'::time[]", [dt.time(1, 2, 3, 500000)], id="time"),
    pytest.param("'{\"01:02:03-05:30\",\"00:00:00+00\"}'::timetz[]",
                 [dt.time(1, 2, 3, tzinfo=tz(-5, 30)), dt.time(0, tzinfo=UTC)], id="timetz"),
    pytest.param("'{\"2020-01-02 03:04:05.000006\",infinity}'::timestamp[]",
                 [dt.datetime(2020, 1, 2, 3, 4, 5, 6), dt.datetime.max], id="timestamp"),
    pytest.param("'{\"2020-01-02 03:04:05+02\",-infinity}'::timestamptz[]",
                 [dt.datetime(2020, 1, 2, 1, 4, 5, tzinfo=UTC), dt.datetime.min.replace(tzinfo=UTC)],
                 id="timestamptz"),
    pytest.param("'{\"1 year 2 mons -3 days 04:05:06\",\"-00:00:01\"}'::interval[]",
                 [dt.timedelta(days=417, hours=4, minutes=5, seconds=6), dt.timedelta(seconds=-1)],
                 id="interval"),
    pytest.param("'{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11,NULL}'::uuid[]",
                 [UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), None], id="uuid"),
    pytest.param("ARRAY['{\"a\": \"}{,\\\"\"}'::jsonb, '[1, \"NULL\"]', 'null', NULL]",
                 [{"a": '}{,"'}, [1, "NULL"], None, None], id="jsonb"),
    pytest.param("ARRAY['{\"k\" : [1, 2]}'::json]", [{"k": [1, 2]}], id="json"),
]


@over_modes("literal, expected", ARRAY_LITERALS)
async def test_array_literal(rconn: Any, literal: str, expected: Any) -> None:
    await roundtrip(rconn, f"SELECT {literal}", [], expected)


@BOTH_MODES
async def test_array_text_path_first_run_char_latin1(rconn: Any) -> None:
    """The '\\351' literal is the same byte in text and binary: 'é' both ways."""
    await roundtrip(rconn, "SELECT ARRAY['\\351'::\"char\", 'z']", [], ["é", "z"])


@TEXT_PATH_MODE
async def test_array_from_scalar_params_char_latin1(rconn: Any) -> None:
    await roundtrip(rconn, 'SELECT ARRAY[$1::"char", $2::"char"]', ["é", "z"], ["é", "z"])


@BOTH_MODES
async def test_array_ragged_is_rejected(rconn: Any) -> None:
    with pytest.raises(pgwire.DataError):
        await rconn.fetchval(unique("SELECT $1::int4[]"), [[1, 2], [3]])
    await assert_usable(rconn)


# ---------------------------------------------------------------------------
# NULL of every type

NULL_TYPES = [
    "bool", "int2", "int4", "int8", "oid", "float4", "float8", "numeric", "text", "varchar",
    "char(3)", "name", '"char"', "bytea", "date", "time", "timetz", "timestamp", "timestamptz",
    "interval", "uuid", "json", "jsonb",
]
# Types read as str (text format, like asyncpg) and types with codecs of
# their own families (tests/test_types_catalog.py walks them all).
STR_TYPES = ["xml", "money", "tsquery", "regclass", "aclitem"]
NULL_TYPES += STR_TYPES + ["point", "inet", "macaddr", "int4range", "bit", "tid", "pg_lsn",
                           "int4multirange", "box"]


@over_modes("sqltype", NULL_TYPES)
async def test_null(rconn: Any, sqltype: str) -> None:
    await roundtrip(rconn, f"SELECT NULL::{sqltype}", [], None)
    await roundtrip(rconn, f"SELECT $1::{sqltype}", [None], None)
    await roundtrip(rconn, f"SELECT NULL::{sqltype}[]", [], None)
    await roundtrip(rconn, f"SELECT $1::{sqltype}[]", [None], None)
    # every built-in array type is a list, whatever its element type
    await roundtrip(rconn, f"SELECT ARRAY[NULL, NULL]::{sqltype}[]", [], [None, None])


# ---------------------------------------------------------------------------
# types read as str: never an exception; their arrays are lists of str

STR_LITERALS: list[Any] = [
    pytest.param("'$1.50'::money", "$1.50", id="money"),
    pytest.param("'<a>é</a>'::xml", "<a>é</a>", id="xml"),
    pytest.param("'a & b'::tsquery", "'a' & 'b'", id="tsquery"),
    pytest.param("'pg_class'::regclass", "pg_class", id="regclass"),
    pytest.param("'08:00:2b:01:02:03'::macaddr", "08:00:2b:01:02:03", id="macaddr"),
    pytest.param("ARRAY['08:00:2b:01:02:03'::macaddr]", ["08:00:2b:01:02:03"], id="macaddr-array"),
    pytest.param("ARRAY['$1'::money, NULL]", ["$1.00", None], id="money-array"),
    pytest.param("'{\"a b\",c}'::xml[]", ["a b", "c"], id="xml-array"),
]


@over_modes("literal, expected", STR_LITERALS)
async def test_str_literal(rconn: Any, literal: str, expected: Any) -> None:
    await roundtrip(rconn, f"SELECT {literal}", [], expected)


STR_PARAMS: list[Any] = [
    pytest.param("money", "1.5", "$1.50", id="money"),
    pytest.param("macaddr", "08-00-2B-01-02-03", "08:00:2b:01:02:03", id="macaddr"),
    pytest.param("tsvector", "a b", "'a' 'b'", id="tsvector"),
    pytest.param("money[]", ["1", None], ["$1.00", None], id="money-array-list"),
]


@over_modes("sqltype, value, expected", STR_PARAMS)
async def test_str_param(rconn: Any, sqltype: str, value: Any, expected: Any) -> None:
    await roundtrip(rconn, f"SELECT $1::{sqltype}", [value], expected)


@pytest_asyncio.fixture(loop_scope="module")
async def enum_type(new_conn: Any) -> AsyncIterator[str]:
    conn = await new_conn()
    name = f"mood_{secrets.token_hex(4)}"
    await conn.execute(f"CREATE TYPE {name} AS ENUM ('sad', 'ok', 'happy, \"very\"', 'NULL')")
    yield name
    await conn.execute(f"DROP TYPE IF EXISTS {name}")


@BOTH_MODES
async def test_enum_is_str(rconn: Any, enum_type: str) -> None:
    await roundtrip(rconn, f"SELECT 'ok'::{enum_type}", [], "ok")
    await roundtrip(rconn, f"SELECT $1::{enum_type}", ['happy, "very"'], 'happy, "very"')
    await roundtrip(rconn, f"SELECT $1::{enum_type}[]", [["ok", None, "NULL"]], ["ok", None, "NULL"])
    await roundtrip(rconn, f"SELECT ARRAY[$1::{enum_type}, $2]", ['happy, "very"', None],
                    ['happy, "very"', None])
    await roundtrip(rconn, f"SELECT enum_range(NULL::{enum_type})", [],
                    ["sad", "ok", 'happy, "very"', "NULL"])
    await roundtrip(rconn, f"SELECT $1::{enum_type}", [None], None)


@BOTH_MODES
async def test_str_column_next_to_binary_columns(rconn: Any) -> None:
    sql = "SELECT $1::int4 AS a, $2::money AS b, $3::text AS c, ARRAY['[1,2)'::int4range] AS d"
    expected = [1, "$0.50", "x", [Range(1, 2)]]
    sql = unique(sql)
    for run in range(RUNS):
        row = await rconn.fetchrow(sql, 1, "0.5", "x")
        assert _key(list(row.values())) == _key(expected), (_label(run), row)


# ---------------------------------------------------------------------------
# invalid arguments: a DataError, and the connection stays usable

OVERFLOWS: list[Any] = [
    pytest.param("int2", 2**15, id="int2-over"),
    pytest.param("int2", -(2**15) - 1, id="int2-under"),
    pytest.param("int4", 2**31, id="int4-over"),
    pytest.param("int4", -(2**31) - 1, id="int4-under"),
    pytest.param("int8", 2**63, id="int8-over"),
    pytest.param("oid", 2**32, id="oid-over"),
    pytest.param("oid", -1, id="oid-negative", marks=LIMIT_OID_NEGATIVE_FIRST_RUN),
    pytest.param("float4", 1e39, id="float4-over"),
    pytest.param("int4", "abc", id="int4-not-a-number"),
    pytest.param("int4", 1.5, id="int4-float"),
    pytest.param("date", "2020-02-30", id="date-invalid"),
    pytest.param("uuid", "not-a-uuid", id="uuid-invalid"),
    pytest.param("numeric", "1e", id="numeric-invalid"),
    pytest.param("jsonb", "{bad json", id="jsonb-invalid"),
    pytest.param("timestamptz", "2020-13-01", id="timestamptz-invalid"),
    pytest.param("bool", "maybe", id="bool-invalid"),
    pytest.param("date", dt.datetime(2020, 1, 1, 12), id="date-given-datetime",
                 marks=LIMIT_WRONG_KIND_FIRST_RUN),
    pytest.param("timestamp", dt.datetime(2020, 1, 1, 12, tzinfo=tz(5)), id="timestamp-given-aware",
                 marks=LIMIT_WRONG_KIND_FIRST_RUN),
    pytest.param("time", dt.time(12, tzinfo=tz(5)), id="time-given-aware",
                 marks=LIMIT_WRONG_KIND_FIRST_RUN),
    pytest.param("timetz", dt.time(12, tzinfo=ZoneInfo("Europe/Paris")), id="timetz-given-zoneinfo"),
]


@over_modes("sqltype, value", OVERFLOWS)
async def test_invalid_argument_is_data_error(rconn: Any, sqltype: str, value: Any) -> None:
    await expect_error(pgwire.DataError, rconn, unique(f"SELECT $1::{sqltype}"), value)


# A Python type the parameter's codec does not take is refused before anything
# is sent (DataError), whatever the path.
WRONG_TYPES: list[Any] = [
    pytest.param("int4", "5", id="int4-str"),
    pytest.param("numeric", "1.5", id="numeric-str"),
    pytest.param("text", 5, id="text-int"),
    pytest.param("bool", 1, id="bool-int"),
    pytest.param("float8", Decimal("0.5"), id="float8-decimal"),
    pytest.param("jsonb", Decimal("2.25"), id="jsonb-decimal"),
    pytest.param("date", "2020-01-01", id="date-str"),
    pytest.param("timestamptz", dt.date(2020, 1, 1), id="timestamptz-date"),
    pytest.param("bytea", "abc", id="bytea-str"),
    pytest.param("int4", True, id="int4-bool"),
]


@pytest.mark.parametrize(("sqltype", "value"), WRONG_TYPES)
@pytest.mark.parametrize("rconn", [m for m in MODES if m not in TEXT_PATH_MODES], indirect=True)
async def test_wrong_python_type_is_refused(rconn: Any, sqltype: str, value: Any) -> None:
    await expect_error(pgwire.DataError, rconn, unique(f"SELECT $1::{sqltype}"), value)


@pytest.mark.parametrize(
    ("sqltype", "value"),
    [pytest.param(*case.values, id=case.id, marks=[] if case.id == "int4-bool" else
                  [LIMIT_WRONG_TYPE_FIRST_USE]) for case in WRONG_TYPES],
)
@TEXT_PATH_MODE
async def test_wrong_python_type_is_refused_on_first_use(
    rconn: Any, sqltype: str, value: Any
) -> None:
    await expect_error(pgwire.DataError, rconn, unique(f"SELECT $1::{sqltype}"), value)


@pytest.mark.parametrize(
    "rconn",
    [pytest.param(mode, marks=[LIMIT_NAME_TOO_LONG_FIRST_USE] if mode in TEXT_PATH_MODES else [])
     for mode in MODES],
    indirect=True,
)
async def test_name_too_long_same_outcome_every_run(rconn: Any) -> None:
    outcomes = await fetch_runs(rconn, "SELECT $1::name", "n" * 64)
    kinds = [type(o.exc).__name__ if isinstance(o, Raised) else repr(o) for o in outcomes]
    if len(set(kinds)) != 1:
        pytest.fail(f"runs differ: {kinds}", pytrace=False)


@BOTH_MODES
async def test_int4_overflow_then_valid_value_same_statement(rconn: Any) -> None:
    """A failed first run must not poison the statement for valid values."""
    sql = unique("SELECT $1::int4 + 0")
    with pytest.raises(pgwire.DataError):  # from the server (text path) or the encoder
        await rconn.fetchval(sql, 2**31)
    check_runs([await rconn.fetchval(sql, 7) for _ in range(RUNS)], 7)
    with pytest.raises(pgwire.DataError):
        await rconn.fetchval(sql, 2**31)  # binary path: rejected before sending
    await assert_usable(rconn)


@BOTH_MODES
async def test_invalid_argument_inside_transaction(rconn: Any) -> None:
    sql = unique("SELECT $1::int4")
    async with rconn.transaction():
        assert await rconn.fetchval(sql, 1) == 1
        # Rejected client-side (prepared statement): the transaction is intact.
        with pytest.raises(pgwire.DataError):
            await rconn.fetchval(sql, 2**31)
        assert await rconn.fetchval(sql, 2) == 2
    await assert_usable(rconn)


@BOTH_MODES
async def test_nul_in_text_argument_prepared_statement(rconn: Any) -> None:
    sql = unique("SELECT $1::text")
    assert await rconn.fetchval(sql, "ok") == "ok"
    with pytest.raises(pgwire.DataError):
        await rconn.fetchval(sql, "a\x00b")
    await assert_usable(rconn)


@BOTH_MODES
async def test_nul_in_text_argument_new_statement(rconn: Any) -> None:
    await expect_error(pgwire.DataError, rconn, unique("SELECT $1::text"), "a\x00b")


UNREPRESENTABLE: list[Any] = [
    pytest.param("'10000-01-01'::date", id="date-after-9999"),
    pytest.param("'0044-03-15 BC'::date", id="date-bc"),
    pytest.param("'10000-01-01 00:00:00'::timestamp", id="timestamp-after-9999"),
    pytest.param("'0001-12-31 23:00:00 BC'::timestamptz", id="timestamptz-bc"),
    pytest.param("'24:00:00'::time", id="time-24h"),
    pytest.param("'24:00:00+01'::timetz", id="timetz-24h"),
    pytest.param("'178000000 years'::interval", id="interval-too-big"),
]


@over_modes("literal", UNREPRESENTABLE)
async def test_unrepresentable_value(rconn: Any, literal: str) -> None:
    await expect_error(UnrepresentableValueError, rconn, unique(f"SELECT {literal}"))


# ---------------------------------------------------------------------------
# the strategy itself: first use text (where taken), later runs binary


@FRESH_BOTH_MODES
async def test_first_run_text_later_runs_binary(fconn: Any, request: pytest.FixtureRequest) -> None:
    """A spy text parser sees at most the first run: the premise of this module."""
    seen: list[str] = []

    def spy(text: str) -> int:
        seen.append(text)
        return int(text)

    fconn.type_registry.register_text(oids.INT4, None, spy)
    check_runs(await fetch_runs(fconn, "SELECT $1::int4 * 2", 21), 42)
    assert_text_path_first_run_only(request, seen, "42")
    check_runs(await fetch_runs(fconn, "SELECT ARRAY[$1::int4, NULL]", 5), [5, None])
    assert_text_path_first_run_only(request, seen, "5")  # int4[] follows its element's parser


# ---------------------------------------------------------------------------
# JSON decoder replacement per connection


def _tagged(text: str) -> tuple[str, Any]:
    return ("custom", json.loads(text))


async def test_json_decoder_is_per_connection(new_conn: Any) -> None:
    custom = await new_conn()
    other = await new_conn()
    custom.type_registry.set_json_decoder(_tagged)
    obj = {"a": [1, "é"]}
    tagged = ("custom", obj)
    await roundtrip(custom, "SELECT $1::jsonb", [obj], tagged)
    await roundtrip(custom, "SELECT $1::json", ['{"a": [1, "é"]}'], tagged)
    await roundtrip(custom, "SELECT '{\"a\": [1, \"é\"]}'::jsonb", [], tagged)
    await roundtrip(custom, "SELECT ARRAY[$1::jsonb, NULL]", ['{"a": [1, "é"]}'], [tagged, None])
    await roundtrip(custom, "SELECT $1::json[]", [[obj]], [tagged])
    # the other connection, and a connection opened afterwards, keep json.loads
    await roundtrip(other, "SELECT $1::jsonb", [obj], obj)
    await roundtrip(other, "SELECT '{\"a\": [1, \"é\"]}'::jsonb", [], obj)
    later = await new_conn(statement_cache_size=0)
    await roundtrip(later, "SELECT ARRAY[$1::jsonb]", ['{"a": [1, "é"]}'], [obj])
    # the custom decoder survives on its connection, including the uncached mode
    uncached = await new_conn(statement_cache_size=0)
    uncached.type_registry.set_json_decoder(_tagged)
    await roundtrip(uncached, "SELECT '{\"a\": [1, \"é\"]}'::json", [], tagged)


async def test_json_encoder_is_per_connection(new_conn: Any) -> None:
    custom = await new_conn()
    other = await new_conn()
    custom.type_registry.set_json_encoder(lambda value: json.dumps({"wrapped": value}).encode())
    await roundtrip(custom, "SELECT $1::jsonb", [[1, 2]], {"wrapped": [1, 2]})
    await roundtrip(custom, "SELECT $1::jsonb", ["[1, 2]"], [1, 2])  # str: JSON text as-is
    await roundtrip(other, "SELECT $1::jsonb", [[1, 2]], [1, 2])


@FRESH_BOTH_MODES
async def test_json_decoder_reaches_statements_run_before(fconn: Any) -> None:
    sql = unique("SELECT '{\"a\": 1}'::jsonb")
    check_runs([await fconn.fetchval(sql) for _ in range(RUNS)], {"a": 1})
    fconn.type_registry.set_json_decoder(_tagged)
    assert await fconn.fetchval(sql) == ("custom", {"a": 1})


# ---------------------------------------------------------------------------
# session settings that change the server's text output


@pytest_asyncio.fixture(loop_scope="module")
async def ny_conn(fconn: Any) -> Any:
    await fconn.execute("SET TimeZone = 'America/New_York'")
    assert fconn.get_settings().TimeZone == "America/New_York"
    return fconn


TIMEZONE_CASES: list[Any] = [
    pytest.param("timestamptz", dt.datetime(2020, 7, 1, 12, tzinfo=UTC),
                 dt.datetime(2020, 7, 1, 12, tzinfo=UTC), id="summer-utc"),
    pytest.param("timestamptz", dt.datetime(2020, 1, 1, 12, 0, 0, 1, tzinfo=tz(5, 30)),
                 dt.datetime(2020, 1, 1, 6, 30, 0, 1, tzinfo=UTC), id="winter-plus0530"),
    pytest.param("timestamptz", dt.datetime(2021, 3, 14, 2, 30, tzinfo=ZoneInfo("Europe/Paris")),
                 dt.datetime(2021, 3, 14, 1, 30, tzinfo=UTC), id="near-ny-dst-change"),
    pytest.param("timestamptz", dt.datetime(1850, 7, 1, 12, tzinfo=UTC),
                 dt.datetime(1850, 7, 1, 12, tzinfo=UTC), id="lmt-offset-seconds"),
    pytest.param("timestamptz", dt.datetime.max.replace(tzinfo=UTC), dt.datetime.max.replace(tzinfo=UTC),
                 id="infinity"),
    pytest.param("timestamptz", dt.datetime(9999, 12, 31, 12, tzinfo=UTC),
                 dt.datetime(9999, 12, 31, 12, tzinfo=UTC), id="year-9999"),
    pytest.param("timestamptz[]", [dt.datetime(2020, 7, 1, tzinfo=UTC), None],
                 [dt.datetime(2020, 7, 1, tzinfo=UTC), None], id="array"),
    pytest.param("timetz", dt.time(12, tzinfo=tz(-3)), dt.time(12, tzinfo=tz(-3)), id="timetz-aware"),
    pytest.param("timestamp", dt.datetime(2020, 7, 1, 12), dt.datetime(2020, 7, 1, 12), id="timestamp"),
    pytest.param("timestamptz", dt.datetime(2020, 7, 1, 12),
                 dt.datetime(2020, 7, 1, 12, tzinfo=UTC), id="naive-is-utc"),
    pytest.param("timetz", dt.time(12), dt.time(12, tzinfo=UTC), id="timetz-naive-is-utc",),
]


@over_modes("sqltype, value, expected", TIMEZONE_CASES, "fconn")
async def test_timezone_new_york_param(ny_conn: Any, sqltype: str, value: Any, expected: Any) -> None:
    await roundtrip(ny_conn, f"SELECT $1::{sqltype}", [value], expected)


TIMEZONE_LITERALS: list[Any] = [
    pytest.param("'2020-07-01 12:00:00+00'::timestamptz", dt.datetime(2020, 7, 1, 12, tzinfo=UTC),
                 id="summer"),
    pytest.param("'2020-01-01 00:00:00.000001+00'::timestamptz",
                 dt.datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=UTC), id="winter-us"),
    pytest.param("'1850-07-01 12:00:00+00'::timestamptz", dt.datetime(1850, 7, 1, 12, tzinfo=UTC),
                 id="lmt"),
    pytest.param("'2020-07-01 12:00:00'::timestamptz", dt.datetime(2020, 7, 1, 16, tzinfo=UTC),
                 id="literal-in-session-zone"),
    pytest.param("ARRAY['2020-07-01 12:00:00+00'::timestamptz, '-infinity']",
                 [dt.datetime(2020, 7, 1, 12, tzinfo=UTC), dt.datetime.min.replace(tzinfo=UTC)],
                 id="array"),
    pytest.param("'2020-07-01 12:00:00+00'::timestamptz::text", "2020-07-01 08:00:00-04",
                 id="server-text-is-local"),
    pytest.param("'12:00:00+00'::timetz", dt.time(12, tzinfo=UTC), id="timetz"),
    pytest.param("'0001-01-01 02:00:00+00'::timestamptz", dt.datetime(1, 1, 1, 2, tzinfo=UTC),
                 id="year1-is-bc-locally"),
]


@over_modes("literal, expected", TIMEZONE_LITERALS, "fconn")
async def test_timezone_new_york_literal(ny_conn: Any, literal: str, expected: Any) -> None:
    await roundtrip(ny_conn, f"SELECT {literal}", [], expected)


@FRESH_TEXT_PATH_MODE
async def test_timezone_tokyo_year_9999_is_10000_locally(fconn: Any) -> None:
    await fconn.execute("SET TimeZone = 'Asia/Tokyo'")
    await roundtrip(fconn, "SELECT '9999-12-31 23:00:00+00'::timestamptz", [],
                    dt.datetime(9999, 12, 31, 23, tzinfo=UTC))


def _date_spy(seen: list[str]) -> Any:
    def parse(text: str) -> dt.date:
        seen.append(text)
        return text_codecs.parse_date(text)

    return parse


@over_modes("datestyle", ["German", "SQL, DMY", "Postgres, MDY"], "fconn")
async def test_datestyle_non_iso_avoids_text_path(
    fconn: Any, datestyle: str, request: pytest.FixtureRequest
) -> None:
    seen: list[str] = []
    fconn.type_registry.register_text(oids.DATE, None, _date_spy(seen))
    # control: with ISO output the text parser sees at most the first run
    check_runs(await fetch_runs(fconn, "SELECT '2020-03-04'::date"), dt.date(2020, 3, 4))
    assert_text_path_first_run_only(request, seen, "2020-03-04")
    await fconn.execute(f"SET DateStyle = '{datestyle}'")
    assert not fconn.get_settings().DateStyle.startswith("ISO")
    cases: list[tuple[str, list[Any], Any]] = [
        ("SELECT '2020-03-04'::date AS d", [], dt.date(2020, 3, 4)),
        ("SELECT $1::date", [dt.date(2020, 3, 4)], dt.date(2020, 3, 4)),
        ("SELECT $1::date", [dt.date.max], dt.date.max),
        ("SELECT '2020-03-04 05:06:07.5'::timestamp", [], dt.datetime(2020, 3, 4, 5, 6, 7, 500000)),
        ("SELECT '2020-03-04 05:06:07.5+02'::timestamptz", [],
         dt.datetime(2020, 3, 4, 3, 6, 7, 500000, tzinfo=UTC)),
        ("SELECT $1::timestamptz", [dt.datetime(2020, 3, 4, 5, tzinfo=tz(-2))],
         dt.datetime(2020, 3, 4, 7, tzinfo=UTC)),
        ("SELECT ARRAY['2020-03-04'::date, 'infinity']", [], [dt.date(2020, 3, 4), dt.date.max]),
        ("SELECT ARRAY[$1::date]", [dt.date(1999, 12, 31)], [dt.date(1999, 12, 31)]),
        ("SELECT '1 year 2 mons'::interval", [], dt.timedelta(days=420)),
    ]
    for sql, args, expected in cases:
        await roundtrip(fconn, sql, args, expected)
    assert seen == [], "the text path was used although DateStyle is not ISO"
    # the server really renders dates differently now
    rendered = await fconn.fetchval("SELECT $1::date::text", dt.date(2020, 3, 4))
    assert rendered != "2020-03-04"
    # back to ISO: new statements take the text path again
    await fconn.execute("RESET DateStyle")
    check_runs(await fetch_runs(fconn, "SELECT '2021-05-06'::date"), dt.date(2021, 5, 6))
    assert_text_path_first_run_only(request, seen, "2021-05-06")


@FRESH_BOTH_MODES
async def test_datestyle_iso_dmy_keeps_text_path(
    fconn: Any, request: pytest.FixtureRequest
) -> None:
    seen: list[str] = []
    fconn.type_registry.register_text(oids.DATE, None, _date_spy(seen))
    await fconn.execute("SET DateStyle = 'ISO, DMY'")
    check_runs(await fetch_runs(fconn, "SELECT '2020-03-04'::date"), dt.date(2020, 3, 4))
    assert_text_path_first_run_only(request, seen, "2020-03-04")


@over_modes("style", ["iso_8601", "sql_standard", "postgres_verbose"], "fconn")
async def test_intervalstyle_non_postgres(fconn: Any, style: str) -> None:
    seen: list[str] = []

    def spy(text: str) -> dt.timedelta:
        seen.append(text)
        return text_codecs.parse_interval(text)

    fconn.type_registry.register_text(oids.INTERVAL, None, spy)
    await fconn.execute(f"SET IntervalStyle = '{style}'")
    await roundtrip(fconn, "SELECT '1 year 2 mons -3 days 04:05:06.5'::interval", [],
                    dt.timedelta(days=417, hours=4, minutes=5, seconds=6.5))
    await roundtrip(fconn, "SELECT $1::interval", [dt.timedelta(days=-3, seconds=5)],
                    dt.timedelta(days=-3, seconds=5))
    await roundtrip(fconn, "SELECT ARRAY['-1 mon'::interval]", [], [dt.timedelta(days=-30)])
    assert seen == [], "the text path was used although IntervalStyle is not postgres"


@FRESH_BOTH_MODES
async def test_bytea_output_escape(fconn: Any) -> None:
    await fconn.execute("SET bytea_output = 'escape'")
    await roundtrip(fconn, "SELECT $1::bytea", [_BYTES_ALL], _BYTES_ALL)
    await roundtrip(fconn, "SELECT ARRAY[$1::bytea, $2, NULL]", [b'\x00"\\,{}', _BYTES_ALL],
                    [b'\x00"\\,{}', _BYTES_ALL, None])
    await roundtrip(fconn, "SELECT 'a\\\\b\\000\\377'::bytea", [], b"a\\b\x00\xff")
    await roundtrip(fconn, "SELECT $1::bytea::text", [b"a\\\x00"], "a\\\\\\000")


@LIMIT_EXTRA_FLOAT_DIGITS
@FRESH_TEXT_PATH_MODE
async def test_extra_float_digits_zero(fconn: Any) -> None:
    await fconn.execute("SET extra_float_digits = 0")
    await roundtrip(fconn, "SELECT $1::float8", [0.1 + 0.2], 0.30000000000000004)


@FRESH_BOTH_MODES
async def test_extra_float_digits_three(fconn: Any) -> None:
    await fconn.execute("SET extra_float_digits = 3")
    await roundtrip(fconn, "SELECT $1::float8", [0.1 + 0.2], 0.30000000000000004)
    await roundtrip(fconn, "SELECT $1::float4", [1.5], 1.5)


async def test_range_contains_agrees_with_the_server(new_conn: Any) -> None:
    """``value in Range`` says what the server's ``@>`` says, for ranges of
    every bound kind read from the server and values around their bounds."""
    conn = await new_conn()
    ranges = await conn.fetchval(
        "SELECT array_agg(r) FROM (VALUES (numrange(1, 5)), (numrange(1, 5, '[]')),"
        " (numrange(1, 5, '()')), (numrange(NULL, 5)), (numrange(1, NULL)),"
        " (numrange(NULL, NULL)), ('empty'::numrange), (numrange(3, 3, '[]'))) v(r)")
    values = [Decimal(v) / 2 for v in range(0, 13)]
    expected = await conn.fetch(
        "SELECT r, v, r @> v AS inside FROM unnest($1::numrange[]) r, unnest($2::numeric[]) v",
        ranges, values)
    assert len(expected) == len(ranges) * len(values)
    for row in expected:
        assert (row["v"] in row["r"]) is row["inside"], (row["r"], row["v"])
