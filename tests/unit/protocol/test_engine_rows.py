"""Server-less tests of the engine's DataRow fast path (rows straight to a row decoder)."""

from __future__ import annotations

import struct
from datetime import timezone
from typing import Any

import pgwire.exceptions as pgwire_exceptions
from pgwire.exceptions import ProtocolError
from pgwire.protocol import Engine, EngineState, Extended, TransactionStatus
from pgwire.types import default_registry, numeric
from pgwire.types.rows import RowDecoder

UTC = timezone.utc


def msg(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def data_row(*fields: bytes | None) -> bytes:
    body = struct.pack("!h", len(fields))
    for field in fields:
        body += struct.pack("!i", -1) if field is None else struct.pack("!i", len(field)) + field
    return body


def encode(oid: int, value: Any) -> bytes:
    encoder = default_registry.binary_encoder(oid)
    assert encoder is not None
    return encoder(value)


# -- the engine's DataRow fast path -------------------------------------------------------


def ready_engine() -> Engine:
    engine = Engine()
    engine.state = EngineState.READY
    engine.transaction_status = TransactionStatus.IDLE
    return engine


def int_rows_op() -> tuple[Extended, Any]:
    op = Extended()
    result = op.execute("", 0, RowDecoder([numeric.decode_int4], {"n": 0}))
    return op, result


def test_rows_of_a_row_decoder_take_the_fast_path() -> None:
    engine = ready_engine()
    op, result = int_rows_op()
    engine.send(op)
    notice = msg(b"N", b"SNOTICE\x00C00000\x00Mhi\x00\x00")
    rows = [msg(b"D", data_row(struct.pack("!i", i))) for i in range(5)]
    stream = msg(b"2") + rows[0] + rows[1] + notice + b"".join(rows[2:])
    stream += msg(b"C", b"SELECT 5\x00") + msg(b"Z", b"I")
    done = []
    for i in range(0, len(stream), 11):  # runs of rows cut anywhere
        done += engine.receive_data(stream[i : i + 11])
    assert done == [op]
    assert op.error is None
    assert [tuple(r) for r in result.rows] == [(i,) for i in range(5)]
    assert result.status == "SELECT 5"
    assert len(engine.events) == 1


def test_decode_error_in_fast_path_is_reported_after_sync() -> None:
    engine = ready_engine()
    op, result = int_rows_op()
    engine.send(op)
    good = msg(b"D", data_row(struct.pack("!i", 1)))
    bad = msg(b"D", data_row(b"\x00\x01"))  # an int4 of 2 bytes: a codec error
    done = engine.receive_data(
        msg(b"2") + good + bad + good + msg(b"C", b"SELECT 3\x00") + msg(b"Z", b"I")
    )
    assert done == [op]
    assert isinstance(op.error, pgwire_exceptions.DataError)
    assert isinstance(op.error.__cause__, ValueError)
    assert [tuple(r) for r in result.rows] == [(1,)]  # rows after the error are dropped
    assert engine.state is EngineState.READY
    op2, result2 = int_rows_op()
    engine.send(op2)
    engine.receive_data(msg(b"2") + good + msg(b"C", b"SELECT 1\x00") + msg(b"Z", b"I"))
    assert op2.error is None and len(result2.rows) == 1


def test_malformed_data_row_in_fast_path_closes() -> None:
    engine = ready_engine()
    op, _ = int_rows_op()
    engine.send(op)
    done = engine.receive_data(msg(b"2") + msg(b"D", data_row(b"1234") + b"extra"))
    assert done == [op]
    assert isinstance(op.error, ProtocolError)
    assert engine.state is EngineState.CLOSED


def test_raw_rows_without_decoder_keep_their_bodies() -> None:
    engine = ready_engine()
    op = Extended()
    result = op.execute()
    engine.send(op)
    body = data_row(b"x")
    engine.receive_data(msg(b"2") + msg(b"D", body) + msg(b"C", b"SELECT 1\x00") + msg(b"Z", b"I"))
    assert result.rows == [body]
