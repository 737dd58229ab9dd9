"""Character and byte strings: text, varchar, bpchar, name, "char", bytea.

Binary codecs and text parsers of each type, and the ``TYPES`` the registry
installs.  Compiled by Cython (pure Python mode, types in ``strings.pxd``).

* ``text``/``varchar``/``bpchar``/``name`` <-> ``str`` (UTF-8, the driver's
  client encoding).  Encoders accept only ``str``; NUL characters are rejected
  because PostgreSQL cannot store them.
* ``"char"`` (the one-byte type) <-> ``str`` of length 0 or 1: the raw byte is
  decoded as Latin-1, and the byte 0 (PostgreSQL's empty ``"char"``) as ``''``.
  Its text form writes a byte above 127 as ``\\ooo`` (octal), which the
  server reads back.
* ``refcursor`` and ``unknown`` (an untyped literal's type) <-> ``str``.
* ``bytea`` <-> ``bytes`` (the encoder also accepts ``bytearray`` and
  ``memoryview``, never ``str``); text format in hex or escape output.
"""

from __future__ import annotations

from typing import Any

from . import oids
from .codec import Codec, Encoder, TypeSpec, decode_utf8
from .codec import malformed as _malformed
from .codec import type_label as _type_label
from .textformat import format_value

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    # Compiled, this comes from strings.pxd (a C function).
    from .._bytes import utf8_no_nul

# -- text-like ----------------------------------------------------------------


def decode_text(data: bytes, pos: int = 0, n: int = -1) -> str:
    if n < 0:
        n = len(data) - pos
    return data[pos : pos + n].decode("utf-8")


# Every encoder make_text_encoder made: their output is the UTF-8 of a str,
# which binary COPY may write without calling them (is_text_encoder).
_TEXT_ENCODERS: set[Encoder] = set()


def is_text_encoder(encoder: object) -> bool:
    """Whether ``encoder`` is one of :func:`make_text_encoder`'s (its output: a str's UTF-8)."""
    return encoder in _TEXT_ENCODERS


def make_text_encoder(type_name: str) -> Encoder:
    """A str encoder whose errors name ``type_name`` (text, varchar, ...)."""

    def encode_text(value: Any) -> bytes:
        if isinstance(value, str):
            if cython.compiled:
                data = utf8_no_nul(value)
                if data is not None:
                    return data
            elif "\x00" not in value:
                return value.encode("utf-8")
            raise ValueError(f"{type_name} values cannot contain NUL (\\x00) characters")
        raise TypeError(f"{type_name} expects str, got {_type_label(value)}")

    _TEXT_ENCODERS.add(encode_text)
    return encode_text


encode_text = make_text_encoder("text")

_CHAR_VALUES = ("",) + tuple(chr(i) for i in range(1, 256))


def decode_char(data: bytes, pos: int = 0, n: int = -1) -> str:
    if n < 0:
        n = len(data) - pos
    if n != 1:
        raise _malformed('"char"', n)
    return _CHAR_VALUES[data[pos]]


def encode_char(value: Any) -> bytes:
    if isinstance(value, str):
        if value == "":
            return b"\x00"
        if len(value) == 1:
            code = ord(value)
            if 0 < code < 256:
                return bytes((code,))
            raise ValueError(f'"char" cannot hold {value!r}: it is one byte (U+0001-U+00FF)')
        raise ValueError(f'"char" expects a single character, got a str of length {len(value)}')
    if isinstance(value, (bytes, bytearray)):
        if len(value) <= 1:
            return bytes(value) or b"\x00"
        raise ValueError(f'"char" expects a single byte, got {len(value)} bytes')
    raise TypeError(f'"char" expects str of length 1, got {_type_label(value)}')


# -- bytea --------------------------------------------------------------------


def decode_bytea(data: bytes, pos: int = 0, n: int = -1) -> bytes:
    if n < 0:
        n = len(data) - pos
    return data[pos : pos + n]  # no copy when that is all of data


def encode_bytea(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    raise TypeError(f"bytea expects bytes, bytearray or memoryview, got {_type_label(value)}")


def parse_char(text: str) -> str:
    # "char" prints a byte with the high bit set as \ooo (octal).
    if len(text) == 4 and text[0] == "\\":
        return chr(int(text[1:], 8))
    return text


def format_char(value: Any) -> str:
    """Text form of a "char": bytes above 127 as \\ooo, which charin reads back."""
    if isinstance(value, str) and len(value) == 1 and 127 < ord(value) < 256:
        return f"\\{ord(value):03o}"
    if isinstance(value, (bytes, bytearray)) and len(value) == 1 and value[0] > 127:
        return f"\\{value[0]:03o}"
    return format_value(value)


def parse_bytea(text: str) -> bytes:
    if text.startswith("\\x"):
        return bytes.fromhex(text[2:])
    # Escape format: \\ is a backslash, \ooo an octal byte, the rest ASCII.
    out = bytearray()
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            if text[i + 1 : i + 2] == "\\":
                out.append(0x5C)
                i += 2
            else:
                out.append(int(text[i + 1 : i + 4], 8))
                i += 4
        else:
            out.append(ord(c))
            i += 1
    return bytes(out)


# -- codecs -----------------------------------------------------------------------


class TextTypeCodec(Codec):
    """text and the other string types (their encoders name them in errors)."""

    def __init__(self, type_name: str) -> None:
        encoder = make_text_encoder(type_name)
        super().__init__(True, decode_utf8, encoder)
        self.encoder = encoder

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return data[pos : pos + n].decode("utf-8")

    def encode(self, value: Any) -> bytes:
        return self.encoder(value)


class CharCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_char, encode_char)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_char(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_char(value)


class ByteaCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_bytea, encode_bytea)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_bytea(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_bytea(value)


def _str(text: str) -> str:
    return text


TYPES = (
    TypeSpec(oids.TEXT, "text", oids.TEXT_ARRAY, TextTypeCodec("text"), _str),
    TypeSpec(oids.VARCHAR, "varchar", oids.VARCHAR_ARRAY, TextTypeCodec("varchar"), _str),
    TypeSpec(oids.BPCHAR, "bpchar", oids.BPCHAR_ARRAY, TextTypeCodec("bpchar"), _str),
    TypeSpec(oids.NAME, "name", oids.NAME_ARRAY, TextTypeCodec("name"), _str),
    # Quoted: plain char means bpchar(1) in SQL.
    TypeSpec(oids.CHAR, '"char"', oids.CHAR_ARRAY, CharCodec(), parse_char, format_char),
    TypeSpec(oids.BYTEA, "bytea", oids.BYTEA_ARRAY, ByteaCodec(), parse_bytea),
    # Both send their text as their binary form.
    TypeSpec(oids.REFCURSOR, "refcursor", oids.REFCURSOR_ARRAY, TextTypeCodec("refcursor"), _str),
    TypeSpec(oids.UNKNOWN_TYPE, "unknown", 0, TextTypeCodec("unknown"), _str),
)
