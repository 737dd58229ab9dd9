"""The connection pool against a real server: API, resets, fairness, lifecycle.

Every test runs on both pools (``[async]``, ``[sync]``; see conftest).  The
faults (killed connections, restarts, failover, pgbouncer, storms of
cancellations) are in test_pool_faults.py.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from delay_proxy import DelayProxy

import pgwire
import pgwire.sync
from pgwire.testing import TemporaryCluster


@pytest.fixture
async def make_pool(api: Any, cluster: TemporaryCluster) -> Any:
    """``await make_pool(**kwargs)``: an open pool on the test server, closed at the end."""
    pools: list[Any] = []

    async def factory(**kwargs: Any) -> Any:
        options = {**cluster.connect_kwargs(), "ssl": "disable", "min_size": 1,
                   "max_size": 2, **kwargs}
        pool = await api.create_pool(**options)
        pools.append(pool)
        return pool

    yield factory
    for pool in pools:
        try:
            await asyncio.wait_for(pool.close(), 20)
        except BaseException:
            pool.terminate()
            raise


# -- the API ---------------------------------------------------------------------


async def test_queries_on_the_pool(make_pool: Any) -> None:
    pool = await make_pool()
    assert await pool.fetchval("SELECT $1::int + 1", 41) == 42
    assert (await pool.fetchrow("SELECT 1 AS a, 'x' AS b"))["b"] == "x"
    assert [r[0] for r in await pool.fetch("SELECT generate_series(1, 3)")] == [1, 2, 3]
    await pool.execute("CREATE TEMP TABLE IF NOT EXISTS never_seen (a int)")
    await pool.execute("DROP TABLE IF EXISTS pool_queries")
    await pool.execute("CREATE TABLE pool_queries (a int, b text)")
    try:
        await pool.executemany("INSERT INTO pool_queries VALUES ($1, $2)", [(1, "a"), (2, "b")])
        status = await pool.copy_records_to_table("pool_queries", records=[(3, "c")])
        assert status == "COPY 1"
        chunks: list[bytes] = []
        await pool.copy_from_query("SELECT a FROM pool_queries WHERE a > $1 ORDER BY a", 1,
                                   output=chunks.append)
        assert b"".join(chunks) == b"2\n3\n"
    finally:
        await pool.execute("DROP TABLE pool_queries")
    assert pool.get_stats().in_use == 0


async def test_acquire_forms(make_pool: Any, api: Any) -> None:
    pool = await make_pool(min_size=0, max_size=1)
    async with pool.acquire() as conn:
        assert isinstance(api.unwrap(conn), api.Connection)
        assert await conn.fetchval("SELECT 1") == 1
    conn = await pool.acquire()
    try:
        assert await conn.fetchval("SELECT 2") == 2
    finally:
        await pool.release(conn)
    conn = await pool.getconn()
    await pool.putconn(conn)
    stats = pool.get_stats()
    assert (stats.acquires, stats.in_use, stats.size, stats.idle) == (3, 0, 1, 1)


async def test_released_connection_refuses_use(make_pool: Any) -> None:
    pool = await make_pool(max_size=1)
    async with pool.acquire() as conn:
        statement = await conn.prepare("SELECT $1::int")
        assert await statement.fetchval(5) == 5
        transaction = conn.transaction()
    with pytest.raises(pgwire.InterfaceError, match="released back to the pool"):
        await conn.fetchval("SELECT 1")
    with pytest.raises(pgwire.InterfaceError, match="released back to the pool"):
        conn.is_closed()
    with pytest.raises(pgwire.InterfaceError, match="released back to the pool"):
        await statement.fetchval(6)
    with pytest.raises(pgwire.InterfaceError, match="released back to the pool"):
        await transaction.start()
    assert "released" in repr(conn)
    # Releasing twice does nothing; the next user is unaffected.
    await pool.release(conn)
    async with pool.acquire() as again:
        assert await again.fetchval("SELECT 7") == 7


async def test_cursor_of_released_connection_refuses_use(make_pool: Any, api: Any) -> None:
    pool = await make_pool(max_size=1)
    async with pool.acquire() as conn:
        async with conn.transaction():
            cursor = await conn.cursor("SELECT generate_series(1, 100)", prefetch=10)
            await cursor.fetch(5)
            raw = api.unwrap(cursor)
        # (the transaction ended: the portal is gone anyway)
    with pytest.raises(pgwire.InterfaceError):
        await cursor.fetch(5)
    del raw


async def test_release_of_a_foreign_connection(make_pool: Any, make_conn: Any) -> None:
    pool = await make_pool()
    other = await make_conn()
    with pytest.raises(pgwire.InterfaceError, match="not a member of this pool"):
        await pool.release(other)
    assert await other.fetchval("SELECT 1") == 1
    second = await make_pool()
    async with second.acquire() as conn:
        with pytest.raises(pgwire.InterfaceError, match="not a member of this pool"):
            await pool.release(conn)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"max_size": 0}, ValueError, "max_size"),
    ({"min_size": -1}, ValueError, "min_size"),
    ({"min_size": 3, "max_size": 2}, ValueError, "min_size is greater"),
    ({"max_queries": 0}, ValueError, "max_queries"),
    ({"max_inactive_connection_lifetime": -1}, ValueError, "lifetime"),
    ({"max_size": "10"}, TypeError, "max_size"),
    ({"connection_class": dict}, TypeError, "connection_class"),
    ({"record_class": tuple}, TypeError, "record_class"),
])
@pytest.mark.parametrize("api", ["async", "sync"], indirect=True)
async def test_bad_pool_arguments(api: Any, cluster: TemporaryCluster, kwargs: dict[str, Any],
                                  error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        await api.create_pool(cluster.dsn(), **kwargs)


async def test_bad_acquire_timeout(make_pool: Any) -> None:
    pool = await make_pool()
    with pytest.raises(ValueError, match="timeout"):
        async with pool.acquire(timeout="1"):
            pass
    with pytest.raises(ValueError, match="timeout"):
        async with pool.acquire(timeout=-1):
            pass
    assert pool.get_stats().in_use == 0


async def test_connection_class_and_record_class(make_pool: Any, api: Any) -> None:
    class MyConnection(api.Connection):  # type: ignore[misc,name-defined]
        pass

    class MyRecord(pgwire.Record):
        pass

    pool = await make_pool(connection_class=MyConnection, record_class=MyRecord)
    async with pool.acquire() as conn:
        assert type(api.unwrap(conn)) is MyConnection
        assert type(await conn.fetchrow("SELECT 1")) is MyRecord


async def test_init_setup_and_reset_callbacks(make_pool: Any) -> None:
    calls: list[str] = []

    async def init(conn: Any) -> None:
        calls.append("init")
        await conn.execute("SELECT 1")

    async def setup(conn: Any) -> None:
        calls.append("setup")

    async def reset(conn: Any) -> None:
        calls.append("reset")
        assert await conn.fetchval("SELECT 1") == 1

    pool = await make_pool(min_size=1, max_size=1, init=init, setup=setup, reset=reset)
    for _ in range(2):
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT 1")
    assert calls == ["init", "setup", "reset", "setup", "reset"]


async def test_failing_setup_discards_the_connection(make_pool: Any) -> None:
    failing = True

    async def setup(conn: Any) -> None:
        if failing:
            raise RuntimeError("setup says no")

    pool = await make_pool(min_size=1, max_size=1, setup=setup)
    with pytest.raises(RuntimeError, match="setup says no"):
        async with pool.acquire():
            pass
    failing = False
    assert await pool.fetchval("SELECT 1") == 1
    stats = pool.get_stats()
    assert stats.connections_closed == 1 and stats.size == 1 and stats.in_use == 0


async def test_failing_init_fails_the_pool(api: Any, cluster: TemporaryCluster) -> None:
    async def init(conn: Any) -> None:
        raise RuntimeError("init says no")

    with pytest.raises(RuntimeError, match="init says no"):
        await api.create_pool(cluster.dsn(), min_size=1, max_size=1, init=init)


async def test_connect_failure_at_creation(api: Any, cluster: TemporaryCluster,
                                           caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="pgwire.pool")
    with pytest.raises(pgwire.PostgresError):
        await api.create_pool(cluster.dsn(database="no_such_database"), min_size=1)
    assert any("connecting failed" in r.getMessage() for r in caplog.records)


# -- release without a round trip, reset when something changed ------------------


@pytest.fixture
def counting_proxy(cluster: TemporaryCluster) -> Any:
    with DelayProxy(cluster.host, cluster.port, delay=0) as proxy:
        yield proxy


async def _pool_through(make_pool: Any, proxy: DelayProxy, **kwargs: Any) -> Any:
    return await make_pool(host=proxy.host, port=proxy.port, min_size=1, max_size=1, **kwargs)


async def _settled_bytes(proxy: DelayProxy) -> int:
    """What clients sent so far, once it stopped changing (the proxy runs in a thread)."""
    last = -1
    while proxy.client_bytes != last:
        last = proxy.client_bytes
        await asyncio.sleep(0.05)
    return last


async def test_clean_release_sends_nothing(make_pool: Any, counting_proxy: DelayProxy) -> None:
    pool = await _pool_through(make_pool, counting_proxy)
    async with pool.acquire() as conn:
        await conn.fetchval("SELECT $1::int", 1)
        await conn.fetch("SELECT * FROM pg_class LIMIT 3")
        async with conn.transaction():  # committed before the release
            await conn.execute("SELECT 1")
        sent = await _settled_bytes(counting_proxy)
    async with pool.acquire():
        assert await _settled_bytes(counting_proxy) == sent
    assert pool.get_stats().resets == 0


# (what the user does, a query showing the state is gone on the next user)
STATE_CHANGES = {
    "set": (["SET work_mem = '7MB'"], "SELECT current_setting('work_mem') = '4MB'"),
    "set_config": (["SELECT set_config('work_mem', '7MB', false)"],
                   "SELECT current_setting('work_mem') = '4MB'"),
    "set_role": (["CREATE ROLE pool_test_role", "SET ROLE pool_test_role"],
                 "SELECT current_user = session_user"),
    "session_authorization": (["CREATE ROLE pool_test_role", "SET SESSION AUTHORIZATION pool_test_role"],
                              "SELECT session_user = 'postgres'"),
    "listen": (["LISTEN pool_channel"], "SELECT count(*) = 0 FROM pg_listening_channels()"),
    "cursor_with_hold": (["DECLARE pool_cursor CURSOR WITH HOLD FOR SELECT 1"],
                         "SELECT count(*) = 0 FROM pg_cursors WHERE name = 'pool_cursor'"),
    "prepare": (["PREPARE pool_statement AS SELECT 1"],
                "SELECT count(*) = 0 FROM pg_prepared_statements WHERE from_sql"),
    "temp_table": (["CREATE TEMP TABLE pool_temp (a int)"],
                   "SELECT to_regclass('pool_temp') IS NULL"),
    "temp_select_into": (["SELECT 1 AS a INTO TEMPORARY pool_temp2"],
                         "SELECT to_regclass('pool_temp2') IS NULL"),
    "advisory_lock": (["SELECT pg_advisory_lock(4242)"],
                      # (spelled so that the check itself does not look like
                      # advisory locking to the tracker, which would count resets)
                      "SELECT count(*) = 0 FROM pg_locks WHERE locktype = 'advis' || 'ory' "
                      "AND pid = pg_backend_pid()"),
    "open_transaction": (["BEGIN", "CREATE TABLE pool_uncommitted (a int)"],
                         "SELECT to_regclass('pool_uncommitted') IS NULL"),
    "failed_transaction": (["BEGIN", "SELECT 1/0"], "SELECT true"),
    "do_block": (["DO $$ BEGIN PERFORM set_config('work_mem', '7MB', false); END $$"],
                 "SELECT current_setting('work_mem') = '4MB'"),
}


@pytest.mark.parametrize("kind", sorted(STATE_CHANGES))
async def test_dirty_release_resets(make_pool: Any, kind: str) -> None:
    changes, check = STATE_CHANGES[kind]
    pool = await make_pool(min_size=1, max_size=1)
    async with pool.acquire() as conn:
        pid = conn.get_server_pid()
        assert await conn.fetchval(check) is True
    try:
        async with pool.acquire() as conn:
            for statement in changes:
                try:
                    await conn.execute(statement)
                except pgwire.PostgresError:
                    assert kind == "failed_transaction"
            if kind != "failed_transaction":
                assert await conn.fetchval(check) is False
        async with pool.acquire() as conn:
            assert conn.get_server_pid() == pid  # reset, not replaced
            assert not conn.is_in_transaction()
            assert await conn.fetchval(check) is True
            # Cached statements still work after the reset (DEALLOCATE ALL included).
            assert await conn.fetchval("SELECT $1::int", 3) == 3
        assert pool.get_stats().resets == 1
    finally:
        if kind in ("set_role", "session_authorization"):
            await pool.execute("DROP ROLE IF EXISTS pool_test_role")


async def test_reset_after_extended_protocol_state(make_pool: Any) -> None:
    """State made by statements with arguments (extended protocol, cached)."""
    pool = await make_pool(min_size=1, max_size=1)
    for _ in range(2):  # the second time the statement comes from the cache
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT pg_advisory_lock($1)", 99)
        async with pool.acquire() as conn:
            assert await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advis' || 'ory' "
                "AND pid = pg_backend_pid()") == 0
    assert pool.get_stats().resets == 2


async def test_listeners_are_forgotten_on_release(make_pool: Any) -> None:
    pool = await make_pool(min_size=1, max_size=1)
    heard: list[str] = []
    async with pool.acquire() as conn:
        await conn.add_listener("pool_news", lambda *args: heard.append(args[-1]))
        conn.add_log_listener(lambda *args: heard.append("log"))
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
        await conn.execute("NOTIFY pool_news, 'hello'")
        await conn.execute("DO $$ BEGIN RAISE NOTICE 'hi'; END $$")
        await conn.process_notifications(0.2)
    assert heard == []


async def test_init_settings_are_reset_like_asyncpg(make_pool: Any) -> None:
    """A SET in init() is undone by the first reset, as with asyncpg's pool;
    server_settings= is the way to keep a setting."""
    async def init(conn: Any) -> None:
        await conn.execute("SET work_mem = '9MB'")

    pool = await make_pool(min_size=1, max_size=1, init=init,
                           server_settings={"statement_timeout": "12345"})
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW work_mem") == "9MB"
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW work_mem") == "4MB"
        assert await conn.fetchval("SHOW statement_timeout") == "12345ms"


async def test_connection_reset_method(make_conn: Any) -> None:
    conn = await make_conn()
    await conn.execute("SET work_mem = '7MB'; LISTEN x; SELECT pg_advisory_lock(1)")
    await conn.execute("BEGIN")
    await conn.reset()
    assert not conn.is_in_transaction()
    assert await conn.fetchval("SHOW work_mem") == "4MB"
    assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
    assert "RESET ALL" in conn.get_reset_query()


# -- fairness, timeouts, limits -----------------------------------------------------


async def test_waiters_are_served_in_order(make_pool: Any) -> None:
    pool = await make_pool(min_size=1, max_size=1)
    holder = await pool.acquire()
    order: list[int] = []

    async def wait_turn(index: int) -> None:
        async with pool.acquire(timeout=30) as conn:
            order.append(index)
            await conn.fetchval("SELECT 1")

    tasks = []
    for index in range(6):
        tasks.append(asyncio.ensure_future(wait_turn(index)))
        # The next one asks only once this one is queued.
        for _ in range(500):
            if pool.get_stats().waiting == index + 1:
                break
            await asyncio.sleep(0.01)
        assert pool.get_stats().waiting == index + 1
    await pool.release(holder)
    await asyncio.wait_for(asyncio.gather(*tasks), 30)
    assert order == list(range(6))
    stats = pool.get_stats()
    assert stats.acquires_waited >= 6 and stats.waiting == 0 and stats.idle == 1


async def test_acquire_timeout_when_exhausted(make_pool: Any) -> None:
    pool = await make_pool(min_size=1, max_size=1)
    async with pool.acquire():
        with pytest.raises(TimeoutError, match="waiting for a connection"):
            async with pool.acquire(timeout=0.3):
                pass
    assert pool.get_stats().acquires_failed == 1
    async with pool.acquire(timeout=5) as conn:
        assert await conn.fetchval("SELECT 1") == 1
    assert pool.get_idle_size() == 1 and pool.get_size() == 1


@pytest.mark.async_only
async def test_cancelled_acquire_loses_nothing(make_pool: Any) -> None:
    pool = await make_pool(min_size=1, max_size=1)
    holder = await pool.acquire()
    waiter = asyncio.ensure_future(pool.acquire())
    while pool.get_stats().waiting == 0:
        await asyncio.sleep(0.01)
    # Release and cancel at once: the connection handed to the waiter
    # must come back.
    await pool.release(holder)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    async with pool.acquire(timeout=5) as conn:
        assert await conn.fetchval("SELECT 1") == 1
    assert pool.get_idle_size() == 1 and pool.get_stats().in_use == 0


async def test_grows_to_max_size_only(make_pool: Any) -> None:
    pool = await make_pool(min_size=0, max_size=3)
    assert pool.get_size() == 0
    held = [await pool.acquire() for _ in range(3)]
    assert pool.get_size() == 3
    pids = {conn.get_server_pid() for conn in held}
    assert len(pids) == 3
    with pytest.raises(TimeoutError):
        await pool.acquire(timeout=0.2)
    for conn in held:
        await pool.release(conn)
    assert pool.get_idle_size() == 3


async def test_max_queries_replaces_the_connection(make_pool: Any) -> None:
    pool = await make_pool(min_size=1, max_size=1, max_queries=3)
    pids = []
    for _ in range(3):
        async with pool.acquire() as conn:
            pids.append(conn.get_server_pid())
            for _ in range(3):  # the third reaches max_queries: replaced on release
                await conn.fetchval("SELECT 1")
    assert pids[0] != pids[1] != pids[2]
    assert pool.get_stats().connections_closed >= 2


async def test_inactive_connections_close(make_pool: Any) -> None:
    pool = await make_pool(min_size=1, max_size=3, max_inactive_connection_lifetime=0.5)
    held = [await pool.acquire() for _ in range(3)]
    for conn in held:
        await pool.release(conn)
    assert pool.get_size() == 3
    for _ in range(200):
        if pool.get_size() == 1:
            break
        await asyncio.sleep(0.05)
    assert pool.get_size() == 1 and pool.get_idle_size() == 1
    assert await pool.fetchval("SELECT 1") == 1


async def test_expire_connections_and_set_connect_args(make_pool: Any,
                                                       cluster: TemporaryCluster) -> None:
    pool = await make_pool(min_size=2, max_size=2)
    async with pool.acquire() as conn:
        old_pid = conn.get_server_pid()
        held = conn
        pool.set_connect_args(**{**cluster.connect_kwargs(), "ssl": "disable",
                                 "server_settings": {"application_name": "renewed"}})
        await pool.expire_connections()
        assert await held.fetchval("SELECT 1") == 1  # lent ones go at release
    for _ in range(2):
        async with pool.acquire() as conn:
            assert conn.get_server_pid() != old_pid
            assert await conn.fetchval("SHOW application_name") == "renewed"


# -- closing -------------------------------------------------------------------------


async def test_close_waits_for_release(make_pool: Any) -> None:
    pool = await make_pool(min_size=2, max_size=2)
    conn = await pool.acquire()
    closing = asyncio.ensure_future(pool.close())
    for _ in range(100):
        if pool.is_closing():
            break
        await asyncio.sleep(0.01)
    assert pool.is_closing()
    with pytest.raises(pgwire.InterfaceError, match="closing|closed"):
        await pool.acquire()
    assert await conn.fetchval("SELECT 1") == 1  # still usable until released
    assert not closing.done()
    await pool.release(conn)
    await asyncio.wait_for(closing, 20)
    assert pool.get_size() == 0
    with pytest.raises(pgwire.InterfaceError, match="closed"):
        await pool.fetchval("SELECT 1")


async def test_close_wakes_waiters(make_pool: Any) -> None:
    pool = await make_pool(min_size=1, max_size=1)
    conn = await pool.acquire()
    waiter = asyncio.ensure_future(pool.fetchval("SELECT 1"))
    while pool.get_stats().waiting == 0:
        await asyncio.sleep(0.01)
    closing = asyncio.ensure_future(pool.close())
    with pytest.raises(pgwire.InterfaceError, match="closing"):
        await asyncio.wait_for(waiter, 20)
    await pool.release(conn)
    await asyncio.wait_for(closing, 20)


async def test_terminate_closes_everything(make_pool: Any) -> None:
    pool = await make_pool(min_size=2, max_size=2)
    conn = await pool.acquire()
    raw_pid = conn.get_server_pid()
    pool.terminate()
    assert pool.is_closing() and pool.get_size() == 0
    with pytest.raises(pgwire.InterfaceError):
        await pool.acquire()
    await pool.release(conn)  # a late release is harmless
    assert raw_pid


@pytest.mark.async_only
async def test_async_with_create_pool(cluster: TemporaryCluster) -> None:
    async with pgwire.create_pool(cluster.dsn(), min_size=1, max_size=2) as pool:
        assert await pool.fetchval("SELECT 1") == 1
    assert pool.is_closing()
    pool = await pgwire.create_pool(cluster.dsn(), min_size=0)
    assert await pool.fetchval("SELECT 2") == 2
    await pool.close()
    await pool.close()  # twice is fine


@pytest.mark.sync_only
async def test_sync_pool_context_and_threads(cluster: TemporaryCluster) -> None:
    def work() -> int:
        import threading

        with pgwire.sync.create_pool(cluster.dsn(), min_size=2, max_size=4) as pool:
            errors: list[BaseException] = []

            def worker(offset: int) -> None:
                try:
                    for i in range(50):
                        with pool.acquire(timeout=30) as conn:
                            assert conn.fetchval("SELECT $1::int", offset + i) == offset + i
                except BaseException as exc:  # reported below
                    errors.append(exc)

            threads = [threading.Thread(target=worker, args=(n * 1000,)) for n in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            assert not errors
            stats = pool.get_stats()
            assert stats.acquires == 400 and stats.in_use == 0 and stats.size <= 4
            return stats.size

    assert await asyncio.get_running_loop().run_in_executor(None, work) >= 2
