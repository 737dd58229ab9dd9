"""executemany sent while it is built: all of the batch or none of it.

Outside a transaction block, a batch longer than ``STREAM_ROWS`` goes out
in parts while the rest is encoded (``Session._executemany_rest``).
These tests put the failure after the first part has reached the server:
a bad argument, an item that is not a sequence, a unique violation, a
timeout and a task cancellation.  Each must leave nothing of the batch in
the table and the connection in step.  Inside a transaction the batch is
built whole first, and a bad argument leaves the transaction usable.
Both APIs (conftest.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

import pgwire
from pgwire.flows.statements import STREAM_ROWS

ROWS = 5 * STREAM_ROWS
INSERT = "INSERT INTO {table} (a, b) VALUES ($1, $2)"


@pytest.fixture
async def table(conn: Any) -> AsyncIterator[str]:
    name = "stream_batch"
    await conn.execute(f"DROP TABLE IF EXISTS {name}")
    await conn.execute(f"CREATE TABLE {name} (a int PRIMARY KEY, b text)")
    yield name
    await conn.execute(f"DROP TABLE IF EXISTS {name}")


def rows(count: int = ROWS) -> list[tuple[int, str]]:
    return [(i, f"row {i}") for i in range(count)]


async def in_step(conn: Any, table: str, count: int = 0) -> None:
    """Nothing of a failed batch is there, and the connection answers."""
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == count
    assert await conn.fetchval("SELECT $1::text", "next") == "next"
    assert not conn.is_in_transaction()


async def test_a_long_batch_arrives_whole(conn: Any, table: str) -> None:
    await conn.executemany(INSERT.format(table=table), rows())
    assert await conn.fetchval(f"SELECT count(*), sum(a) FROM {table}") == ROWS
    assert await conn.fetchval(f"SELECT sum(a) FROM {table}") == ROWS * (ROWS - 1) // 2
    assert await conn.fetchval(f"SELECT b FROM {table} WHERE a = $1", ROWS - 1) == \
        f"row {ROWS - 1}"
    await in_step(conn, table, ROWS)


@pytest.mark.parametrize("position", [STREAM_ROWS, 3 * STREAM_ROWS + 7, ROWS - 1])
async def test_a_bad_argument_after_rows_went_out_applies_nothing(
    conn: Any, table: str, position: int
) -> None:
    batch: list[Any] = rows()
    batch[position] = (position, 12345)  # an int for text
    with pytest.raises(pgwire.DataError, match=r"argument \$2: 12345"):
        await conn.executemany(INSERT.format(table=table), batch)
    await in_step(conn, table)


async def test_an_item_that_is_not_a_sequence_applies_nothing(conn: Any, table: str) -> None:
    batch: list[Any] = rows()
    batch[2 * STREAM_ROWS + 1] = 42
    with pytest.raises(pgwire.InterfaceError, match=f"item {2 * STREAM_ROWS + 1} is int 42"):
        await conn.executemany(INSERT.format(table=table), batch)
    await in_step(conn, table)


async def test_a_server_error_late_in_the_batch_applies_nothing(conn: Any, table: str) -> None:
    batch = rows()
    batch.insert(4 * STREAM_ROWS + 3, (1, "duplicate"))
    with pytest.raises(pgwire.UniqueViolationError):
        await conn.executemany(INSERT.format(table=table), batch)
    await in_step(conn, table)
    # And the statement still works afterwards.
    await conn.executemany(INSERT.format(table=table), rows())
    await in_step(conn, table, ROWS)


async def test_inside_a_transaction_a_bad_argument_keeps_the_transaction(
    conn: Any, table: str
) -> None:
    batch: list[Any] = rows()
    batch[3 * STREAM_ROWS] = (0, 1.5)
    async with conn.transaction():
        await conn.execute(f"INSERT INTO {table} VALUES (-1, 'kept')")
        with pytest.raises(pgwire.DataError):
            await conn.executemany(INSERT.format(table=table), batch)
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 1
    await in_step(conn, table, 1)


async def test_a_timeout_mid_batch_applies_nothing(conn: Any, table: str) -> None:
    # Far more than 0.2 s of encoding on any machine: the timeout falls
    # while parts are still being sent.
    batch = [(i, "x" * 100) for i in range(400_000)]
    with pytest.raises(TimeoutError):
        await conn.executemany(INSERT.format(table=table), batch, timeout=0.2)
    await in_step(conn, table)


@pytest.mark.async_only  # task cancellation
async def test_a_cancelled_batch_applies_nothing(conn: Any, table: str) -> None:
    halfway = asyncio.Event()

    def batch() -> Iterator[tuple[int, str]]:
        for i in range(400_000):
            if i == 200_000:  # many parts are on the server already
                halfway.set()
            yield (i, "x" * 100)

    task = asyncio.ensure_future(conn.executemany(INSERT.format(table=table), batch()))
    await asyncio.wait_for(halfway.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await in_step(conn, table)
