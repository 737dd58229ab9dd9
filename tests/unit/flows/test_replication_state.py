"""Server-less tests of the replication stream's sans-I/O side: the feedback
policy of ``StreamState``, confirm positions, the command builders."""

from __future__ import annotations

import struct

import pytest

from pgwire.exceptions import InterfaceError, ProtocolError
from pgwire.flows import replication as fr
from pgwire.protocol import replication as rp
from pgwire.types import LSN
from pgwire.types import pgoutput as po


def xlog(start: int, payload: bytes, wal_end: int | None = None) -> bytes:
    return struct.pack("!cQQq", b"w", start, start if wal_end is None else wal_end, 0) + payload


def keepalive(wal_end: int, reply: bool = False) -> bytes:
    return struct.pack("!cQqB", b"k", wal_end, 0, 1 if reply else 0)


def status_of(body: bytes) -> tuple[int, int, int, bool]:
    kind, written, flushed, applied, _, reply = struct.unpack("!cQQQqB", body)
    assert kind == b"r"
    return written, flushed, applied, bool(reply)


def raw_state(logical: bool = True, advance: bool = True) -> fr.StreamState:
    return fr.StreamState(None, logical=logical, status_interval=10.0,
                          advance_when_idle=advance)


def test_nothing_confirmed_reports_nothing() -> None:
    state = raw_state()
    state.feed([xlog(100, b"BEGIN"), xlog(200, b"COMMIT")])
    assert [m.payload for m in (state.next_message(), state.next_message())] == [
        b"BEGIN", b"COMMIT"]
    assert status_of(state.status_message(0.0)) == (0, 0, 0, False)


def test_confirmed_is_reported_as_written_flushed_and_applied() -> None:
    state = raw_state()
    state.feed([xlog(100, b"a"), xlog(200, b"b")])
    state.next_message()
    state.next_message()
    state.confirm(LSN(100))
    assert status_of(state.status_message(0.0)) == (100, 100, 100, False)
    state.confirm(50)  # backwards: ignored
    assert state.confirmed == 100


def test_confirming_past_what_arrived_is_refused() -> None:
    state = raw_state(logical=False)
    state.feed([xlog(1000, b"abc", wal_end=10**6)])
    state.next_message()
    with pytest.raises(InterfaceError, match="has not reached"):
        state.confirm(state.server_wal_end)  # the server has it; we do not
    state.confirm(1003)  # the end of what arrived
    with pytest.raises(InterfaceError):
        state.confirm("nonsense")


def test_idle_keepalive_advances_only_when_everything_is_confirmed() -> None:
    state = raw_state()
    state.feed([xlog(100, b"COMMIT")])
    message = state.next_message()
    state.feed([keepalive(500)])
    assert state.confirmed == 0  # the COMMIT is not confirmed
    state.confirm(message.data_start)
    state.feed([keepalive(600)])
    assert state.confirmed == 600
    # A keepalive behind buffered messages moves nothing.
    state.feed([xlog(700, b"BEGIN"), keepalive(900)])
    assert state.confirmed == 600
    # Without advance_when_idle, only confirmations count.
    quiet = raw_state(advance=False)
    quiet.feed([keepalive(500)])
    assert quiet.confirmed == 0


def test_physical_streams_never_take_keepalive_positions() -> None:
    state = raw_state(logical=False, advance=True)
    state.feed([keepalive(5000)])
    assert state.confirmed == 0 and state.received == 0


def test_reply_requested_makes_a_status_due() -> None:
    state = raw_state()
    state.status_message(0.0)
    assert not state.status_due(1.0)
    state.feed([keepalive(10, reply=True)])
    assert state.status_due(1.0) and state.seconds_until_status(1.0) == 0
    state.status_message(1.0)
    assert not state.status_due(2.0) and state.seconds_until_status(2.0) == pytest.approx(9.0)
    assert state.status_due(11.0)


def test_an_interrupted_feed_loses_nothing() -> None:
    calls = {"n": 0}

    def decode(body: bytes, offset: int) -> object:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return po.StreamStop()

    state = fr.StreamState(decode, logical=True, status_interval=10.0,
                           advance_when_idle=True)
    with pytest.raises(KeyboardInterrupt):
        state.feed([xlog(1, b"E"), xlog(2, b"E"), xlog(3, b"E")])
    assert len(state.pending) == 1 and len(state.incoming) == 2
    state.feed([])
    assert [m.lsn for m in state.pending] == [1, 2, 3]


def test_malformed_stream_messages() -> None:
    state = raw_state()
    with pytest.raises(ProtocolError, match="unknown replication stream message"):
        state.feed([b"z123"])
    with pytest.raises(ProtocolError, match="shorter than its header"):
        raw_state().feed([b"w\x00\x01"])
    with pytest.raises(ProtocolError, match="keepalive"):
        raw_state().feed([b"k\x00"])
    with pytest.raises(ProtocolError, match="empty"):
        raw_state().feed([b""])


def test_positions_confirmed_by_each_message() -> None:
    lsn = LSN(100)
    commit = po.Commit.__new__(po.Commit)
    begin_prepare = po.BeginPrepare.__new__(po.BeginPrepare)
    rollback = po.RollbackPrepared.__new__(po.RollbackPrepared)
    for message in (commit, begin_prepare, rollback):
        message.lsn = lsn
    commit.end_lsn = LSN(300)
    begin_prepare.end_lsn = LSN(900)  # the end of the transaction it opens
    rollback.rollback_end_lsn = LSN(400)
    assert fr.message_position(commit, True) == 300
    assert fr.message_position(begin_prepare, True) == 100
    assert fr.message_position(rollback, True) == 400


def test_data_rows_and_next_timeline() -> None:
    body = struct.pack("!h", 2) + struct.pack("!i", 1) + b"2" + struct.pack("!i", 9) + \
        b"0/3011048"
    assert rp.parse_data_row(body) == [b"2", b"0/3011048"]
    assert rp.parse_data_row(struct.pack("!hi", 1, -1)) == [None]
    for bad in (body[:-1], body + b"x", b"\x00"):
        with pytest.raises(ProtocolError):
            rp.parse_data_row(bad)


@pytest.mark.parametrize("major, kwargs, sql", [
    (15, {"plugin": "pgoutput"}, 'CREATE_REPLICATION_SLOT "s" LOGICAL "pgoutput"'),
    (15, {"plugin": "pgoutput", "temporary": True, "snapshot": "export", "two_phase": True},
     'CREATE_REPLICATION_SLOT "s" TEMPORARY LOGICAL "pgoutput" '
     "(SNAPSHOT 'export', TWO_PHASE true)"),
    (14, {"plugin": "pgoutput", "snapshot": "nothing"},
     'CREATE_REPLICATION_SLOT "s" LOGICAL "pgoutput" NOEXPORT_SNAPSHOT'),
    (14, {"reserve_wal": True}, 'CREATE_REPLICATION_SLOT "s" PHYSICAL RESERVE_WAL'),
    (16, {"reserve_wal": True}, 'CREATE_REPLICATION_SLOT "s" PHYSICAL (RESERVE_WAL true)'),
    (17, {"plugin": "pgoutput", "failover": True},
     'CREATE_REPLICATION_SLOT "s" LOGICAL "pgoutput" (FAILOVER true)'),
])
def test_create_slot_syntax_per_version(major: int, kwargs: dict[str, object],
                                        sql: str) -> None:
    full = {"plugin": None, "temporary": False, "two_phase": False, "failover": False,
            "snapshot": None, "reserve_wal": False, **kwargs}
    assert fr.create_slot_sql("s", major=major, **full) == sql  # type: ignore[arg-type]


def test_refusals_before_sending() -> None:
    base = {"plugin": "pgoutput", "temporary": False, "two_phase": False, "snapshot": None,
            "reserve_wal": False}
    with pytest.raises(InterfaceError, match="PostgreSQL 17"):
        fr.create_slot_sql("s", major=16, failover=True, **base)  # type: ignore[arg-type]
    with pytest.raises(InterfaceError, match="invalid replication slot name"):
        fr.check_slot_name('x"; DROP')
    with pytest.raises(InterfaceError, match="needs PostgreSQL 17"):
        fr.alter_slot_sql("s", failover=True, two_phase=None, major=16)
    with pytest.raises(InterfaceError, match="NUL"):
        fr.start_logical_sql("s", LSN(0), {"a": "x\x00"})


def test_quoting() -> None:
    assert fr.quote_sql_literal("a'b\\c") == "E'a''b\\\\c'"
    assert fr.check_slot_name("1abc") == '"1abc"'
    assert fr.start_logical_sql("s", LSN(5), {"include-xids": "0", "flag": None}) == (
        'START_REPLICATION SLOT "s" LOGICAL 0/5 ("include-xids" \'0\', "flag")')
    options = fr.pgoutput_options(['we"ird'], proto_version=4, binary=True, messages=False,
                                  streaming="parallel", two_phase=False, origin="none")
    assert options["publication_names"] == '"we""ird"'
    assert options["streaming"] == "parallel" and options["binary"] is True
