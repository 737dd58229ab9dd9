"""Python records in COPY's formats: binary, or text where a type has no binary encoder.

:class:`RecordEncoder` encodes records row by row into one buffer handed
out in chunks of about 512 KiB (PostgreSQL docs, "COPY", "Binary Format"),
so an input of any size is never held in memory whole.  Columns whose type
has no binary encoder make the whole COPY use the text format instead.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..exceptions import DataError
from .registry import TypeRegistry

CHUNK_SIZE = 512 * 1024

BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
BINARY_TRAILER = struct.pack("!h", -1)

_int16 = struct.Struct("!h")
_int32 = struct.Struct("!i")


class RecordEncoder:
    """Encodes records for COPY FROM STDIN into chunks of about CHUNK_SIZE."""

    def __init__(self, registry: TypeRegistry, column_types: list[tuple[str, int]]) -> None:
        self.count = len(column_types)
        self.names = [name for name, _ in column_types]
        binary = [registry.binary_encoder(oid) for _, oid in column_types]
        if all(encoder is not None for encoder in binary):
            self.format = "binary"
            self._binary: list[Callable[[Any], bytes]] = binary  # type: ignore[assignment]
            self._buffer = bytearray(BINARY_HEADER)
        else:
            # Some type lacks a binary encoder: the text format works for all.
            self.format = "text"
            self._text = [
                (lambda value, oid=oid: registry.encode_text(oid, value))
                for _, oid in column_types
            ]
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
        start = len(buffer)
        index = 0
        value: Any = None
        try:
            if self.format == "binary":
                buffer += _int16.pack(self.count)
                for index, value in enumerate(record):
                    if value is None:
                        buffer += b"\xff\xff\xff\xff"
                    else:
                        data = self._binary[index](value)
                        buffer += _int32.pack(len(data))
                        buffer += data
            else:
                fields = []
                for index, value in enumerate(record):
                    if value is None:
                        fields.append("\\N")
                    else:
                        fields.append(_escape_text(self._text[index](value).decode("utf-8")))
                buffer += ("\t".join(fields) + "\n").encode("utf-8")
        except (TypeError, ValueError, OverflowError, ArithmeticError) as exc:
            del buffer[start:]  # the record is not sent half-encoded
            shown = repr(value)
            if len(shown) > 60:
                shown = shown[:57] + "..."
            raise DataError(
                f"invalid input in record {self.rows + 1} for column "
                f"{self.names[index]!r}: {shown} ({exc})"
            ) from exc
        self.rows += 1
        if len(buffer) >= CHUNK_SIZE:
            chunk = bytes(buffer)
            buffer.clear()
            return chunk
        return None

    def finish(self) -> bytes:
        """The last chunk, with the binary trailer."""
        if self.format == "binary":
            self._buffer += BINARY_TRAILER
        chunk = bytes(self._buffer)
        self._buffer.clear()
        return chunk


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
