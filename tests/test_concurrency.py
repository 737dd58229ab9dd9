"""Concurrency, timeouts and cancellation on one connection, against a real server.

Operations issued concurrently on one connection queue (no "another
operation is in progress"); a timeout or a cancelled task asks the server to
cancel the statement, and the next operation gets its own result, never a
stale one.  The tests run on both APIs: for the blocking API the concurrent
operations are threads sharing one connection (see conftest.py); task
cancellation and the FIFO order of queued tasks are asyncio's alone
(``async_only``).  Elapsed times are checked against generous bounds far below the
length of the server-side sleeps, so a cancel that did not work shows.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

import pgwire

# asyncio.TimeoutError is TimeoutError from Python 3.11 on; a blocking call raises TimeoutError.
TIMEOUT_ERRORS = (TimeoutError, asyncio.TimeoutError)


async def _wait_until_active(observer: Any, pid: int, timeout: float = 5) -> None:
    """Wait until the backend ``pid`` is running a statement."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = await observer.fetchval(
            "SELECT state FROM pg_stat_activity WHERE pid = $1::int", pid
        )
        if state == "active":
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never became active")


async def _wait_until_idle(observer: Any, pid: int, timeout: float = 5) -> str | None:
    """Wait until the backend ``pid`` no longer runs a statement; return its state."""
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = await observer.fetchval(
            "SELECT state FROM pg_stat_activity WHERE pid = $1::int", pid
        )
        if state != "active":
            return state
        await asyncio.sleep(0.01)
    return state


# ---------------------------------------------------------------------------
# Many tasks, one connection


async def test_fifty_tasks_on_one_connection(conn: Any) -> None:
    async def work(i: int) -> tuple[int, Any]:
        kind = i % 5
        if kind == 0:
            return i, await conn.fetchval("SELECT $1::int * 2", i)
        if kind == 1:
            rows = await conn.fetch("SELECT g FROM generate_series(1, $1::int) g", i)
            return i, [r[0] for r in rows]
        if kind == 2:
            return i, await conn.fetchrow("SELECT $1::text AS s, $2::int AS n", str(i), i)
        if kind == 3:
            return i, await conn.execute("SELECT $1::int", i)
        return i, await conn.fetchval(f"SELECT {i} + 0")

    results = await asyncio.gather(*(work(i) for i in range(50)))
    for i, value in results:
        kind = i % 5
        if kind == 0:
            assert value == i * 2
        elif kind == 1:
            assert value == list(range(1, i + 1))
        elif kind == 2:
            assert value == (str(i), i)
        elif kind == 3:
            assert value == "SELECT 1"
        else:
            assert value == i


@pytest.mark.async_only  # asyncio.Lock is FIFO; threads take a threading.Lock in no set order
async def test_tasks_run_in_submission_order(conn: Any) -> None:
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS order_log (n int)")
    await asyncio.gather(
        *(conn.execute("INSERT INTO order_log VALUES ($1)", i) for i in range(30))
    )
    rows = await conn.fetch("SELECT n FROM order_log")
    assert [r[0] for r in rows] == list(range(30))


async def test_concurrent_errors_do_not_disturb_other_tasks(conn: Any) -> None:
    async def work(i: int) -> Any:
        if i % 5 == 0:
            return await conn.fetchval("SELECT 1 / ($1::int - $1::int)", i)
        if i % 7 == 0:
            return await conn.fetchval("SELEC $1", i)
        return await conn.fetchval("SELECT $1::int + 1000", i)

    results = await asyncio.gather(*(work(i) for i in range(50)), return_exceptions=True)
    for i, result in enumerate(results):
        if i % 5 == 0:
            assert isinstance(result, pgwire.DivisionByZeroError), (i, result)
        elif i % 7 == 0:
            assert isinstance(result, pgwire.PostgresSyntaxError), (i, result)
        else:
            assert result == i + 1000
    assert await conn.fetchval("SELECT 'ok'") == "ok"


async def test_concurrent_executemany_and_fetch(conn: Any) -> None:
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS many_rows (n int)")
    batches = [[(b * 100 + i,) for i in range(100)] for b in range(5)]
    fetches = [conn.fetchval("SELECT $1::int", i) for i in range(20)]
    results = await asyncio.gather(
        *(conn.executemany("INSERT INTO many_rows VALUES ($1)", batch) for batch in batches),
        *fetches,
    )
    assert results[5:] == list(range(20))
    assert await conn.fetchval("SELECT count(*) FROM many_rows") == 500


async def test_many_connections_many_tasks(make_conn: Any) -> None:
    conns = [await make_conn() for _ in range(5)]

    async def work(c: Any, i: int) -> int:
        return await c.fetchval("SELECT $1::int + pg_backend_pid() * 0", i)

    tasks = [work(conns[i % 5], i) for i in range(100)]
    assert await asyncio.gather(*tasks) == list(range(100))


# ---------------------------------------------------------------------------
# Timeouts


async def test_timeout_cancels_statement_and_next_query_is_fresh(
    conn: Any, make_conn: Any
) -> None:
    observer = await make_conn()
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.fetchval("SELECT pg_sleep(5)", timeout=0.5)
    assert time.monotonic() - started < 2
    assert await conn.fetchval("SELECT $1::int", 42) == 42
    assert time.monotonic() - started < 2.5
    assert await conn.fetch("SELECT 'a' AS x UNION ALL SELECT 'b'") == [("a",), ("b",)]
    # The server is not still sleeping for us.
    assert await _wait_until_idle(observer, conn.get_server_pid()) == "idle"
    assert not conn.is_closed()


@pytest.mark.parametrize("method", ["execute", "fetch", "fetchrow", "fetchval", "executemany"])
async def test_timeout_on_every_method(conn: Any, method: str) -> None:
    call = {
        "execute": lambda: conn.execute("SELECT pg_sleep(5)", timeout=0.3),
        "fetch": lambda: conn.fetch("SELECT pg_sleep(5)", timeout=0.3),
        "fetchrow": lambda: conn.fetchrow("SELECT pg_sleep(5)", timeout=0.3),
        "fetchval": lambda: conn.fetchval("SELECT pg_sleep(5)", timeout=0.3),
        "executemany": lambda: conn.executemany(
            "SELECT pg_sleep($1::float8)", [(0,), (5,)], timeout=0.3
        ),
    }[method]
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await call()
    assert await conn.fetchval("SELECT $1::text", method) == method
    assert time.monotonic() - started < 2.5


async def test_timeout_on_prepared_statement(conn: Any) -> None:
    stmt = await conn.prepare("SELECT pg_sleep($1::float8)::text || $2::text")
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await stmt.fetchval(5, "x", timeout=0.3)
    assert await stmt.fetchval(0, "fresh") == "fresh"
    assert time.monotonic() - started < 2.5


async def test_timeout_inside_transaction_leaves_it_failed_not_desynchronised(
    conn: Any,
) -> None:
    await conn.execute("BEGIN")
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.fetchval("SELECT pg_sleep(5)", timeout=0.3)
    # The cancelled statement failed inside the transaction, as any error does.
    with pytest.raises(pgwire.InFailedSQLTransactionError):
        await conn.fetchval("SELECT 1")
    await conn.execute("ROLLBACK")
    assert await conn.fetchval("SELECT 2") == 2


async def test_repeated_timeouts_racing_completion(conn: Any) -> None:
    # Statements that finish right around the deadline: whatever each outcome,
    # the following query must get its own result.
    for i in range(20):
        try:
            value = await conn.fetchval(
                "SELECT $1::int FROM pg_sleep(0.02)", i, timeout=0.02
            )
        except TIMEOUT_ERRORS:
            pass
        else:
            assert value == i
        assert await conn.fetchval("SELECT $1::int + 1000", i) == i + 1000
    assert not conn.is_closed()


async def test_timeout_does_not_affect_fast_queries(conn: Any) -> None:
    for i in range(20):
        assert await conn.fetchval("SELECT $1::int", i, timeout=5) == i


async def test_command_timeout_on_connect(make_conn: Any) -> None:
    conn = await make_conn(command_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.fetchval("SELECT pg_sleep(5)")
    assert time.monotonic() - started < 2
    assert await conn.fetchval("SELECT $1::int", 7) == 7
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.execute("SELECT pg_sleep(5)")
    # An explicit per-call timeout wins over command_timeout.
    assert await conn.fetchval("SELECT pg_sleep(0.8)::text || 'slept'", timeout=5) == "slept"
    assert time.monotonic() - started < 5


async def test_command_timeout_applies_to_prepared_statements(make_conn: Any) -> None:
    conn = await make_conn(command_timeout=0.3)
    stmt = await conn.prepare("SELECT pg_sleep($1::float8)")
    with pytest.raises(TIMEOUT_ERRORS):
        await stmt.fetch(5)
    assert await conn.fetchval("SELECT 1") == 1


async def test_timeout_counts_time_spent_waiting_in_queue(conn: Any) -> None:
    # A call's timeout bounds the whole call, including waiting its turn.
    slow = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(1)::text || 'slow'"))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    try:
        await conn.fetchval("SELECT 'queued'", timeout=0.2)
    except TIMEOUT_ERRORS:
        pass
    waited = time.monotonic() - started
    assert await slow == "slow"
    assert await conn.fetchval("SELECT 'after'") == "after"
    assert waited < 0.6, f"a call with timeout=0.2 took {waited:.2f} s"


# ---------------------------------------------------------------------------
# Cancellation


@pytest.mark.async_only  # task cancellation
async def test_cancelled_task_cancels_server_statement(conn: Any, make_conn: Any) -> None:
    observer = await make_conn()
    pid = conn.get_server_pid()
    task = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(5)"))
    await _wait_until_active(observer, pid)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await conn.fetchval("SELECT $1::int", 99) == 99
    assert time.monotonic() - started < 2, "the server statement was not cancelled"
    assert await _wait_until_idle(observer, pid) == "idle"
    assert not conn.is_closed()


@pytest.mark.async_only  # task cancellation
async def test_cancelled_task_with_queued_followers(conn: Any, make_conn: Any) -> None:
    observer = await make_conn()
    sleeper = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(5)"))
    followers = [asyncio.ensure_future(conn.fetchval("SELECT $1::int", i)) for i in range(10)]
    await _wait_until_active(observer, conn.get_server_pid())
    started = time.monotonic()
    sleeper.cancel()
    assert await asyncio.wait_for(asyncio.gather(*followers), 3) == list(range(10))
    assert time.monotonic() - started < 2
    assert sleeper.cancelled()


@pytest.mark.async_only  # task cancellation
async def test_cancelling_a_queued_task_does_not_disturb_others(conn: Any) -> None:
    first = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.3)::text || 'first'"))
    queued = asyncio.ensure_future(conn.fetchval("SELECT 'never'"))
    last = asyncio.ensure_future(conn.fetchval("SELECT 'last'"))
    await asyncio.sleep(0.05)
    queued.cancel()
    assert await first == "first"
    assert await last == "last"
    assert queued.cancelled()
    assert await conn.fetchval("SELECT 'then'") == "then"


@pytest.mark.async_only  # task cancellation
async def test_cancel_inside_transaction_block(conn: Any) -> None:
    async def body() -> None:
        async with conn.transaction():
            await conn.execute("CREATE TEMP TABLE cancel_tx (a int)")
            await conn.fetchval("SELECT pg_sleep(5)")

    task = asyncio.ensure_future(body())
    await asyncio.sleep(0.3)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2
    assert not conn.is_in_transaction()
    assert await conn.fetchval(
        "SELECT count(*) FROM pg_class WHERE relname = 'cancel_tx'"
    ) == 0


@pytest.mark.async_only  # cancellation by asyncio.wait_for
async def test_wait_for_around_query(conn: Any) -> None:
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await asyncio.wait_for(conn.fetchval("SELECT pg_sleep(5)"), 0.3)
    assert await conn.fetchval("SELECT 'clean'") == "clean"
    assert time.monotonic() - started < 2


@pytest.mark.async_only  # task cancellation
async def test_repeated_cancellation_racing_completion(conn: Any) -> None:
    for i in range(20):
        task = asyncio.ensure_future(conn.fetchval("SELECT $1::int FROM pg_sleep(0.01)", i))
        await asyncio.sleep(0.01)
        task.cancel()
        try:
            value = await task
        except asyncio.CancelledError:
            pass
        else:
            assert value == i
        assert await conn.fetchval("SELECT $1::int * -1", i) == -i
    assert not conn.is_closed()


async def test_close_after_cancelled_query(make_conn: Any) -> None:
    conn = await make_conn()
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.fetchval("SELECT pg_sleep(5)", timeout=0.2)
    started = time.monotonic()
    await asyncio.wait_for(conn.close(), 3)
    assert time.monotonic() - started < 2
    assert conn.is_closed()


async def test_timeouts_mixed_into_concurrent_tasks(conn: Any) -> None:
    async def work(i: int) -> Any:
        if i % 10 == 3:
            return await conn.fetchval("SELECT pg_sleep(5)", timeout=0.2)
        return await conn.fetchval("SELECT $1::int * 3", i)

    started = time.monotonic()
    results = await asyncio.gather(*(work(i) for i in range(40)), return_exceptions=True)
    assert time.monotonic() - started < 10
    for i, result in enumerate(results):
        if i % 10 == 3:
            assert isinstance(result, TIMEOUT_ERRORS), (i, result)
        else:
            assert result == i * 3, (i, result)
    assert await conn.fetchval("SELECT 'done'") == "done"


@pytest.mark.async_only  # task cancellation
async def test_cancel_while_waiting_for_recovery(conn: Any) -> None:
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.fetchval("SELECT pg_sleep(5)", timeout=0.2)
    # The next call waits for the cancelled statement to finish on the server;
    # cancelling it there must not break the connection either.
    waiter = asyncio.ensure_future(conn.fetchval("SELECT 'waiter'"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert await asyncio.wait_for(conn.fetchval("SELECT 'next'"), 5) == "next"


@pytest.mark.parametrize("timeout", [0, -1])
async def test_timeout_not_positive_runs_nothing(conn: Any, timeout: float) -> None:
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS zero_timeout (n int)")
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.execute("INSERT INTO zero_timeout VALUES ($1)", 1, timeout=timeout)
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.fetchval("INSERT INTO zero_timeout VALUES (2) RETURNING n", timeout=timeout)
    await asyncio.sleep(0.1)
    assert await conn.fetchval("SELECT count(*) FROM zero_timeout") == 0
    assert await conn.fetchval("SELECT $1::int", 5) == 5
