"""Conversion between PostgreSQL values and Python objects, keyed by type OID.

``default_registry`` (a :class:`TypeRegistry`) holds binary codecs for the
built-in scalar types and their arrays, text-format parsers, and the text
fallback; connections work on a copy of it.  The codecs themselves live in
:mod:`~pgwire.types.binary` (scalars), :mod:`~pgwire.types.arrays` and
:mod:`~pgwire.types.text`, whose docstrings document the Python mapping
(infinities, time zones, interval months, JSON strings...); the OIDs are in
:mod:`~pgwire.types.oids`.
"""

from __future__ import annotations

from . import oids
from .binary import Decoder, Encoder
from .errors import UnrepresentableValueError
from .registry import TypeRegistry, default_registry

__all__ = [
    "Decoder",
    "Encoder",
    "TypeRegistry",
    "UnrepresentableValueError",
    "default_registry",
    "oids",
]
