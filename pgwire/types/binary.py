"""Binary-format codecs for the built-in scalar types.

Each decoder takes the ``bytes`` of one non-NULL column value (the slice of a
DataRow after its length word) and returns a Python object; each encoder takes
a Python object and returns the bytes of one Bind parameter.  Decoders are on
the hot path.  The scalar decoders also take ``(data, pos, n)``: the value is
the ``n`` bytes at ``pos`` (``n=-1``: up to the end), so a DataRow can be
decoded in place without slicing (see :mod:`pgwire.rows`); a malformed
length raises ``ValueError``.  The module is compiled by Cython (pure Python
mode, types in ``binary.pxd``): compiled, the decoders read the buffer in
place with C reads and build dates and times through the datetime C API.  Encoders validate their input and raise ``TypeError`` (a Python type
the codec does not take: a caller may retry such a value in text form),
``ValueError`` (a value PostgreSQL would reject, or an aware/naive mismatch)
or ``OverflowError`` (out of the type's range), always naming the type.

Mapping and documented behaviours:

* ``bool`` <-> ``bool``.  The encoder accepts only ``True``/``False``; ints
  such as 0/1 are rejected so that a wrong parameter type is caught early.
* ``int2``/``int4``/``int8``/``oid`` <-> ``int``.  Encoders accept ``int`` and
  any object with ``__index__`` (numpy integers...), never ``bool`` or
  ``float`` (not even ``1.0``), and check the range (``oid`` is unsigned).
* ``float4``/``float8`` <-> ``float``.  Encoders accept ``float`` and ``int``
  (not ``bool``, not ``Decimal``).  A float4 decodes to the exact value of the
  32-bit float (0.1 comes back as 0.10000000149011612).
* ``numeric`` <-> ``decimal.Decimal``, including ``NaN``, ``Infinity`` and
  ``-Infinity`` (PostgreSQL 14+).  The display scale is kept: ``Decimal('1.50')``
  comes back as ``Decimal('1.50')``.  A positive exponent is expanded, as the
  server does (``Decimal('1E+30')`` comes back as
  ``Decimal('1000000000000000000000000000000')``, the same value), and a negative
  zero comes back as zero.  The encoder also accepts ``int`` and ``float``
  (converted through its shortest ``repr``, so 0.1 is sent as 0.1).
* ``text``/``varchar``/``bpchar``/``name`` <-> ``str`` (UTF-8, the driver's
  client encoding).  Encoders accept only ``str``; NUL characters are rejected
  because PostgreSQL cannot store them.
* ``"char"`` (the one-byte type) <-> ``str`` of length 0 or 1: the raw byte is
  decoded as Latin-1, and the byte 0 (PostgreSQL's empty ``"char"``) as ``''``.
* ``bytea`` <-> ``bytes`` (the encoder also accepts ``bytearray`` and
  ``memoryview``, never ``str``).
* ``date`` <-> ``datetime.date``; ``timestamp`` <-> naive ``datetime``;
  ``timestamptz`` <-> aware ``datetime``, decoded in UTC
  (``tzinfo=datetime.timezone.utc``); any aware datetime is converted to UTC
  on encode, and a **naive datetime passed for timestamptz is taken as UTC**.
  An aware datetime passed for ``timestamp`` (without time zone), or an aware
  time for ``time``, is a ``ValueError`` rather than a silent drop of its
  offset; a ``datetime`` passed for ``date`` is a ``ValueError`` rather than a
  silent drop of its time.  (``ValueError``, not ``TypeError``: the right
  Python type in the wrong kind must not be retried in text form, where the
  server would drop the offset or time itself.)
* Infinity: ``'infinity'`` decodes to ``date.max`` / ``datetime.max`` and
  ``'-infinity'`` to ``date.min`` / ``datetime.min`` (with ``tzinfo=utc`` for
  timestamptz); symmetrically ``date.max``/``datetime.max`` encode as
  ``infinity`` and ``.min`` as ``-infinity`` (for timestamptz, whatever the
  tzinfo, when the wall-clock fields equal ``datetime.max``/``min``), so
  values round-trip.  The price: the real dates 9999-12-31 and 0001-01-01 are
  read as the infinities' stand-ins and written back as infinities.  Finite
  values outside Python's years 1-9999 raise :class:`UnrepresentableValueError`.
* ``time`` <-> naive ``datetime.time``; ``timetz`` <-> aware ``datetime.time``
  with a fixed-offset ``datetime.timezone`` (the wire carries seconds *west* of
  UTC; the sign is inverted for Python).  A naive time passed for ``timetz`` is
  taken as UTC.  PostgreSQL's ``24:00:00`` raises
  :class:`UnrepresentableValueError`.
* ``interval`` <-> ``datetime.timedelta``.  Months have no ``timedelta``
  equivalent: **each month decodes as 30 days** (PostgreSQL's own rule when it
  compares intervals), so ``'1 mon'`` comes back as ``timedelta(days=30)``.
  Encoding never sends months; days and microseconds carry the sign of the
  whole value (``timedelta(seconds=-1)`` is sent as ``-00:00:01``, not as
  ``-1 days +23:59:59``).  PostgreSQL 17's infinite intervals decode to
  ``timedelta.max``/``timedelta.min``; ``timedelta.max`` encodes as a finite
  interval (older servers have no infinite interval).
* ``uuid`` <-> ``uuid.UUID`` (the encoder also accepts a ``str``).
* ``json``/``jsonb`` <-> Python objects, through replaceable functions
  (``json.loads``/``json.dumps`` by default).  **A ``str`` parameter is taken as
  already-serialized JSON text** and sent as-is (so ``'{"a": 1}'`` is an object
  and the JSON string "hello" must be passed as ``'"hello"'``); anything else
  goes through the encoder function, which may return ``str`` or ``bytes``.
"""

from __future__ import annotations

import operator
import struct
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from .errors import UnrepresentableValueError

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    # Compiled, these come from binary.pxd (C functions and the datetime C API).
    from .._bytes import (
        read_float4,
        read_float8,
        read_int16,
        read_int32,
        read_int64,
        read_uint16,
        read_uint32,
    )

    def datetime_new(
        year: int, month: int, day: int, hour: int, minute: int, second: int, us: int, tz: Any
    ) -> datetime:
        return datetime(year, month, day, hour, minute, second, us, tz)

    def date_new(year: int, month: int, day: int) -> date:
        return date(year, month, day)

    def import_datetime() -> None:
        pass


import_datetime()

Decoder = Callable[[bytes], Any]
Encoder = Callable[[Any], bytes]

_INT2 = struct.Struct("!h")
_INT4 = struct.Struct("!i")
_INT8 = struct.Struct("!q")
_UINT4 = struct.Struct("!I")
_FLOAT4 = struct.Struct("!f")
_FLOAT8 = struct.Struct("!d")
_NUMERIC_HEAD = struct.Struct("!hhHH")  # ndigits, weight, sign, dscale
_TIMETZ = struct.Struct("!qi")  # microseconds since midnight, zone (seconds west)
_INTERVAL = struct.Struct("!qii")  # microseconds, days, months

# Bound methods looked up once: the decoders are called once per value.
_int2_unpack_from = _INT2.unpack_from
_int4_unpack_from = _INT4.unpack_from
_int8_unpack_from = _INT8.unpack_from
_uint4_unpack_from = _UINT4.unpack_from
_float4_unpack_from = _FLOAT4.unpack_from
_float8_unpack_from = _FLOAT8.unpack_from
_numeric_head_unpack_from = _NUMERIC_HEAD.unpack_from
_timetz_unpack_from = _TIMETZ.unpack_from
_interval_unpack_from = _INTERVAL.unpack_from
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

_US_PER_DAY = 86_400_000_000


def _type_label(value: object) -> str:
    return type(value).__qualname__


def _malformed(type_name: str, n: int) -> ValueError:
    return ValueError(f"malformed {type_name} value: {n} bytes")


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
    if INT2_MIN <= value <= INT2_MAX:
        return _int2_pack(value)
    raise OverflowError(f"value {value} out of int2 range")


def encode_int4(value: Any) -> bytes:
    if type(value) is not int:
        value = _as_int(value, "int4")
    if INT4_MIN <= value <= INT4_MAX:
        return _int4_pack(value)
    raise OverflowError(f"value {value} out of int4 range")


def encode_int8(value: Any) -> bytes:
    if type(value) is not int:
        value = _as_int(value, "int8")
    if INT8_MIN <= value <= INT8_MAX:
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
    return _float8_pack(value)


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
    digits = "".join([_DIGIT4[d] for d in _digit_struct(ndigits).unpack_from(data, pos + 8)])
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


# -- text-like ----------------------------------------------------------------


def decode_text(data: bytes, pos: int = 0, n: int = -1) -> str:
    if n < 0:
        n = len(data) - pos
    return data[pos : pos + n].decode("utf-8")


def make_text_encoder(type_name: str) -> Encoder:
    """A str encoder whose errors name ``type_name`` (text, varchar, ...)."""

    def encode_text(value: Any) -> bytes:
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError(f"{type_name} values cannot contain NUL (\\x00) characters")
            return value.encode("utf-8")
        raise TypeError(f"{type_name} expects str, got {_type_label(value)}")

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


# -- date and time --------------------------------------------------------------
# Dates are int32 days and timestamps int64 microseconds since 2000-01-01.

_PG_EPOCH_ORDINAL = date(2000, 1, 1).toordinal()
_PG_EPOCH = datetime(2000, 1, 1)
_PG_EPOCH_UTC = datetime(2000, 1, 1, tzinfo=timezone.utc)
DATE_POS_INFINITY = INT4_MAX
DATE_NEG_INFINITY = INT4_MIN
TIMESTAMP_POS_INFINITY = INT8_MAX
TIMESTAMP_NEG_INFINITY = INT8_MIN
_DATE_POS_INF_BYTES = _int4_pack(DATE_POS_INFINITY)
_DATE_NEG_INF_BYTES = _int4_pack(DATE_NEG_INFINITY)
_TS_POS_INF_BYTES = _int8_pack(TIMESTAMP_POS_INFINITY)
_TS_NEG_INF_BYTES = _int8_pack(TIMESTAMP_NEG_INFINITY)
_DATE_MAX = date.max
_DATE_MIN = date.min
_DATETIME_MAX = datetime.max
_DATETIME_MIN = datetime.min
_DATETIME_MAX_UTC = datetime.max.replace(tzinfo=timezone.utc)
_DATETIME_MIN_UTC = datetime.min.replace(tzinfo=timezone.utc)
_UTC = timezone.utc


_MAX_ORDINAL = date.max.toordinal()


def _date_special(days: int) -> date:
    if days == DATE_POS_INFINITY:
        return _DATE_MAX
    if days == DATE_NEG_INFINITY:
        return _DATE_MIN
    raise UnrepresentableValueError(
        "date", f"{days} days from 2000-01-01 is outside years 1-9999"
    )


@cython.cdivision(True)  # ordinal >= 1: no quotient of a negative number
def _ymd(ordinal: int) -> int:
    """The date of day ``ordinal`` (1 is 0001-01-01) as ``year * 10000 + month * 100 + day``.

    Used by the compiled build to build dates in C.  Counts in eras of 400
    years from 0000-03-01, so that a leap day is the last day of its year.
    """
    z = ordinal + 305  # days since 0000-03-01
    era = z // 146097
    doe = z - era * 146097  # day of the era, 0..146096
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365  # year of the era
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)  # day of that year, from March 1st
    mp = (5 * doy + 2) // 153  # month, from March = 0
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    year = era * 400 + yoe + (1 if month <= 2 else 0)
    return year * 10000 + month * 100 + day


def _datetime_from_us(us: int, tz: Any) -> datetime:
    """``us`` microseconds after 2000-01-01 00:00 (within datetime's range), built in C."""
    days = us // _US_PER_DAY
    rest = us - days * _US_PER_DAY
    ymd = _ymd(days + _PG_EPOCH_ORDINAL)
    seconds = rest // 1_000_000
    return datetime_new(
        ymd // 10000, ymd // 100 % 100, ymd % 100,
        seconds // 3600, seconds // 60 % 60, seconds % 60, rest % 1_000_000, tz,
    )


def decode_date(data: bytes, pos: int = 0, n: int = -1) -> date:
    if n < 0:
        n = len(data) - pos
    if n != 4:
        raise _malformed("date", n)
    if cython.compiled:
        days = read_int32(data, pos)
        ordinal = days + _PG_EPOCH_ORDINAL
        if ordinal < 1 or ordinal > _MAX_ORDINAL:
            return _date_special(days)
        ymd = _ymd(ordinal)
        return date_new(ymd // 10000, ymd // 100 % 100, ymd % 100)
    days = _int4_unpack_from(data, pos)[0]
    try:
        return date.fromordinal(days + _PG_EPOCH_ORDINAL)
    except (ValueError, OverflowError):
        # Infinities are checked only here, off the common path.
        return _date_special(days)


def encode_date(value: Any) -> bytes:
    if not isinstance(value, date):
        raise TypeError(f"date expects datetime.date, got {_type_label(value)}")
    if isinstance(value, datetime):
        # ValueError, not TypeError: a caller's text fallback would let the
        # server drop the time silently.
        raise ValueError("date expects a datetime.date, got a datetime; call .date() first")
    if value == _DATE_MAX:
        return _DATE_POS_INF_BYTES
    if value == _DATE_MIN:
        return _DATE_NEG_INF_BYTES
    return _int4_pack(value.toordinal() - _PG_EPOCH_ORDINAL)


def _timestamp_special(us: int, type_name: str) -> datetime:
    utc = type_name == "timestamptz"
    if us == TIMESTAMP_POS_INFINITY:
        return _DATETIME_MAX_UTC if utc else _DATETIME_MAX
    if us == TIMESTAMP_NEG_INFINITY:
        return _DATETIME_MIN_UTC if utc else _DATETIME_MIN
    raise UnrepresentableValueError(
        type_name, f"{us} microseconds from 2000-01-01 is outside years 1-9999"
    )


# Microseconds from 2000-01-01 00:00 that datetime can represent.
_TS_MIN_US = (1 - _PG_EPOCH_ORDINAL) * _US_PER_DAY
_TS_MAX_US = (_MAX_ORDINAL + 1 - _PG_EPOCH_ORDINAL) * _US_PER_DAY - 1


def decode_timestamp(data: bytes, pos: int = 0, n: int = -1) -> datetime:
    if n < 0:
        n = len(data) - pos
    if n != 8:
        raise _malformed("timestamp", n)
    if cython.compiled:
        us = read_int64(data, pos)
        if us < _TS_MIN_US or us > _TS_MAX_US:
            return _timestamp_special(us, "timestamp")
        return _datetime_from_us(us, None)
    us = _int8_unpack_from(data, pos)[0]
    try:
        return _PG_EPOCH + timedelta(0, 0, us)
    except OverflowError:
        return _timestamp_special(us, "timestamp")


def decode_timestamptz(data: bytes, pos: int = 0, n: int = -1) -> datetime:
    if n < 0:
        n = len(data) - pos
    if n != 8:
        raise _malformed("timestamptz", n)
    if cython.compiled:
        us = read_int64(data, pos)
        if us < _TS_MIN_US or us > _TS_MAX_US:
            return _timestamp_special(us, "timestamptz")
        return _datetime_from_us(us, _UTC)
    us = _int8_unpack_from(data, pos)[0]
    try:
        return _PG_EPOCH_UTC + timedelta(0, 0, us)
    except OverflowError:
        return _timestamp_special(us, "timestamptz")


def _delta_us(delta: timedelta) -> int:
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def encode_timestamp(value: Any) -> bytes:
    if not isinstance(value, datetime):
        raise TypeError(f"timestamp expects datetime.datetime, got {_type_label(value)}")
    if value.tzinfo is not None and value.utcoffset() is not None:
        # ValueError, not TypeError: a text fallback would drop the offset.
        raise ValueError(
            "timestamp (without time zone) expects a naive datetime, got an aware one;"
            " use timestamptz or drop the tzinfo"
        )
    if value == _DATETIME_MAX:
        return _TS_POS_INF_BYTES
    if value == _DATETIME_MIN:
        return _TS_NEG_INF_BYTES
    return _int8_pack(_delta_us(value - _PG_EPOCH))


def encode_timestamptz(value: Any) -> bytes:
    if not isinstance(value, datetime):
        raise TypeError(f"timestamptz expects datetime.datetime, got {_type_label(value)}")
    offset = value.utcoffset()
    if offset is None:
        # Naive: documented as UTC.  (A tzinfo that gives no offset is naive
        # too, and Python compares and subtracts such values as naive.)
        if value == _DATETIME_MAX:
            return _TS_POS_INF_BYTES
        if value == _DATETIME_MIN:
            return _TS_NEG_INF_BYTES
        return _int8_pack(_delta_us(value - _PG_EPOCH))
    year = value.year
    if year == 9999 or year == 1:  # only then can the wall clock be max/min
        wall = value.replace(tzinfo=None)
        if wall == _DATETIME_MAX:
            return _TS_POS_INF_BYTES
        if wall == _DATETIME_MIN:
            return _TS_NEG_INF_BYTES
    # Aware subtraction accounts for the offset and cannot overflow.
    return _int8_pack(_delta_us(value - _PG_EPOCH_UTC))


def _time_from_us(us: int, type_name: str, tzinfo: timezone | None) -> time:
    seconds, micro = divmod(us, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    try:
        return time(hour, minute, second, micro, tzinfo)
    except ValueError:
        if us == _US_PER_DAY:
            raise UnrepresentableValueError(
                type_name, "24:00:00 is not a valid datetime.time"
            ) from None
        raise ValueError(f"malformed {type_name} value: {us} microseconds") from None


def decode_time(data: bytes, pos: int = 0, n: int = -1) -> time:
    if n < 0:
        n = len(data) - pos
    if n != 8:
        raise _malformed("time", n)
    return _time_from_us(_int8_unpack_from(data, pos)[0], "time", None)


# Fixed-offset zones are immutable; sharing one per offset saves an allocation
# per value.  PostgreSQL bounds offsets to +/-15:59:59, so the cache is bounded.
_ZONES: dict[int, timezone] = {0: _UTC}


def _zone(west_seconds: int) -> timezone:
    tz = _ZONES.get(west_seconds)
    if tz is None:
        try:
            tz = timezone(timedelta(seconds=-west_seconds))
        except ValueError:
            raise UnrepresentableValueError(
                "timetz", f"zone offset of {west_seconds} seconds is out of range"
            ) from None
        _ZONES[west_seconds] = tz
    return tz


def decode_timetz(data: bytes, pos: int = 0, n: int = -1) -> time:
    if n < 0:
        n = len(data) - pos
    if n != 12:
        raise _malformed("timetz", n)
    us, west = _timetz_unpack_from(data, pos)
    return _time_from_us(us, "timetz", _zone(west))


def _time_us(value: time) -> int:
    return ((value.hour * 60 + value.minute) * 60 + value.second) * 1_000_000 + value.microsecond


def encode_time(value: Any) -> bytes:
    if not isinstance(value, time):
        raise TypeError(f"time expects datetime.time, got {_type_label(value)}")
    if value.tzinfo is not None and value.utcoffset() is not None:
        raise ValueError(
            "time (without time zone) expects a naive datetime.time, got an aware one;"
            " use timetz or drop the tzinfo"
        )
    return _int8_pack(_time_us(value))


_TZDISP_LIMIT = 16 * 3600  # PostgreSQL rejects offsets of 16 hours or more


def encode_timetz(value: Any) -> bytes:
    if not isinstance(value, time):
        raise TypeError(f"timetz expects datetime.time, got {_type_label(value)}")
    offset = value.utcoffset()
    if offset is None:
        if value.tzinfo is not None:
            # e.g. a ZoneInfo: its offset depends on a date that a time lacks.
            raise ValueError(
                f"timetz needs a fixed UTC offset; {value.tzinfo!r} gives none for a time"
            )
        west = 0  # naive: documented as UTC
    else:
        if offset.microseconds:
            raise ValueError("timetz offsets must be whole seconds")
        west = -(offset.days * 86400 + offset.seconds)
        if not -_TZDISP_LIMIT < west < _TZDISP_LIMIT:
            raise OverflowError(f"timetz offset {offset} out of range (at most 15:59:59)")
    return _TIMETZ.pack(_time_us(value), west)


# -- interval -------------------------------------------------------------------

_DAYS_PER_MONTH = 30


def decode_interval(data: bytes, pos: int = 0, n: int = -1) -> timedelta:
    if n < 0:
        n = len(data) - pos
    if n != 16:
        raise _malformed("interval", n)
    us, days, months = _interval_unpack_from(data, pos)
    try:
        return timedelta(days=days + months * _DAYS_PER_MONTH, microseconds=us)
    except OverflowError:
        if us == INT8_MAX and days == INT4_MAX and months == INT4_MAX:
            return timedelta.max  # PostgreSQL 17 'infinity'
        if us == INT8_MIN and days == INT4_MIN and months == INT4_MIN:
            return timedelta.min
        raise UnrepresentableValueError(
            "interval", f"{months} months {days} days {us} microseconds exceeds timedelta's range"
        ) from None


def encode_interval(value: Any) -> bytes:
    if not isinstance(value, timedelta):
        raise TypeError(f"interval expects datetime.timedelta, got {_type_label(value)}")
    total = _delta_us(value)
    # Both fields carry the sign of the whole value (see the module docstring);
    # |days| <= 999999999 always fits int32.
    if total >= 0:
        days, us = divmod(total, _US_PER_DAY)
    else:
        days, us = divmod(-total, _US_PER_DAY)
        days = -days
        us = -us
    return _INTERVAL.pack(us, days, 0)


# -- uuid -------------------------------------------------------------------------


def decode_uuid(data: bytes, pos: int = 0, n: int = -1) -> UUID:
    if n < 0:
        n = len(data) - pos
    if n != 16:
        raise _malformed("uuid", n)
    return UUID(bytes=data[pos : pos + 16])


def encode_uuid(value: Any) -> bytes:
    if isinstance(value, UUID):
        return value.bytes
    if isinstance(value, str):
        try:
            return UUID(value).bytes
        except ValueError:
            raise ValueError(f"uuid: invalid UUID string {value!r}") from None
    raise TypeError(f"uuid expects uuid.UUID or str, got {_type_label(value)}")


# -- json / jsonb -------------------------------------------------------------------
# The functions are built around the JSON callables so that a registry can
# swap them (set_json_decoder / set_json_encoder) without a lookup per value.

JSONB_VERSION = 1


# Decoders that also take ``(data, pos, n)`` and read the value in place.
IN_PLACE_DECODERS = frozenset({
    decode_bool, decode_int2, decode_int4, decode_int8, decode_oid, decode_float4,
    decode_float8, decode_numeric, decode_text, decode_char, decode_bytea, decode_date,
    decode_time, decode_timetz, decode_timestamp, decode_timestamptz, decode_interval,
    decode_uuid,
})


def make_json_decoder(loads: Callable[[str], Any]) -> Decoder:
    def decode_json(data: bytes) -> Any:
        return loads(data.decode("utf-8"))

    return decode_json


def make_jsonb_decoder(loads: Callable[[str], Any]) -> Decoder:
    def decode_jsonb(data: bytes) -> Any:
        if data[0] != JSONB_VERSION:
            raise ValueError(f"unsupported jsonb binary format version {data[0]}")
        return loads(data[1:].decode("utf-8"))

    return decode_jsonb


def json_text(value: Any, dumps: Callable[[Any], Any], type_name: str) -> bytes:
    """Serialize a json/jsonb parameter: a str is taken as JSON text already."""
    if isinstance(value, str):
        return value.encode("utf-8")
    text = dumps(value)
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray)):  # e.g. orjson.dumps
        return bytes(text)
    raise TypeError(
        f"{type_name} encoder function returned {_type_label(text)}, expected str or bytes"
    )


def make_json_encoder(dumps: Callable[[Any], Any]) -> Encoder:
    def encode_json(value: Any) -> bytes:
        return json_text(value, dumps, "json")

    return encode_json


_JSONB_PREFIX = bytes((JSONB_VERSION,))


def make_jsonb_encoder(dumps: Callable[[Any], Any]) -> Encoder:
    def encode_jsonb(value: Any) -> bytes:
        return _JSONB_PREFIX + json_text(value, dumps, "jsonb")

    return encode_jsonb
