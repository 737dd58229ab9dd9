"""Python records in COPY's formats: binary, or text where a type has no binary encoder.

:class:`RecordEncoder` encodes records row by row into one buffer handed
out in chunks of about 512 KiB (PostgreSQL docs, "COPY", "Binary Format"),
so an input of any size is never held in memory whole.  Columns whose type
has no binary encoder make the whole COPY use the text format instead.
Compiled by Cython (pure Python mode, types in ``copyrows.pxd``): a binary
tuple is written by :func:`pgwire.protocol.wire.append_fields`, the loop
that writes a Bind message's values.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from typing import Any

from ..exceptions import DataError
from ..protocol import wire
from ..protocol.wire import FieldEncodingError, append_fields
from . import numeric
from .codec import shown_value
from .registry import TypeRegistry
from .strings import is_text_encoder

CHUNK_SIZE = 512 * 1024

BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
BINARY_TRAILER = struct.pack("!h", -1)


class RecordEncoder:
    """Encodes records for COPY FROM STDIN into chunks of about CHUNK_SIZE."""

    def __init__(self, registry: TypeRegistry, column_types: list[tuple[str, int]]) -> None:
        self.count = len(column_types)
        self.names = [name for name, _ in column_types]
        binary = [registry.binary_encoder(oid) for _, oid in column_types]
        self._binary_format = all(encoder is not None for encoder in binary)
        self._binary: list[Callable[[Any], bytes]] = []
        self._text: list[Callable[[Any], bytes]] = []
        self._kinds: list[int] = []
        if self._binary_format:
            self.format = "binary"
            self._binary = binary  # type: ignore[assignment]
            self._kinds = [_field_kind(encoder) for encoder in self._binary]
            self._buffer = bytearray(BINARY_HEADER)
        else:
            # Some type lacks a binary encoder: the text format works for all.
            self.format = "text"
            self._text = [partial(registry.encode_text, oid) for _, oid in column_types]
            self._buffer = bytearray()
        self.rows = 0

    def add(self, record: Sequence[Any]) -> bytes | None:
        """Encode one record; return a chunk when the buffer is full enough."""
        if len(record) != self.count:
            raise DataError(
                f"record {self.rows + 1} has {len(record)} fields, "
                f"but {self.count} columns are copied"
            )
        buffer = self._buffer
        if self._binary_format:
            try:
                append_fields(buffer, self._binary, record, self._kinds)
            except FieldEncodingError as failure:
                raise self._field_error(failure.index, failure.value,
                                        failure.error) from failure.error
        else:
            self._add_text(buffer, record)
        self.rows += 1
        if len(buffer) >= CHUNK_SIZE:
            chunk = bytes(buffer)
            buffer.clear()
            return chunk
        return None

    def _add_text(self, buffer: bytearray, record: Sequence[Any]) -> None:
        fields = []
        index = 0
        for value in record:
            if value is None:
                fields.append("\\N")
            else:
                try:
                    text = self._text[index](value).decode("utf-8")
                except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
                    raise self._field_error(index, value, exc) from exc
                fields.append(_escape_text(text))
            index += 1
        buffer += ("\t".join(fields) + "\n").encode("utf-8")

    def _field_error(self, index: int, value: Any, exc: Exception) -> DataError:
        return DataError(
            f"invalid input in record {self.rows + 1} for column "
            f"{self.names[index]!r}: {shown_value(value)} ({exc})"
        )

    def finish(self) -> bytes:
        """The last chunk, with the binary trailer."""
        if self._binary_format:
            self._buffer += BINARY_TRAILER
        chunk = bytes(self._buffer)
        self._buffer.clear()
        return chunk


# The stock encoders whose output append_fields can write itself.
_FIELD_KINDS: dict[Callable[[Any], bytes], int] = {
    numeric.encode_int2: wire.FIELD_INT2,
    numeric.encode_int4: wire.FIELD_INT4,
    numeric.encode_int8: wire.FIELD_INT8,
    numeric.encode_float8: wire.FIELD_FLOAT8,
}


def _field_kind(encoder: Callable[[Any], bytes]) -> int:
    if is_text_encoder(encoder):
        return wire.FIELD_TEXT
    return _FIELD_KINDS.get(encoder, wire.FIELD_ENCODER)


_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _escape_text(value: str) -> str:
    return value.translate(_TEXT_ESCAPES)


def encoded_chunks(records: Iterable[Sequence[Any]], encoder: RecordEncoder) -> Iterator[bytes]:
    """The COPY data of ``records``, chunk by chunk, the trailer last."""
    for record in records:
        chunk = encoder.add(record)
        if chunk:
            yield chunk
    yield encoder.finish()
