"""Server-less tests of pgwire.types: binary and text codecs, arrays, the registry.

Exact byte strings below were produced by a PostgreSQL 15 server's own send
functions (``SELECT numeric_send(1.5)`` ...), so they pin the wire format
independently of the code under test.
"""

from __future__ import annotations

import json
import math
import struct
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from pgwire.types import TypeRegistry, UnrepresentableValueError, default_registry, oids
from pgwire.types.arrays import parse_array_text
from pgwire.types.textformat import format_value

R = default_registry
UTC = timezone.utc


def enc(oid: int, value: Any) -> bytes:
    encoder = R.binary_encoder(oid)
    assert encoder is not None
    return encoder(value)


def dec(oid: int, data: bytes) -> Any:
    decoder = R.binary_decoder(oid)
    assert decoder is not None
    return decoder(data)


def roundtrip(oid: int, value: Any) -> Any:
    return dec(oid, enc(oid, value))


def text_roundtrip(oid: int, value: Any) -> Any:
    return R.decode_text(oid, R.encode_text(oid, value))


# -- strategies ------------------------------------------------------------------------

text_values = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"))


@st.composite
def decimals(draw: st.DrawFn) -> Decimal:
    digits = draw(st.lists(st.integers(0, 9), min_size=1, max_size=60))
    exponent = draw(st.integers(-200, 200))
    return Decimal((draw(st.integers(0, 1)), tuple(digits), exponent))


offsets = st.integers(-(16 * 3600 - 1), 16 * 3600 - 1).map(lambda s: timezone(timedelta(seconds=s)))
finite_dates = st.dates(min_value=date(1, 1, 2), max_value=date(9999, 12, 30))
naive_datetimes = st.datetimes(
    min_value=datetime(1, 1, 1, 0, 0, 1), max_value=datetime(9999, 12, 31, 23, 59, 58)
)
# Aware values whose UTC conversion stays inside years 1-9999.
aware_datetimes = st.builds(
    lambda dt, tz: dt.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(1, 1, 3), max_value=datetime(9999, 12, 29)),
    offsets,
)


def arrays_of(elements: st.SearchStrategy[Any], max_dims: int = 3) -> st.SearchStrategy[Any]:
    """Rectangular nested lists with 1..max_dims dimensions, NULLs included."""

    @st.composite
    def build(draw: st.DrawFn) -> Any:
        shape = draw(st.lists(st.integers(1, 4), min_size=1, max_size=max_dims))
        count = math.prod(shape)
        flat = draw(st.lists(st.none() | elements, min_size=count, max_size=count))
        for size in reversed(shape[1:]):
            flat = [flat[i : i + size] for i in range(0, len(flat), size)]
        return flat

    return build()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | text_values,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(text_values, children, max_size=4)
    ),
    max_leaves=20,
)


# -- exact wire bytes ------------------------------------------------------------------

KNOWN_BINARY = [
    (oids.BOOL, True, "01"),
    (oids.BOOL, False, "00"),
    (oids.INT2, -1, "ffff"),
    (oids.INT4, 1, "00000001"),
    (oids.INT8, 2**32, "0000000100000000"),
    (oids.OID, 2**32 - 1, "ffffffff"),
    (oids.FLOAT4, 1.5, "3fc00000"),
    (oids.FLOAT8, 1.5, "3ff8000000000000"),
    (oids.NUMERIC, Decimal("1.5"), "000200000000000100011388"),
    (oids.NUMERIC, Decimal("1.50"), "000200000000000200011388"),
    (oids.NUMERIC, Decimal("0"), "0000000000000000"),
    (oids.NUMERIC, Decimal("0.00"), "0000000000000002"),
    (oids.NUMERIC, Decimal("NaN"), "00000000c0000000"),
    (oids.NUMERIC, Decimal("1E+30"), "00010007000000000064"),
    (oids.NUMERIC, Decimal("1E-30"), "0001fff80000001e0064"),
    (oids.NUMERIC, Decimal("-12345.678"), "0003000140000003000109291a7c"),
    (oids.NUMERIC, Decimal("0.0001"), "0001ffff000000040001"),
    (oids.NUMERIC, Decimal("10000"), "00010001000000000001"),
    (oids.NUMERIC, Decimal("123456789.123456789"), "0006000200000009000109291a8504d2162e2328"),
    (oids.TEXT, "h\u00e9", "68c3a9"),
    (oids.CHAR, "A", "41"),
    (oids.CHAR, "", "00"),
    (oids.BYTEA, b"\x00\xff", "00ff"),
    (oids.DATE, date(2000, 1, 1), "00000000"),
    (oids.DATE, date(1, 1, 2), "fff4dbfa"),
    (oids.DATE, date.max, "7fffffff"),
    (oids.DATE, date.min, "80000000"),
    (oids.TIMESTAMP, datetime(2000, 1, 2, 0, 0, 1, 500000), "000000141dee4360"),
    (oids.TIMESTAMP, datetime.max, "7fffffffffffffff"),
    (oids.TIMESTAMP, datetime.min, "8000000000000000"),
    (oids.TIMESTAMPTZ, datetime(2000, 1, 2, 0, 0, 1, 500000, tzinfo=UTC), "000000141dee4360"),
    (
        oids.TIMETZ,
        time(12, tzinfo=timezone(timedelta(hours=2))),
        "0000000a0eebb000ffffe3e0",
    ),
    (oids.INTERVAL, timedelta(days=2, seconds=3), "00000000002dc6c00000000200000000"),
    (oids.UUID, UUID(int=1), "00000000000000000000000000000001"),
    (oids.JSON, {"a": 1}, "7b2261223a20317d"),
    (oids.JSONB, '{"a": 1}', "017b2261223a20317d"),
    (
        oids.INT4_ARRAY,
        [[1, 2], [3, None]],
        "00000002000000010000001700000002000000010000000200000001"
        "000000040000000100000004000000020000000400000003ffffffff",
    ),
    (oids.INT4_ARRAY, [], "000000000000000000000017"),
]


@pytest.mark.parametrize(("oid", "value", "hexdata"), KNOWN_BINARY)
def test_known_binary_encodings(oid: int, value: Any, hexdata: str) -> None:
    assert enc(oid, value).hex() == hexdata
    decoded = dec(oid, bytes.fromhex(hexdata))
    if isinstance(value, Decimal) and value.is_nan():
        assert decoded.is_nan()
    elif isinstance(value, str) and oid == oids.JSONB:
        assert decoded == json.loads(value)
    else:
        assert decoded == value


@pytest.mark.parametrize(
    ("hexdata", "expected"),
    [
        # The server sets extra bits in the dscale word of infinities.
        ("00000000d0000020", Decimal("Infinity")),
        ("00000000f0000020", Decimal("-Infinity")),
        ("00010007000000000064", Decimal("1000000000000000000000000000000")),
    ],
)
def test_numeric_decodes_server_specials(hexdata: str, expected: Decimal) -> None:
    got = dec(oids.NUMERIC, bytes.fromhex(hexdata))
    assert got == expected and str(got) == str(expected)


def test_numeric_1_5_wire_fields() -> None:
    ndigits, weight, sign, dscale, d1, d2 = struct.unpack(
        "!hhHHHH", enc(oids.NUMERIC, Decimal("1.5"))
    )
    assert (ndigits, weight, sign, dscale, [d1, d2]) == (2, 0, 0, 1, [1, 5000])


def test_known_server_outputs_decode() -> None:
    # interval '1 mon 2 days 00:00:03': a month reads as 30 days.
    assert dec(oids.INTERVAL, bytes.fromhex("00000000002dc6c00000000200000001")) == timedelta(
        days=32, seconds=3
    )
    # date '0001-01-01' is date.min (which is also -infinity's stand-in).
    assert dec(oids.DATE, bytes.fromhex("fff4dbf9")) == date(1, 1, 1)
    # '[0:1]={1,2}'::int4[]: the lower bound is ignored.
    assert dec(
        oids.INT4_ARRAY,
        bytes.fromhex("000000010000000000000017000000020000000000000004000000010000000400000002"),
    ) == [1, 2]
    assert dec(oids.JSONB, bytes.fromhex("017b2261223a20317d")) == {"a": 1}


# -- scalar round trips ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("oid", "lo", "hi"),
    [
        (oids.INT2, -(2**15), 2**15 - 1),
        (oids.INT4, -(2**31), 2**31 - 1),
        (oids.INT8, -(2**63), 2**63 - 1),
        (oids.OID, 0, 2**32 - 1),
    ],
)
def test_integer_limits(oid: int, lo: int, hi: int) -> None:
    name = R.type_name(oid)
    for value in (lo, hi, 0):
        assert roundtrip(oid, value) == value
    for bad in (lo - 1, hi + 1):
        with pytest.raises(OverflowError, match=rf"^value {bad} out of {name} range$"):
            enc(oid, bad)


@given(st.integers(-(2**63), 2**63 - 1))
def test_int_roundtrip(value: int) -> None:
    assert roundtrip(oids.INT8, value) == value
    if -(2**31) <= value < 2**31:
        assert roundtrip(oids.INT4, value) == value
    if -(2**15) <= value < 2**15:
        assert roundtrip(oids.INT2, value) == value


@given(st.floats())
def test_float8_roundtrip(value: float) -> None:
    got = roundtrip(oids.FLOAT8, value)
    assert got == value or (math.isnan(got) and math.isnan(value))


@given(st.floats(width=32))
def test_float4_roundtrip(value: float) -> None:
    got = roundtrip(oids.FLOAT4, value)
    assert got == value or (math.isnan(got) and math.isnan(value))


def test_float_specials() -> None:
    for oid in (oids.FLOAT4, oids.FLOAT8):
        assert roundtrip(oid, math.inf) == math.inf
        assert roundtrip(oid, -math.inf) == -math.inf
        assert math.isnan(roundtrip(oid, math.nan))
        assert roundtrip(oid, 3) == 3.0 and isinstance(roundtrip(oid, 3), float)
    assert roundtrip(oids.FLOAT4, 0.1) == struct.unpack("!f", struct.pack("!f", 0.1))[0]


def _check_numeric(value: Decimal) -> None:
    got = roundtrip(oids.NUMERIC, value)
    assert got == value
    # The display scale survives; positive exponents are expanded.
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    assert got.as_tuple().exponent == min(exponent, 0)


@given(decimals())
def test_numeric_roundtrip(value: Decimal) -> None:
    _check_numeric(value)


@pytest.mark.parametrize(
    "text",
    [
        "1.50",
        "0.0001",
        "-1E+30",
        "1E+30",
        "1E-30",
        "0E-10",
        "-0.00",
        "9999",
        "10000",
        "0.99999999",
        "-123456789012345678901234567890.0987654321",
        "1" * 500 + "." + "2" * 700,
        "1E+1000",
        "-7E-16383",
    ],
)
def test_numeric_edge_values(text: str) -> None:
    _check_numeric(Decimal(text))


def test_numeric_keeps_scale_as_text() -> None:
    assert str(roundtrip(oids.NUMERIC, Decimal("1.50"))) == "1.50"
    assert str(roundtrip(oids.NUMERIC, Decimal("-0.00"))) == "0.00"
    assert str(roundtrip(oids.NUMERIC, Decimal("0.0001"))) == "0.0001"


def test_numeric_specials_and_other_inputs() -> None:
    assert roundtrip(oids.NUMERIC, Decimal("NaN")).is_nan()
    assert roundtrip(oids.NUMERIC, Decimal("sNaN")).is_nan()
    assert roundtrip(oids.NUMERIC, Decimal("Infinity")) == Decimal("Infinity")
    assert roundtrip(oids.NUMERIC, Decimal("-Infinity")) == Decimal("-Infinity")
    assert enc(oids.NUMERIC, Decimal("Infinity")).hex() == "00000000d0000000"
    assert enc(oids.NUMERIC, Decimal("-Infinity")).hex() == "00000000f0000000"
    assert roundtrip(oids.NUMERIC, 10**40) == Decimal(10**40)
    assert str(roundtrip(oids.NUMERIC, 0.1)) == "0.1"
    assert roundtrip(oids.NUMERIC, math.inf) == Decimal("Infinity")


def test_numeric_limits() -> None:
    with pytest.raises(OverflowError, match="numeric"):
        enc(oids.NUMERIC, Decimal("1E-16384"))
    with pytest.raises(OverflowError, match="numeric"):
        enc(oids.NUMERIC, Decimal("1E+140000"))


@given(text_values)
def test_text_roundtrip(value: str) -> None:
    for oid in (oids.TEXT, oids.VARCHAR, oids.BPCHAR, oids.NAME):
        assert roundtrip(oid, value) == value


def test_text_values() -> None:
    for value in ("", "h\u00e9llo \u2603 \U0001f600", "tab\tnewline\n"):
        assert roundtrip(oids.TEXT, value) == value


@given(st.characters(min_codepoint=0, max_codepoint=255))
def test_char_roundtrip(value: str) -> None:
    expected = "" if value == "\x00" else value
    assert roundtrip(oids.CHAR, "" if value == "\x00" else value) == expected


@given(st.binary())
def test_bytea_roundtrip(value: bytes) -> None:
    assert roundtrip(oids.BYTEA, value) == value
    assert roundtrip(oids.BYTEA, bytearray(value)) == value
    assert roundtrip(oids.BYTEA, memoryview(value)) == value


@given(finite_dates)
def test_date_roundtrip(value: date) -> None:
    assert roundtrip(oids.DATE, value) == value


@given(naive_datetimes)
def test_timestamp_roundtrip(value: datetime) -> None:
    assert roundtrip(oids.TIMESTAMP, value) == value


@given(aware_datetimes)
def test_timestamptz_roundtrip(value: datetime) -> None:
    got = roundtrip(oids.TIMESTAMPTZ, value)
    assert got == value
    assert got.tzinfo is UTC


def test_timestamptz_naive_is_utc() -> None:
    naive = datetime(2024, 5, 6, 7, 8, 9, 123456)
    assert enc(oids.TIMESTAMPTZ, naive) == enc(oids.TIMESTAMPTZ, naive.replace(tzinfo=UTC))
    assert roundtrip(oids.TIMESTAMPTZ, naive) == naive.replace(tzinfo=UTC)


def test_timestamptz_non_utc_zone() -> None:
    paris_summer = timezone(timedelta(hours=2))
    value = datetime(2024, 7, 1, 12, 0, 0, 1, tzinfo=paris_summer)
    got = roundtrip(oids.TIMESTAMPTZ, value)
    assert got == datetime(2024, 7, 1, 10, 0, 0, 1, tzinfo=UTC)


def test_date_time_extremes() -> None:
    assert roundtrip(oids.DATE, date(1, 1, 1)) == date(1, 1, 1)
    assert roundtrip(oids.DATE, date(9999, 12, 31)) == date(9999, 12, 31)
    assert roundtrip(oids.TIMESTAMP, datetime(1, 1, 1, 0, 0, 0, 1)) == datetime(1, 1, 1, 0, 0, 0, 1)
    assert roundtrip(oids.TIMESTAMP, datetime(1999, 12, 31, 23, 59, 59, 999999)) == datetime(
        1999, 12, 31, 23, 59, 59, 999999
    )


def test_infinity_mapping() -> None:
    assert dec(oids.DATE, struct.pack("!i", 2**31 - 1)) == date.max
    assert dec(oids.DATE, struct.pack("!i", -(2**31))) == date.min
    assert dec(oids.TIMESTAMP, struct.pack("!q", 2**63 - 1)) == datetime.max
    assert dec(oids.TIMESTAMP, struct.pack("!q", -(2**63))) == datetime.min
    assert dec(oids.TIMESTAMPTZ, struct.pack("!q", 2**63 - 1)) == datetime.max.replace(tzinfo=UTC)
    assert dec(oids.TIMESTAMPTZ, struct.pack("!q", -(2**63))) == datetime.min.replace(tzinfo=UTC)
    for value in (datetime.max, datetime.min):
        assert roundtrip(oids.TIMESTAMP, value) == value
        aware = value.replace(tzinfo=UTC)
        assert roundtrip(oids.TIMESTAMPTZ, aware) == aware
        assert roundtrip(oids.TIMESTAMPTZ, value) == aware  # naive = UTC
        # The wall clock decides, whatever the zone.
        shifted = value.replace(tzinfo=timezone(timedelta(hours=-5)))
        assert enc(oids.TIMESTAMPTZ, shifted) == enc(oids.TIMESTAMPTZ, aware)


@pytest.mark.parametrize(
    ("oid", "data", "type_name"),
    [
        (oids.DATE, struct.pack("!i", 3_000_000), "date"),
        (oids.DATE, struct.pack("!i", -800_000), "date"),
        (oids.TIMESTAMP, struct.pack("!q", 9000 * 365 * 86_400_000_000), "timestamp"),
        (oids.TIMESTAMPTZ, struct.pack("!q", -(10**18)), "timestamptz"),
        (oids.TIME, struct.pack("!q", 86_400_000_000), "time"),
        (oids.TIMETZ, struct.pack("!qi", 86_400_000_000, 0), "timetz"),
        (oids.INTERVAL, struct.pack("!qii", 0, 0, 2_000_000_000), "interval"),
    ],
)
def test_unrepresentable_values(oid: int, data: bytes, type_name: str) -> None:
    with pytest.raises(UnrepresentableValueError, match=f"^{type_name} value") as info:
        dec(oid, data)
    assert isinstance(info.value, ValueError)
    assert info.value.type_name == type_name


@given(st.times())
def test_time_roundtrip(value: time) -> None:
    assert roundtrip(oids.TIME, value) == value


@given(st.times(), offsets)
def test_timetz_roundtrip(value: time, tz: timezone) -> None:
    aware = value.replace(tzinfo=tz)
    got = roundtrip(oids.TIMETZ, aware)
    assert got.replace(tzinfo=None) == value
    assert got.utcoffset() == aware.utcoffset()


def test_timetz_offsets() -> None:
    west = timezone(-timedelta(hours=5, minutes=30))
    data = enc(oids.TIMETZ, time(1, 2, 3, tzinfo=west))
    # Seconds WEST of UTC on the wire: -05:30 is +19800.
    assert struct.unpack("!qi", data)[1] == 19800
    assert roundtrip(oids.TIMETZ, time(1, 2, 3, tzinfo=west)).utcoffset() == west.utcoffset(None)
    assert roundtrip(oids.TIMETZ, time(23, 59)).tzinfo is UTC  # naive = UTC


@given(st.timedeltas())
def test_interval_roundtrip(value: timedelta) -> None:
    assert roundtrip(oids.INTERVAL, value) == value


def test_interval_sign_and_months() -> None:
    _us, days, months = struct.unpack("!qii", enc(oids.INTERVAL, timedelta(seconds=-1)))
    assert (_us, days, months) == (-1_000_000, 0, 0)
    _us, days, months = struct.unpack("!qii", enc(oids.INTERVAL, -timedelta(days=3, hours=4)))
    assert (_us, days, months) == (-4 * 3600 * 10**6, -3, 0)
    assert roundtrip(oids.INTERVAL, timedelta.max) == timedelta.max
    assert roundtrip(oids.INTERVAL, timedelta.min) == timedelta.min
    assert dec(oids.INTERVAL, struct.pack("!qii", 0, 0, 14)) == timedelta(days=420)
    assert dec(oids.INTERVAL, struct.pack("!qii", 2**63 - 1, 2**31 - 1, 2**31 - 1)) == timedelta.max
    assert dec(oids.INTERVAL, struct.pack("!qii", -(2**63), -(2**31), -(2**31))) == timedelta.min


@given(st.uuids())
def test_uuid_roundtrip(value: UUID) -> None:
    assert roundtrip(oids.UUID, value) == value
    assert roundtrip(oids.UUID, str(value)) == value


@given(json_values)
def test_json_roundtrip(value: Any) -> None:
    assume(not isinstance(value, str))  # a str parameter is JSON text already
    assert roundtrip(oids.JSON, value) == value
    assert roundtrip(oids.JSONB, value) == value


def test_json_str_is_json_text() -> None:
    assert enc(oids.JSON, '{"a": [1, 2]}') == b'{"a": [1, 2]}'
    assert enc(oids.JSONB, '"hello"') == b'\x01"hello"'
    assert roundtrip(oids.JSONB, '"hello"') == "hello"
    nested = {"a": {"b": [1, {"c": None}], "d": "\u00e9"}}
    assert roundtrip(oids.JSONB, nested) == nested


def test_jsonb_unknown_version() -> None:
    with pytest.raises(ValueError, match="jsonb"):
        dec(oids.JSONB, b"\x02{}")


# -- arrays -----------------------------------------------------------------------------

ARRAY_CASES: list[tuple[int, st.SearchStrategy[Any]]] = [
    (oids.BOOL_ARRAY, st.booleans()),
    (oids.INT2_ARRAY, st.integers(-(2**15), 2**15 - 1)),
    (oids.INT4_ARRAY, st.integers(-(2**31), 2**31 - 1)),
    (oids.INT8_ARRAY, st.integers(-(2**63), 2**63 - 1)),
    (oids.OID_ARRAY, st.integers(0, 2**32 - 1)),
    (oids.FLOAT8_ARRAY, st.floats(allow_nan=False)),
    (oids.FLOAT4_ARRAY, st.floats(width=32, allow_nan=False)),
    (oids.NUMERIC_ARRAY, decimals()),
    (oids.TEXT_ARRAY, text_values),
    (oids.VARCHAR_ARRAY, text_values),
    (oids.BPCHAR_ARRAY, text_values),
    (oids.NAME_ARRAY, text_values),
    (oids.CHAR_ARRAY, st.characters(min_codepoint=1, max_codepoint=255)),
    (oids.BYTEA_ARRAY, st.binary()),
    (oids.DATE_ARRAY, finite_dates),
    (oids.TIME_ARRAY, st.times()),
    (oids.TIMETZ_ARRAY, st.times(timezones=offsets)),
    (oids.TIMESTAMP_ARRAY, naive_datetimes),
    (oids.TIMESTAMPTZ_ARRAY, aware_datetimes),
    (oids.INTERVAL_ARRAY, st.timedeltas()),
    (oids.UUID_ARRAY, st.uuids()),
    (oids.JSONB_ARRAY, st.dictionaries(text_values, st.integers(), max_size=3)),
    (oids.JSON_ARRAY, st.dictionaries(text_values, st.integers(), max_size=3)),
]


@pytest.mark.parametrize(("oid", "elements"), ARRAY_CASES, ids=lambda x: R.type_name(x) or "")
@given(data=st.data())
def test_array_roundtrip(oid: int, elements: st.SearchStrategy[Any], data: st.DataObject) -> None:
    value = data.draw(arrays_of(elements))
    got = roundtrip(oid, value)
    assert got == value
    element_oid = R.array_element(oid)
    assert struct.unpack_from("!I", enc(oid, value), 8)[0] == element_oid


def test_array_shapes() -> None:
    i4 = oids.INT4_ARRAY
    assert roundtrip(i4, []) == []
    assert roundtrip(i4, ()) == []
    assert roundtrip(i4, [[], []]) == []  # no elements: the empty array
    assert roundtrip(i4, [None]) == [None]
    assert roundtrip(i4, (1, 2, 3)) == [1, 2, 3]
    three_d = [[[1, None], [3, 4]], [[5, 6], [None, 8]], [[9, 10], [11, 12]]]
    assert roundtrip(i4, three_d) == three_d
    header = struct.unpack_from("!iiI", enc(i4, three_d))
    assert header == (3, 1, oids.INT4)
    assert struct.unpack_from("!iiI", enc(i4, [1, 2]))[1] == 0  # no NULL flag
    six = [[[[[[1]]]]]]
    assert roundtrip(i4, six) == six


def test_array_strings_are_scalars() -> None:
    assert roundtrip(oids.TEXT_ARRAY, ["abc", "", "x"]) == ["abc", "", "x"]
    assert roundtrip(oids.TEXT_ARRAY, [["ab", "cd"], ["ef", None]]) == [["ab", "cd"], ["ef", None]]
    assert roundtrip(oids.BYTEA_ARRAY, [b"ab", b""]) == [b"ab", b""]
    assert roundtrip(oids.JSONB_ARRAY, [{"a": [1, 2]}, "[1, 2]", None]) == [
        {"a": [1, 2]},
        [1, 2],
        None,
    ]


@pytest.mark.parametrize(
    "value",
    [
        [[1, 2], [3]],
        [[1, 2], 3],
        [1, [2, 3]],
        [[1], [[2]]],
        [[], [1]],
        [[[1, 2], [3, 4]], [[5, 6], [7]]],
        [None, [1]],
    ],
)
def test_ragged_arrays_rejected(value: Any) -> None:
    with pytest.raises(ValueError, match="rectangular"):
        enc(oids.INT4_ARRAY, value)


def test_array_encode_errors() -> None:
    with pytest.raises(TypeError, match=r"int4\[\] expects a list or tuple, got str"):
        enc(oids.INT4_ARRAY, "123")
    with pytest.raises(ValueError, match="at most 6 dimensions"):
        enc(oids.INT4_ARRAY, [[[[[[[1]]]]]]])
    with pytest.raises(TypeError, match="int4 expects int"):
        enc(oids.INT4_ARRAY, [1, "2"])
    with pytest.raises(OverflowError, match="out of int2 range"):
        enc(oids.INT2_ARRAY, [1, 40000])


@pytest.mark.parametrize(
    "data",
    [
        # Declares 2 elements but carries 1.
        struct.pack("!iiIii", 1, 0, 23, 2, 1) + struct.pack("!ii", 4, 7),
        # Element longer than the data.
        struct.pack("!iiIii", 1, 0, 23, 1, 1) + struct.pack("!i", 8) + b"\x00\x00\x00\x01",
        # Trailing garbage.
        struct.pack("!iiIii", 1, 0, 23, 1, 1) + struct.pack("!ii", 4, 7) + b"x",
        struct.pack("!iiIii", -1, 0, 23, 1, 1),
        struct.pack("!iiIii", 1, 0, 23, -5, 1),
        # An absurd element count fails fast instead of looping.
        struct.pack("!iiIiiii", 2, 0, 23, 2**31 - 1, 1, 2**31 - 1, 1),
    ],
)
def test_malformed_arrays(data: bytes) -> None:
    with pytest.raises((ValueError, struct.error)):
        dec(oids.INT4_ARRAY, data)


# -- encoder input validation -------------------------------------------------------------


class Index:
    def __init__(self, value: int) -> None:
        self.value = value

    def __index__(self) -> int:
        return self.value


@pytest.mark.parametrize(
    ("oid", "value", "error", "message"),
    [
        (oids.INT4, "1", TypeError, r"int4 expects int \(or an object with __index__\), got str"),
        (oids.INT4, 1.5, TypeError, "int4 expects int"),
        (oids.INT4, 1.0, TypeError, "got float"),
        (oids.INT8, True, TypeError, "int8 expects int, got bool"),
        (oids.INT2, Decimal(1), TypeError, "got Decimal"),
        (oids.INT4, 2**31, OverflowError, "value 2147483648 out of int4 range"),
        (oids.OID, -1, OverflowError, "value -1 out of oid range"),
        (oids.BOOL, 1, TypeError, "bool expects bool, got int"),
        (oids.BOOL, "t", TypeError, "bool expects bool"),
        (oids.FLOAT8, Decimal("1.5"), TypeError, "float8 expects float or int, got Decimal"),
        (oids.FLOAT8, "1.5", TypeError, "float8 expects float or int"),
        (oids.FLOAT4, False, TypeError, "float4 expects float or int, got bool"),
        (oids.FLOAT4, 1e300, OverflowError, "out of float4 range"),
        (oids.FLOAT8, 10**400, OverflowError, "out of float8 range"),
        (oids.NUMERIC, "1.5", TypeError, "numeric expects Decimal, int or float, got str"),
        (oids.NUMERIC, True, TypeError, "numeric expects"),
        (oids.TEXT, b"abc", TypeError, "text expects str, got bytes"),
        (oids.VARCHAR, 5, TypeError, "varchar expects str, got int"),
        (oids.TEXT, "a\x00b", ValueError, "NUL"),
        (oids.CHAR, "ab", ValueError, "single character"),
        (oids.CHAR, "\u20ac", ValueError, "one byte"),
        (oids.BYTEA, "abc", TypeError, "bytea expects bytes"),
        (oids.DATE, datetime(2020, 1, 1), ValueError, "got a datetime"),
        (oids.DATE, "2020-01-01", TypeError, "date expects"),
        (oids.TIMESTAMP, date(2020, 1, 1), TypeError, "timestamp expects datetime.datetime"),
        (oids.TIMESTAMP, datetime(2020, 1, 1, tzinfo=UTC), ValueError, "naive"),
        (oids.TIMESTAMPTZ, "2020-01-01", TypeError, "timestamptz expects datetime.datetime"),
        (oids.TIME, time(1, tzinfo=UTC), ValueError, "naive"),
        (oids.TIMETZ, time(1, tzinfo=timezone(timedelta(hours=17))), OverflowError, "offset"),
        (
            oids.TIMETZ,
            time(1, tzinfo=timezone(timedelta(seconds=1, microseconds=5))),
            ValueError,
            "whole seconds",
        ),
        (oids.INTERVAL, 5, TypeError, "interval expects datetime.timedelta, got int"),
        (oids.UUID, "not-a-uuid", ValueError, "invalid UUID"),
        (oids.UUID, 5, TypeError, "uuid expects uuid.UUID or str"),
    ],
)
def test_encoder_errors(oid: int, value: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        enc(oid, value)


def test_index_objects_accepted() -> None:
    assert enc(oids.INT4, Index(7)) == enc(oids.INT4, 7)
    assert enc(oids.NUMERIC, Index(7)) == enc(oids.NUMERIC, Decimal(7))
    with pytest.raises(OverflowError, match="int2"):
        enc(oids.INT2, Index(2**15))


def test_timetz_zone_without_fixed_offset() -> None:
    zoneinfo = pytest.importorskip("zoneinfo")
    try:
        tz = zoneinfo.ZoneInfo("Europe/Paris")
    except zoneinfo.ZoneInfoNotFoundError:
        pytest.skip("no time zone database")
    with pytest.raises(ValueError, match="fixed UTC offset"):
        enc(oids.TIMETZ, time(12, tzinfo=tz))
    # With a date, the zone has an offset: timestamptz is fine.
    value = datetime(2024, 1, 15, 12, tzinfo=tz)
    assert roundtrip(oids.TIMESTAMPTZ, value) == datetime(2024, 1, 15, 11, tzinfo=UTC)


# -- registry -----------------------------------------------------------------------------


def test_registry_lookups() -> None:
    assert R.type_name(oids.INT4) == "int4"
    assert R.type_name(oids.INT4_ARRAY) == "int4[]"
    assert R.type_name(123456) is None
    assert R.binary_decoder(123456) is None
    assert R.binary_encoder(123456) is None
    assert R.array_element(oids.JSONB_ARRAY) == oids.JSONB
    for array_oid, element_oid in oids.ARRAY_ELEMENTS.items():
        # An array has a binary codec exactly when its element has one.
        assert (R.binary_decoder(array_oid) is None) == (R.binary_decoder(element_oid) is None)
        assert (R.binary_encoder(array_oid) is None) == (R.binary_encoder(element_oid) is None)
        assert R.type_name(array_oid) == f"{R.type_name(element_oid)}[]"
        assert R.type_kind(array_oid) == "array"


def test_json_decoder_is_replaceable() -> None:
    reg = default_registry.copy()
    calls: list[str] = []

    def loads(text: str) -> Any:
        calls.append(text)
        return ("custom", json.loads(text))

    reg.set_json_decoder(loads)
    for oid in (oids.JSON, oids.JSONB):
        data = enc(oid, {"a": 1})
        decoder = reg.binary_decoder(oid)
        assert decoder is not None and decoder(data) == ("custom", {"a": 1})
        assert reg.decode_text(oid, b"[1]") == ("custom", [1])
    for oid in (oids.JSON_ARRAY, oids.JSONB_ARRAY):
        data = enc(oid, [{"a": 1}, None])
        decoder = reg.binary_decoder(oid)
        assert decoder is not None and decoder(data) == [("custom", {"a": 1}), None]
        assert reg.decode_text(oid, b'{"{\\"b\\": 2}",NULL}') == [("custom", {"b": 2}), None]
    assert calls
    # The default registry is untouched.
    assert dec(oids.JSONB, enc(oids.JSONB, {"a": 1})) == {"a": 1}


def test_json_encoder_is_replaceable() -> None:
    reg = TypeRegistry()
    reg.set_json_encoder(lambda obj: json.dumps(obj, separators=(",", ":")).encode())
    encoder = reg.binary_encoder(oids.JSONB)
    assert encoder is not None
    assert encoder({"a": [1, 2]}) == b'\x01{"a":[1,2]}'
    assert encoder('{"a":  1}') == b'\x01{"a":  1}'  # str bypasses the function
    array_encoder = reg.binary_encoder(oids.JSON_ARRAY)
    assert array_encoder is not None
    assert array_encoder([{"a": 1}]) == enc(oids.JSON_ARRAY, ['{"a":1}'])
    assert reg.encode_text(oids.JSON, {"a": 1}) == b'{"a":1}'
    reg.set_json_encoder(lambda obj: 5)  # type: ignore[arg-type,return-value]
    with pytest.raises(TypeError, match="expected str or bytes"):
        encoder = reg.binary_encoder(oids.JSON)
        assert encoder is not None
        encoder({})


def test_copy_is_independent() -> None:
    base = TypeRegistry()
    clone = base.copy()
    clone.register_binary(oids.INT4, lambda v: b"XXXX", lambda d: "custom")
    assert base.binary_decoder(oids.INT4)(b"\x00\x00\x00\x01") == 1  # type: ignore[misc]
    assert clone.binary_decoder(oids.INT4)(b"\x00\x00\x00\x01") == "custom"  # type: ignore[misc]
    # Arrays follow the element codec of their own registry.
    data = enc(oids.INT4_ARRAY, [1, 2])
    assert clone.binary_decoder(oids.INT4_ARRAY)(data) == ["custom", "custom"]  # type: ignore[misc]
    assert base.binary_decoder(oids.INT4_ARRAY)(data) == [1, 2]  # type: ignore[misc]
    assert clone.binary_encoder(oids.INT4_ARRAY)([1]).endswith(b"\x00\x00\x00\x04XXXX")  # type: ignore[misc]


def test_register_custom_type_with_array() -> None:
    reg = TypeRegistry()
    mood_oid, mood_array_oid = 50001, 50002
    reg.register_binary(
        mood_oid,
        lambda v: v.upper().encode(),
        lambda d: d.decode().lower(),
        name="mood",
        array_oid=mood_array_oid,
    )
    assert reg.type_name(mood_oid) == "mood"
    assert reg.type_name(mood_array_oid) == "mood[]"
    encoder = reg.binary_encoder(mood_array_oid)
    decoder = reg.binary_decoder(mood_array_oid)
    assert encoder is not None and decoder is not None
    data = encoder(["happy", None])
    assert struct.unpack_from("!I", data, 8)[0] == mood_oid
    assert decoder(data) == ["happy", None]
    # Removing the binary decoder falls back to text, arrays included.
    reg.register_binary(mood_oid, None, None)
    assert reg.binary_decoder(mood_oid) is None
    assert reg.binary_decoder(mood_array_oid) is None
    assert reg.decode_text(mood_array_oid, b"{happy,sad}") == ["happy", "sad"]


def test_register_array_codec_directly() -> None:
    reg = TypeRegistry()
    reg.register_binary(oids.INT4_ARRAY, None, lambda d: "whole array")
    assert reg.binary_decoder(oids.INT4_ARRAY)(b"") == "whole array"  # type: ignore[misc]
    reg.register_binary(oids.INT4, None, lambda d: 0)  # does not override it
    assert reg.binary_decoder(oids.INT4_ARRAY)(b"") == "whole array"  # type: ignore[misc]


def test_register_text() -> None:
    reg = TypeRegistry()
    reg.register_text(60001, lambda v: f"<{v}>", lambda s: s.strip("<>"), name="wrapped")
    reg.register_array(60002, 60001)
    assert reg.decode_text(60001, b"<x>") == "x"
    assert reg.encode_text(60001, "x") == b"<x>"
    assert reg.decode_text(60002, b'{"<a>",NULL}') == ["a", None]
    assert reg.encode_text(60002, ["a", None]) == b'{"<a>",NULL}'


# -- text format ------------------------------------------------------------------------------


def test_decode_text_fallback() -> None:
    assert R.decode_text(123456, "caf\u00e9".encode()) == "caf\u00e9"
    assert R.decode_text(oids.INT4, b"42") == 42
    assert R.text_decoder(123456)(b"x") == "x"
    assert R.text_decoder(oids.BOOL)(b"t") is True


@pytest.mark.parametrize(
    ("oid", "text", "expected"),
    [
        (oids.BOOL, "f", False),
        (oids.INT8, "-9223372036854775808", -(2**63)),
        (oids.FLOAT8, "-Infinity", -math.inf),
        (oids.NUMERIC, "1.50", Decimal("1.50")),
        (oids.NUMERIC, "-Infinity", Decimal("-Infinity")),
        (oids.CHAR, "\\351", "\u00e9"),
        (oids.BYTEA, "\\x00ff", b"\x00\xff"),
        (oids.BYTEA, "\\000\\\\A\\377", b"\x00\\A\xff"),
        (oids.DATE, "infinity", date.max),
        (oids.DATE, "2024-02-29", date(2024, 2, 29)),
        (oids.TIME, "12:34:56.5", time(12, 34, 56, 500000)),
        (oids.TIMETZ, "12:00:00+05:30:15", time(12, tzinfo=timezone(timedelta(seconds=19815)))),
        (oids.TIMESTAMP, "2024-01-02 03:04:05.000006", datetime(2024, 1, 2, 3, 4, 5, 6)),
        (oids.TIMESTAMP, "-infinity", datetime.min),
        (
            oids.TIMESTAMPTZ,
            "1900-01-01 00:00:00+00:19:32",
            datetime(1899, 12, 31, 23, 40, 28, tzinfo=UTC),
        ),
        (oids.TIMESTAMPTZ, "2024-06-01 12:00:00-04", datetime(2024, 6, 1, 16, tzinfo=UTC)),
        (
            oids.INTERVAL,
            "1 year 2 mons -3 days +04:05:06.789",
            timedelta(days=417, hours=4, minutes=5, seconds=6, milliseconds=789),
        ),
        (oids.INTERVAL, "-00:00:01", timedelta(seconds=-1)),
        (oids.INTERVAL, "100:00:00", timedelta(hours=100)),
        (
            oids.UUID,
            "12345678-1234-5678-1234-567812345678",
            UUID("12345678-1234-5678-1234-567812345678"),
        ),
        (oids.JSONB, '{"a": [1]}', {"a": [1]}),
        (oids.INT4_ARRAY, "[0:1]={1,2}", [1, 2]),
        (
            oids.TEXT_ARRAY,
            '{{"a b",NULL},{"NULL","q\\"r\\\\s"}}',
            [["a b", None], ["NULL", 'q"r\\s']],
        ),
        (oids.TEXT_ARRAY, "{}", []),
        (oids.DATE_ARRAY, "{2020-01-01,infinity}", [date(2020, 1, 1), date.max]),
    ],
)
def test_text_parsers(oid: int, text: str, expected: Any) -> None:
    assert R.decode_text(oid, text.encode()) == expected


@pytest.mark.parametrize(
    ("oid", "text"),
    [
        (oids.DATE, "10000-01-01"),
        (oids.DATE, "0044-03-15 BC"),
        (oids.TIMESTAMP, "0044-03-15 12:00:00 BC"),
        (oids.TIME, "24:00:00"),
        (oids.INTERVAL, "178000000 years"),
    ],
)
def test_text_unrepresentable(oid: int, text: str) -> None:
    with pytest.raises(UnrepresentableValueError):
        R.decode_text(oid, text.encode())


def test_text_parse_errors() -> None:
    with pytest.raises(ValueError, match="DateStyle"):
        R.decode_text(oids.DATE, b"01/02/2024")
    with pytest.raises(ValueError, match="IntervalStyle"):
        R.decode_text(oids.INTERVAL, b"P1Y2M")
    for bad in ("", "1,2", "{1,2", '{"a}', "{1}}"):
        with pytest.raises(ValueError, match="malformed array"):
            parse_array_text(bad)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("x", "x"),
        (True, "true"),
        (False, "false"),
        (-5, "-5"),
        (1.5, "1.5"),
        (math.nan, "NaN"),
        (-math.inf, "-Infinity"),
        (Decimal("1.50"), "1.50"),
        (Decimal("sNaN"), "NaN"),
        (b"\x00\xff", "\\x00ff"),
        (date(2024, 1, 2), "2024-01-02"),
        (date.max, "infinity"),
        (datetime(2024, 1, 2, 3, 4, 5, 6), "2024-01-02 03:04:05.000006"),
        (datetime.min.replace(tzinfo=UTC), "-infinity"),
        (datetime(2024, 1, 2, tzinfo=timezone(timedelta(hours=2))), "2024-01-02 00:00:00+02:00"),
        (time(1, 2, 3), "01:02:03"),
        (timedelta(days=-1, hours=-2), "-1 days -02:00:00.000000"),
        (UUID(int=1), "00000000-0000-0000-0000-000000000001"),
        ([1, None, [2, 3]], '{"1",NULL,{"2","3"}}'),
        (['a"b\\c', ""], '{"a\\"b\\\\c",""}'),
    ],
)
def test_format_value(value: Any, text: str) -> None:
    assert format_value(value) == text


def test_format_value_rejects_unknown_objects() -> None:
    with pytest.raises(TypeError, match="cannot send object as text"):
        format_value(object())
    with pytest.raises(TypeError, match="cannot send dict as text"):
        R.encode_text(123456, {"a": 1})
    with pytest.raises(ValueError, match="NUL"):
        R.encode_text(oids.TEXT, "a\x00")


@given(
    st.one_of(
        st.tuples(st.just(oids.INT8), st.integers(-(2**63), 2**63 - 1)),
        st.tuples(st.just(oids.FLOAT8), st.floats(allow_nan=False)),
        st.tuples(st.just(oids.NUMERIC), decimals()),
        st.tuples(st.just(oids.TEXT), text_values),
        st.tuples(st.just(oids.BYTEA), st.binary()),
        st.tuples(st.just(oids.DATE), finite_dates),
        st.tuples(st.just(oids.TIMESTAMP), naive_datetimes),
        st.tuples(st.just(oids.TIMESTAMPTZ), aware_datetimes),
        st.tuples(st.just(oids.TIME), st.times()),
        st.tuples(st.just(oids.TIMETZ), st.times(timezones=offsets)),
        st.tuples(st.just(oids.INTERVAL), st.timedeltas()),
        st.tuples(st.just(oids.UUID), st.uuids()),
        st.tuples(st.just(oids.JSONB), json_values),
        st.tuples(st.just(oids.TEXT_ARRAY), arrays_of(text_values)),
        st.tuples(st.just(oids.INT4_ARRAY), arrays_of(st.integers(-(2**31), 2**31 - 1))),
    )
)
def test_text_roundtrip_through_registry(case: tuple[int, Any]) -> None:
    oid, value = case
    if oid == oids.JSONB:
        assume(not isinstance(value, str))  # a str is JSON text already
    got = text_roundtrip(oid, value)
    assert got == value
    if oid == oids.TIMETZ:
        assert got.utcoffset() == value.utcoffset()
