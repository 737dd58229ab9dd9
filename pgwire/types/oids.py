"""Type OIDs of the built-in PostgreSQL types pgwire has codecs for.

The numbers are fixed in PostgreSQL's catalog (``src/include/catalog/pg_type.dat``)
and were checked against ``SELECT oid, typname, typarray FROM pg_type`` on a
PostgreSQL 15 server.  ``TYPE_NAMES`` gives the SQL name of each OID (used in error
messages) and ``ARRAY_ELEMENTS`` maps each array type to its element type.
"""

from __future__ import annotations

from typing import Final

UNKNOWN: Final = 0  # lets the server infer a parameter's type

BOOL: Final = 16
BYTEA: Final = 17
CHAR: Final = 18  # the one-byte "char" type, not char(n) (that is BPCHAR)
NAME: Final = 19
INT8: Final = 20
INT2: Final = 21
INT4: Final = 23
TEXT: Final = 25
OID: Final = 26
JSON: Final = 114
FLOAT4: Final = 700
FLOAT8: Final = 701
BPCHAR: Final = 1042
VARCHAR: Final = 1043
DATE: Final = 1082
TIME: Final = 1083
TIMESTAMP: Final = 1114
TIMESTAMPTZ: Final = 1184
INTERVAL: Final = 1186
TIMETZ: Final = 1266
NUMERIC: Final = 1700
UUID: Final = 2950
JSONB: Final = 3802

BOOL_ARRAY: Final = 1000
BYTEA_ARRAY: Final = 1001
CHAR_ARRAY: Final = 1002
NAME_ARRAY: Final = 1003
INT2_ARRAY: Final = 1005
INT4_ARRAY: Final = 1007
TEXT_ARRAY: Final = 1009
BPCHAR_ARRAY: Final = 1014
VARCHAR_ARRAY: Final = 1015
INT8_ARRAY: Final = 1016
FLOAT4_ARRAY: Final = 1021
FLOAT8_ARRAY: Final = 1022
OID_ARRAY: Final = 1028
TIMESTAMP_ARRAY: Final = 1115
DATE_ARRAY: Final = 1182
TIME_ARRAY: Final = 1183
TIMESTAMPTZ_ARRAY: Final = 1185
INTERVAL_ARRAY: Final = 1187
NUMERIC_ARRAY: Final = 1231
TIMETZ_ARRAY: Final = 1270
UUID_ARRAY: Final = 2951
JSON_ARRAY: Final = 199
JSONB_ARRAY: Final = 3807

TYPE_NAMES: Final[dict[int, str]] = {
    BOOL: "bool",
    BYTEA: "bytea",
    CHAR: '"char"',  # quoted: plain char means bpchar(1) in SQL
    NAME: "name",
    INT8: "int8",
    INT2: "int2",
    INT4: "int4",
    TEXT: "text",
    OID: "oid",
    JSON: "json",
    FLOAT4: "float4",
    FLOAT8: "float8",
    BPCHAR: "bpchar",
    VARCHAR: "varchar",
    DATE: "date",
    TIME: "time",
    TIMESTAMP: "timestamp",
    TIMESTAMPTZ: "timestamptz",
    INTERVAL: "interval",
    TIMETZ: "timetz",
    NUMERIC: "numeric",
    UUID: "uuid",
    JSONB: "jsonb",
    # Arrays get their SQL spelling (pg_type calls them _int4, ...).
    BOOL_ARRAY: "bool[]",
    BYTEA_ARRAY: "bytea[]",
    CHAR_ARRAY: '"char"[]',
    NAME_ARRAY: "name[]",
    INT2_ARRAY: "int2[]",
    INT4_ARRAY: "int4[]",
    TEXT_ARRAY: "text[]",
    BPCHAR_ARRAY: "bpchar[]",
    VARCHAR_ARRAY: "varchar[]",
    INT8_ARRAY: "int8[]",
    FLOAT4_ARRAY: "float4[]",
    FLOAT8_ARRAY: "float8[]",
    OID_ARRAY: "oid[]",
    TIMESTAMP_ARRAY: "timestamp[]",
    DATE_ARRAY: "date[]",
    TIME_ARRAY: "time[]",
    TIMESTAMPTZ_ARRAY: "timestamptz[]",
    INTERVAL_ARRAY: "interval[]",
    NUMERIC_ARRAY: "numeric[]",
    TIMETZ_ARRAY: "timetz[]",
    UUID_ARRAY: "uuid[]",
    JSON_ARRAY: "json[]",
    JSONB_ARRAY: "jsonb[]",
}

# array type OID -> element type OID
ARRAY_ELEMENTS: Final[dict[int, int]] = {
    BOOL_ARRAY: BOOL,
    BYTEA_ARRAY: BYTEA,
    CHAR_ARRAY: CHAR,
    NAME_ARRAY: NAME,
    INT2_ARRAY: INT2,
    INT4_ARRAY: INT4,
    TEXT_ARRAY: TEXT,
    BPCHAR_ARRAY: BPCHAR,
    VARCHAR_ARRAY: VARCHAR,
    INT8_ARRAY: INT8,
    FLOAT4_ARRAY: FLOAT4,
    FLOAT8_ARRAY: FLOAT8,
    OID_ARRAY: OID,
    TIMESTAMP_ARRAY: TIMESTAMP,
    DATE_ARRAY: DATE,
    TIME_ARRAY: TIME,
    TIMESTAMPTZ_ARRAY: TIMESTAMPTZ,
    INTERVAL_ARRAY: INTERVAL,
    NUMERIC_ARRAY: NUMERIC,
    TIMETZ_ARRAY: TIMETZ,
    UUID_ARRAY: UUID,
    JSON_ARRAY: JSON,
    JSONB_ARRAY: JSONB,
}

# element type OID -> array type OID
ARRAY_OF: Final[dict[int, int]] = {elem: arr for arr, elem in ARRAY_ELEMENTS.items()}
