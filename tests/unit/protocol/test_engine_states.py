"""Server-less tests of the engine's named states, streaming operations and protocol versions.

The CopyBoth test replays bytes a real PostgreSQL 15 sent during logical
replication (``data/pgoutput_stream.json``, recorded by
``scripts/record_replication_stream.py``).
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest

from pgwire.exceptions import InterfaceError, ProtocolError
from pgwire.protocol import (
    CopyBoth,
    CopyIn,
    CopyOut,
    Engine,
    EngineState,
    Extended,
    SimpleQuery,
    Startup,
    TransactionStatus,
    wire,
)
from pgwire.protocol.engine import TRANSITIONS

RECORDING = json.loads(
    (Path(__file__).parent / "data" / "pgoutput_stream.json").read_text(encoding="utf-8")
)


def msg(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def auth(code: int, extra: bytes = b"") -> bytes:
    return msg(b"R", struct.pack("!i", code) + extra)


def ready(status: bytes = b"I") -> bytes:
    return msg(b"Z", status)


def key_data(pid: int, key: bytes) -> bytes:
    return msg(b"K", struct.pack("!i", pid) + key)


def started_engine() -> Engine:
    engine = Engine()
    engine.send(Startup({"user": "u"}, None))
    engine.data_to_send()
    engine.receive_data(auth(0) + key_data(7, b"\x00\x00\x00\x09") + ready())
    assert engine.state is EngineState.READY
    return engine


# -- states and the transition table ---------------------------------------------------------


def test_every_state_has_a_row_and_closed_takes_nothing() -> None:
    assert set(TRANSITIONS) == set(EngineState)
    assert TRANSITIONS[EngineState.CLOSED] == {}
    # Each target is a state of the table: no transition leads nowhere.
    assert all(target in TRANSITIONS for row in TRANSITIONS.values() for target in row.values())


def test_states_through_startup() -> None:
    engine = Engine()
    assert engine.state is EngineState.STARTUP
    engine.send(Startup({"user": "u"}, "pw"))
    engine.receive_data(auth(3))  # cleartext password requested
    assert engine.state is EngineState.STARTUP
    engine.receive_data(auth(0))
    assert engine.state is EngineState.AUTHENTICATED
    with pytest.raises(InterfaceError, match="startup has not finished"):
        engine.send(SimpleQuery("SELECT 1"))
    engine.receive_data(msg(b"S", b"TimeZone\x00UTC\x00") + key_data(1, b"abcd"))
    assert engine.state is EngineState.AUTHENTICATED
    engine.receive_data(ready())
    assert engine.state is EngineState.READY
    assert engine.transaction_status is TransactionStatus.IDLE


def test_busy_until_the_last_pipelined_operation_completes() -> None:
    engine = started_engine()
    first, second = SimpleQuery("SELECT 1"), SimpleQuery("SELECT 2")
    engine.send(first)
    assert engine.state is EngineState.BUSY
    engine.send(second)
    assert engine.receive_data(msg(b"C", b"SELECT 1\x00") + ready(b"T")) == [first]
    assert engine.state is EngineState.BUSY and engine.pending == (second,)
    assert engine.receive_data(msg(b"C", b"SELECT 1\x00") + ready()) == [second]
    assert engine.state is EngineState.READY and not engine.busy


def test_copy_in_state() -> None:
    engine = started_engine()
    op = CopyIn("COPY t FROM STDIN")
    engine.send(op)
    engine.receive_data(msg(b"G", b"\x00\x00\x01\x00\x00"))
    assert engine.state is EngineState.COPY_IN and op.progressed()
    assert op.end() == wire.COPY_DONE_MESSAGE
    engine.receive_data(msg(b"C", b"COPY 3\x00"))
    assert engine.state is EngineState.BUSY
    assert engine.receive_data(ready()) == [op]
    assert op.status == "COPY 3" and engine.state is EngineState.READY


def test_copy_out_streams_data_for_the_flow() -> None:
    engine = started_engine()
    op = CopyOut("COPY t TO STDOUT")
    engine.send(op)
    engine.receive_data(msg(b"H", b"\x00\x00\x00") + msg(b"d", b"1\n") + msg(b"d", b"22\n"))
    assert engine.state is EngineState.COPY_OUT
    assert op.progressed() and op.buffered == 5
    assert op.take() == [b"1\n", b"22\n"]
    assert not op.progressed() and op.buffered == 0 and op.take() == []
    engine.receive_data(msg(b"c") + msg(b"C", b"COPY 2\x00") + ready())
    assert op.done and op.status == "COPY 2" and engine.state is EngineState.READY


@pytest.mark.parametrize(
    ("operation", "stream"),
    [
        (CopyIn("COPY t FROM STDIN"), msg(b"G", b"\x00\x00\x00") + msg(b"D", b"\x00\x00")),
        (CopyOut("COPY t TO STDOUT"), msg(b"H", b"\x00\x00\x00") + msg(b"T", b"\x00\x00")),
        (SimpleQuery("SELECT 1"), msg(b"c")),
        (Extended(), msg(b"K", b"\x00" * 8)),
    ],
    ids=["row in copy-in", "description in copy-out", "copy-done while busy", "key when busy"],
)
def test_a_message_out_of_its_state_closes(operation: object, stream: bytes) -> None:
    engine = started_engine()
    engine.send(operation)  # type: ignore[arg-type]
    done = engine.receive_data(stream)
    assert done == [operation]
    assert isinstance(operation.error, ProtocolError)  # type: ignore[attr-defined]
    assert engine.state is EngineState.CLOSED


# -- CopyBoth: a recorded logical replication stream -------------------------------------------


def _pgoutput_messages(chunks: list[bytes]) -> list[bytes]:
    """The pgoutput messages in XLogData chunks ('w', start, end, time, message)."""
    return [chunk[25:] for chunk in chunks if chunk[:1] == b"w"]


@pytest.mark.parametrize("split", [0, 1, 7], ids=["as recorded", "byte at a time", "7 bytes"])
def test_a_recorded_replication_stream(split: int) -> None:
    engine = started_engine()
    op = CopyBoth(RECORDING["query"])
    engine.send(op)
    assert engine.data_to_send() == wire.query(RECORDING["query"])
    stream = [bytes.fromhex(chunk) for chunk in RECORDING["stream"]]
    if split:
        joined = b"".join(stream)
        stream = [joined[i : i + split] for i in range(0, len(joined), split)]
    received: list[bytes] = []
    for chunk in stream:
        assert engine.receive_data(chunk) == []
        received += op.take()
    assert engine.state is EngineState.COPY_BOTH and op.streaming and not op.done
    assert {chunk[:1] for chunk in received} == {b"k", b"w"}  # keepalives and XLogData
    messages = _pgoutput_messages(received)
    kinds = [m[:1] for m in messages]
    # Three transactions: BEGIN, the table's RELATION, its changes, COMMIT.
    assert kinds.count(b"B") == kinds.count(b"C") == 3
    assert b"R" in kinds and {b"I", b"U", b"D"} <= set(kinds)
    relation = messages[kinds.index(b"R")]
    assert b"recorded\x00" in relation
    assert any(b"one" in m for m in messages if m[:1] == b"I")
    # We stop: CopyDone out, the server's CopyDone, a last keepalive it sent
    # after that (dropped), then the command's completion.
    assert op.end() == wire.COPY_DONE_MESSAGE and op.client_done
    completed = []
    for chunk in RECORDING["after_copy_done"]:
        completed += engine.receive_data(bytes.fromhex(chunk))
    assert completed == [op] and op.error is None
    assert op.server_done
    assert [r.status for r in op.results] == ["COPY 0", "START_REPLICATION"]
    assert engine.state is EngineState.READY


def test_copy_data_before_copy_both_response_closes() -> None:
    engine = started_engine()
    op = CopyBoth("START_REPLICATION 0/0")
    engine.send(op)
    engine.receive_data(msg(b"W", b"\x00\x00\x00") + msg(b"c") + msg(b"c"))
    assert isinstance(op.error, ProtocolError) and engine.state is EngineState.CLOSED


def test_a_query_answered_with_copy_both_is_ended_cleanly() -> None:
    engine = started_engine()
    op = SimpleQuery("START_REPLICATION SLOT s LOGICAL 0/0")
    engine.send(op)
    engine.data_to_send()
    engine.receive_data(msg(b"W", b"\x00\x00\x00") + msg(b"d", b"k" + b"\x00" * 17))
    assert engine.data_to_send() == wire.COPY_DONE_MESSAGE
    done = engine.receive_data(msg(b"c") + msg(b"C", b"START_REPLICATION\x00") + ready())
    assert done == [op]
    assert isinstance(op.error, InterfaceError) and "replication" in str(op.error)
    assert engine.state is EngineState.READY


# -- protocol versions --------------------------------------------------------------------------


def test_protocol_3_2_is_asked_for_and_its_long_cancel_key_kept() -> None:
    engine = Engine()
    engine.send(Startup({"user": "u"}, None, wire.PROTOCOL_3_2))
    startup = engine.data_to_send()
    assert struct.unpack("!ii", startup[:8])[1] == (3 << 16) | 2
    key = bytes(range(32))
    engine.receive_data(auth(0) + key_data(42, key) + ready())
    assert engine.protocol_version == wire.PROTOCOL_3_2
    assert (engine.backend_pid, engine.backend_secret) == (42, key)
    assert wire.cancel_request(42, key) == struct.pack("!iii", 44, 80877102, 42) + key


def test_a_server_without_3_2_negotiates_down_to_3_0() -> None:
    engine = Engine()
    engine.send(Startup({"user": "u", "_pq_.x": "1"}, None, wire.PROTOCOL_3_2))
    engine.receive_data(msg(b"v", struct.pack("!ii", 0, 1) + b"_pq_.x\x00"))
    assert engine.protocol_version == wire.PROTOCOL_3_0
    assert engine.unrecognized_options == ["_pq_.x"]
    engine.receive_data(auth(0) + key_data(1, b"\x00\x00\x00\x05") + ready())
    assert engine.state is EngineState.READY and engine.backend_secret == b"\x00\x00\x00\x05"


@pytest.mark.parametrize(
    ("version", "reply"),
    [
        (wire.PROTOCOL_3_2, msg(b"v", struct.pack("!ii", 2, 0))),  # offers what was asked
        (wire.PROTOCOL_3_0, msg(b"v", struct.pack("!ii", 0, 0))),  # nothing to negotiate
        (wire.PROTOCOL_3_0, auth(0) + key_data(1, b"\x00" * 8)),  # a 3.2 key in 3.0
        (wire.PROTOCOL_3_2, auth(0) + key_data(1, b"\x00" * 300)),  # longer than 256 bytes
        (wire.PROTOCOL_3_2, msg(b"v", struct.pack("!ii", 0, -1))),
    ],
    ids=["not older", "when 3.0 was asked", "long key in 3.0", "absurd key", "negative count"],
)
def test_bad_version_negotiation_closes(version: int, reply: bytes) -> None:
    engine = Engine()
    op = Startup({"user": "u"}, None, version)
    engine.send(op)
    engine.receive_data(reply)
    assert isinstance(op.error, ProtocolError) and engine.state is EngineState.CLOSED
