"""Connections cut at every protocol phase, through pgwire.testing.FaultProxy.

Each case puts a :class:`~pgwire.testing.faults.Fault` on the proxy (a cut
before the N-th message of a type, or after N bytes, as a close or an RST),
connects through it and does what users do: connect (with trust, cleartext
password, MD5, SCRAM and TLS), read a large result, COPY in and out, work in
a transaction, a pipeline, executemany, a cursor, sit idle with a LISTEN.
What must happen, on both APIs and both builds: a clean error of the
connection family (``PostgresConnectionError``/``ConnectionDoesNotExistError``,
``InterfaceError``, or at connect the ``OSError`` asyncpg raises too) within
a few seconds, ``is_closed()`` afterwards, no pgwire task or thread left
behind, and the fault really fired (``proxy.fired``).  Any other exception
type (IndexError, struct.error, AssertionError, AttributeError...) is a
defect.  The bound is 5 s, not the 2 s the driver takes at most unloaded,
for a busy 2-core machine.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

import pgwire
from pgwire.testing import Fault, FaultProxy, TemporaryCluster

CLEAN = (pgwire.PostgresConnectionError, pgwire.InterfaceError)
CLEAN_AT_CONNECT = (*CLEAN, OSError)
BOUND = 5.0


@pytest.fixture
def proxy(cluster: TemporaryCluster) -> AsyncIterator[FaultProxy]:
    with FaultProxy(cluster.host, cluster.port) as faulty:
        yield faulty


def _kwargs(cluster: TemporaryCluster, proxy: FaultProxy, user: str = "postgres",
            **extra: Any) -> dict[str, Any]:
    kwargs = cluster.connect_kwargs(user=user)
    kwargs.update(host=proxy.host, port=proxy.port, timeout=30)
    kwargs.setdefault("ssl", "disable")
    kwargs.update(extra)
    return kwargs


def _leftovers() -> list[str]:
    """What pgwire still runs: threads and tasks; a background thread (a
    replication stream's status sender) is given until BOUND to notice."""
    deadline = time.monotonic() + BOUND
    while True:
        names = _running()
        if not any(not name.startswith("<") for name in names) or time.monotonic() > deadline:
            return names
        time.sleep(0.05)


def _running() -> list[str]:
    # The proxy's own thread and the test harness's workers do not count.
    names = [t.name for t in threading.enumerate()
             if t.name.startswith("pgwire") and not t.name.startswith(("pgwire-fault-proxy",
                                                                       "pgwire-sync-test"))]
    try:
        current = asyncio.current_task()
        names += [repr(t) for t in asyncio.all_tasks() if t is not current
                  and "pgwire" in repr(t.get_coro())]
    except RuntimeError:
        pass
    return names


async def _expect_clean(action: Awaitable[Any], allowed: tuple[type[BaseException], ...]
                        ) -> BaseException:
    started = time.monotonic()
    with pytest.raises(BaseException) as caught:
        await asyncio.wait_for(action, 60)
    elapsed = time.monotonic() - started
    assert isinstance(caught.value, allowed), (
        f"{type(caught.value).__name__}: {caught.value}")
    assert not isinstance(caught.value, (TimeoutError, asyncio.TimeoutError)), caught.value
    assert elapsed < BOUND, f"the failure took {elapsed:.1f} s"
    return caught.value


# -- while connecting ------------------------------------------------------------

CONNECT_CASES = {
    "startup packet, half sent": ("postgres", {}, Fault("to_server", after_bytes=4)),
    "startup packet, reset": ("postgres", {}, Fault("to_server", after_bytes=20,
                                                    action="reset")),
    "authentication ok": ("postgres", {}, Fault("to_client", message=b"R")),
    "parameter status": ("postgres", {}, Fault("to_client", message=b"S", occurrence=3)),
    "backend key data": ("postgres", {}, Fault("to_client", message=b"K")),
    "backend key data, half": ("postgres", {}, Fault("to_client", message=b"Z",
                                                     action="reset")),
    "first ready for query": ("postgres", {}, Fault("to_client", message=b"Z")),
    "cleartext password": ("password_user", {}, Fault("to_server", message=b"p")),
    "md5 password": ("md5_user", {}, Fault("to_server", message=b"p")),
    "md5 challenge": ("md5_user", {}, Fault("to_client", message=b"R")),
    "scram first message": ("scram_user", {}, Fault("to_server", message=b"p")),
    "scram server first": ("scram_user", {}, Fault("to_client", message=b"R",
                                                   occurrence=2)),
    "scram client final": ("scram_user", {}, Fault("to_server", message=b"p",
                                                   occurrence=2)),
    "scram server final": ("scram_user", {}, Fault("to_client", message=b"R",
                                                   occurrence=3, action="reset")),
    "tls: after the S": ("postgres", {"ssl": "require"}, Fault("to_client", after_bytes=1)),
    "tls: mid handshake": ("postgres", {"ssl": "require"}, Fault("to_client",
                                                                 after_bytes=300)),
    "tls: client hello cut": ("postgres", {"ssl": "require"}, Fault("to_server",
                                                                    after_bytes=40)),
    "tls: after the handshake": ("postgres", {"ssl": "require"},
                                 Fault("to_client", after_bytes=1250, action="reset")),
}


@pytest.mark.parametrize("case", list(CONNECT_CASES))
async def test_cut_while_connecting(api: Any, cluster: TemporaryCluster, proxy: FaultProxy,
                                    case: str) -> None:
    user, extra, fault = CONNECT_CASES[case]
    if extra.get("ssl") and not cluster.ssl_enabled:
        pytest.skip("the cluster has no TLS")
    proxy.fault = fault
    await _expect_clean(api.connect(**_kwargs(cluster, proxy, user, **extra)), CLEAN_AT_CONNECT)
    assert proxy.fired == 1, "the fault was not reached"
    assert not _leftovers()
    # The server is fine: the same connection without a fault works.
    proxy.fault = None
    conn = await api.connect(**_kwargs(cluster, proxy, user, **extra))
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


# -- once connected --------------------------------------------------------------

Action = Callable[[Any, Any], Awaitable[Any]]


async def _large_result(api: Any, conn: Any) -> Any:
    return await conn.fetch("SELECT g, repeat('x', 50) FROM generate_series(1, 50000) g")


async def _copy_in(api: Any, conn: Any) -> Any:
    await conn.execute("CREATE TEMP TABLE fault_copy (a int, b text)")
    records = ((i, "y" * 40) for i in range(200_000))  # several CopyData chunks
    return await conn.copy_records_to_table("fault_copy", records=records)


async def _copy_out(api: Any, conn: Any) -> Any:
    chunks: list[bytes] = []

    async def sink(data: bytes) -> None:
        chunks.append(data)

    return await conn.copy_from_query("SELECT g FROM generate_series(1, 100000) g",
                                      output=sink)


async def _in_transaction(api: Any, conn: Any) -> Any:
    async with conn.transaction():
        await conn.execute("CREATE TEMP TABLE fault_tx (a int)")
        await conn.execute("INSERT INTO fault_tx VALUES (1)")


async def _pipeline(api: Any, conn: Any) -> Any:
    if api.name == "async":
        async with conn.pipeline() as pipe:
            pending = [pipe.fetchval("SELECT $1::int", n) for n in range(20)]
            await pipe.sync()
        return [await p for p in pending]

    def blocking() -> Any:
        with api.unwrap(conn).pipeline() as pipe:
            results = [pipe.fetchval("SELECT $1::int", n) for n in range(20)]
            pipe.sync()
        return [r.result() for r in results]

    return await asyncio.to_thread(blocking)


async def _executemany(api: Any, conn: Any) -> Any:
    await conn.execute("CREATE TEMP TABLE fault_many (a int)")
    return await conn.executemany("INSERT INTO fault_many VALUES ($1)",
                                  [(n,) for n in range(50)])


async def _cursor(api: Any, conn: Any) -> Any:
    async with conn.transaction():
        rows = []
        async for row in conn.cursor("SELECT g FROM generate_series(1, 1000) g", prefetch=10):
            rows.append(row)
        return rows


# (action, fault): the fault is armed once the connection is open, so its
# counts start with the action's own messages.
QUERY_CASES: dict[str, tuple[Action, Fault]] = {
    "result: first row": (_large_result, Fault("to_client", message=b"D")),
    "result: row 700": (_large_result, Fault("to_client", message=b"D", occurrence=700)),
    "result: row 40000, reset": (_large_result, Fault("to_client", message=b"D",
                                                      occurrence=40000, action="reset")),
    "result: mid-message": (_large_result, Fault("to_client", after_bytes=300_000)),
    "result: command complete": (_large_result, Fault("to_client", message=b"C")),
    "copy in: first chunk": (_copy_in, Fault("to_server", message=b"d")),
    "copy in: third chunk": (_copy_in, Fault("to_server", message=b"d", occurrence=3)),
    "copy in: copy done": (_copy_in, Fault("to_server", message=b"c", action="reset")),
    "copy in: the server's answer": (_copy_in, Fault("to_client", message=b"G")),
    "copy out: data": (_copy_out, Fault("to_client", message=b"d", occurrence=10)),
    "copy out: copy done": (_copy_out, Fault("to_client", message=b"c")),
    "transaction: begin": (_in_transaction, Fault("to_client", message=b"Z")),
    "transaction: a statement": (_in_transaction, Fault("to_client", message=b"Z",
                                                        occurrence=3)),
    "transaction: commit": (_in_transaction, Fault("to_client", message=b"Z",
                                                   occurrence=4, action="reset")),
    "pipeline: results": (_pipeline, Fault("to_client", message=b"D", occurrence=7)),
    "pipeline: sync": (_pipeline, Fault("to_client", message=b"Z")),
    "executemany: mid-batch": (_executemany, Fault("to_client", message=b"C", occurrence=20)),
    "executemany: sending": (_executemany, Fault("to_server", message=b"B", occurrence=30)),
    "cursor: first batch": (_cursor, Fault("to_client", message=b"s")),
    "cursor: a later fetch": (_cursor, Fault("to_client", message=b"s", occurrence=5,
                                             action="reset")),
}


@pytest.mark.parametrize("case", list(QUERY_CASES))
async def test_cut_mid_operation(api: Any, cluster: TemporaryCluster, proxy: FaultProxy,
                                 case: str) -> None:
    action, fault = QUERY_CASES[case]
    conn = await api.connect(**_kwargs(cluster, proxy))
    # The pooler probe rides with a connection's first request: answered
    # here, so the counts below start with the action's own messages.
    assert await conn.fetchval("SELECT 1") == 1
    proxy.fault = fault  # counting from here: the connection's startup is not counted
    try:
        await _expect_clean(action(api, conn), CLEAN)
        assert proxy.fired == 1, "the fault was not reached"
        assert conn.is_closed()
        # Later calls say the connection is gone; they do not hang or crash.
        await _expect_clean(conn.fetchval("SELECT 1"), CLEAN)
        assert not _leftovers()
    finally:
        conn.terminate()


@pytest.mark.parametrize("fault", [
    Fault("to_server", message=b"Q"),  # the probe, not sent
    Fault("to_client", message=b"T"),  # its answer, cut
    Fault("to_client", message=b"Z", action="reset"),  # cut before the statement's answer
], ids=["probe sent", "probe answered", "after the probe"])
async def test_cut_with_the_pooler_probe(api: Any, cluster: TemporaryCluster,
                                         proxy: FaultProxy, fault: Fault) -> None:
    """Connecting sends no query; the pooler probe goes with the first
    request, and a cut there is a clean error like any other."""
    proxy.fault = Fault("to_server", message=b"Q", action="stall")
    conn = await api.connect(**_kwargs(cluster, proxy))
    try:
        assert proxy.fired == 0, "a query was sent while connecting"
        proxy.fault = fault
        await _expect_clean(conn.fetchval("SELECT $1::int", 1), CLEAN)
        assert proxy.fired == 1, "the fault was not reached"
        assert conn.is_closed()
        await _expect_clean(conn.fetchval("SELECT 1"), CLEAN)
        assert not _leftovers()
    finally:
        conn.terminate()


async def test_cut_while_idle_with_a_listener(api: Any, cluster: TemporaryCluster,
                                              proxy: FaultProxy) -> None:
    conn = await api.connect(**_kwargs(cluster, proxy))
    closed = asyncio.Event()
    conn.add_termination_listener(lambda *args: closed.set())
    try:
        await conn.add_listener("fault_news", lambda *args: None)
        proxy.cut_all()
        if api.notices_close_while_idle:
            # The asyncio connection reads while idle: it notices by itself.
            await asyncio.wait_for(closed.wait(), BOUND)
            assert conn.is_closed()
        await _expect_clean(conn.fetchval("SELECT 1"), CLEAN)
        assert conn.is_closed()
        assert not _leftovers()
    finally:
        conn.terminate()


async def test_stall_mid_result_times_out(api: Any, cluster: TemporaryCluster,
                                          proxy: FaultProxy) -> None:
    # A server that stops answering: the timeout fires on time; the
    # connection is then terminated by the caller without waiting.
    conn = await api.connect(**_kwargs(cluster, proxy))
    proxy.fault = Fault("to_client", message=b"D", occurrence=100, action="stall")
    try:
        started = time.monotonic()
        with pytest.raises((TimeoutError, asyncio.TimeoutError)):
            await conn.fetch("SELECT g FROM generate_series(1, 50000) g", timeout=1)
        assert time.monotonic() - started < BOUND
        assert proxy.fired == 1
    finally:
        conn.terminate()
    assert conn.is_closed()


@pytest.mark.parametrize("action", ["close", "reset"])
async def test_cut_during_a_replication_stream(api: Any, cluster: TemporaryCluster,
                                               proxy: FaultProxy, conn: Any,
                                               action: str) -> None:
    repl = await api.connect(**_kwargs(cluster, proxy, replication="database"))
    try:
        # A temporary slot goes with the connection the fault kills.
        await repl.create_replication_slot(f"fault_{action}", plugin="test_decoding",
                                           temporary=True)
        await conn.execute("CREATE TABLE IF NOT EXISTS fault_repl (a int)")
        stream = repl.start_replication(f"fault_{action}", status_interval=0.5)
        proxy.fault = Fault("to_client", message=b"d", occurrence=3, action=action)
        await conn.execute("INSERT INTO fault_repl SELECT generate_series(1, 50)")

        async def consume() -> None:
            async for _message in stream:
                pass

        await _expect_clean(consume(), CLEAN)
        assert proxy.fired == 1
        assert repl.is_closed()
        assert not _leftovers()
    finally:
        repl.terminate()
