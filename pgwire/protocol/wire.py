"""Message framing for the PostgreSQL frontend/backend protocol, versions 3.0 and 3.2.

Builds frontend messages as bytes and splits the backend byte stream into
``(type, body)`` messages.  Nothing here does I/O.  Compiled by Cython (pure
Python mode, types in ``wire.pxd``): message framing is on the per-row path.  Message layouts follow the
PostgreSQL documentation, "Frontend/Backend Protocol" > "Message Formats"
(section 55.7 in the PostgreSQL 15 manual).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from ..exceptions import InterfaceError, ProtocolError

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    from .._bytes import (
        append_ascii_field,
        append_bytes,
        append_float8_field,
        append_int16,
        append_int32,
        append_int_field,
        filled,
        new_bytes,
        pack_int32,
        put_data,
        put_int16,
        put_int32,
        read_int16,
        read_int32,
        read_uint16,
        read_uint32,
    )

# Protocol versions as the StartupMessage carries them: major << 16 | minor.
# 3.2 (PostgreSQL 18) only lengthens the cancel key in BackendKeyData and
# CancelRequest (PostgreSQL docs, "Protocol Versions", section 54.1.4).
PROTOCOL_3_0 = 3 << 16
PROTOCOL_3_2 = (3 << 16) | 2
PROTOCOL_VERSION = PROTOCOL_3_0
# The longest cancel key a 3.2 server may send.
MAX_CANCEL_KEY_LENGTH = 256
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
_uint16 = struct.Struct("!H")
_uint32 = struct.Struct("!I")
_header = struct.Struct("!ci")
_startup_header = struct.Struct("!ii")
_cancel_header = struct.Struct("!iii")
_execute_tail = struct.Struct("!i")


def _frame(kind: bytes, body: bytes) -> bytes:
    return _header.pack(kind, len(body) + 4) + body


def cstring(value: str) -> bytes:
    """Encode a protocol String (UTF-8, NUL-terminated), refusing embedded NULs."""
    # Tested on the str: `b"\x00" in data` would raise and catch a
    # TypeError inside CPython (it tries the operand as an int first).
    if "\x00" in value:
        raise InterfaceError(
            f"a string sent to the server contains a NUL character (\\x00) at position "
            f"{value.index(chr(0))}, which the protocol cannot carry (its strings end at "
            f"NUL): {value[:80]!r}"
        )
    try:
        return value.encode("utf-8") + b"\x00"
    except UnicodeEncodeError as exc:
        raise InterfaceError(
            f"a string sent to the server cannot be encoded in UTF-8 ({exc.reason} at "
            f"position {exc.start}): {value[:80]!r}"
        ) from None


def startup_message(params: dict[str, str], version: int = PROTOCOL_3_0) -> bytes:
    body = bytearray()
    for key, value in params.items():
        body += cstring(key)
        body += cstring(value)
    body += b"\x00"
    return _startup_header.pack(len(body) + 8, version) + bytes(body)


def ssl_request() -> bytes:
    return _startup_header.pack(8, SSL_REQUEST_CODE)


def cancel_request(process_id: int, secret_key: bytes) -> bytes:
    """CancelRequest: the key is 4 bytes in protocol 3.0, up to 256 in 3.2."""
    return _cancel_header.pack(12 + len(secret_key), CANCEL_REQUEST_CODE, process_id) + secret_key


def password_message(password: bytes) -> bytes:
    return _frame(b"p", password + b"\x00")


def sasl_initial_response(mechanism: str, data: bytes) -> bytes:
    return _frame(b"p", cstring(mechanism) + _int32.pack(len(data)) + data)


def sasl_response(data: bytes) -> bytes:
    return _frame(b"p", data)


def query(sql: str) -> bytes:
    return _frame(b"Q", cstring(sql))


def parse(name: str, sql: str, param_oids: Sequence[int]) -> bytes:
    if len(param_oids) > 0xFFFF:
        raise ValueError(f"{len(param_oids)} parameter types: the protocol allows 65535")
    body = bytearray(cstring(name))
    body += cstring(sql)
    body += _uint16.pack(len(param_oids))
    for oid in param_oids:
        body += _uint32.pack(oid)
    return _frame(b"P", bytes(body))


def format_codes(formats: Sequence[int]) -> bytes:
    """A list of format codes as Bind carries it: a 16-bit count, then each code.

    The count is unsigned in practice (a statement may have up to 65535
    parameters, and as many codes).
    """
    if len(formats) > 0xFFFF:
        raise ValueError(f"too many parameters for one statement: {len(formats)} (at most 65535)")
    return _uint16.pack(len(formats)) + b"".join([_int16.pack(code) for code in formats])


def bind_prefix(portal: str, statement: str, param_formats: Sequence[int]) -> bytes:
    """The start of a Bind body: portal, statement and parameter format codes.

    With :func:`format_codes` of the result formats, this is what
    :func:`bind_message` needs besides the values; both can be kept for a
    statement that is bound again and again.
    """
    return cstring(portal) + cstring(statement) + format_codes(param_formats)


_NULL_PARAMETER = b"\xff\xff\xff\xff"
_MAX_MESSAGE = 0x7FFFFFFF


def bind_message(prefix: bytes, params: Sequence[bytes | None], result_formats: bytes) -> bytes:
    """Build a Bind message from :func:`bind_prefix`, encoded values and result format codes."""
    count = len(params)
    if count > 0xFFFF:
        raise ValueError(f"too many parameters for one statement: {count} (at most 65535)")
    size = 4 + len(prefix) + 2 + len(result_formats)
    for value in params:
        if value is None:
            length = 0
        elif type(value) is bytes:
            length = len(value)
        else:  # bytearray, memoryview: what is copied is their bytes
            length = memoryview(value).nbytes
        if length > _MAX_MESSAGE - 4 - size:
            raise ValueError("parameter values too large for one Bind message")
        size += 4 + length
    if not cython.compiled:
        return _joined_bind_message(prefix, params, result_formats, size)
    # Written in place into one object of the final size.
    message = new_bytes(1 + size)
    put_data(message, 0, b"B")
    put_int32(message, 1, size)
    pos = 5 + put_data(message, 5, prefix)
    # The count is an unsigned 16-bit field (up to 65535 parameters).
    put_int16(message, pos, count)
    pos += 2
    for value in params:
        if value is None:
            put_int32(message, pos, -1)
            pos += 4
        else:
            length = put_data(message, pos + 4, value)
            put_int32(message, pos, length)
            pos += 4 + length
    put_data(message, pos, result_formats)
    return filled(message)


def _joined_bind_message(
    prefix: bytes, params: Sequence[bytes | None], result_formats: bytes, size: int
) -> bytes:
    # The pure Python build's way: parts joined once (a function call per
    # put_* would cost more than the copies it saves).
    parts: list[Any] = [b"B" + pack_int32(size), prefix, _uint16.pack(len(params))]
    for value in params:
        if value is None:
            parts.append(_NULL_PARAMETER)
        else:
            parts.append(pack_int32(memoryview(value).nbytes))
            parts.append(value)
    parts.append(result_formats)
    return b"".join(parts)


class FieldEncodingError(Exception):
    """An encoder refused field ``index`` of :func:`append_fields` (``error`` says why).

    Internal: the callers turn it into a :class:`~pgwire.DataError` that
    names the query argument or the COPY column.
    """

    def __init__(self, index: int, value: Any, error: Exception) -> None:
        super().__init__(index, value, error)
        self.index = index
        self.value = value
        self.error = error


# Errors an encoder raises for a value it cannot encode.
_ENCODING_ERRORS = (TypeError, ValueError, OverflowError, ArithmeticError)


# Field kinds for append_fields: how a value of exactly this Python type is
# laid out without its type's encoder (big-endian integers, an IEEE double,
# text in UTF-8).  The types layer picks them, for the stock encoders only.
FIELD_ENCODER = 0
FIELD_INT2 = 1
FIELD_INT4 = 2
FIELD_INT8 = 3
FIELD_FLOAT8 = 4
FIELD_TEXT = 5


def append_fields(
    buffer: bytearray, encoders: list[Any], values: Any, kinds: list[int] | None = None
) -> None:
    """Append ``values`` as a 16-bit count, then each as a 32-bit length and its bytes.

    A None value is sent as length -1 (NULL); any other goes through the
    encoder at its position.  This is the layout of a Bind message's
    parameter values and of a tuple of binary COPY (PostgreSQL docs,
    "Message Formats" > Bind, and "COPY" > "Binary Format"), so one loop
    serves both.  With ``kinds`` (one ``FIELD_*`` per position), an int,
    float or ASCII str of exactly that type is written straight into the
    buffer (compiled build); anything else, or a value out of range, goes
    through its encoder, which raises what it raises.  When an encoder
    fails, what was appended is taken back and :class:`FieldEncodingError`
    is raised.
    """
    count = len(values)
    if count != len(encoders):
        raise ValueError(f"{count} values for {len(encoders)} encoders")
    start = len(buffer)
    compiled = cython.compiled  # a constant compiled; a local lookup in Python
    fast = compiled and kinds is not None
    if compiled:
        append_int16(buffer, count)
    else:
        buffer += _uint16.pack(count)
    # The kinds as C ints, read once (module globals are looked up by name).
    int2_kind, int4_kind, int8_kind = FIELD_INT2, FIELD_INT4, FIELD_INT8
    float8_kind, text_kind = FIELD_FLOAT8, FIELD_TEXT
    index = 0
    for value in values:
        if value is None:
            if compiled:
                append_int32(buffer, -1)
            else:
                buffer += _NULL_PARAMETER
            index += 1
            continue
        if fast:
            kind = kinds[index]  # type: ignore[index]
            written = 1
            if kind == int4_kind or kind == int8_kind or kind == int2_kind:
                if type(value) is int:
                    written = append_int_field(
                        buffer, value, 4 if kind == int4_kind else 8 if kind == int8_kind else 2)
            elif kind == float8_kind:
                if type(value) is float:
                    written = append_float8_field(buffer, value)
            elif kind == text_kind:
                if type(value) is str:
                    written = append_ascii_field(buffer, value)
            if written == 0:
                index += 1
                continue
        try:
            data = encoders[index](value)
        except _ENCODING_ERRORS as exc:
            del buffer[start:]
            raise FieldEncodingError(index, value, exc) from exc
        length = len(data)
        if length > _MAX_MESSAGE:
            del buffer[start:]
            raise ValueError(f"field {index + 1} is too large to send ({length} bytes)")
        if compiled and type(data) is bytes:
            append_int32(buffer, length)
            append_bytes(buffer, data)
        else:  # pure Python, or a bytearray or memoryview
            buffer += pack_int32(length)
            buffer += data
        index += 1


def bind_fields(prefix: bytes, encoders: list[Any], values: Any, result_formats: bytes) -> bytes:
    """A Bind message from :func:`bind_prefix`, the values and their encoders.

    An encoder's failure raises :class:`FieldEncodingError`.
    """
    count = len(values)
    if count != len(encoders):
        raise ValueError(f"{count} values for {len(encoders)} encoders")
    fields: list[Any] = [None] * count
    index = 0
    for value in values:
        if value is not None:
            try:
                fields[index] = encoders[index](value)
            except _ENCODING_ERRORS as exc:
                raise FieldEncodingError(index, value, exc) from exc
        index += 1
    return bind_message(prefix, fields, result_formats)


def bind(
    portal: str,
    statement: str,
    param_formats: Sequence[int],
    params: Sequence[bytes | None],
    result_formats: Sequence[int],
) -> bytes:
    """Build a Bind message from already-encoded parameter values."""
    return bind_message(
        bind_prefix(portal, statement, param_formats), params, format_codes(result_formats)
    )


def describe(kind: bytes, name: str) -> bytes:
    return _frame(b"D", kind + cstring(name))


def execute(portal: str, max_rows: int = 0) -> bytes:
    if not portal and (max_rows == 0 or max_rows == 1):
        return _EXECUTE_UNNAMED[max_rows]  # the usual ones, built once
    return _frame(b"E", cstring(portal) + _execute_tail.pack(max_rows))


_EXECUTE_UNNAMED = (
    _frame(b"E", b"\x00" + _execute_tail.pack(0)),
    _frame(b"E", b"\x00" + _execute_tail.pack(1)),
)


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
    """Accumulates received bytes and finds complete backend messages in them.

    :meth:`next_frame` locates the next complete message without copying
    it: its type is returned and its body is ``data[start:end]``, valid
    until the next :meth:`feed`.  :meth:`next_message` returns a copy of
    the body instead.  A length below 4 or above ``max_message_size`` is a
    protocol error: the stream can no longer be trusted, so the caller must
    close the connection.

    Received chunks are kept as they arrive (no copy) while they hold whole
    messages; an unfinished message waiting for many chunks is joined once,
    when it is complete.
    """

    __slots__ = ("data", "start", "end", "_pos", "_chunks", "_chunks_size", "_need",
                 "max_message_size")

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.data = b""  # received bytes; those before _pos are consumed
        self.start = 0  # the body of the message next_frame found
        self.end = 0
        self._pos = 0
        self._chunks: list[bytes] = []  # held back until the unfinished message is complete
        self._chunks_size = 0
        self._need = 0  # bytes the unfinished message needs, from _pos
        self.max_message_size = max_message_size

    def feed(self, data: bytes) -> None:
        if type(data) is not bytes:
            data = bytes(data)
        if not data:
            return
        available = len(self.data) - self._pos
        if self._chunks or available + len(data) < self._need:
            self._chunks.append(data)
            self._chunks_size += len(data)
            if available + self._chunks_size < self._need:
                return
            self.data = b"".join([self.data[self._pos :], *self._chunks])
            self._chunks.clear()
            self._chunks_size = 0
        elif available:
            self.data = self.data[self._pos :] + data
        else:
            self.data = data
        self._pos = 0

    @property
    def buffered(self) -> int:
        return len(self.data) - self._pos + self._chunks_size

    def next_frame(self) -> int:
        """Find the next complete message: its type, or -1 if more bytes are needed.

        The body is then ``data[start:end]``.
        """
        data = self.data
        pos = self._pos
        available = len(data) - pos
        if available < 5:
            self._need = 5
            return -1
        kind = data[pos]
        if cython.compiled:
            length = read_int32(data, pos + 1)
        else:
            length = _int32.unpack_from(data, pos + 1)[0]
        if length < 4 or length > self.max_message_size:
            raise ProtocolError(
                f"invalid message length {length} for message type {chr(kind)!r}"
            )
        if available <= length:
            self._need = length + 1
            return -1
        self._need = 0
        self.start = pos + 5
        self.end = self._pos = pos + 1 + length
        return kind

    def next_message(self) -> tuple[int, bytes] | None:
        """Return the next complete message (a copy of its body), or None if more bytes are needed."""
        kind = self.next_frame()
        if kind < 0:
            return None
        return kind, self.data[self.start : self.end]


class BodyReader:
    """Reads fields from one message body, raising ProtocolError when short."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def _need(self, n: int) -> None:
        if n > len(self.data) - self.pos:
            raise ProtocolError("message body is shorter than its contents")

    def int16(self) -> int:
        self._need(2)
        if cython.compiled:
            value = read_int16(self.data, self.pos)
        else:
            value = _int16.unpack_from(self.data, self.pos)[0]
        self.pos += 2
        return value

    def int32(self) -> int:
        self._need(4)
        if cython.compiled:
            value = read_int32(self.data, self.pos)
        else:
            value = _int32.unpack_from(self.data, self.pos)[0]
        self.pos += 4
        return value

    def uint16(self) -> int:
        self._need(2)
        if cython.compiled:
            value = read_uint16(self.data, self.pos)
        else:
            value = _uint16.unpack_from(self.data, self.pos)[0]
        self.pos += 2
        return value

    def uint32(self) -> int:
        self._need(4)
        if cython.compiled:
            value = read_uint32(self.data, self.pos)
        else:
            value = _uint32.unpack_from(self.data, self.pos)[0]
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
        start = self.pos
        self.pos = end + 1
        try:
            return self.data[start:end].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ProtocolError(f"string in message body is not UTF-8: {exc}") from None

    def at_end(self) -> bool:
        return self.pos == len(self.data)
