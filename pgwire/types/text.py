"""Text-format codecs: the fallback when a value cannot travel in binary.

Decoding.  A type without a text parser comes back as ``str`` (the UTF-8 text
the server sent), never as an exception.  The built-in types do have parsers,
returning the same Python types as their binary codecs, so results of the
simple query protocol (always text) look like extended-query results.  They
assume the server's default output styles, which a driver should pin at
startup: ``DateStyle=ISO``, ``IntervalStyle=postgres``; ``bytea_output`` may
be hex or escape.
Infinities map as in :mod:`pgwire.types.binary`; dates before year 1 (BC) or
after 9999 raise :class:`UnrepresentableValueError`.

Encoding.  :func:`format_value` turns a parameter into its text form when no
binary encoder applies: ``str`` as-is; ``bool`` -> ``t``/``f``; ``int``,
``float`` (``NaN``/``Infinity``/``-Infinity``) and ``Decimal`` -> decimal
text; ``bytes``-like -> bytea hex (``\\x...``); ``date``/``datetime``/``time``
-> ISO 8601 (``date.max``/``datetime.max`` -> ``infinity``, ``.min`` ->
``-infinity``); ``timedelta`` -> an interval literal; ``UUID`` -> its canonical
form; ``list``/``tuple`` -> an array literal.  Anything else raises
``TypeError``: guessing a text form for arbitrary objects (``str(obj)``) would
send reprs to the server.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

from .arrays import format_array_text
from .errors import UnrepresentableValueError

TextParser = Callable[[str], Any]
TextFormatter = Callable[[Any], str]

_float4_struct = struct.Struct("!f")
_float4_round_pack = _float4_struct.pack
_float4_round = _float4_struct.unpack

_UTC = timezone.utc
_DATETIME_MAX_UTC = datetime.max.replace(tzinfo=_UTC)
_DATETIME_MIN_UTC = datetime.min.replace(tzinfo=_UTC)


# -- parsers ----------------------------------------------------------------------


def parse_float4(text: str) -> float:
    """float4 text, rounded to single precision like the binary value."""
    return _float4_round(_float4_round_pack(float(text)))[0]  # type: ignore[no-any-return]


def parse_bool(text: str) -> bool:
    if text == "t":
        return True
    if text == "f":
        return False
    raise ValueError(f"malformed bool value {text!r}")


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


def _parse_ymd(text: str, type_name: str) -> tuple[int, int, int]:
    if text.endswith(" BC"):
        raise UnrepresentableValueError(type_name, f"{text!r} is before year 1")
    try:
        y, m, d = text.split("-")
        year, month, day = int(y), int(m), int(d)
    except ValueError:
        raise ValueError(f"cannot parse {type_name} {text!r} (expected DateStyle ISO)") from None
    if year > 9999:
        raise UnrepresentableValueError(type_name, f"{text!r} is after year 9999")
    return year, month, day


def parse_date(text: str) -> date:
    if text == "infinity":
        return date.max
    if text == "-infinity":
        return date.min
    return date(*_parse_ymd(text, "date"))


def _parse_hms(text: str, type_name: str) -> tuple[int, int, int, int]:
    try:
        hh, mm, rest = text.split(":")
        sec, _, frac = rest.partition(".")
        micro = int(frac.ljust(6, "0")[:6]) if frac else 0
        values = (int(hh), int(mm), int(sec), micro)
    except ValueError:
        raise ValueError(f"cannot parse {type_name} {text!r}") from None
    if values[0] == 24:
        raise UnrepresentableValueError(type_name, "24:00:00 is not a valid datetime.time")
    return values


def _split_offset(text: str) -> tuple[str, timezone | None]:
    """Split '12:00:00+05:30' into the time and its zone (None if none)."""
    pos = max(text.rfind("+"), text.rfind("-"))
    if pos <= 0:
        return text, None
    sign = -1 if text[pos] == "-" else 1
    fields = [int(f) for f in text[pos + 1 :].split(":")]
    seconds = fields[0] * 3600
    if len(fields) > 1:
        seconds += fields[1] * 60
    if len(fields) > 2:
        seconds += fields[2]
    if seconds == 0:
        return text[:pos], _UTC
    return text[:pos], timezone(timedelta(seconds=sign * seconds))


def parse_time(text: str) -> time:
    return time(*_parse_hms(text, "time"))


def parse_timetz(text: str) -> time:
    clock, tz = _split_offset(text)
    return time(*_parse_hms(clock, "timetz"), tzinfo=tz or _UTC)


def parse_timestamp(text: str) -> datetime:
    if text == "infinity":
        return datetime.max
    if text == "-infinity":
        return datetime.min
    day, _, clock = text.partition(" ")
    if clock.endswith(" BC"):
        raise UnrepresentableValueError("timestamp", f"{text!r} is before year 1")
    return datetime(*_parse_ymd(day, "timestamp"), *_parse_hms(clock, "timestamp"))


def parse_timestamptz(text: str) -> datetime:
    if text == "infinity":
        return _DATETIME_MAX_UTC
    if text == "-infinity":
        return _DATETIME_MIN_UTC
    day, _, clock = text.partition(" ")
    before_christ = clock.endswith(" BC")
    if before_christ:
        clock = clock[:-3]
    clock, tz = _split_offset(clock)
    try:
        y, m, d = day.split("-")
        year, month, mday = int(y), int(m), int(d)
    except ValueError:
        raise ValueError(f"cannot parse timestamptz {text!r} (expected DateStyle ISO)") from None
    if before_christ:
        year = 1 - year  # 1 BC is year 0
    # The range check applies to the instant in UTC, not to the wall clock
    # of the session's TimeZone ('10000-01-01 08:00+09' is in range).  Work
    # 400 years (one Gregorian cycle, same calendar) away from the edges.
    shift = 400 if year > 9999 else -400 if year < 1 else 0
    try:
        local = datetime(year - shift, month, mday, *_parse_hms(clock, "timestamptz"),
                         tzinfo=tz or _UTC)
        return local.astimezone(_UTC).replace(year=local.astimezone(_UTC).year + shift)
    except (OverflowError, ValueError):
        raise UnrepresentableValueError(
            "timestamptz", f"{text!r} is outside years 1-9999"
        ) from None


_INTERVAL_UNIT_DAYS = {
    "year": 360,  # 12 months of 30 days, as in the binary codec
    "years": 360,
    "mon": 30,
    "mons": 30,
    "day": 1,
    "days": 1,
}


def _parse_clock_us(token: str) -> int:
    """'-100:02:03.5' -> signed microseconds; interval hours may exceed 23."""
    negative = token.startswith("-")
    hh, mm, rest = token.lstrip("+-").split(":")
    sec, _, frac = rest.partition(".")
    us = (int(hh) * 3600 + int(mm) * 60 + int(sec)) * 1_000_000
    if frac:
        us += int(frac.ljust(6, "0")[:6])
    return -us if negative else us


def parse_interval(text: str) -> timedelta:
    """Parse IntervalStyle 'postgres' output: '1 year 2 mons -3 days +04:05:06.5'."""
    if text == "infinity":
        return timedelta.max
    if text == "-infinity":
        return timedelta.min
    days = 0
    us = 0
    tokens = text.split()
    i = 0
    try:
        while i < len(tokens):
            token = tokens[i]
            if ":" in token:
                us += _parse_clock_us(token)
                i += 1
            else:
                days += int(token) * _INTERVAL_UNIT_DAYS[tokens[i + 1]]
                i += 2
    except (ValueError, KeyError, IndexError):
        raise ValueError(
            f"cannot parse interval {text!r} (expected IntervalStyle postgres)"
        ) from None
    try:
        return timedelta(days=days, microseconds=us)
    except OverflowError:
        raise UnrepresentableValueError("interval", f"{text!r} exceeds timedelta's range") from None


def parse_uuid(text: str) -> UUID:
    return UUID(text)


# -- formatters -------------------------------------------------------------------


def format_bytes(value: bytes | bytearray | memoryview) -> str:
    return "\\x" + bytes(value).hex()


def format_interval(value: timedelta) -> str:
    total = (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds
    sign = "-" if total < 0 else ""
    days, us = divmod(abs(total), 86_400_000_000)
    seconds, micro = divmod(us, 1_000_000)
    minutes, second = divmod(seconds, 60)
    hour, minute = divmod(minutes, 60)
    return f"{sign}{days} days {sign}{hour:02d}:{minute:02d}:{second:02d}.{micro:06d}"


def format_value(value: Any) -> str:
    """The text form of a parameter value (see the module docstring)."""
    if isinstance(value, str):
        return value
    # 'true'/'false' rather than 't'/'f': valid input for bool and for json,
    # so a bool sent before its parameter type is known works for both.
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, Decimal):
        if value.is_nan():
            return "NaN"  # also for sNaN, which PostgreSQL does not know
        return str(value)  # 'Infinity', '-Infinity', '1E+30' are all valid input
    if isinstance(value, (bytes, bytearray, memoryview)):
        return format_bytes(value)
    if isinstance(value, datetime):
        if value.replace(tzinfo=None) == datetime.max:
            return "infinity"
        if value.replace(tzinfo=None) == datetime.min:
            return "-infinity"
        return value.isoformat(" ")
    if isinstance(value, date):
        if value == date.max:
            return "infinity"
        if value == date.min:
            return "-infinity"
        return value.isoformat()
    if isinstance(value, time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return format_interval(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, (list, tuple)):
        return format_array_text(value, format_value)
    raise TypeError(
        f"cannot send {type(value).__qualname__} as text: expected str, bool, int, float,"
        " Decimal, bytes, date, time, datetime, timedelta, UUID or a list of those"
    )


def format_untyped_value(value: Any) -> str:
    """The text form of a parameter whose type the server will infer.

    As :func:`format_value`, except that naive datetimes and times get an
    explicit UTC offset: naive means UTC in pgwire (as in the binary codecs),
    and without an offset a timestamptz or timetz parameter would be read in
    the session's TimeZone.  timestamp and time input ignore the offset.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None and value not in (datetime.max, datetime.min):
            return value.isoformat(" ") + "+00:00"
    elif isinstance(value, time):
        if value.tzinfo is None:
            return value.isoformat() + "+00:00"
        if value.utcoffset() is None:
            # A zone that needs a date to give an offset (zoneinfo): the
            # binary codec refuses it too.
            raise ValueError(f"time {value!r} has a time zone without a fixed offset")
    return format_value(value)


def make_json_formatter(dumps: Callable[[Any], Any], type_name: str) -> TextFormatter:
    """Text form of a json/jsonb parameter: a str is JSON text already."""

    def format_json(value: Any) -> str:
        if isinstance(value, str):
            return value
        text = dumps(value)
        if isinstance(text, str):
            return text
        if isinstance(text, (bytes, bytearray)):  # e.g. orjson.dumps
            return bytes(text).decode("utf-8")
        raise TypeError(
            f"{type_name} encoder function returned {type(text).__qualname__},"
            " expected str or bytes"
        )

    return format_json
