"""Range and multirange types, over any subtype, <-> :class:`~pgwire.types.values.Range`.

A range decodes to a ``Range`` of its subtype's Python values (an
``int4range`` to ``Range(1, 5)``, a ``tstzrange`` to a Range of aware
datetimes); a multirange to a ``list`` of Ranges, as asyncpg gives them.
Parameters take a ``Range``, or a ``(lower, upper)`` tuple or list (bounds
``[lower, upper)``, None for unbounded); a multirange takes a list of those.
A range of numbers, dates or times whose lower bound is above its upper
bound is refused before it is sent (other subtypes order by collation or
sort order, which only the server knows).  The registry builds one :class:`RangeCodec` per range type around
its subtype's codec (the built-in ranges, and user ranges found by
introspection), so a range of any subtype decodes in place like the
subtype would.

Binary format (``range_send`` in ``utils/adt/rangetypes.c``): a flags byte
(:data:`EMPTY`, :data:`LB_INC`, :data:`UB_INC`, :data:`LB_INF`,
:data:`UB_INF`), then each finite bound as an int32 length and the
subtype's binary value.  A multirange (``multirange_send``) is an int32
count of ranges, each as an int32 length and a range.  Compiled by Cython
(pure Python mode, types in ``ranges.pxd``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .codec import Codec, Encoder
from .codec import type_label as _type_label
from .values import Range

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    from .._bytes import read_int32

    def gc_is_tracked(obj: object) -> bool:
        """Compiled: PyObject_GC_IsTracked (see the .pxd); pure Python never untracks."""
        return False

    def gc_untrack(obj: object) -> None:
        """Compiled: PyObject_GC_UnTrack."""

EMPTY = 0x01
LB_INC = 0x02
UB_INC = 0x04
LB_INF = 0x08
UB_INF = 0x10

_LEN = struct.Struct("!i")
_len_pack = _LEN.pack


def decode_range(data: bytes, pos: int, n: int, subtype: Codec, type_name: str) -> Range[Any]:
    end = pos + n
    if n < 1:
        raise ValueError(f"malformed {type_name} value: 0 bytes")
    flags = data[pos]
    pos += 1
    if flags & EMPTY:
        if n != 1:
            raise ValueError(f"malformed {type_name} value: {n} bytes for an empty range")
        return Range(empty=True)
    lower: Any = None
    upper: Any = None
    if not flags & LB_INF:
        if end - pos < 4:
            raise ValueError(f"malformed {type_name} value: truncated lower bound")
        length = read_int32(data, pos)
        pos += 4
        if length < 0 or length > end - pos:
            raise ValueError(f"malformed {type_name} value: truncated lower bound")
        lower = subtype.decode(data, pos, length)
        pos += length
    if not flags & UB_INF:
        if end - pos < 4:
            raise ValueError(f"malformed {type_name} value: truncated upper bound")
        length = read_int32(data, pos)
        pos += 4
        if length < 0 or length > end - pos:
            raise ValueError(f"malformed {type_name} value: truncated upper bound")
        upper = subtype.decode(data, pos, length)
        pos += length
    if pos != end:
        raise ValueError(f"malformed {type_name} value: trailing bytes")
    # Built without Range.__init__ (its keyword handling is most of the cost
    # of a range value); the same invariants: an infinite bound is exclusive.
    value = Range.__new__(Range)
    value._lower = lower
    value._upper = upper
    value._lower_inc = lower is not None and bool(flags & LB_INC)
    value._upper_inc = upper is not None and bool(flags & UB_INC)
    value._empty = False
    return value


def as_range(value: Any, type_name: str) -> Range[Any]:
    """A Range from a parameter: a Range, or a (lower, upper) tuple or list."""
    if isinstance(value, Range):
        return value
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{type_name} expects a Range or a (lower, upper) pair, "
                             f"got a sequence of {len(value)} items")
        return Range(value[0], value[1])
    raise TypeError(f"{type_name} expects a Range or a (lower, upper) tuple, "
                    f"got {_type_label(value)}")


def _check_order(value: Range[Any], type_name: str) -> None:
    lower, upper = value.lower, value.upper
    if lower is None or upper is None:
        return
    try:
        wrong = lower > upper
    except TypeError:
        return  # bounds of types that do not compare: the server decides
    if wrong:
        raise ValueError(f"{type_name} lower bound {lower!r} is above upper bound {upper!r}")


def encode_range(value: Any, encode_subtype: Encoder, type_name: str,
                 check_order: bool = True) -> bytes:
    value = as_range(value, type_name)
    if value.isempty:
        return b"\x01"
    if check_order:
        _check_order(value, type_name)
    flags = 0
    parts = [b""]
    if value.lower is None:
        flags |= LB_INF
    else:
        if value.lower_inc:
            flags |= LB_INC
        data = encode_subtype(value.lower)
        parts.append(_len_pack(len(data)))
        parts.append(data)
    if value.upper is None:
        flags |= UB_INF
    else:
        if value.upper_inc:
            flags |= UB_INC
        data = encode_subtype(value.upper)
        parts.append(_len_pack(len(data)))
        parts.append(data)
    parts[0] = bytes((flags,))
    return b"".join(parts)


class RangeCodec(Codec):
    """Decodes and encodes one range type around its subtype's codec."""

    def __init__(self, subtype: Codec, encode_subtype: Encoder | None, type_name: str,
                 check_order: bool = True) -> None:
        super().__init__(subtype.atomic)
        self.subtype = subtype
        self.encode_subtype = encode_subtype
        self.type_name = type_name
        # Refuse lower > upper before sending: only where Python orders the
        # subtype's values as the server does.
        self.check_order = check_order

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        value = decode_range(data, pos, n, self.subtype, self.type_name)
        if self.atomic and gc_is_tracked(value):
            # A Range of atomic bounds cannot be part of a cycle: keeping it
            # out of the garbage collector's lists makes large results cheap,
            # as rows.py does for records.
            gc_untrack(value)
        return value

    def encode(self, value: Any) -> bytes:
        if self.encode_subtype is None:
            raise TypeError(f"{self.type_name}: its subtype has no binary encoder")
        return encode_range(value, self.encode_subtype, self.type_name, self.check_order)


class MultirangeCodec(Codec):
    """Decodes and encodes one multirange type around its range type's codec."""

    def __init__(self, range_codec: RangeCodec, type_name: str) -> None:
        super().__init__()
        self.range_codec = range_codec
        self.type_name = type_name

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        end = pos + n
        if n < 4:
            raise ValueError(f"malformed {self.type_name} value: {n} bytes")
        count = read_int32(data, pos)
        pos += 4
        if count < 0 or count > (end - pos) // 5:
            raise ValueError(f"malformed {self.type_name} value: {count} ranges")
        ranges = []
        for _ in range(count):
            if end - pos < 4:
                raise ValueError(f"malformed {self.type_name} value: truncated")
            length = read_int32(data, pos)
            pos += 4
            if length < 0 or length > end - pos:
                raise ValueError(f"malformed {self.type_name} value: truncated")
            ranges.append(self.range_codec.decode(data, pos, length))
            pos += length
        if pos != end:
            raise ValueError(f"malformed {self.type_name} value: trailing bytes")
        return ranges

    def encode(self, value: Any) -> bytes:
        if isinstance(value, (str, bytes, Range)) or not isinstance(value, (list, tuple, set,
                                                                            frozenset)):
            raise TypeError(f"{self.type_name} expects a list of Ranges, "
                            f"got {_type_label(value)}")
        parts = [_LEN.pack(len(value))]
        for item in value:
            data = self.range_codec.encode(item)
            parts.append(_len_pack(len(data)))
            parts.append(data)
        return b"".join(parts)


# -- text format: '[1,5)', 'empty', '(,"2020-01-01 00:00:00"]', '{[1,2),[5,6)}' --------


def _bound_text(text: str, start: int, stops: str) -> tuple[str | None, int]:
    """Read one bound from ``start``; None for an empty (infinite) bound."""
    chars: list[str] = []
    i = start
    quoted = False
    while i < len(text) and text[i] not in stops:
        c = text[i]
        if c == '"':
            quoted = True
            i += 1
            while i < len(text):
                c = text[i]
                if c == "\\" and i + 1 < len(text):
                    chars.append(text[i + 1])
                    i += 2
                elif c == '"':
                    if text[i + 1 : i + 2] == '"':  # "" inside quotes is one "
                        chars.append('"')
                        i += 2
                    else:
                        i += 1
                        break
                else:
                    chars.append(c)
                    i += 1
        elif c == "\\" and i + 1 < len(text):
            chars.append(text[i + 1])
            i += 2
        else:
            chars.append(c)
            i += 1
    if not chars and not quoted:
        return None, i
    return "".join(chars), i


def parse_range_text(text: str, parse_subtype: Callable[[str], Any] | None) -> Range[Any]:
    text = text.strip()
    if text.lower() == "empty":
        return Range(empty=True)
    if len(text) < 3 or text[0] not in "[(" or text[-1] not in "])":
        raise ValueError(f"malformed range literal {text!r}")
    lower_text, i = _bound_text(text, 1, ",")
    if i >= len(text) or text[i] != ",":
        raise ValueError(f"malformed range literal {text!r}")
    upper_text, j = _bound_text(text, i + 1, ")]")
    if j != len(text) - 1:
        raise ValueError(f"malformed range literal {text!r}")
    parse = parse_subtype or str
    return Range(
        None if lower_text is None else parse(lower_text),
        None if upper_text is None else parse(upper_text),
        lower_inc=text[0] == "[", upper_inc=text[-1] == "]",
    )


def parse_multirange_text(text: str,
                          parse_subtype: Callable[[str], Any] | None) -> list[Range[Any]]:
    text = text.strip()
    if not text.startswith("{") or not text.endswith("}"):
        raise ValueError(f"malformed multirange literal {text!r}")
    ranges = []
    i = 1
    end = len(text) - 1
    while i < end:
        c = text[i]
        if c in ", ":
            i += 1
            continue
        if text.startswith("empty", i):
            i += 5
            continue  # the server never prints these; they would be dropped
        if c not in "[(":
            raise ValueError(f"malformed multirange literal {text!r}")
        # The range ends at the first ] or ) outside quotes.
        j = i + 1
        in_quotes = False
        while j < end:
            ch = text[j]
            if ch == "\\":
                j += 2
                continue
            if ch == '"':
                in_quotes = not in_quotes
            elif not in_quotes and ch in ")]":
                break
            j += 1
        ranges.append(parse_range_text(text[i : j + 1], parse_subtype))
        i = j + 1
    return ranges


def _quote_bound(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_range_text(value: Any, format_subtype: Callable[[Any], str], type_name: str,
                      check_order: bool = True) -> str:
    if isinstance(value, str):
        return value
    value = as_range(value, type_name)
    if value.isempty:
        return "empty"
    if check_order:
        _check_order(value, type_name)
    lower = "" if value.lower is None else _quote_bound(format_subtype(value.lower))
    upper = "" if value.upper is None else _quote_bound(format_subtype(value.upper))
    return f"{'[' if value.lower_inc else '('}{lower},{upper}{']' if value.upper_inc else ')'}"


def format_multirange_text(value: Any, format_subtype: Callable[[Any], str],
                           type_name: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Range) or not isinstance(value, (list, tuple)):
        raise TypeError(f"{type_name} expects a list of Ranges, got {_type_label(value)}")
    return "{" + ",".join(format_range_text(item, format_subtype, type_name, False)
                          for item in value) + "}"
