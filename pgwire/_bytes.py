"""Big-endian reads and writes of integers, for the pure Python build.

The compiled modules read message fields in place with the C functions of
the same names declared in ``_bytes.pxd``; run as Python, they import these
instead (``if not cython.compiled: from ._bytes import ...``).  Each read
takes ``(data, pos)`` and returns the value of the field that starts at
``pos``; callers have already checked that it lies within ``data``.  Each
pack takes a value that fits and returns its bytes.
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
