"""Concurrent calls on one asyncio connection share round trips, against a real server.

Statements the connection knows go out as soon as it is their caller's
turn, each with its own Sync, while earlier ones are still in flight (see
``Runner._run_sharing``).  Through a proxy that adds latency, 100
``gather``-ed queries take about one round trip instead of 100; and sharing
changes nothing else: each statement keeps its own implicit transaction and
its own error, order is kept, a timed-out or cancelled caller disturbs
nobody, and the connection stays in step.  Elapsed times are compared with
the round trip measured in the same test, with wide margins (a loaded
2-core machine passes).

asyncio only: the blocking API runs the calls of threads one after the
other.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from delay_proxy import ONE_WAY_DELAY, DelayProxy, best_of

import pgwire

pytestmark = pytest.mark.async_only

TIMEOUT_ERRORS = (TimeoutError, asyncio.TimeoutError)


@pytest.fixture
async def proxy(cluster: Any) -> Any:
    with DelayProxy(cluster.host, cluster.port, delay=ONE_WAY_DELAY) as delaying:
        yield delaying


@pytest.fixture
async def slow_conn(make_conn: Any, proxy: Any) -> Any:
    """A connection through the delaying proxy."""
    return await make_conn(host=proxy.host, port=proxy.port)


async def _round_trip(conn: Any) -> float:
    async def one(attempt: int) -> None:
        assert await conn.fetchval("SELECT $1::int + 0", attempt) == attempt

    rtt = await best_of(5, one)
    assert rtt >= 2 * ONE_WAY_DELAY
    return rtt


# ---------------------------------------------------------------------------
# Round trips


async def test_hundred_gathered_queries_share_round_trips(slow_conn: Any) -> None:
    conn = slow_conn
    rtt = await _round_trip(conn)
    await conn.fetchrow("SELECT $1::text AS t, $2::int AS n", "x", 1)  # known now
    await conn.execute("SELECT $1::int", 1)

    async def hundred(attempt: int) -> None:
        calls = []
        for i in range(100):
            if i % 3 == 0:
                calls.append(conn.fetchval("SELECT $1::int + 0", i))
            elif i % 3 == 1:
                calls.append(conn.fetchrow("SELECT $1::text AS t, $2::int AS n", str(i), i))
            else:
                calls.append(conn.execute("SELECT $1::int", i))
        results = await asyncio.gather(*calls)
        for i, result in enumerate(results):
            if i % 3 == 0:
                assert result == i
            elif i % 3 == 1:
                assert tuple(result) == (str(i), i)
            else:
                assert result == "SELECT 1"

    elapsed = await best_of(3, hundred)
    print(f"\n100 gathered queries: {elapsed * 1000:.1f} ms, RTT {rtt * 1000:.1f} ms "
          f"({elapsed / rtt:.2f} RTT)")
    # One after the other they take 100 round trips.
    assert elapsed < 4 * rtt


async def test_new_statements_prepare_then_share(slow_conn: Any) -> None:
    """The first run of a statement prepares it alone; the runs queued behind
    it then share a round trip."""
    conn = slow_conn
    rtt = await _round_trip(conn)

    async def fresh(attempt: int) -> None:
        sql = f"SELECT $1::int + {attempt * 1000}"
        results = await asyncio.gather(*(conn.fetchval(sql, i) for i in range(100)))
        assert results == [attempt * 1000 + i for i in range(100)]

    elapsed = await best_of(3, fresh)
    print(f"\n100 gathered runs of a new statement: {elapsed / rtt:.2f} RTT")
    assert elapsed < 8 * rtt


async def test_prepared_statement_runs_share_round_trips(slow_conn: Any) -> None:
    conn = slow_conn
    rtt = await _round_trip(conn)
    statement = await conn.prepare("SELECT $1::int * 2")

    async def hundred(attempt: int) -> None:
        results = await asyncio.gather(*(statement.fetchval(i) for i in range(100)))
        assert results == [2 * i for i in range(100)]

    assert await best_of(3, hundred) < 4 * rtt


async def test_ten_tasks_of_many_queries(conn: Any) -> None:
    """Tasks looping over queries, interleaved on one connection: every task
    gets its own results, in its own order."""
    async def task(n: int) -> list[int]:
        return [await conn.fetchval("SELECT $1::int * 1000 + $2::int", n, i) for i in range(200)]

    results = await asyncio.gather(*(task(n) for n in range(10)))
    for n, values in enumerate(results):
        assert values == [n * 1000 + i for i in range(200)]


# ---------------------------------------------------------------------------
# Semantics kept


async def test_order_and_own_implicit_transactions(conn: Any) -> None:
    await conn.execute("CREATE TEMP TABLE shared_log (n int PRIMARY KEY)")
    await conn.execute("INSERT INTO shared_log VALUES ($1)", -1)  # known now
    results = await asyncio.gather(
        *(conn.execute("INSERT INTO shared_log VALUES ($1)", i % 20) for i in range(30)),
        return_exceptions=True,
    )
    for i, result in enumerate(results):
        if i < 20:
            assert result == "INSERT 0 1", (i, result)
        else:  # a duplicate: its own statement fails, nobody else's
            assert isinstance(result, pgwire.UniqueViolationError), (i, result)
    rows = await conn.fetch("SELECT n FROM shared_log WHERE n >= 0 ORDER BY ctid")
    assert [r[0] for r in rows] == list(range(20))  # in the order asked


async def test_errors_stay_with_their_statement(conn: Any) -> None:
    divide = "SELECT 10 / $1::int"
    assert await conn.fetchval(divide, 5) == 2
    results = await asyncio.gather(*(conn.fetchval(divide, i % 4) for i in range(40)),
                                   return_exceptions=True)
    for i, result in enumerate(results):
        if i % 4 == 0:
            assert isinstance(result, pgwire.DivisionByZeroError), (i, result)
        else:
            assert result == 10 // (i % 4), (i, result)
    assert await conn.fetchval("SELECT 'in step'") == "in step"


async def test_bad_argument_fails_before_anything_is_sent(conn: Any) -> None:
    sql = "SELECT $1::int + 1"
    assert await conn.fetchval(sql, 1) == 2
    results = await asyncio.gather(
        *(conn.fetchval(sql, "nope" if i == 5 else i) for i in range(10)),
        return_exceptions=True,
    )
    assert isinstance(results[5], pgwire.DataError)
    assert [r for i, r in enumerate(results) if i != 5] == [i + 1 for i in range(10) if i != 5]


async def test_inside_a_transaction_block(conn: Any) -> None:
    await conn.execute("CREATE TEMP TABLE shared_tx (n int)")
    await conn.execute("INSERT INTO shared_tx VALUES ($1)", 0)
    tx = conn.transaction()
    await tx.start()
    await asyncio.gather(*(conn.execute("INSERT INTO shared_tx VALUES ($1)", i)
                           for i in range(1, 11)))
    assert await conn.fetchval("SELECT count(*) FROM shared_tx") == 11
    await tx.rollback()
    assert await conn.fetchval("SELECT count(*) FROM shared_tx") == 1


async def test_stale_statement_retried_by_every_caller(conn: Any, make_conn: Any) -> None:
    """DDL from another session changes a cached statement's result type
    while many runs of it are in flight: each is prepared again and run."""
    await conn.execute("CREATE TABLE IF NOT EXISTS shared_stale (a int)")
    try:
        await conn.execute("TRUNCATE shared_stale")
        await conn.execute("INSERT INTO shared_stale VALUES (1)")
        query = "SELECT * FROM shared_stale WHERE a = $1::int"
        assert [tuple(r) for r in await conn.fetch(query, 1)] == [(1,)]
        other = await make_conn()
        await other.execute("ALTER TABLE shared_stale ADD COLUMN b text DEFAULT 'b'")
        results = await asyncio.gather(*(conn.fetch(query, 1) for _ in range(20)))
        assert all([tuple(r) for r in rows] == [(1, "b")] for rows in results)
    finally:
        await conn.execute("DROP TABLE IF EXISTS shared_stale")


async def test_copy_statement_in_a_query_among_others(conn: Any) -> None:
    """A COPY FROM STDIN run through a query method is refused; running it
    among shared statements (it would make the server read theirs as COPY
    data) leaves them unharmed, the first time and once it is known."""
    await conn.execute("CREATE TEMP TABLE shared_copy (n int)")
    for _ in range(2):
        results = await asyncio.gather(
            *(conn.fetchval("SELECT $1::int", i) for i in range(5)),
            conn.fetch("COPY shared_copy FROM STDIN"),
            *(conn.fetchval("SELECT $1::int", i) for i in range(5, 10)),
            return_exceptions=True,
        )
        assert results[:5] == list(range(5))
        assert isinstance(results[5], pgwire.Error)
        assert results[6:] == list(range(5, 10))
    assert await conn.fetchval("SELECT 'in step'") == "in step"


async def test_exclusive_work_among_shared_statements(conn: Any) -> None:
    """executemany, COPY and a new statement wait for what is in flight,
    run alone, and the statements queued after them follow."""
    await conn.execute("CREATE TEMP TABLE shared_mixed (n int)")
    assert await conn.fetchval("SELECT $1::int", 0) == 0
    results = await asyncio.gather(
        *(conn.fetchval("SELECT $1::int", i) for i in range(10)),
        conn.executemany("INSERT INTO shared_mixed VALUES ($1)", [(i,) for i in range(100)]),
        *(conn.fetchval("SELECT $1::int", i) for i in range(10, 20)),
        conn.copy_records_to_table("shared_mixed", records=[(i,) for i in range(100)]),
        conn.fetchval("SELECT count(*) FROM shared_mixed"),
        *(conn.fetchval("SELECT $1::int", i) for i in range(20, 30)),
    )
    assert results[:10] == list(range(10))
    assert results[11:21] == list(range(10, 20))
    assert results[22] == 200  # after both, in the order asked
    assert results[23:] == list(range(20, 30))


async def test_explicit_pipeline_and_close_wait_for_shared_statements(slow_conn: Any) -> None:
    conn = slow_conn
    assert await conn.fetchval("SELECT $1::int", 0) == 0
    tasks = [asyncio.ensure_future(conn.fetchval("SELECT $1::int", i)) for i in range(20)]
    await asyncio.sleep(0)
    async with conn.pipeline() as p:
        pending = p.fetchval("SELECT $1::int", 99)
    assert pending.result() == 99
    assert await asyncio.gather(*tasks) == list(range(20))
    tasks = [asyncio.ensure_future(conn.fetchval("SELECT $1::int", i)) for i in range(20)]
    await asyncio.sleep(0)
    await conn.close()
    assert await asyncio.gather(*tasks) == list(range(20))


# ---------------------------------------------------------------------------
# Timeouts, cancellation, lost connections


async def test_timeout_of_one_leaves_the_others_their_results(conn: Any) -> None:
    sleep = "SELECT pg_sleep($1::float8)::text || $2::text"
    assert await conn.fetchval(sleep, 0, "x") == "x"
    fast = "SELECT $1::int"
    assert await conn.fetchval(fast, 0) == 0
    results = await asyncio.gather(
        *(conn.fetchval(fast, i) for i in range(5)),
        conn.fetchval(sleep, 1.5, "slow", timeout=0.3),
        *(conn.fetchval(fast, i) for i in range(5, 10)),
        return_exceptions=True,
    )
    assert isinstance(results[5], TIMEOUT_ERRORS), results[5]
    # The statements behind it were not cancelled by its timeout.
    assert results[:5] + results[6:] == list(range(10))
    assert await conn.fetchval(fast, 42) == 42


async def test_cancelled_task_leaves_the_others_their_results(conn: Any) -> None:
    sleep = "SELECT pg_sleep($1::float8)::text || $2::text"
    assert await conn.fetchval(sleep, 0, "x") == "x"
    fast = "SELECT $1::int"
    assert await conn.fetchval(fast, 0) == 0
    before = [asyncio.ensure_future(conn.fetchval(fast, i)) for i in range(5)]
    victim = asyncio.ensure_future(conn.fetchval(sleep, 1, "slow"))
    after = [asyncio.ensure_future(conn.fetchval(fast, i)) for i in range(5, 10)]
    await asyncio.sleep(0.2)
    victim.cancel()
    with pytest.raises(asyncio.CancelledError):
        await victim
    assert await asyncio.gather(*before, *after) == list(range(10))
    assert await conn.fetchval(fast, 42) == 42


async def test_cancel_request_once_nobody_waits(conn: Any, make_conn: Any) -> None:
    """Given up while others wait behind it, a statement is left to run; once
    every caller has given up, the server is asked to cancel it."""
    sleep = "SELECT pg_sleep($1::float8)::text || $2::text"
    assert await conn.fetchval(sleep, 0, "x") == "x"
    started = time.monotonic()
    results = await asyncio.gather(
        conn.fetchval(sleep, 60, "long", timeout=0.5),
        *(conn.fetchval(sleep, 0, str(i), timeout=1.0) for i in range(5)),
        return_exceptions=True,
    )
    assert all(isinstance(r, TIMEOUT_ERRORS) for r in results), results
    # The 60 s sleep was cancelled: the connection answers long before.
    assert await conn.fetchval(sleep, 0, "next") == "next"
    assert time.monotonic() - started < 30
    observer = await make_conn()
    pid = conn.get_server_pid()
    state = await observer.fetchval("SELECT state FROM pg_stat_activity WHERE pid = $1", pid)
    assert state == "idle"


async def test_killed_connection_fails_every_caller(conn: Any, make_conn: Any) -> None:
    sleep = "SELECT pg_sleep($1::float8)::text || $2::text"
    assert await conn.fetchval(sleep, 0, "x") == "x"
    tasks = [asyncio.ensure_future(conn.fetchval(sleep, 0.5 if i == 0 else 0, str(i)))
             for i in range(30)]
    await asyncio.sleep(0.2)
    observer = await make_conn()
    await observer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    assert all(isinstance(r, pgwire.Error) for r in results), results
    assert conn.is_closed()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await conn.fetchval("SELECT 1")


async def test_many_timeouts_mixed_in_stay_in_step(conn: Any) -> None:
    sleep = "SELECT pg_sleep($1::float8)::text || $2::text"
    assert await conn.fetchval(sleep, 0, "x") == "x"

    async def work(i: int) -> Any:
        if i % 7 == 3:
            return await conn.fetchval(sleep, 0.2, str(i), timeout=0.05)
        return await conn.fetchval(sleep, 0, str(i), timeout=20)

    for _ in range(3):
        results = await asyncio.gather(*(work(i) for i in range(40)), return_exceptions=True)
        for i, result in enumerate(results):
            if i % 7 == 3:
                assert isinstance(result, TIMEOUT_ERRORS) or result == str(i), (i, result)
            else:
                assert result == str(i), (i, result)
    assert await conn.fetchval("SELECT $1::int", 7) == 7
