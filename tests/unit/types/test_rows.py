"""Server-less tests of the codecs' in-place decoding and of the row decoder.

Compiled, the scalar decoders read a DataRow buffer in place and build
dates in C, and RowDecoder calls each column's codec as a C method.  These
tests pin those paths against the plain Python ones (scripts/test.sh runs
them against both builds).
"""

from __future__ import annotations

import gc
import struct
import sys
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pgwire.exceptions import ProtocolError
from pgwire.protocol import Column
from pgwire.types import (
    Codec,
    FunctionCodec,
    datetimes,
    default_registry,
    numeric,
    oids,
    strings,
    uuids,
)
from pgwire.types.record import Record, RecordMapping
from pgwire.types.rows import RowCodec, RowDecoder

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
    (numeric.decode_bool, oids.BOOL, True),
    (numeric.decode_int2, oids.INT2, -12345),
    (numeric.decode_int4, oids.INT4, -(2**31)),
    (numeric.decode_int8, oids.INT8, 2**63 - 1),
    (numeric.decode_oid, oids.OID, 2**32 - 1),
    (numeric.decode_float4, oids.FLOAT4, 1.5),
    (numeric.decode_float8, oids.FLOAT8, -2.25e300),
    (numeric.decode_numeric, oids.NUMERIC, Decimal("-12345.678900")),
    (strings.decode_text, oids.TEXT, "héllo"),
    (strings.decode_char, oids.CHAR, "é"),
    (strings.decode_bytea, oids.BYTEA, b"\x00\xff"),
    (datetimes.decode_date, oids.DATE, date(1999, 12, 31)),
    (datetimes.decode_time, oids.TIME, time(23, 59, 59, 999999)),
    (datetimes.decode_timetz, oids.TIMETZ, time(1, 2, 3, tzinfo=timezone(timedelta(hours=-5)))),
    (datetimes.decode_timestamp, oids.TIMESTAMP, datetime(1970, 1, 1, 0, 0, 0, 1)),
    (datetimes.decode_timestamptz, oids.TIMESTAMPTZ, datetime(2038, 1, 19, 3, 14, 8, tzinfo=UTC)),
    (datetimes.decode_interval, oids.INTERVAL, timedelta(days=-3, microseconds=7)),
    (uuids.decode_uuid, oids.UUID, UUID(int=2**128 - 2)),
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
        (numeric.decode_bool, 1),
        (numeric.decode_int2, 2),
        (numeric.decode_int4, 4),
        (numeric.decode_int8, 8),
        (numeric.decode_float8, 8),
        (datetimes.decode_date, 4),
        (datetimes.decode_timestamptz, 8),
        (uuids.decode_uuid, 16),
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
        assert datetimes.decode_date(struct.pack("!i", days)) == expected
        us = days * 86_400_000_000 + 45_296_789_012  # 12:34:56.789012
        expected_ts = datetime.combine(expected, time(12, 34, 56, 789012))
        assert datetimes.decode_timestamp(struct.pack("!q", us)) == expected_ts
        assert datetimes.decode_timestamptz(struct.pack("!q", us)) == expected_ts.replace(tzinfo=UTC)


def test_timestamp_edges() -> None:
    first = datetime(1, 1, 1)
    last = datetime(9999, 12, 31, 23, 59, 59, 999999)
    epoch = datetime(2000, 1, 1)
    for value in (first + timedelta(microseconds=1), last - timedelta(microseconds=1)):
        us = (value - epoch) // timedelta(microseconds=1)
        assert datetimes.decode_timestamp(struct.pack("!q", us)) == value
    for us in ((first - epoch) // timedelta(microseconds=1) - 1, (last - epoch) // timedelta(microseconds=1) + 1):
        with pytest.raises(ValueError, match="outside years 1-9999"):
            datetimes.decode_timestamp(struct.pack("!q", us))
    assert datetimes.decode_timestamptz(struct.pack("!q", 2**63 - 1)) == datetime.max.replace(tzinfo=UTC)
    assert datetimes.decode_timestamp(struct.pack("!q", -(2**63))) == datetime.min
    assert datetimes.decode_date(struct.pack("!i", 2**31 - 1)) == date.max


@pytest.mark.parametrize(
    "text",
    ["0", "0.000", "-0.5", "1E+400", "1E-400", "123456789012345678901234567890.12345",
     "-" + "9" * 600, "0." + "0" * 700 + "1", "10000", "1.50"],
)
def test_numeric_text_paths(text: str) -> None:
    """Short values are written in a C buffer when compiled, long ones in Python."""
    value = Decimal(text)
    decoded = numeric.decode_numeric(encode(oids.NUMERIC, value))
    assert decoded == value
    assert decoded.as_tuple().exponent == min(value.as_tuple().exponent, 0)  # type: ignore[operator]


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
def test_numeric_roundtrip_in_a_buffer(value: Decimal) -> None:
    data = encode(oids.NUMERIC, value)
    assert numeric.decode_numeric(b"xy" + data + b"z", 2, len(data)) == value


def test_numeric_digit_out_of_range() -> None:
    data = struct.pack("!hhHHH", 1, 0, 0, 0, 10000)
    with pytest.raises((ValueError, IndexError)):
        numeric.decode_numeric(data)


# -- RowDecoder -----------------------------------------------------------------------


def test_row_decoder_codecs_and_plain_functions() -> None:
    seen: list[bytes] = []

    def custom(data: bytes) -> str:
        seen.append(data)
        return data.decode().upper()

    # The registry's codecs (decoded in C when compiled) and a plain function.
    decoders: list[Any] = [default_registry.binary_decoder(oid) for _, oid, _ in SAMPLES]
    decoders.append(custom)
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

    row = RowDecoder([numeric.decode_int4, strings.decode_text], {"a": 0, "b": 1}, MyRecord)
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
    row = RowDecoder([numeric.decode_int4, strings.decode_text], {"a": 0, "b": 1})
    with pytest.raises(ProtocolError, match=message):
        row(body)


def test_row_decoder_collection_and_error_part_way_through_a_row() -> None:
    # Compiled, a row's values go straight into its tuple: a garbage
    # collection while the tuple is partly filled, and an error after some
    # values are in, must neither crash nor keep those values alive.
    sentinel = object()

    def first(data: bytes) -> object:
        gc.collect()  # traverses the partly filled row
        return sentinel

    def second(data: bytes) -> object:
        if data == b"bad":
            raise ValueError("refused")
        gc.collect()
        return data

    row = RowDecoder([FunctionCodec(first), FunctionCodec(second)], {"a": 0, "b": 1})
    before = sys.getrefcount(sentinel)
    record = row(data_row(b"x", b"ok"))
    assert tuple(record) == (sentinel, b"ok")
    del record
    for _ in range(100):
        with pytest.raises(ValueError, match="refused"):
            row(data_row(b"x", b"bad"))
    assert sys.getrefcount(sentinel) == before


def test_row_codec_decodes_with_a_row_decoder() -> None:
    columns = [Column("n", 0, 0, oids.INT4, 4, -1, 1), Column("t", 0, 0, oids.TEXT, -1, -1, 1)]
    codec = RowCodec(columns, default_registry, Record)
    record = codec.decode_row(data_row(struct.pack("!i", 7), b"seven"))
    assert record == (7, "seven")
    assert list(record.keys()) == ["n", "t"]


@pytest.mark.parametrize(("decoder", "oid", "value"), SAMPLES)
def test_codecs_decode_in_place(decoder: Callable[..., Any], oid: int, value: Any) -> None:
    codec = default_registry.binary_decoder(oid)
    assert codec is not None and codec.atomic
    data = encode(oid, value)
    assert codec.decode(b"\xaa" * 7 + data + b"\xbb" * 5, 7, len(data)) == value
    assert codec(data) == value


def test_python_codec_subclass_and_function_codec_on_the_row_path() -> None:
    class Reversed(Codec):
        def decode(self, data: bytes, pos: int, n: int) -> Any:
            return data[pos : pos + n][::-1].decode()

    row = RowDecoder([Reversed(), FunctionCodec(bytes.upper)], {"a": 0, "b": 1})
    assert tuple(row(data_row(b"abc", b"xyz"))) == ("cba", b"XYZ")
    with pytest.raises(NotImplementedError, match="no binary decoder"):
        RowDecoder([Codec()], {"a": 0})(data_row(b"x"))

