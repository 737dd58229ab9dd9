"""Server-less tests of the hot paths that have their own code in the compiled build.

Compiled, the scalar decoders read a DataRow buffer in place and build
dates in C, RowDecoder switches on the column kinds, MessageReader frames
messages without copying them, and the engine hands runs of DataRows to a
RowDecoder directly.  These tests pin those paths against the plain Python
ones (scripts/test.sh runs them against both builds).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire.exceptions import ProtocolError
from pgwire.flows.statements import RowCodec
from pgwire.protocol import Column, Engine, EngineState, Extended, TransactionStatus, wire
from pgwire.protocol.wire import MessageReader
from pgwire.types import binary, default_registry, oids
from pgwire.types.record import Record, RecordMapping
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


# -- decoders at an offset --------------------------------------------------------

SAMPLES: list[tuple[Callable[..., Any], int, Any]] = [
    (binary.decode_bool, oids.BOOL, True),
    (binary.decode_int2, oids.INT2, -12345),
    (binary.decode_int4, oids.INT4, -(2**31)),
    (binary.decode_int8, oids.INT8, 2**63 - 1),
    (binary.decode_oid, oids.OID, 2**32 - 1),
    (binary.decode_float4, oids.FLOAT4, 1.5),
    (binary.decode_float8, oids.FLOAT8, -2.25e300),
    (binary.decode_numeric, oids.NUMERIC, Decimal("-12345.678900")),
    (binary.decode_text, oids.TEXT, "héllo"),
    (binary.decode_char, oids.CHAR, "é"),
    (binary.decode_bytea, oids.BYTEA, b"\x00\xff"),
    (binary.decode_date, oids.DATE, date(1999, 12, 31)),
    (binary.decode_time, oids.TIME, time(23, 59, 59, 999999)),
    (binary.decode_timetz, oids.TIMETZ, time(1, 2, 3, tzinfo=timezone(timedelta(hours=-5)))),
    (binary.decode_timestamp, oids.TIMESTAMP, datetime(1970, 1, 1, 0, 0, 0, 1)),
    (binary.decode_timestamptz, oids.TIMESTAMPTZ, datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC)),
    (binary.decode_interval, oids.INTERVAL, timedelta(days=-3, microseconds=7)),
    (binary.decode_uuid, oids.UUID, UUID(int=2**128 - 2)),
]


@pytest.mark.parametrize(("decoder", "oid", "value"), SAMPLES)
def test_decoders_read_in_place(decoder: Callable[..., Any], oid: int, value: Any) -> None:
    data = encode(oid, value)
    buffer = b"\xaa" * 7 + data + b"\xbb" * 5
    assert decoder(data) == value
    assert decoder(buffer, 7, len(data)) == value
    assert decoder(b"\xaa" * 3 + data, 3) == value  # n=-1: to the end


@pytest.mark.parametrize(
    ("decoder", "size"),
    [
        (binary.decode_bool, 1),
        (binary.decode_int2, 2),
        (binary.decode_int4, 4),
        (binary.decode_int8, 8),
        (binary.decode_float8, 8),
        (binary.decode_date, 4),
        (binary.decode_timestamptz, 8),
        (binary.decode_uuid, 16),
    ],
)
def test_fixed_size_decoders_refuse_other_sizes(
    decoder: Callable[..., Any], size: int
) -> None:
    for wrong in (0, size - 1, size + 1):
        with pytest.raises(ValueError, match="malformed"):
            decoder(b"\x00" * 20, 2, wrong)


def test_dates_across_the_whole_range() -> None:
    """The compiled build turns day numbers into dates itself: check it everywhere."""
    first = date(1, 1, 1).toordinal()
    last = date(9999, 12, 31).toordinal()
    epoch = date(2000, 1, 1).toordinal()
    ordinals = list(range(first, first + 800)) + list(range(last - 800, last + 1))
    ordinals += list(range(first, last, 97))
    # Around every leap day and century of a few 400-year cycles.
    for year in (1600, 1700, 1900, 2000, 2100, 2400):
        for month, day in ((2, 28), (2, 29), (3, 1), (12, 31)):
            try:
                ordinals.append(date(year, month, day).toordinal())
            except ValueError:
                pass
    for ordinal in ordinals:
        expected = date.fromordinal(ordinal)
        if expected in (date.min, date.max):
            continue  # the stand-ins for -infinity and infinity
        days = ordinal - epoch
        assert binary.decode_date(struct.pack("!i", days)) == expected
        us = days * 86_400_000_000 + 45_296_789_012  # 12:34:56.789012
        expected_ts = datetime.combine(expected, time(12, 34, 56, 789012))
        assert binary.decode_timestamp(struct.pack("!q", us)) == expected_ts
        assert binary.decode_timestamptz(struct.pack("!q", us)) == expected_ts.replace(tzinfo=UTC)


def test_timestamp_edges() -> None:
    first = datetime(1, 1, 1)
    last = datetime(9999, 12, 31, 23, 59, 59, 999999)
    epoch = datetime(2000, 1, 1)
    for value in (first + timedelta(microseconds=1), last - timedelta(microseconds=1)):
        us = (value - epoch) // timedelta(microseconds=1)
        assert binary.decode_timestamp(struct.pack("!q", us)) == value
    for us in ((first - epoch) // timedelta(microseconds=1) - 1, (last - epoch) // timedelta(microseconds=1) + 1):
        with pytest.raises(ValueError, match="outside years 1-9999"):
            binary.decode_timestamp(struct.pack("!q", us))
    assert binary.decode_timestamptz(struct.pack("!q", 2**63 - 1)) == datetime.max.replace(tzinfo=UTC)
    assert binary.decode_timestamp(struct.pack("!q", -(2**63))) == datetime.min
    assert binary.decode_date(struct.pack("!i", 2**31 - 1)) == date.max


@pytest.mark.parametrize(
    "text",
    ["0", "0.000", "-0.5", "1E+400", "1E-400", "123456789012345678901234567890.12345",
     "-" + "9" * 600, "0." + "0" * 700 + "1", "10000", "1.50"],
)
def test_numeric_text_paths(text: str) -> None:
    """Short values are written in a C buffer when compiled, long ones in Python."""
    value = Decimal(text)
    decoded = binary.decode_numeric(encode(oids.NUMERIC, value))
    assert decoded == value
    assert decoded.as_tuple().exponent == min(value.as_tuple().exponent, 0)  # type: ignore[operator]


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_numeric_roundtrip_in_a_buffer(value: Decimal) -> None:
    data = encode(oids.NUMERIC, value)
    assert binary.decode_numeric(b"xy" + data + b"z", 2, len(data)) == value


def test_numeric_digit_out_of_range() -> None:
    data = struct.pack("!hhHHH", 1, 0, 0, 0, 10000)
    with pytest.raises((ValueError, IndexError)):
        binary.decode_numeric(data)


# -- RowDecoder -----------------------------------------------------------------------


def test_row_decoder_kinds_and_generic_decoders() -> None:
    seen: list[bytes] = []

    def custom(data: bytes) -> str:
        seen.append(data)
        return data.decode().upper()

    decoders = [decoder for decoder, _, _ in SAMPLES] + [custom]
    names = [f"c{i}" for i in range(len(decoders))]
    row = RowDecoder(decoders, RecordMapping(names))
    fields = [encode(oid, value) for _, oid, value in SAMPLES] + [b"abc"]
    body = data_row(*fields)
    expected = tuple(value for _, _, value in SAMPLES) + ("ABC",)
    assert tuple(row(body)) == expected
    buffer = b"\x01\x02\x03" + body + b"\x04"
    record = row.decode_at(buffer, 3, 3 + len(body))
    assert tuple(record) == expected
    assert type(record) is Record
    assert record["c0"] is True
    assert seen == [b"abc", b"abc"]


def test_row_decoder_nulls_and_record_class() -> None:
    class MyRecord(Record):
        def first(self) -> Any:
            return self[0]

    row = RowDecoder([binary.decode_int4, binary.decode_text], {"a": 0, "b": 1}, MyRecord)
    record = row(data_row(None, b"x"))
    assert type(record) is MyRecord
    assert record.first() is None
    assert record["b"] == "x"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "field count"),
        (struct.pack("!h", 3), "field count"),
        (struct.pack("!h", 2) + struct.pack("!i", 4), "truncated"),
        (struct.pack("!h", 2) + struct.pack("!i", 4) + b"\x00\x00", "truncated"),
        (struct.pack("!h", 2) + struct.pack("!i", -2), "invalid field length"),
        (data_row(b"\x00\x00\x00\x01", b"a") + b"!", "trailing bytes"),
        (struct.pack("!h", 2) + struct.pack("!i", -1) + b"\x00", "truncated"),
    ],
)
def test_row_decoder_framing_errors(body: bytes, message: str) -> None:
    row = RowDecoder([binary.decode_int4, binary.decode_text], {"a": 0, "b": 1})
    with pytest.raises(ProtocolError, match=message):
        row(body)


def test_row_codec_decodes_with_a_row_decoder() -> None:
    columns = [Column("n", 0, 0, oids.INT4, 4, -1, 1), Column("t", 0, 0, oids.TEXT, -1, -1, 1)]
    codec = RowCodec(columns, default_registry, Record)
    record = codec.decode_row(data_row(struct.pack("!i", 7), b"seven"))
    assert record == (7, "seven")
    assert list(record.keys()) == ["n", "t"]


# -- MessageReader ------------------------------------------------------------------------


def test_reader_frames_in_place_and_copies_on_request() -> None:
    stream = msg(b"C", b"SELECT 1\x00") + msg(b"Z", b"I")
    reader = MessageReader()
    reader.feed(stream)
    assert reader.next_frame() == ord("C")
    assert reader.data[reader.start : reader.end] == b"SELECT 1\x00"
    assert reader.next_message() == (ord("Z"), b"I")
    assert reader.next_frame() == -1
    assert reader.next_message() is None
    assert reader.buffered == 0


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64])
def test_reader_reassembles_any_split(chunk: int) -> None:
    messages = [(ord("D"), bytes(range(i % 200))) for i in range(60)]
    stream = b"".join(msg(bytes((kind,)), body) for kind, body in messages)
    reader = MessageReader()
    got = []
    for i in range(0, len(stream), chunk):
        reader.feed(stream[i : i + chunk])
        while (message := reader.next_message()) is not None:
            got.append(message)
    assert got == messages
    assert reader.buffered == 0


def test_reader_joins_a_large_message_once() -> None:
    body = bytes(range(256)) * 4096  # 1 MiB
    stream = msg(b"d", body) + msg(b"c")
    reader = MessageReader()
    for i in range(0, len(stream), 1000):
        reader.feed(bytearray(stream[i : i + 1000]))  # any bytes-like object
        assert reader.buffered == min(i + 1000, len(stream))
        if i + 1000 < len(body) + 5:
            assert reader.next_frame() == -1
    assert reader.next_message() == (ord("d"), body)
    assert reader.next_message() == (ord("c"), b"")
    assert reader.next_message() is None


@pytest.mark.parametrize("length", [3, -1, 2**31 - 1])
def test_reader_rejects_bad_lengths(length: int) -> None:
    reader = MessageReader(max_message_size=1 << 20)
    reader.feed(b"D" + struct.pack("!i", length))
    with pytest.raises(ProtocolError, match="invalid message length"):
        reader.next_frame()


# -- the engine's DataRow fast path -------------------------------------------------------


def ready_engine() -> Engine:
    engine = Engine()
    engine.state = EngineState.READY
    engine.transaction_status = TransactionStatus.IDLE
    return engine


def int_rows_op() -> tuple[Extended, Any]:
    op = Extended()
    result = op.execute("", 0, RowDecoder([binary.decode_int4], {"n": 0}))
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
    assert isinstance(op.error, ValueError)
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


def test_bind_message_layout() -> None:
    message = wire.bind("p", "s", [1, 0], [b"\x00\x00\x00\x07", None], [1])
    body = (
        b"p\x00s\x00" + struct.pack("!hhh", 2, 1, 0) + struct.pack("!h", 2)
        + struct.pack("!i", 4) + b"\x00\x00\x00\x07" + struct.pack("!i", -1)
        + struct.pack("!hh", 1, 1)
    )
    assert message == msg(b"B", body)
    with pytest.raises(ValueError, match="NUL"):
        wire.bind("p\x00", "s", [], [], [])
