"""Server-less tests of the protocol engine: byte sequences in, bytes and results out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pgwire.exceptions as pgwire_exceptions
from pgwire.exceptions import (
    ConnectionDoesNotExistError,
    InterfaceError,
    InvalidPasswordError,
    PostgresError,
    ProtocolError,
    UndefinedTableError,
)
from pgwire.protocol import (
    Engine,
    EngineState,
    Extended,
    Notification,
    SimpleQuery,
    Startup,
    TransactionStatus,
    wire,
)
from pgwire.protocol.auth import ScramSha256, md5_password, saslprep


def msg(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def auth(code: int, extra: bytes = b"") -> bytes:
    return msg(b"R", struct.pack("!i", code) + extra)


def ready(status: bytes = b"I") -> bytes:
    return msg(b"Z", status)


def param_status(name: str, value: str) -> bytes:
    return msg(b"S", name.encode() + b"\0" + value.encode() + b"\0")


def error(code: str, message: str, severity: str = "ERROR", **extra: str) -> bytes:
    body = b"S" + severity.encode() + b"\0V" + severity.encode() + b"\0C" + code.encode() + b"\0M"
    body += message.encode() + b"\0"
    for key, value in extra.items():
        body += key.encode() + value.encode() + b"\0"
    return msg(b"E", body + b"\0")


def row_description(*columns: tuple[str, int]) -> bytes:
    body = struct.pack("!h", len(columns))
    for name, oid in columns:
        body += name.encode() + b"\0" + struct.pack("!ihihih", 0, 0, oid, 4, -1, 0)
    return msg(b"T", body)


def data_row(*values: bytes | None) -> bytes:
    body = struct.pack("!h", len(values))
    for value in values:
        if value is None:
            body += struct.pack("!i", -1)
        else:
            body += struct.pack("!i", len(value)) + value
    return msg(b"D", body)


def command_complete(tag: str) -> bytes:
    return msg(b"C", tag.encode() + b"\0")


def started_engine() -> Engine:
    engine = Engine()
    op = Startup({"user": "alice", "database": "db"}, None)
    engine.send(op)
    engine.data_to_send()
    done = engine.receive_data(
        auth(0) + param_status("server_version", "15.4") + msg(b"K", struct.pack("!ii", 42, 7))
        + ready()
    )
    assert done == [op] and op.error is None
    return engine


# -- startup and authentication ------------------------------------------------


def test_startup_message_layout() -> None:
    engine = Engine()
    engine.send(Startup({"user": "alice", "database": "db"}, None))
    data = engine.data_to_send()
    length, version = struct.unpack("!ii", data[:8])
    assert length == len(data)
    assert version == 196608
    assert data[8:] == b"user\0alice\0database\0db\0\0"


def test_trust_startup_records_parameters_and_key() -> None:
    engine = started_engine()
    assert engine.state is EngineState.READY
    assert engine.parameters["server_version"] == "15.4"
    assert (engine.backend_pid, engine.backend_secret) == (42, b"\x00\x00\x00\x07")
    assert engine.transaction_status is TransactionStatus.IDLE


def test_cleartext_password() -> None:
    engine = Engine()
    op = Startup({"user": "u"}, "s3cret")
    engine.send(op)
    engine.data_to_send()
    engine.receive_data(auth(3))
    assert engine.data_to_send() == msg(b"p", b"s3cret\0")
    engine.receive_data(auth(0) + ready())
    assert op.done and op.error is None


def test_md5_password_response() -> None:
    engine = Engine()
    engine.send(Startup({"user": "u"}, "pw"))
    engine.data_to_send()
    engine.receive_data(auth(5, b"abcd"))
    inner = hashlib.md5(b"pwu").hexdigest().encode()
    expected = b"md5" + hashlib.md5(inner + b"abcd").hexdigest().encode()
    assert engine.data_to_send() == msg(b"p", expected + b"\0")
    assert md5_password("u", "pw", b"abcd") == expected


def test_password_required_but_missing_closes() -> None:
    engine = Engine()
    op = Startup({"user": "u"}, None)
    engine.send(op)
    done = engine.receive_data(auth(3))
    assert done == [op]
    assert isinstance(op.error, InterfaceError)
    assert "password" in str(op.error)
    assert engine.state is EngineState.CLOSED


def test_startup_error_is_server_exception() -> None:
    engine = Engine()
    op = Startup({"user": "u"}, "bad")
    engine.send(op)
    engine.receive_data(auth(3))
    done = engine.receive_data(
        error("28P01", 'password authentication failed for user "u"', "FATAL")
    )
    assert done == [op]
    assert isinstance(op.error, InvalidPasswordError)
    assert op.error.sqlstate == "28P01"
    assert engine.state is EngineState.CLOSED


def test_unsupported_auth_method() -> None:
    engine = Engine()
    op = Startup({"user": "u"}, "pw")
    engine.send(op)
    engine.receive_data(auth(7))  # GSSAPI
    assert isinstance(op.error, InterfaceError)
    assert engine.state is EngineState.CLOSED


class FakeScramServer:
    """The server half of SCRAM-SHA-256, written from RFC 5802, for tests."""

    def __init__(self, password: str, salt: bytes = b"saltsalt", iterations: int = 4096) -> None:
        self.salted = hashlib.pbkdf2_hmac("sha256", saslprep(password).encode(), salt, iterations)
        self.salt = salt
        self.iterations = iterations

    def first(self, client_first: bytes) -> bytes:
        assert client_first.startswith(b"n,,")
        self.client_first_bare = client_first[3:].decode()
        client_nonce = dict(p.split("=", 1) for p in self.client_first_bare.split(","))["r"]
        self.nonce = client_nonce + "SERVERNONCE"
        salt = base64.b64encode(self.salt).decode()
        self.server_first = f"r={self.nonce},s={salt},i={self.iterations}"
        return self.server_first.encode()

    def final(self, client_final: bytes, tamper: bool = False) -> bytes:
        text = client_final.decode()
        without_proof, _, proof_part = text.rpartition(",p=")
        auth_message = f"{self.client_first_bare},{self.server_first},{without_proof}".encode()
        client_key = hmac.new(self.salted, b"Client Key", "sha256").digest()
        stored_key = hashlib.sha256(client_key).digest()
        signature = hmac.new(stored_key, auth_message, "sha256").digest()
        proof = base64.b64decode(proof_part)
        recovered = bytes(a ^ b for a, b in zip(proof, signature))
        assert hashlib.sha256(recovered).digest() == stored_key, "client proof is wrong"
        server_key = hmac.new(self.salted, b"Server Key", "sha256").digest()
        server_signature = hmac.new(server_key, auth_message, "sha256").digest()
        if tamper:
            server_signature = bytes(32)
        return b"v=" + base64.b64encode(server_signature)


def _sasl_body(data: bytes) -> tuple[str, bytes]:
    # SASLInitialResponse: 'p' len mechanism\0 int32 len data
    body = data[5:]
    mech, _, rest = body.partition(b"\0")
    (length,) = struct.unpack("!i", rest[:4])
    return mech.decode(), rest[4 : 4 + length]


@pytest.mark.parametrize("tamper", [False, True])
def test_scram_exchange_and_server_signature(tamper: bool) -> None:
    server = FakeScramServer("pässwörd")
    engine = Engine()
    op = Startup({"user": "u"}, "pässwörd")
    engine.send(op)
    engine.data_to_send()
    engine.receive_data(auth(10, b"SCRAM-SHA-256\0\0"))
    mechanism, client_first = _sasl_body(engine.data_to_send())
    assert mechanism == "SCRAM-SHA-256"
    engine.receive_data(auth(11, server.first(client_first)))
    client_final = engine.data_to_send()[5:]
    done = engine.receive_data(auth(12, server.final(client_final, tamper=tamper)))
    if tamper:
        assert done == [op]
        assert isinstance(op.error, InterfaceError)
        assert "signature" in str(op.error)
        assert engine.state is EngineState.CLOSED
    else:
        assert done == []
        engine.receive_data(auth(0) + ready())
        assert op.done and op.error is None


def test_scram_rejects_nonce_not_extending_ours() -> None:
    scram = ScramSha256("pw", nonce="abc")
    with pytest.raises(ProtocolError):
        scram.client_final(b"r=xyz123,s=c2FsdA==,i=4096")


def test_auth_ok_without_scram_final_is_protocol_error() -> None:
    engine = Engine()
    op = Startup({"user": "u"}, "pw")
    engine.send(op)
    engine.receive_data(auth(10, b"SCRAM-SHA-256\0\0"))
    engine.receive_data(auth(0))
    assert isinstance(op.error, ProtocolError)
    assert engine.state is EngineState.CLOSED


def test_operation_before_startup_finishes_is_refused() -> None:
    engine = Engine()
    with pytest.raises(InterfaceError):
        engine.send(SimpleQuery("SELECT 1"))


# -- simple query ----------------------------------------------------------------


def test_simple_query_with_several_statements() -> None:
    engine = started_engine()
    op = SimpleQuery("SELECT 1; SELECT 'a', NULL; UPDATE t SET x = 1")
    engine.send(op)
    assert engine.data_to_send() == msg(b"Q", op.sql.encode() + b"\0")
    done = engine.receive_data(
        row_description(("?column?", 23)) + data_row(b"1") + command_complete("SELECT 1")
        + row_description(("a", 25), ("b", 25)) + data_row(b"a", None)
        + command_complete("SELECT 1") + command_complete("UPDATE 3") + ready()
    )
    assert done == [op] and op.error is None
    assert [r.status for r in op.results] == ["SELECT 1", "SELECT 1", "UPDATE 3"]
    # Without a row decoder, rows are the DataRow bodies, undecoded.
    assert op.results[0].rows == [data_row(b"1")[5:]]
    assert op.results[1].rows == [data_row(b"a", None)[5:]]
    assert op.results[2].row_count == 3


def test_simple_query_error_and_transaction_status() -> None:
    engine = started_engine()
    op = SimpleQuery("SELECT * FROM missing")
    engine.send(op)
    engine.receive_data(
        error("42P01", 'relation "missing" does not exist', P="15") + ready(b"E")
    )
    assert isinstance(op.error, UndefinedTableError)
    assert op.error.position == "15"
    assert engine.transaction_status is TransactionStatus.IN_ERROR


def test_empty_query() -> None:
    engine = started_engine()
    op = SimpleQuery("")
    engine.send(op)
    engine.receive_data(msg(b"I") + ready())
    assert [r.status for r in op.results] == [""]


def test_copy_in_from_simple_query_is_refused_with_copyfail() -> None:
    engine = started_engine()
    op = SimpleQuery("COPY t FROM STDIN")
    engine.send(op)
    engine.data_to_send()
    engine.receive_data(msg(b"G", b"\0\0\0"))
    assert engine.data_to_send().startswith(b"f")
    engine.receive_data(error("57014", "COPY from stdin failed") + ready())
    assert isinstance(op.error, PostgresError)


# -- extended query --------------------------------------------------------------


def test_extended_prepare_and_execute() -> None:
    engine = started_engine()
    op = Extended()
    op.parse("s1", "SELECT $1::int4 AS x")
    op.describe_statement("s1")
    engine.send(op)
    sent = engine.data_to_send()
    assert sent.startswith(b"P") and sent.endswith(wire.SYNC)
    engine.receive_data(
        msg(b"1") + msg(b"t", struct.pack("!hI", 1, 23)) + row_description(("x", 23)) + ready()
    )
    assert op.param_oids == [23]
    assert op.columns is not None and op.columns[0].name == "x"

    run = Extended()
    run.bind_raw(wire.bind("", "s1", [1], [struct.pack("!i", 5)], [1]))
    result = run.execute("", 0, lambda body: struct.unpack("!hii", body)[2])
    engine.send(run)
    engine.receive_data(
        msg(b"2") + data_row(struct.pack("!i", 5)) + command_complete("SELECT 1") + ready()
    )
    assert result.rows == [5] and result.status == "SELECT 1"


def test_extended_portal_suspended() -> None:
    engine = started_engine()
    op = Extended()
    result = op.execute("", 1, lambda body: body)
    engine.send(op)
    engine.receive_data(msg(b"2") + data_row(b"x") + msg(b"s") + ready(b"T"))
    assert result.suspended and len(result.rows) == 1
    assert engine.transaction_status is TransactionStatus.IN_TRANSACTION


def test_decoder_failure_is_reported_after_sync_and_engine_stays_usable() -> None:
    engine = started_engine()
    op = Extended()

    def bad(body: bytes) -> None:
        raise ValueError("cannot decode")

    op.execute("", 0, bad)
    engine.send(op)
    done = engine.receive_data(
        data_row(b"1") + data_row(b"2") + command_complete("SELECT 2") + ready()
    )
    # A codec's exception becomes a DataError naming it, the original as cause.
    assert done == [op] and isinstance(op.error, pgwire_exceptions.DataError)
    assert isinstance(op.error.__cause__, ValueError)
    assert engine.state is EngineState.READY
    follow = SimpleQuery("SELECT 1")
    engine.send(follow)
    engine.receive_data(command_complete("SELECT 0") + ready())
    assert follow.error is None


def test_error_skips_remaining_steps_until_sync() -> None:
    engine = started_engine()
    op = Extended()
    first = op.execute()
    second = op.execute()
    engine.send(op)
    engine.receive_data(error("23505", "duplicate key") + ready())
    assert op.error is not None and first.status is None and second.status is None


# -- asynchronous messages --------------------------------------------------------


def test_notices_notifications_and_parameter_changes_arrive_mid_query() -> None:
    engine = started_engine()
    op = SimpleQuery("SELECT 1")
    engine.send(op)
    notice = b"SNOTICE\0VNOTICE\0C00000\0Mhello\0\0"
    notification = struct.pack("!i", 99) + b"chan\0payload\0"
    engine.receive_data(
        msg(b"N", notice) + msg(b"A", notification) + param_status("TimeZone", "UTC")
        + command_complete("SELECT 0") + ready()
    )
    assert op.done
    assert engine.parameters["TimeZone"] == "UTC"
    kinds = [type(e).__name__ for e in engine.events]
    assert Notification(99, "chan", "payload") in engine.events
    assert len(kinds) == 2


def test_fatal_error_while_idle_closes() -> None:
    engine = started_engine()
    engine.receive_data(
        error("57P01", "terminating connection due to administrator command", "FATAL")
    )
    assert engine.state is EngineState.CLOSED
    with pytest.raises(ConnectionDoesNotExistError):
        engine.send(SimpleQuery("SELECT 1"))


def test_eof_fails_pending_operations() -> None:
    engine = started_engine()
    a, b = SimpleQuery("SELECT 1"), SimpleQuery("SELECT 2")
    engine.send(a)
    engine.send(b)
    done = engine.receive_eof()
    assert done == [a, b]
    assert all(isinstance(op.error, ConnectionDoesNotExistError) for op in done)


def test_fatal_answer_then_eof_gives_its_reason_to_every_pending_operation() -> None:
    # pgbouncer in statement mode answers a BEGIN sent behind another query
    # with one FATAL ErrorResponse, then hangs up: the operations sent after
    # the one the error landed on get the server's reason, not a bare EOF.
    engine = started_engine()
    a, b, c = SimpleQuery("SELECT pg_backend_pid()"), SimpleQuery("BEGIN"), SimpleQuery("SELECT 1")
    for op in (a, b, c):
        engine.send(op)
    engine.receive_data(error(
        "08P01", "transaction blocks not allowed in statement pooling mode", "FATAL"))
    assert not a.done
    done = engine.receive_eof()
    assert done == [a, b, c]
    for op in done:
        assert isinstance(op.error, pgwire_exceptions.ProtocolViolationError)
        assert "statement pooling mode" in str(op.error)
    assert len({id(op.error) for op in done}) == 3  # each raised on its own
    assert engine.close_error is a.error


def test_error_answer_then_eof_is_still_a_lost_connection() -> None:
    # An ERROR (not FATAL) followed by EOF: the server did not say it would
    # hang up, so the others see the connection lost.
    engine = started_engine()
    a, b = SimpleQuery("SELECT 1/0"), SimpleQuery("SELECT 2")
    engine.send(a)
    engine.send(b)
    engine.receive_data(error("22012", "division by zero"))
    engine.receive_eof()
    assert isinstance(a.error, pgwire_exceptions.DivisionByZeroError)
    assert isinstance(b.error, ConnectionDoesNotExistError)


def test_byte_at_a_time_delivery() -> None:
    engine = started_engine()
    op = SimpleQuery("SELECT 1")
    engine.send(op)
    stream = row_description(("x", 23)) + data_row(b"1") + command_complete("SELECT 1") + ready()
    completed = []
    for i in range(len(stream)):
        completed += engine.receive_data(stream[i : i + 1])
    assert completed == [op] and op.results[0].rows == [data_row(b"1")[5:]]


def test_pipelined_operations_complete_in_order() -> None:
    engine = started_engine()
    ops = [SimpleQuery(f"SELECT {i}") for i in range(3)]
    for op in ops:
        engine.send(op)
    stream = b"".join(command_complete(f"SELECT {i}") + ready() for i in range(3))
    assert engine.receive_data(stream) == ops


# -- malformed input -----------------------------------------------------------------


MALFORMED = {
    "length below four": b"Z\x00\x00\x00\x02",
    "absurd length": b"D\x7f\xff\xff\xff",
    "negative length": b"D\xff\xff\xff\xf0",
    "unknown message type": msg(b"\x01", b"abc"),
    "data row without description": data_row(b"1"),
    "bad ready status": ready(b"X"),
    "ready with long body": msg(b"Z", b"II"),
    "truncated row description": msg(b"T", struct.pack("!h", 2) + b"x\0"),
    "row description trailing bytes": row_description(("x", 23))[:-0] + b"",
    "error fields unterminated": msg(b"E", b"SERROR"),
    "invalid utf8 in command tag": msg(b"C", b"\xff\xfe\0"),
    "negative field count": msg(b"T", struct.pack("!h", -1)),
    "copy data while busy": msg(b"d", b"x"),
}


@pytest.mark.parametrize("name", [k for k in MALFORMED if k != "row description trailing bytes"])
def test_malformed_input_closes_with_protocol_error(name: str) -> None:
    engine = started_engine()
    op = SimpleQuery("SELECT 1")
    engine.send(op)
    done = engine.receive_data(MALFORMED[name])
    assert done == [op], name
    assert isinstance(op.error, ProtocolError), (name, op.error)
    assert engine.state is EngineState.CLOSED
    # Whatever comes next is ignored, and new work is refused clearly.
    assert engine.receive_data(ready()) == []
    with pytest.raises(ConnectionDoesNotExistError):
        engine.send(SimpleQuery("SELECT 1"))


def test_absurd_length_is_caught_before_buffering() -> None:
    engine = started_engine()
    op = SimpleQuery("SELECT 1")
    engine.send(op)
    # Only the header has arrived: the engine must not wait for 2 GB.
    engine.receive_data(b"D\x7f\xff\xff\xff")
    assert isinstance(op.error, ProtocolError)


def test_message_limit_is_configurable() -> None:
    engine = Engine(max_message_size=1024)
    engine.send(Startup({"user": "u"}, None))
    engine.receive_data(auth(0) + ready())
    op = SimpleQuery("SELECT 1")
    engine.send(op)
    engine.receive_data(msg(b"N", b"M" + b"x" * 2000 + b"\0\0"))
    assert isinstance(op.error, ProtocolError)


def test_unexpected_message_with_nothing_pending() -> None:
    engine = started_engine()
    engine.receive_data(command_complete("SELECT 1"))
    assert engine.state is EngineState.CLOSED
    assert isinstance(engine.close_error, ProtocolError)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    engine = started_engine()
    op = Extended()
    op.execute("", 0, lambda body: body)
    engine.send(op)
    engine.receive_data(data)  # must not raise, whatever the bytes
    if engine.state is EngineState.CLOSED:
        assert op.done and op.error is not None
    else:
        # Idle exactly when the operation is complete.
        assert (engine.state is EngineState.READY) == op.done


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=8))
def test_arbitrary_startup_replies_never_raise(chunks: list[bytes]) -> None:
    engine = Engine()
    op = Startup({"user": "u"}, "pw")
    engine.send(op)
    for chunk in chunks:
        engine.receive_data(auth(5, b"salt") + chunk)
    assert engine.state in (EngineState.STARTUP, EngineState.READY, EngineState.CLOSED)
