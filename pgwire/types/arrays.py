"""Array codecs: PostgreSQL's binary array format and its text literal syntax.

Binary layout: int32 ndim, int32 has-null flag, uint32 element OID, then for
each dimension int32 size and int32 lower bound, then the elements in row-major
order, each as an int32 length (-1 for NULL) followed by that many bytes in the
element type's binary format.

Behaviours:

* Arrays decode to nested Python lists, one level per dimension, NULL as
  ``None``; an empty array (ndim 0) is ``[]``.  Lower bounds are ignored:
  ``'[0:1]={1,2}'`` decodes as ``[1, 2]``.
* Encoders take a list or tuple, nested one level per dimension.  The shape
  must be rectangular (``ValueError`` otherwise) and at most 6-dimensional
  (PostgreSQL's limit); lower bounds are sent as 1.  Only lists and tuples are
  dimensions: a ``str``, ``bytes`` or ``dict`` element is a scalar.  Arrays of
  json/jsonb are encoded flat (:func:`encode_flat_array`): a list item is a
  JSON value (``[[1, 2], {"a": 1}]`` is two values), never a dimension.
* Any array without elements (``[]``, ``[[], []]``) is sent as the empty array.

An :class:`ArrayCodec` holds its element's codec and decodes every element
in place, in the array's buffer (in C when both are compiled); encoders are
built per element type by :func:`make_array_encoder`, holding the element
encoder in a closure, so there is no lookup per element.  Compiled by
Cython (pure Python mode, types in ``arrays.pxd``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from .codec import Codec, Encoder

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    from .._bytes import read_int32

MAX_DIMENSIONS = 6  # PostgreSQL's MAXDIM

_HEAD = struct.Struct("!iiI")  # ndim, has-null flag, element OID
_DIM = struct.Struct("!ii")  # size, lower bound
_LEN = struct.Struct("!i")
_len_pack = _LEN.pack
_NULL = _len_pack(-1)


# -- binary decoding --------------------------------------------------------------


def decode_array(data: bytes, start: int, end: int, element: Codec) -> list[Any]:
    """Decode the binary array in ``data[start:end]``; ``element`` decodes each element."""
    if end - start < 12:
        raise ValueError(f"malformed array: {end - start} bytes")
    ndim = read_int32(data, start)
    if ndim == 0:
        return []
    if ndim < 0:
        raise ValueError(f"malformed array: {ndim} dimensions")
    if end - start < 12 + 8 * ndim:
        raise ValueError(f"malformed array: {end - start} bytes for {ndim} dimensions")
    pos = start + 12
    dims = []
    nitems = 1
    for _ in range(ndim):
        size = read_int32(data, pos)
        pos += 8
        if size < 0:
            raise ValueError(f"malformed array: dimension of size {size}")
        dims.append(size)
        nitems *= size
    if nitems == 0:
        return []
    if nitems > (end - pos) // 4:  # every element takes 4 bytes at least
        raise ValueError(f"malformed array: {nitems} elements in {end - start} bytes")
    items: list[Any] = []
    append = items.append
    for _ in range(nitems):
        if end - pos < 4:
            raise ValueError("malformed array: truncated element")
        length = read_int32(data, pos)
        pos += 4
        if length < 0:
            append(None)
        elif length > end - pos:
            raise ValueError("malformed array: truncated element")
        else:
            append(element.decode(data, pos, length))
            pos += length
    if pos != end:
        raise ValueError(f"malformed array: {end - start} bytes, elements end at {pos - start}")
    # Fold the flat row-major list into nested lists, innermost dimension first.
    for size in dims[:0:-1]:
        items = [items[i : i + size] for i in range(0, len(items), size)]
    return items


class ArrayCodec(Codec):
    """Decodes the binary arrays of one element type (its codec: ``element``)."""

    def __init__(self, element: Codec) -> None:
        super().__init__()
        self.element = element

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_array(data, pos, pos + n, self.element)


# -- binary encoding --------------------------------------------------------------


# What a dimension is: lists and tuples, or only lists for element types whose
# values are tuples (composites, ranges, points).
DimensionTypes = tuple[type[list[Any]] | type[tuple[Any, ...]], ...]
ANY_SEQUENCE: DimensionTypes = (list, tuple)
LISTS_ONLY: DimensionTypes = (list,)


def _array_shape(value: list[Any] | tuple[Any, ...], type_name: str,
                 dim_types: DimensionTypes) -> list[int]:
    """Dimensions read along the first elements; _flatten checks the rest."""
    dims = []
    item: Any = value
    while isinstance(item, dim_types):
        dims.append(len(item))
        if not item:
            break
        item = item[0]
    if len(dims) > MAX_DIMENSIONS:
        raise ValueError(
            f"{type_name}: arrays have at most {MAX_DIMENSIONS} dimensions, got {len(dims)}"
        )
    return dims


def _ragged(type_name: str) -> ValueError:
    return ValueError(
        f"{type_name}: multidimensional arrays must be rectangular"
        " (sub-lists of one level must all have the same length and depth)"
    )


def _flatten(
    seq: list[Any] | tuple[Any, ...],
    dims: list[int],
    depth: int,
    encode_element: Encoder,
    out: list[bytes],
    type_name: str,
    dim_types: DimensionTypes,
) -> bool:
    """Append each element's length word and bytes to ``out``; True if a NULL was seen."""
    if len(seq) != dims[depth]:
        raise _ragged(type_name)
    has_null = False
    if depth + 1 < len(dims):
        for sub in seq:
            if not isinstance(sub, dim_types):
                raise _ragged(type_name)
            if _flatten(sub, dims, depth + 1, encode_element, out, type_name, dim_types):
                has_null = True
        return has_null
    append = out.append
    for item in seq:
        if item is None:
            append(_NULL)
            has_null = True
        elif isinstance(item, dim_types):
            raise _ragged(type_name)
        else:
            data = encode_element(item)
            append(_len_pack(len(data)))
            append(data)
    return has_null


def encode_array(
    value: Any, encode_element: Encoder, element_oid: int, type_name: str = "array",
    dim_types: DimensionTypes = ANY_SEQUENCE,
) -> bytes:
    """Encode a (nested) list or tuple as a binary array of ``element_oid``.

    ``dim_types``: what counts as a dimension (:data:`LISTS_ONLY` when the
    elements themselves are tuples).
    """
    if not isinstance(value, ANY_SEQUENCE):
        raise TypeError(f"{type_name} expects a list or tuple, got {type(value).__qualname__}")
    if not isinstance(value, dim_types):  # the outer tuple is the array itself
        value = list(value)
    dims = _array_shape(value, type_name, dim_types)
    parts: list[bytes] = [b""]  # slot for the header, known once NULLs are seen
    has_null = _flatten(value, dims, 0, encode_element, parts, type_name, dim_types)
    if len(parts) == 1:  # no elements at all
        return _HEAD.pack(0, 0, element_oid)
    parts[0] = _HEAD.pack(len(dims), 1 if has_null else 0, element_oid) + b"".join(
        [_DIM.pack(size, 1) for size in dims]
    )
    return b"".join(parts)


def encode_flat_array(
    value: Any, encode_element: Encoder, element_oid: int, type_name: str = "array"
) -> bytes:
    """Encode a list or tuple as a one-dimensional array, whatever its items are.

    For element types whose Python values are themselves lists (json, jsonb):
    ``[[1, 2], {"a": 1}]`` is two JSON values, not a two-dimensional array.
    """
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"{type_name} expects a list or tuple, got {type(value).__qualname__}")
    if not value:
        return _HEAD.pack(0, 0, element_oid)
    parts: list[bytes] = [b""]
    has_null = False
    for item in value:
        if item is None:
            parts.append(_NULL)
            has_null = True
        else:
            data = encode_element(item)
            parts.append(_len_pack(len(data)))
            parts.append(data)
    parts[0] = _HEAD.pack(1, 1 if has_null else 0, element_oid) + _DIM.pack(len(value), 1)
    return b"".join(parts)


def make_array_encoder(encode_element: Encoder, element_oid: int, type_name: str,
                       flat: bool = False, tuple_elements: bool = False) -> Encoder:
    """The encoder of an array type.

    ``flat``: list items are elements, never dimensions (json);
    ``tuple_elements``: only lists are dimensions, tuples are elements
    (composites, ranges, points).
    """
    if flat:
        def encode_flat(value: Any) -> bytes:
            return encode_flat_array(value, encode_element, element_oid, type_name)

        return encode_flat
    dim_types = LISTS_ONLY if tuple_elements else ANY_SEQUENCE

    def encode(value: Any) -> bytes:
        return encode_array(value, encode_element, element_oid, type_name, dim_types)

    return encode


# -- text format ------------------------------------------------------------------
# '{1,2,NULL}', '{{"a b","c\\"d"},{NULL,"NULL"}}', optionally preceded by
# dimension decoration such as '[0:1]=' when a lower bound is not 1.  Every
# built-in type pgwire knows uses ',' as its delimiter.


def _identity(text: str) -> Any:
    return text


def parse_array_text(text: str, parse_element: Callable[[str], Any] | None = None,
                     delimiter: str = ",") -> list[Any]:
    """Parse an array literal into nested lists; elements go through ``parse_element``.

    ``delimiter`` separates elements: ``,`` for every built-in type but box (``;``).
    """
    parse = parse_element or _identity
    n = len(text)
    i = 0
    if text.startswith("["):  # dimension decoration: bounds are ignored
        i = text.find("=") + 1
        if i == 0:
            raise ValueError(f"malformed array literal {text!r}")
    while i < n and text[i] == " ":
        i += 1
    if i >= n or text[i] != "{":
        raise ValueError(f"malformed array literal {text!r}")
    stack: list[list[Any]] = []
    current: list[Any] | None = None
    result: list[Any] | None = None
    while i < n:
        c = text[i]
        if c == "{":
            new: list[Any] = []
            if current is not None:
                current.append(new)
                stack.append(current)
            current = new
            i += 1
        elif c == "}":
            if current is None:
                raise ValueError(f"malformed array literal {text!r}")
            if stack:
                current = stack.pop()
            else:
                result = current
                i += 1
                break
            i += 1
        elif c == delimiter or c.isspace():
            i += 1
        elif current is None:
            raise ValueError(f"malformed array literal {text!r}")
        elif c == '"':
            chars = []
            i += 1
            while True:
                if i >= n:
                    raise ValueError(f"malformed array literal {text!r}: unterminated quote")
                c = text[i]
                if c == "\\":
                    i += 1
                    if i >= n:
                        raise ValueError(f"malformed array literal {text!r}")
                    chars.append(text[i])
                elif c == '"':
                    break
                else:
                    chars.append(c)
                i += 1
            i += 1
            current.append(parse("".join(chars)))
        else:
            # Unquoted element.  PostgreSQL quotes anything with special
            # characters, but escapes are legal here too; NULL is only NULL
            # when written bare.
            chars = []
            escaped = False
            while i < n:
                c = text[i]
                if c == "\\" and i + 1 < n:
                    chars.append(text[i + 1])
                    escaped = True
                    i += 2
                    continue
                if c == delimiter or c == "}":
                    break
                chars.append(c)
                i += 1
            token = "".join(chars).strip()
            if not escaped and token.upper() == "NULL":
                current.append(None)
            else:
                current.append(parse(token))
    if result is None or text[i:].strip():
        raise ValueError(f"malformed array literal {text!r}")
    return result


def format_array_text(
    value: list[Any] | tuple[Any, ...], format_element: Callable[[Any], str],
    delimiter: str = ",", flat: bool = False, tuple_elements: bool = False,
) -> str:
    """Build an array literal; every non-NULL element is quoted, so any text is safe.

    ``flat``: list items are elements, never sub-arrays (json, jsonb);
    ``tuple_elements``: only lists are sub-arrays.
    """
    dim_types = LISTS_ONLY if tuple_elements else ANY_SEQUENCE
    parts = []
    for item in value:
        if item is None:
            parts.append("NULL")
        elif not flat and isinstance(item, dim_types):
            parts.append(format_array_text(item, format_element, delimiter, False,
                                           tuple_elements))
        else:
            text = format_element(item)
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + delimiter.join(parts) + "}"


def make_array_parser(parse_element: Callable[[str], Any] | None,
                      delimiter: str = ",") -> Callable[[str], list[Any]]:
    def parse(text: str) -> list[Any]:
        return parse_array_text(text, parse_element, delimiter)

    return parse


def make_array_formatter(format_element: Callable[[Any], str], delimiter: str = ",",
                         flat: bool = False,
                         tuple_elements: bool = False) -> Callable[[Any], str]:
    def format_array(value: Any) -> str:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"an array expects a list or tuple, got {type(value).__qualname__}")
        return format_array_text(value, format_element, delimiter, flat, tuple_elements)

    return format_array
