"""Conversion between PostgreSQL values and Python objects, keyed by type OID.

``default_registry`` (a :class:`TypeRegistry`) holds binary codecs for the
built-in types and their arrays, text-format parsers, and the text
fallback; connections work on a copy of it.  A codec is a
:class:`~pgwire.types.codec.Codec` object, which the compiled row decoder
calls in C.  The codecs live in one module per type family --
:mod:`~pgwire.types.numeric`, :mod:`~pgwire.types.strings`,
:mod:`~pgwire.types.datetimes`, :mod:`~pgwire.types.uuids`,
:mod:`~pgwire.types.jsons`, :mod:`~pgwire.types.network`,
:mod:`~pgwire.types.bitstrings`, :mod:`~pgwire.types.geometry`,
:mod:`~pgwire.types.system`, :mod:`~pgwire.types.ranges`,
:mod:`~pgwire.types.composites`, :mod:`~pgwire.types.arrays` -- whose docstrings
document the Python mapping (infinities, time zones, interval months, JSON
strings...); the generic text forms of parameters are in
:mod:`~pgwire.types.textformat`, the OIDs in :mod:`~pgwire.types.oids`.
"""

from __future__ import annotations

from . import oids
from .codec import Codec, Decoder, Encoder, FunctionCodec
from .errors import UnrepresentableValueError
from .registry import TypeInfo, TypeRegistry, default_registry
from .values import LSN, BitString, Box, Circle, Line, LineSegment, Path, Point, Polygon, Range

__all__ = [
    "LSN",
    "BitString",
    "Box",
    "Circle",
    "Codec",
    "Line",
    "LineSegment",
    "Path",
    "Point",
    "Polygon",
    "Range",
    "TypeInfo",
    "Decoder",
    "Encoder",
    "FunctionCodec",
    "TypeRegistry",
    "UnrepresentableValueError",
    "default_registry",
    "oids",
]
