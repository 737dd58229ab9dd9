"""The statement strategy against a real server: cache, eviction, DDL, ``prepare()``.

What the server holds is read from ``pg_prepared_statements`` on the same
connection (statements are per session), and compared with the client's
per-connection LRU (``conn._session.cache``).  A statement created through
the protocol shows ``from_sql = false``; the unnamed statement is not listed.  Every test runs once per API
(conftest.py).
"""

from __future__ import annotations

import asyncio
import datetime
import decimal
import gc
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire

LIST_STATEMENTS = (
    "SELECT name, statement, from_sql FROM pg_prepared_statements ORDER BY name"
)


@pytest.fixture
async def table(conn: Any) -> AsyncIterator[str]:
    """A unique table name, dropped after the test (the test creates it)."""
    name = f"t_{secrets.token_hex(6)}"
    yield name
    if not conn.is_closed():
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        await conn.execute(f"DROP TABLE IF EXISTS {name}")


async def _server_statements(conn: Any) -> dict[str, str]:
    """name -> SQL of the named statements the server holds for this session."""
    rows = await conn.fetch(LIST_STATEMENTS)
    for row in rows:
        assert row["from_sql"] is False, "pgwire must prepare through the protocol"
    return {row["name"]: row["statement"] for row in rows}


async def _settled_server_statements(conn: Any) -> dict[str, str]:
    """The server's statements once the Closes for every eviction have been processed.

    The listing query is itself cached: its first run may evict a statement,
    whose Close rides along with the next request, after that request's
    Execute.  The third run therefore sees the settled state.
    """
    for _ in range(2):
        await _server_statements(conn)
    return await _server_statements(conn)


def _cached_names(conn: Any) -> set[str]:
    return {state.name for state in conn._session.cache._entries.values()}


async def _answer_pooler_probe(conn: Any) -> None:
    """Have a new connection's first request done: the pooler probe rides
    with it, as an operation of its own (tested in test_connect.py)."""
    assert await conn.fetchval("SELECT 1") == 1
    assert conn._session.pooler_detected is False


def _count_round_trips(conn: Any) -> list[Any]:
    """Record every operation (one write, one wait) the driver submits from now on."""
    submitted: list[Any] = []
    driver = conn._runner.driver
    # Both drivers send every operation of a flow through one method (one
    # write), then wait for it.
    name = "start_operation" if hasattr(driver, "start_operation") else "_start"
    original = getattr(driver, name)

    def submit(op: Any, *args: Any) -> Any:
        submitted.append(op)
        return original(op, *args)

    setattr(driver, name, submit)
    return submitted


# ---------------------------------------------------------------------------
# The cache


async def test_repeated_query_reuses_one_named_statement(conn: Any) -> None:
    query = "SELECT $1::int * 2 AS doubled"
    for i in range(5):
        assert await conn.fetchval(query, i) == i * 2
    statements = await _server_statements(conn)
    names = [name for name, sql in statements.items() if sql == query]
    assert len(names) == 1
    state = conn._session.cache.get(query)
    assert state is not None
    assert names[0] == state.name
    assert state.name.startswith("__pgwire_")
    for i in range(5):
        assert await conn.fetchrow(query, i) == (i * 2,)
    statements = await _server_statements(conn)
    assert [n for n, sql in statements.items() if sql == query] == names


async def test_same_statement_shared_by_fetch_methods(conn: Any) -> None:
    query = "SELECT $1::text AS v"
    await conn.fetch(query, "a")
    await conn.fetchrow(query, "b")
    await conn.fetchval(query, "c")
    await conn.execute(query, "d")
    await conn.executemany(query, [("e",), ("f",)])
    statements = await _server_statements(conn)
    assert sum(1 for sql in statements.values() if sql == query) == 1


async def test_cached_statement_is_one_round_trip(conn: Any) -> None:
    query = "SELECT $1::int + $2::int"
    await _answer_pooler_probe(conn)
    trips = _count_round_trips(conn)
    assert await conn.fetchval(query, 1, 2) == 3
    first_use = len(trips)
    trips.clear()
    for i in range(10):
        assert await conn.fetchval(query, i, 1) == i + 1
    assert len(trips) == 10
    assert first_use <= 2


async def test_first_use_with_named_statements_prepares_then_runs(conn: Any) -> None:
    # Parse+Describe, then Bind+Execute: arguments are encoded by their
    # described types from the very first run.
    await _answer_pooler_probe(conn)
    trips = _count_round_trips(conn)
    assert await conn.fetchval("SELECT $1::int + 1 AS fresh", 1) == 2
    assert len(trips) == 2
    trips.clear()
    assert await conn.fetchval("SELECT $1::int + 1 AS fresh", 2) == 3
    assert len(trips) == 1


async def test_first_use_without_cache_is_one_round_trip(make_conn: Any) -> None:
    conn = await make_conn(statement_cache_size=0)
    trips = _count_round_trips(conn)
    assert await conn.fetchval("SELECT $1::int + 1 AS fresh0", 1) == 2
    assert len(trips) == 1
    trips.clear()
    assert await conn.fetchval("SELECT $1::int + 1 AS fresh0", 2) == 3
    assert len(trips) == 1


async def test_eviction_closes_statements_on_server(make_conn: Any) -> None:
    conn = await make_conn(statement_cache_size=3)
    queries = [f"SELECT $1::int + {i} AS v" for i in range(10)]
    for i, query in enumerate(queries):
        assert await conn.fetchval(query, 100) == 100 + i
        assert len(conn._session.cache) <= 3
    statements = await _settled_server_statements(conn)
    assert len(statements) <= 3
    assert set(statements) == _cached_names(conn)
    assert LIST_STATEMENTS in statements.values()
    assert not set(queries[:7]) & set(statements.values())
    # The evicted queries still work: they are prepared again.
    for i, query in enumerate(queries[:3]):
        assert await conn.fetchval(query, 1) == 1 + i
    assert len(await _settled_server_statements(conn)) <= 3


async def test_eviction_with_cache_size_one(make_conn: Any) -> None:
    conn = await make_conn(statement_cache_size=1)
    for i in range(5):
        assert await conn.fetchval(f"SELECT {i} + $1::int", 1) == i + 1
        assert await conn.fetchval("SELECT $1::int", i) == i
    statements = await _settled_server_statements(conn)
    assert list(statements.values()) == [LIST_STATEMENTS]


async def test_statement_cache_size_zero_uses_no_named_statements(make_conn: Any) -> None:
    conn = await make_conn(statement_cache_size=0)
    query = "SELECT $1::int AS i, $2::text AS t, $3::numeric AS n, $4::date AS d, $5::bool AS b"
    args = (7, "seven", decimal.Decimal("7.5"), datetime.date(2007, 7, 7), True)
    for _ in range(3):  # first use, then with a learned description
        row = await conn.fetchrow(query, *args)
        assert row == args
        assert [type(v) for v in row] == [int, str, decimal.Decimal, datetime.date, bool]
    assert await conn.fetchval("SELECT $1::int[]", [1, None, 3]) == [1, None, 3]
    assert await conn.fetchval("SELECT $1::float8", 0.25) == 0.25
    await conn.executemany("SELECT $1::int", [(1,), (2,)])
    stmt = await conn.prepare("SELECT $1::int * 3")
    assert await stmt.fetchval(3) == 9
    assert stmt.get_name() == ""
    assert await conn.fetchval("SELECT count(*) FROM pg_prepared_statements") == 0
    assert await conn.fetch(LIST_STATEMENTS) == []
    assert len(conn._session.cache) == 0


# ---------------------------------------------------------------------------
# DDL invalidation


async def test_ddl_outside_transaction_is_transparent(conn: Any, table: str) -> None:
    query = f"SELECT * FROM {table} ORDER BY a"
    await conn.execute(f"CREATE TABLE {table} (a int); INSERT INTO {table} VALUES (1)")
    assert await conn.fetch(query) == [(1,)]
    assert await conn.fetch(query) == [(1,)]
    old_name = conn._session.cache.get(query).name
    await conn.execute(f"ALTER TABLE {table} ADD COLUMN b text DEFAULT 'x'")
    rows = await conn.fetch(query)
    assert rows == [(1, "x")]
    assert list(rows[0].keys()) == ["a", "b"]
    assert await conn.fetchrow(query) == (1, "x")
    await conn.execute(f"ALTER TABLE {table} ALTER COLUMN a TYPE bigint, DROP COLUMN b")
    assert await conn.fetch(query) == [(1,)]
    await conn.execute(f"ALTER TABLE {table} ALTER COLUMN a TYPE text")
    assert await conn.fetchval(query) == "1"
    # The stale statement was closed on the server and replaced.
    statements = await _settled_server_statements(conn)
    assert old_name not in statements
    assert list(statements.values()).count(query) == 1


async def test_ddl_with_parameters_outside_transaction(conn: Any, table: str) -> None:
    query = f"SELECT * FROM {table} WHERE a > $1"
    await conn.execute(f"CREATE TABLE {table} (a int); INSERT INTO {table} VALUES (1), (5)")
    assert await conn.fetch(query, 2) == [(5,)]
    await conn.execute(f"ALTER TABLE {table} ADD COLUMN b int DEFAULT 9")
    assert await conn.fetch(query, 2) == [(5, 9)]
    assert await conn.fetchval(query, 0, column="b") == 9


async def test_ddl_inside_transaction_raises_then_recovers(conn: Any, table: str) -> None:
    query = f"SELECT * FROM {table}"
    await conn.execute(f"CREATE TABLE {table} (a int); INSERT INTO {table} VALUES (1)")
    assert await conn.fetch(query) == [(1,)]
    await conn.execute(f"ALTER TABLE {table} ADD COLUMN b text DEFAULT 'x'")
    with pytest.raises(pgwire.InvalidCachedStatementError) as info:
        async with conn.transaction():
            await conn.fetch(query)
    exc = info.value
    assert isinstance(exc, pgwire.FeatureNotSupportedError)
    assert exc.sqlstate == "0A000"
    message = str(exc)
    assert "cached plan must not change result type" in message
    assert "retry" in message
    assert not conn.is_in_transaction()
    assert await conn.fetch(query) == [(1, "x")]
    async with conn.transaction():
        assert await conn.fetch(query) == [(1, "x")]


async def test_ddl_inside_the_same_transaction(conn: Any, table: str) -> None:
    query = f"SELECT * FROM {table}"
    await conn.execute(f"CREATE TABLE {table} (a int); INSERT INTO {table} VALUES (1)")
    assert await conn.fetch(query) == [(1,)]
    with pytest.raises(LookupError):
        async with conn.transaction():
            await conn.execute(f"ALTER TABLE {table} ADD COLUMN b int DEFAULT 2")
            # DDL in the transaction block cleared the statement cache: the
            # query is prepared again and sees the new shape.
            assert await conn.fetch(query) == [(1, 2)]
            raise LookupError  # roll back
    # Rolled back, so the table has its old shape again; the query still works.
    assert await conn.fetch(query) == [(1,)]


async def test_ddl_without_statement_cache_outside_transaction(
    make_conn: Any, table: str
) -> None:
    conn = await make_conn(statement_cache_size=0)
    query = f"SELECT * FROM {table}"
    await conn.execute(f"CREATE TABLE {table} (a int, b int); INSERT INTO {table} VALUES (1, 2)")
    assert await conn.fetch(query) == [(1, 2)]
    assert await conn.fetch(query) == [(1, 2)]
    await conn.execute(f"ALTER TABLE {table} ADD COLUMN c text DEFAULT 'c'")
    assert await conn.fetch(query) == [(1, 2, "c")]
    await conn.execute(f"ALTER TABLE {table} DROP COLUMN a")
    assert await conn.fetch(query) == [(2, "c")]


async def test_ddl_without_statement_cache_inside_transaction(
    make_conn: Any, table: str
) -> None:
    conn = await make_conn(statement_cache_size=0)
    query = f"SELECT * FROM {table}"
    await conn.execute(f"CREATE TABLE {table} (a int, b int); INSERT INTO {table} VALUES (1, 2)")
    assert await conn.fetch(query) == [(1, 2)]
    assert await conn.fetch(query) == [(1, 2)]
    await conn.execute(f"ALTER TABLE {table} ADD COLUMN c text DEFAULT 'c'")
    async with conn.transaction():
        # Nothing is cached on the server: the new shape comes back.
        assert await conn.fetch(query) == [(1, 2, "c")]
    assert await conn.fetch(query) == [(1, 2, "c")]


async def test_ddl_without_statement_cache_mixed_formats_inside_transaction(
    make_conn: Any, table: str
) -> None:
    conn = await make_conn(statement_cache_size=0)
    enum = f"{table}_mood"
    query = f"SELECT * FROM {table}"
    await conn.execute(
        f"CREATE TYPE {enum} AS ENUM ('happy', 'sad'); "
        f"CREATE TABLE {table} (a int, m {enum}); INSERT INTO {table} VALUES (1, 'happy')"
    )
    try:
        assert await conn.fetch(query) == [(1, "happy")]
        assert await conn.fetch(query) == [(1, "happy")]
        await conn.execute(f"ALTER TABLE {table} ADD COLUMN c int DEFAULT 3")
        try:
            async with conn.transaction():
                assert await conn.fetch(query) == [(1, "happy", 3)]
        except pgwire.InvalidCachedStatementError:
            pass  # acceptable: a clear, retryable error
        assert await conn.fetch(query) == [(1, "happy", 3)]
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}; DROP TYPE IF EXISTS {enum}")


async def test_ddl_without_statement_cache_mixed_formats_outside_transaction(
    make_conn: Any, table: str
) -> None:
    conn = await make_conn(statement_cache_size=0)
    enum = f"{table}_mood"
    query = f"SELECT * FROM {table}"
    await conn.execute(
        f"CREATE TYPE {enum} AS ENUM ('happy', 'sad'); "
        f"CREATE TABLE {table} (a int, m {enum}); INSERT INTO {table} VALUES (1, 'sad')"
    )
    try:
        assert await conn.fetch(query) == [(1, "sad")]
        assert await conn.fetch(query) == [(1, "sad")]
        await conn.execute(f"ALTER TABLE {table} ADD COLUMN c int DEFAULT 3")
        assert await conn.fetch(query) == [(1, "sad", 3)]
        await conn.execute(f"ALTER TABLE {table} DROP COLUMN a")
        assert await conn.fetch(query) == [("sad", 3)]
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}; DROP TYPE IF EXISTS {enum}")


# ---------------------------------------------------------------------------
# prepare()


async def test_prepare_fetch_methods(api: Any, conn: Any) -> None:
    stmt = await conn.prepare(
        "SELECT g AS n, $2::text || g AS label FROM generate_series(1, $1::int) g ORDER BY g"
    )
    assert isinstance(api.unwrap(stmt), api.PreparedStatement)
    rows = await stmt.fetch(3, "x")
    assert rows == [(1, "x1"), (2, "x2"), (3, "x3")]
    assert rows[1]["label"] == "x2"
    assert await stmt.fetchrow(3, "y") == (1, "y1")
    assert await stmt.fetchrow(0, "y") is None
    assert await stmt.fetchval(2, "z") == 1
    assert await stmt.fetchval(2, "z", column="label") == "z1"
    assert await stmt.fetchval(0, "z") is None
    assert stmt.get_query().startswith("SELECT g AS n")
    assert stmt.get_statusmsg() == "SELECT 0"


async def test_prepare_executemany(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")
    stmt = await conn.prepare(f"INSERT INTO {table} VALUES ($1, $2)")
    await stmt.executemany([(i, str(i)) for i in range(1000)])
    await stmt.executemany([])
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 1000
    with pytest.raises(pgwire.DataError):
        await stmt.executemany([(1, "ok"), ("bad", "x")])
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 1000


async def test_prepare_parameters_and_attributes(conn: Any) -> None:
    stmt = await conn.prepare(
        "SELECT $1::int AS a, $2::text AS b, $3::bool[] AS c, $1::int8 + 1 AS d"
    )
    params = stmt.get_parameters()
    assert [p.oid for p in params] == [23, 25, 1000]
    assert [p.name for p in params[:2]] == ["int4", "text"]
    assert params[2].name in ("_bool", "bool[]")  # asyncpg says _bool
    assert params[2].kind == "array"
    assert params[0].kind == "scalar"
    attrs = stmt.get_attributes()
    assert [a.name for a in attrs] == ["a", "b", "c", "d"]
    assert [a.type.oid for a in attrs] == [23, 25, 1000, 20]
    assert attrs[0].type.name == "int4"
    assert attrs[3].type.name == "int8"
    none = await conn.prepare("SELECT 1 WHERE false")
    assert none.get_parameters() == ()
    ddl = await conn.prepare("SET LOCAL work_mem = '4MB'")
    assert ddl.get_attributes() == ()


async def test_prepared_statement_names(make_conn: Any) -> None:
    a = await make_conn()
    b = await make_conn()
    query = "SELECT $1::int"
    a1 = await a.prepare(query)
    a2 = await a.prepare(query)
    b1 = await b.prepare(query)
    names = {a1.get_name(), a2.get_name(), b1.get_name()}
    assert len(names) == 3
    assert all(name for name in names)
    prefix_a = a1.get_name().rsplit("_", 1)[0]
    prefix_b = b1.get_name().rsplit("_", 1)[0]
    assert prefix_a == a2.get_name().rsplit("_", 1)[0]
    assert prefix_a != prefix_b  # random per connection
    assert a1.get_name() in await _server_statements(a)
    assert b1.get_name() in await _server_statements(b)
    assert await a1.fetchval(1) == 1 and await a2.fetchval(2) == 2 and await b1.fetchval(3) == 3


async def test_prepared_statement_is_closed_after_garbage_collection(conn: Any) -> None:
    stmt = await conn.prepare("SELECT $1::int * 7 AS gc_me")
    name = stmt.get_name()
    assert await stmt.fetchval(1) == 7
    assert name in await _server_statements(conn)
    del stmt
    gc.collect()
    assert await conn.fetchval("SELECT 1") == 1  # the Close rides along with this
    assert name not in await _server_statements(conn)
    assert await conn.fetchval("SELECT $1::int * 7 AS gc_me", 2) == 14


async def test_prepared_statement_survives_while_referenced(conn: Any) -> None:
    stmt = await conn.prepare("SELECT $1::text AS kept")
    gc.collect()
    for i in range(3):
        assert await conn.fetchval("SELECT $1::int", i) == i
    assert await stmt.fetchval("still") == "still"
    assert stmt.get_name() in await _server_statements(conn)


async def test_prepared_statement_follows_ddl(conn: Any, table: str) -> None:
    """Outside a transaction the statement is prepared again, transparently;
    inside one, a retryable error, then it works again after the block."""
    await conn.execute(f"CREATE TABLE {table} (a int); INSERT INTO {table} VALUES (1)")
    stmt = await conn.prepare(f"SELECT * FROM {table}")
    assert await stmt.fetch() == [(1,)]
    old_name = stmt.get_name()
    await conn.execute(f"ALTER TABLE {table} ADD COLUMN b int DEFAULT 2")
    rows = await stmt.fetch()
    assert rows == [(1, 2)] and list(rows[0].keys()) == ["a", "b"]
    assert [a.name for a in stmt.get_attributes()] == ["a", "b"]
    assert stmt.get_name() != old_name
    statements = await _settled_server_statements(conn)
    assert old_name not in statements and stmt.get_name() in statements
    await conn.execute(f"ALTER TABLE {table} ADD COLUMN c int DEFAULT 3")
    with pytest.raises(pgwire.InvalidCachedStatementError, match="retry"):
        async with conn.transaction():
            await stmt.fetch()
    assert await stmt.fetchrow() == (1, 2, 3)
    await stmt.executemany([()])  # prepared again before the batch, too


async def test_prepare_with_a_name(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int); INSERT INTO {table} VALUES (1)")
    stmt = await conn.prepare(f"SELECT * FROM {table}", name="my_statement")
    assert stmt.get_name() == "my_statement"
    assert await stmt.fetch() == [(1,)]
    assert "my_statement" in await _server_statements(conn)
    with pytest.raises(pgwire.DuplicatePreparedStatementError):
        await conn.prepare("SELECT 1", name="my_statement")
    # After a schema change it is prepared again under the same name.
    await conn.execute(f"ALTER TABLE {table} ADD COLUMN b int DEFAULT 2")
    assert await stmt.fetch() == [(1, 2)]
    assert stmt.get_name() == "my_statement"
    assert (await _settled_server_statements(conn))["my_statement"] == f"SELECT * FROM {table}"


async def test_prepare_bad_sql(conn: Any) -> None:
    before = await _server_statements(conn)
    with pytest.raises(pgwire.PostgresSyntaxError):
        await conn.prepare("SELEC $1")
    with pytest.raises(pgwire.UndefinedTableError):
        await conn.prepare("SELECT * FROM no_such_table_pgwire")
    after = await _server_statements(conn)
    assert set(after) - set(before) <= {n for n, s in after.items() if s == LIST_STATEMENTS}


async def test_prepared_statements_concurrently(conn: Any) -> None:
    # asyncio tasks, or threads sharing the blocking connection.
    stmt = await conn.prepare("SELECT $1::int + 1000")
    results = await asyncio.gather(*(stmt.fetchval(i) for i in range(50)))
    assert results == [i + 1000 for i in range(50)]


@pytest.mark.parametrize("cache_size", [100, 0])
async def test_cached_statement_follows_a_column_type_change(make_conn: Any,
                                                             cache_size: int) -> None:
    """ALTER COLUMN ... TYPE makes the cached parameter types stale: an argument
    of the new type is encoded after describing the statement again."""
    conn = await make_conn(statement_cache_size=cache_size)
    await conn.execute("CREATE TEMP TABLE retyped (a int, v int)")
    insert = "INSERT INTO retyped VALUES ($1, $2)"
    for _ in range(2):  # described, then cached
        await conn.execute(insert, 1, 2)
    await conn.execute("ALTER TABLE retyped ALTER COLUMN v TYPE text")
    await conn.execute(insert, 3, "three")
    await conn.execute(insert, 4, "four")
    assert await conn.fetchval("SELECT string_agg(v, ',' ORDER BY a) FROM retyped") == (
        "2,2,three,four")
    # A wrong argument is still an error (and the connection fine).
    with pytest.raises(pgwire.DataError):
        await conn.execute(insert, "not an int", "x")
    assert await conn.fetchval("SELECT count(*) FROM retyped") == 4


async def test_first_statement_is_cached_named_with_the_probe_riding(conn: Any) -> None:
    """A connection's first statement is described while the pooler probe is
    unanswered (so unnamed), then parsed named in the same write as its first
    run: two round trips, and cached like any other from then on."""
    trips = _count_round_trips(conn)
    assert await conn.fetchval("SELECT $1::int * 5", 2) == 10
    kinds = [type(op).__name__ for op in trips]
    assert kinds == ["SimpleQuery", "Extended", "Extended"], kinds  # probe, prepare, run
    session = conn._session
    assert session.pooler_detected is False
    state = session.cache.get("SELECT $1::int * 5")
    assert state is not None and state.name.startswith("__pgwire_")
    trips.clear()
    assert await conn.fetchval("SELECT $1::int * 5", 3) == 15
    assert len(trips) == 1
    names = await conn.fetch("SELECT name FROM pg_prepared_statements")
    assert state.name in {r["name"] for r in names}


async def test_first_statement_failing_leaves_nothing_out_of_step(conn: Any) -> None:
    """The first statement's named Parse goes with a run that fails: the
    statement is not cached, and it runs (and is cached) the next time."""
    with pytest.raises(pgwire.DataError):
        await conn.fetchval("SELECT 1 / $1::int", 0)
    assert conn._session.cache.get("SELECT 1 / $1::int") is None
    assert await conn.fetchval("SELECT 1 / $1::int", 1) == 1
    assert await conn.fetchval("SELECT 1 / $1::int", 1) == 1
    assert conn._session.cache.get("SELECT 1 / $1::int") is not None
