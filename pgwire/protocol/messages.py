"""Backend messages with a structure of their own, parsed into values.

RowDescription fields become :class:`Column`, NotificationResponse a
:class:`Notification`, ErrorResponse and NoticeResponse a dict of fields.
Layouts follow PostgreSQL docs, "Message Formats" (section 54.7 in the
PostgreSQL 17 manual).  Every parser raises :class:`ProtocolError` on a
truncated or malformed body.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..exceptions import ProtocolError
from .wire import MAX_CANCEL_KEY_LENGTH, BodyReader


@dataclass(frozen=True, slots=True)
class Column:
    """One field of a RowDescription."""

    name: str
    table_oid: int
    column_number: int
    type_oid: int
    type_size: int
    type_modifier: int
    format: int


@dataclass(frozen=True, slots=True)
class Notification:
    """A NotificationResponse (LISTEN/NOTIFY)."""

    pid: int
    channel: str
    payload: str


def parse_row_description(body: bytes) -> list[Column]:
    reader = BodyReader(body)
    count = reader.uint16()
    columns = []
    for _ in range(count):
        columns.append(
            Column(
                reader.cstring(),
                reader.uint32(),
                reader.int16(),
                reader.uint32(),
                reader.int16(),
                reader.int32(),
                reader.int16(),
            )
        )
    if not reader.at_end():
        raise ProtocolError("trailing bytes in RowDescription")
    return columns


def parse_parameter_description(body: bytes) -> list[int]:
    reader = BodyReader(body)
    # Unsigned: a statement may have up to 65535 parameters.
    count = reader.uint16()
    oids = [reader.uint32() for _ in range(count)]
    if not reader.at_end():
        raise ProtocolError("trailing bytes in ParameterDescription")
    return oids


def parse_fields(body: bytes) -> dict[str, str]:
    """Parse the fields of an ErrorResponse or NoticeResponse."""
    fields: dict[str, str] = {}
    reader = BodyReader(body)
    while True:
        code = reader.byte()
        if code == 0:
            break
        fields[chr(code)] = reader.cstring()
    if not reader.at_end():
        raise ProtocolError("trailing bytes after error fields")
    return fields


def parse_notification(body: bytes) -> Notification:
    reader = BodyReader(body)
    notification = Notification(reader.int32(), reader.cstring(), reader.cstring())
    if not reader.at_end():
        raise ProtocolError("trailing bytes in NotificationResponse")
    return notification


def parse_parameter_status(body: bytes) -> tuple[str, str]:
    reader = BodyReader(body)
    name = reader.cstring()
    value = reader.cstring()
    if not reader.at_end():
        raise ProtocolError("trailing bytes in ParameterStatus")
    return name, value


def parse_backend_key_data(body: bytes, protocol_minor: int) -> tuple[int, bytes]:
    """The process id and the cancel key: 4 bytes in protocol 3.0, 4 to 256 in 3.2."""
    reader = BodyReader(body)
    pid = reader.int32()
    key = reader.rest()
    if protocol_minor < 2 and len(key) != 4:
        raise ProtocolError(f"BackendKeyData with a {len(key)}-byte key in protocol 3.0")
    if not 4 <= len(key) <= MAX_CANCEL_KEY_LENGTH:
        raise ProtocolError(f"BackendKeyData with a {len(key)}-byte key")
    return pid, key


def parse_negotiate_protocol_version(body: bytes) -> tuple[int, list[str]]:
    """The newest minor version the server supports and the options it did not know."""
    reader = BodyReader(body)
    # PostgreSQL sends the whole version number (major << 16 | minor), not
    # the bare minor the docs describe; accept both spellings.
    newest = reader.int32()
    if newest >> 16 not in (0, 3):
        raise ProtocolError(f"NegotiateProtocolVersion offers an unknown version {newest:#x}")
    newest_minor = newest & 0xFFFF
    count = reader.int32()
    if count < 0:
        raise ProtocolError("negative option count in NegotiateProtocolVersion")
    unknown = [reader.cstring() for _ in range(count)]
    if not reader.at_end():
        raise ProtocolError("trailing bytes in NegotiateProtocolVersion")
    return newest_minor, unknown


def parse_copy_response(body: bytes) -> tuple[int, list[int]]:
    """Overall format and per-column formats of a Copy{In,Out,Both}Response."""
    reader = BodyReader(body)
    overall = reader.byte()
    count = reader.int16()
    if count < 0:
        raise ProtocolError("negative column count in COPY response")
    formats = [reader.int16() for _ in range(count)]
    if not reader.at_end():
        raise ProtocolError("trailing bytes in COPY response")
    return overall, formats


# Command tags seen, by their message body: the same few come back again and
# again ("INSERT 0 1" for each row of an executemany, "SELECT 1"), so most
# are found here instead of being decoded.  Bounded: tags with counts vary.
_TAGS: dict[bytes, str] = {}
_MAX_TAGS = 256


def parse_command_tag(body: bytes) -> str:
    tag = _TAGS.get(body)
    if tag is not None:
        return tag
    # Read without a BodyReader: one CommandComplete per executemany row.
    end = body.find(b"\x00")
    if end < 0:
        raise ProtocolError("unterminated string in message body")
    if end != len(body) - 1:
        raise ProtocolError("trailing bytes in CommandComplete")
    try:
        tag = body[:end].decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(f"string in message body is not UTF-8: {exc}") from None
    if len(_TAGS) < _MAX_TAGS:
        _TAGS[body] = tag
    return tag
