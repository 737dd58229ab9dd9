"""Composite types, anonymous records and hstore.

* A composite type (``CREATE TYPE t AS (...)``, a table's row type) decodes
  to a :class:`~pgwire.types.record.Record` whose keys are the attribute
  names, nested composites included, as asyncpg gives it.  Parameters take
  a tuple or list (by position), a dict (by attribute name; a missing
  attribute is NULL, an unknown one an error) or a Record.  The registry
  builds one :class:`CompositeCodec` per composite type from the catalog
  (introspection), around the codecs of its attribute types.
* An anonymous record (``SELECT (1, 'a')``, type ``record``) decodes to a
  ``tuple``, as asyncpg gives it, each field by the type OID the server
  sends with it; the server cannot read anonymous records, so they are not
  parameters.
* ``hstore`` (the extension) <-> ``dict[str, str | None]``.

Binary format (``record_send`` in ``utils/adt/rowtypes.c``): an int32
attribute count, then per attribute its type OID (uint32), an int32 length
(-1 for NULL) and the value in its type's binary format.  ``hstore_send``:
an int32 pair count, then per pair the key and the value (-1: NULL), each
as an int32 length and UTF-8 bytes.  Compiled by Cython (pure Python mode,
types in ``composites.pxd``).
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..exceptions import OutdatedSchemaCacheError
from .codec import Codec, Encoder
from .codec import type_label as _type_label
from .record import Record, RecordMapping

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    from .._bytes import read_int32, read_uint32

    def gc_is_tracked(obj: object) -> bool:
        """Compiled: PyObject_GC_IsTracked (see the .pxd); pure Python never untracks."""
        return False

    def gc_untrack(obj: object) -> None:
        """Compiled: PyObject_GC_UnTrack."""

_LEN = struct.Struct("!i")
_len_pack = _LEN.pack
_FIELD_HEAD = struct.Struct("!Ii")
_NULL_LEN = _len_pack(-1)
# Deeper anonymous records are refused (PostgreSQL itself stops at its stack depth limit).
MAX_RECORD_DEPTH = 100


def _truncated(type_name: str) -> ValueError:
    return ValueError(f"malformed {type_name} value: truncated")


class CompositeCodec(Codec):
    """One composite type: its attributes' names, type OIDs and codecs."""

    def __init__(self, type_name: str, names: Sequence[str], type_oids: Sequence[int],
                 codecs: Sequence[Codec], encoders: Sequence[Encoder | None]) -> None:
        # Atomic when every attribute is: its records then stay out of the
        # garbage collector's lists (see decode), and so can rows holding them.
        super().__init__(all(codec.atomic for codec in codecs))
        self.type_name = type_name
        self.names = tuple(names)
        self.type_oids = tuple(type_oids)
        self.codecs = list(codecs)
        # What the pure Python build calls per attribute: the codecs' plain
        # functions (a method call each less; see RowDecoder).
        self.functions = [codec.decoder_function() for codec in self.codecs]
        self.encoders = list(encoders)
        self.count = len(self.codecs)
        self.mapping = RecordMapping(self.names)
        self.positions = {name: index for index, name in enumerate(self.names)}

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        end = pos + n
        if n < 4:
            raise _truncated(self.type_name)
        count = read_int32(data, pos)
        pos += 4
        if count != self.count:
            # The connection then forgets the types it looked up, so the next
            # statement sees the type as it is now.
            raise OutdatedSchemaCacheError(
                f"{self.type_name} value has {count} attributes, the type had {self.count} "
                "when it was looked up: the type changed (ALTER TYPE); its description has "
                "been dropped, run the statement again",
                data_type=self.type_name,
            )
        values: list[Any] = [None] * count
        codecs = self.codecs
        functions = self.functions
        for index in range(count):
            if end - pos < 8:
                raise _truncated(self.type_name)
            length = read_int32(data, pos + 4)
            pos += 8
            if length < 0:
                continue
            if length > end - pos:
                raise _truncated(self.type_name)
            if cython.compiled:
                codec = cython.cast(Codec, codecs[index])
                values[index] = codec.decode(data, pos, length)
            else:
                values[index] = functions[index](data, pos, length)
            pos += length
        if pos != end:
            raise ValueError(f"malformed {self.type_name} value: trailing bytes")
        record = Record.__new__(Record)
        record._mapping = self.mapping
        record._values = tuple(values)
        if self.atomic:
            gc_untrack(record._values)
            gc_untrack(record)
        return record

    def field_values(self, value: Any) -> Sequence[Any]:
        """The attribute values of a parameter, in order (checks its shape)."""
        if isinstance(value, Record):
            values: Sequence[Any] = tuple(value.values())
        elif isinstance(value, (tuple, list)):
            values = value
        elif isinstance(value, Mapping):
            unknown = [key for key in value if key not in self.positions]
            if unknown:
                raise ValueError(f"{self.type_name} has no attribute {unknown[0]!r} "
                                 f"(attributes: {', '.join(self.names)})")
            values = [value.get(name) for name in self.names]
        else:
            raise TypeError(f"{self.type_name} expects a tuple, dict or Record, "
                            f"got {_type_label(value)}")
        if len(values) != self.count:
            raise ValueError(f"{self.type_name} has {self.count} attributes, "
                             f"got {len(values)} values")
        return values

    def encode(self, value: Any) -> bytes:
        values = self.field_values(value)
        parts = [_len_pack(self.count)]
        append = parts.append
        for index, item in enumerate(values):
            oid = self.type_oids[index]
            if item is None:
                append(_FIELD_HEAD.pack(oid, -1))
                continue
            encoder = self.encoders[index]
            if encoder is None:
                raise TypeError(f"{self.type_name}.{self.names[index]}: its type has no "
                                "binary encoder")
            try:
                data = encoder(item)
            except (TypeError, ValueError, OverflowError) as exc:
                raise type(exc)(f"{self.type_name}.{self.names[index]}: {exc}") from None
            append(_FIELD_HEAD.pack(oid, len(data)))
            append(data)
        return b"".join(parts)


class AnonymousRecordCodec(Codec):
    """``record``: each field decoded by the codec of the OID sent with it."""

    def __init__(self, lookup: Callable[[int], Codec | None],
                 name_of: Callable[[int], str | None]) -> None:
        super().__init__()
        self.lookup = lookup
        self.name_of = name_of
        # Records nest inside records (and their arrays) through this same
        # codec: a hostile server could nest them until the C stack runs out.
        self.depth = 0

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        if self.depth >= MAX_RECORD_DEPTH:
            raise ValueError(f"malformed record value: nested more than {MAX_RECORD_DEPTH} deep")
        self.depth += 1
        try:
            return self._decode(data, pos, n)
        finally:
            self.depth -= 1

    def _decode(self, data: bytes, pos: int, n: int) -> Any:
        end = pos + n
        if n < 4:
            raise _truncated("record")
        count = read_int32(data, pos)
        pos += 4
        if count < 0 or count > (end - pos) // 8:
            raise ValueError(f"malformed record value: {count} fields")
        values: list[Any] = [None] * count
        for index in range(count):
            if end - pos < 8:
                raise _truncated("record")
            oid = read_uint32(data, pos)
            length = read_int32(data, pos + 4)
            pos += 8
            if length < 0:
                continue
            if length > end - pos:
                raise _truncated("record")
            codec = self.lookup(oid)
            if codec is None:
                name = self.name_of(oid) or f"OID {oid}"
                raise ValueError(
                    f"field {index + 1} of an anonymous record has type {name}, which has no "
                    "binary decoder; cast the field to text or use a named composite type"
                )
            if cython.compiled:
                values[index] = cython.cast(Codec, codec).decode(data, pos, length)
            else:
                values[index] = codec.decode(data, pos, length)
            pos += length
        if pos != end:
            raise ValueError("malformed record value: trailing bytes")
        return tuple(values)


# -- text format of composites: '(1,"a b",)' -------------------------------------------


def parse_composite_text(text: str) -> list[str | None]:
    """The attribute texts of a composite literal; an empty unquoted field is NULL."""
    text = text.strip()
    if len(text) < 2 or text[0] != "(" or text[-1] != ")":
        raise ValueError(f"malformed record literal {text!r}")
    fields: list[str | None] = []
    i = 1
    end = len(text) - 1
    while True:
        chars: list[str] = []
        quoted = False
        while i < end and text[i] != ",":
            c = text[i]
            if c == '"':
                quoted = True
                i += 1
                while i < end:
                    c = text[i]
                    if c == "\\" and i + 1 < end:
                        chars.append(text[i + 1])
                        i += 2
                    elif c == '"':
                        if text[i + 1 : i + 2] == '"':
                            chars.append('"')
                            i += 2
                        else:
                            i += 1
                            break
                    else:
                        chars.append(c)
                        i += 1
            elif c == "\\" and i + 1 < end:
                chars.append(text[i + 1])
                i += 2
            else:
                chars.append(c)
                i += 1
        fields.append("".join(chars) if chars or quoted else None)
        if i >= end:
            break
        i += 1  # the comma
    return fields


def format_composite_text(texts: Sequence[str | None]) -> str:
    """A composite literal; every non-NULL attribute is quoted, so any text is safe."""
    parts = []
    for text in texts:
        if text is None:
            parts.append("")
        else:
            parts.append('"' + text.replace("\\", "\\\\").replace('"', '""') + '"')
    return "(" + ",".join(parts) + ")"


def make_composite_parser(
    names: Sequence[str], parsers: Sequence[Callable[[str], Any] | None]
) -> Callable[[str], Record]:
    mapping = RecordMapping(names)

    def parse(text: str) -> Record:
        fields = parse_composite_text(text)
        if len(fields) != len(parsers):
            raise ValueError(f"record literal has {len(fields)} attributes, "
                             f"expected {len(parsers)}")
        values = tuple(
            None if field is None else (field if parser is None else parser(field))
            for field, parser in zip(fields, parsers)
        )
        return Record._make(mapping, values)

    return parse


def parse_anonymous_record(text: str) -> tuple[str | None, ...]:
    """A ``record`` in text form: the field types are not known, so each is a str."""
    return tuple(parse_composite_text(text))


def make_composite_formatter(codec: CompositeCodec,
                             formatters: Sequence[Callable[[Any], str]]) -> Callable[[Any], str]:
    def format_composite(value: Any) -> str:
        if isinstance(value, str):
            return value
        values = codec.field_values(value)
        return format_composite_text(
            [None if item is None else formatters[index](item)
             for index, item in enumerate(values)]
        )

    return format_composite


# -- hstore -------------------------------------------------------------------------------


class HstoreCodec(Codec):
    """hstore <-> ``dict[str, str | None]``."""

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        end = pos + n
        if n < 4:
            raise _truncated("hstore")
        count = read_int32(data, pos)
        pos += 4
        if count < 0 or count > (end - pos) // 8:
            raise ValueError(f"malformed hstore value: {count} pairs")
        result: dict[str, str | None] = {}
        for _ in range(count):
            if end - pos < 4:
                raise _truncated("hstore")
            length = read_int32(data, pos)
            pos += 4
            if length < 0 or length > end - pos:
                raise _truncated("hstore")
            key = data[pos : pos + length].decode("utf-8")
            pos += length
            if end - pos < 4:
                raise _truncated("hstore")
            length = read_int32(data, pos)
            pos += 4
            if length < 0:
                result[key] = None
                continue
            if length > end - pos:
                raise _truncated("hstore")
            result[key] = data[pos : pos + length].decode("utf-8")
            pos += length
        if pos != end:
            raise ValueError("malformed hstore value: trailing bytes")
        return result

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, Mapping):
            raise TypeError(f"hstore expects a dict, got {_type_label(value)}")
        parts = [_len_pack(len(value))]
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"hstore keys must be str, got {_type_label(key)}")
            data = key.encode("utf-8")
            parts.append(_len_pack(len(data)))
            parts.append(data)
            if item is None:
                parts.append(_NULL_LEN)
                continue
            if not isinstance(item, str):
                raise TypeError(f"hstore values must be str or None, got {_type_label(item)}")
            data = item.encode("utf-8")
            parts.append(_len_pack(len(data)))
            parts.append(data)
        return b"".join(parts)


def _hstore_string(text: str, i: int) -> tuple[str | None, int]:
    """One key or value from ``i``: a quoted string, or a bare word (NULL is None)."""
    while i < len(text) and text[i].isspace():
        i += 1
    if i < len(text) and text[i] == '"':
        chars = []
        i += 1
        while i < len(text) and text[i] != '"':
            if text[i] == "\\" and i + 1 < len(text):
                i += 1
            chars.append(text[i])
            i += 1
        return "".join(chars), i + 1
    start = i
    while i < len(text) and not text[i].isspace() and text[i] not in ",=":
        i += 1
    word = text[start:i]
    return (None if word.upper() == "NULL" else word), i


def parse_hstore(text: str) -> dict[str, str | None]:
    result: dict[str, str | None] = {}
    i = 0
    n = len(text)
    while True:
        while i < n and (text[i].isspace() or text[i] == ","):
            i += 1
        if i >= n:
            return result
        key, i = _hstore_string(text, i)
        while i < n and text[i].isspace():
            i += 1
        if text[i : i + 2] != "=>" or key is None:
            raise ValueError(f"malformed hstore literal {text!r}")
        value, i = _hstore_string(text, i + 2)
        result[key] = value


def format_hstore(value: Any) -> str:
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"hstore expects a dict, got {_type_label(value)}")

    def quote(text: Any) -> str:
        if not isinstance(text, str):
            raise TypeError(f"hstore keys and values must be str, got {_type_label(text)}")
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    return ", ".join(
        f"{quote(key)}=>{'NULL' if item is None else quote(item)}" for key, item in value.items()
    )
