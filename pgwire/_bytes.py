"""Big-endian reads and writes of integers, for the pure Python build.

The compiled modules read message fields in place with the C functions of
the same names declared in ``_bytes.pxd``; run as Python, they import these
instead (``if not cython.compiled: from ._bytes import ...``).  Each read
takes ``(data, pos)`` and returns the value of the field that starts at
``pos``; callers have already checked that it lies within ``data``.  Each
pack takes a value that fits and returns its bytes; each append adds such
bytes (or a bytes object) to the end of a bytearray.  The compiled modules build a message of
known size in one bytes object (``new_bytes``, ``put_*``, ``filled``); here
that is a bytearray, copied once into bytes by ``filled``.
"""

from __future__ import annotations

import struct
from typing import Any

_int16 = struct.Struct("!h").unpack_from
_uint16 = struct.Struct("!H").unpack_from
_int32 = struct.Struct("!i").unpack_from
_uint32 = struct.Struct("!I").unpack_from
_int64 = struct.Struct("!q").unpack_from
_float4 = struct.Struct("!f").unpack_from
_float8 = struct.Struct("!d").unpack_from


def read_int16(data: Any, pos: int) -> int:
    return _int16(data, pos)[0]  # type: ignore[no-any-return]


def read_uint16(data: Any, pos: int) -> int:
    return _uint16(data, pos)[0]  # type: ignore[no-any-return]


def read_int32(data: Any, pos: int) -> int:
    return _int32(data, pos)[0]  # type: ignore[no-any-return]


def read_uint32(data: Any, pos: int) -> int:
    return _uint32(data, pos)[0]  # type: ignore[no-any-return]


def read_int64(data: Any, pos: int) -> int:
    return _int64(data, pos)[0]  # type: ignore[no-any-return]


def read_float4(data: Any, pos: int) -> float:
    return _float4(data, pos)[0]  # type: ignore[no-any-return]


def read_float8(data: Any, pos: int) -> float:
    return _float8(data, pos)[0]  # type: ignore[no-any-return]


pack_int16 = struct.Struct("!h").pack
pack_int32 = struct.Struct("!i").pack
pack_int64 = struct.Struct("!q").pack
pack_float8 = struct.Struct("!d").pack

_INT_RANGES = {2: (-(1 << 15), (1 << 15) - 1), 4: (-(1 << 31), (1 << 31) - 1),
               8: (-(1 << 63), (1 << 63) - 1)}


def pack_int_fitting(value: int, width: int) -> bytes | None:
    low, high = _INT_RANGES[width]
    return value.to_bytes(width, "big", signed=True) if low <= value <= high else None


def utf8_no_nul(value: str) -> bytes | None:
    return None if "\x00" in value else value.encode("utf-8")


_uint16_pack = struct.Struct("!H").pack
_int32_pack_into = struct.Struct("!i").pack_into


def append_int16(buffer: bytearray, value: int) -> None:
    buffer += _uint16_pack(value & 0xFFFF)  # the low 16 bits, as the C version


def append_int32(buffer: bytearray, value: int) -> None:
    buffer += pack_int32(value)


def append_bytes(buffer: bytearray, data: bytes) -> None:
    buffer += data


_int16_pack_into = struct.Struct("!H").pack_into


def new_bytes(n: int) -> bytearray:
    return bytearray(n)


def put_int16(target: bytearray, pos: int, value: int) -> None:
    _int16_pack_into(target, pos, value & 0xFFFF)


def put_int32(target: bytearray, pos: int, value: int) -> None:
    _int32_pack_into(target, pos, value)


def put_data(target: bytearray, pos: int, data: Any) -> int:
    view = memoryview(data).cast("B")
    n = len(view)
    if pos + n > len(target):
        raise ValueError("a value changed size while it was sent")
    target[pos:pos + n] = view
    return n


def filled(target: bytearray) -> bytes:
    return bytes(target)


def append_int_field(buffer: bytearray, value: int, width: int) -> int:
    data = pack_int_fitting(value, width)
    if data is None:
        return 1
    buffer += pack_int32(width)
    buffer += data
    return 0


def append_float8_field(buffer: bytearray, value: float) -> int:
    buffer += b"\x00\x00\x00\x08"
    buffer += pack_float8(value)
    return 0


def append_ascii_field(buffer: bytearray, value: str) -> int:
    if not value.isascii() or "\x00" in value:
        return 1
    buffer += pack_int32(len(value))
    buffer += value.encode("ascii")
    return 0
