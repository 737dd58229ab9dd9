"""Server-less tests of message framing: MessageReader and the frontend builders."""

from __future__ import annotations

import struct
from datetime import timezone
from typing import Any

import pytest

from pgwire.exceptions import InterfaceError, ProtocolError
from pgwire.protocol import wire
from pgwire.protocol.wire import MessageReader
from pgwire.types import default_registry

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


def test_bind_message_layout() -> None:
    message = wire.bind("p", "s", [1, 0], [b"\x00\x00\x00\x07", None], [1])
    body = (
        b"p\x00s\x00" + struct.pack("!hhh", 2, 1, 0) + struct.pack("!h", 2)
        + struct.pack("!i", 4) + b"\x00\x00\x00\x07" + struct.pack("!i", -1)
        + struct.pack("!hh", 1, 1)
    )
    assert message == msg(b"B", body)
    with pytest.raises(InterfaceError, match="NUL"):
        wire.bind("p\x00", "s", [], [], [])


def test_bind_message_takes_any_bytes_like_value() -> None:
    values = [bytearray(b"ab"), memoryview(b"xyzw")[1:3], b"", None]
    body = (
        b"\x00s\x00" + struct.pack("!h", 0) + struct.pack("!h", 4)
        + struct.pack("!i", 2) + b"ab" + struct.pack("!i", 2) + b"yz"
        + struct.pack("!i", 0) + struct.pack("!i", -1) + struct.pack("!h", 0)
    )
    assert wire.bind("", "s", [], values, []) == msg(b"B", body)
    # A wide memoryview counts its bytes, not its items.
    wide = memoryview(struct.pack("!ii", 1, 2)).cast("i")
    assert wire.bind("", "s", [], [wide], [])[-10:-2] == struct.pack("!ii", 1, 2)
    with pytest.raises(ValueError, match="too many parameters"):
        wire.bind("", "s", [], [None] * 65536, [])


def test_bind_fields_encodes_as_it_builds() -> None:
    registry = default_registry
    encoders = [registry.binary_encoder(23), registry.binary_encoder(25)]
    prefix = wire.bind_prefix("", "s", [1, 1])
    built = wire.bind_fields(prefix, encoders, (7, None), wire.format_codes([1]))
    assert built == wire.bind_message(prefix, [struct.pack("!i", 7), None],
                                      wire.format_codes([1]))
    with pytest.raises(wire.FieldEncodingError) as failure:
        wire.bind_fields(prefix, encoders, (7, "a\x00b"), b"")
    assert failure.value.index == 1 and failure.value.value == "a\x00b"
    assert isinstance(failure.value.error, ValueError)
    with pytest.raises(ValueError, match="2 values for 1 encoders"):
        wire.bind_fields(prefix, encoders[:1], (1, 2), b"")


def test_append_fields_is_a_binary_copy_tuple_and_takes_back_a_failure() -> None:
    registry = default_registry
    encoders = [registry.binary_encoder(20), registry.binary_encoder(701)]
    buffer = bytearray(b"head")
    wire.append_fields(buffer, encoders, [-1, None])
    assert bytes(buffer) == (
        b"head" + struct.pack("!h", 2) + struct.pack("!iq", 8, -1) + struct.pack("!i", -1)
    )
    with pytest.raises(wire.FieldEncodingError) as failure:
        wire.append_fields(buffer, encoders, [1, "not a float"])
    assert failure.value.index == 1 and isinstance(failure.value.error, TypeError)
    assert len(buffer) == 4 + 2 + 12 + 4  # nothing of the failed tuple is left


class _Int(int):
    pass


class _Str(str):
    pass


@pytest.mark.parametrize(
    ("oid", "kind", "values"),
    [
        (21, wire.FIELD_INT2, [0, -1, 32767, -32768, 32768, -32769, True, _Int(5), 2**70, 1.5]),
        (23, wire.FIELD_INT4, [0, 7, 2**31 - 1, -(2**31), 2**31, -(2**31) - 1, False, _Int(-3),
                               2**64, "1"]),
        (20, wire.FIELD_INT8, [0, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1, _Int(2**40), 2**200]),
        (701, wire.FIELD_FLOAT8, [0.0, -0.0, 1.5, float("inf"), float("-inf"), float("nan"),
                                  1e308, 5e-324, 3, 2**2000, "x"]),
        (25, wire.FIELD_TEXT, ["", "row 5", "é", "日本", "a\x00b", "\ud800", _Str("sub"),
                               "x" * 70000, b"bytes", 5]),
    ],
)
def test_append_fields_kinds_write_what_the_encoder_writes(
    oid: int, kind: int, values: list[Any]
) -> None:
    """The fast path for exact ints, floats and ASCII strs gives the encoder's bytes or error."""
    encoders = [default_registry.binary_encoder(oid)]
    for value in values:
        fast, plain = bytearray(b"x"), bytearray(b"x")
        try:
            wire.append_fields(plain, encoders, [value])
        except wire.FieldEncodingError as expected:
            with pytest.raises(wire.FieldEncodingError) as failure:
                wire.append_fields(fast, encoders, [value], [kind])
            assert type(failure.value.error) is type(expected.error)
            assert str(failure.value.error) == str(expected.error)
            assert fast == b"x"
            continue
        wire.append_fields(fast, encoders, [value], [kind])
        assert fast == plain, value
