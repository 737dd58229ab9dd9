"""COPY support shared by the asyncio and blocking APIs.

Builds COPY statements from asyncpg-style options, looks up (and caches per
connection) the column types of a target table, and encodes Python records
into the binary COPY format (PostgreSQL docs, "COPY", "Binary Format"),
row by row into one buffer handed out in chunks of about 512 KiB, so an
input of any size is never held in memory whole.  Columns whose type has no
binary encoder make the whole COPY use the text format instead.
"""

from __future__ import annotations

import inspect
import os
import struct
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Sequence
from typing import Any

from ..exceptions import DataError, InterfaceError
from .sqltext import quote_ident
from .statements import Flow, Session

CHUNK_SIZE = 512 * 1024

BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
BINARY_TRAILER = struct.pack("!h", -1)

_int16 = struct.Struct("!h")
_int32 = struct.Struct("!i")

_COLUMN_TYPES_SQL = (
    "SELECT a.attname, a.atttypid FROM pg_catalog.pg_attribute a "
    "WHERE a.attrelid = $1::text::regclass AND a.attnum > 0 AND NOT a.attisdropped "
    "{generated}ORDER BY a.attnum"
)
# COPY without a column list leaves generated columns out (PostgreSQL 12+).
_NOT_GENERATED = "AND a.attgenerated = '' "


def quote_literal(value: str) -> str:
    if "\x00" in value:
        raise InterfaceError("a COPY option cannot contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def table_reference(table_name: str, schema_name: str | None) -> str:
    if not isinstance(table_name, str):
        raise InterfaceError(f"table_name must be a str, got {table_name!r}")
    if schema_name is not None:
        return f"{quote_ident(schema_name)}.{quote_ident(table_name)}"
    return quote_ident(table_name)


def column_list(columns: Sequence[str] | None) -> str:
    if columns is None:
        return ""
    if isinstance(columns, str):
        raise InterfaceError("columns must be a sequence of column names, not a str")
    return " (" + ", ".join(quote_ident(c) for c in columns) + ")"


def copy_options(
    *,
    format: str | None = None,
    oids: bool | None = None,
    freeze: bool | None = None,
    delimiter: str | None = None,
    null: str | None = None,
    header: bool | None = None,
    quote: str | None = None,
    escape: str | None = None,
    force_quote: bool | Sequence[str] | None = None,
    force_not_null: Sequence[str] | None = None,
    force_null: Sequence[str] | None = None,
    encoding: str | None = None,
) -> str:
    """The ``WITH (...)`` clause of a COPY statement, or '' when no option is set."""
    parts: list[str] = []
    if format is not None:
        if format.lower() not in ("text", "csv", "binary"):
            raise InterfaceError(f"invalid COPY format {format!r}: expected text, csv or binary")
        parts.append(f"FORMAT {format.lower()}")
    if oids is not None:
        parts.append(f"OIDS {'true' if oids else 'false'}")
    if freeze is not None:
        parts.append(f"FREEZE {'true' if freeze else 'false'}")
    if delimiter is not None:
        parts.append(f"DELIMITER {quote_literal(delimiter)}")
    if null is not None:
        parts.append(f"NULL {quote_literal(null)}")
    if header is not None:
        parts.append(f"HEADER {'true' if header else 'false'}")
    if quote is not None:
        parts.append(f"QUOTE {quote_literal(quote)}")
    if escape is not None:
        parts.append(f"ESCAPE {quote_literal(escape)}")
    if force_quote is not None:
        if force_quote is True:
            parts.append("FORCE_QUOTE *")
        elif force_quote is not False:
            parts.append(f"FORCE_QUOTE ({', '.join(quote_ident(c) for c in force_quote)})")
    if force_not_null is not None:
        parts.append(f"FORCE_NOT_NULL ({', '.join(quote_ident(c) for c in force_not_null)})")
    if force_null is not None:
        parts.append(f"FORCE_NULL ({', '.join(quote_ident(c) for c in force_null)})")
    if encoding is not None:
        parts.append(f"ENCODING {quote_literal(encoding)}")
    return f" WITH ({', '.join(parts)})" if parts else ""


def copy_in_sql(table: str, columns: Sequence[str] | None, options: str,
                where: str | None) -> str:
    sql = f"COPY {table}{column_list(columns)} FROM STDIN{options}"
    if where:
        sql += f" WHERE {where}"
    return sql


def copy_out_table_sql(table: str, columns: Sequence[str] | None, options: str) -> str:
    return f"COPY {table}{column_list(columns)} TO STDOUT{options}"


def copy_out_query_sql(query: str, options: str) -> str:
    # The newline ends a -- comment the query may finish with.
    return f"COPY ({query}\n) TO STDOUT{options}"


def column_types_flow(
    session: Session, table: str, columns: Sequence[str] | None
) -> Flow[list[tuple[str, int]]]:
    """Look up (name, type OID) of the target columns, in COPY order.

    Looked up for every COPY, not cached: records are encoded in the binary
    format of these types, and after ALTER COLUMN ... TYPE (or a table
    dropped and created again) stale types could be accepted by the server
    as the wrong values (an int4 read as a float4).  The statement itself
    is cached, so this is one short round trip.
    """
    major = int(session.engine.parameters.get("server_version", "0").split(".")[0] or 0)
    sql = _COLUMN_TYPES_SQL.format(generated=_NOT_GENERATED if major >= 12 else "")
    result = yield from session.execute_flow(sql, (table,))
    found = [(row[0], row[1]) for row in result.rows]
    if columns is None:
        return found
    by_name = dict(found)
    missing = [c for c in columns if c not in by_name]
    if missing:
        raise InterfaceError(f"table {table} has no column(s): {', '.join(missing)}")
    return [(c, by_name[c]) for c in columns]


def records_copy_flow(
    session: Session, table_name: str, columns: Sequence[str] | None,
    schema_name: str | None, where: str | None,
) -> Flow[tuple[RecordEncoder, str]]:
    """Prepare copy_records_to_table: the record encoder and the COPY statement."""
    table = table_reference(table_name, schema_name)
    if isinstance(columns, str):
        raise InterfaceError("columns must be a sequence of column names, not a str")
    column_types = yield from column_types_flow(session, table, columns)
    encoder = RecordEncoder(session, column_types)
    sql = copy_in_sql(table, [name for name, _ in column_types],
                      f" WITH (FORMAT {encoder.format})", where)
    return encoder, sql


def sync_source_chunks(source: Any) -> Iterator[bytes] | None:
    """Chunks of a COPY source that can be read without awaiting: a path, a
    file object with a plain ``read``, bytes, or an iterable of bytes.
    None for sources that need awaiting (async iterables, async ``read``)."""
    if is_path(source):
        return _file_chunks(source)
    read = getattr(source, "read", None)
    if read is not None:
        if inspect.iscoroutinefunction(read):
            return None
        return _reader_chunks(read)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return iter([bytes(source)])
    if isinstance(source, Iterable) and not isinstance(source, str):
        return (as_bytes(chunk) for chunk in source)
    if isinstance(source, AsyncIterable):
        return None
    raise InterfaceError(
        f"COPY source must be a path, a file object or an iterable of bytes, got {source!r}"
    )


def _file_chunks(path: Any) -> Iterator[bytes]:
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            yield chunk


def _reader_chunks(read: Callable[[int], Any]) -> Iterator[bytes]:
    while chunk := read(CHUNK_SIZE):
        yield as_bytes(chunk)


def as_bytes(chunk: Any) -> bytes:
    return chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


def output_writer(output: Any) -> Callable[[bytes], Any] | None:
    """The write function of a COPY output (None for a path: open it first)."""
    if is_path(output):
        return None
    if hasattr(output, "write"):
        return output.write  # type: ignore[no-any-return]
    if callable(output):
        return output  # type: ignore[no-any-return]
    raise InterfaceError(
        f"COPY output must be a path, a file object or a callable, got {output!r}"
    )


class RecordEncoder:
    """Encodes records for COPY FROM STDIN into chunks of about CHUNK_SIZE."""

    def __init__(self, session: Session, column_types: list[tuple[str, int]]) -> None:
        registry = session.registry
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


def is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))
