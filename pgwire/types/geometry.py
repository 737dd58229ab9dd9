"""Geometric types: point, line, lseg, box, path, polygon, circle.

Decoded to the classes of :mod:`pgwire.types.values` (``Point``, ``Line``,
``LineSegment``, ``Box``, ``Path``, ``Polygon``, ``Circle``), as asyncpg
does; parameters take those or plain sequences of the same shape
(``(x, y)`` for a point, ``((x1, y1), (x2, y2))`` for a box or segment, a
list of points for a path or polygon, ``((x, y), r)`` for a circle).

Binary formats (``utils/adt/geo_ops.c``): float8 coordinates; ``box`` sends
its upper right corner first; ``path`` a closed-flag byte and an int32 point
count before its points; ``polygon`` an int32 point count (its bounding box
is not sent).

Compiled by Cython (pure Python mode, types in ``geometry.pxd``).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any

from . import oids
from .codec import Codec, TypeSpec
from .codec import malformed as _malformed
from .codec import type_label as _type_label
from .values import Box, Circle, Line, LineSegment, Path, Point, Polygon

_F2 = struct.Struct("!dd")
_F3 = struct.Struct("!ddd")
_F4 = struct.Struct("!dddd")
_COUNT = struct.Struct("!i")
_PATH_HEAD = struct.Struct("!bi")


def _points(data: bytes, pos: int, count: int) -> list[Point]:
    unpack = _F2.unpack_from
    return [Point(*unpack(data, pos + 16 * i)) for i in range(count)]


def decode_point(data: bytes, pos: int = 0, n: int = -1) -> Point:
    if n < 0:
        n = len(data) - pos
    if n != 16:
        raise _malformed("point", n)
    return Point(*_F2.unpack_from(data, pos))


def decode_line(data: bytes, pos: int = 0, n: int = -1) -> Line:
    if n < 0:
        n = len(data) - pos
    if n != 24:
        raise _malformed("line", n)
    return Line(*_F3.unpack_from(data, pos))


def decode_lseg(data: bytes, pos: int = 0, n: int = -1) -> LineSegment:
    if n < 0:
        n = len(data) - pos
    if n != 32:
        raise _malformed("lseg", n)
    x1, y1, x2, y2 = _F4.unpack_from(data, pos)
    return LineSegment((x1, y1), (x2, y2))


def decode_box(data: bytes, pos: int = 0, n: int = -1) -> Box:
    if n < 0:
        n = len(data) - pos
    if n != 32:
        raise _malformed("box", n)
    x1, y1, x2, y2 = _F4.unpack_from(data, pos)
    return Box((x1, y1), (x2, y2))


def decode_path(data: bytes, pos: int = 0, n: int = -1) -> Path:
    if n < 0:
        n = len(data) - pos
    if n < 5:
        raise _malformed("path", n)
    closed, count = _PATH_HEAD.unpack_from(data, pos)
    if count < 0 or n != 5 + 16 * count:
        raise _malformed("path", n)
    return Path(*_points(data, pos + 5, count), is_closed=bool(closed))


def decode_polygon(data: bytes, pos: int = 0, n: int = -1) -> Polygon:
    if n < 0:
        n = len(data) - pos
    if n < 4:
        raise _malformed("polygon", n)
    (count,) = _COUNT.unpack_from(data, pos)
    if count < 0 or n != 4 + 16 * count:
        raise _malformed("polygon", n)
    return Polygon(*_points(data, pos + 4, count))


def decode_circle(data: bytes, pos: int = 0, n: int = -1) -> Circle:
    if n < 0:
        n = len(data) - pos
    if n != 24:
        raise _malformed("circle", n)
    x, y, r = _F3.unpack_from(data, pos)
    return Circle((x, y), r)


# -- encoders: our classes or sequences of the same shape ------------------------------


def _shape_error(type_name: str, shape: str, value: Any) -> TypeError:
    return TypeError(f"{type_name} expects {shape}, got {_type_label(value)}")


def _pair(value: Any, type_name: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)):
        raise _shape_error(type_name, "a point (x, y)", value)
    try:
        x, y = value
        return float(x), float(y)
    except (TypeError, ValueError):
        raise _shape_error(type_name, "a point (x, y) of two numbers", value) from None


def encode_point(value: Any) -> bytes:
    return _F2.pack(*_pair(value, "point"))


def encode_line(value: Any) -> bytes:
    if isinstance(value, (str, bytes)):
        raise _shape_error("line", "Line(A, B, C) or three numbers", value)
    try:
        a, b, c = value
        return _F3.pack(float(a), float(b), float(c))
    except (TypeError, ValueError):
        raise _shape_error("line", "Line(A, B, C) or three numbers", value) from None


def _two_points(value: Any, type_name: str) -> bytes:
    if isinstance(value, (str, bytes)):
        raise _shape_error(type_name, "two points", value)
    try:
        first, second = value
    except (TypeError, ValueError):
        raise _shape_error(type_name, "two points", value) from None
    return _F4.pack(*_pair(first, type_name), *_pair(second, type_name))


def encode_lseg(value: Any) -> bytes:
    return _two_points(value, "lseg")


def encode_box(value: Any) -> bytes:
    return _two_points(value, "box")


def _point_list(value: Any, type_name: str) -> list[bytes]:
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise _shape_error(type_name, "a sequence of points", value)
    return [_F2.pack(*_pair(point, type_name)) for point in value]


def encode_path(value: Any) -> bytes:
    points = _point_list(value, "path")
    closed = value.is_closed if isinstance(value, Path) else False
    return _PATH_HEAD.pack(1 if closed else 0, len(points)) + b"".join(points)


def encode_polygon(value: Any) -> bytes:
    points = _point_list(value, "polygon")
    return _COUNT.pack(len(points)) + b"".join(points)


def encode_circle(value: Any) -> bytes:
    if isinstance(value, (str, bytes)):
        raise _shape_error("circle", "Circle(center, radius)", value)
    try:
        center, radius = value
        return _F3.pack(*_pair(center, "circle"), float(radius))
    except (TypeError, ValueError):
        raise _shape_error("circle", "Circle(center, radius)", value) from None


# -- text format: '(1,2)', '{1,2,3}', '[(1,2),(3,4)]', '((1,2),(3,4))', '<(1,2),3>' ---------

_NUMBER = re.compile(r"[-+]?(?:[0-9.]+(?:[eE][-+]?[0-9]+)?|Infinity|NaN|inf(?:inity)?|nan)",
                     re.IGNORECASE)


def _numbers(text: str) -> list[float]:
    return [float(m) for m in _NUMBER.findall(text)]


def _paired(numbers: list[float]) -> list[tuple[float, float]]:
    return [(numbers[i], numbers[i + 1]) for i in range(0, len(numbers) - 1, 2)]


def parse_point(text: str) -> Point:
    return Point(*_numbers(text))


def parse_line(text: str) -> Line:
    return Line(*_numbers(text))


def parse_lseg(text: str) -> LineSegment:
    return LineSegment(*_paired(_numbers(text)))


def parse_box(text: str) -> Box:
    return Box(*_paired(_numbers(text)))


def parse_path(text: str) -> Path:
    return Path(*_paired(_numbers(text)), is_closed=text.lstrip().startswith("("))


def parse_polygon(text: str) -> Polygon:
    return Polygon(*_paired(_numbers(text)))


def parse_circle(text: str) -> Circle:
    x, y, r = _numbers(text)
    return Circle((x, y), r)


def _text_of(encode: Callable[[Any], bytes], form: Callable[[Any], str]) -> Callable[[Any], str]:
    def format_geometry(value: Any) -> str:
        if isinstance(value, str):
            return value
        encode(value)  # the same checks as the binary encoder
        return form(value)

    return format_geometry


def _pt(p: Any) -> str:
    x, y = p
    return f"({float(x)!r},{float(y)!r})"


def _format_path(value: Any) -> str:
    points = ",".join(_pt(p) for p in value)
    return f"({points})" if isinstance(value, Path) and value.is_closed else f"[{points}]"


# -- codecs --------------------------------------------------------------------------


class GeometryCodec(Codec):
    """One geometric type: its decode and encode functions."""

    def __init__(self, decoder: Callable[[bytes, int, int], Any],
                 encoder: Callable[[Any], bytes]) -> None:
        super().__init__(False, decoder, encoder)
        self.decoder = decoder
        self.encoder = encoder

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return self.decoder(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return self.encoder(value)


TYPES = (
    TypeSpec(oids.POINT, "point", oids.POINT_ARRAY, GeometryCodec(decode_point, encode_point),
             parse_point, _text_of(encode_point, _pt)),
    TypeSpec(oids.LINE, "line", oids.LINE_ARRAY, GeometryCodec(decode_line, encode_line),
             parse_line, _text_of(encode_line, lambda v: "{" + ",".join(repr(float(x)) for x in v) + "}")),
    TypeSpec(oids.LSEG, "lseg", oids.LSEG_ARRAY, GeometryCodec(decode_lseg, encode_lseg),
             parse_lseg, _text_of(encode_lseg, lambda v: f"[{_pt(v[0])},{_pt(v[1])}]")),
    TypeSpec(oids.BOX, "box", oids.BOX_ARRAY, GeometryCodec(decode_box, encode_box),
             parse_box, _text_of(encode_box, lambda v: f"{_pt(v[0])},{_pt(v[1])}")),
    TypeSpec(oids.PATH, "path", oids.PATH_ARRAY, GeometryCodec(decode_path, encode_path),
             parse_path, _text_of(encode_path, _format_path)),
    TypeSpec(oids.POLYGON, "polygon", oids.POLYGON_ARRAY,
             GeometryCodec(decode_polygon, encode_polygon), parse_polygon,
             _text_of(encode_polygon, lambda v: "(" + ",".join(_pt(p) for p in v) + ")")),
    TypeSpec(oids.CIRCLE, "circle", oids.CIRCLE_ARRAY, GeometryCodec(decode_circle, encode_circle),
             parse_circle, _text_of(encode_circle, lambda v: f"<{_pt(v[0])},{float(v[1])!r}>")),
)
