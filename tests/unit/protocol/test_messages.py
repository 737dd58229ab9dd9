"""Server-less tests of the backend message parsers (pgwire.protocol.messages)."""

from __future__ import annotations

import struct

import pytest

from pgwire.exceptions import ProtocolError
from pgwire.protocol.messages import (
    parse_command_tag,
    parse_negotiate_protocol_version,
    parse_parameter_description,
)


@pytest.mark.parametrize("tag", ["INSERT 0 1", "SELECT 200000", "", "COPY 5"])
def test_command_tag_round_trips(tag: str) -> None:
    assert parse_command_tag(tag.encode() + b"\x00") == tag


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"INSERT 0 1", "unterminated"),
        (b"INSERT 0 1\x00x", "trailing bytes"),
        (b"INSERT\x00\x00", "trailing bytes"),
        (b"\xff\xfe\x00", "not UTF-8"),
    ],
)
def test_malformed_command_tag_is_a_protocol_error(body: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_command_tag(body)


def test_parameter_description_reads_counts_as_unsigned() -> None:
    # 65,535 parameters is the protocol's limit; a signed read would see -1.
    count = 65_535
    body = struct.pack("!H", count) + struct.pack(f"!{count}I", *([23] * count))
    assert parse_parameter_description(body) == [23] * count


def test_parameter_description_with_trailing_bytes_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="trailing bytes"):
        parse_parameter_description(struct.pack("!HI", 1, 23) + b"x")


@pytest.mark.parametrize(
    ("newest", "expected"),
    [(196608, 0), (196610, 2), (0, 0), (2, 2)],  # as PostgreSQL sends it, and as documented
)
def test_negotiate_protocol_version(newest: int, expected: int) -> None:
    body = struct.pack("!ii", newest, 1) + b"_pq_.x\x00"
    assert parse_negotiate_protocol_version(body) == (expected, ["_pq_.x"])


def test_negotiate_protocol_version_of_another_major_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError, match="unknown version"):
        parse_negotiate_protocol_version(struct.pack("!ii", 4 << 16, 0))
