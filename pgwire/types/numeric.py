"""Numbers and booleans: bool, int2, int4, int8, oid, float4, float8, numeric.

Binary codecs and text parsers of each type, and the ``TYPES`` the registry
installs.  Compiled by Cython (pure Python mode, types in ``numeric.pxd``):
the decoders read a DataRow buffer in place with C reads.  Encoders
validate their input and raise ``TypeError`` (a Python type the codec does
not take: a caller may retry such a value in text form), ``ValueError`` (a
value PostgreSQL would reject) or ``OverflowError`` (out of the type's
range), always naming the type.

* ``bool`` <-> ``bool``.  The encoder accepts only ``True``/``False``; ints
  such as 0/1 are rejected so that a wrong parameter type is caught early.
* ``int2``/``int4``/``int8``/``oid`` <-> ``int``.  Encoders accept ``int`` and
  any object with ``__index__`` (numpy integers...), never ``bool`` or
  ``float`` (not even ``1.0``), and check the range (``oid`` is unsigned).
* ``float4``/``float8`` <-> ``float``.  Encoders accept ``float`` and ``int``
  (not ``bool``, not ``Decimal``).  A float4 decodes to the exact value of the
  32-bit float (0.1 comes back as 0.10000000149011612), in text format too.
* ``numeric`` <-> ``decimal.Decimal``, including ``NaN``, ``Infinity`` and
  ``-Infinity`` (PostgreSQL 14+).  The display scale is kept: ``Decimal('1.50')``
  comes back as ``Decimal('1.50')``.  A positive exponent is expanded, as the
  server does (``Decimal('1E+30')`` comes back as
  ``Decimal('1000000000000000000000000000000')``, the same value), and a negative
  zero comes back as zero.  The encoder also accepts ``int`` and ``float``
  (converted through its shortest ``repr``, so 0.1 is sent as 0.1).
"""

from __future__ import annotations

import operator
import struct
from decimal import Decimal
from typing import Any

from . import oids
from .codec import Codec, TypeSpec
from .codec import malformed as _malformed
from .codec import type_label as _type_label

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    # Compiled, these come from numeric.pxd (C functions).
    from .._bytes import (
        pack_float8,
        pack_int_fitting,
        read_float4,
        read_float8,
        read_int16,
        read_int32,
        read_int64,
        read_uint16,
        read_uint32,
    )

_INT2 = struct.Struct("!h")
_INT4 = struct.Struct("!i")
_INT8 = struct.Struct("!q")
_UINT4 = struct.Struct("!I")
_FLOAT4 = struct.Struct("!f")
_FLOAT8 = struct.Struct("!d")
_NUMERIC_HEAD = struct.Struct("!hhHH")  # ndigits, weight, sign, dscale

# Bound methods looked up once: the decoders are called once per value.
_int2_unpack_from = _INT2.unpack_from
_int4_unpack_from = _INT4.unpack_from
_int8_unpack_from = _INT8.unpack_from
_uint4_unpack_from = _UINT4.unpack_from
_float4_unpack_from = _FLOAT4.unpack_from
_float8_unpack_from = _FLOAT8.unpack_from
_numeric_head_unpack_from = _NUMERIC_HEAD.unpack_from
_int2_pack = _INT2.pack
_int4_pack = _INT4.pack
_int8_pack = _INT8.pack
_uint4_pack = _UINT4.pack
_float4_pack = _FLOAT4.pack
_float8_pack = _FLOAT8.pack

INT2_MIN, INT2_MAX = -(2**15), 2**15 - 1
INT4_MIN, INT4_MAX = -(2**31), 2**31 - 1
INT8_MIN, INT8_MAX = -(2**63), 2**63 - 1
OID_MAX = 2**32 - 1


# -- bool ---------------------------------------------------------------------

_TRUE = b"\x01"
_FALSE = b"\x00"


def decode_bool(data: bytes, pos: int = 0, n: int = -1) -> bool:
    if n < 0:
        n = len(data) - pos
    if n != 1:
        raise _malformed("bool", n)
    return data[pos] != 0


def encode_bool(value: Any) -> bytes:
    # Identity checks: 1/0 and numpy booleans are deliberately not accepted.
    if value is True:
        return _TRUE
    if value is False:
        return _FALSE
    raise TypeError(f"bool expects bool, got {_type_label(value)}")


def parse_bool(text: str) -> bool:
    if text == "t":
        return True
    if text == "f":
        return False
    raise ValueError(f"malformed bool value {text!r}")



# -- integers -----------------------------------------------------------------


def decode_int2(data: bytes, pos: int = 0, n: int = -1) -> int:
    if n < 0:
        n = len(data) - pos
    if n != 2:
        raise _malformed("int2", n)
    if cython.compiled:
        return read_int16(data, pos)
    return _int2_unpack_from(data, pos)[0]  # type: ignore[no-any-return]


def decode_int4(data: bytes, pos: int = 0, n: int = -1) -> int:
    if n < 0:
        n = len(data) - pos
    if n != 4:
        raise _malformed("int4", n)
    if cython.compiled:
        return read_int32(data, pos)
    return _int4_unpack_from(data, pos)[0]  # type: ignore[no-any-return]


def decode_int8(data: bytes, pos: int = 0, n: int = -1) -> int:
    if n < 0:
        n = len(data) - pos
    if n != 8:
        raise _malformed("int8", n)
    if cython.compiled:
        return read_int64(data, pos)
    return _int8_unpack_from(data, pos)[0]  # type: ignore[no-any-return]


def decode_oid(data: bytes, pos: int = 0, n: int = -1) -> int:
    if n < 0:
        n = len(data) - pos
    if n != 4:
        raise _malformed("oid", n)
    if cython.compiled:
        return read_uint32(data, pos)
    return _uint4_unpack_from(data, pos)[0]  # type: ignore[no-any-return]


def _as_int(value: Any, type_name: str) -> int:
    """Slow path of the integer encoders: anything that is not exactly an int."""
    if isinstance(value, bool):
        raise TypeError(f"{type_name} expects int, got bool")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(
            f"{type_name} expects int (or an object with __index__), got {_type_label(value)}"
        ) from None


def encode_int2(value: Any) -> bytes:
    if type(value) is not int:
        value = _as_int(value, "int2")
    if cython.compiled:
        data = pack_int_fitting(value, 2)
        if data is not None:
            return data
    elif INT2_MIN <= value <= INT2_MAX:
        return _int2_pack(value)
    raise OverflowError(f"value {value} out of int2 range")


def encode_int4(value: Any) -> bytes:
    if type(value) is not int:
        value = _as_int(value, "int4")
    if cython.compiled:
        data = pack_int_fitting(value, 4)
        if data is not None:
            return data
    elif INT4_MIN <= value <= INT4_MAX:
        return _int4_pack(value)
    raise OverflowError(f"value {value} out of int4 range")


def encode_int8(value: Any) -> bytes:
    if type(value) is not int:
        value = _as_int(value, "int8")
    if cython.compiled:
        data = pack_int_fitting(value, 8)
        if data is not None:
            return data
    elif INT8_MIN <= value <= INT8_MAX:
        return _int8_pack(value)
    raise OverflowError(f"value {value} out of int8 range")


def encode_oid(value: Any) -> bytes:
    if type(value) is not int:
        value = _as_int(value, "oid")
    if 0 <= value <= OID_MAX:
        return _uint4_pack(value)
    raise OverflowError(f"value {value} out of oid range")


# -- floats -------------------------------------------------------------------


def decode_float4(data: bytes, pos: int = 0, n: int = -1) -> float:
    if n < 0:
        n = len(data) - pos
    if n != 4:
        raise _malformed("float4", n)
    if cython.compiled:
        return read_float4(data, pos)
    return _float4_unpack_from(data, pos)[0]  # type: ignore[no-any-return]


def decode_float8(data: bytes, pos: int = 0, n: int = -1) -> float:
    if n < 0:
        n = len(data) - pos
    if n != 8:
        raise _malformed("float8", n)
    if cython.compiled:
        return read_float8(data, pos)
    return _float8_unpack_from(data, pos)[0]  # type: ignore[no-any-return]


def _as_float(value: Any, type_name: str) -> float:
    if isinstance(value, float):  # float subclasses, e.g. numpy.float64
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise OverflowError(f"value {value} out of {type_name} range") from None
    raise TypeError(f"{type_name} expects float or int, got {_type_label(value)}")


def encode_float4(value: Any) -> bytes:
    if type(value) is not float:
        value = _as_float(value, "float4")
    try:
        return _float4_pack(value)
    except OverflowError:
        raise OverflowError(f"value {value!r} out of float4 range") from None


def encode_float8(value: Any) -> bytes:
    if type(value) is not float:
        value = _as_float(value, "float8")
    if cython.compiled:
        return pack_float8(value)
    return _float8_pack(value)


def parse_float4(text: str) -> float:
    """float4 text, rounded to single precision like the binary value."""
    return _float4_unpack_from(_float4_pack(float(text)))[0]  # type: ignore[no-any-return]


# -- numeric ------------------------------------------------------------------
# Wire format: int16 ndigits, int16 weight, uint16 sign, uint16 dscale, then
# ndigits base-10000 digits (uint16); the first digit is worth 10000**weight.

NUMERIC_POS = 0x0000
NUMERIC_NEG = 0x4000
NUMERIC_NAN = 0xC000
NUMERIC_PINF = 0xD000
NUMERIC_NINF = 0xF000
_NUMERIC_DSCALE_MAX = 0x3FFF  # PostgreSQL keeps dscale in 14 bits

_NUMERIC_SIGN_POS = NUMERIC_POS  # private copies are C constants when compiled
_NUMERIC_SIGN_NEG = NUMERIC_NEG
# Up to this many base-10000 digits (and zeros to add), the compiled build
# writes a numeric's text in a C buffer; larger values take the Python path.
_NUMERIC_BUFFER_DIGITS = 128

_NUMERIC_NAN_BYTES = _NUMERIC_HEAD.pack(0, 0, NUMERIC_NAN, 0)
_NUMERIC_PINF_BYTES = _NUMERIC_HEAD.pack(0, 0, NUMERIC_PINF, 0)
_NUMERIC_NINF_BYTES = _NUMERIC_HEAD.pack(0, 0, NUMERIC_NINF, 0)
_DECIMAL_NAN = Decimal("NaN")
_DECIMAL_PINF = Decimal("Infinity")
_DECIMAL_NINF = Decimal("-Infinity")

# One base-10000 digit -> its four decimal characters.  A digit > 9999 (bad
# input) raises IndexError instead of producing a wrong number.
_DIGIT4 = tuple(f"{i:04d}" for i in range(10000))
_DIGIT_STRUCTS = tuple(struct.Struct(f"!{n}H") for n in range(64))


def _digit_struct(ndigits: int) -> struct.Struct:
    if ndigits < 64:
        return _DIGIT_STRUCTS[ndigits]
    return struct.Struct(f"!{ndigits}H")


def decode_numeric(data: bytes, pos: int = 0, n: int = -1) -> Decimal:
    if n < 0:
        n = len(data) - pos
    if n < 8:
        raise _malformed("numeric", n)
    if cython.compiled:
        ndigits = read_int16(data, pos)
        weight = read_int16(data, pos + 2)
        sign = read_uint16(data, pos + 4)
        dscale = read_uint16(data, pos + 6)
    else:
        ndigits, weight, sign, dscale = _numeric_head_unpack_from(data, pos)
    if sign != _NUMERIC_SIGN_POS and sign != _NUMERIC_SIGN_NEG:
        return _numeric_special(sign)
    if n != 8 + 2 * ndigits:
        raise ValueError(f"malformed numeric value: {n} bytes for {ndigits} digits")
    # Exponent of the last character is (weight + 1 - ndigits) * 4; rescale the
    # string so that it becomes -dscale, which keeps trailing zeros like 1.50.
    shift = (weight + 1 - ndigits) * 4 + dscale
    if cython.compiled and 4 * ndigits + max(shift, 0) <= 4 * _NUMERIC_BUFFER_DIGITS:
        return _numeric_from_buffer(data, pos + 8, ndigits, shift, sign, dscale)
    # Build the decimal string directly: int -> str would be quadratic and is
    # capped at 4300 digits, while numeric allows over 100000.
    groups = _digit_struct(ndigits).unpack_from(data, pos + 8)
    if groups and max(groups) > 9999:
        raise ValueError(f"malformed numeric value: digit {max(groups)}")
    digits = "".join([_DIGIT4[d] for d in groups])
    if shift > 0:
        digits += "0" * shift
    elif shift < 0:
        digits = digits[:shift]  # drops the padding zeros of the last group
    if sign == _NUMERIC_SIGN_NEG:
        return Decimal(f"-{digits or '0'}E-{dscale}")
    return Decimal(f"{digits or '0'}E-{dscale}")


@cython.cdivision(True)  # no quotient of a negative number
def _numeric_from_buffer(
    data: bytes, pos: int, ndigits: int, shift: int, sign: int, dscale: int
) -> Decimal:
    """Compiled build only: decode_numeric's text written in a C buffer.

    The same text as the Python path: the digits of the base-10000 groups
    at ``pos``, ``shift`` zeros added (or characters dropped) to reach the
    exponent ``-dscale``, then ``E-dscale``.
    """
    text = cython.declare(cython.char[528])  # 4 * _NUMERIC_BUFFER_DIGITS + 16
    k = 0
    if sign == _NUMERIC_SIGN_NEG:
        text[0] = 45  # "-"
        k = 1
    start = k
    for i in range(ndigits):
        digit = read_uint16(data, pos + 2 * i)
        if digit > 9999:
            raise ValueError(f"malformed numeric value: digit {digit}")
        text[k] = 48 + digit // 1000
        text[k + 1] = 48 + digit // 100 % 10
        text[k + 2] = 48 + digit // 10 % 10
        text[k + 3] = 48 + digit % 10
        k += 4
    if shift < 0:
        k = max(k + shift, start)  # drops the padding zeros of the last group
    for _ in range(shift):
        text[k] = 48
        k += 1
    if k == start:
        text[k] = 48
        k += 1
    text[k] = 69  # "E"
    text[k + 1] = 45  # "-"
    k += 2
    # dscale < 100000: at most five digits, without leading zeros.
    power = 10000
    while power > 1 and dscale < power:
        power //= 10
    while power:
        text[k] = 48 + dscale // power % 10
        k += 1
        power //= 10
    return Decimal(text[:k].decode("ascii"))


def _numeric_special(sign: int) -> Decimal:
    if sign == NUMERIC_NAN:
        return _DECIMAL_NAN
    if sign == NUMERIC_PINF:
        return _DECIMAL_PINF
    if sign == NUMERIC_NINF:
        return _DECIMAL_NINF
    raise ValueError(f"malformed numeric value: unknown sign word 0x{sign:04X}")


def _as_decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))  # shortest repr: 0.1 -> Decimal('0.1')
    if not isinstance(value, bool):
        try:
            return Decimal(operator.index(value))
        except TypeError:
            pass
    raise TypeError(f"numeric expects Decimal, int or float, got {_type_label(value)}")


def encode_numeric(value: Any) -> bytes:
    if type(value) is not Decimal:
        value = _as_decimal(value)
    sign, coefficient, exp = value.as_tuple()
    if not isinstance(exp, int):  # 'n'/'N' (NaN, sNaN) or 'F' (infinity)
        if exp == "F":
            return _NUMERIC_NINF_BYTES if sign else _NUMERIC_PINF_BYTES
        return _NUMERIC_NAN_BYTES
    dscale = -exp if exp < 0 else 0
    if dscale > _NUMERIC_DSCALE_MAX:
        raise OverflowError(f"value {value} out of numeric range (more than 16383 decimals)")
    # Align the decimal digits on base-10000 groups: the group of the digit
    # worth 10**p is p // 4.  Padding depends only on exp modulo 4, so huge
    # exponents (1E+30, 1E-30) cost nothing.
    top = len(coefficient) - 1 + exp  # power of ten of the leading digit
    padded = (0,) * (3 - top % 4) + coefficient + (0,) * (exp % 4)
    groups = [
        padded[i] * 1000 + padded[i + 1] * 100 + padded[i + 2] * 10 + padded[i + 3]
        for i in range(0, len(padded), 4)
    ]
    weight = top // 4
    start = 0
    end = len(groups)
    while start < end and groups[start] == 0:
        start += 1
        weight -= 1
    while end > start and groups[end - 1] == 0:
        end -= 1
    ndigits = end - start
    if ndigits == 0:  # zero, whatever its sign: PostgreSQL has no -0
        return _NUMERIC_HEAD.pack(0, 0, NUMERIC_POS, dscale)
    if weight > INT2_MAX or weight < INT2_MIN or ndigits > INT2_MAX:
        raise OverflowError(f"value {value} out of numeric range")
    return _NUMERIC_HEAD.pack(
        ndigits, weight, NUMERIC_NEG if sign else NUMERIC_POS, dscale
    ) + _digit_struct(ndigits).pack(*groups[start:end])


# -- codecs -----------------------------------------------------------------------


class BoolCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_bool, encode_bool)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_bool(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_bool(value)


class Int2Codec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_int2, encode_int2)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_int2(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_int2(value)


class Int4Codec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_int4, encode_int4)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_int4(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_int4(value)


class Int8Codec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_int8, encode_int8)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_int8(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_int8(value)


class OidCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_oid, encode_oid)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_oid(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_oid(value)


class Float4Codec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_float4, encode_float4)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_float4(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_float4(value)


class Float8Codec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_float8, encode_float8)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_float8(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_float8(value)


class NumericCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_numeric, encode_numeric)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_numeric(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_numeric(value)


TYPES = (
    TypeSpec(oids.BOOL, "bool", oids.BOOL_ARRAY, BoolCodec(), parse_bool),
    TypeSpec(oids.INT2, "int2", oids.INT2_ARRAY, Int2Codec(), int),
    TypeSpec(oids.INT4, "int4", oids.INT4_ARRAY, Int4Codec(), int),
    TypeSpec(oids.INT8, "int8", oids.INT8_ARRAY, Int8Codec(), int),
    TypeSpec(oids.OID, "oid", oids.OID_ARRAY, OidCodec(), int),
    TypeSpec(oids.FLOAT4, "float4", oids.FLOAT4_ARRAY, Float4Codec(), parse_float4),
    TypeSpec(oids.FLOAT8, "float8", oids.FLOAT8_ARRAY, Float8Codec(), float),
    TypeSpec(oids.NUMERIC, "numeric", oids.NUMERIC_ARRAY, NumericCodec(), Decimal),
)
