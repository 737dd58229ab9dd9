"""Cancellation, timeouts and a dying server: beyond test_concurrency.py / test_errors.py.

Those files cover a timeout or a cancelled task during ``pg_sleep`` on a
direct connection, each query method, the simple race, and the server
killing a connection that runs ``pg_sleep`` or waits idle.  Here:

* cancellation through a proxy that adds latency (the cancel request and
  the results are in flight together), checked on the server;
* a timeout while a large result streams in;
* the race where the statement finishes just as the cancel goes out,
  30 times per API with timeouts around the statement's duration, through
  latency, with results of different shapes: never a stale or wrong result;
* ``command_timeout`` and timeouts on cursors and COPY;
* the server killing the connection during COPY in and out, a pipeline and
  a cursor, and with operations of every kind queued: each call fails
  promptly with a connection error and ``is_closed()`` turns True.
"""

from __future__ import annotations

import asyncio
import io
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from delay_proxy import DelayProxy

import pgwire

TIMEOUT_ERRORS = (TimeoutError, asyncio.TimeoutError)
# What a call fails with when the server ends the session under it.
CONNECTION_ERRORS = (pgwire.ConnectionDoesNotExistError, pgwire.AdminShutdownError,
                     pgwire.PostgresConnectionError)


async def wait_for_state(observer: Any, pid: int, wanted: str, timeout: float = 5) -> str | None:
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = await observer.fetchval(
            "SELECT state FROM pg_stat_activity WHERE pid = $1::int", pid)
        if state == wanted:
            return state
        await asyncio.sleep(0.01)
    return state


async def kill_backend(killer: Any, pid: int) -> None:
    # The timeout form waits until the backend has exited (PostgreSQL 14+).
    assert await killer.fetchval("SELECT pg_terminate_backend($1::int, 5000)", pid) is True


@pytest.fixture
def proxy(cluster: Any) -> Iterator[DelayProxy]:
    """A proxy adding 5 ms each way (10 ms per round trip) in front of the cluster."""
    with DelayProxy(cluster.host, cluster.port, delay=0.005) as running:
        yield running


async def test_delay_proxy_adds_latency_and_stops_cleanly(api: Any, cluster: Any,
                                                          make_conn: Any) -> None:
    """The helper itself: ~2 x delay per round trip, and stop() ends everything."""
    running = DelayProxy(cluster.host, cluster.port, delay=0.01).start()
    try:
        conn = await make_conn(host=running.host, port=running.port)
        await conn.fetchval("SELECT 1")
        started = time.monotonic()
        for _ in range(3):
            await conn.fetchval("SELECT 1")
        assert (time.monotonic() - started) / 3 >= 0.02
    finally:
        running.stop()
    assert running._thread is not None and not running._thread.is_alive()
    running.stop()  # twice is harmless
    # The forwarded connection is closed, and nothing listens any more.
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(conn.fetchval("SELECT 1"), 5)
    with pytest.raises(OSError):
        await asyncio.wait_for(asyncio.open_connection(running.host, running.port), 5)


# ---------------------------------------------------------------------------
# Cancellation through latency


async def test_timeout_through_latency_cancels_server_statement(
        api: Any, make_conn: Any, proxy: DelayProxy) -> None:
    conn = await make_conn(host=proxy.host, port=proxy.port)
    observer = await make_conn()
    pid = conn.get_server_pid()
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.fetchval("SELECT pg_sleep(10)", timeout=0.3)
    assert await conn.fetchval("SELECT $1::int", 17) == 17
    assert time.monotonic() - started < 1.5, "the server statement was not cancelled"
    # The server is idle, its last statement being the one we gave up on.
    assert await wait_for_state(observer, pid, "idle") == "idle"
    assert proxy.connections >= 2  # the cancel request went through the proxy too
    assert not conn.is_closed()


@pytest.mark.async_only  # task cancellation
async def test_task_cancel_through_latency(make_conn: Any, proxy: DelayProxy) -> None:
    conn = await make_conn(host=proxy.host, port=proxy.port)
    observer = await make_conn()
    pid = conn.get_server_pid()
    task = asyncio.ensure_future(conn.fetch("SELECT pg_sleep(10)"))
    assert await wait_for_state(observer, pid, "active") == "active"
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await conn.fetch("SELECT 1 AS a, 2 AS b") == [(1, 2)]
    assert time.monotonic() - started < 1.5
    assert await wait_for_state(observer, pid, "idle") == "idle"


# ---------------------------------------------------------------------------
# A timeout while a large result streams in

_SYNC_STREAM_TIMEOUT_BUG = (
    "BUG: the blocking API's timeout is not enforced while the server keeps sending: "
    "BlockingDriver._receive raises TimeoutError only when its readiness wait finds "
    "nothing to read (it waits with a timeout of 0 once the deadline has passed), so a fetch "
    "of a steadily streaming result returns late and successfully (2M rows with "
    "timeout=0.2 took ~7 s)"
)


@pytest.mark.parametrize("api", [
    "async",
    "sync",
], indirect=True)
async def test_timeout_during_large_result(api: Any, conn: Any) -> None:
    # generate_series in the select list streams at once (in FROM it is
    # materialised first, and the deadline may pass before data flows).
    # 2M rows take seconds to decode, far more than the timeout, in both
    # builds and both APIs.
    rows = 2_000_000
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.fetch("SELECT generate_series(1, $1::int) AS g", rows, timeout=0.2)
    elapsed = time.monotonic() - started
    assert elapsed < 1.5, f"timeout=0.2 took {elapsed:.2f} s"
    assert await conn.fetchval("SELECT $1::text", "next") == "next"
    recovered = time.monotonic() - started
    assert await conn.fetch("SELECT generate_series(1, 3) AS g") == [(1,), (2,), (3,)]
    print(f"\n[{api.name}] large result: TimeoutError after {elapsed:.2f} s, "
          f"next result after {recovered:.2f} s")
    # The rows already on their way are read (and decoded) before the next
    # query runs: a few hundred thousand here, which takes a while.
    assert recovered < 8
    assert not conn.is_closed()


# ---------------------------------------------------------------------------
# The race: the statement finishes as the cancel goes out


async def test_race_timeout_against_completion(api: Any, make_conn: Any,
                                               proxy: DelayProxy) -> None:
    """30 statements whose duration (server time + a 10 ms round trip) is about
    the timeout: each either times out or returns its own result, and the
    next query always gets its own result."""
    conn = await make_conn(host=proxy.host, port=proxy.port)
    timeouts = [0.012, 0.018, 0.022, 0.026, 0.032]
    outcomes = {"timeout": 0, "result": 0}
    for i in range(30):
        timeout = timeouts[i % len(timeouts)]
        try:
            if i % 2:
                value: Any = await conn.fetchval(
                    "SELECT $1::int FROM pg_sleep(0.01)", i, timeout=timeout)
                assert value == i
            else:
                rows = await conn.fetch("SELECT g, $1::int AS i FROM generate_series(1, 2000) g",
                                        i, timeout=timeout)
                assert len(rows) == 2000 and rows[-1] == (2000, i)
        except TIMEOUT_ERRORS:
            outcomes["timeout"] += 1
        else:
            outcomes["result"] += 1
        # A different shape each time: a stale answer could not pass for it.
        assert await conn.fetchrow("SELECT $1::text AS t, $2::int AS n", f"r{i}", -i) == (
            f"r{i}", -i)
        assert not conn.is_in_transaction()
    print(f"\n[{api.name}] race outcomes: {outcomes}")
    assert not conn.is_closed()
    assert await conn.fetchval("SELECT 'end'") == "end"


@pytest.mark.async_only  # task cancellation
async def test_race_task_cancel_against_completion(make_conn: Any, proxy: DelayProxy) -> None:
    conn = await make_conn(host=proxy.host, port=proxy.port)
    delays = [0.0, 0.005, 0.01, 0.015, 0.02, 0.03]
    outcomes = {"cancelled": 0, "result": 0}
    for i in range(30):
        task = asyncio.ensure_future(conn.fetchval("SELECT $1::int FROM pg_sleep(0.005)", i))
        await asyncio.sleep(delays[i % len(delays)])
        task.cancel()
        try:
            value = await task
        except asyncio.CancelledError:
            outcomes["cancelled"] += 1
        else:
            outcomes["result"] += 1
            assert value == i
        assert await conn.fetch("SELECT $1::int AS a, 'x' AS b", -i) == [(-i, "x")]
    print(f"\n[async] task-cancel race outcomes: {outcomes}")
    assert not conn.is_closed()


# ---------------------------------------------------------------------------
# command_timeout and timeouts on cursors and COPY


async def test_command_timeout_covers_copy_and_cursors(api: Any, make_conn: Any) -> None:
    conn = await make_conn(command_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.copy_from_query("SELECT pg_sleep(5)", output=io.BytesIO())
    assert time.monotonic() - started < 1.5
    assert await conn.fetchval("SELECT 1") == 1
    with pytest.raises(TIMEOUT_ERRORS):
        async with conn.transaction():
            await conn.cursor("SELECT pg_sleep(5)")
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT 2") == 2
    assert time.monotonic() - started < 3


async def test_timeout_while_fetching_from_cursor(api: Any, conn: Any) -> None:
    query = "SELECT g, pg_sleep(CASE WHEN g > 5 THEN 5 ELSE 0 END) FROM generate_series(1, 10) g"
    raw = api.unwrap(conn)
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        async with conn.transaction():
            if api.name == "sync":
                def run() -> None:
                    cursor = raw.cursor(query, prefetch=2)
                    assert [r[0] for r in cursor.fetch(4, timeout=0.3)] == [1, 2, 3, 4]
                    cursor.fetch(4, timeout=0.3)  # row 6 sleeps
                await asyncio.to_thread(run)
            else:
                cursor = await raw.cursor(query)
                assert [r[0] for r in await cursor.fetch(4, timeout=0.3)] == [1, 2, 3, 4]
                await cursor.fetch(4, timeout=0.3)
    assert time.monotonic() - started < 1.5
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT 'usable'") == "usable"


async def test_copy_timeout_while_waiting_for_a_lock(api: Any, conn: Any,
                                                    make_conn: Any) -> None:
    """The timeout fires before the server is ready for data (CopyInResponse):
    the COPY is cancelled and aborted and nothing is inserted.  When the lock
    is released right around the deadline, the COPY either completes or
    inserts nothing, and the connection stays in step."""
    locker = await make_conn()
    table = f"locked_copy_{secrets.token_hex(4)}"
    await conn.execute(f"CREATE TABLE {table} (a int)")
    try:
        # The column types are looked up (and cached) before any lock is taken.
        await conn.copy_records_to_table(table, records=[(0,)])
        expected = 1
        for release_after in (None, 0.25, 0.3, 0.35):
            await locker.execute(f"BEGIN; LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE")

            async def release(delay: float | None = release_after) -> None:
                if delay is not None:
                    await asyncio.sleep(delay)
                    await locker.execute("ROLLBACK")

            releaser = asyncio.ensure_future(release())
            started = time.monotonic()
            timed_out = False
            try:
                status = await conn.copy_records_to_table(table, records=[(1,), (2,)],
                                                          timeout=0.3)
            except TIMEOUT_ERRORS:
                assert time.monotonic() - started < 1.0
                timed_out = True
            else:
                assert status == "COPY 2"
                expected += 2
            await releaser
            if release_after is None:
                await locker.execute("ROLLBACK")
            count = await conn.fetchval(f"SELECT count(*) FROM {table}")
            if timed_out and count == expected + 2:
                # The COPY finished just as the cancel went out: a timeout
                # cannot tell (as for any statement), but nothing is half-done.
                expected += 2
            assert count == expected
            assert not conn.is_in_transaction()
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")


# ---------------------------------------------------------------------------
# The server kills the connection in the middle of things


async def _assert_dead(conn: Any, terminated: list[Any]) -> None:
    for _ in range(100):
        if conn.is_closed():
            break
        await asyncio.sleep(0.01)
    assert conn.is_closed()
    assert len(terminated) == 1
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await conn.fetchval("SELECT 1")


async def test_killed_during_copy_in(api: Any, make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    terminated: list[Any] = []
    conn.add_termination_listener(terminated.append)
    await conn.execute("CREATE TEMP TABLE killed_copy (a int, b text)")
    sent = 0

    def records() -> Iterator[tuple[int, str]]:
        nonlocal sent
        for i in range(2_000_000):
            if i % 20_000 == 0:
                time.sleep(0.05)  # a slow producer: the COPY lasts ~5 s
            sent = i
            yield (i, "payload")

    async def async_records() -> AsyncIterator[tuple[int, str]]:
        nonlocal sent
        for i in range(2_000_000):
            if i % 20_000 == 0:
                await asyncio.sleep(0.05)
            sent = i
            yield (i, "payload")

    source = async_records() if api.name == "async" else records()
    copy = asyncio.ensure_future(conn.copy_records_to_table("killed_copy", records=source))
    await asyncio.sleep(0.4)
    started = time.monotonic()
    await kill_backend(killer, conn.get_server_pid())
    with pytest.raises(CONNECTION_ERRORS):
        await asyncio.wait_for(copy, 5)
    assert time.monotonic() - started < 1.5
    assert sent < 1_900_000  # the source was not read to the end
    await _assert_dead(conn, terminated)


async def test_killed_during_copy_out(api: Any, make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    terminated: list[Any] = []
    conn.add_termination_listener(terminated.append)
    out = io.BytesIO()
    copy = asyncio.ensure_future(conn.copy_from_query(
        "SELECT g, pg_sleep(0.01) FROM generate_series(1, 1000) g", output=out))
    await asyncio.sleep(0.4)
    started = time.monotonic()
    await kill_backend(killer, conn.get_server_pid())
    with pytest.raises(CONNECTION_ERRORS):
        await asyncio.wait_for(copy, 5)
    assert time.monotonic() - started < 1.5
    assert out.getvalue().startswith(b"1\t\n2\t\n")  # rows were arriving
    await _assert_dead(conn, terminated)


async def test_killed_during_pipeline(api: Any, make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    terminated: list[Any] = []
    conn.add_termination_listener(terminated.append)
    raw = api.unwrap(conn)
    pending: list[Any] = []

    if api.name == "sync":
        def run() -> None:
            with raw.pipeline() as p:
                pending.extend([p.fetchval("SELECT 1"), p.fetchval("SELECT pg_sleep(10)"),
                                p.fetchval("SELECT 3")])
        work = asyncio.ensure_future(asyncio.to_thread(run))
    else:
        async def run_async() -> None:
            async with raw.pipeline() as p:
                pending.extend([p.fetchval("SELECT 1"), p.fetchval("SELECT pg_sleep(10)"),
                                p.fetchval("SELECT 3")])
        work = asyncio.ensure_future(run_async())
    await asyncio.sleep(0.4)
    started = time.monotonic()
    await kill_backend(killer, conn.get_server_pid())
    with pytest.raises(CONNECTION_ERRORS):
        await asyncio.wait_for(work, 5)
    assert time.monotonic() - started < 1.5
    # The statement that completed keeps its result (its implicit transaction
    # died with the session, as after any error in a batch); the one running
    # fails with the connection error; the rest is aborted because of it.
    first, running, last = pending
    assert first.result() == 1
    assert isinstance(running.exception(), CONNECTION_ERRORS)
    assert isinstance(last.exception(), (pgwire.PipelineAbortedError, *CONNECTION_ERRORS))
    await _assert_dead(conn, terminated)


async def test_killed_during_cursor_iteration(api: Any, make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    terminated: list[Any] = []
    conn.add_termination_listener(terminated.append)
    raw = api.unwrap(conn)
    seen: list[Any] = []
    query = "SELECT g, pg_sleep(0.01) FROM generate_series(1, 1000) g"

    async def iterate() -> None:
        async with conn.transaction():
            if api.name == "sync":
                def run() -> None:
                    for record in raw.cursor(query, prefetch=5):
                        seen.append(record)
                await asyncio.to_thread(run)
            else:
                async for record in raw.cursor(query, prefetch=5):
                    seen.append(record)

    work = asyncio.ensure_future(iterate())
    await asyncio.sleep(0.4)
    started = time.monotonic()
    await kill_backend(killer, conn.get_server_pid())
    # The transaction block cannot roll back a dead connection: the
    # connection error comes out, not a second error about the ROLLBACK.
    with pytest.raises(CONNECTION_ERRORS):
        await asyncio.wait_for(work, 5)
    assert time.monotonic() - started < 1.5
    assert 0 < len(seen) < 1000
    await _assert_dead(conn, terminated)


async def test_queued_operations_of_every_kind_fail_when_server_dies(
        api: Any, make_conn: Any, cluster: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    observer = await make_conn()
    terminated: list[Any] = []
    conn.add_termination_listener(terminated.append)
    await conn.execute("CREATE TEMP TABLE queued_kinds (a int)")
    stmt = await conn.prepare("SELECT $1::int")
    raw = api.unwrap(conn)

    def pipeline_sync() -> None:
        with raw.pipeline() as p:
            p.fetchval("SELECT 1")

    async def pipeline_async() -> None:
        async with raw.pipeline() as p:
            p.fetchval("SELECT 1")

    async def transaction_block() -> None:
        async with conn.transaction():
            await conn.execute("INSERT INTO queued_kinds VALUES (1)")

    pid = conn.get_server_pid()
    operations = [asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(30)"))]
    assert await wait_for_state(observer, pid, "active") == "active"
    operations += [
        asyncio.ensure_future(conn.fetchval("SELECT $1::int", 1)),
        asyncio.ensure_future(conn.execute("SELECT 1")),
        asyncio.ensure_future(conn.executemany("INSERT INTO queued_kinds VALUES ($1)",
                                               [(1,), (2,)])),
        asyncio.ensure_future(stmt.fetchval(5)),
        asyncio.ensure_future(conn.copy_from_query("SELECT 1", output=io.BytesIO())),
        asyncio.ensure_future(conn.copy_records_to_table("queued_kinds", records=[(1,)])),
        asyncio.ensure_future(transaction_block()),
        asyncio.ensure_future(asyncio.to_thread(pipeline_sync) if api.name == "sync"
                              else pipeline_async()),
        asyncio.ensure_future(conn.fetchval("SELECT 'last'", timeout=20)),
    ]
    await asyncio.sleep(0.2)  # all of them queued behind the sleeper
    assert not any(op.done() for op in operations)
    started = time.monotonic()
    await kill_backend(killer, pid)
    results = await asyncio.wait_for(
        asyncio.gather(*operations, return_exceptions=True), 5)
    elapsed = time.monotonic() - started
    for index, result in enumerate(results):
        assert isinstance(result, CONNECTION_ERRORS), (index, result)
    assert elapsed < 2, f"the queued operations took {elapsed:.2f} s to fail"
    await _assert_dead(conn, terminated)
