"""Looking up types the registry does not know in the server's catalog.

When a statement's description names a type OID the connection's registry
has never seen (an enum, a composite, a domain, a range, an extension's
type such as hstore or citext, or an array of any of them),
:func:`introspect_flow` runs one catalog query for all such OIDs and
everything they are made of (recursively: array elements, domain base
types, range subtypes, multiranges' ranges, composite attributes), and
hands the rows to :meth:`pgwire.types.TypeRegistry.add_types`.  The
registry keeps them, so each type is looked up once per registry.

The query is sent as an unnamed statement with its parameter and results
in text format, Parse/Bind/Describe/Execute/Sync in one write: one round
trip, and nothing that could be split between server connections behind
pgbouncer in transaction mode.  It reads only ``pg_type``, ``pg_namespace``,
``pg_range`` and ``pg_attribute`` (PostgreSQL 14+, whose catalogs all have
multiranges).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..protocol import wire
from ..protocol.messages import Column
from ..protocol.operations import Extended, SimpleQuery
from ..types import TypeInfo, TypeRegistry, oids
from ..types.record import Record
from ..types.rows import TEXT_FORMAT, RowCodec
from .requests import Flow

# One row per type: the wanted OIDs and, recursively, the types they are
# built from.  typelem is followed only for true arrays (typlen -1 and the
# element's typarray pointing back): name, point and the other fixed-length
# types with a typelem are not arrays.
INTROSPECTION_SQL = """\
WITH RECURSIVE wanted(oid) AS (
    SELECT unnest($1::pg_catalog.oid[])
  UNION
    SELECT part.oid
    FROM wanted
    JOIN pg_catalog.pg_type t ON t.oid = wanted.oid
    CROSS JOIN LATERAL (
        SELECT t.typelem WHERE t.typelem <> 0 AND t.typlen = -1
      UNION ALL
        SELECT t.typbasetype WHERE t.typbasetype <> 0
      UNION ALL
        SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid
      UNION ALL
        SELECT r.rngtypid FROM pg_catalog.pg_range r WHERE r.rngmultitypid = t.oid
      UNION ALL
        SELECT a.atttypid FROM pg_catalog.pg_attribute a
        WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0
          AND NOT a.attisdropped
    ) AS part(oid)
)
SELECT
    t.oid,
    t.typname,
    n.nspname,
    t.typtype,
    CASE WHEN t.typelem <> 0 AND t.typlen = -1
              AND (SELECT e.typarray FROM pg_catalog.pg_type e WHERE e.oid = t.typelem) = t.oid
         THEN t.typelem ELSE 0 END,
    CASE t.typtype
        WHEN 'd' THEN t.typbasetype
        WHEN 'r' THEN (SELECT r.rngsubtype FROM pg_catalog.pg_range r WHERE r.rngtypid = t.oid)
        WHEN 'm' THEN (SELECT r.rngtypid FROM pg_catalog.pg_range r
                       WHERE r.rngmultitypid = t.oid)
        ELSE 0 END,
    (SELECT e.typdelim FROM pg_catalog.pg_type e WHERE e.oid = t.typelem),
    ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
          WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0
            AND NOT a.attisdropped ORDER BY a.attnum),
    ARRAY(SELECT a.atttypid FROM pg_catalog.pg_attribute a
          WHERE t.typrelid <> 0 AND a.attrelid = t.typrelid AND a.attnum > 0
            AND NOT a.attisdropped ORDER BY a.attnum)
FROM wanted
JOIN pg_catalog.pg_type t ON t.oid = wanted.oid
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace"""

# Looking a type up by name (set_type_codec and the other codec methods).
TYPE_BY_NAME_SQL = """\
SELECT t.oid
FROM pg_catalog.pg_type t
JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
WHERE t.typname = $1 AND n.nspname = $2"""


def unknown_oids(registry: TypeRegistry, type_oids: Iterable[int]) -> list[int]:
    """The OIDs (0 aside) that ``registry`` has not described, each once."""
    seen: dict[int, None] = {}
    for oid in type_oids:
        if oid and not registry.knows(oid):
            seen[oid] = None
    return list(seen)


def column_oids(columns: list[Column] | None) -> list[int]:
    return [column.type_oid for column in columns] if columns else []


def _type_info(row: Any) -> TypeInfo:
    oid, name, schema, kind, element, base, delimiter, attribute_names, attribute_types = row
    return TypeInfo(
        oid=int(oid), name=name, schema=schema, kind=kind, element=int(element or 0),
        base=int(base or 0), delimiter=delimiter or ",",
        attribute_names=tuple(attribute_names), attribute_types=tuple(attribute_types),
    )


def _text_query(sql: str, param_oids: list[int], params: list[bytes | None],
                registry: TypeRegistry) -> Extended:
    """Parse/Describe/Bind/Execute of an unnamed statement, everything in text."""
    op = Extended()
    op.parse("", sql, param_oids)

    def on_description(columns: list[Column] | None) -> Any:
        if columns is None:
            return None
        return RowCodec(columns, registry, Record, text_only=True).decode_row

    op.describe_statement("", on_description)
    op.bind_raw(wire.bind("", "", [TEXT_FORMAT] * len(params), params, [TEXT_FORMAT]))
    op.execute("", 0)
    return op


def introspect_flow(registry: TypeRegistry, type_oids: list[int], *,
                    simple: bool = False) -> Flow[None]:
    """Describe ``type_oids`` (and what they are built from) in ``registry``.

    ``simple`` sends the query with the simple protocol, the OIDs written
    into its text (they are ints): what a replication connection takes.
    """
    if not type_oids:
        return None
    wanted = "{" + ",".join(str(int(oid)) for oid in type_oids) + "}"
    done: Extended | SimpleQuery
    if simple:
        sql = INTROSPECTION_SQL.replace("$1::pg_catalog.oid[]", f"'{wanted}'::pg_catalog.oid[]")

        def on_description(columns: list[Column] | None) -> Any:
            if columns is None:
                return None
            return RowCodec(columns, registry, Record, text_only=True).decode_row

        done = yield SimpleQuery(sql, on_description)
    else:
        done = yield _text_query(INTROSPECTION_SQL, [oids.OID_ARRAY], [wanted.encode()],
                                 registry)
    if done.error is not None:
        raise done.error
    rows = [row for result in done.results for row in result.rows]
    infos = [_type_info(row) for row in rows]
    registry.add_types(infos)
    # An OID the catalog does not have (a type dropped meanwhile): remember
    # it as unknown text, so it is not looked up on every statement.
    found = {info.oid for info in infos}
    missing = [oid for oid in type_oids if oid not in found]
    if missing:
        registry.add_types(
            TypeInfo(oid=oid, name=f"OID {oid}", schema="", kind="b") for oid in missing
        )
    return None


def type_oid_flow(registry: TypeRegistry, typename: str, schema: str) -> Flow[int | None]:
    """The OID of the type ``schema.typename``, or None when there is none."""
    op = _text_query(TYPE_BY_NAME_SQL, [oids.NAME, oids.NAME],
                     [typename.encode(), schema.encode()], registry)
    done = yield op
    assert isinstance(done, Extended)
    if done.error is not None:
        raise done.error
    rows = [row for result in done.results for row in result.rows]
    return int(rows[0][0]) if rows else None


def type_lookup_flow(session: Any, typename: str, schema: str) -> Flow[int]:
    """The OID of ``schema.typename``, described in the session's registry;
    ValueError when there is no such type (asyncpg's error)."""
    oid = yield from type_oid_flow(session.registry, typename, schema)
    if oid is None:
        raise ValueError(f"unknown type: {schema}.{typename}")
    yield from session.introspect_flow([oid])
    return oid
