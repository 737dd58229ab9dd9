"""The text form of a parameter, for values that do not travel in binary.

:func:`format_value` turns a parameter into its text form when no binary
encoder applies: ``str`` as-is; ``bool`` -> ``true``/``false``; ``int``,
``float`` (``NaN``/``Infinity``/``-Infinity``) and ``Decimal`` -> decimal
text; ``bytes``-like -> bytea hex (``\\x...``); ``date``/``datetime``/``time``
-> ISO 8601 (``date.max``/``datetime.max`` -> ``infinity``, ``.min`` ->
``-infinity``); ``timedelta`` -> an interval literal; ``UUID`` -> its canonical
form; ``list``/``tuple`` -> an array literal.  Anything else raises
``TypeError``: guessing a text form for arbitrary objects (``str(obj)``) would
send reprs to the server.  :func:`format_untyped_value` is the same for a
parameter whose type the server infers.

A type's own text formatter, where it has one, is in its family's module.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from .arrays import format_array_text


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
