"""COPY conversations: statements built from asyncpg-style options, data in and out.

* :func:`copy_in_flow`: ``COPY ... FROM STDIN`` fed from an iterator of
  byte chunks (or an asynchronous one, which the driver awaits), aborted
  with CopyFail when the source fails or the caller gives up;
* :func:`copy_out_flow`: ``COPY ... TO STDOUT`` handing each piece of data
  to a writer (whose result the driver awaits when it is awaitable);
* :func:`records_copy_flow`: what ``copy_records_to_table`` needs first --
  the target columns' types and the COPY statement;
  :func:`copy_records_flow` runs both in one turn.

PostgreSQL docs, "COPY Operations" (section 54.2.6).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any

from ..exceptions import InterfaceError
from ..protocol import wire
from ..protocol.operations import CopyIn, CopyOut
from ..types.copyrows import RecordEncoder
from .requests import FLUSH, Call, Flow, Progress, Start, Wait, Write
from .sqltext import quote_ident
from .statements import Session

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
    yield from session.introspect_flow(oid for _, oid in column_types)
    encoder = RecordEncoder(session.registry, column_types)
    sql = copy_in_sql(table, [name for name, _ in column_types],
                      f" WITH (FORMAT {encoder.format})", where)
    return encoder, sql


def copy_records_flow(
    session: Session, table_name: str, columns: Sequence[str] | None,
    schema_name: str | None, where: str | None,
    chunks_of: Callable[[RecordEncoder], Iterator[bytes] | AsyncIterator[bytes]],
) -> Flow[str]:
    """copy_records_to_table in one turn (no other call comes between the
    look-up of the columns and the COPY) and under one timeout: the records
    are encoded by ``chunks_of(encoder)``."""
    encoder, sql = yield from records_copy_flow(session, table_name, columns, schema_name,
                                                where)
    return (yield from copy_in_flow(session, sql, chunks_of(encoder)))


def copy_in_flow(
    session: Session, sql: str, chunks: Iterator[bytes] | AsyncIterator[bytes]
) -> Flow[str]:
    """Run ``COPY ... FROM STDIN`` with the data of ``chunks``; return the status.

    A failure while the data is produced or sent (the source raised, the
    time ran out, the task was cancelled) sends CopyFail with the reason, so
    the server rolls the COPY back; for a failure of the source, the flow
    also waits for the server's answer, so the connection is idle again
    when the error reaches the caller.
    """
    op = CopyIn(sql)
    yield Start(op)
    try:
        yield Progress(op)  # the server is ready for data, or has failed
        while not op.done:
            if isinstance(chunks, Iterator):
                chunk = next(chunks, None)
                if chunk is None:
                    break
            else:
                try:
                    chunk = yield Call(chunks.__anext__)
                except StopAsyncIteration:
                    break
            if chunk and not op.done:
                yield Write(wire.copy_data(chunk))
        if not op.done:
            yield Write(op.end())
    except GeneratorExit:
        raise
    except BaseException as exc:
        # Abort with the reason: now if the server waits for data, else as
        # soon as it does (CopyIn.abort).
        op.abort(session.engine, f"{type(exc).__name__}: {exc}")
        yield FLUSH
        if isinstance(exc, Exception) and not isinstance(exc, TimeoutError):
            yield Wait(op)
        raise
    yield Wait(op)
    if op.error is not None:
        raise op.error
    return op.status or ""


def copy_out_flow(sql: str, write: Callable[[bytes], Any]) -> Flow[str]:
    """Run ``COPY ... TO STDOUT``, handing every piece of data to ``write``.

    When ``write`` fails, the rest of the data is read and dropped (the
    connection stays in step) and its error is raised at the end.
    """
    op = CopyOut(sql)
    yield Start(op)
    failure: Exception | None = None
    while True:
        yield Progress(op)
        for chunk in op.take():
            try:
                yield Call(write, chunk)
            except Exception as exc:
                failure = exc
                op.discard()
                break
        if op.done:
            break
    if failure is not None:
        raise failure
    if op.error is not None:
        raise op.error
    return op.status or ""
