"""Message framing for the PostgreSQL frontend/backend protocol, version 3.0.

Builds frontend messages as bytes and splits the backend byte stream into
``(type, body)`` messages.  Nothing here does I/O.  Message layouts follow the
PostgreSQL documentation, "Frontend/Backend Protocol" > "Message Formats"
(section 55.7 in the PostgreSQL 15 manual).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

from ..exceptions import ProtocolError

PROTOCOL_VERSION = 3 << 16  # 3.0
SSL_REQUEST_CODE = 80877103
CANCEL_REQUEST_CODE = 80877102

# Backend message types.
AUTHENTICATION = ord("R")
BACKEND_KEY_DATA = ord("K")
BIND_COMPLETE = ord("2")
CLOSE_COMPLETE = ord("3")
COMMAND_COMPLETE = ord("C")
COPY_DATA = ord("d")
COPY_DONE = ord("c")
COPY_IN_RESPONSE = ord("G")
COPY_OUT_RESPONSE = ord("H")
COPY_BOTH_RESPONSE = ord("W")
DATA_ROW = ord("D")
EMPTY_QUERY_RESPONSE = ord("I")
ERROR_RESPONSE = ord("E")
NEGOTIATE_PROTOCOL_VERSION = ord("v")
NO_DATA = ord("n")
NOTICE_RESPONSE = ord("N")
NOTIFICATION_RESPONSE = ord("A")
PARAMETER_DESCRIPTION = ord("t")
PARAMETER_STATUS = ord("S")
PARSE_COMPLETE = ord("1")
PORTAL_SUSPENDED = ord("s")
READY_FOR_QUERY = ord("Z")
ROW_DESCRIPTION = ord("T")

# Larger than any message PostgreSQL can build for one row (a field is at
# most 1 GiB), small enough that a corrupt length is caught at once instead
# of making us buffer forever.
DEFAULT_MAX_MESSAGE_SIZE = (1 << 30) + (1 << 20)

_int16 = struct.Struct("!h")
_int32 = struct.Struct("!i")
_uint32 = struct.Struct("!I")
_header = struct.Struct("!ci")
_startup_header = struct.Struct("!ii")
_cancel = struct.Struct("!iiii")
_execute_tail = struct.Struct("!i")


def _frame(kind: bytes, body: bytes) -> bytes:
    return _header.pack(kind, len(body) + 4) + body


def cstring(value: str) -> bytes:
    """Encode a protocol String (UTF-8, NUL-terminated), refusing embedded NULs."""
    data = value.encode("utf-8")
    if b"\x00" in data:
        raise ValueError(f"string contains a NUL byte: {value!r}")
    return data + b"\x00"


def startup_message(params: dict[str, str]) -> bytes:
    body = bytearray()
    for key, value in params.items():
        body += cstring(key)
        body += cstring(value)
    body += b"\x00"
    return _startup_header.pack(len(body) + 8, PROTOCOL_VERSION) + bytes(body)


def ssl_request() -> bytes:
    return _startup_header.pack(8, SSL_REQUEST_CODE)


def cancel_request(process_id: int, secret_key: int) -> bytes:
    return _cancel.pack(16, CANCEL_REQUEST_CODE, process_id, secret_key)


def password_message(password: bytes) -> bytes:
    return _frame(b"p", password + b"\x00")


def sasl_initial_response(mechanism: str, data: bytes) -> bytes:
    return _frame(b"p", cstring(mechanism) + _int32.pack(len(data)) + data)


def sasl_response(data: bytes) -> bytes:
    return _frame(b"p", data)


def query(sql: str) -> bytes:
    return _frame(b"Q", cstring(sql))


def parse(name: str, sql: str, param_oids: Sequence[int]) -> bytes:
    body = bytearray(cstring(name))
    body += cstring(sql)
    body += _int16.pack(len(param_oids))
    for oid in param_oids:
        body += _uint32.pack(oid)
    return _frame(b"P", bytes(body))


def bind(
    portal: str,
    statement: str,
    param_formats: Sequence[int],
    params: Sequence[bytes | None],
    result_formats: Sequence[int],
) -> bytes:
    """Build a Bind message from already-encoded parameter values."""
    body = bytearray(cstring(portal))
    body += cstring(statement)
    body += _int16.pack(len(param_formats))
    for fmt in param_formats:
        body += _int16.pack(fmt)
    body += _int16.pack(len(params))
    for value in params:
        if value is None:
            body += b"\xff\xff\xff\xff"
        else:
            body += _int32.pack(len(value))
            body += value
    body += _int16.pack(len(result_formats))
    for fmt in result_formats:
        body += _int16.pack(fmt)
    return _frame(b"B", bytes(body))


def describe(kind: bytes, name: str) -> bytes:
    return _frame(b"D", kind + cstring(name))


def execute(portal: str, max_rows: int = 0) -> bytes:
    return _frame(b"E", cstring(portal) + _execute_tail.pack(max_rows))


def close(kind: bytes, name: str) -> bytes:
    return _frame(b"C", kind + cstring(name))


SYNC = b"S\x00\x00\x00\x04"
FLUSH = b"H\x00\x00\x00\x04"
TERMINATE = b"X\x00\x00\x00\x04"
COPY_DONE_MESSAGE = b"c\x00\x00\x00\x04"


def copy_data(data: bytes) -> bytes:
    return _header.pack(b"d", len(data) + 4) + data


def copy_fail(reason: str) -> bytes:
    return _frame(b"f", cstring(reason.replace("\x00", "")))


class MessageReader:
    """Accumulates received bytes and yields complete backend messages.

    A length below 4 or above ``max_message_size`` is a protocol error: the
    stream can no longer be trusted, so the caller must close the connection.
    """

    __slots__ = ("_buf", "_pos", "max_message_size")

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self._buf = bytearray()
        self._pos = 0
        self.max_message_size = max_message_size

    def feed(self, data: bytes) -> None:
        if self._pos:
            # Drop consumed bytes before growing the buffer, so it stays as
            # small as the largest unfinished message.
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += data

    @property
    def buffered(self) -> int:
        return len(self._buf) - self._pos

    def next_message(self) -> tuple[int, bytes] | None:
        """Return the next complete message, or None if more bytes are needed."""
        buf = self._buf
        pos = self._pos
        if len(buf) - pos < 5:
            return None
        kind = buf[pos]
        length = _int32.unpack_from(buf, pos + 1)[0]
        if length < 4 or length > self.max_message_size:
            raise ProtocolError(
                f"invalid message length {length} for message type {chr(kind)!r}"
            )
        end = pos + 1 + length
        if len(buf) < end:
            return None
        body = bytes(buf[pos + 5 : end])
        self._pos = end
        if end == len(buf):
            buf.clear()
            self._pos = 0
        return kind, body


class BodyReader:
    """Reads fields from one message body, raising ProtocolError when short."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _need(self, n: int) -> None:
        if self.pos + n > len(self.data):
            raise ProtocolError("message body is shorter than its contents")

    def int16(self) -> int:
        self._need(2)
        value: int = _int16.unpack_from(self.data, self.pos)[0]
        self.pos += 2
        return value

    def int32(self) -> int:
        self._need(4)
        value: int = _int32.unpack_from(self.data, self.pos)[0]
        self.pos += 4
        return value

    def uint32(self) -> int:
        self._need(4)
        value: int = _uint32.unpack_from(self.data, self.pos)[0]
        self.pos += 4
        return value

    def byte(self) -> int:
        self._need(1)
        value = self.data[self.pos]
        self.pos += 1
        return value

    def take(self, n: int) -> bytes:
        if n < 0:
            raise ProtocolError("negative length in message body")
        self._need(n)
        value = self.data[self.pos : self.pos + n]
        self.pos += n
        return value

    def rest(self) -> bytes:
        value = self.data[self.pos :]
        self.pos = len(self.data)
        return value

    def cstring(self) -> str:
        end = self.data.find(b"\x00", self.pos)
        if end < 0:
            raise ProtocolError("unterminated string in message body")
        raw = self.data[self.pos : end]
        self.pos = end + 1
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"string in message body is not UTF-8: {exc}") from None

    def at_end(self) -> bool:
        return self.pos == len(self.data)
