"""Dates and times: date, time, timetz, timestamp, timestamptz, interval.

Binary codecs and text parsers of each type, and the ``TYPES`` the registry
installs.  Compiled by Cython (pure Python mode, types in ``datetimes.pxd``):
the decoders read the buffer in place and build dates and datetimes through
the datetime C API.

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
  values outside Python's years 1-9999 (BC dates too) raise
  :class:`UnrepresentableValueError`.
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

The text parsers assume the server's default output styles, which pgwire
keeps: ``DateStyle=ISO``, ``IntervalStyle=postgres``.
"""

from __future__ import annotations

import struct
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from . import oids
from .codec import Codec, TypeSpec
from .codec import malformed as _malformed
from .codec import type_label as _type_label
from .errors import UnrepresentableValueError
from .numeric import INT4_MAX, INT4_MIN, INT8_MAX, INT8_MIN

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    # Compiled, these come from datetimes.pxd (C functions and the datetime C API).
    from .._bytes import pack_int32, pack_int64, read_int32, read_int64

    def datetime_new(
        year: int, month: int, day: int, hour: int, minute: int, second: int, us: int, tz: Any
    ) -> datetime:
        return datetime(year, month, day, hour, minute, second, us, tz)

    def date_new(year: int, month: int, day: int) -> date:
        return date(year, month, day)

    def date_days(value: date) -> int:
        return value.toordinal() - _PG_EPOCH_ORDINAL

    def year_of(value: date) -> int:
        return value.year

    def wall_clock_us(value: datetime) -> int:
        return _delta_us(value.replace(tzinfo=None) - _PG_EPOCH)

    def import_datetime() -> None:
        pass


import_datetime()

_INT4 = struct.Struct("!i")
_INT8 = struct.Struct("!q")
_TIMETZ = struct.Struct("!qi")  # microseconds since midnight, zone (seconds west)
_INTERVAL = struct.Struct("!qii")  # microseconds, days, months
_int4_unpack_from = _INT4.unpack_from
_int8_unpack_from = _INT8.unpack_from
_timetz_unpack_from = _TIMETZ.unpack_from
_interval_unpack_from = _INTERVAL.unpack_from
_int4_pack = _INT4.pack
_int8_pack = _INT8.pack

_US_PER_DAY = 86_400_000_000


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
# What timezone.utc.utcoffset() returns: the same object every time.
_ZERO_OFFSET = _UTC.utcoffset(None)


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
    year = year_of(value) if cython.compiled else value.year
    if year == 9999 or year == 1:  # only then can it be date.max or date.min
        if value == _DATE_MAX:
            return _DATE_POS_INF_BYTES
        if value == _DATE_MIN:
            return _DATE_NEG_INF_BYTES
    if cython.compiled:
        return pack_int32(date_days(value))
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
    year = year_of(value) if cython.compiled else value.year
    if year == 9999 or year == 1:  # only then can it be datetime.max or min
        if value == _DATETIME_MAX:
            return _TS_POS_INF_BYTES
        if value == _DATETIME_MIN:
            return _TS_NEG_INF_BYTES
    if cython.compiled:
        return pack_int64(wall_clock_us(value))
    return _int8_pack(_delta_us(value - _PG_EPOCH))


def encode_timestamptz(value: Any) -> bytes:
    if not isinstance(value, datetime):
        raise TypeError(f"timestamptz expects datetime.datetime, got {_type_label(value)}")
    # Naive (tzinfo None, or one that gives no offset): documented as UTC.
    # UTC itself is told apart first: utcoffset() builds a method name and an
    # argument tuple on every call.
    tzinfo = value.tzinfo
    offset = None if tzinfo is None or tzinfo is _UTC else value.utcoffset()
    year = year_of(value) if cython.compiled else value.year
    if year == 9999 or year == 1:  # only then can the wall clock be max/min
        wall = value.replace(tzinfo=None)
        if wall == _DATETIME_MAX:
            return _TS_POS_INF_BYTES
        if wall == _DATETIME_MIN:
            return _TS_NEG_INF_BYTES
    if cython.compiled:
        if offset is None or offset is _ZERO_OFFSET:
            return pack_int64(wall_clock_us(value))
        # The wall clock minus the offset is UTC; a year 1-9999 wall clock
        # and an offset under a day cannot overflow 64 bits.
        return pack_int64(wall_clock_us(value) - _delta_us(offset))
    if tzinfo is None:
        return _int8_pack(_delta_us(value - _PG_EPOCH))
    if offset is None and tzinfo is not _UTC:  # a tzinfo that gives no offset
        return _int8_pack(_delta_us(value.replace(tzinfo=None) - _PG_EPOCH))
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


# -- text format ------------------------------------------------------------------

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


# -- codecs -----------------------------------------------------------------------


class DateCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_date, encode_date)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_date(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_date(value)


class TimeCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_time, encode_time)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_time(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_time(value)


class TimeTZCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_timetz, encode_timetz)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_timetz(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_timetz(value)


class TimestampCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_timestamp, encode_timestamp)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_timestamp(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_timestamp(value)


class TimestampTZCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_timestamptz, encode_timestamptz)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_timestamptz(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_timestamptz(value)


class IntervalCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_interval, encode_interval)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_interval(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_interval(value)


TYPES = (
    TypeSpec(oids.DATE, "date", oids.DATE_ARRAY, DateCodec(), parse_date),
    TypeSpec(oids.TIME, "time", oids.TIME_ARRAY, TimeCodec(), parse_time),
    TypeSpec(oids.TIMETZ, "timetz", oids.TIMETZ_ARRAY, TimeTZCodec(), parse_timetz),
    TypeSpec(oids.TIMESTAMP, "timestamp", oids.TIMESTAMP_ARRAY, TimestampCodec(),
             parse_timestamp),
    TypeSpec(oids.TIMESTAMPTZ, "timestamptz", oids.TIMESTAMPTZ_ARRAY, TimestampTZCodec(),
             parse_timestamptz),
    TypeSpec(oids.INTERVAL, "interval", oids.INTERVAL_ARRAY, IntervalCodec(), parse_interval),
)
