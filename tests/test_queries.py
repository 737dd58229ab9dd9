"""Running queries against a real server: execute, fetch*, executemany, Records.

Covers the everyday API (both of them: every test runs once per API, see
conftest.py): statuses returned by ``execute``, the shapes
``fetch``/``fetchrow``/``fetchval`` return, :class:`pgwire.Record` behaviour
on real results, custom record classes, ``executemany`` atomicity, and
payloads that stress the framing (NULLs, 100k rows, 10 MB values, unicode).
"""

from __future__ import annotations

import datetime
import decimal
import pickle
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire


@pytest.fixture
async def table(conn: Any) -> AsyncIterator[str]:
    """A unique table name, dropped after the test (the test creates it)."""
    name = f"t_{secrets.token_hex(6)}"
    yield name
    if not conn.is_closed():
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        await conn.execute(f"DROP TABLE IF EXISTS {name}")


class MyRecord(pgwire.Record):
    """A record subclass with an extra method, as users write them."""

    def as_dict(self) -> dict[str, Any]:
        return dict(self.items())


class OtherRecord(pgwire.Record):
    """A second subclass, to tell per-call classes from the connection's."""


# ---------------------------------------------------------------------------
# execute


async def test_execute_several_statements_returns_last_status(conn: Any, table: str) -> None:
    status = await conn.execute(
        f"CREATE TABLE {table} (a int); "
        f"INSERT INTO {table} VALUES (1), (2), (3); "
        f"UPDATE {table} SET a = a + 10 WHERE a > 1"
    )
    assert status == "UPDATE 2"
    assert await conn.fetchval(f"SELECT sum(a) FROM {table}") == 1 + 12 + 13


async def test_execute_statuses(conn: Any, table: str) -> None:
    assert await conn.execute(f"CREATE TABLE {table} (a int, b text)") == "CREATE TABLE"
    assert await conn.execute(f"INSERT INTO {table} VALUES ($1, $2)", 1, "x") == "INSERT 0 1"
    assert await conn.execute(
        f"INSERT INTO {table} SELECT g, 'y' FROM generate_series($1::int, $2::int) g", 2, 5
    ) == "INSERT 0 4"
    assert await conn.execute(f"UPDATE {table} SET b = $1 WHERE a > $2", "z", 3) == "UPDATE 2"
    assert await conn.execute(f"SELECT * FROM {table} WHERE a < $1", 3) == "SELECT 2"
    assert await conn.execute(f"DELETE FROM {table} WHERE a = $1", 1) == "DELETE 1"
    assert await conn.execute(f"DELETE FROM {table} WHERE a = $1", 1) == "DELETE 0"
    assert await conn.execute("SELECT 1") == "SELECT 1"


async def test_execute_simple_protocol_statements_are_one_implicit_transaction(
    conn: Any, table: str
) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int PRIMARY KEY)")
    with pytest.raises(pgwire.UniqueViolationError):
        await conn.execute(f"INSERT INTO {table} VALUES (1); INSERT INTO {table} VALUES (1)")
    # The first INSERT of the failed message was rolled back with it.
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_empty_query(conn: Any) -> None:
    assert await conn.execute("") == ""
    assert await conn.execute("   ;  ") == ""
    assert await conn.fetch("") == []
    assert await conn.fetchrow("") is None
    assert await conn.fetchval("") is None
    assert await conn.fetchval("SELECT 5") == 5


# ---------------------------------------------------------------------------
# fetch, fetchrow, fetchval


async def test_fetch_returns_records(conn: Any) -> None:
    rows = await conn.fetch(
        "SELECT g AS n, g * 2 AS double FROM generate_series(1, $1::int) g ORDER BY g", 3
    )
    assert isinstance(rows, list)
    assert len(rows) == 3
    assert all(isinstance(r, pgwire.Record) for r in rows)
    assert [tuple(r) for r in rows] == [(1, 2), (2, 4), (3, 6)]
    assert [r["double"] for r in rows] == [2, 4, 6]


async def test_fetch_no_rows(conn: Any) -> None:
    assert await conn.fetch("SELECT 1 WHERE false") == []
    assert await conn.fetch("SELECT 1 WHERE $1::bool", False) == []
    assert await conn.fetchrow("SELECT 1 WHERE false") is None
    assert await conn.fetchval("SELECT 1 WHERE false") is None


async def test_fetchrow_first_row_only(conn: Any) -> None:
    row = await conn.fetchrow("SELECT g, -g AS neg FROM generate_series(1, 10) g ORDER BY g")
    assert row is not None
    assert row == (1, -1)
    assert row["neg"] == -1
    # The cut-off rest of the result does not leak into the next query.
    assert await conn.fetchval("SELECT 'after'") == "after"


async def test_fetchval_by_index_and_name(conn: Any) -> None:
    query = "SELECT 1 AS a, 'two' AS b, 3.5::float8 AS c"
    assert await conn.fetchval(query) == 1
    assert await conn.fetchval(query, column=1) == "two"
    assert await conn.fetchval(query, column="c") == 3.5
    assert await conn.fetchval(query, column=-1) == 3.5
    with pytest.raises(IndexError):
        await conn.fetchval(query, column=5)
    with pytest.raises(KeyError):
        await conn.fetchval(query, column="nope")
    assert await conn.fetchval("SELECT 1") == 1


async def test_fetch_on_command_without_rows(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int)")
    assert await conn.fetch(f"INSERT INTO {table} VALUES ($1)", 1) == []
    rows = await conn.fetch(f"INSERT INTO {table} VALUES ($1), ($2) RETURNING a", 2, 3)
    assert [r["a"] for r in rows] == [2, 3]
    assert await conn.fetchval(f"DELETE FROM {table} WHERE a = $1 RETURNING a * 10", 3) == 30


async def test_parameters_reused_and_out_of_order(conn: Any) -> None:
    row = await conn.fetchrow("SELECT $2::text || $1::text, $1::text", "a", "b")
    assert row == ("ba", "a")


async def test_typed_round_trip(conn: Any) -> None:
    values: list[tuple[str, Any]] = [
        ("int2", 32767),
        ("int4", -2147483648),
        ("int8", 9223372036854775807),
        ("float8", 1.5e300),
        ("numeric", decimal.Decimal("12345678901234567890.0123456789")),
        ("bool", True),
        ("text", "hello"),
        ("bytea", b"\x00\x01\xff"),
        ("date", datetime.date(2024, 2, 29)),
        ("timestamp", datetime.datetime(2024, 2, 29, 12, 34, 56, 789012)),
        ("timestamptz", datetime.datetime(2024, 2, 29, 12, 34, 56, tzinfo=datetime.timezone.utc)),
        ("interval", datetime.timedelta(days=3, seconds=5)),
        ("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678")),
        ("int4[]", [1, 2, None, 4]),
        ("text[]", ["a", "b c", ""]),
    ]
    for type_name, value in values:
        got = await conn.fetchval(f"SELECT $1::{type_name}", value)
        assert got == value, type_name
        assert type(got) is type(value), type_name


async def test_nulls(conn: Any, table: str) -> None:
    row = await conn.fetchrow("SELECT NULL::int AS a, $1::text AS b, NULL AS c", None)
    assert row == (None, None, None)
    assert row["a"] is None and row["b"] is None
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")
    await conn.execute(f"INSERT INTO {table} VALUES ($1, $2)", None, None)
    await conn.executemany(f"INSERT INTO {table} VALUES ($1, $2)", [(1, None), (None, "x")])
    assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE a IS NULL") == 2
    assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE b IS NULL") == 2
    assert await conn.fetchval("SELECT $1::int IS NULL", None) is True


# ---------------------------------------------------------------------------
# Records on real results


async def test_record_behaviour(conn: Any) -> None:
    row = await conn.fetchrow("SELECT 1 AS id, 'alice' AS name, NULL::int AS age")
    assert row is not None
    assert row["id"] == 1 and row["name"] == "alice" and row["age"] is None
    assert row[0] == 1 and row[1] == "alice" and row[-1] is None
    assert row[0:2] == (1, "alice")
    assert row[1:] == ("alice", None)
    assert len(row) == 3
    assert list(row) == [1, "alice", None]
    assert list(row.keys()) == ["id", "name", "age"]
    assert list(row.values()) == [1, "alice", None]
    assert list(row.items()) == [("id", 1), ("name", "alice"), ("age", None)]
    assert dict(row.items()) == {"id": 1, "name": "alice", "age": None}
    assert row.get("name") == "alice"
    assert row.get("missing") is None
    assert row.get("missing", 7) == 7
    assert "name" in row and "alice" not in row
    assert row == (1, "alice", None)
    assert hash(row) == hash((1, "alice", None))
    assert repr(row) == "<Record id=1 name='alice' age=None>"
    with pytest.raises(KeyError):
        row["missing"]
    with pytest.raises(IndexError):
        row[3]
    with pytest.raises(TypeError):
        row[0] = 2  # type: ignore[index]


async def test_record_equality_between_results(conn: Any) -> None:
    a = await conn.fetchrow("SELECT 1 AS x, 'y' AS y")
    b = await conn.fetchrow("SELECT 1 AS other, 'y' AS names")
    c = await conn.fetchrow("SELECT 2 AS x, 'y' AS y")
    assert a == b  # values are compared, not names
    assert a != c
    assert a < c
    assert sorted([c, a]) == [a, c]
    assert {a, b, c} == {a, c}


async def test_record_duplicate_column_names(conn: Any) -> None:
    row = await conn.fetchrow("SELECT 1 AS a, 2 AS a, 3 AS b")
    assert row["a"] == 2  # the last column of that name, as in asyncpg
    assert list(row.keys()) == ["a", "a", "b"]
    assert tuple(row) == (1, 2, 3)


async def test_record_pickle(conn: Any) -> None:
    rows = await conn.fetch("SELECT g AS n, repeat('x', g) AS s FROM generate_series(1, 3) g")
    restored = pickle.loads(pickle.dumps(rows))
    assert restored == rows
    assert all(isinstance(r, pgwire.Record) for r in restored)
    assert [r["s"] for r in restored] == ["x", "xx", "xxx"]
    assert list(restored[0].keys()) == ["n", "s"]


async def test_record_class_on_connect(make_conn: Any) -> None:
    conn = await make_conn(record_class=MyRecord)
    rows = await conn.fetch("SELECT 1 AS a, 'b' AS b")
    assert type(rows[0]) is MyRecord
    assert rows[0].as_dict() == {"a": 1, "b": "b"}
    row = await conn.fetchrow("SELECT $1::int AS a", 5)
    assert type(row) is MyRecord and row["a"] == 5
    stmt = await conn.prepare("SELECT 2 AS a")
    assert type(await stmt.fetchrow()) is MyRecord
    # A per-call class overrides the connection's.
    other = await conn.fetchrow("SELECT 3 AS a", record_class=OtherRecord)
    assert type(other) is OtherRecord and other["a"] == 3
    # MyRecord pickles (importable, module level).
    assert type(pickle.loads(pickle.dumps(row))) is MyRecord


async def test_record_class_per_call(conn: Any) -> None:
    rows = await conn.fetch("SELECT g AS n FROM generate_series(1, 3) g", record_class=MyRecord)
    assert [type(r) for r in rows] == [MyRecord] * 3
    assert [r.as_dict() for r in rows] == [{"n": 1}, {"n": 2}, {"n": 3}]
    row = await conn.fetchrow("SELECT 1 AS one", record_class=MyRecord)
    assert type(row) is MyRecord
    stmt = await conn.prepare("SELECT 1 AS one", record_class=MyRecord)
    assert type((await stmt.fetch())[0]) is MyRecord
    # The default class is untouched for later calls.
    assert type(await conn.fetchrow("SELECT 1 AS one")) is pgwire.Record


async def test_record_class_per_call_must_be_record_subclass(conn: Any) -> None:
    with pytest.raises(pgwire.InterfaceError, match="record_class"):
        await conn.fetch("SELECT 1", record_class=dict)
    assert await conn.fetchval("SELECT 1") == 1


# ---------------------------------------------------------------------------
# executemany


async def test_executemany_10000_rows(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, label text, score float8)")
    rows = [(i, f"row {i}", i / 2) for i in range(10_000)]
    result = await conn.executemany(f"INSERT INTO {table} VALUES ($1, $2, $3)", rows)
    assert result is None
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 10_000
    assert await conn.fetchval(f"SELECT sum(id) FROM {table}") == sum(range(10_000))
    assert await conn.fetchrow(f"SELECT * FROM {table} WHERE id = 9999") == (
        9999, "row 9999", 4999.5
    )


async def test_executemany_generator_and_empty(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int)")
    await conn.executemany(f"INSERT INTO {table} VALUES ($1)", ((i,) for i in range(5)))
    await conn.executemany(f"INSERT INTO {table} VALUES ($1)", [])
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 5


async def test_executemany_failing_row_outside_transaction_applies_nothing(
    conn: Any, table: str
) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int PRIMARY KEY)")
    rows = [(1,), (2,), (3,), (2,), (5,)]
    with pytest.raises(pgwire.UniqueViolationError):
        await conn.executemany(f"INSERT INTO {table} VALUES ($1)", rows)
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert not conn.is_in_transaction()
    await conn.executemany(f"INSERT INTO {table} VALUES ($1)", [(1,), (2,)])
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 2


async def test_executemany_unencodable_argument_sends_nothing(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int)")
    with pytest.raises(pgwire.DataError, match=r"\$1"):
        await conn.executemany(f"INSERT INTO {table} VALUES ($1)", [(1,), (object(),), (3,)])
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT 2") == 2


async def test_executemany_invalid_text_argument_applies_nothing(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int)")
    with pytest.raises(pgwire.DataError):
        await conn.executemany(f"INSERT INTO {table} VALUES ($1)", [(1,), ("nope",), (3,)])
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT 2") == 2


async def test_executemany_failing_row_inside_transaction_aborts_it(
    conn: Any, table: str
) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int PRIMARY KEY)")
    with pytest.raises(pgwire.UniqueViolationError):
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} VALUES (100)")
            try:
                await conn.executemany(f"INSERT INTO {table} VALUES ($1)", [(1,), (1,)])
            except pgwire.UniqueViolationError:
                # The transaction is now aborted: everything else fails.
                with pytest.raises(pgwire.InFailedSQLTransactionError):
                    await conn.fetchval("SELECT 1")
                raise
    assert not conn.is_in_transaction()
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0


async def test_executemany_inside_transaction_commits(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int)")
    async with conn.transaction():
        await conn.executemany(f"INSERT INTO {table} VALUES ($1)", [(i,) for i in range(100)])
        assert conn.is_in_transaction()
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 100


# ---------------------------------------------------------------------------
# Sizes and encodings


async def test_large_result(conn: Any) -> None:
    rows = await conn.fetch(
        "SELECT g AS n, 'row ' || g AS label FROM generate_series(1, 100000) g ORDER BY g"
    )
    assert len(rows) == 100_000
    assert rows[0] == (1, "row 1")
    assert rows[-1] == (100_000, "row 100000")
    assert sum(r[0] for r in rows) == 100_000 * 100_001 // 2
    assert await conn.fetchval("SELECT 'still in step'") == "still in step"


async def test_ten_megabyte_text_both_ways(conn: Any) -> None:
    size = 10 * 1024 * 1024
    big = "abcdefghij" * (size // 10)
    assert await conn.fetchval("SELECT length($1::text)", big) == size
    echoed = await conn.fetchval("SELECT $1::text", big)
    assert echoed == big
    made = await conn.fetchval("SELECT repeat('xyz', $1::int)", size // 3)
    assert len(made) == (size // 3) * 3 and made[:6] == "xyzxyz"
    assert await conn.fetchval("SELECT md5($1::text) = md5(repeat('abcdefghij', $2::int))",
                               big, size // 10)


async def test_ten_megabyte_bytea(conn: Any) -> None:
    blob = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    assert await conn.fetchval("SELECT $1::bytea", blob) == blob


async def test_unicode(conn: Any, table: str) -> None:
    samples = ["héllo wörld", "日本語のテキスト", "emoji 🐘🎉", "Ελληνικά", "e\u0301", "ﬀ", "\u200b"]
    for text in samples:
        assert await conn.fetchval("SELECT $1::text", text) == text
        assert await conn.fetchval("SELECT length($1::text)", text) == len(text)
    assert await conn.fetchval("SELECT 'snow ☃ man'") == "snow ☃ man"
    row = await conn.fetchrow('SELECT 1 AS "ключ", 2 AS "🔑"')
    assert row["ключ"] == 1 and row["🔑"] == 2
    await conn.execute(f'CREATE TABLE {table} ("名前" text)')
    await conn.executemany(f'INSERT INTO {table} ("名前") VALUES ($1)', [(s,) for s in samples])
    got = await conn.fetch(f'SELECT "名前" FROM {table}')
    assert sorted(r["名前"] for r in got) == sorted(samples)
    # Simple-protocol execute carries non-ASCII too.
    await conn.execute(f"INSERT INTO {table} VALUES ('ünïcødé 🐍')")
    assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE \"名前\" = 'ünïcødé 🐍'") == 1


async def test_nul_character_in_text_parameter(conn: Any) -> None:
    for _ in range(2):  # first use and cached statement alike
        with pytest.raises(pgwire.DataError, match=r"\$1"):
            await conn.fetchval("SELECT $1::text", "a\x00b")
        assert await conn.fetchval("SELECT $1::text", "ab") == "ab"


async def test_zero_column_result(conn: Any) -> None:
    for args in ((), (3,)):
        for _ in range(2):  # first use and cached
            query = "SELECT FROM generate_series(1, 3)" if not args else (
                "SELECT FROM generate_series(1, $1::int)"
            )
            rows = await conn.fetch(query, *args)
            assert len(rows) == 3
            assert all(isinstance(r, pgwire.Record) and len(r) == 0 for r in rows)


async def test_many_parameters_and_columns(conn: Any) -> None:
    query = "SELECT " + ", ".join(f"${i}::int AS p{i}" for i in range(1, 1001))
    for _ in range(2):
        row = await conn.fetchrow(query, *range(1000))
        assert tuple(row) == tuple(range(1000))
        assert row["p1000"] == 999
    wide = await conn.fetchrow("SELECT " + ", ".join(f"{i} AS c{i}" for i in range(1500)))
    assert len(wide) == 1500 and wide["c1499"] == 1499


async def test_notices_do_not_disturb_results(conn: Any) -> None:
    sql = "DO $$ BEGIN RAISE NOTICE 'note %', 1; RAISE WARNING 'careful'; END $$"
    assert await conn.execute(sql) == "DO"
    assert await conn.fetchval("SELECT $1::int", 5) == 5
    await conn.execute(
        "CREATE OR REPLACE FUNCTION pg_temp.noisy(n int) RETURNS int LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE NOTICE 'noisy %', n; RETURN n * 2; END $$"
    )
    rows = await conn.fetch("SELECT pg_temp.noisy(g) FROM generate_series(1, 50) g")
    assert [r[0] for r in rows] == [g * 2 for g in range(1, 51)]


async def test_parameter_status_is_tracked(conn: Any) -> None:
    await conn.execute("SET application_name = 'changed-at-runtime'")
    assert conn.get_settings().application_name == "changed-at-runtime"
    await conn.execute("SET TIME ZONE 'Europe/Paris'")
    assert conn.get_settings().TimeZone == "Europe/Paris"
    await conn.execute("RESET ALL")
    assert conn.get_settings().application_name == ""
