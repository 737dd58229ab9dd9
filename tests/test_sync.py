"""The blocking API on its own: what the tests shared by both APIs cannot show.

The shared tests (test_connect, test_queries, test_errors, ...) run once per
API, the blocking one behind an adapter that awaits its calls in worker
threads (conftest.py).  The tests here are plain synchronous code with real
threads: ``with`` blocks, threads sharing one connection, timeouts and
interrupts cancelling the server's statement, the server ending the
connection, and the blocking classes offering the asyncio API's methods with
the same parameters.
"""

from __future__ import annotations

import inspect
import os
import resource
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from delay_proxy import ONE_WAY_DELAY, DelayProxy

import pgwire
import pgwire.sync
from pgwire.api._sync.connection import runner_of
from pgwire.testing import TemporaryCluster

Connect = Callable[..., pgwire.sync.Connection]


@pytest.fixture
def connect(cluster: TemporaryCluster) -> Iterator[Connect]:
    """``connect(**overrides)``: a blocking connection, closed at the end of the test."""
    opened: list[pgwire.sync.Connection] = []

    def factory(**overrides: Any) -> pgwire.sync.Connection:
        conn = pgwire.connect_sync(**{**cluster.connect_kwargs(), "ssl": "disable", **overrides})
        opened.append(conn)
        return conn

    yield factory
    for conn in opened:
        if not conn.is_closed():
            conn.terminate()


@pytest.fixture
def sconn(connect: Connect) -> pgwire.sync.Connection:
    return connect()


def _backend_state(observer: pgwire.sync.Connection, pid: int) -> str | None:
    return observer.fetchval(  # type: ignore[no-any-return]
        "SELECT state FROM pg_stat_activity WHERE pid = $1::int", pid
    )


def _wait_for_state(observer: pgwire.sync.Connection, pid: int, wanted: Callable[[Any], bool],
                    timeout: float = 5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        state = _backend_state(observer, pid)
        if wanted(state) or time.monotonic() > deadline:
            return state
        time.sleep(0.01)


def _in_thread(func: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Start ``func`` in a thread; the dict gets its ``result`` or ``error`` and ``elapsed``."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        started = time.monotonic()
        try:
            outcome["result"] = func()
        except BaseException as exc:
            outcome["error"] = exc
        outcome["elapsed"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


# ---------------------------------------------------------------------------
# Plain blocking calls and ``with`` blocks


def test_calls_block_and_return_values(sconn: pgwire.sync.Connection) -> None:
    for name in ("execute", "executemany", "fetch", "fetchrow", "fetchval", "prepare", "close"):
        assert not inspect.iscoroutinefunction(getattr(sconn, name)), name
    assert sconn.fetchval("SELECT $1::int + 1", 41) == 42
    assert sconn.fetch("SELECT g FROM generate_series(1, 3) g") == [(1,), (2,), (3,)]
    assert sconn.execute("SELECT 1") == "SELECT 1"
    stmt = sconn.prepare("SELECT $1::text || '!'")
    assert isinstance(stmt, pgwire.sync.PreparedStatement)
    assert stmt.fetchval("hi") == "hi!"


def test_connection_with_block_closes(cluster: TemporaryCluster, connect: Connect) -> None:
    with pgwire.connect_sync(**cluster.connect_kwargs(), ssl="disable") as conn:
        assert isinstance(conn, pgwire.sync.Connection)
        pid = conn.get_server_pid()
        assert conn.fetchval("SELECT pg_backend_pid()") == pid
    assert conn.is_closed()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        conn.fetchval("SELECT 1")
    conn.close()  # closing again is a no-op
    # The server saw a Terminate: the backend goes away.
    observer = connect()
    deadline = time.monotonic() + 5
    while observer.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
        assert time.monotonic() < deadline, "the backend is still there"
        time.sleep(0.02)


def test_connection_with_block_closes_on_exception(cluster: TemporaryCluster) -> None:
    with pytest.raises(ZeroDivisionError):
        with pgwire.connect_sync(**cluster.connect_kwargs(), ssl="disable") as conn:
            assert conn.fetchval("SELECT 1") == 1
            1 / 0  # noqa: B018
    assert conn.is_closed()


def test_transaction_with_blocks(sconn: pgwire.sync.Connection, connect: Connect) -> None:
    other = connect()
    sconn.execute("CREATE TEMP TABLE tx_with (a int PRIMARY KEY)")
    with sconn.transaction() as tx:
        assert isinstance(tx, pgwire.sync.Transaction)
        sconn.execute("INSERT INTO tx_with VALUES (1)")
        with pytest.raises(pgwire.UniqueViolationError):
            with sconn.transaction():  # a savepoint
                sconn.execute("INSERT INTO tx_with VALUES (2)")
                sconn.execute("INSERT INTO tx_with VALUES (1)")
        assert sconn.is_in_transaction()
        with sconn.transaction():
            sconn.execute("INSERT INTO tx_with VALUES (3)")
    assert not sconn.is_in_transaction()
    assert [r[0] for r in sconn.fetch("SELECT a FROM tx_with ORDER BY a")] == [1, 3]
    with pytest.raises(LookupError):
        with sconn.transaction(isolation="serializable"):
            assert sconn.fetchval("SHOW transaction_isolation") == "serializable"
            sconn.execute("INSERT INTO tx_with VALUES (4)")
            raise LookupError
    assert not sconn.is_in_transaction()
    assert sconn.fetchval("SELECT count(*) FROM tx_with") == 2
    # Visible from another connection only after COMMIT.
    other.execute("CREATE TABLE IF NOT EXISTS tx_with_shared (a int)")
    try:
        with sconn.transaction():
            sconn.execute("INSERT INTO tx_with_shared VALUES (7)")
            assert other.fetchval("SELECT count(*) FROM tx_with_shared") == 0
        assert other.fetchval("SELECT count(*) FROM tx_with_shared") == 1
    finally:
        other.execute("DROP TABLE tx_with_shared")


def test_async_connection_class_is_refused(cluster: TemporaryCluster) -> None:
    with pytest.raises(pgwire.InterfaceError, match="connection_class"):
        pgwire.connect_sync(**cluster.connect_kwargs(), ssl="disable",
                            connection_class=pgwire.Connection)


# ---------------------------------------------------------------------------
# Threads sharing one connection


def test_threads_sharing_one_connection_each_get_their_own_results(
    sconn: pgwire.sync.Connection,
) -> None:
    stmt = sconn.prepare("SELECT $1::int * 3")
    start = threading.Barrier(8)

    def work(worker: int) -> int:
        start.wait()
        done = 0
        for i in range(40):
            n = worker * 1000 + i
            kind = i % 6
            if kind == 0:
                assert sconn.fetchval("SELECT $1::int", n) == n
            elif kind == 1:
                rows = sconn.fetch("SELECT g FROM generate_series($1::int, $1::int + 2) g", n)
                assert [r[0] for r in rows] == [n, n + 1, n + 2]
            elif kind == 2:
                assert sconn.fetchrow("SELECT $1::text AS s, $2::int AS n", str(n), n) == (str(n), n)
            elif kind == 3:
                assert stmt.fetchval(n) == n * 3
            elif kind == 4:
                with pytest.raises(pgwire.DivisionByZeroError):
                    sconn.fetchval("SELECT $1::int / 0", n)
            else:
                assert sconn.fetchval(f"SELECT {n} + 0") == n
            done += 1
        return done

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(work, range(8))) == [40] * 8
    assert sconn.fetchval("SELECT 'in step'") == "in step"
    assert not sconn.is_in_transaction()


def test_operations_from_threads_take_turns(sconn: pgwire.sync.Connection) -> None:
    slow, slow_outcome = _in_thread(lambda: sconn.fetchval("SELECT pg_sleep(0.4)::text || 'slow'"))
    time.sleep(0.1)
    started = time.monotonic()
    assert sconn.fetchval("SELECT 'quick'") == "quick"
    waited = time.monotonic() - started
    slow.join(5)
    assert slow_outcome.get("result") == "slow", slow_outcome
    assert waited >= 0.2, "the second call did not wait for the first"


# ---------------------------------------------------------------------------
# Timeouts and interrupts


def test_timeout_cancels_server_statement(sconn: pgwire.sync.Connection, connect: Connect) -> None:
    observer = connect()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        sconn.fetchval("SELECT pg_sleep(5)", timeout=0.3)
    assert time.monotonic() - started < 2
    assert sconn.fetchval("SELECT $1::int", 42) == 42
    assert time.monotonic() - started < 2.5
    # The server is not still sleeping for us.
    state = _wait_for_state(observer, sconn.get_server_pid(), lambda s: s != "active")
    assert state == "idle"
    assert not sconn.is_closed()


def test_timeout_waiting_for_another_thread(sconn: pgwire.sync.Connection) -> None:
    slow, slow_outcome = _in_thread(lambda: sconn.fetchval("SELECT pg_sleep(1)::text || 'slow'"))
    time.sleep(0.1)
    started = time.monotonic()
    with pytest.raises(TimeoutError, match="waiting for the connection"):
        sconn.fetchval("SELECT 'queued'", timeout=0.2)
    assert time.monotonic() - started < 0.6
    slow.join(5)
    assert slow_outcome.get("result") == "slow", slow_outcome
    assert sconn.fetchval("SELECT 'after'") == "after"


def test_command_timeout(connect: Connect) -> None:
    conn = connect(command_timeout=0.3)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        conn.fetchval("SELECT pg_sleep(5)")
    assert time.monotonic() - started < 2
    assert conn.fetchval("SELECT pg_sleep(0.5)::text || 'ok'", timeout=5) == "ok"
    stmt = conn.prepare("SELECT pg_sleep($1::float8)")
    with pytest.raises(TimeoutError):
        stmt.fetch(5)
    assert conn.fetchval("SELECT 1") == 1


class Interrupted(BaseException):
    """Stands for KeyboardInterrupt (which pytest itself would catch)."""


def test_interrupt_cancels_server_statement(
    sconn: pgwire.sync.Connection, connect: Connect
) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    observer = connect()

    def interrupt(signum: int, frame: Any) -> None:
        raise Interrupted

    previous = signal.signal(signal.SIGUSR1, interrupt)
    timer = threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGUSR1))
    try:
        started = time.monotonic()
        timer.start()
        with pytest.raises(Interrupted):
            sconn.fetchval("SELECT pg_sleep(5)")
        assert time.monotonic() - started < 2
    finally:
        timer.cancel()
        signal.signal(signal.SIGUSR1, previous)
    # The statement was cancelled on the server and its answer read: the
    # next call gets its own result.
    assert sconn.fetchval("SELECT $1::text", "after") == "after"
    assert time.monotonic() - started < 2.5
    assert _wait_for_state(observer, sconn.get_server_pid(), lambda s: s != "active") == "idle"


def test_file_descriptors_above_1024(cluster: TemporaryCluster) -> None:
    # select() refuses descriptors >= FD_SETSIZE; busy processes have them.
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 1200:
        pytest.skip(f"RLIMIT_NOFILE is {soft}")
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        with pgwire.connect_sync(**cluster.connect_kwargs(), ssl="require") as conn:
            assert conn._runner.driver.sock.fileno() > 1024
            assert conn.fetchval("SELECT $1::int", 7) == 7
            assert len(conn.fetch("SELECT repeat('x', 1000) FROM generate_series(1, 2000)")) == 2000
            with pytest.raises(TimeoutError):
                conn.fetchval("SELECT pg_sleep(5)", timeout=0.2)
            assert conn.fetchval("SELECT 'after'") == "after"
    finally:
        for fd in filler:
            os.close(fd)


# ---------------------------------------------------------------------------
# The server ends the connection


def test_server_terminates_idle_connection(connect: Connect) -> None:
    conn = connect()
    killer = connect()
    assert killer.fetchval("SELECT pg_terminate_backend($1::int, 5000)", conn.get_server_pid())
    # A blocking connection reads only inside a call: it notices now, before
    # sending anything, and fails the way the asyncio one does.
    started = time.monotonic()
    with pytest.raises(pgwire.ConnectionDoesNotExistError) as info:
        conn.fetchval("SELECT 1")
    assert time.monotonic() - started < 2
    assert isinstance(info.value.__cause__, pgwire.AdminShutdownError)
    assert conn.is_closed()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        conn.execute("SELECT 1")
    conn.close()


def test_back_to_back_calls_skip_the_idle_check_even_over_a_slow_link(
    connect: Connect, cluster: TemporaryCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The check (a poll for what came while idle) is for connections that
    # sat idle; a call right after the last answer skips it, whatever the
    # round trip. The bound leaves room for a busy machine's stalls.
    with DelayProxy(cluster.host, cluster.port, delay=ONE_WAY_DELAY) as proxy:
        conn = connect(host="127.0.0.1", port=proxy.port)
        driver = runner_of(conn).driver
        checks: list[None] = []
        check = driver._poll

        def counted() -> None:
            checks.append(None)
            check()

        monkeypatch.setattr(driver, "_poll", counted)
        for i in range(20):
            assert conn.fetchval("SELECT $1::int", i) == i
        assert len(checks) <= 10, checks
        # After a pause the check is made again, once for the one request
        # (a cached statement: a new one would take two, the second right
        # after the first's answer unless a loaded machine stalls between).
        before = len(checks)
        time.sleep(0.05)
        assert conn.fetchval("SELECT $1::int", 99) == 99
        assert len(checks) == before + 1


def test_server_terminates_connection_while_threads_wait(connect: Connect) -> None:
    conn = connect()
    killer = connect()
    pid = conn.get_server_pid()
    threads = [_in_thread(lambda: conn.fetchval("SELECT pg_sleep(30)"))]
    threads += [_in_thread(lambda: conn.fetchval("SELECT 1")) for _ in range(4)]
    assert _wait_for_state(killer, pid, lambda s: s == "active") == "active"
    started = time.monotonic()
    assert killer.fetchval("SELECT pg_terminate_backend($1::int, 5000)", pid)
    for thread, outcome in threads:
        thread.join(10)
        assert isinstance(outcome.get("error"), (pgwire.AdminShutdownError,
                                                 pgwire.ConnectionDoesNotExistError)), outcome
    assert time.monotonic() - started < 5
    assert conn.is_closed()


# ---------------------------------------------------------------------------
# The same methods as the asyncio API


def _parameters(func: Any) -> list[str]:
    """Name, kind and default of each parameter (annotations differ: awaitables...)."""
    return [f"{p.name}/{p.kind.name}/{p.default!r}"
            for p in inspect.signature(func).parameters.values()]


def _public_methods(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_") and callable(getattr(cls, name))}


PAIRS = [
    pytest.param(pgwire.Connection, pgwire.sync.Connection, id="Connection"),
    pytest.param(pgwire.PreparedStatement, pgwire.sync.PreparedStatement,
                 id="PreparedStatement"),
    pytest.param(pgwire.Transaction, pgwire.sync.Transaction, id="Transaction"),
    pytest.param(pgwire.Cursor, pgwire.sync.Cursor, id="Cursor"),
]


@pytest.mark.parametrize("async_class, sync_class", PAIRS)
def test_same_methods_and_parameters_as_async_api(async_class: type, sync_class: type) -> None:
    missing = _public_methods(async_class) - _public_methods(sync_class)
    assert not missing, f"{sync_class.__qualname__} lacks {sorted(missing)}"
    different = {
        name: (_parameters(getattr(async_class, name)), _parameters(getattr(sync_class, name)))
        for name in _public_methods(async_class)
        if _parameters(getattr(async_class, name)) != _parameters(getattr(sync_class, name))
    }
    assert not different, different


def test_connect_has_the_same_parameters() -> None:
    def parameters(func: Any) -> list[str]:
        # connection_class defaults to the API's own Connection class.
        return [p.replace("._sync.", "._async.") for p in _parameters(func)]

    assert parameters(pgwire.connect) == parameters(pgwire.connect_sync)
