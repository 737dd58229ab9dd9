"""Replication connections against the real server: commands, raw logical and
physical streams, the feedback policy, stopping, resuming, a killed stream.

pgoutput decoding end to end is in ``test_replication_pgoutput.py``.  Each
test runs on both APIs (the blocking one through the adapters of
``conftest.py``).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire
from pgwire.testing import TemporaryCluster
from pgwire.types import LSN
from pgwire.types.replication import XLogData

# test_decoding: no xids in the text, no BEGIN/COMMIT for transactions
# without changes (the DDL of the tests' own tables).
OPTIONS = {"include-xids": "0", "skip-empty-xacts": "1"}


def _slot() -> str:
    return f"t_{secrets.token_hex(5)}"


@pytest.fixture
async def repl(make_conn: Any) -> Any:
    """A logical replication connection (replication='database')."""
    return await make_conn(replication="database")


@pytest.fixture
async def slots(conn: Any) -> AsyncIterator[list[str]]:
    """Slot names to drop at the end (if they still exist)."""
    names: list[str] = []
    yield names
    for name in names:
        for attempt in range(100):
            active = await conn.fetchval(
                "SELECT active FROM pg_replication_slots WHERE slot_name = $1", name)
            if not active:
                break
            if attempt == 50:  # a stream a failed test left running
                await conn.execute(
                    "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
                    f"WHERE slot_name = '{name}'")
            await asyncio.sleep(0.1)
        await conn.execute(
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            f"WHERE slot_name = '{name}' AND NOT active")


async def _new_table(conn: Any) -> str:
    name = f"rt_{secrets.token_hex(4)}"
    await conn.execute(f"CREATE TABLE {name} (a int PRIMARY KEY, b text)")
    return name


async def _slot_position(conn: Any, slot: str) -> LSN:
    return await conn.fetchval(
        "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = $1", slot)


async def _until(predicate: Any, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return True
        await asyncio.sleep(0.1)
    return False


# ------------------------------------------------------------------ commands


async def test_identify_system(repl: Any, make_conn: Any, conn: Any) -> None:
    info = await repl.identify_system()
    assert info.dbname == "pgwire_test"
    assert info.timeline >= 1
    assert isinstance(info.xlogpos, LSN)
    assert info.systemid == str(await conn.fetchval(
        "SELECT system_identifier FROM pg_control_system()"))
    physical = await make_conn(replication="true")
    info2 = await physical.identify_system()
    assert info2.dbname is None and info2.systemid == info.systemid
    assert info2.xlogpos >= info.xlogpos


async def test_slots_created_read_and_dropped(repl: Any, make_conn: Any, conn: Any,
                                              slots: list[str]) -> None:
    name = _slot()
    slots.append(name)
    created = await repl.create_replication_slot(name, plugin="pgoutput")
    assert created.slot_name == name and created.output_plugin == "pgoutput"
    assert isinstance(created.consistent_point, LSN)
    assert created.snapshot_name is None or isinstance(created.snapshot_name, str)
    row = await conn.fetchrow(
        "SELECT plugin, slot_type, temporary FROM pg_replication_slots WHERE slot_name = $1",
        name)
    assert tuple(row) == ("pgoutput", "logical", False)
    with pytest.raises(pgwire.DuplicateObjectError):
        await repl.create_replication_slot(name, plugin="pgoutput")
    await repl.drop_replication_slot(name)
    assert await conn.fetchval(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", name) == 0
    with pytest.raises(pgwire.UndefinedObjectError):
        await repl.drop_replication_slot(name)

    physical = await make_conn(replication="true")
    name2 = _slot()
    slots.append(name2)
    made = await physical.create_replication_slot(name2, reserve_wal=True)
    assert made.output_plugin is None
    if physical.get_server_version().major >= 15:
        info = await physical.read_replication_slot(name2)
        assert info.slot_type == "physical" and isinstance(info.restart_lsn, LSN)
        missing = await physical.read_replication_slot("no_such_slot")
        assert missing == (None, None, None)
    await physical.drop_replication_slot(name2)


async def test_temporary_slot_and_snapshot_options(repl: Any, conn: Any) -> None:
    name = _slot()
    made = await repl.create_replication_slot(name, plugin="test_decoding", temporary=True,
                                              snapshot="nothing")
    assert made.snapshot_name is None
    assert await conn.fetchval(
        "SELECT temporary FROM pg_replication_slots WHERE slot_name = $1", name) is True
    exported = await repl.create_replication_slot(_slot(), plugin="test_decoding",
                                                  temporary=True, snapshot="export")
    assert exported.snapshot_name  # usable with SET TRANSACTION SNAPSHOT meanwhile
    await repl.close()
    assert await _until(lambda: _no_slot(conn, name))


async def _no_slot(conn: Any, name: str) -> bool:
    return await conn.fetchval(
        "SELECT count(*) FROM pg_replication_slots WHERE slot_name = $1", name) == 0


@pytest.mark.parametrize("kwargs, message", [
    ({"slot_name": "Bad-Name", "plugin": "pgoutput"}, "invalid replication slot name"),
    ({"slot_name": "ok", "plugin": "pgoutput", "snapshot": "later"}, "snapshot must be"),
    ({"slot_name": "ok", "reserve_wal": True, "plugin": "pgoutput"}, "reserve_wal applies"),
    ({"slot_name": "ok", "two_phase": True}, "apply to logical slots"),
])
async def test_bad_slot_arguments_are_refused_before_sending(repl: Any, kwargs: dict[str, Any],
                                                            message: str) -> None:
    with pytest.raises(pgwire.InterfaceError, match=message):
        await repl.create_replication_slot(**kwargs)
    assert await repl.fetchval("SELECT 1") == 1


async def test_extended_protocol_is_refused_on_replication_connections(repl: Any) -> None:
    with pytest.raises(pgwire.InterfaceError, match="extended query protocol"):
        await repl.fetch("SELECT $1::int", 1)
    with pytest.raises(pgwire.InterfaceError, match="extended query protocol"):
        await repl.prepare("SELECT 1")
    with pytest.raises(pgwire.InterfaceError, match="extended query protocol"):
        await repl.executemany("SELECT $1::int", [(1,)])
    # Without arguments the simple protocol serves: rows decoded as usual.
    rows = await repl.fetch("SELECT 1 AS a, 'x'::text AS b, now() > '2000-01-01' AS c")
    assert [tuple(r) for r in rows] == [(1, "x", True)]
    assert await repl.fetchval("SELECT '{1,2}'::int[]") == [1, 2]
    assert await repl.execute("SELECT 1") == "SELECT 1"


async def test_commands_need_a_replication_connection(conn: Any) -> None:
    with pytest.raises(pgwire.InterfaceError, match="needs a replication connection"):
        await conn.identify_system()
    with pytest.raises(pgwire.InterfaceError, match="needs a replication connection"):
        conn.logical_replication("s", ["p"])
    assert await conn.fetchval("SELECT 1") == 1


async def test_physical_connection_takes_no_sql(make_conn: Any) -> None:
    physical = await make_conn(replication="true")
    with pytest.raises(pgwire.PostgresError):
        await physical.execute("SELECT 1")
    assert (await physical.identify_system()).timeline >= 1  # still usable
    with pytest.raises(pgwire.InterfaceError, match="replication='database'"):
        physical.start_replication("s")


# ------------------------------------------------------------------ raw logical streams


async def _collect_until_commit(stream: Any, commits: int = 1) -> list[XLogData]:
    got = []
    async for msg in stream:
        got.append(msg)
        if msg.payload.startswith(b"COMMIT"):
            commits -= 1
            if not commits:
                break
    return got


async def test_test_decoding_stream_confirm_and_stop(repl: Any, conn: Any,
                                                     slots: list[str]) -> None:
    table = await _new_table(conn)
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    before = await _slot_position(conn, name)
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a'), (2, 'b')")
    stream = repl.start_replication(name, options=OPTIONS, status_interval=0.5)
    got = await _collect_until_commit(stream)
    assert [m.payload for m in got] == [
        b"BEGIN",
        f"table public.{table}: INSERT: a[integer]:1 b[text]:'a'".encode(),
        f"table public.{table}: INSERT: a[integer]:2 b[text]:'b'".encode(),
        b"COMMIT",
    ]
    assert all(isinstance(m.data_start, LSN) and m.send_time.year >= 2024 for m in got)
    # Nothing confirmed: the slot stays before the transaction, however long
    # we wait (a keepalive from before its data may have moved it that far).
    await asyncio.sleep(1.5)
    position = await _slot_position(conn, name)
    assert before <= position < got[-1].data_start
    # While streaming, the connection takes nothing else.
    with pytest.raises(pgwire.InterfaceError, match="streaming replication"):
        await repl.execute("SELECT 1")
    got[-1].confirm()
    assert stream.confirmed_lsn == got[-1].data_start
    await stream.send_feedback()
    assert await _until(lambda: _at(conn, name, got[-1].data_start))
    await stream.stop()
    assert await repl.fetchval("SELECT 2") == 2  # the connection takes commands again
    assert await _slot_position(conn, name) == got[-1].data_start


async def _at(conn: Any, slot: str, lsn: LSN) -> bool:
    return await _slot_position(conn, slot) == lsn


async def test_restart_replays_nothing_confirmed_and_loses_nothing(
        repl: Any, make_conn: Any, conn: Any, slots: list[str]) -> None:
    table = await _new_table(conn)
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    for i in range(1, 6):
        await conn.execute(f"INSERT INTO {table} VALUES ({i}, 'v{i}')")
    async with repl.start_replication(name, options=OPTIONS) as stream:
        first = await _collect_until_commit(stream, 2)  # transactions 1 and 2
        first[-1].confirm()
        await _collect_until_commit(stream, 1)  # 3: received, not confirmed
    # A new connection resumes from the slot: transaction 3 again, then 4 and 5.
    again = await make_conn(replication="database")
    async with again.start_replication(name, options=OPTIONS) as stream:
        rest = await _collect_until_commit(stream, 3)
    inserted = [m.payload.split(b"a[integer]:")[1].split(b" ")[0] for m in rest
                if b"INSERT" in m.payload]
    assert inserted == [b"3", b"4", b"5"]


async def test_killed_stream_raises_and_resumes(repl: Any, make_conn: Any, conn: Any,
                                                slots: list[str]) -> None:
    table = await _new_table(conn)
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    await conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    stream = repl.start_replication(name, options=OPTIONS)
    got = await _collect_until_commit(stream)
    got[-1].confirm()
    await stream.send_feedback()
    assert await _until(lambda: _at(conn, name, got[-1].data_start))
    await conn.execute(
        "SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
        "WHERE slot_name = $1", name)
    started = time.monotonic()
    with pytest.raises((pgwire.ConnectionDoesNotExistError, pgwire.PostgresError,
                        pgwire.InterfaceError)):
        async for _ in stream:
            pass
    assert time.monotonic() - started < 10
    assert repl.is_closed()
    assert await _until(lambda: _inactive(conn, name))
    again = await make_conn(replication="database")
    async with again.start_replication(name, options=OPTIONS) as resumed:
        rest = await _collect_until_commit(resumed)
    assert any(b"a[integer]:2" in m.payload for m in rest)
    assert not any(b"a[integer]:1" in m.payload for m in rest)


async def _inactive(conn: Any, slot: str) -> bool:
    return await conn.fetchval(
        "SELECT NOT active FROM pg_replication_slots WHERE slot_name = $1", slot) is True


async def test_refused_start_leaves_the_connection_usable(repl: Any) -> None:
    with pytest.raises(pgwire.UndefinedObjectError):
        async for _ in repl.start_replication("no_such_slot"):
            pass
    assert await repl.fetchval("SELECT 3") == 3


async def test_confirming_beyond_the_stream_is_refused(repl: Any, conn: Any,
                                                       slots: list[str]) -> None:
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    table = await _new_table(conn)
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    async with repl.start_replication(name, options=OPTIONS) as stream:
        got = await _collect_until_commit(stream)
        with pytest.raises(pgwire.InterfaceError, match="has not reached it"):
            stream.confirm(LSN(got[-1].data_start + 10**9))
        with pytest.raises(pgwire.InterfaceError):
            stream.confirm("not an lsn")
        stream.confirm(got[-1].data_start)
        stream.confirm(got[0].data_start)  # backwards: ignored
        assert stream.confirmed_lsn == got[-1].data_start


# ------------------------------------------------------------------ feedback


async def test_slow_consumer_is_kept_alive(make_conn: Any, conn: Any,
                                           slots: list[str]) -> None:
    """wal_sender_timeout of 2 s, a consumer that spends 5 s on a message:
    the status updates sent meanwhile keep the stream alive."""
    repl = await make_conn(replication="database",
                           server_settings={"wal_sender_timeout": "2s"})
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    table = await _new_table(conn)
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    stream = repl.start_replication(name, options=OPTIONS, status_interval=0.5)
    async for msg in stream:
        if msg.payload.startswith(b"BEGIN"):
            await asyncio.sleep(5)  # the consumer's own slow work
        if msg.payload.startswith(b"COMMIT"):
            break
    await conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    rest = await _collect_until_commit(stream)
    assert any(b"a[integer]:2" in m.payload for m in rest)
    await stream.stop()


async def test_without_status_updates_the_server_drops_a_slow_consumer(
        make_conn: Any, conn: Any, slots: list[str]) -> None:
    """The control for the test above: a status interval longer than
    wal_sender_timeout and a consumer asleep, and the server ends the stream."""
    repl = await make_conn(replication="database",
                           server_settings={"wal_sender_timeout": "1s"})
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    table = await _new_table(conn)
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    stream = repl.start_replication(name, options=OPTIONS, status_interval=60)
    with pytest.raises((pgwire.ConnectionDoesNotExistError, pgwire.PostgresError,
                        pgwire.InterfaceError)):
        async for msg in stream:
            if msg.payload.startswith(b"BEGIN"):
                await asyncio.sleep(4)
    assert await _until(lambda: _inactive(conn, name))


async def test_idle_stream_advances_only_when_everything_is_confirmed(
        repl: Any, conn: Any, slots: list[str]) -> None:
    """Once everything handed out is confirmed, keepalives move the slot to the
    server's position; an unconfirmed message holds it."""
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    table = await _new_table(conn)
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    stream = repl.start_replication(name, options=OPTIONS,
                                    status_interval=0.3)
    got = await _collect_until_commit(stream)
    await asyncio.sleep(1)
    # The COMMIT is not confirmed: the slot stays before it (a keepalive
    # sent while the transaction was being decoded may have moved it up to
    # there, which replays the transaction on a restart: nothing lost).
    assert await _slot_position(conn, name) < got[-1].data_start
    got[-1].confirm()
    # WAL that produces no message (an empty transaction), and a keepalive
    # asked for after it: handed out and confirmed is everything before it.
    await conn.execute("SELECT txid_current()")
    await stream.send_feedback(reply_requested=True)
    await asyncio.sleep(0.5)
    await conn.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    async for msg in stream:  # the keepalive is read on the way to this BEGIN
        assert msg.payload.startswith(b"BEGIN")
        break
    await stream.send_feedback()
    assert stream.confirmed_lsn > got[-1].data_start
    assert await _until(lambda: _beyond(conn, name, got[-1].data_start))
    await stream.stop()


async def _beyond(conn: Any, slot: str, lsn: LSN) -> bool:
    return await _slot_position(conn, slot) > lsn


# ------------------------------------------------------------------ physical streams


async def test_physical_stream_delivers_contiguous_wal(make_conn: Any, conn: Any,
                                                       slots: list[str]) -> None:
    physical = await make_conn(replication="true")
    name = _slot()
    slots.append(name)
    await physical.create_replication_slot(name, reserve_wal=True)
    start = (await physical.identify_system()).xlogpos
    table = await _new_table(conn)
    await conn.execute(f"INSERT INTO {table} SELECT g, repeat('x', 100) "
                       "FROM generate_series(1, 2000) g")
    target = await conn.fetchval("SELECT pg_current_wal_insert_lsn()")
    stream = physical.physical_replication(name, start_lsn=start, status_interval=0.5)
    position = None
    total = 0
    async for msg in stream:
        assert isinstance(msg, XLogData)
        if position is not None:
            assert msg.data_start == position  # no gap, no overlap
        position = msg.data_end
        total += len(msg.payload)
        if position >= target:
            msg.confirm()
            break
    assert total >= target - start
    await stream.send_feedback()

    async def flushed() -> bool:
        row = await conn.fetchval(
            "SELECT restart_lsn FROM pg_replication_slots WHERE slot_name = $1", name)
        return row is not None and row >= target

    assert await _until(flushed)
    await stream.stop()
    assert (await physical.identify_system()).timeline >= 1


async def test_stream_repr_and_properties(repl: Any, slots: list[str],
                                          cluster: TemporaryCluster) -> None:
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    stream = repl.start_replication(name, status_interval=0.2)
    assert "new" in repr(stream)
    async with stream:
        assert "streaming" in repr(stream)
        await asyncio.sleep(0.5)
        await stream.send_feedback(reply_requested=True)
    assert "done" in repr(stream)
    assert [m async for m in stream] == []  # an ended stream is an exhausted iterator
    with pytest.raises(pgwire.InterfaceError, match="already run"):
        async with stream:
            pass
    assert await repl.fetchval("SELECT 1") == 1


# ------------------------------------------------------------------ timelines


@pytest.fixture(scope="module")
def promoted() -> Any:
    """A standby promoted after some writes: a server on timeline 2."""
    primary = TemporaryCluster(ssl=False)
    primary.start()
    try:
        standby = primary.start_standby()
        primary.psql("CREATE TABLE tl (a int); INSERT INTO tl SELECT generate_series(1, 1000)",
                     database=primary.database)
        deadline = time.monotonic() + 30
        target = primary.psql("SELECT pg_current_wal_insert_lsn()", database=primary.database)
        while time.monotonic() < deadline and standby.psql(
                f"SELECT pg_last_wal_replay_lsn() >= '{target.strip()}'",
                database=standby.database).strip() != "t":
            time.sleep(0.1)
        standby.promote()
        yield standby
    finally:
        primary.stop()


async def test_timeline_history_and_the_end_of_a_timeline(api: Any, promoted: Any) -> None:
    physical = await api.connect(**promoted.connect_kwargs(), ssl="disable", replication="true")
    try:
        info = await physical.identify_system()
        assert info.timeline == 2
        history = await physical.timeline_history(2)
        assert history.filename == "00000002.history"
        parent, switch_text, _ = history.content.decode().split("\t", 2)
        assert parent == "1"
        switch = LSN(switch_text)
        with pytest.raises(pgwire.PostgresError):
            await physical.timeline_history(7)
        # Streaming timeline 1 from its last segment: the server sends WAL up
        # to the switch point, ends the stream and names the next timeline.
        start = LSN(switch - switch % (16 * 1024 * 1024))
        stream = physical.physical_replication(start_lsn=start, timeline=1)
        chunks = [m async for m in stream]
        assert chunks and chunks[0].data_start == start
        assert chunks[-1].data_end == switch
        assert sum(len(m.payload) for m in chunks) == switch - start
        assert stream.next_timeline == (2, switch)
        assert stream.is_done()
        assert (await physical.identify_system()).timeline == 2  # usable again
    finally:
        await physical.close()


# ------------------------------------------------------------------ review findings


async def test_slot_names_starting_with_a_digit(repl: Any, conn: Any, slots: list[str]) -> None:
    name = f"9_{secrets.token_hex(3)}"
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    table = await _new_table(conn)
    await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    async with repl.start_replication(name, options=OPTIONS) as stream:
        got = await _collect_until_commit(stream)
    assert got[-1].payload.startswith(b"COMMIT")
    await repl.drop_replication_slot(name)


async def test_get_with_a_timeout_returns_none_and_the_stream_goes_on(
        repl: Any, conn: Any, slots: list[str]) -> None:
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    table = await _new_table(conn)
    async with repl.start_replication(name, options=OPTIONS, status_interval=0.2) as stream:
        started = time.monotonic()
        assert await stream.get(timeout=0.5) is None
        assert 0.4 < time.monotonic() - started < 10
        await conn.execute(f"INSERT INTO {table} VALUES (1, 'a')")
        first = await stream.get(timeout=10)
        assert first is not None and first.payload == b"BEGIN"
        with pytest.raises(ValueError, match="timeout"):
            await stream.get(timeout="soon")


async def test_wait_for_notifications_is_refused_while_streaming(repl: Any,
                                                                 slots: list[str]) -> None:
    name = _slot()
    slots.append(name)
    await repl.create_replication_slot(name, plugin="test_decoding")
    async with repl.start_replication(name, options=OPTIONS):
        with pytest.raises(pgwire.InterfaceError, match="streaming replication"):
            await repl.process_notifications(0.1)
