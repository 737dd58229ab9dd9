"""LISTEN/NOTIFY, log messages and termination listeners against a real server.

Notifications reach ``add_listener`` callbacks whether they arrive during a
query or while the connection is idle (asyncio API; the blocking API
delivers them during its calls and in ``process_notifications``), channel
names are quoted, ``remove_listener`` stops delivery and UNLISTENs with the
last callback, NOTICE/WARNING messages reach log listeners, termination
listeners run once when the connection ends for any reason, and an
exception in a callback never breaks the connection.

Notifications are sent from a second connection of the same API.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import pgwire


async def wait_for_delivery(api: Any, conn: Any, predicate: Callable[[], bool],
                            timeout: float = 5) -> None:
    """Wait until ``predicate()`` holds; a blocking connection is given the
    chance to read (process_notifications), an asyncio one reads by itself."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("nothing was delivered in time")
        if api.name == "sync":
            await conn.process_notifications(0.05)
        else:
            await asyncio.sleep(0.01)


class Collector:
    """A thread-safe listener callback that remembers its calls."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self._lock = threading.Lock()

    def __call__(self, *args: Any) -> None:
        with self._lock:
            self.calls.append(args)

    @property
    def payloads(self) -> list[str]:
        return [call[3] for call in self.calls]


# ---------------------------------------------------------------------------
# Delivery


@pytest.mark.async_only  # the asyncio connection reads while idle
async def test_notification_while_idle(conn: Any, make_conn: Any) -> None:
    sender = await make_conn()
    arrived = asyncio.Event()
    got: list[tuple[Any, ...]] = []

    def callback(*args: Any) -> None:
        got.append(args)
        arrived.set()

    await conn.add_listener("idle_channel", callback)
    await sender.execute("NOTIFY idle_channel, 'while idle'")
    await asyncio.wait_for(arrived.wait(), 5)
    assert got == [(conn, sender.get_server_pid(), "idle_channel", "while idle")]


async def test_notification_during_a_query(api: Any, conn: Any, make_conn: Any) -> None:
    sender = await make_conn()
    got = Collector()
    await conn.add_listener("busy_channel", got)
    query = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.3)::text || 'slept'"))
    await asyncio.sleep(0.1)
    await sender.execute("NOTIFY busy_channel, 'during the query'")
    # The server sends it when the listener's transaction ends: with the
    # query's answer, before ReadyForQuery.
    assert await query == "slept"
    await wait_for_delivery(api, conn, lambda: bool(got.calls), timeout=2)
    assert got.calls == [(api.unwrap(conn), sender.get_server_pid(), "busy_channel",
                          "during the query")]
    # A NOTIFY on the listening connection itself arrives in its own answer.
    assert await conn.execute("NOTIFY busy_channel, 'self'") == "NOTIFY"
    assert got.payloads == ["during the query", "self"]
    assert got.calls[1][1] == conn.get_server_pid()


async def test_burst_in_order_with_payloads(api: Any, conn: Any, make_conn: Any) -> None:
    sender = await make_conn()
    got = Collector()
    await conn.add_listener("burst", got)
    payloads = ["", "\u00e9t\u00e9 \u2603", "x" * 7999, *(f"n{i}" for i in range(100))]
    await sender.executemany("SELECT pg_notify('burst', $1)", [(p,) for p in payloads])
    await wait_for_delivery(api, conn, lambda: len(got.calls) >= len(payloads))
    assert got.payloads == payloads


async def test_transaction_semantics(api: Any, conn: Any, make_conn: Any) -> None:
    """Notifications are sent at commit, never for a rolled-back transaction."""
    sender = await make_conn()
    got = Collector()
    await conn.add_listener("tx_channel", got)
    await sender.execute("BEGIN; NOTIFY tx_channel, 'rolled back'; ROLLBACK")
    await sender.execute("BEGIN")
    await sender.execute("NOTIFY tx_channel, 'committed'")
    await sender.execute("NOTIFY tx_channel, 'committed'")  # duplicates fold into one
    if api.name == "sync":
        await conn.process_notifications(0.2)
    else:
        await asyncio.sleep(0.2)
    assert got.calls == []
    await sender.execute("COMMIT")
    await wait_for_delivery(api, conn, lambda: bool(got.calls))
    assert conn.get_server_pid() != sender.get_server_pid()
    if api.name == "sync":
        await conn.process_notifications(0.1)
    else:
        await asyncio.sleep(0.1)
    assert got.payloads == ["committed"]


@pytest.mark.async_only  # coroutine callbacks are the asyncio API's
async def test_sync_and_coroutine_callbacks(conn: Any, make_conn: Any) -> None:
    sender = await make_conn()
    plain: list[str] = []
    from_coroutine: list[str] = []
    done = asyncio.Event()

    def plain_callback(connection: Any, pid: int, channel: str, payload: str) -> None:
        plain.append(payload)

    async def coroutine_callback(connection: Any, pid: int, channel: str, payload: str) -> None:
        await asyncio.sleep(0.01)
        # A callback may use the connection it was called for.
        from_coroutine.append(await connection.fetchval("SELECT $1::text || '!'", payload))
        done.set()

    await conn.add_listener("both_kinds", plain_callback)
    await conn.add_listener("both_kinds", coroutine_callback)
    await sender.execute("NOTIFY both_kinds, 'hi'")
    await asyncio.wait_for(done.wait(), 5)
    assert plain == ["hi"]
    assert from_coroutine == ["hi!"]


@pytest.mark.sync_only
async def test_blocking_api_refuses_coroutine_callbacks(conn: Any) -> None:
    async def coroutine_callback(*args: Any) -> None:
        pass

    with pytest.raises(pgwire.InterfaceError):
        await conn.add_listener("never", coroutine_callback)
    assert await conn.fetch("SELECT pg_listening_channels()") == []


async def test_channel_names_needing_quotes(api: Any, conn: Any, make_conn: Any) -> None:
    sender = await make_conn()
    channels = ["with space", 'dq"uote', "sq'uote", "UPPER", "MiXeD", "\u00e9t\u00e9",
                "semi;colon --", "x" * 63]
    got = Collector()
    for channel in channels:
        await conn.add_listener(channel, got)
    listening = {r[0] for r in await conn.fetch("SELECT pg_listening_channels()")}
    assert listening == set(channels)
    # The lowercase twin of a quoted uppercase name is another channel.
    await sender.fetchval("SELECT pg_notify('upper', 'not for us')")
    for channel in channels:
        await sender.fetchval("SELECT pg_notify($1, $2)", channel, f"to {channel}")
    await wait_for_delivery(api, conn, lambda: len(got.calls) >= len(channels))
    assert [(call[2], call[3]) for call in got.calls] == [(c, f"to {c}") for c in channels]
    with pytest.raises(pgwire.InterfaceError):
        await conn.add_listener("", got)


async def test_remove_listener(api: Any, conn: Any, make_conn: Any) -> None:
    sender = await make_conn()
    first, second = Collector(), Collector()
    await conn.add_listener("Shared Channel", first)
    await conn.add_listener("Shared Channel", second)

    async def channels() -> list[str]:
        return [r[0] for r in await conn.fetch("SELECT pg_listening_channels()")]

    await conn.remove_listener("Shared Channel", first)
    assert await channels() == ["Shared Channel"]  # still listening for the second
    await sender.execute('NOTIFY "Shared Channel", \'one\'')
    await wait_for_delivery(api, conn, lambda: bool(second.calls))
    assert first.calls == [] and second.payloads == ["one"]

    await conn.remove_listener("Shared Channel", second)
    assert await channels() == []  # UNLISTEN with the last callback
    await sender.execute('NOTIFY "Shared Channel", \'two\'')
    if api.name == "sync":
        await conn.process_notifications(0.2)
    else:
        await asyncio.sleep(0.2)
    assert second.payloads == ["one"]
    # Removing what is not registered is harmless; re-adding listens again.
    await conn.remove_listener("Shared Channel", second)
    await conn.remove_listener("never added", first)
    await conn.add_listener("Shared Channel", first)
    assert await channels() == ["Shared Channel"]


async def _listening(conn: Any) -> list[str]:
    return sorted(r[0] for r in await conn.fetch("SELECT pg_listening_channels()"))


@pytest.mark.parametrize("how", ["block", "savepoint", "statements", "failed_block"])
async def test_listen_inside_a_rolled_back_transaction(api: Any, conn: Any, make_conn: Any,
                                                       how: str) -> None:
    """A rollback undoes LISTEN and UNLISTEN on the server (also of a
    savepoint); the listener registry stays the truth: what has a callback
    is listened to again once the transaction is over."""
    sender = await make_conn()
    kept, dropped = Collector(), Collector()
    await conn.add_listener("dropped", dropped)

    async def change() -> None:
        await conn.add_listener("kept", kept)
        await conn.remove_listener("dropped", dropped)

    if how == "block":
        with pytest.raises(LookupError):
            async with conn.transaction():
                await change()
                raise LookupError
    elif how == "savepoint":
        async with conn.transaction():
            with pytest.raises(LookupError):
                async with conn.transaction():
                    await change()
                    raise LookupError
    elif how == "statements":
        await conn.execute("BEGIN")
        await change()
        await conn.execute("ROLLBACK")
    else:
        with pytest.raises(pgwire.InFailedSQLTransactionError):
            async with conn.transaction():
                await change()
                with pytest.raises(pgwire.DivisionByZeroError):
                    await conn.execute("SELECT 1/0")
    assert await _listening(conn) == ["kept"]
    await sender.execute("NOTIFY kept, 'k'; NOTIFY dropped, 'd'")
    await wait_for_delivery(api, conn, lambda: bool(kept.calls))
    assert kept.payloads == ["k"] and dropped.calls == []


async def test_listen_inside_a_committed_transaction(api: Any, conn: Any,
                                                     make_conn: Any) -> None:
    sender = await make_conn()
    kept = Collector()
    async with conn.transaction():
        await conn.add_listener("committed", kept)
    assert await _listening(conn) == ["committed"]
    await sender.execute("NOTIFY committed, 'c'")
    await wait_for_delivery(api, conn, lambda: bool(kept.calls))
    assert kept.payloads == ["c"]


async def test_exception_in_callback_does_not_break_connection(
        api: Any, conn: Any, make_conn: Any, caplog: pytest.LogCaptureFixture) -> None:
    sender = await make_conn()
    good = Collector()

    def bad(*args: Any) -> None:
        raise RuntimeError("listener failed on purpose")

    await conn.add_listener("fragile", bad)
    await conn.add_listener("fragile", good)
    with caplog.at_level(logging.ERROR, logger="pgwire"):
        await sender.execute("NOTIFY fragile, 'a'")
        await wait_for_delivery(api, conn, lambda: bool(good.calls))
        # During a query too: the query's result is not disturbed.
        assert await conn.fetchval("SELECT $1::text FROM (SELECT pg_notify('fragile', 'b')) s",
                                   "result") == "result"
    assert good.payloads == ["a", "b"]
    assert any("listener failed on purpose" in str(r.exc_info[1]) for r in caplog.records
               if r.exc_info)
    assert await conn.fetchval("SELECT 'still fine'") == "still fine"
    assert not conn.is_closed()


@pytest.mark.async_only  # coroutine callbacks
async def test_exception_in_coroutine_callback(conn: Any, make_conn: Any,
                                               caplog: pytest.LogCaptureFixture) -> None:
    sender = await make_conn()
    failed = asyncio.Event()

    async def bad(*args: Any) -> None:
        failed.set()
        raise RuntimeError("coroutine listener failed")

    await conn.add_listener("fragile_async", bad)
    with caplog.at_level(logging.ERROR, logger="pgwire"):
        await sender.execute("NOTIFY fragile_async")
        await asyncio.wait_for(failed.wait(), 5)
        for _ in range(20):
            if caplog.records:
                break
            await asyncio.sleep(0.01)
    assert any(r.exc_info and "coroutine listener failed" in str(r.exc_info[1])
               for r in caplog.records)
    assert await conn.fetchval("SELECT 1") == 1


@pytest.mark.sync_only
async def test_process_notifications_returns_promptly(conn: Any, make_conn: Any) -> None:
    sender = await make_conn()
    got = Collector()
    await conn.add_listener("waiting", got)
    # Nothing comes: it returns when the time is up.
    started = time.monotonic()
    await conn.process_notifications(0.3)
    elapsed = time.monotonic() - started
    assert 0.25 <= elapsed < 1.0
    assert got.calls == []
    started = time.monotonic()
    await conn.process_notifications(0)  # a poll
    assert time.monotonic() - started < 0.2
    # Something comes after 0.2 s: it returns then, not at the 5 s timeout.
    for timeout in (5, None):
        before = len(got.calls)
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, lambda: asyncio.ensure_future(
            sender.execute("NOTIFY waiting, 'now'")))
        started = time.monotonic()
        await asyncio.wait_for(conn.process_notifications(timeout), 5)
        elapsed = time.monotonic() - started
        assert len(got.calls) == before + 1
        assert 0.1 <= elapsed < 2
    # The connection is fine afterwards.
    assert await conn.fetchval("SELECT 'ok'") == "ok"


# ---------------------------------------------------------------------------
# Log messages


async def test_log_listener_receives_notices_and_warnings(api: Any, conn: Any) -> None:
    messages: list[tuple[Any, Any]] = []

    def on_message(connection: Any, message: Any) -> None:
        messages.append((connection, message))

    conn.add_log_listener(on_message)
    status = await conn.execute(
        "DO $$ BEGIN RAISE NOTICE 'hello %', 42; RAISE WARNING 'careful' USING "
        "DETAIL = 'some detail', HINT = 'a hint'; RAISE INFO 'for your info'; END $$")
    assert status == "DO"
    assert [m[0] for m in messages] == [api.unwrap(conn)] * 3
    notice, warning, info = (m[1] for m in messages)
    assert isinstance(notice, pgwire.PostgresLogMessage)
    assert (notice.severity_en, notice.message, notice.sqlstate) == ("NOTICE", "hello 42",
                                                                    "00000")
    assert isinstance(warning, pgwire.PostgresWarning)
    assert (warning.severity_en, warning.message) == ("WARNING", "careful")
    assert (warning.detail, warning.hint) == ("some detail", "a hint")
    assert (info.severity_en, info.message) == ("INFO", "for your info")
    # Notices during an extended-protocol query, and from a failing one.
    await conn.fetchval(
        "SELECT count(*) FROM (SELECT 1) s WHERE pg_catalog.length($1::text) > 0", "x")
    await conn.execute("CREATE OR REPLACE FUNCTION pg_temp.noisy(int) RETURNS int "
                       "LANGUAGE plpgsql AS $$ BEGIN RAISE NOTICE 'noisy %', $1; "
                       "RETURN $1; END $$")
    messages.clear()
    assert await conn.fetchval("SELECT pg_temp.noisy($1)", 7) == 7
    assert [m[1].message for m in messages] == ["noisy 7"]
    conn.remove_log_listener(on_message)
    await conn.execute("DO $$ BEGIN RAISE NOTICE 'unheard'; END $$")
    assert [m[1].message for m in messages] == ["noisy 7"]


async def test_notices_go_to_logger_without_log_listener(
        conn: Any, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pgwire"):
        await conn.execute("DO $$ BEGIN RAISE NOTICE 'to the logger'; "
                           "RAISE WARNING 'warned'; END $$")
    texts = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "pgwire"]
    assert (logging.INFO, "NOTICE: to the logger") in texts
    assert (logging.WARNING, "WARNING: warned") in texts


async def test_log_listener_exception_is_contained(api: Any, conn: Any,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    def bad(connection: Any, message: Any) -> None:
        raise RuntimeError("log listener failed")

    conn.add_log_listener(bad)
    with caplog.at_level(logging.ERROR, logger="pgwire"):
        assert await conn.execute("DO $$ BEGIN RAISE NOTICE 'x'; END $$") == "DO"
    assert await conn.fetchval("SELECT 2") == 2
    assert any(r.exc_info for r in caplog.records)


# ---------------------------------------------------------------------------
# Termination


async def test_termination_listener_on_close(api: Any, make_conn: Any) -> None:
    conn = await make_conn()
    calls: list[Any] = []
    removed: list[Any] = []
    conn.add_termination_listener(calls.append)
    conn.add_termination_listener(removed.append)
    conn.remove_termination_listener(removed.append)
    await conn.close()
    assert calls == [api.unwrap(conn)]
    assert removed == []
    await conn.close()  # closing again calls nothing more
    assert len(calls) == 1


async def test_termination_listener_on_terminate(api: Any, make_conn: Any) -> None:
    conn = await make_conn()
    calls: list[Any] = []
    conn.add_termination_listener(calls.append)
    conn.terminate()
    await wait_for_delivery(api, conn, lambda: bool(calls), timeout=2)
    assert calls == [api.unwrap(conn)]


async def test_termination_listener_on_server_kill(api: Any, make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    calls: list[Any] = []
    conn.add_termination_listener(calls.append)
    got = Collector()
    await conn.add_listener("ignored", got)
    assert await killer.fetchval("SELECT pg_terminate_backend($1)", conn.get_server_pid())
    if api.notices_close_while_idle:
        # The asyncio connection notices by itself, without a call.
        await wait_for_delivery(api, conn, lambda: bool(calls), timeout=3)
        assert conn.is_closed()
    else:
        # The blocking one notices at its next call, or while waiting for notifications.
        started = time.monotonic()
        await conn.process_notifications(2)
        assert time.monotonic() - started < 1.5
    assert calls == [api.unwrap(conn)]
    assert conn.is_closed()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await conn.fetchval("SELECT 1")
    assert len(calls) == 1
