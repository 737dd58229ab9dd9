"""The connection pool under faults, against real servers: test_pool.py covers the API.

Every test runs on both pools (``[async]``, ``[sync]``; see conftest) unless
marked ``async_only`` (task cancellation).  Here:

* storms of acquires and queries with random acquire timeouts (some expire),
  query timeouts expiring during ``pg_sleep`` and, for asyncio, tasks
  cancelled at random moments and in each phase (waiting to acquire,
  mid-query, during the release): afterwards the pool is back to its size,
  its statistics add up and every connection is in step with its server;
* one task cancelled, or one query timed out, mid-query on a pool of one:
  the next user gets a connection that answers its own query;
* a server slow to answer: an acquire that must open a connection gives
  up at its timeout;
* idle connections killed server-side, a server restart, a failover to a
  promoted standby (``target_session_attrs=read-write``), a server that is
  down for a while (connect failures, backoff, refill): the pool recovers
  by itself, without being re-created;
* a real pgbouncer in transaction mode: many users mixing transactions and
  releases with an open transaction, and a release after a session-level
  SET sends nothing (any reset would run on another client's server
  connection).

Bounds are generous (seconds): the tests must pass on a loaded 2-core machine.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
from delay_proxy import DelayProxy

import pgwire
from pgwire.testing import BinaryNotFoundError, PgBouncer, StandbyCluster, TemporaryCluster

TIMEOUT_ERRORS = (TimeoutError, asyncio.TimeoutError)
# What connecting to a server that is gone raises: the OS's refusal (as asyncpg).
CONNECT_ERRORS = (OSError, pgwire.PostgresConnectionError)
# What using the pool may raise while a failover is under way: no server
# accepts connections, the standby is not yet read-write, a connection was
# cut by the shutdown.
FAILOVER_ERRORS = (OSError, pgwire.PostgresConnectionError, pgwire.OperatorInterventionError,
                   pgwire.TargetServerAttributeNotMatched, *TIMEOUT_ERRORS)

# No scenario may hang: each runs under asyncio.wait_for with this bound.
SCENARIO_TIMEOUT = 90.0


# ---------------------------------------------------------------- helpers


async def wait_until(predicate: Callable[[], Any], timeout: float,
                     interval: float = 0.05) -> bool:
    """Poll ``predicate`` (a function, or one returning an awaitable) until true."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(interval)


async def settled(pool: Any, size: int, timeout: float = 10.0) -> Any:
    """Wait until the pool holds ``size`` connections, all idle; its stats then."""
    ok = await wait_until(lambda: pool.get_size() == size and pool.get_idle_size() == size,
                          timeout)
    stats = pool.get_stats()
    assert ok, f"the pool did not settle at {size} idle connections within {timeout} s: {stats}"
    assert (stats.size, stats.idle, stats.in_use, stats.waiting) == (size, size, 0, 0), stats
    return stats


async def check_all_in_step(pool: Any, size: int) -> set[int]:
    """Acquire every connection at once: each answers its own query, none is in a
    transaction, none still runs something on the server.  Their backend pids."""
    conns = [await pool.acquire(timeout=10) for _ in range(size)]
    try:
        pids = {conn.get_server_pid() for conn in conns}
        assert len(pids) == size, pids
        for conn in conns:
            assert not conn.is_in_transaction()
        values = await asyncio.gather(*(conn.fetchval("SELECT $1::int", 1000 + k)
                                        for k, conn in enumerate(conns)))
        assert values == [1000 + k for k in range(size)]
        for conn in conns:
            assert not conn.is_in_transaction()
        busy = await conns[0].fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE pid = ANY($1::int[]) AND pid <> pg_backend_pid() AND state <> 'idle'",
            sorted(pids))
        assert busy == 0, "a connection of the pool is still busy on the server"
    finally:
        for conn in conns:
            await pool.release(conn)
    return pids


async def backend_gone(observer: Any, pids: set[int]) -> bool:
    count = await observer.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1::int[])", sorted(pids))
    return count == 0


def direct_kwargs(server: TemporaryCluster | PgBouncer) -> dict[str, Any]:
    return {**server.connect_kwargs(), "ssl": "disable"}


@pytest.fixture
async def make_pool(api: Any) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """``await make_pool(**kwargs)``: an open pool of the API under test, closed at the end.

    Ask for it after the fixtures of the servers it uses, so that it is torn
    down (its pools closed) before they stop.
    """
    pools: list[Any] = []

    async def factory(*args: Any, **kwargs: Any) -> Any:
        pool = await api.create_pool(*args, **kwargs)
        pools.append(pool)
        return pool

    yield factory
    for pool in pools:
        try:
            await asyncio.wait_for(pool.close(), 20)
        except BaseException:
            pool.terminate()
            raise


@pytest.fixture
async def observer(cluster: TemporaryCluster) -> AsyncIterator[Any]:
    """A direct asyncio connection to the session's server, to look at (and kill) backends."""
    conn = await pgwire.connect(**direct_kwargs(cluster))
    try:
        yield conn
    finally:
        conn.terminate()


def start_private_cluster() -> TemporaryCluster:
    server = TemporaryCluster(ssl=False)
    try:
        server.start()
    except BinaryNotFoundError as exc:
        pytest.skip(f"PostgreSQL server not available: {exc}")
    return server


@pytest.fixture(scope="module")
def private_cluster() -> Iterator[TemporaryCluster]:
    """A server of this module's own, to restart and to stop for a while."""
    server = start_private_cluster()
    try:
        yield server
    finally:
        server.stop()


# ---------------------------------------------------------------- stress


class Op:
    """One operation of a stress run, its parameters drawn from the seeded generator."""

    KINDS = ("select", "select", "select", "sleep_timeout", "short_sleep", "transaction")

    def __init__(self, index: int, rng: random.Random, *, cancels: bool) -> None:
        self.index = index
        self.acquire_timeout = rng.choice([None, None, None, 0.001, 0.001, 0.01, 0.05, 0.5, 10.0])
        self.kind = rng.choice(self.KINDS)
        self.query_timeout = rng.uniform(0.01, 0.1)  # for sleep_timeout: far below the sleep
        # None, or where the task is cancelled: "random" (after a random
        # delay from its start), "acquire", "query", "release".
        self.cancel: str | None = None
        self.cancel_delay = rng.uniform(0.0, 0.3)
        self.query_cancel_delay = rng.uniform(0.001, 0.05)
        if cancels:
            self.cancel = rng.choice([None, None, "random", "random", "acquire", "query",
                                      "release"])
        self.phase = "start"
        self.cancelled_in: str | None = None


async def run_op(pool: Any, op: Op, outcomes: Counter[str]) -> None:
    """Acquire, query, check the answer, release; count how it ended."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    i = op.index
    try:
        op.phase = "acquire"
        if op.cancel == "acquire":
            loop.call_soon(task.cancel)  # lands at the acquire's first wait, if any
        try:
            async with pool.acquire(timeout=op.acquire_timeout) as conn:
                op.phase = "query"
                outcomes["acquired"] += 1
                try:
                    assert not conn.is_in_transaction()
                    if op.cancel == "query":
                        loop.call_later(op.query_cancel_delay, task.cancel)
                        await conn.fetchval("SELECT pg_sleep(0.2), $1::int", i)
                    elif op.kind == "select":
                        assert await conn.fetchval("SELECT $1::int", i) == i
                    elif op.kind == "short_sleep":
                        row = await conn.fetchrow("SELECT pg_sleep(0.005), $1::int + 1", i)
                        assert row[1] == i + 1
                    elif op.kind == "transaction":
                        async with conn.transaction():
                            assert conn.is_in_transaction()
                            assert await conn.fetchval("SELECT $1::int * 2", i) == 2 * i
                        assert not conn.is_in_transaction()
                    else:  # sleep_timeout: the timeout expires during pg_sleep
                        with pytest.raises(TIMEOUT_ERRORS):
                            await conn.fetchval("SELECT pg_sleep(0.5), $1::int", i,
                                                timeout=op.query_timeout)
                        outcomes["query_timeout"] += 1
                    if op.cancel == "release":
                        # Something to reset, so the release has a round trip to
                        # be cancelled in.
                        await conn.execute("BEGIN")
                        loop.call_soon(task.cancel)
                except asyncio.CancelledError:
                    op.cancelled_in = "query"
                    raise
                finally:
                    op.phase = "release"
        except TIMEOUT_ERRORS:
            if op.phase != "acquire":
                raise
            outcomes["acquire_timeout"] += 1
            return
        op.phase = "done"
        outcomes["ok"] += 1
    except asyncio.CancelledError:
        outcomes[f"cancelled_in_{op.cancelled_in or op.phase}"] += 1
        raise


async def stress(api: Any, pool: Any, ops: list[Op], *, concurrency: int | None) -> Counter[str]:
    """Run every op concurrently (at most ``concurrency`` at a time, for the
    sync adapter's 64 worker threads); cancel the ones drawn for it."""
    outcomes: Counter[str] = Counter()
    limit = asyncio.Semaphore(concurrency or len(ops))

    async def limited(op: Op) -> None:
        async with limit:
            await run_op(pool, op, outcomes)

    loop = asyncio.get_running_loop()
    tasks = []
    for op in ops:
        task = asyncio.ensure_future(limited(op))
        if op.cancel == "random":
            loop.call_later(op.cancel_delay, task.cancel)
        tasks.append(task)
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True),
                                     SCENARIO_TIMEOUT)
    for op, result in zip(ops, results):
        if isinstance(result, asyncio.CancelledError):
            if op.phase == "start":  # cancelled before it ran at all
                outcomes["cancelled_before_start"] += 1
        elif isinstance(result, BaseException):
            raise AssertionError(f"operation {op.index} ({op.kind}, "
                                 f"acquire timeout {op.acquire_timeout}, cancel {op.cancel}) "
                                 f"failed in phase {op.phase}") from result
    return outcomes


def report(api: Any, outcomes: Counter[str], elapsed: float) -> None:
    cancelled = sum(n for key, n in outcomes.items() if key.startswith("cancelled"))
    print(f"\n[{api.name}] {elapsed:.1f} s: succeeded {outcomes['ok']}, "
          f"acquire timed out {outcomes['acquire_timeout']}, "
          f"query timed out {outcomes['query_timeout']}, cancelled {cancelled} "
          f"({', '.join(f'{k}={n}' for k, n in sorted(outcomes.items()) if k.startswith('cancelled'))})")


async def test_stress_timeouts(api: Any, cluster: TemporaryCluster, make_pool: Any) -> None:
    """500 (sync: 100) concurrent acquire+query with random acquire timeouts and
    query timeouts during pg_sleep: the pool ends as it began, in step."""
    pool = await make_pool(**direct_kwargs(cluster), min_size=5, max_size=5)
    before = pool.get_stats()
    count = 500 if api.name == "async" else 100
    rng = random.Random(20240501)
    ops = [Op(i, rng, cancels=False) for i in range(count)]
    started = time.monotonic()
    outcomes = await stress(api, pool, ops, concurrency=None if api.name == "async" else 40)
    report(api, outcomes, time.monotonic() - started)

    assert outcomes["ok"] + outcomes["acquire_timeout"] == count, outcomes
    assert outcomes["query_timeout"] > 0 and outcomes["acquire_timeout"] > 0, outcomes
    stats = await settled(pool, 5)
    assert stats.acquires - before.acquires == outcomes["acquired"], (outcomes, stats)
    assert stats.acquires_failed - before.acquires_failed == outcomes["acquire_timeout"], (
        outcomes, stats)
    await check_all_in_step(pool, 5)


@pytest.mark.async_only
async def test_stress_cancellations(api: Any, cluster: TemporaryCluster, make_pool: Any) -> None:
    """500 concurrent tasks, some cancelled at random moments and some at each
    phase (waiting to acquire, mid-query, during the release), with timeouts
    too: no connection is lost or left out of step."""
    pool = await make_pool(**direct_kwargs(cluster), min_size=5, max_size=5)
    before = pool.get_stats()
    rng = random.Random(7)
    ops = [Op(i, rng, cancels=True) for i in range(500)]
    started = time.monotonic()
    outcomes = await stress(api, pool, ops, concurrency=None)
    report(api, outcomes, time.monotonic() - started)

    # Each ended one way exactly (anything else failed the run above); a
    # cancellation that came after the end of its task changed nothing.
    cancelled = sum(n for key, n in outcomes.items() if key.startswith("cancelled"))
    assert outcomes["ok"] + outcomes["acquire_timeout"] + cancelled == 500, outcomes
    for phase in ("acquire", "query", "release"):
        assert outcomes[f"cancelled_in_{phase}"] > 0, f"no cancellation hit {phase}: {outcomes}"
    stats = await settled(pool, 5)
    assert stats.acquires - before.acquires == outcomes["acquired"], (outcomes, stats)
    # A cancellation can only land in the acquire while it waits (the fast
    # path does not suspend), and each of those counts as a failed acquire.
    assert stats.acquires_failed - before.acquires_failed == (
        outcomes["acquire_timeout"] + outcomes["cancelled_in_acquire"]), (outcomes, stats)
    await check_all_in_step(pool, 5)


# ---------------------------------------------------------------- one interrupted query


@pytest.mark.async_only
async def test_task_cancelled_mid_query(api: Any, cluster: TemporaryCluster, observer: Any,
                                        make_pool: Any) -> None:
    pool = await make_pool(**direct_kwargs(cluster), min_size=1, max_size=1)
    acquired = asyncio.Event()
    pids: list[int] = []

    async def sleeper() -> None:
        async with pool.acquire() as conn:
            pids.append(conn.get_server_pid())
            acquired.set()
            await conn.fetchval("SELECT pg_sleep(30)")

    task = asyncio.ensure_future(sleeper())
    await asyncio.wait_for(acquired.wait(), 10)
    assert await wait_until(lambda: _is_active(observer, pids[0]), 10), "pg_sleep did not start"
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 10)
    async with pool.acquire(timeout=10) as conn:
        assert await conn.fetchval("SELECT $1::int", 7) == 7
        assert await conn.fetchval("SELECT $1::text", "mine") == "mine"
        assert not conn.is_in_transaction()
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"the next user waited {elapsed:.1f} s"
    # The sleep was cancelled on the server, not left running.
    assert await wait_until(lambda: _not_sleeping(observer, pids[0]), 10)
    await settled(pool, 1)


async def _is_active(observer: Any, pid: int) -> bool:
    return await observer.fetchval(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = $1::int AND state = 'active' "
        "AND query LIKE '%pg_sleep%'", pid) == 1


async def _not_sleeping(observer: Any, pid: int) -> bool:
    return not await _is_active(observer, pid)


async def test_query_timeout_mid_query(api: Any, cluster: TemporaryCluster, observer: Any,
                                       make_pool: Any) -> None:
    pool = await make_pool(**direct_kwargs(cluster), min_size=1, max_size=1)
    started = time.monotonic()
    async with pool.acquire() as conn:
        pid = conn.get_server_pid()
        with pytest.raises(TIMEOUT_ERRORS):
            await conn.fetchval("SELECT pg_sleep(30)", timeout=0.5)
    async with pool.acquire(timeout=10) as conn:
        assert await conn.fetchval("SELECT $1::int", 11) == 11
        assert await conn.fetchval("SELECT $1::text", "next") == "next"
        assert not conn.is_in_transaction()
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"timeout plus next user took {elapsed:.1f} s"
    assert await wait_until(lambda: _not_sleeping(observer, pid), 10)
    await settled(pool, 1)


async def test_acquire_timeout_bounds_opening_a_connection(
    api: Any, cluster: TemporaryCluster, make_pool: Any,
) -> None:
    """A server slow to answer (2 s each way through a proxy: connecting takes
    8 s or more): an acquire that must open a connection gives up at its timeout."""
    with DelayProxy(cluster.host, cluster.port, delay=2.0) as proxy:
        pool = await make_pool(**{**direct_kwargs(cluster), "host": proxy.host,
                                  "port": proxy.port}, min_size=0, max_size=1)
        started = time.monotonic()
        with pytest.raises(TIMEOUT_ERRORS):
            async with pool.acquire(timeout=1):
                pass
        elapsed = time.monotonic() - started
        assert elapsed < 6, f"acquire(timeout=1) took {elapsed:.1f} s"
        stats = pool.get_stats()
        # The acquire's own deadline passing is not the server failing to connect.
        assert (stats.size, stats.in_use, stats.acquires_failed,
                stats.connect_failures) == (0, 0, 1, 0), stats
        await pool.close()


# ---------------------------------------------------------------- the server goes away


async def test_idle_connections_killed_server_side(api: Any, cluster: TemporaryCluster,
                                                   observer: Any, make_pool: Any) -> None:
    pool = await make_pool(**direct_kwargs(cluster), min_size=2, max_size=2)
    old = await check_all_in_step(pool, 2)
    for pid in old:
        assert await observer.fetchval("SELECT pg_terminate_backend($1::int, 5000)", pid)
    assert await wait_until(lambda: backend_gone(observer, old), 10)
    # The dead ones are dropped at acquire (the blocking pool learns of them
    # by probing there): the caller gets a new connection, not an error.
    assert await pool.fetchval("SELECT 1") == 1
    await settled(pool, 2, timeout=15)
    new = await check_all_in_step(pool, 2)
    assert not new & old


async def test_server_restart(api: Any, private_cluster: TemporaryCluster,
                              make_pool: Any) -> None:
    pool = await make_pool(**direct_kwargs(private_cluster), min_size=2, max_size=3)
    old = await check_all_in_step(pool, 2)
    booted = await pool.fetchval("SELECT pg_postmaster_start_time()")
    # In a thread, so that the asyncio connections read the shutdown
    # meanwhile, as they would in an application.  restart() returns once
    # the server accepts connections again (postmaster.pid says "ready"), so
    # the very first query must succeed: no retry loop.
    await asyncio.to_thread(private_cluster.restart)
    assert await pool.fetchval("SELECT pg_postmaster_start_time()") > booted
    await settled(pool, 2, timeout=15)
    assert not (await check_all_in_step(pool, 2)) & old


async def test_connect_failures_and_backoff(api: Any, private_cluster: TemporaryCluster,
                                            make_pool: Any,
                                            caplog: pytest.LogCaptureFixture) -> None:
    pool = await make_pool(**direct_kwargs(private_cluster), min_size=2, max_size=3,
                           connect_timeout=5)
    await check_all_in_step(pool, 2)
    before = pool.get_stats()
    caplog.set_level(logging.INFO, logger="pgwire.pool")
    # TemporaryCluster.start() refuses a second start and stop() deletes the
    # data directory, so the server is taken down and brought back with the
    # two halves of restart() (same data, same port).
    await asyncio.to_thread(private_cluster._kill_server, fast=True)
    try:
        with pytest.raises(CONNECT_ERRORS) as caught:
            await pool.fetchval("SELECT 1")
        print(f"\n[{api.name}] acquire with the server down: {caught.type.__name__}: "
              f"{caught.value}")
        failed = pool.get_stats()
        assert failed.connect_failures > before.connect_failures, failed
        # The background refill keeps trying, with growing delays: a few
        # attempts in 2.5 s (0.1, 0.2, 0.4, 0.8 s...), not hundreds.
        await asyncio.sleep(2.5)
        retried = pool.get_stats()
        background = retried.connect_failures - failed.connect_failures
        print(f"[{api.name}] background connect attempts in 2.5 s: {background}")
        assert 2 <= background <= 15, retried
        assert retried.size == 0, retried
        messages = [r.getMessage() for r in caplog.records if r.name == "pgwire.pool"]
        assert any("connecting failed" in m for m in messages), messages
        with pytest.raises(CONNECT_ERRORS):
            await pool.fetchval("SELECT 1")
    finally:
        if not private_cluster.running:
            await asyncio.to_thread(private_cluster._launch, new_port=False)
    # Back to min_size by itself (the longest delay so far is below 4 s).
    await settled(pool, 2, timeout=20)
    assert await pool.fetchval("SELECT $1::int", 5) == 5
    await check_all_in_step(pool, 2)


# ---------------------------------------------------------------- failover


@pytest.fixture
def failover_pair() -> Iterator[tuple[TemporaryCluster, StandbyCluster]]:
    """A private primary and a hot standby of it, for one failover.

    The standby is made with StandbyCluster(primary), not
    primary.start_standby(), so that stopping the primary leaves it running.
    """
    primary = start_private_cluster()
    standby: StandbyCluster | None = None
    try:
        standby = StandbyCluster(primary).start()
        yield primary, standby
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()


async def _landed(pool: Any) -> tuple[bool, int]:
    async with pool.acquire(timeout=10) as conn:
        row = await conn.fetchrow("SELECT pg_is_in_recovery(), inet_server_port()")
        return row[0], row[1]


@pytest.mark.standby
async def test_failover_to_promoted_standby(
    api: Any, failover_pair: tuple[TemporaryCluster, StandbyCluster], make_pool: Any,
) -> None:
    primary, standby = failover_pair
    dsn = (f"host=127.0.0.1,127.0.0.1 port={primary.port},{standby.port} user=postgres "
           "dbname=pgwire_test sslmode=disable target_session_attrs=read-write "
           "connect_timeout=5")
    pool = await make_pool(dsn, min_size=2, max_size=3)
    assert await _landed(pool) == (False, primary.port)
    await settled(pool, 2)

    await asyncio.to_thread(primary.stop)
    # No read-write server now: the pool must not hand out the standby.
    with pytest.raises(FAILOVER_ERRORS) as caught:
        await _landed(pool)
    print(f"\n[{api.name}] with the primary gone: {caught.type.__name__}: {caught.value}")

    await asyncio.to_thread(standby.promote)
    promoted_at = time.monotonic()
    landed: tuple[bool, int] | None = None
    errors: Counter[str] = Counter()
    while time.monotonic() - promoted_at < 30:
        try:
            landed = await _landed(pool)
            break
        except FAILOVER_ERRORS as exc:
            errors[type(exc).__name__] += 1
            await asyncio.sleep(0.2)
    print(f"[{api.name}] served by the promoted standby after "
          f"{time.monotonic() - promoted_at:.1f} s; errors meanwhile: {dict(errors)}")
    assert landed == (False, standby.port)
    # And the pool refills to min_size there, by itself.
    await settled(pool, 2, timeout=30)
    conns = [await pool.acquire(timeout=10) for _ in range(2)]
    try:
        for conn in conns:
            assert await conn.fetchval("SELECT inet_server_port()") == standby.port
            await conn.execute("CREATE TEMP TABLE written_after_failover (a int)")
    finally:
        for conn in conns:
            await pool.release(conn)


# ---------------------------------------------------------------- pgbouncer


CACHE_SIZES = pytest.mark.parametrize("statement_cache_size", [None, 0],
                                      ids=["statement-cache", "no-statement-cache"])


def bouncer_kwargs(target: PgBouncer | DelayProxy, pgbouncer: PgBouncer,
                   statement_cache_size: int | None) -> dict[str, Any]:
    """Connect arguments for pgbouncer's users, at ``target`` (pgbouncer, or a proxy to it)."""
    kwargs = {**direct_kwargs(pgbouncer), "host": target.host, "port": target.port}
    if statement_cache_size is not None:
        kwargs["statement_cache_size"] = statement_cache_size
    return kwargs


@CACHE_SIZES
async def test_through_pgbouncer(api: Any, cluster: TemporaryCluster, pgbouncer: PgBouncer,
                                 observer: Any, make_pool: Any,
                                 statement_cache_size: int | None) -> None:
    """100 concurrent users of a pool of 10 over pgbouncer's 5 server connections,
    mixing queries, transaction blocks and releases with a transaction open."""
    assert pgbouncer.pool_mode == "transaction" and pgbouncer.default_pool_size < 10
    table = f"pool_faults_bouncer_{api.name}_{statement_cache_size or 'default'}"
    await observer.execute(f"DROP TABLE IF EXISTS {table}")
    await observer.execute(f"CREATE TABLE {table} (op int)")
    try:
        pool = await make_pool(**bouncer_kwargs(pgbouncer, pgbouncer, statement_cache_size),
                               min_size=10, max_size=10)
        rng = random.Random(99)
        kinds = [rng.choice(["select", "transaction", "open"]) for _ in range(100)]
        entered_clean: list[bool] = []
        limit = asyncio.Semaphore(100 if api.name == "async" else 40)

        async def user(i: int, kind: str) -> None:
            async with limit, pool.acquire(timeout=30) as conn:
                entered_clean.append(not conn.is_in_transaction())
                # Server side too: no transaction of a previous user holds on.
                row = await conn.fetchrow("SELECT $1::int, txid_current_if_assigned()", i)
                assert tuple(row) == (i, None)
                if kind == "transaction":
                    async with conn.transaction():
                        await conn.execute(f"INSERT INTO {table} VALUES ($1)", i)
                elif kind == "open":
                    await conn.execute("BEGIN")
                    await conn.execute(f"INSERT INTO {table} VALUES ($1)", i)
                    assert conn.is_in_transaction()
                    # Released without COMMIT: the pool rolls it back.
                else:
                    assert await conn.fetchval("SELECT $1::int + 1", i) == i + 1

        await asyncio.wait_for(asyncio.gather(*(user(i, k) for i, k in enumerate(kinds))),
                               SCENARIO_TIMEOUT)
        assert entered_clean == [True] * 100
        committed = sorted(i for i, k in enumerate(kinds) if k == "transaction")
        rows = await observer.fetch(f"SELECT op FROM {table} ORDER BY op")
        assert [r[0] for r in rows] == committed
        print(f"\n[{api.name}] kinds: {dict(Counter(kinds))}; pool: {pool.get_stats()}")
        stats = await settled(pool, 10)
        # Only the releases with a transaction open needed a round trip (ROLLBACK).
        assert stats.resets == kinds.count("open"), stats
        await check_all_in_step(pool, 10)
    finally:
        await observer.execute(f"DROP TABLE IF EXISTS {table}")


@CACHE_SIZES
async def test_set_behind_pgbouncer_release_sends_nothing(
    api: Any, pgbouncer: PgBouncer, make_pool: Any, statement_cache_size: int | None,
) -> None:
    """Behind pgbouncer a session-level SET is not reset at release: in transaction
    mode the RESET would run on whatever server connection pgbouncer picks,
    another client's.  A proxy counts what the client sends."""
    with DelayProxy(pgbouncer.host, pgbouncer.port, delay=0) as proxy:
        pool = await make_pool(**bouncer_kwargs(proxy, pgbouncer, statement_cache_size),
                               min_size=1, max_size=1)
        async with pool.acquire() as conn:
            await conn.execute("SET work_mem = '8MB'")
            sent = proxy.client_bytes
        await asyncio.sleep(0.2)  # time for anything sent to reach the proxy
        assert proxy.client_bytes == sent, "the release sent something to pgbouncer"
        # Positive control: an open transaction is rolled back at release.
        async with pool.acquire() as conn:
            await conn.execute("BEGIN")
            sent = proxy.client_bytes
        assert await wait_until(lambda: proxy.client_bytes > sent, 5), "no ROLLBACK sent"
        async with pool.acquire() as conn:
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT $1::int", 3) == 3


async def test_set_behind_pgbouncer_is_not_counted_as_reset(
    api: Any, pgbouncer: PgBouncer, make_pool: Any,
) -> None:
    pool = await make_pool(**direct_kwargs(pgbouncer), min_size=1, max_size=1)
    async with pool.acquire() as conn:
        await conn.execute("SET work_mem = '8MB'")
        before = pool.get_stats().resets
    assert pool.get_stats().resets == before
