"""User types, found by introspection: values read, sent back, refused, and property round trips.

A module fixture creates a schema of its own with enums, composites (nested
three levels, with arrays, with a dropped attribute), domains over int4 and
over a composite, user range types (over float8, over an enum, and one over
every built-in subtype with a btree order) with their multiranges, a table,
and the hstore and citext extensions.  pgwire knows none of them: each
connection looks them up in the catalog on first use
(:mod:`pgwire.flows.introspection`).

Sections:

* values: every kind of user type read from literals and sent back as
  parameters (enums and their arrays; composites as Records with attribute
  names, parameters given as tuples, lists, dicts and Records; domains;
  ranges and multiranges; hstore as ``dict`` with NULL values; citext; a
  table's row type; ``copy_records_to_table`` into columns of those types),
  on both APIs, on a connection with the statement cache, one with
  ``statement_cache_size=0`` and one through pgbouncer in transaction mode.
  Each statement is new and runs :data:`RUNS` times (run 1 is its first
  use: the text path where taken);
* bad parameters: a :class:`pgwire.DataError` naming the parameter (``$1``)
  and its type, and a connection that still works;
* property-based round trips (hypothesis, blocking API, one connection per
  test): value -> ``SELECT $1::type`` -> the same value, for ranges of
  int4/int8/numeric/date, a composite of (int4, text, numeric), inet/cidr,
  bit strings, geometric types and hstore; each example's statement is new,
  so it runs once on the text path (with ``statement_cache_size=0``) and
  once in binary.

pgwire bugs found here are ``xfail(strict=True, reason="BUG: ...")``, known
limitations of the text first run ``reason="KNOWN LIMITATION ..."`` as in
test_types_server.py.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from type_runs import RUNS, _key, _label, roundtrip, unique

import pgwire
from pgwire import LSN, BitString, Box, Circle, Path, Point, Polygon, Range, Record
from pgwire.types.record import RecordMapping

UTC = dt.timezone.utc

# The async tests share the module's connections, and so its event loop.
ASYNC = pytest.mark.asyncio(loop_scope="module")

SCHEMA = f"user_types_{secrets.token_hex(4)}"
S = SCHEMA


# ---------------------------------------------------------------------------
# known limitations (strict xfails)

LIMIT_TEXT_FIRST_RUN_SERVER_CHECKS = pytest.mark.xfail(
    strict=True,
    reason="KNOWN LIMITATION of the text first run (statement_cache_size=0): the first use "
    "sends the argument as untyped text without pgwire's checks, so the server "
    "refuses it (still a DataError subclass, InvalidTextRepresentationError) with its own "
    "message, which names neither $1 nor pgwire's type name; binary runs raise pgwire's "
    "DataError naming both",
)


# ---------------------------------------------------------------------------
# helpers (as in test_types_server.py)


async def assert_usable(conn: Any) -> None:
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT 1") == 1
    assert await conn.fetchval(unique("SELECT $1::int4 + 1"), 41) == 42


def record(**values: Any) -> Record:
    """A Record with these attribute names and values (what a composite decodes to)."""
    return Record._make(RecordMapping(values), tuple(values.values()))


# ---------------------------------------------------------------------------
# the schema

# Ranges over every built-in subtype with a btree order: (name, subtype, lower
# and upper as SQL expressions of the subtype, and as Python values).
SUBTYPES: list[Any] = [
    pytest.param("int2", "int2", "1", "5", 1, 5, id="int2"),
    pytest.param("int4", "int4", "-5", "2147483647", -5, 2**31 - 1, id="int4"),
    pytest.param("int8", "int8", "'-9223372036854775808'", "9223372036854775807", -(2**63),
                 2**63 - 1, id="int8"),
    pytest.param("float4", "float4", "1.5", "2.5", 1.5, 2.5, id="float4"),
    pytest.param("float8", "float8", "-0.1", "1e300", -0.1, 1e300, id="float8"),
    pytest.param("numeric", "numeric", "1.50", "2.5", Decimal("1.50"), Decimal("2.5"),
                 id="numeric"),
    pytest.param("text", "text", "'a \"b\"'", "'z,\\'", 'a "b"', "z,\\", id="text"),
    pytest.param("varchar", "varchar", "'a'", "'b c'", "a", "b c", id="varchar"),
    pytest.param("bpchar", "bpchar", "'a'", "'b'", "a", "b", id="bpchar"),
    pytest.param("name", "name", "'a'", "'b'", "a", "b", id="name"),
    pytest.param("char", '"char"', "'a'", "'b'", "a", "b", id="char"),
    pytest.param("bytea", "bytea", "'\\x00'", "'\\xff22'", b"\x00", b'\xff"', id="bytea"),
    pytest.param("oid", "oid", "1", "4294967295", 1, 2**32 - 1, id="oid"),
    pytest.param("date", "date", "'2020-01-01'", "'2020-12-31'", dt.date(2020, 1, 1),
                 dt.date(2020, 12, 31), id="date"),
    pytest.param("time", "time", "'01:00'", "'02:00:00.5'", dt.time(1), dt.time(2, 0, 0, 500000),
                 id="time"),
    pytest.param("timetz", "timetz", "'01:00+02'", "'03:00+02'",
                 dt.time(1, tzinfo=dt.timezone(dt.timedelta(hours=2))),
                 dt.time(3, tzinfo=dt.timezone(dt.timedelta(hours=2))), id="timetz"),
    pytest.param("timestamp", "timestamp", "'2020-01-01 00:00'", "'2020-01-01 00:00:00.000001'",
                 dt.datetime(2020, 1, 1), dt.datetime(2020, 1, 1, 0, 0, 0, 1), id="timestamp"),
    pytest.param("timestamptz", "timestamptz", "'2020-01-01 00:00+05'", "'2020-06-01 00:00+00'",
                 dt.datetime(2019, 12, 31, 19, tzinfo=UTC), dt.datetime(2020, 6, 1, tzinfo=UTC),
                 id="timestamptz"),
    pytest.param("interval", "interval", "'1 day'", "'1 mon'", dt.timedelta(days=1),
                 dt.timedelta(days=30), id="interval"),
    pytest.param("uuid", "uuid", f"'{UUID(int=1)}'", f"'{UUID(int=2)}'", UUID(int=1),
                 UUID(int=2), id="uuid"),
    pytest.param("inet", "inet", "'10.0.0.1'", "'10.0.0.2'", ipaddress.IPv4Address("10.0.0.1"),
                 ipaddress.IPv4Address("10.0.0.2"), id="inet"),
    pytest.param("cidr", "cidr", "'10.0.0.0/8'", "'11.0.0.0/8'",
                 ipaddress.IPv4Network("10.0.0.0/8"), ipaddress.IPv4Network("11.0.0.0/8"),
                 id="cidr"),
    pytest.param("macaddr", "macaddr", "'08:00:2b:01:02:03'", "'08:00:2b:01:02:04'",
                 "08:00:2b:01:02:03", "08:00:2b:01:02:04", id="macaddr"),
    pytest.param("macaddr8", "macaddr8", "'08:00:2b:01:02:03:04:05'", "'08:00:2b:01:02:03:04:06'",
                 "08:00:2b:01:02:03:04:05", "08:00:2b:01:02:03:04:06", id="macaddr8"),
    pytest.param("bool", "bool", "false", "true", False, True, id="bool"),
    pytest.param("money", "money", "1", "2", "$1.00", "$2.00", id="money"),
    pytest.param("bit", "bit", "B'01'", "B'10'", BitString("01"), BitString("10"), id="bit"),
    pytest.param("varbit", "varbit", "B'0'", "B'1011'", BitString("0"), BitString("1011"),
                 id="varbit"),
    pytest.param("pg_lsn", "pg_lsn", "'0/1'", "'1/0'", LSN(1), LSN(1 << 32), id="pg_lsn"),
    pytest.param("xid8", "xid8", "'1'", "'18446744073709551615'", 1, 2**64 - 1, id="xid8"),
    pytest.param("tid", "tid", "'(0,1)'", "'(1,0)'", (0, 1), (1, 0), id="tid"),
    pytest.param("oidvector", "oidvector", "'1'", "'2'", [1], [2], id="oidvector"),
    pytest.param("jsonb", "jsonb", "'1'", "'2.5'", 1, 2.5, id="jsonb"),
]


def _typed(expr: str, subtype: str) -> str:
    """A subtype expression, cast unless it is typed already (bit literals keep their length)."""
    return expr if expr.startswith("B'") else f"{expr}::{subtype}"


SCHEMA_SQL = f"""
CREATE SCHEMA {S};
CREATE TYPE {S}.mood AS ENUM ('sad', 'ok', 'happy', 'a "quoted", {{odd}} one');
CREATE TYPE {S}.trio AS (i int4, t text, n numeric);
CREATE TYPE {S}.leaf AS (a int4, b text);
CREATE TYPE {S}.branch AS (l {S}.leaf, ls {S}.leaf[], m {S}.mood);
CREATE TYPE {S}.tree AS (b {S}.branch, n int4, bs {S}.branch[]);
CREATE TYPE {S}.gappy AS (a int4, b text, c int4, d date);
ALTER TYPE {S}.gappy DROP ATTRIBUTE b;
CREATE DOMAIN {S}.posint AS int4 CHECK (VALUE > 0);
CREATE DOMAIN {S}.dtrio AS {S}.trio;
CREATE TYPE {S}.floatrange AS RANGE (subtype = float8);
CREATE TYPE {S}.moodrange AS RANGE (subtype = {S}.mood);
CREATE TYPE {S}.posrange AS RANGE (subtype = {S}.posint);
CREATE TABLE {S}.things (id int4 PRIMARY KEY, m {S}.mood, c {S}.trio, r {S}.floatrange,
                         ms {S}.mood[]);
INSERT INTO {S}.things VALUES (1, 'ok', (1, 'x', 1.5), '[1.5,2)', '{{sad,NULL}}'),
                              (2, NULL, NULL, NULL, NULL);
CREATE TABLE {S}.copied (id int4, m {S}.mood, c {S}.trio, r {S}.floatrange, ir int4range,
                         mr {S}.floatmultirange, l {S}.leaf[], d {S}.posint);
""" + "\n".join(
    f"CREATE TYPE {S}.{case.values[0]}_range AS RANGE (subtype = {case.values[1]});"
    for case in SUBTYPES
)


def _type_schema(conn: Any, typname: str) -> str:
    schema = conn.fetchval("SELECT n.nspname FROM pg_type t JOIN pg_namespace n "
                           "ON n.oid = t.typnamespace WHERE t.typname = $1", typname)
    assert schema is not None, f"the {typname} extension did not install"
    return str(schema)


@pytest.fixture(scope="module")
def schema(cluster: Any) -> Iterator[dict[str, str]]:
    """Creates the module's schema; gives the qualified names of hstore and citext."""
    conn = pgwire.connect_sync(**cluster.connect_kwargs(), ssl="disable")
    try:
        conn.execute(SCHEMA_SQL)
        # Where another module installed them already, they stay where they are.
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS hstore WITH SCHEMA {S}")
        conn.execute(f"CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA {S}")
        names = {name: f"{_type_schema(conn, name)}.{name}" for name in ("hstore", "citext")}
        yield names
        conn.execute(f"DROP SCHEMA {S} CASCADE")
    finally:
        conn.close()


@pytest.fixture(scope="module")
def hstore_type(schema: dict[str, str]) -> str:
    return schema["hstore"]


@pytest.fixture(scope="module")
def citext_type(schema: dict[str, str]) -> str:
    return schema["citext"]


# ---------------------------------------------------------------------------
# connections: one per (API, mode) for the module

MODES: dict[str, dict[str, Any]] = {
    "cached": {},
    "uncached": {"statement_cache_size": 0},
    "pgbouncer": {},  # transaction pooling; pgwire notices the pooler by itself
}
TEXT_FIRST_MODES = ("uncached",)  # where run 1 takes the text path (not through pgbouncer)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared_conns() -> AsyncIterator[dict[tuple[str, str], Any]]:
    conns: dict[tuple[str, str], Any] = {}
    yield conns
    for conn in conns.values():
        if not conn.is_closed():
            await conn.close()


async def _connect(request: pytest.FixtureRequest, api: Any, mode: str) -> Any:
    server = request.getfixturevalue("pgbouncer" if mode == "pgbouncer" else "cluster")
    return await api.connect(**{**server.connect_kwargs(), "ssl": "disable", **MODES[mode]})


@pytest_asyncio.fixture(loop_scope="module")
async def uconn(request: pytest.FixtureRequest, api: Any, schema: dict[str, str],
                shared_conns: dict[tuple[str, str], Any]) -> AsyncIterator[Any]:
    """The module's connection in the mode the test is parametrized with (per API)."""
    mode = request.param
    key = (api.name, mode)
    if key not in shared_conns:
        shared_conns[key] = await _connect(request, api, mode)
    conn = shared_conns[key]
    yield conn
    if conn.is_closed() or conn.is_in_transaction():
        conn.terminate()
        del shared_conns[key]


def _mode(request: pytest.FixtureRequest) -> str:
    return str(request.node.callspec.params["uconn"])


def in_modes(cases: Sequence[Any], bugs: dict[str, Any] | None = None) -> list[Any]:
    """``cases`` once per mode; ``bugs`` maps a mode to the mark its cases get there."""
    out = []
    for mode in MODES:
        for case in cases:
            if not hasattr(case, "values"):
                case = pytest.param(case, id=str(case))
            marks = [*case.marks, *([bugs[mode]] if bugs and mode in bugs else [])]
            out.append(pytest.param(mode, *case.values, marks=marks, id=f"{mode}-{case.id}"))
    return out


def over_modes(argnames: str, cases: Sequence[Any], bugs: dict[str, Any] | None = None) -> Any:
    names = ["uconn", *(name.strip() for name in argnames.split(",") if name.strip())]
    return pytest.mark.parametrize(names, in_modes(cases, bugs), indirect=["uconn"])


ALL_MODES = pytest.mark.parametrize("uconn", list(MODES), indirect=True)


# ---------------------------------------------------------------------------
# enums

ODD = 'a "quoted", {odd} one'


@ASYNC
@ALL_MODES
async def test_enum(uconn: Any) -> None:
    await roundtrip(uconn, f"SELECT 'ok'::{S}.mood", [], "ok")
    await roundtrip(uconn, f"SELECT $1::{S}.mood", [ODD], ODD)
    await roundtrip(uconn, f"SELECT $1::{S}.mood", [None], None)
    await roundtrip(uconn, f"SELECT enum_range(NULL::{S}.mood)", [], ["sad", "ok", "happy", ODD])
    await roundtrip(uconn, f"SELECT ARRAY['happy'::{S}.mood, NULL, $1]", [ODD],
                    ["happy", None, ODD])
    await roundtrip(uconn, f"SELECT $1::{S}.mood[]", [["sad", None, ODD]], ["sad", None, ODD])
    await roundtrip(uconn, f"SELECT $1::{S}.mood[]", [[["sad"], [ODD]]], [["sad"], [ODD]])
    await roundtrip(uconn, f"SELECT $1::{S}.mood[]", [[]], [])
    # the server compares by the enum's order, so the values really are the enum's
    await roundtrip(uconn, f"SELECT $1::{S}.mood < $2::{S}.mood", ["sad", "happy"], True)


# ---------------------------------------------------------------------------
# composites

TRIO = record(i=1, t='a "b", (c)', n=Decimal("1.50"))


@ASYNC
@ALL_MODES
async def test_composite_is_a_record_with_names(uconn: Any) -> None:
    sql = unique(f"SELECT (1, 'a \"b\", (c)', 1.50)::{S}.trio")
    for run in range(RUNS):
        value = await uconn.fetchval(sql)
        assert isinstance(value, Record), (_label(run), value)
        assert list(value.keys()) == ["i", "t", "n"], _label(run)
        assert value["t"] == 'a "b", (c)' and value[2] == Decimal("1.50"), _label(run)
        assert _key(value) == _key(TRIO), (_label(run), value)
    await roundtrip(uconn, f"SELECT ROW(NULL, NULL, NULL)::{S}.trio", [],
                    record(i=None, t=None, n=None))
    await roundtrip(uconn, f"SELECT ROW(NULL, '', NULL)::{S}.trio", [],
                    record(i=None, t="", n=None))


@ASYNC
@ALL_MODES
async def test_composite_parameters(uconn: Any) -> None:
    sql = f"SELECT $1::{S}.trio"
    await roundtrip(uconn, sql, [(1, 'a "b", (c)', Decimal("1.50"))], TRIO)  # a tuple
    await roundtrip(uconn, sql, [[1, 'a "b", (c)', Decimal("1.50")]], TRIO)  # a list
    await roundtrip(uconn, sql, [{"n": Decimal("1.50"), "i": 1, "t": 'a "b", (c)'}], TRIO)
    await roundtrip(uconn, sql, [{"t": "only t"}], record(i=None, t="only t", n=None))
    await roundtrip(uconn, sql, [TRIO], TRIO)  # a Record
    read = await uconn.fetchval(unique(f"SELECT (7, 'r', 2)::{S}.trio"))
    await roundtrip(uconn, sql, [read], record(i=7, t="r", n=Decimal("2")))
    await roundtrip(uconn, sql, [(None, None, None)], record(i=None, t=None, n=None))
    await roundtrip(uconn, sql, [(None, "", None)], record(i=None, t="", n=None))
    await roundtrip(uconn, sql, [None], None)
    # the server sees the attributes
    await roundtrip(uconn, f"SELECT ($1::{S}.trio).t || '!'", [(1, "x", 2)], "x!")


def _tree(n: int) -> Record:
    leaf = record(a=n, b=f"leaf {n}, \"q\"")
    branch = record(l=leaf, ls=[leaf, None, record(a=None, b="")], m="happy")
    return record(b=branch, n=n * 10, bs=[branch, None])


@ASYNC
@ALL_MODES
async def test_nested_composite_three_levels(uconn: Any) -> None:
    leaf = f"ROW(1, 'leaf 1, \"q\"')::{S}.leaf"
    branch = f"ROW({leaf}, ARRAY[{leaf}, NULL, ROW(NULL, '')::{S}.leaf], 'happy')::{S}.branch"
    literal = f"ROW({branch}, 10, ARRAY[{branch}, NULL])::{S}.tree"
    await roundtrip(uconn, f"SELECT {literal}", [], _tree(1))
    await roundtrip(uconn, f"SELECT $1::{S}.tree", [_tree(2)], _tree(2))
    as_tuples = (((2, 'leaf 2, "q"'), [(2, 'leaf 2, "q"'), None, (None, "")], "happy"), 20,
                 [((2, 'leaf 2, "q"'), [(2, 'leaf 2, "q"'), None, (None, "")], "happy"), None])
    await roundtrip(uconn, f"SELECT $1::{S}.tree", [as_tuples], _tree(2))
    as_dicts = {"n": 20, "b": {"l": {"a": 2, "b": 'leaf 2, "q"'},
                               "ls": [{"a": 2, "b": 'leaf 2, "q"'}, None, {"b": ""}],
                               "m": "happy"},
                "bs": [_tree(2)["b"], None]}
    await roundtrip(uconn, f"SELECT $1::{S}.tree", [as_dicts], _tree(2))
    await roundtrip(uconn, f"SELECT ($1::{S}.tree).b.l.b", [_tree(3)], 'leaf 3, "q"')


@ASYNC
@ALL_MODES
async def test_composite_arrays(uconn: Any) -> None:
    one, two = record(i=1, t="a", n=Decimal("1")), record(i=2, t=None, n=Decimal("2.5"))
    await roundtrip(uconn, f"SELECT ARRAY[(1, 'a', 1)::{S}.trio, NULL, (2, NULL, 2.5)::{S}.trio]", [],
                    [one, None, two])
    await roundtrip(uconn, f"SELECT $1::{S}.trio[]", [[(1, "a", 1), None, two]],
                    [one, None, two])
    # tuples are composite values, lists are dimensions
    await roundtrip(uconn, f"SELECT $1::{S}.trio[]", [[[(1, "a", 1)], [two]]], [[one], [two]])
    await roundtrip(uconn, f"SELECT $1::{S}.trio[]", [[]], [])
    await roundtrip(uconn, f"SELECT '{{}}'::{S}.trio[]", [], [])
    await roundtrip(uconn, f"SELECT ARRAY[$1::{S}.trio]", [{"i": 3}],
                    [record(i=3, t=None, n=None)])


@ASYNC
@ALL_MODES
async def test_composite_with_a_dropped_attribute(uconn: Any) -> None:
    value = record(a=1, c=3, d=dt.date(2020, 1, 2))
    await roundtrip(uconn, f"SELECT ROW(1, 3, '2020-01-02')::{S}.gappy", [], value)
    await roundtrip(uconn, f"SELECT $1::{S}.gappy", [(1, 3, dt.date(2020, 1, 2))], value)
    await roundtrip(uconn, f"SELECT $1::{S}.gappy", [{"c": 3}], record(a=None, c=3, d=None))
    await roundtrip(uconn, f"SELECT ARRAY[$1::{S}.gappy]", [value], [value])


# ---------------------------------------------------------------------------
# domains

@ASYNC
@ALL_MODES
async def test_domains(uconn: Any) -> None:
    await roundtrip(uconn, f"SELECT 5::{S}.posint", [], 5)
    await roundtrip(uconn, f"SELECT $1::{S}.posint", [7], 7)
    await roundtrip(uconn, f"SELECT ARRAY[$1::{S}.posint, NULL]", [7], [7, None])
    trio = record(i=1, t="d", n=Decimal("2"))
    await roundtrip(uconn, f"SELECT (1, 'd', 2)::{S}.dtrio", [], trio)
    await roundtrip(uconn, f"SELECT $1::{S}.dtrio", [(1, "d", 2)], trio)
    await roundtrip(uconn, f"SELECT $1::{S}.dtrio", [{"t": "d", "i": 1, "n": 2}], trio)
    # the domain's check is the server's
    with pytest.raises(pgwire.PostgresError, match="posint"):
        await uconn.fetchval(unique(f"SELECT $1::{S}.posint"), -1)
    await assert_usable(uconn)


# ---------------------------------------------------------------------------
# ranges and multiranges of user types

@ASYNC
@ALL_MODES
async def test_user_range_over_float8(uconn: Any) -> None:
    await roundtrip(uconn, f"SELECT '[1.5,2.5)'::{S}.floatrange", [], Range(1.5, 2.5))
    await roundtrip(uconn, f"SELECT '(-Infinity,1e300]'::{S}.floatrange", [],
                    Range(float("-inf"), 1e300, lower_inc=False, upper_inc=True))
    await roundtrip(uconn, f"SELECT '(,)'::{S}.floatrange", [], Range())
    await roundtrip(uconn, f"SELECT 'empty'::{S}.floatrange", [], Range(empty=True))
    for value in (Range(-0.5, 0.25, lower_inc=False, upper_inc=True), Range(None, 3.0),
                  Range(2.0, None), Range(empty=True), Range(1.0, 1.0, upper_inc=True)):
        await roundtrip(uconn, f"SELECT $1::{S}.floatrange", [value], value)
    await roundtrip(uconn, f"SELECT $1::{S}.floatrange", [(1.5, 2.5)], Range(1.5, 2.5))
    await roundtrip(uconn, f"SELECT $1::{S}.floatrange", [Range(1.0, 1.0)], Range(empty=True))
    await roundtrip(uconn, f"SELECT ARRAY['[1,2)'::{S}.floatrange, NULL, 'empty']", [],
                    [Range(1.0, 2.0), None, Range(empty=True)])
    await roundtrip(uconn, f"SELECT $1::{S}.floatrange[]", [[Range(1.0, 2.0), None]],
                    [Range(1.0, 2.0), None])
    # the server sees the bounds
    await roundtrip(uconn, f"SELECT upper($1::{S}.floatrange)", [Range(1.0, 2.5)], 2.5)


@ASYNC
@ALL_MODES
async def test_user_multirange(uconn: Any) -> None:
    value = [Range(None, 1.0), Range(2.0, 3.0, upper_inc=True)]
    await roundtrip(uconn, f"SELECT '{{(,1), [2,3]}}'::{S}.floatmultirange", [], value)
    await roundtrip(uconn, f"SELECT $1::{S}.floatmultirange", [value], value)
    await roundtrip(uconn, f"SELECT $1::{S}.floatmultirange", [[(2.0, 3.0), (0.0, 1.0)]],
                    [Range(0.0, 1.0), Range(2.0, 3.0)])  # the server sorts and merges
    await roundtrip(uconn, f"SELECT '{{}}'::{S}.floatmultirange", [], [])
    await roundtrip(uconn, f"SELECT $1::{S}.floatmultirange", [[]], [])
    await roundtrip(uconn, f"SELECT ARRAY['{{[1,2)}}'::{S}.floatmultirange, NULL]", [],
                    [[Range(1.0, 2.0)], None])


@ASYNC
@over_modes("", [pytest.param(id="floatmultirange-array")])
async def test_user_multirange_array_param(uconn: Any) -> None:
    await roundtrip(uconn, f"SELECT $1::{S}.floatmultirange[]", [[[Range(1.0, 2.0)], None]],
                    [[Range(1.0, 2.0)], None])


@ASYNC
@ALL_MODES
async def test_range_over_a_user_subtype(uconn: Any) -> None:
    """Ranges of an enum and of a domain: bounds decode with the subtype's codec."""
    await roundtrip(uconn, f"SELECT '[sad,happy]'::{S}.moodrange", [],
                    Range("sad", "happy", upper_inc=True))
    await roundtrip(uconn, f"SELECT '[sad,ok)'::{S}.moodrange", [], Range("sad", "ok"))
    await roundtrip(uconn, f"SELECT '{{[sad,ok)}}'::{S}.moodmultirange", [], [Range("sad", "ok")])
    await roundtrip(uconn, f"SELECT $1::{S}.moodrange", [Range("ok", None)], Range("ok", None))
    await roundtrip(uconn, f"SELECT '[1,5)'::{S}.posrange", [], Range(1, 5))
    await roundtrip(uconn, f"SELECT $1::{S}.posrange", [Range(2, 3)], Range(2, 3))


RANGE_ORDER_CASES: list[Any] = [
    pytest.param("moodrange", "'[sad,happy)'", Range("sad", "happy"), id="enum"),
    pytest.param("money_range", "'[2,10)'", Range("$2.00", "$10.00"), id="money"),
]


@ASYNC
@over_modes("rangetype, literal, value", RANGE_ORDER_CASES)
async def test_range_read_can_be_sent_back(uconn: Any, rangetype: str, literal: str,
                                           value: Range[Any]) -> None:
    read = await uconn.fetchval(unique(f"SELECT {literal}::{S}.{rangetype}"))
    assert _key(read) == _key(value)
    await roundtrip(uconn, f"SELECT $1::{S}.{rangetype}", [read], value)


@ASYNC
@over_modes("name, subtype, lower_sql, upper_sql, lower, upper", SUBTYPES)
async def test_range_of_builtin_subtype(uconn: Any, name: str, subtype: str, lower_sql: str,
                                        upper_sql: str, lower: Any, upper: Any) -> None:
    rangetype, multirange = f"{S}.{name}_range", f"{S}.{name}_multirange"
    bounds = f"{_typed(lower_sql, subtype)}, {_typed(upper_sql, subtype)}"
    closed = Range(lower, upper, upper_inc=True)
    await roundtrip(uconn, f"SELECT {rangetype}({bounds}, '[]')", [], closed)
    await roundtrip(uconn, f"SELECT $1::{rangetype}", [closed], closed)
    await roundtrip(uconn, f"SELECT $1::{rangetype}", [Range(lower, None)], Range(lower, None))
    await roundtrip(uconn, f"SELECT $1::{rangetype}", [Range(None, upper, upper_inc=True)],
                    Range(None, upper, upper_inc=True))
    # the text form the server prints of the range reads back the same
    await roundtrip(uconn, f"SELECT ({rangetype}({bounds}, '(]')::text)::{rangetype}", [],
                    Range(lower, upper, lower_inc=False, upper_inc=True))
    await roundtrip(uconn, f"SELECT {multirange}({rangetype}({bounds}))", [],
                    [Range(lower, upper)])
    await roundtrip(uconn, f"SELECT $1::{multirange}", [[Range(lower, upper)]],
                    [Range(lower, upper)])
    await roundtrip(uconn, f"SELECT ARRAY[{rangetype}({bounds}), NULL]", [],
                    [Range(lower, upper), None])
    await roundtrip(uconn, f"SELECT $1::{rangetype}[]", [[Range(lower, upper), None]],
                    [Range(lower, upper), None])
    # the server sees the bounds
    await roundtrip(uconn, f"SELECT upper($1::{rangetype}) = {_typed(upper_sql, subtype)}",
                    [Range(lower, upper)], True)


# ---------------------------------------------------------------------------
# hstore and citext

HSTORE_VALUE = {"a": "1", "b": None, "": "empty key", 'q"uo\\te': "v=>x, y", "NULL": "NULL",
                "é😀": " sp "}


@ASYNC
@ALL_MODES
async def test_hstore(uconn: Any, hstore_type: str) -> None:
    await roundtrip(uconn, f"""SELECT 'a=>1, b=>NULL, c=>"NULL", "d e"=>""'::{hstore_type}""", [],
                    {"a": "1", "b": None, "c": "NULL", "d e": ""})
    await roundtrip(uconn, f"SELECT $1::{hstore_type}", [HSTORE_VALUE], HSTORE_VALUE)
    await roundtrip(uconn, f"SELECT $1::{hstore_type}", [{}], {})
    await roundtrip(uconn, f"SELECT ''::{hstore_type}", [], {})
    await roundtrip(uconn, f"SELECT $1::{hstore_type}", [None], None)
    await roundtrip(uconn, f"SELECT ARRAY[$1::{hstore_type}, NULL, 'x=>y']", [{"k": None}],
                    [{"k": None}, None, {"x": "y"}])
    await roundtrip(uconn, f"SELECT $1::{hstore_type}[]", [[HSTORE_VALUE, None, {}]],
                    [HSTORE_VALUE, None, {}])
    # the server reads the pairs as sent (the extension's functions: its operators may
    # be outside the search path)
    ext = hstore_type.rpartition(".")[0]
    await roundtrip(uconn, f"SELECT {ext}.fetchval($1::{hstore_type}, 'q\"uo\\te')",
                    [HSTORE_VALUE], "v=>x, y")
    await roundtrip(uconn, f"SELECT {ext}.fetchval($1::{hstore_type}, 'b') IS NULL "
                    f"AND {ext}.exist($1, 'b') AND {ext}.exist($1, '')", [HSTORE_VALUE], True)


@ASYNC
@ALL_MODES
async def test_citext(uconn: Any, citext_type: str) -> None:
    await roundtrip(uconn, f"SELECT 'MiXeD é'::{citext_type}", [], "MiXeD é")
    await roundtrip(uconn, f"SELECT $1::{citext_type}", ["AbC"], "AbC")
    ext = citext_type.rpartition(".")[0]
    await roundtrip(uconn, f"SELECT $1::{citext_type} OPERATOR({ext}.=) 'abc'", ["AbC"], True)
    await roundtrip(uconn, f"SELECT ARRAY[$1::{citext_type}, NULL]", ["X,Y"], ["X,Y", None])
    await roundtrip(uconn, f"SELECT $1::{citext_type}[]", [["a", None, "{b}"]], ["a", None, "{b}"])


# ---------------------------------------------------------------------------
# a table's row type, and COPY into user-typed columns

THING_1 = record(id=1, m="ok", c=record(i=1, t="x", n=Decimal("1.5")), r=Range(1.5, 2.0),
                 ms=["sad", None])
THING_2 = record(id=2, m=None, c=None, r=None, ms=None)


@ASYNC
@ALL_MODES
async def test_table_row_type(uconn: Any) -> None:
    await roundtrip(uconn, f"SELECT t FROM {S}.things t WHERE id = 1", [], THING_1)
    await roundtrip(uconn, f"SELECT t FROM {S}.things t WHERE id = 2", [], THING_2)
    await roundtrip(uconn, f"SELECT array_agg(t ORDER BY id) FROM {S}.things t", [],
                    [THING_1, THING_2])
    await roundtrip(uconn, f"SELECT $1::{S}.things", [THING_1], THING_1)
    await roundtrip(uconn, f"SELECT ($1::{S}.things).c.t", [THING_1], "x")
    sql = unique(f"SELECT * FROM {S}.things ORDER BY id")
    for run in range(RUNS):
        rows = await uconn.fetch(sql)
        assert [_key(row) for row in rows] == [_key(THING_1), _key(THING_2)], _label(run)


@ASYNC
@ALL_MODES
async def test_copy_records_to_table(uconn: Any) -> None:
    rows = [
        (1, "happy", (1, "a,b", Decimal("1.25")), Range(0.5, 1.5), Range(1, 5),
         [Range(None, 0.0), Range(1.0, 2.0)], [(1, "x"), None], 3),
        (2, ODD, {"t": "dict"}, Range(empty=True), Range(None, 3), [], [], None),
        (3, None, None, None, None, None, None, None),
    ]
    async with uconn.transaction():
        await uconn.execute(f"DELETE FROM {S}.copied")
        await uconn.copy_records_to_table("copied", schema_name=S, records=rows)
        got = await uconn.fetch(f"SELECT * FROM {S}.copied ORDER BY id")
        await uconn.execute(f"DELETE FROM {S}.copied")
    expected = [
        record(id=1, m="happy", c=record(i=1, t="a,b", n=Decimal("1.25")), r=Range(0.5, 1.5),
               ir=Range(1, 5), mr=[Range(None, 0.0), Range(1.0, 2.0)],
               l=[record(a=1, b="x"), None], d=3),
        record(id=2, m=ODD, c=record(i=None, t="dict", n=None), r=Range(empty=True),
               ir=Range(None, 3), mr=[], l=[], d=None),
        record(id=3, m=None, c=None, r=None, ir=None, mr=None, l=None, d=None),
    ]
    assert [_key(row) for row in got] == [_key(row) for row in expected]
    await assert_usable(uconn)


@ASYNC
@pytest.mark.parametrize("mode", list(MODES))
async def test_introspection_on_a_fresh_connection(request: pytest.FixtureRequest, api: Any,
                                                   schema: dict[str, str], mode: str) -> None:
    """The first statement naming a nested type looks all its parts up at once."""
    conn = await _connect(request, api, mode)
    try:
        registry = conn.type_registry
        value = await conn.fetchval(f"SELECT $1::{S}.tree[]", [_tree(4), None])
        assert _key(value) == _key([_tree(4), None])
        oids_ = await conn.fetch(
            "SELECT t.oid, t.typname FROM pg_type t JOIN pg_namespace n "
            "ON n.oid = t.typnamespace WHERE n.nspname = $1 "
            "AND t.typname IN ('tree', '_tree', 'branch', '_branch', 'leaf', '_leaf', 'mood')", S)
        assert len(oids_) == 7
        for row in oids_:
            assert registry.knows(row["oid"]), row["typname"]
            assert registry.type_schema(row["oid"]) == S
        # a type changed behind pgwire's back is looked up again after reload_schema_state()
        fresh = f"{S}.fresh_{api.name}_{mode}"
        await conn.execute(f"CREATE TYPE {fresh} AS (a int4)")
        assert _key(await conn.fetchval(f"SELECT ROW(1)::{fresh}")) == _key(record(a=1))
        await conn.execute(f"ALTER TYPE {fresh} ADD ATTRIBUTE b text")
        await conn.reload_schema_state()
        assert _key(await conn.fetchval(f"SELECT ROW(1, 'b')::{fresh}")) == _key(
            record(a=1, b="b"))
    finally:
        await conn.close()


# ---------------------------------------------------------------------------
# bad parameters: a DataError naming $1 and the type; the connection stays usable

# (SQL type, argument, the type's name in the message, refused by the server on the
# text first run rather than by pgwire)
BAD_PARAMS: list[Any] = [
    pytest.param(f"{S}.mood", 5, "mood", True, id="enum-given-int"),
    pytest.param(f"{S}.trio", 5, "trio", True, id="composite-given-int"),
    pytest.param("int4range", 5, "int4range", True, id="range-given-int"),
    pytest.param(f"{S}.floatrange", "not a range", "floatrange", True, id="range-given-str"),
    pytest.param(f"{S}.trio", {1, 2, 3}, "trio", False, id="composite-given-set"),
    pytest.param(f"{S}.floatrange", Range(5.0, 1.0), "floatrange", False,
                 id="user-range-lower-above-upper"),
    pytest.param("int4range", Range(5, 1), "int4range", False, id="range-lower-above-upper"),
    pytest.param("numrange", (Decimal("2"), Decimal("1.5")), "numrange", False,
                 id="range-tuple-lower-above-upper"),
    pytest.param("daterange", Range(dt.date(2020, 1, 2), dt.date(2020, 1, 1)), "daterange", False,
                 id="daterange-lower-above-upper"),
    pytest.param(f"{S}.floatmultirange", [Range(3.0, 1.0)], "floatmultirange", False,
                 id="multirange-lower-above-upper"),
    pytest.param(f"{S}.trio", (1, "a"), "trio", False, id="composite-too-few"),
    pytest.param(f"{S}.trio", (1, "a", 2, 3), "trio", False, id="composite-too-many"),
    pytest.param(f"{S}.trio", {"i": 1, "x": 2}, "trio", False, id="dict-unknown-attribute"),
    pytest.param(f"{S}.gappy", {"b": "dropped"}, "gappy", False, id="dict-dropped-attribute"),
    pytest.param(f"{S}.tree", (((1, "a"), [], "ok"), 1, [(1, 2)]), "tree", False,
                 id="nested-composite-wrong-arity"),
    pytest.param(f"{S}.trio", ("one", "a", 1), "trio", False,
                 id="composite-wrong-attribute-type"),
    pytest.param("int4[]", [[1, 2], [3]], "int4[]", False, id="ragged-int4"),
    pytest.param(f"{S}.mood[]", [["ok"], ["sad", "ok"]], "mood[]", False, id="ragged-enum"),
    pytest.param(f"{S}.trio[]", [[(1, "a", 1)], []], "trio[]", False, id="ragged-composite"),
    pytest.param("cidr", "10.1.2.3/8", "cidr", True, id="cidr-host-bits-str"),
    pytest.param("cidr", ipaddress.IPv4Interface("10.1.2.3/8"), "cidr", False,
                 id="cidr-host-bits-interface"),
    pytest.param("cidr[]", ["10.0.0.0/8", "10.1.2.3/8"], "cidr", False,
                 id="cidr-array-host-bits"),
    pytest.param("inet", "not an address", "inet", True, id="inet-malformed"),
    pytest.param("inet", "10.0.0.300", "inet", True, id="inet-octet-too-big"),
    pytest.param("inet", 167772161, "inet", True, id="inet-given-int"),
    pytest.param("macaddr", "08:00:2b:01:02", "macaddr", True, id="macaddr-short"),
    pytest.param("varbit", "10201", "varbit", True, id="varbit-not-binary"),
    pytest.param("point", (1, 2, 3), "point", False, id="point-three-numbers"),
]


def _bad_param_cases() -> list[Any]:
    return [pytest.param(mode, *case.values, id=f"{mode}-{case.id}")
            for mode in MODES for case in BAD_PARAMS]


async def _refusals(conn: Any, sqltype: str, value: Any, *,
                    looked_up: bool = True) -> list[pgwire.DataError]:
    """Run a new ``SELECT $1::sqltype`` RUNS times: each must raise DataError and leave the
    connection usable.  ``looked_up``: read a value of the type first, so that the
    connection knows it (else the outcome would depend on the tests run before)."""
    if looked_up:
        assert await conn.fetchval(unique(f"SELECT NULL::{sqltype}")) is None
    sql = unique(f"SELECT $1::{sqltype}")
    errors = []
    for _ in range(RUNS):
        with pytest.raises(pgwire.DataError) as info:
            await conn.fetchval(sql, value)
        await assert_usable(conn)
        errors.append(info.value)
    return errors


def _check_named(errors: Sequence[pgwire.DataError], type_name: str, first_run: int) -> None:
    for run, error in enumerate(errors):
        message = str(error)
        if run >= first_run and ("$1" not in message or type_name not in message):
            pytest.fail(f"{_label(run)}: {type(error).__name__}: {message}", pytrace=False)


@ASYNC
@pytest.mark.parametrize("uconn, sqltype, value, type_name, by_server", _bad_param_cases(),
                         indirect=["uconn"])
async def test_bad_parameter(request: pytest.FixtureRequest, uconn: Any, sqltype: str,
                             value: Any, type_name: str, by_server: bool) -> None:
    """Every run raises DataError naming $1 and the type; where the text first run leaves
    the check to the server, run 1 raises the server's DataError (see the next test)."""
    errors = await _refusals(uconn, sqltype, value)
    text_first = by_server and _mode(request) in TEXT_FIRST_MODES
    _check_named(errors, type_name, 1 if text_first else 0)


@ASYNC
@LIMIT_TEXT_FIRST_RUN_SERVER_CHECKS
@pytest.mark.parametrize(
    "uconn, sqltype, value, type_name",
    [pytest.param(mode, *case.values[:3], id=f"{mode}-{case.id}")
     for mode in TEXT_FIRST_MODES for case in BAD_PARAMS if case.values[3]],
    indirect=["uconn"])
async def test_bad_parameter_named_on_first_use(uconn: Any, sqltype: str, value: Any,
                                                type_name: str) -> None:
    _check_named(await _refusals(uconn, sqltype, value), type_name, 0)


@ASYNC
@pytest.mark.parametrize(
    "sqltype, value, type_name",
    [pytest.param(*case.values[:3], id=case.id)
     for case in BAD_PARAMS if case.values[3] and case.values[0].startswith(S)])
async def test_bad_parameter_of_a_user_type_not_looked_up_yet(
        request: pytest.FixtureRequest, api: Any, schema: dict[str, str], sqltype: str,
        value: Any, type_name: str) -> None:
    """On a fresh connection with statement_cache_size=0, as with built-in types: run 1
    is the server's refusal (text path), later runs pgwire's DataError naming $1."""
    conn = await _connect(request, api, "uncached")
    try:
        errors = await _refusals(conn, sqltype, value, looked_up=False)
        _check_named(errors, type_name, 1)
    finally:
        await conn.close()


@ASYNC
@ALL_MODES
async def test_bad_parameters_inside_a_transaction(uconn: Any, hstore_type: str) -> None:
    """A parameter refused by pgwire leaves the transaction intact."""
    async with uconn.transaction():
        for sqltype, value in ((f"{S}.trio", (1, 2)), (hstore_type, {"k": 1}), (hstore_type, {1: "v"}),
                               (f"{S}.floatrange", Range(2.0, 1.0))):
            sql = unique(f"SELECT $1::{sqltype}")
            with pytest.raises(pgwire.DataError, match=r"\$1"):
                await uconn.fetchval(sql, value)
        assert await uconn.fetchval("SELECT 1") == 1
    await assert_usable(uconn)


# ---------------------------------------------------------------------------
# property-based round trips through the server (blocking API, one connection per test)

PROPERTY_SETTINGS = settings(max_examples=50, deadline=None,
                             suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(params=["cached", "uncached"])
def sconn(request: pytest.FixtureRequest, cluster: Any, schema: dict[str, str]) -> Iterator[Any]:
    """A blocking connection of this test alone, with the statement cache or without."""
    conn = pgwire.connect_sync(**cluster.connect_kwargs(), ssl="disable",
                               **MODES[request.param])
    try:
        yield conn
    finally:
        conn.close()


def check_sync(conn: Any, sql: str, value: Any, expected: Any) -> None:
    """A new statement, run twice (the text path first, where taken, then binary)."""
    sql = unique(sql)
    for run in range(2):
        got = conn.fetchval(sql, value)
        assert _key(got) == _key(expected), f"{_label(run)}: sent {value!r}, got {got!r}"


def _discrete(parts: tuple[Any, Any, bool, bool], step: Any) -> Range[Any]:
    """The canonical form the server gives a discrete range: [lower, upper)."""
    lower, upper, lower_inc, upper_inc = parts
    if lower is not None and not lower_inc:
        lower += step
    if upper is not None and upper_inc:
        upper += step
    if lower is not None and upper is not None and lower >= upper:
        return Range(empty=True)
    return Range(lower, upper)


@st.composite
def ranges(draw: st.DrawFn, bounds: st.SearchStrategy[Any]) -> tuple[Range[Any], Any]:
    """A Range of ``bounds`` (lower <= upper; None for unbounded), and its bounds."""
    lower, upper = draw(st.none() | bounds), draw(st.none() | bounds)
    if lower is not None and upper is not None and lower > upper:
        lower, upper = upper, lower
    if draw(st.integers(0, 20)) == 0:
        return Range(empty=True), None
    lower_inc, upper_inc = draw(st.booleans()), draw(st.booleans())
    return Range(lower, upper, lower_inc=lower_inc, upper_inc=upper_inc), (lower, upper,
                                                                         lower_inc, upper_inc)


def _continuous(value: Range[Any]) -> Range[Any]:
    """The server's form of a continuous range: empty when the bounds meet but exclude."""
    if value.isempty:
        return value
    if value.lower is not None and value.lower == value.upper and not (
            value.lower_inc and value.upper_inc):
        return Range(empty=True)
    return value


@PROPERTY_SETTINGS
@given(drawn=ranges(st.integers(-(2**31), 2**31 - 2)))
def test_property_int4range(sconn: Any, drawn: tuple[Range[int], Any]) -> None:
    value, parts = drawn
    expected = value if parts is None else _discrete(parts, 1)
    check_sync(sconn, "SELECT $1::int4range", value, expected)


@PROPERTY_SETTINGS
@given(drawn=ranges(st.integers(-(2**63), 2**63 - 2)))
def test_property_int8range(sconn: Any, drawn: tuple[Range[int], Any]) -> None:
    value, parts = drawn
    expected = value if parts is None else _discrete(parts, 1)
    check_sync(sconn, "SELECT $1::int8range", value, expected)


@st.composite
def decimals(draw: st.DrawFn) -> Decimal:
    """Finite numerics as the server prints them: no exponent above 0, no negative zero."""
    digits = draw(st.lists(st.integers(0, 9), min_size=1, max_size=30))
    value = Decimal((draw(st.integers(0, 1)), tuple(digits), draw(st.integers(-30, 10))))
    if value.as_tuple().exponent > 0:  # type: ignore[operator]
        value = Decimal(int(value))
    return value.copy_abs() if value.is_zero() else value


@PROPERTY_SETTINGS
@given(drawn=ranges(decimals()))
def test_property_numrange(sconn: Any, drawn: tuple[Range[Decimal], Any]) -> None:
    value, _ = drawn
    check_sync(sconn, "SELECT $1::numrange", value, _continuous(value))


@PROPERTY_SETTINGS
@given(drawn=ranges(st.dates(min_value=dt.date(1, 1, 2), max_value=dt.date(9999, 12, 29))))
def test_property_daterange(sconn: Any, drawn: tuple[Range[dt.date], Any]) -> None:
    value, parts = drawn
    expected = value if parts is None else _discrete(parts, dt.timedelta(days=1))
    check_sync(sconn, "SELECT $1::daterange", value, expected)


_texts = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
                 max_size=30)


@PROPERTY_SETTINGS
@given(i=st.none() | st.integers(-(2**31), 2**31 - 1), t=st.none() | _texts,
       n=st.none() | decimals(), as_dict=st.booleans())
def test_property_composite(sconn: Any, i: int | None, t: str | None, n: Decimal | None,
                            as_dict: bool) -> None:
    value: Any = {"i": i, "t": t, "n": n} if as_dict else (i, t, n)
    check_sync(sconn, f"SELECT $1::{S}.trio", value, record(i=i, t=t, n=n))


@st.composite
def inets(draw: st.DrawFn) -> tuple[Any, Any]:
    address = draw(st.ip_addresses(v=4) | st.ip_addresses(v=6))
    prefix = draw(st.integers(0, address.max_prefixlen))
    interface = ipaddress.ip_interface(f"{address}/{prefix}")
    value = draw(st.sampled_from([interface, str(interface)]))
    return value, (address if prefix == address.max_prefixlen else interface)


@PROPERTY_SETTINGS
@given(drawn=inets())
def test_property_inet(sconn: Any, drawn: tuple[Any, Any]) -> None:
    value, expected = drawn
    check_sync(sconn, "SELECT $1::inet", value, expected)


@st.composite
def cidrs(draw: st.DrawFn) -> Any:
    address = draw(st.ip_addresses(v=4) | st.ip_addresses(v=6))
    prefix = draw(st.integers(0, address.max_prefixlen))
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


@PROPERTY_SETTINGS
@given(network=cidrs(), as_str=st.booleans())
def test_property_cidr(sconn: Any, network: Any, as_str: bool) -> None:
    check_sync(sconn, "SELECT $1::cidr", str(network) if as_str else network, network)


@PROPERTY_SETTINGS
@given(bits=st.text("01", max_size=80), form=st.sampled_from(["BitString", "str", "bit(n)"]))
def test_property_bit_strings(sconn: Any, bits: str, form: str) -> None:
    if form == "bit(n)":
        if not bits:
            bits = "0"
        check_sync(sconn, f"SELECT $1::bit({len(bits)})", BitString(bits), BitString(bits))
    else:
        value: Any = BitString(bits) if form == "BitString" else bits
        check_sync(sconn, "SELECT $1::varbit", value, BitString(bits))


_coordinates = st.floats(allow_nan=True, allow_infinity=True)
_finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
_points = st.tuples(_coordinates, _coordinates)


@PROPERTY_SETTINGS
@given(p=_points)
def test_property_point(sconn: Any, p: tuple[float, float]) -> None:
    check_sync(sconn, "SELECT $1::point", Point(*p), Point(*p))
    check_sync(sconn, "SELECT $1::point", p, Point(*p))


@PROPERTY_SETTINGS
@given(a=st.tuples(_finite, _finite), b=st.tuples(_finite, _finite))
def test_property_box(sconn: Any, a: tuple[float, float], b: tuple[float, float]) -> None:
    # the server stores the upper right corner first: it swaps coordinates where the
    # first corner's is smaller (so -0.0 and 0.0 stay in place)
    (hx, lx), (hy, ly) = [(second, first) if first < second else (first, second)
                          for first, second in zip(a, b)]
    high, low = (hx, hy), (lx, ly)
    check_sync(sconn, "SELECT $1::box", Box(a, b), Box(high, low))


@PROPERTY_SETTINGS
@given(points=st.lists(_points, min_size=1, max_size=8), closed=st.booleans())
def test_property_path(sconn: Any, points: list[tuple[float, float]], closed: bool) -> None:
    value = Path(*points, is_closed=closed)
    check_sync(sconn, "SELECT $1::path", value, value)


@PROPERTY_SETTINGS
@given(points=st.lists(_points, min_size=1, max_size=8))
def test_property_polygon(sconn: Any, points: list[tuple[float, float]]) -> None:
    check_sync(sconn, "SELECT $1::polygon", Polygon(*points), Polygon(*points))
    check_sync(sconn, "SELECT $1::polygon", points, Polygon(*points))


@PROPERTY_SETTINGS
@given(center=st.tuples(_finite, _finite), radius=st.floats(0, 1e300))
def test_property_circle(sconn: Any, center: tuple[float, float], radius: float) -> None:
    check_sync(sconn, "SELECT $1::circle", Circle(center, radius), Circle(center, radius))


@PROPERTY_SETTINGS
@given(value=st.dictionaries(_texts, st.none() | _texts, max_size=6))
def test_property_hstore(sconn: Any, hstore_type: str, value: dict[str, str | None]) -> None:
    check_sync(sconn, f"SELECT $1::{hstore_type}", value, value)
