"""DataRow decoding: the body of one DataRow becomes one :class:`~pgwire.record.Record`.

A :class:`RowDecoder` is built once per result shape (by
:class:`pgwire.session.RowCodec`, which chooses a decoder per column) and is
then called with each DataRow body.  It reads the field lengths, decodes
every value in place (built-in binary decoders take the DataRow buffer and
an offset, so no field is copied; any other decoder gets the field's bytes)
and wraps the values in a Record that shares the result's column mapping.

This is the per-row hot path: the module is compiled by Cython (pure Python
mode, types in ``rows.pxd``), and then calls the built-in decoders as C
functions.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..exceptions import OutdatedSchemaCacheError, ProtocolError
from ..protocol.messages import Column
from . import binary
from .binary import (
    decode_bool,
    decode_bytea,
    decode_char,
    decode_date,
    decode_float4,
    decode_float8,
    decode_int2,
    decode_int4,
    decode_int8,
    decode_interval,
    decode_numeric,
    decode_oid,
    decode_text,
    decode_time,
    decode_timestamp,
    decode_timestamptz,
    decode_timetz,
    decode_uuid,
)
from .record import Record, RecordMapping
from .registry import TypeRegistry, default_registry

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    from .._bytes import read_int16, read_int32

    def untrack(obj: object) -> None:
        """Compiled, this is PyObject_GC_UnTrack (rows.pxd); Python has no equivalent."""

__all__ = ["RowCodec", "RowDecoder"]

_int32_from = struct.Struct("!i").unpack_from  # pure Python build

# Decoders that accept (data, pos, n), by kind; 0 is any other decoder.
_GENERIC = 0
_BOOL = 1
_INT2 = 2
_INT4 = 3
_INT8 = 4
_OID = 5
_FLOAT4 = 6
_FLOAT8 = 7
_NUMERIC = 8
_TEXT = 9
_BYTEA = 10
_DATE = 11
_TIMESTAMP = 12
_TIMESTAMPTZ = 13
_CHAR = 14
_TIME = 15
_TIMETZ = 16
_INTERVAL = 17
_UUID = 18

# Values of these kinds hold no reference to other objects (int, str,
# Decimal, datetime...): a row of them cannot be part of a reference cycle.
_ATOMIC_KINDS = frozenset(range(_BOOL, _INTERVAL + 1))

# Keyed by the Python function objects (attributes of the module), which
# is what a type registry hands out.
_KINDS: dict[Any, int] = {
    binary.decode_bool: _BOOL,
    binary.decode_int2: _INT2,
    binary.decode_int4: _INT4,
    binary.decode_int8: _INT8,
    binary.decode_oid: _OID,
    binary.decode_float4: _FLOAT4,
    binary.decode_float8: _FLOAT8,
    binary.decode_numeric: _NUMERIC,
    binary.decode_text: _TEXT,
    binary.decode_bytea: _BYTEA,
    binary.decode_date: _DATE,
    binary.decode_timestamp: _TIMESTAMP,
    binary.decode_timestamptz: _TIMESTAMPTZ,
    binary.decode_char: _CHAR,
    binary.decode_time: _TIME,
    binary.decode_timetz: _TIMETZ,
    binary.decode_interval: _INTERVAL,
    binary.decode_uuid: _UUID,
    # What a registry decodes text-format values of types without a parser
    # with (regproc, aclitem...): the same UTF-8 decoding as text.
    default_registry.text_decoder(0): _TEXT,
}


# Kind -> its decoder, for the pure Python build (the text-format decoder of
# types without a parser is a different function, with the same result).
_BY_KIND: dict[int, Any] = {kind: decoder for decoder, kind in _KINDS.items()}
_BY_KIND[_TEXT] = binary.decode_text


def _truncated() -> ProtocolError:
    return ProtocolError("truncated DataRow")


class RowDecoder:
    """Decodes the DataRows of one result shape into records of ``record_class``.

    ``decoders`` has one callable per column (``bytes -> value``);
    ``mapping`` is the column name -> index mapping every record shares.
    Call the decoder with a DataRow body, or :meth:`decode_at` with a buffer
    and the body's bounds in it; framing errors raise
    :class:`ProtocolError`, a decoder's own exception propagates.
    """

    __slots__ = (
        "_decoders", "_kinds", "_mapping", "_record_class", "_plain", "_count", "_untrack"
    )

    def __init__(
        self,
        decoders: Sequence[Callable[[bytes], Any]],
        mapping: Mapping[str, int],
        record_class: type[Record] = Record,
    ) -> None:
        self._decoders: list[Any] = list(decoders)
        self._kinds = [_KINDS.get(decoder, _GENERIC) for decoder in self._decoders]
        self._mapping = mapping
        self._record_class = record_class
        self._plain = record_class is Record
        self._count = len(self._decoders)
        # A plain Record of such values (or NULLs) cannot be in a cycle, so
        # the compiled build takes it and its tuple out of the cyclic
        # garbage collector's lists, as CPython does for such tuples itself:
        # a large result then costs no collector passes.
        self._untrack = cython.compiled and self._plain and all(
            kind in _ATOMIC_KINDS for kind in self._kinds
        )

    def __call__(self, body: bytes) -> Record:
        return self.decode_at(body, 0, len(body))

    def decode_at(self, data: bytes, start: int, end: int) -> Record:
        """Decode the DataRow body ``data[start:end]`` (no copy is made)."""
        count = self._count
        if end - start < 2 or read_int16(data, start) != count:
            raise ProtocolError("DataRow field count does not match RowDescription")
        decoders = self._decoders
        kinds = self._kinds
        binary_decoders = _BY_KIND
        values: list[Any] = [None] * count
        value: Any
        pos = start + 2
        for index in range(count):
            if end - pos < 4:
                raise _truncated()
            if cython.compiled:
                length = read_int32(data, pos)
            else:
                length = _int32_from(data, pos)[0]
            pos += 4
            if length < 0:
                if length != -1:
                    raise ProtocolError(f"invalid field length {length} in DataRow")
                continue
            if length > end - pos:
                raise _truncated()
            kind = kinds[index]
            if cython.compiled:
                # The common types in C; the rest through their Python functions.
                if kind == _INT4:
                    value = decode_int4(data, pos, length)
                elif kind == _TEXT:
                    value = decode_text(data, pos, length)
                elif kind == _INT8:
                    value = decode_int8(data, pos, length)
                elif kind == _BOOL:
                    value = decode_bool(data, pos, length)
                elif kind == _NUMERIC:
                    value = decode_numeric(data, pos, length)
                elif kind == _TIMESTAMPTZ:
                    value = decode_timestamptz(data, pos, length)
                elif kind == _TIMESTAMP:
                    value = decode_timestamp(data, pos, length)
                elif kind == _DATE:
                    value = decode_date(data, pos, length)
                elif kind == _FLOAT8:
                    value = decode_float8(data, pos, length)
                elif kind == _INT2:
                    value = decode_int2(data, pos, length)
                elif kind == _FLOAT4:
                    value = decode_float4(data, pos, length)
                elif kind == _OID:
                    value = decode_oid(data, pos, length)
                elif kind == _BYTEA:
                    value = decode_bytea(data, pos, length)
                elif kind == _CHAR:
                    value = decode_char(data, pos, length)
                elif kind == _TIME:
                    value = decode_time(data, pos, length)
                elif kind == _TIMETZ:
                    value = decode_timetz(data, pos, length)
                elif kind == _INTERVAL:
                    value = decode_interval(data, pos, length)
                elif kind == _UUID:
                    value = decode_uuid(data, pos, length)
                else:
                    value = decoders[index](data[pos : pos + length])
            elif kind == _TEXT:
                value = data[pos : pos + length].decode("utf-8")
            elif kind:
                value = binary_decoders[kind](data, pos, length)
            else:
                value = decoders[index](data[pos : pos + length])
            values[index] = value
            pos += length
        if pos != end:
            raise ProtocolError("trailing bytes in DataRow")
        if self._plain:
            record = Record.__new__(Record)
        else:
            record = self._record_class.__new__(self._record_class)
        record._mapping = self._mapping
        record._values = tuple(values)
        if self._untrack:
            untrack(record._values)
            untrack(record)
        return record


TEXT_FORMAT = 0
BINARY_FORMAT = 1


class RowCodec:
    """Decodes the DataRows of one result shape into Records.

    ``decode_row(body)`` turns one DataRow body into a Record: a
    :class:`~pgwire.rows.RowDecoder` (compiled in the compiled build) that
    decodes the fields in place.
    """

    __slots__ = (
        "columns", "result_formats", "decoders", "mapping", "record_class", "decode_row", "_raw"
    )

    def __init__(
        self,
        columns: list[Column],
        registry: TypeRegistry,
        record_class: type[Record],
        *,
        text_only: bool = False,
        formats_as_sent: bool = False,
    ) -> None:
        """Choose a format and decoder per column.

        By default binary where a binary codec exists, else text.
        ``text_only`` decodes everything as text (results of a Bind that
        asked for text); ``formats_as_sent`` follows the format each column
        reports, which after a schema change may not be the one we would
        choose: binary data of a type without a binary codec cannot be
        decoded and raises OutdatedSchemaCacheError.
        """
        self.columns = columns
        formats: list[int] = []
        decoders: list[Callable[[bytes], Any]] = []
        for column in columns:
            if formats_as_sent:
                if column.format == BINARY_FORMAT:
                    formats.append(BINARY_FORMAT)
                    decoders.append(
                        registry.binary_decoder(column.type_oid)
                        or _undecodable(column, registry)
                    )
                else:
                    formats.append(TEXT_FORMAT)
                    decoders.append(registry.text_decoder(column.type_oid))
                continue
            decoder = None if text_only else registry.binary_decoder(column.type_oid)
            if decoder is not None:
                formats.append(BINARY_FORMAT)
                decoders.append(decoder)
            else:
                # No binary codec: ask for text, which every type has.
                formats.append(TEXT_FORMAT)
                decoders.append(registry.text_decoder(column.type_oid))
        self.result_formats = formats
        self.decoders = decoders
        self.mapping = RecordMapping(column.name for column in columns)
        self.record_class = record_class
        self.decode_row: Callable[[bytes], Record] = RowDecoder(
            decoders, self.mapping, record_class
        )

def _undecodable(column: Column, registry: TypeRegistry) -> Callable[[bytes], Any]:
    type_name = registry.type_name(column.type_oid) or f"OID {column.type_oid}"

    def decode(data: bytes) -> Any:
        # The statement has run (it may have changed data), so this must not
        # be retried: say what happened instead.
        raise OutdatedSchemaCacheError(
            f"column {column.name!r} changed type to {type_name} since the statement was "
            "described (schema change) and arrived in binary format, which pgwire cannot "
            "decode for that type; the statement did run. Its cached description has "
            "been dropped, so running it again returns the new type.",
            data_type=type_name,
        )

    return decode
