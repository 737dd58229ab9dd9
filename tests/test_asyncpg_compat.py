"""asyncpg's API where applications and frameworks meet it: fetchmany,
PreparedStatement.cursor() and explain(), argument checks at the call,
ServerVersion (both APIs)."""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

import pytest

import pgwire
from pgwire.testing import TemporaryCluster


async def test_fetchmany_on_connection_statement_and_pool(conn: Any, api: Any,
                                                         cluster: TemporaryCluster) -> None:
    await conn.execute("CREATE TEMP TABLE fm (id serial PRIMARY KEY, v text)")
    rows = await conn.fetchmany("INSERT INTO fm (v) VALUES ($1) RETURNING id, v",
                                [("a",), ("b",), ("c",)])
    assert [tuple(r) for r in rows] == [(1, "a"), (2, "b"), (3, "c")]
    assert await conn.fetchmany("SELECT $1::int", []) == []
    stmt = await conn.prepare("SELECT v FROM fm WHERE id = $1")
    assert [r["v"] for r in await stmt.fetchmany([(3,), (1,), (9,)])] == ["c", "a"]
    with pytest.raises(pgwire.DataError):
        await conn.fetchmany("SELECT $1::int", [("x",)])
    assert await conn.fetchval("SELECT count(*) FROM fm") == 3
    pool = await api.create_pool(**cluster.connect_kwargs(), ssl="disable", min_size=1,
                                 max_size=1)
    try:
        got = await pool.fetchmany("SELECT $1::int * 2 AS d", [(1,), (2,)])
        assert [r["d"] for r in got] == [2, 4]
    finally:
        await pool.close()


async def test_prepared_statement_cursor(conn: Any) -> None:
    stmt = await conn.prepare("SELECT g FROM generate_series(1, $1::int) g")
    async with conn.transaction():
        assert [r["g"] async for r in stmt.cursor(25, prefetch=10)] == list(range(1, 26))
        cursor = await stmt.cursor(5)
        assert [r["g"] for r in await cursor.fetch(3)] == [1, 2, 3]
    with pytest.raises(pgwire.InterfaceError):
        async for _ in stmt.cursor(3):  # outside a transaction: asyncpg refuses too
            pass


async def test_explain(conn: Any) -> None:
    await conn.execute("CREATE TEMP TABLE ex (a int)")
    stmt = await conn.prepare("INSERT INTO ex VALUES ($1)")
    plan = await stmt.explain(1)
    assert isinstance(plan, list) and plan[0]["Plan"]["Node Type"] == "ModifyTable"
    analyzed = await stmt.explain(1, analyze=True)
    assert "Actual Rows" in analyzed[0]["Plan"]
    assert await conn.fetchval("SELECT count(*) FROM ex") == 0  # rolled back
    assert not conn.is_in_transaction()


@pytest.mark.parametrize("bad", ["5", b"5", [1], True])
async def test_a_timeout_of_the_wrong_type_is_a_value_error(conn: Any, bad: Any) -> None:
    with pytest.raises(ValueError, match="invalid timeout value"):
        await conn.fetchval("SELECT 1", timeout=bad)
    with pytest.raises(ValueError, match="invalid timeout value"):
        await conn.execute("SELECT 1", timeout=bad)
    assert await conn.fetchval("SELECT 2", timeout=5) == 2


@pytest.mark.parametrize("bad", ["5", 0, -1, True])
async def test_bad_command_timeout_is_refused_at_connect(make_conn: Any, bad: Any) -> None:
    with pytest.raises(ValueError, match="command_timeout"):
        await make_conn(command_timeout=bad)


async def test_server_version_as_asyncpg_gives_it(conn: Any) -> None:
    version = conn.get_server_version()
    num = int(await conn.fetchval("SHOW server_version_num"))
    assert version[:3] == (num // 10000, 0, num % 10000)
    assert version >= (14, 0)


async def test_query_loggers(conn: Any, api: Any) -> None:
    logged: list[Any] = []
    conn.add_query_logger(logged.append)
    await conn.execute("SELECT 1")
    assert await conn.fetchval("SELECT $1::int", 5) == 5
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.fetch("SELECT 1 / $1::int", 0)
    stmt = await conn.prepare("SELECT $1::text")
    await stmt.fetchval("x")
    await conn.executemany("SELECT $1::int", [(1,), (2,)])
    await conn.query_script("SELECT 1; SELECT 2")
    await conn.query_many("SELECT $1::int", [(3,)])
    if api.name == "async":
        await asyncio.sleep(0.05)  # loggers run soon after, as asyncpg's do
    queries = [(r.query, r.args) for r in logged]
    assert queries == [("SELECT 1", ()), ("SELECT $1::int", (5,)), ("SELECT 1 / $1::int", (0,)),
                       ("SELECT $1::text", ("x",)), ("SELECT $1::int", [(1,), (2,)]),
                       ("SELECT 1; SELECT 2", ()), ("SELECT $1::int", [(3,)])]
    assert isinstance(logged[2].exception, pgwire.DivisionByZeroError)
    assert logged[1].exception is None and logged[1].elapsed >= 0
    assert logged[0].conn_addr is not None
    conn.remove_query_logger(logged.append)
    conn.remove_query_logger(logged.append)  # twice: nothing
    await conn.execute("SELECT 2")
    count = len(logged)
    seen: list[str] = []
    with conn.query_logger(lambda record: seen.append(record.query)):
        await conn.execute("SELECT 3")
    await conn.execute("SELECT 4")
    if api.name == "async":
        await asyncio.sleep(0.05)
    assert seen == ["SELECT 3"] and len(logged) == count
    with pytest.raises(TypeError, match="callable"):
        conn.add_query_logger("not a function")


async def test_debug_logging_of_connections_and_statements(
        make_conn: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="pgwire")
    conn = await make_conn(statement_cache_size=2, password="never-logged")
    connected = [r.getMessage() for r in caplog.records if r.name == "pgwire.connection"]
    assert any(m.startswith("connecting to ") for m in connected)
    done = [m for m in connected if m.startswith("connected to ")]
    assert done and "TLS off" in done[0] and "authentication trust" in done[0]
    assert not any("never-logged" in r.getMessage() for r in caplog.records)
    # The first request carries the pooler probe: the statement cache is in
    # use from its answer on.
    assert await conn.fetchval("SELECT 1") == 1
    for i in range(3):  # the third statement evicts the first
        await conn.fetchval(f"SELECT {i} + $1::int", 1)
    evictions = [r.getMessage() for r in caplog.records if r.name == "pgwire.statements"]
    assert any("statement cache full (2)" in m and "SELECT 0" in m for m in evictions)


async def test_more_than_32767_parameters(conn: Any) -> None:
    """The protocol's parameter counts are unsigned 16-bit: up to 65535."""
    count = 40_000
    sql = "SELECT cardinality(ARRAY[" + ",".join(f"${i}::int" for i in range(1, count + 1)) + "])"
    assert await conn.fetchval(sql, *range(count)) == count
    too_many = 70_000
    with pytest.raises(pgwire.InterfaceError, match="at most 65535"):
        await conn.fetchval("SELECT $1::int", *range(too_many))
    assert await conn.fetchval("SELECT 1") == 1  # nothing was sent, nothing lost


def test_every_public_name_of_asyncpg_exists() -> None:
    # asyncpg's public surface, read from the installed asyncpg: its
    # top-level names, exception classes and the methods and attributes of
    # its API classes all exist in pgwire under the same names.
    import asyncpg
    import asyncpg.cursor
    import asyncpg.pool
    import asyncpg.prepared_stmt
    import asyncpg.transaction

    from pgwire.api._async.cursor import CursorFactory

    pairs = [
        (asyncpg.connection.Connection, pgwire.Connection),
        (asyncpg.pool.Pool, pgwire.Pool),
        (asyncpg.pool.PoolAcquireContext, pgwire.PoolAcquireContext),
        (asyncpg.prepared_stmt.PreparedStatement, pgwire.PreparedStatement),
        (asyncpg.cursor.Cursor, pgwire.Cursor),
        (asyncpg.cursor.CursorFactory, CursorFactory),
        (asyncpg.transaction.Transaction, pgwire.Transaction),
        (asyncpg.Record, pgwire.Record),
    ]
    missing = [f"{theirs.__name__}.{name}" for theirs, ours in pairs
               for name in dir(theirs) if not name.startswith("_") and not hasattr(ours, name)]
    missing += [name for name in dir(asyncpg)
                if not name.startswith("_") and name != "annotations"
                and not inspect.ismodule(getattr(asyncpg, name)) and not hasattr(pgwire, name)]
    missing += [f"exceptions.{name}" for name in dir(asyncpg.exceptions)
                if not name.startswith("_") and not hasattr(pgwire.exceptions, name)]
    assert not missing, missing


async def test_acquire_context_attributes(cluster: Any) -> None:
    async with pgwire.create_pool(cluster.dsn(), min_size=1, max_size=1) as pool:
        assert pool.get_init_size() == 1
        context = pool.acquire(timeout=5)
        assert context.pool is pool and context.timeout == 5 and not context.done
        async with context as conn:
            assert context.connection is conn
        assert context.connection is None and context.done
