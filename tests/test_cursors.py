"""Server-side cursors (named portals) against a real server, on both APIs.

Iteration with ``prefetch`` rows per round trip, ``fetch(n)`` /
``fetchrow()`` / ``forward(n)`` at the boundaries, cursors outside a
transaction (refused), errors in the cursor's query, unnamed statements
(``statement_cache_size=0``), record classes, ``close()`` and several
cursors open at once.

Tests are written once (see conftest.py): ``await conn.cursor(...)`` gives
the asyncio cursor or an adapter of the blocking one; ``iterate`` collects
the rows of ``async for`` / the blocking iteration.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import pgwire

SERIES = "SELECT g, g::text AS s FROM generate_series(1, $1::int) g"


async def open_cursor(api: Any, conn: Any, query: str, *args: Any, **kwargs: Any) -> Any:
    """``await conn.cursor(...)``: for the blocking API, an adapter whose
    ``fetch``/``fetchrow``/``forward``/``close`` run in worker threads (conftest.py)."""
    return await conn.cursor(query, *args, **kwargs)


async def iterate(api: Any, conn: Any, query: str, *args: Any, **kwargs: Any) -> list[Any]:
    """All rows of ``conn.cursor(...)``; the blocking cursor is iterated in one
    worker thread (the adapter's ``async for`` would take a thread per row)."""
    raw = api.unwrap(conn)
    if api.name == "sync":
        return await asyncio.to_thread(lambda: list(raw.cursor(query, *args, **kwargs)))
    return [record async for record in raw.cursor(query, *args, **kwargs)]


class Point(pgwire.Record):
    pass


# ---------------------------------------------------------------------------
# Iteration


async def test_iteration_with_various_prefetch(api: Any, conn: Any) -> None:
    expected = [(i, str(i)) for i in range(1, 1001)]
    async with conn.transaction():
        for prefetch in (None, 1, 7, 50, 999, 1000, 1001, 5000):
            rows = await iterate(api, conn, SERIES, 1000, prefetch=prefetch)
            assert rows == expected, prefetch
        # Zero rows and one row.
        assert await iterate(api, conn, SERIES, 0, prefetch=3) == []
        assert await iterate(api, conn, SERIES, 1, prefetch=1) == [(1, "1")]
        # Interleaved with ordinary queries in the same transaction.
        assert await conn.fetchval("SELECT 'between'") == "between"
    assert not conn.is_in_transaction()


async def test_iteration_fetches_prefetch_rows_per_round_trip(api: Any, conn: Any) -> None:
    """The portal produces rows lazily, ``prefetch`` at a time: a query run on
    the connection between two batches shows up between them."""
    await conn.execute("CREATE TEMP SEQUENCE IF NOT EXISTS cursor_batches")
    query = "SELECT g, nextval('cursor_batches') AS n FROM generate_series(1, 25) g"
    raw = api.unwrap(conn)
    rows: list[Any] = []
    async with conn.transaction():
        if api.name == "sync":
            def run() -> None:
                for record in raw.cursor(query, prefetch=10):
                    rows.append(record)
                    if record["g"] % 10 == 0:  # the last row of a batch
                        raw.fetchval("SELECT nextval('cursor_batches')")
            await asyncio.to_thread(run)
        else:
            async for record in raw.cursor(query, prefetch=10):
                rows.append(record)
                if record["g"] % 10 == 0:
                    await raw.fetchval("SELECT nextval('cursor_batches')")
    assert [r["g"] for r in rows] == list(range(1, 26))
    # Batches 1-10, 11-20, 21-25; each query in between took one number.
    assert [r["n"] for r in rows] == [*range(1, 11), *range(12, 22), *range(23, 28)]


# ---------------------------------------------------------------------------
# fetch / fetchrow / forward


@pytest.mark.parametrize("prefetch", [None, 1, 3, 50])
async def test_fetch_fetchrow_forward_boundaries(api: Any, conn: Any,
                                                 prefetch: int | None) -> None:
    async with conn.transaction():
        cur = await open_cursor(api, conn, SERIES, 10, prefetch=prefetch)
        assert [r[0] for r in await cur.fetch(3)] == [1, 2, 3]
        assert (await cur.fetchrow())[0] == 4
        assert await cur.forward(2) == 2  # 5 and 6
        assert [r[0] for r in await cur.fetch(10)] == [7, 8, 9, 10]  # fewer at the end
        assert await cur.fetch(1) == []
        assert await cur.fetchrow() is None
        assert await cur.forward(5) == 0

        cur = await open_cursor(api, conn, SERIES, 10, prefetch=prefetch)
        assert [r[0] for r in await cur.fetch(10)] == list(range(1, 11))  # exactly all
        assert await cur.fetch(10) == []

        cur = await open_cursor(api, conn, SERIES, 10, prefetch=prefetch)
        assert await cur.forward(9) == 9
        assert (await cur.fetchrow())[0] == 10
        assert await cur.fetchrow() is None

        cur = await open_cursor(api, conn, SERIES, 10, prefetch=prefetch)
        assert await cur.forward(15) == 10  # past the end
        assert await cur.fetch(3) == []

        cur = await open_cursor(api, conn, SERIES, 0, prefetch=prefetch)
        assert await cur.fetchrow() is None
        assert await cur.fetch(5) == []
        assert await cur.forward(1) == 0

        cur = await open_cursor(api, conn, SERIES, 5, prefetch=prefetch)
        for bad in (0, -1):
            with pytest.raises(pgwire.InterfaceError):
                await cur.fetch(bad)
            with pytest.raises(pgwire.InterfaceError):
                await cur.forward(bad)
        assert [r[0] for r in await cur.fetch(5)] == [1, 2, 3, 4, 5]


async def test_several_cursors_at_once(api: Any, conn: Any) -> None:
    async with conn.transaction():
        evens = await open_cursor(api, conn, "SELECT g FROM generate_series(0, 98, 2) g")
        odds = await open_cursor(api, conn, "SELECT g FROM generate_series(1, 99, 2) g")
        merged: list[int] = []
        for _ in range(25):
            merged += [r[0] for r in await evens.fetch(2)]
            merged += [r[0] for r in await odds.fetch(2)]
        assert sorted(merged) == list(range(100))
        assert await evens.fetchrow() is None and await odds.fetchrow() is None


async def test_close(api: Any, conn: Any) -> None:
    portals = "SELECT count(*) FROM pg_cursors"
    async with conn.transaction():
        before = await conn.fetchval(portals)
        cur = await open_cursor(api, conn, SERIES, 100, prefetch=5)
        assert (await cur.fetchrow())[0] == 1
        assert await conn.fetchval(portals) == before + 1
        await cur.close()
        assert await conn.fetchval(portals) == before
        with pytest.raises(pgwire.InterfaceError, match="the cursor is closed"):
            await cur.fetch(5)
        with pytest.raises(pgwire.InterfaceError, match="the cursor is closed"):
            await cur.forward(1)
        await cur.close()  # twice is harmless
    await cur.close()  # after the transaction too


async def test_reading_after_the_transaction_is_refused_clearly(api: Any, conn: Any) -> None:
    async with conn.transaction():
        cur = await open_cursor(api, conn, SERIES, 100, prefetch=5)
        assert len(await cur.fetch(5)) == 5
    # The portal ended with the transaction: pgwire says so (the server
    # would name only pgwire's internal portal).
    with pytest.raises(pgwire.InterfaceError, match="transaction has ended"):
        await cur.fetch(5)
    assert await conn.fetchval("SELECT 1") == 1


async def test_cursor_arguments(api: Any, conn: Any) -> None:
    async with conn.transaction():
        rows = await iterate(api, conn,
                             "SELECT $1::text || g, $2::float8 * g, $3::bool "
                             "FROM generate_series(1, $4::int) g",
                             "it's ", 0.5, True, 3, prefetch=2)
        assert rows == [("it's 1", 0.5, True), ("it's 2", 1.0, True), ("it's 3", 1.5, True)]
        with pytest.raises(pgwire.DataError):
            await open_cursor(api, conn, SERIES, "ten")
    assert await conn.fetchval("SELECT 1") == 1


# ---------------------------------------------------------------------------
# Failures


async def test_outside_transaction_is_refused(api: Any, conn: Any) -> None:
    with pytest.raises(pgwire.InterfaceError, match="transaction"):
        await open_cursor(api, conn, SERIES, 10)
    with pytest.raises(pgwire.InterfaceError, match="transaction"):
        await iterate(api, conn, SERIES, 10)
    assert await conn.fetchval("SELECT 'fine'") == "fine"
    # A manual BEGIN counts as a transaction.
    await conn.execute("BEGIN")
    try:
        assert len(await iterate(api, conn, SERIES, 3)) == 3
    finally:
        await conn.execute("ROLLBACK")


async def test_cursor_used_after_its_transaction(api: Any, conn: Any) -> None:
    async with conn.transaction():
        cur = await open_cursor(api, conn, SERIES, 100, prefetch=1)
        await cur.fetchrow()
    # The portal ended with the transaction: the server says so.
    with pytest.raises(pgwire.Error):
        await cur.fetch(50)
    assert await conn.fetchval("SELECT 'usable'") == "usable"


async def test_error_in_cursor_query(api: Any, conn: Any) -> None:
    # At open: a syntax error, or an error in the first rows.
    for query in ("SELEC g FROM generate_series(1, 10) g", "SELECT 1 / 0"):
        with pytest.raises(pgwire.PostgresError):
            async with conn.transaction():
                await open_cursor(api, conn, query)
        assert not conn.is_in_transaction()
    # In the middle of an iteration: the rows before the failing batch arrive.
    seen: list[Any] = []

    async def consume() -> None:
        raw = api.unwrap(conn)
        query = "SELECT 100 / (500 - g) FROM generate_series(1, 1000) g"
        if api.name == "sync":
            def run() -> None:
                for record in raw.cursor(query, prefetch=100):
                    seen.append(record)
            await asyncio.to_thread(run)
        else:
            async for record in raw.cursor(query, prefetch=100):
                seen.append(record)

    with pytest.raises(pgwire.DivisionByZeroError):
        async with conn.transaction():
            await consume()
    assert len(seen) == 400  # four full batches; the fifth failed at row 500
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT $1::int", 9) == 9


# ---------------------------------------------------------------------------
# Statement strategy and record classes


async def test_statement_cache_size_zero(api: Any, make_conn: Any) -> None:
    conn = await make_conn(statement_cache_size=0)
    async with conn.transaction():
        for prefetch in (1, 13, 2000):
            assert [r[0] for r in await iterate(api, conn, SERIES, 1000, prefetch=prefetch)] \
                == list(range(1, 1001))
        cur = await open_cursor(api, conn, SERIES, 10, prefetch=4)
        assert [r[0] for r in await cur.fetch(5)] == [1, 2, 3, 4, 5]
        # Another unnamed statement in between does not disturb the open portal.
        assert await conn.fetchval("SELECT $1::text", "other") == "other"
        assert await cur.forward(3) == 3
        assert (await cur.fetchrow())["s"] == "9"


async def test_record_class(api: Any, conn: Any, make_conn: Any) -> None:
    async with conn.transaction():
        rows = await iterate(api, conn, SERIES, 3, prefetch=2, record_class=Point)
        assert [type(r) for r in rows] == [Point] * 3
        assert rows[2]["s"] == "3"
        cur = await open_cursor(api, conn, SERIES, 3, record_class=Point)
        assert type(await cur.fetchrow()) is Point
        assert all(type(r) is Point for r in await cur.fetch(5))
        with pytest.raises(pgwire.InterfaceError):
            await open_cursor(api, conn, SERIES, 3, record_class=dict)
    # The connection's record class is the default.
    other = await make_conn(record_class=Point)
    async with other.transaction():
        assert [type(r) for r in await iterate(api, other, SERIES, 2)] == [Point, Point]


@pytest.mark.parametrize("api", [
    "async",
    "sync",
], indirect=True)
async def test_prefetch_must_be_positive(api: Any, conn: Any) -> None:
    async with conn.transaction():
        with pytest.raises(pgwire.InterfaceError):
            await iterate(api, conn, SERIES, 3, prefetch=-1)
        with pytest.raises(pgwire.InterfaceError):
            await iterate(api, conn, SERIES, 3, prefetch=0)
