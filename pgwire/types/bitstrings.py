"""Bit strings: ``bit(n)`` and ``varbit`` <-> :class:`~pgwire.types.values.BitString`.

Parameters take a ``BitString``, a ``str`` of ``0`` and ``1`` characters,
or ``bytes`` (eight bits per byte).  Binary format (``bit_send`` in
PostgreSQL's ``utils/adt/varbit.c``): an int32 bit count, then the bits
packed most significant first, padded with zeros to whole bytes.

Compiled by Cython (pure Python mode, types in ``bitstrings.pxd``).
"""

from __future__ import annotations

import struct
from typing import Any

from . import oids
from .codec import Codec, TypeSpec
from .codec import type_label as _type_label
from .values import BitString

_COUNT = struct.Struct("!i")


def decode_bits(data: bytes, pos: int = 0, n: int = -1) -> BitString:
    if n < 0:
        n = len(data) - pos
    if n < 4:
        raise ValueError(f"malformed bit string: {n} bytes")
    (count,) = _COUNT.unpack_from(data, pos)
    if count < 0 or (count + 7) // 8 != n - 4:
        raise ValueError(f"malformed bit string: {count} bits in {n - 4} bytes")
    return BitString.frombytes(data[pos + 4 : pos + n], count)


def encode_bits(value: Any) -> bytes:
    if isinstance(value, str):
        value = BitString(value)
    elif isinstance(value, (bytes, bytearray, memoryview)):
        value = BitString.frombytes(bytes(value))
    elif not isinstance(value, BitString):
        raise TypeError(f"bit/varbit expects BitString, str or bytes, got {_type_label(value)}")
    encoded: bytes = _COUNT.pack(len(value)) + value.bytes
    return encoded


def format_bits(value: Any) -> str:
    if isinstance(value, BitString):
        return value.bits()
    if isinstance(value, str):
        return value
    raise TypeError(f"bit/varbit expects BitString or str, got {_type_label(value)}")


class BitsCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_bits, encode_bits)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_bits(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_bits(value)


TYPES = (
    TypeSpec(oids.BIT, "bit", oids.BIT_ARRAY, BitsCodec(), BitString, format_bits),
    TypeSpec(oids.VARBIT, "varbit", oids.VARBIT_ARRAY, BitsCodec(), BitString, format_bits),
)
