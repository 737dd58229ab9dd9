"""Python value types for PostgreSQL types that have no standard-library counterpart.

``Range`` (every range type; a multirange is a list of them), ``BitString``
(bit, varbit) and the geometric types ``Point``, ``Box``, ``Line``,
``LineSegment``, ``Path``, ``Polygon`` and ``Circle``; ``LSN`` (pg_lsn), an
int that prints as ``16/B374D848``.  Their names,
constructors, attributes, equality and ``repr`` follow asyncpg's, so code
written against ``asyncpg.Range`` or ``asyncpg.types.Point`` works with
pgwire's.  Parameters accept these classes and the plain Python forms
asyncpg accepts: a ``(lower, upper)`` tuple for a range, an ``(x, y)`` pair
for a point, a ``str`` of 0s and 1s for a bit string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Generic, Literal, TypeVar, overload

__all__ = [
    "BitString",
    "Box",
    "Circle",
    "LSN",
    "Line",
    "LineSegment",
    "Path",
    "Point",
    "Polygon",
    "Range",
]

_T = TypeVar("_T")


class Range(Generic[_T]):
    """A value of a range type: bounds (None: unbounded), inclusivity, or empty.

    ``Range(1, 5)`` is ``[1,5)``; ``Range(empty=True)`` the empty range.
    The server normalizes discrete ranges (``[1,5]`` of int4 comes back as
    ``[1,6)``), so compare what you read with what the server returns.
    """

    __slots__ = ("_lower", "_upper", "_lower_inc", "_upper_inc", "_empty")

    def __init__(self, lower: _T | None = None, upper: _T | None = None, *,
                 lower_inc: bool = True, upper_inc: bool = False, empty: bool = False) -> None:
        self._empty = bool(empty)
        if self._empty:
            self._lower = self._upper = None
            self._lower_inc = self._upper_inc = False
        else:
            self._lower = lower
            self._upper = upper
            # An infinite bound is never inclusive.
            self._lower_inc = bool(lower_inc) and lower is not None
            self._upper_inc = bool(upper_inc) and upper is not None

    @property
    def lower(self) -> _T | None:
        """The lower bound (None when unbounded, or for the empty range)."""
        return self._lower

    @property
    def upper(self) -> _T | None:
        """The upper bound (None when unbounded, or for the empty range)."""
        return self._upper

    @property
    def lower_inc(self) -> bool:
        """Is the lower bound included (``[``)?  Never for an unbounded one."""
        return self._lower_inc

    @property
    def upper_inc(self) -> bool:
        """Is the upper bound included (``]``)?  Never for an unbounded one."""
        return self._upper_inc

    @property
    def lower_inf(self) -> bool:
        """Is the range unbounded below (and not empty)?"""
        return self._lower is None and not self._empty

    @property
    def upper_inf(self) -> bool:
        """Is the range unbounded above (and not empty)?"""
        return self._upper is None and not self._empty

    @property
    def isempty(self) -> bool:
        """Is this the empty range?"""
        return self._empty

    def _lower_within(self, other: Range[_T]) -> bool:
        # Is self's lower bound at or above other's?
        if other._lower is None:
            return True
        if self._lower is None:
            return False
        if self._lower == other._lower:
            return other._lower_inc or not self._lower_inc
        return bool(self._lower > other._lower)  # type: ignore[operator]

    def _upper_within(self, other: Range[_T]) -> bool:
        if other._upper is None:
            return True
        if self._upper is None:
            return False
        if self._upper == other._upper:
            return other._upper_inc or not self._upper_inc
        return bool(self._upper < other._upper)  # type: ignore[operator]

    def issubset(self, other: Range[_T]) -> bool:
        """Is every value of this range in ``other``?"""
        if self._empty:
            return True
        if other._empty:
            return False
        return self._lower_within(other) and self._upper_within(other)

    def issuperset(self, other: Range[_T]) -> bool:
        """Is every value of ``other`` in this range?"""
        return other.issubset(self)

    def __contains__(self, value: object) -> bool:
        """Is ``value`` in the range (what the server's ``range @> value`` says)?"""
        if self._empty:
            return False
        lower, upper = self._lower, self._upper
        if lower is not None and (value < lower or (  # type: ignore[operator]
                value == lower and not self._lower_inc)):
            return False
        if upper is not None and (value > upper or (  # type: ignore[operator]
                value == upper and not self._upper_inc)):
            return False
        return True

    def __bool__(self) -> bool:
        return not self._empty

    def _key(self) -> tuple[Any, ...]:
        return (self._lower, self._upper, self._lower_inc, self._upper_inc, self._empty)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Range):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        if self._empty:
            return "<Range empty>"
        lower = "" if self._lower is None else repr(self._lower)
        upper = "" if self._upper is None else repr(self._upper)
        return (f"<Range {'[' if self._lower_inc else '('}{lower}, "
                f"{upper}{']' if self._upper_inc else ')'}>")

    __str__ = __repr__

    def __reduce__(self) -> Any:
        return (_make_range, self._key())


def _make_range(lower: Any, upper: Any, lower_inc: bool, upper_inc: bool,
                empty: bool) -> Range[Any]:
    return Range(lower, upper, lower_inc=lower_inc, upper_inc=upper_inc, empty=empty)


class BitString:
    """A value of ``bit(n)`` / ``varbit``: a sequence of bits, each 0 or 1.

    ``BitString('1011')``; ``BitString.frombytes(b'\\xb0', 4)``;
    ``BitString.from_int(11, 4)``; ``bs.to_int()``; ``len(bs)``, ``bs[i]``,
    ``bs.bits()`` (``'10110'``), ``bs.as_string()`` (asyncpg's ``'1011 0'``).
    """

    __slots__ = ("_bytes", "_bitlength")

    def __init__(self, bitstring: str | None = None) -> None:
        if not bitstring:
            self._bytes = b""
            self._bitlength = 0
            return
        bits = bitstring.replace(" ", "")
        if bits.strip("01"):
            raise ValueError(f"invalid bit string {bitstring!r}: only 0 and 1 allowed")
        self._bitlength = len(bits)
        padded = bits + "0" * (-len(bits) % 8)
        self._bytes = int(padded, 2).to_bytes(len(padded) // 8, "big")

    @classmethod
    def frombytes(cls, bytes_: bytes | None = None, bitlength: int | None = None) -> BitString:
        """The first ``bitlength`` bits of ``bytes_`` (all of them when None)."""
        data = bytes(bytes_ or b"")
        if bitlength is None:
            bitlength = len(data) * 8
        elif bitlength < 0 or bitlength > len(data) * 8:
            raise ValueError(f"bitlength {bitlength} does not fit in {len(data)} bytes")
        needed = (bitlength + 7) // 8
        buffer = bytearray(data[:needed])
        if bitlength % 8 and buffer:
            buffer[-1] &= (0xFF << (8 - bitlength % 8)) & 0xFF  # clear the padding bits
        new = cls.__new__(cls)
        new._bytes = bytes(buffer)
        new._bitlength = bitlength
        return new

    @property
    def bytes(self) -> bytes:
        """The bits packed most significant first, padded with 0s to whole bytes."""
        return self._bytes

    def bits(self) -> str:
        """The bits as a str of 0s and 1s: ``'10110'`` (what the server reads)."""
        if not self._bitlength:
            return ""
        text = bin(int.from_bytes(self._bytes, "big"))[2:].zfill(len(self._bytes) * 8)
        return text[: self._bitlength]

    def as_string(self) -> str:
        """The bits in groups of four, as asyncpg prints them: ``'1011 0'``."""
        text = self.bits()
        return " ".join(text[i : i + 4] for i in range(0, len(text), 4))

    def to_int(self, bitorder: Literal["big", "little"] = "big", *, signed: bool = False) -> int:
        """The bits as an integer (first bit most significant with ``"big"``)."""
        text = self.bits()
        if bitorder == "little":
            text = text[::-1]
        elif bitorder != "big":
            raise ValueError("bitorder must be 'big' or 'little'")
        if not text:
            return 0
        value = int(text, 2)
        if signed and text[0] == "1":
            value -= 1 << len(text)
        return value

    @classmethod
    def from_int(cls, x: int, length: int, bitorder: Literal["big", "little"] = "big", *,
                 signed: bool = False) -> BitString:
        """``length`` bits holding ``x`` (two's complement when ``signed``)."""
        if length < 0:
            raise ValueError("length must be >= 0")
        if signed:
            if not -(1 << (length - 1)) <= x < (1 << (length - 1)) if length else x != 0:
                raise OverflowError(f"{x} does not fit in {length} signed bits")
            x &= (1 << length) - 1
        elif x < 0 or x >= (1 << length):
            raise OverflowError(f"{x} does not fit in {length} bits")
        text = bin(x)[2:].zfill(length) if length else ""
        if bitorder == "little":
            text = text[::-1]
        elif bitorder != "big":
            raise ValueError("bitorder must be 'big' or 'little'")
        return cls(text)

    def __len__(self) -> int:
        return self._bitlength

    def __getitem__(self, index: int) -> int:
        if index < 0:
            index += self._bitlength
        if not 0 <= index < self._bitlength:
            raise IndexError("bit index out of range")
        return (self._bytes[index // 8] >> (7 - index % 8)) & 1

    def __iter__(self) -> Iterator[int]:
        return (self[i] for i in range(self._bitlength))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, BitString):
            return NotImplemented
        return self._bytes == other._bytes and self._bitlength == other._bitlength

    def __hash__(self) -> int:
        return hash((self._bytes, self._bitlength))

    def __repr__(self) -> str:
        return f"<BitString {self.as_string()}>"

    __str__ = __repr__  # as asyncpg's

    def __reduce__(self) -> Any:
        return (BitString, (self.bits(),))


class Point(tuple[float, float]):
    """``point``: ``Point(x, y)``, a tuple of two floats with ``.x`` and ``.y``."""

    __slots__ = ()

    def __new__(cls, x: float | str, y: float | str) -> Point:
        return super().__new__(cls, (float(x), float(y)))

    @property
    def x(self) -> float:
        """The x coordinate."""
        return self[0]

    @property
    def y(self) -> float:
        """The y coordinate."""
        return self[1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self[0]!r}, {self[1]!r})"

    def __reduce__(self) -> Any:
        return (type(self), tuple(self))


def _point(value: Any) -> Point:
    if isinstance(value, Point):
        return value
    x, y = value
    return Point(x, y)


class Box(tuple[Point, Point]):
    """``box``: ``Box(high, low)``, two corners (the server stores the upper right first)."""

    __slots__ = ()

    def __new__(cls, high: Sequence[float], low: Sequence[float]) -> Box:
        return super().__new__(cls, (_point(high), _point(low)))

    @property
    def high(self) -> Point:
        """The first corner: the upper right one in a box from the server."""
        return self[0]

    @property
    def low(self) -> Point:
        """The second corner: the lower left one in a box from the server."""
        return self[1]

    def __repr__(self) -> str:
        return f"Box({self[0]!r}, {self[1]!r})"

    def __reduce__(self) -> Any:
        return (Box, tuple(self))


class Line(tuple[float, float, float]):
    """``line``: ``Line(A, B, C)``, the line A·x + B·y + C = 0."""

    __slots__ = ()

    def __new__(cls, A: float, B: float, C: float) -> Line:
        return super().__new__(cls, (float(A), float(B), float(C)))

    @property
    def A(self) -> float:
        """The coefficient of x."""
        return self[0]

    @property
    def B(self) -> float:
        """The coefficient of y."""
        return self[1]

    @property
    def C(self) -> float:
        """The constant term."""
        return self[2]

    def __repr__(self) -> str:
        return f"Line({self[0]!r}, {self[1]!r}, {self[2]!r})"

    def __reduce__(self) -> Any:
        return (Line, tuple(self))


class LineSegment(tuple[Point, Point]):
    """``lseg``: ``LineSegment(p1, p2)``."""

    __slots__ = ()

    def __new__(cls, p1: Sequence[float], p2: Sequence[float]) -> LineSegment:
        return super().__new__(cls, (_point(p1), _point(p2)))

    @property
    def p1(self) -> Point:
        """The first end point."""
        return self[0]

    @property
    def p2(self) -> Point:
        """The second end point."""
        return self[1]

    def __repr__(self) -> str:
        return f"LineSegment({self[0]!r}, {self[1]!r})"

    def __reduce__(self) -> Any:
        return (LineSegment, tuple(self))


class Path:
    """``path``: ``Path(*points, is_closed=False)``; iterable, indexable, sized."""

    __slots__ = ("points", "_is_closed")

    points: tuple[Point, ...]

    def __init__(self, *points: Sequence[float], is_closed: bool = False) -> None:
        self.points = tuple(_point(p) for p in points)
        self._is_closed = bool(is_closed)

    @property
    def is_closed(self) -> bool:
        """Is the path closed (its last point joined to its first)?"""
        return self._is_closed

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Path):
            return NotImplemented
        return self.points == other.points and self._is_closed == other._is_closed

    def __hash__(self) -> int:
        return hash((self.points, self._is_closed))

    def __iter__(self) -> Iterator[Point]:
        return iter(self.points)

    def __len__(self) -> int:
        return len(self.points)

    @overload
    def __getitem__(self, index: int) -> Point: ...

    @overload
    def __getitem__(self, index: slice) -> tuple[Point, ...]: ...

    def __getitem__(self, index: int | slice) -> Point | tuple[Point, ...]:
        return self.points[index]

    def __contains__(self, point: object) -> bool:
        return point in self.points

    def __repr__(self) -> str:
        points = ", ".join(repr(p) for p in self.points)
        return f"Path({points}, is_closed={self._is_closed})"

    def __reduce__(self) -> Any:
        return (_make_path, (self.points, self._is_closed))


def _make_path(points: tuple[Point, ...], is_closed: bool) -> Path:
    return Path(*points, is_closed=is_closed)


class Polygon(Path):
    """``polygon``: ``Polygon(*points)``, a closed path."""

    __slots__ = ()

    def __init__(self, *points: Sequence[float]) -> None:
        super().__init__(*points, is_closed=True)

    def __repr__(self) -> str:
        return f"Polygon({', '.join(repr(p) for p in self.points)})"

    def __reduce__(self) -> Any:
        return (Polygon, self.points)


class Circle(tuple[Point, float]):
    """``circle``: ``Circle(center, radius)``."""

    __slots__ = ()

    def __new__(cls, center: Sequence[float], radius: float) -> Circle:
        return super().__new__(cls, (_point(center), float(radius)))

    @property
    def center(self) -> Point:
        """The center point."""
        return self[0]

    @property
    def radius(self) -> float:
        """The radius."""
        return self[1]

    def __repr__(self) -> str:
        return f"Circle({self[0]!r}, {self[1]!r})"

    def __reduce__(self) -> Any:
        return (Circle, tuple(self))


_LSN_TEXT = re.compile(r"([0-9A-Fa-f]{1,8})/([0-9A-Fa-f]{1,8})", re.ASCII)


class LSN(int):
    """A WAL location (``pg_lsn``): an int that prints as PostgreSQL does, ``16/B374D848``.

    It compares, hashes and does arithmetic as the int it is (arithmetic
    gives plain ints); ``LSN('16/B374D848')`` parses the text form.
    """

    __slots__ = ()

    def __new__(cls, value: int | str = 0) -> LSN:
        if isinstance(value, str):
            # pg_lsn_in: 1 to 8 hex digits, '/', 1 to 8 hex digits.
            match = _LSN_TEXT.fullmatch(value.strip())
            if match is None:
                raise ValueError(f"invalid LSN {value!r}: expected the form 16/B374D848")
            return super().__new__(cls, (int(match[1], 16) << 32) | int(match[2], 16))
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(f"LSN expects int or str, got {type(value).__qualname__}")
        if not 0 <= value < 1 << 64:
            raise ValueError(f"LSN {value} out of range (0 to 2**64 - 1)")
        return super().__new__(cls, value)

    def __str__(self) -> str:
        return f"{int(self) >> 32:X}/{int(self) & 0xFFFFFFFF:X}"

    def __repr__(self) -> str:
        return f"LSN('{self}')"

    def __reduce__(self) -> Any:
        return (LSN, (int(self),))
