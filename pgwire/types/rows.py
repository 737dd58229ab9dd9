"""DataRow decoding: the body of one DataRow becomes one :class:`~pgwire.types.record.Record`.

A :class:`RowCodec` chooses a format and a :class:`~pgwire.types.codec.Codec`
per column of a result shape; its :class:`RowDecoder` is then called with
each DataRow body.  It reads the field lengths, has every value decoded in
place by its column's codec (no field is copied) and wraps the values in a
Record that shares the result's column mapping.

This is the per-row hot path: the module is compiled by Cython (pure Python
mode, types in ``rows.pxd``), and then calls each codec's ``decode`` as a C
method -- the built-in codecs and any other compiled codec alike; the pure
Python build calls each codec's plain decoding function.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..exceptions import OutdatedSchemaCacheError, ProtocolError
from ..protocol.messages import Column
from .codec import Codec, FunctionCodec, decode_utf8
from .record import Record, RecordMapping
from .registry import TypeRegistry

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:
    from .._bytes import read_int16, read_int32

    def untrack(obj: object) -> None:
        """Compiled, this is PyObject_GC_UnTrack (rows.pxd); Python has no equivalent."""

    # Compiled, these are the C API's (rows.pxd): a tuple filled in place.
    # Python cannot fill a tuple, so its build never calls them.
    def PyTuple_New(count: int) -> tuple[Any, ...]:  # noqa: N802
        raise AssertionError("compiled build only")

    def PyTuple_SET_ITEM(row: tuple[Any, ...], index: int, value: object) -> None:  # noqa: N802
        raise AssertionError("compiled build only")

    def Py_INCREF(obj: object) -> None:  # noqa: N802
        raise AssertionError("compiled build only")

__all__ = ["RowCodec", "RowDecoder"]

_int32_from = struct.Struct("!i").unpack_from  # pure Python build


def _truncated() -> ProtocolError:
    return ProtocolError("truncated DataRow")


class RowDecoder:
    """Decodes the DataRows of one result shape into records of ``record_class``.

    ``codecs`` has one :class:`~pgwire.types.codec.Codec` per column (a plain
    function of the field's bytes is wrapped in a FunctionCodec);
    ``mapping`` is the column name -> index mapping every record shares.
    Call the decoder with a DataRow body, or :meth:`decode_at` with a buffer
    and the body's bounds in it; framing errors raise
    :class:`ProtocolError`, a codec's own exception propagates.
    """

    __slots__ = ("_codecs", "_functions", "_mapping", "_record_class", "_plain", "_count",
                 "_untrack")

    def __init__(
        self,
        codecs: Sequence[Codec | Any],
        mapping: Mapping[str, int],
        record_class: type[Record] = Record,
    ) -> None:
        self._codecs: list[Any] = [
            codec if isinstance(codec, Codec) else FunctionCodec(codec) for codec in codecs
        ]
        # The pure Python build calls these: the codecs' plain functions, or
        # None for UTF-8 text, which it decodes inline.
        self._functions = [
            None if function is decode_utf8 else function
            for function in (codec.decoder_function() for codec in self._codecs)
        ]
        self._mapping = mapping
        self._record_class = record_class
        self._plain = record_class is Record
        self._count = len(self._codecs)
        # A plain Record of atomic values (or NULLs) cannot be in a cycle, so
        # the compiled build takes it and its tuple out of the cyclic
        # garbage collector's lists, as CPython does for such tuples itself:
        # a large result then costs no collector passes.
        self._untrack = cython.compiled and self._plain and all(
            codec.atomic for codec in self._codecs
        )

    def __call__(self, body: bytes) -> Record:
        return self.decode_at(body, 0, len(body))

    def decode_at(self, data: bytes, start: int, end: int) -> Record:
        """Decode the DataRow body ``data[start:end]`` (no copy is made)."""
        count = self._count
        if end - start < 2 or read_int16(data, start) != count:
            raise ProtocolError("DataRow field count does not match RowDescription")
        codecs = self._codecs
        functions = self._functions
        value: Any
        if cython.compiled:
            # Compiled, the values go straight into the Record's tuple: no
            # list to copy them from, one allocation (and one object for the
            # garbage collector to count and traverse) less per row.  Slots
            # not filled yet are NULL, which the tuple's traversal and
            # deallocation skip, so an error part way loses nothing.
            row = PyTuple_New(count)
        else:
            values: list[Any] = [None] * count
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
                if cython.compiled:
                    Py_INCREF(None)  # the tuple takes this reference
                    PyTuple_SET_ITEM(row, index, None)
                continue
            if length > end - pos:
                raise _truncated()
            if cython.compiled:
                codec = cython.cast(Codec, codecs[index])
                value = codec.decode(data, pos, length)
                Py_INCREF(value)  # the tuple takes this reference
                PyTuple_SET_ITEM(row, index, value)
            else:
                function = functions[index]
                if function is None:
                    value = data[pos : pos + length].decode("utf-8")
                else:
                    value = function(data, pos, length)
                values[index] = value
            pos += length
        if pos != end:
            raise ProtocolError("trailing bytes in DataRow")
        if self._plain:
            record = Record.__new__(Record)
        else:
            record = self._record_class.__new__(self._record_class)
        record._mapping = self._mapping
        record._values = row if cython.compiled else tuple(values)
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
        decoders: list[Codec] = []
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

def _undecodable(column: Column, registry: TypeRegistry) -> Codec:
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

    return FunctionCodec(decode)
