"""Transactions against a real server: ``conn.transaction()`` blocks and savepoints.

The outermost block is BEGIN ... COMMIT/ROLLBACK with the requested
isolation level, READ ONLY and DEFERRABLE; nested blocks are savepoints.
Visibility is checked from a second connection where it matters.  Every
test runs on both APIs (``async with`` drives the blocking ``with`` block for
the blocking API; see conftest.py).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire


@pytest.fixture
async def table(conn: Any) -> AsyncIterator[str]:
    """A fresh table ``(a int PRIMARY KEY)`` with a unique name, dropped afterwards."""
    name = f"t_{secrets.token_hex(6)}"
    await conn.execute(f"CREATE TABLE {name} (a int PRIMARY KEY)")
    yield name
    if not conn.is_closed():
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        await conn.execute(f"DROP TABLE IF EXISTS {name}")


async def _values(conn: Any, table: str) -> list[int]:
    return [r[0] for r in await conn.fetch(f"SELECT a FROM {table} ORDER BY a")]


async def test_commit(api: Any, conn: Any, make_conn: Any, table: str) -> None:
    other = await make_conn()
    async with conn.transaction() as tx:
        assert isinstance(api.unwrap(tx), api.Transaction)
        assert conn.is_in_transaction()
        await conn.execute(f"INSERT INTO {table} VALUES ($1)", 1)
        await conn.executemany(f"INSERT INTO {table} VALUES ($1)", [(2,), (3,)])
        # Not visible elsewhere before COMMIT.
        assert await _values(other, table) == []
        assert await _values(conn, table) == [1, 2, 3]
    assert not conn.is_in_transaction()
    assert await _values(other, table) == [1, 2, 3]


async def test_rollback_on_exception(conn: Any, table: str) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
            raise Boom
    assert not conn.is_in_transaction()
    assert await _values(conn, table) == []


@pytest.mark.async_only  # task cancellation
async def test_rollback_on_cancellation(conn: Any, table: str) -> None:
    async def body() -> None:
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
            await asyncio.sleep(10)

    task = asyncio.ensure_future(body())
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not conn.is_in_transaction()
    assert await _values(conn, table) == []


async def test_error_inside_transaction_then_rollback_leaves_connection_usable(
    conn: Any, table: str
) -> None:
    with pytest.raises(pgwire.DivisionByZeroError):
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
            await conn.fetchval("SELECT 1/0")
    assert not conn.is_in_transaction()
    assert await _values(conn, table) == []
    assert await conn.fetchval("SELECT $1::int", 5) == 5


async def test_statements_after_error_in_transaction_fail_until_rollback(
    conn: Any, table: str
) -> None:
    with pytest.raises(pgwire.InFailedSQLTransactionError):
        async with conn.transaction():
            with pytest.raises(pgwire.UniqueViolationError):
                await conn.executemany(f"INSERT INTO {table} VALUES ($1)", [(1,), (1,)])
            assert conn.is_in_transaction()
            await conn.fetchval("SELECT 1")
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT 1") == 1


async def test_nested_blocks_are_savepoints(conn: Any, table: str) -> None:
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {table} VALUES (1)")
        with pytest.raises(ValueError):
            async with conn.transaction() as inner:
                await conn.execute(f"INSERT INTO {table} VALUES (2)")
                assert await _values(conn, table) == [1, 2]
                raise ValueError("undo the inner block only")
        assert "savepoint" in repr(inner)
        assert conn.is_in_transaction()
        assert await _values(conn, table) == [1]
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} VALUES (3)")
        assert await _values(conn, table) == [1, 3]
    assert await _values(conn, table) == [1, 3]


async def test_savepoint_recovers_from_server_error(conn: Any, table: str) -> None:
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {table} VALUES (1)")
        with pytest.raises(pgwire.UniqueViolationError):
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {table} VALUES (1)")
        # The outer transaction is usable again after ROLLBACK TO SAVEPOINT.
        await conn.execute(f"INSERT INTO {table} VALUES (2)")
    assert await _values(conn, table) == [1, 2]


async def test_deeply_nested_savepoints(conn: Any, table: str) -> None:
    async with conn.transaction():
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
            with pytest.raises(KeyError):
                async with conn.transaction():
                    await conn.execute(f"INSERT INTO {table} VALUES (2)")
                    async with conn.transaction():
                        await conn.execute(f"INSERT INTO {table} VALUES (3)")
                    raise KeyError("x")
            await conn.execute(f"INSERT INTO {table} VALUES (4)")
    assert await _values(conn, table) == [1, 4]


async def test_outer_rollback_discards_released_savepoints(conn: Any, table: str) -> None:
    with pytest.raises(RuntimeError):
        async with conn.transaction():
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {table} VALUES (1)")
            raise RuntimeError
    assert await _values(conn, table) == []


ISOLATIONS = [
    (None, "read committed"),
    ("read_committed", "read committed"),
    ("read_uncommitted", "read uncommitted"),
    ("repeatable_read", "repeatable read"),
    ("serializable", "serializable"),
]


@pytest.mark.parametrize("isolation,shown", ISOLATIONS)
async def test_isolation_levels(conn: Any, isolation: str | None, shown: str) -> None:
    async with conn.transaction(isolation=isolation):
        assert await conn.fetchval("SHOW transaction_isolation") == shown
        assert await conn.fetchval("SELECT current_setting('transaction_isolation')") == shown
    assert await conn.fetchval("SHOW transaction_isolation") == "read committed"


async def test_repeatable_read_sees_a_snapshot(conn: Any, make_conn: Any, table: str) -> None:
    other = await make_conn()
    async with conn.transaction(isolation="repeatable_read"):
        assert await _values(conn, table) == []
        await other.execute(f"INSERT INTO {table} VALUES (1)")
        assert await _values(conn, table) == []
    assert await _values(conn, table) == [1]


async def test_serialization_failure(conn: Any, make_conn: Any, table: str) -> None:
    other = await make_conn()
    await conn.execute(f"INSERT INTO {table} VALUES (1)")
    with pytest.raises(pgwire.SerializationError):
        async with conn.transaction(isolation="repeatable_read"):
            await conn.fetch(f"SELECT * FROM {table}")
            await other.execute(f"UPDATE {table} SET a = 2 WHERE a = 1")
            await conn.execute(f"UPDATE {table} SET a = 3 WHERE a = 1")
    assert not conn.is_in_transaction()
    assert await _values(conn, table) == [2]


async def test_invalid_isolation_level(conn: Any) -> None:
    with pytest.raises(ValueError):
        conn.transaction(isolation="chaos")
    assert not conn.is_in_transaction()


async def test_readonly(conn: Any, table: str) -> None:
    with pytest.raises(pgwire.ReadOnlySQLTransactionError) as info:
        async with conn.transaction(readonly=True):
            assert await conn.fetchval("SHOW transaction_read_only") == "on"
            assert await _values(conn, table) == []
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
    assert info.value.sqlstate == "25006"
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SHOW transaction_read_only") == "off"
    await conn.execute(f"INSERT INTO {table} VALUES (1)")
    assert await _values(conn, table) == [1]


async def test_deferrable(conn: Any) -> None:
    async with conn.transaction(isolation="serializable", readonly=True, deferrable=True):
        assert await conn.fetchval("SHOW transaction_deferrable") == "on"
        assert await conn.fetchval("SHOW transaction_read_only") == "on"
        assert await conn.fetchval("SHOW transaction_isolation") == "serializable"
    async with conn.transaction():
        assert await conn.fetchval("SHOW transaction_deferrable") == "off"


async def test_nested_block_cannot_change_isolation(conn: Any) -> None:
    async with conn.transaction(isolation="serializable"):
        with pytest.raises(pgwire.InterfaceError):
            async with conn.transaction(isolation="read_committed"):
                pass
        assert await conn.fetchval("SELECT 1") == 1
    assert not conn.is_in_transaction()


async def test_is_in_transaction(conn: Any) -> None:
    assert not conn.is_in_transaction()
    async with conn.transaction():
        assert conn.is_in_transaction()
        async with conn.transaction():
            assert conn.is_in_transaction()
        assert conn.is_in_transaction()
    assert not conn.is_in_transaction()
    await conn.execute("BEGIN")
    assert conn.is_in_transaction()
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.fetchval("SELECT 1/0")
    assert conn.is_in_transaction()  # failed, but still open
    await conn.execute("ROLLBACK")
    assert not conn.is_in_transaction()
    await conn.execute("BEGIN")
    await conn.execute("COMMIT")
    assert not conn.is_in_transaction()


async def test_manual_start_commit(conn: Any, make_conn: Any, table: str) -> None:
    other = await make_conn()
    tx = conn.transaction()
    await tx.start()
    assert conn.is_in_transaction()
    await conn.execute(f"INSERT INTO {table} VALUES (1)")
    assert await _values(other, table) == []
    await tx.commit()
    assert not conn.is_in_transaction()
    assert await _values(other, table) == [1]
    with pytest.raises(pgwire.InterfaceError):
        await tx.commit()
    with pytest.raises(pgwire.InterfaceError):
        await tx.rollback()
    with pytest.raises(pgwire.InterfaceError):
        await tx.start()


async def test_manual_start_rollback(conn: Any, table: str) -> None:
    tx = conn.transaction()
    with pytest.raises(pgwire.InterfaceError):
        await tx.commit()  # not started yet
    await tx.start()
    await conn.execute(f"INSERT INTO {table} VALUES (1)")
    await tx.rollback()
    assert not conn.is_in_transaction()
    assert await _values(conn, table) == []
    # A finished transaction's block can follow: a new one works.
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {table} VALUES (2)")
    assert await _values(conn, table) == [2]


async def test_manual_nested_savepoint(conn: Any, table: str) -> None:
    outer = conn.transaction()
    await outer.start()
    inner = conn.transaction()
    await inner.start()
    await conn.execute(f"INSERT INTO {table} VALUES (1)")
    await inner.rollback()
    assert conn.is_in_transaction()
    await conn.execute(f"INSERT INTO {table} VALUES (2)")
    await outer.commit()
    assert await _values(conn, table) == [2]


async def test_transaction_inside_manual_begin(conn: Any, table: str) -> None:
    await conn.execute("BEGIN")
    with pytest.raises(pgwire.InterfaceError):
        async with conn.transaction():
            pass
    # The manual transaction is untouched.
    assert conn.is_in_transaction()
    await conn.execute(f"INSERT INTO {table} VALUES (1)")
    await conn.execute("ROLLBACK")
    assert not conn.is_in_transaction()
    assert await _values(conn, table) == []
    async with conn.transaction():
        pass


async def test_commit_failure_raises(conn: Any, make_conn: Any, table: str) -> None:
    await conn.execute(
        f"CREATE TABLE {table}_ref (a int REFERENCES {table} (a) DEFERRABLE INITIALLY DEFERRED)"
    )
    try:
        with pytest.raises(pgwire.ForeignKeyViolationError):
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {table}_ref VALUES (42)")
                # The deferred check fires at COMMIT.
        assert not conn.is_in_transaction()
        assert await conn.fetchval(f"SELECT count(*) FROM {table}_ref") == 0
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}_ref")


async def test_manual_commit_inside_block_is_not_repeated(conn: Any, table: str) -> None:
    async with conn.transaction() as tx:
        await conn.execute(f"INSERT INTO {table} VALUES (1)")
        await tx.commit()
    assert not conn.is_in_transaction()
    assert await _values(conn, table) == [1]


async def test_prepared_statement_in_transaction(conn: Any, table: str) -> None:
    stmt = await conn.prepare(f"INSERT INTO {table} VALUES ($1)")
    with pytest.raises(LookupError):
        async with conn.transaction():
            await stmt.executemany([(1,), (2,)])
            await stmt.fetch(3)
            raise LookupError
    assert await _values(conn, table) == []
    async with conn.transaction():
        await stmt.fetch(4)
    assert await _values(conn, table) == [4]


async def test_timeout_inside_block_rolls_back(conn: Any, table: str) -> None:
    with pytest.raises((TimeoutError, asyncio.TimeoutError)):
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
            await conn.fetchval("SELECT pg_sleep(5)", timeout=0.2)
    assert not conn.is_in_transaction()
    assert await _values(conn, table) == []
    assert await conn.fetchval("SELECT $1::int", 9) == 9


async def test_connection_killed_inside_block_propagates_original_error(
    make_conn: Any,
) -> None:
    conn = await make_conn()
    with pytest.raises((pgwire.AdminShutdownError, pgwire.ConnectionDoesNotExistError)):
        async with conn.transaction():
            await conn.execute("SELECT pg_terminate_backend(pg_backend_pid())")
            await conn.fetchval("SELECT 1")
    assert conn.is_closed()


async def test_transactions_without_statement_cache(make_conn: Any, table: str) -> None:
    conn = await make_conn(statement_cache_size=0)
    with pytest.raises(pgwire.UniqueViolationError):
        async with conn.transaction():
            await conn.execute(f"INSERT INTO {table} VALUES ($1)", 1)
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {table} VALUES ($1)", 2)
            await conn.execute(f"INSERT INTO {table} VALUES ($1)", 1)
    assert await _values(conn, table) == []
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {table} VALUES ($1)", 3)
    assert await _values(conn, table) == [3]


async def test_commit_of_a_failed_transaction_raises(conn: Any, make_conn: Any,
                                                     table: str) -> None:
    # The server answers COMMIT of a failed transaction with ROLLBACK and no
    # error; a caught error inside the block must not lose the work silently.
    other = await make_conn()
    with pytest.raises(pgwire.InFailedSQLTransactionError, match="nothing was committed"):
        async with conn.transaction() as tx:
            await conn.execute(f"INSERT INTO {table} VALUES (1)")
            with pytest.raises(pgwire.UniqueViolationError):
                await conn.execute(f"INSERT INTO {table} VALUES (1)")
    assert "state=rolled back" in repr(tx)
    assert not conn.is_in_transaction()
    assert await _values(other, table) == []
    # The same through an explicit commit(), and the connection goes on.
    tx = conn.transaction()
    await tx.start()
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.execute("SELECT 1 / 0")
    with pytest.raises(pgwire.InFailedSQLTransactionError):
        await tx.commit()
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {table} VALUES (2)")
    assert await _values(other, table) == [2]


async def test_savepoint_recovers_a_caught_error(conn: Any, table: str) -> None:
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {table} VALUES (1)")
        with pytest.raises(pgwire.UniqueViolationError):
            async with conn.transaction():
                await conn.execute(f"INSERT INTO {table} VALUES (1)")
        await conn.execute(f"INSERT INTO {table} VALUES (2)")
    assert await _values(conn, table) == [1, 2]


async def test_nested_isolation_mismatch_names_both_levels(conn: Any) -> None:
    async with conn.transaction(isolation="repeatable_read"):
        with pytest.raises(pgwire.InterfaceError,
                           match="current 'serializable' != outer 'repeatable_read'"):
            async with conn.transaction(isolation="serializable"):
                pass
