"""Type OIDs of PostgreSQL's built-in types, and their SQL names.

The numbers are fixed in PostgreSQL's catalog (``src/include/catalog/pg_type.dat``;
OIDs below 10000 never change between versions).  The table lists every
base, pseudo, range and multirange type of ``pg_catalog`` with its array
type, as ``SELECT oid, typname, typarray FROM pg_type`` gives them on
PostgreSQL 14 to 18; ``tests/test_types_catalog.py`` checks it against each
server.  ``TYPE_NAMES`` gives the SQL name of each OID (arrays as ``int4[]``,
used in messages and ``get_attributes()``), ``ARRAY_ELEMENTS`` maps each
array type to its element type.  A type missing here (an extension's, a
user's, a composite) is looked up in the server's catalog on first use.
"""

from __future__ import annotations

from typing import Final

UNKNOWN: Final = 0  # no type given: lets the server infer a parameter's type

BOOL: Final = 16
BYTEA: Final = 17
CHAR: Final = 18  # the one-byte "char" type; char(n) is BPCHAR
NAME: Final = 19
INT8: Final = 20
INT2: Final = 21
INT2VECTOR: Final = 22
INT4: Final = 23
REGPROC: Final = 24
TEXT: Final = 25
OID: Final = 26
TID: Final = 27
XID: Final = 28
CID: Final = 29
OIDVECTOR: Final = 30
PG_DDL_COMMAND: Final = 32
JSON: Final = 114
XML: Final = 142
PG_NODE_TREE: Final = 194
TABLE_AM_HANDLER: Final = 269
INDEX_AM_HANDLER: Final = 325
POINT: Final = 600
LSEG: Final = 601
PATH: Final = 602
BOX: Final = 603
POLYGON: Final = 604
LINE: Final = 628
CIDR: Final = 650
FLOAT4: Final = 700
FLOAT8: Final = 701
UNKNOWN_TYPE: Final = 705  # the type of an untyped literal
CIRCLE: Final = 718
MACADDR8: Final = 774
MONEY: Final = 790
MACADDR: Final = 829
INET: Final = 869
ACLITEM: Final = 1033
BPCHAR: Final = 1042
VARCHAR: Final = 1043
DATE: Final = 1082
TIME: Final = 1083
TIMESTAMP: Final = 1114
TIMESTAMPTZ: Final = 1184
INTERVAL: Final = 1186
TIMETZ: Final = 1266
BIT: Final = 1560
VARBIT: Final = 1562
NUMERIC: Final = 1700
REFCURSOR: Final = 1790
REGPROCEDURE: Final = 2202
REGOPER: Final = 2203
REGOPERATOR: Final = 2204
REGCLASS: Final = 2205
REGTYPE: Final = 2206
RECORD: Final = 2249
CSTRING: Final = 2275
ANY: Final = 2276
ANYARRAY: Final = 2277
VOID: Final = 2278
TRIGGER: Final = 2279
LANGUAGE_HANDLER: Final = 2280
INTERNAL: Final = 2281
ANYELEMENT: Final = 2283
ANYNONARRAY: Final = 2776
UUID: Final = 2950
TXID_SNAPSHOT: Final = 2970
FDW_HANDLER: Final = 3115
PG_LSN: Final = 3220
TSM_HANDLER: Final = 3310
PG_NDISTINCT: Final = 3361
PG_DEPENDENCIES: Final = 3402
ANYENUM: Final = 3500
TSVECTOR: Final = 3614
TSQUERY: Final = 3615
GTSVECTOR: Final = 3642
REGCONFIG: Final = 3734
REGDICTIONARY: Final = 3769
JSONB: Final = 3802
ANYRANGE: Final = 3831
EVENT_TRIGGER: Final = 3838
INT4RANGE: Final = 3904
NUMRANGE: Final = 3906
TSRANGE: Final = 3908
TSTZRANGE: Final = 3910
DATERANGE: Final = 3912
INT8RANGE: Final = 3926
JSONPATH: Final = 4072
REGNAMESPACE: Final = 4089
REGROLE: Final = 4096
REGCOLLATION: Final = 4191
INT4MULTIRANGE: Final = 4451
NUMMULTIRANGE: Final = 4532
TSMULTIRANGE: Final = 4533
TSTZMULTIRANGE: Final = 4534
DATEMULTIRANGE: Final = 4535
INT8MULTIRANGE: Final = 4536
ANYMULTIRANGE: Final = 4537
ANYCOMPATIBLEMULTIRANGE: Final = 4538
PG_BRIN_BLOOM_SUMMARY: Final = 4600
PG_BRIN_MINMAX_MULTI_SUMMARY: Final = 4601
PG_MCV_LIST: Final = 5017
PG_SNAPSHOT: Final = 5038
XID8: Final = 5069
ANYCOMPATIBLE: Final = 5077
ANYCOMPATIBLEARRAY: Final = 5078
ANYCOMPATIBLENONARRAY: Final = 5079
ANYCOMPATIBLERANGE: Final = 5080

# Array types of the types above.
BOOL_ARRAY: Final = 1000
BYTEA_ARRAY: Final = 1001
CHAR_ARRAY: Final = 1002
NAME_ARRAY: Final = 1003
INT8_ARRAY: Final = 1016
INT2_ARRAY: Final = 1005
INT2VECTOR_ARRAY: Final = 1006
INT4_ARRAY: Final = 1007
REGPROC_ARRAY: Final = 1008
TEXT_ARRAY: Final = 1009
OID_ARRAY: Final = 1028
TID_ARRAY: Final = 1010
XID_ARRAY: Final = 1011
CID_ARRAY: Final = 1012
OIDVECTOR_ARRAY: Final = 1013
JSON_ARRAY: Final = 199
XML_ARRAY: Final = 143
POINT_ARRAY: Final = 1017
LSEG_ARRAY: Final = 1018
PATH_ARRAY: Final = 1019
BOX_ARRAY: Final = 1020
POLYGON_ARRAY: Final = 1027
LINE_ARRAY: Final = 629
CIDR_ARRAY: Final = 651
FLOAT4_ARRAY: Final = 1021
FLOAT8_ARRAY: Final = 1022
CIRCLE_ARRAY: Final = 719
MACADDR8_ARRAY: Final = 775
MONEY_ARRAY: Final = 791
MACADDR_ARRAY: Final = 1040
INET_ARRAY: Final = 1041
ACLITEM_ARRAY: Final = 1034
BPCHAR_ARRAY: Final = 1014
VARCHAR_ARRAY: Final = 1015
DATE_ARRAY: Final = 1182
TIME_ARRAY: Final = 1183
TIMESTAMP_ARRAY: Final = 1115
TIMESTAMPTZ_ARRAY: Final = 1185
INTERVAL_ARRAY: Final = 1187
TIMETZ_ARRAY: Final = 1270
BIT_ARRAY: Final = 1561
VARBIT_ARRAY: Final = 1563
NUMERIC_ARRAY: Final = 1231
REFCURSOR_ARRAY: Final = 2201
REGPROCEDURE_ARRAY: Final = 2207
REGOPER_ARRAY: Final = 2208
REGOPERATOR_ARRAY: Final = 2209
REGCLASS_ARRAY: Final = 2210
REGTYPE_ARRAY: Final = 2211
RECORD_ARRAY: Final = 2287
CSTRING_ARRAY: Final = 1263
UUID_ARRAY: Final = 2951
TXID_SNAPSHOT_ARRAY: Final = 2949
PG_LSN_ARRAY: Final = 3221
TSVECTOR_ARRAY: Final = 3643
TSQUERY_ARRAY: Final = 3645
GTSVECTOR_ARRAY: Final = 3644
REGCONFIG_ARRAY: Final = 3735
REGDICTIONARY_ARRAY: Final = 3770
JSONB_ARRAY: Final = 3807
INT4RANGE_ARRAY: Final = 3905
NUMRANGE_ARRAY: Final = 3907
TSRANGE_ARRAY: Final = 3909
TSTZRANGE_ARRAY: Final = 3911
DATERANGE_ARRAY: Final = 3913
INT8RANGE_ARRAY: Final = 3927
JSONPATH_ARRAY: Final = 4073
REGNAMESPACE_ARRAY: Final = 4090
REGROLE_ARRAY: Final = 4097
REGCOLLATION_ARRAY: Final = 4192
INT4MULTIRANGE_ARRAY: Final = 6150
NUMMULTIRANGE_ARRAY: Final = 6151
TSMULTIRANGE_ARRAY: Final = 6152
TSTZMULTIRANGE_ARRAY: Final = 6153
DATEMULTIRANGE_ARRAY: Final = 6155
INT8MULTIRANGE_ARRAY: Final = 6157
PG_SNAPSHOT_ARRAY: Final = 5039
XID8_ARRAY: Final = 271

# (type, SQL name, array type or 0) for every built-in type.
BUILTIN_TYPES: Final[tuple[tuple[int, str, int], ...]] = (
    (BOOL, 'bool', BOOL_ARRAY),
    (BYTEA, 'bytea', BYTEA_ARRAY),
    (CHAR, '"char"', CHAR_ARRAY),
    (NAME, 'name', NAME_ARRAY),
    (INT8, 'int8', INT8_ARRAY),
    (INT2, 'int2', INT2_ARRAY),
    (INT2VECTOR, 'int2vector', INT2VECTOR_ARRAY),
    (INT4, 'int4', INT4_ARRAY),
    (REGPROC, 'regproc', REGPROC_ARRAY),
    (TEXT, 'text', TEXT_ARRAY),
    (OID, 'oid', OID_ARRAY),
    (TID, 'tid', TID_ARRAY),
    (XID, 'xid', XID_ARRAY),
    (CID, 'cid', CID_ARRAY),
    (OIDVECTOR, 'oidvector', OIDVECTOR_ARRAY),
    (PG_DDL_COMMAND, 'pg_ddl_command', 0),
    (JSON, 'json', JSON_ARRAY),
    (XML, 'xml', XML_ARRAY),
    (PG_NODE_TREE, 'pg_node_tree', 0),
    (TABLE_AM_HANDLER, 'table_am_handler', 0),
    (INDEX_AM_HANDLER, 'index_am_handler', 0),
    (POINT, 'point', POINT_ARRAY),
    (LSEG, 'lseg', LSEG_ARRAY),
    (PATH, 'path', PATH_ARRAY),
    (BOX, 'box', BOX_ARRAY),
    (POLYGON, 'polygon', POLYGON_ARRAY),
    (LINE, 'line', LINE_ARRAY),
    (CIDR, 'cidr', CIDR_ARRAY),
    (FLOAT4, 'float4', FLOAT4_ARRAY),
    (FLOAT8, 'float8', FLOAT8_ARRAY),
    (UNKNOWN_TYPE, 'unknown', 0),
    (CIRCLE, 'circle', CIRCLE_ARRAY),
    (MACADDR8, 'macaddr8', MACADDR8_ARRAY),
    (MONEY, 'money', MONEY_ARRAY),
    (MACADDR, 'macaddr', MACADDR_ARRAY),
    (INET, 'inet', INET_ARRAY),
    (ACLITEM, 'aclitem', ACLITEM_ARRAY),
    (BPCHAR, 'bpchar', BPCHAR_ARRAY),
    (VARCHAR, 'varchar', VARCHAR_ARRAY),
    (DATE, 'date', DATE_ARRAY),
    (TIME, 'time', TIME_ARRAY),
    (TIMESTAMP, 'timestamp', TIMESTAMP_ARRAY),
    (TIMESTAMPTZ, 'timestamptz', TIMESTAMPTZ_ARRAY),
    (INTERVAL, 'interval', INTERVAL_ARRAY),
    (TIMETZ, 'timetz', TIMETZ_ARRAY),
    (BIT, 'bit', BIT_ARRAY),
    (VARBIT, 'varbit', VARBIT_ARRAY),
    (NUMERIC, 'numeric', NUMERIC_ARRAY),
    (REFCURSOR, 'refcursor', REFCURSOR_ARRAY),
    (REGPROCEDURE, 'regprocedure', REGPROCEDURE_ARRAY),
    (REGOPER, 'regoper', REGOPER_ARRAY),
    (REGOPERATOR, 'regoperator', REGOPERATOR_ARRAY),
    (REGCLASS, 'regclass', REGCLASS_ARRAY),
    (REGTYPE, 'regtype', REGTYPE_ARRAY),
    (RECORD, 'record', RECORD_ARRAY),
    (CSTRING, 'cstring', CSTRING_ARRAY),
    (ANY, 'any', 0),
    (ANYARRAY, 'anyarray', 0),
    (VOID, 'void', 0),
    (TRIGGER, 'trigger', 0),
    (LANGUAGE_HANDLER, 'language_handler', 0),
    (INTERNAL, 'internal', 0),
    (ANYELEMENT, 'anyelement', 0),
    (ANYNONARRAY, 'anynonarray', 0),
    (UUID, 'uuid', UUID_ARRAY),
    (TXID_SNAPSHOT, 'txid_snapshot', TXID_SNAPSHOT_ARRAY),
    (FDW_HANDLER, 'fdw_handler', 0),
    (PG_LSN, 'pg_lsn', PG_LSN_ARRAY),
    (TSM_HANDLER, 'tsm_handler', 0),
    (PG_NDISTINCT, 'pg_ndistinct', 0),
    (PG_DEPENDENCIES, 'pg_dependencies', 0),
    (ANYENUM, 'anyenum', 0),
    (TSVECTOR, 'tsvector', TSVECTOR_ARRAY),
    (TSQUERY, 'tsquery', TSQUERY_ARRAY),
    (GTSVECTOR, 'gtsvector', GTSVECTOR_ARRAY),
    (REGCONFIG, 'regconfig', REGCONFIG_ARRAY),
    (REGDICTIONARY, 'regdictionary', REGDICTIONARY_ARRAY),
    (JSONB, 'jsonb', JSONB_ARRAY),
    (ANYRANGE, 'anyrange', 0),
    (EVENT_TRIGGER, 'event_trigger', 0),
    (INT4RANGE, 'int4range', INT4RANGE_ARRAY),
    (NUMRANGE, 'numrange', NUMRANGE_ARRAY),
    (TSRANGE, 'tsrange', TSRANGE_ARRAY),
    (TSTZRANGE, 'tstzrange', TSTZRANGE_ARRAY),
    (DATERANGE, 'daterange', DATERANGE_ARRAY),
    (INT8RANGE, 'int8range', INT8RANGE_ARRAY),
    (JSONPATH, 'jsonpath', JSONPATH_ARRAY),
    (REGNAMESPACE, 'regnamespace', REGNAMESPACE_ARRAY),
    (REGROLE, 'regrole', REGROLE_ARRAY),
    (REGCOLLATION, 'regcollation', REGCOLLATION_ARRAY),
    (INT4MULTIRANGE, 'int4multirange', INT4MULTIRANGE_ARRAY),
    (NUMMULTIRANGE, 'nummultirange', NUMMULTIRANGE_ARRAY),
    (TSMULTIRANGE, 'tsmultirange', TSMULTIRANGE_ARRAY),
    (TSTZMULTIRANGE, 'tstzmultirange', TSTZMULTIRANGE_ARRAY),
    (DATEMULTIRANGE, 'datemultirange', DATEMULTIRANGE_ARRAY),
    (INT8MULTIRANGE, 'int8multirange', INT8MULTIRANGE_ARRAY),
    (ANYMULTIRANGE, 'anymultirange', 0),
    (ANYCOMPATIBLEMULTIRANGE, 'anycompatiblemultirange', 0),
    (PG_BRIN_BLOOM_SUMMARY, 'pg_brin_bloom_summary', 0),
    (PG_BRIN_MINMAX_MULTI_SUMMARY, 'pg_brin_minmax_multi_summary', 0),
    (PG_MCV_LIST, 'pg_mcv_list', 0),
    (PG_SNAPSHOT, 'pg_snapshot', PG_SNAPSHOT_ARRAY),
    (XID8, 'xid8', XID8_ARRAY),
    (ANYCOMPATIBLE, 'anycompatible', 0),
    (ANYCOMPATIBLEARRAY, 'anycompatiblearray', 0),
    (ANYCOMPATIBLENONARRAY, 'anycompatiblenonarray', 0),
    (ANYCOMPATIBLERANGE, 'anycompatiblerange', 0),
)

# Arrays get their SQL spelling (pg_type calls them _int4, ...).
TYPE_NAMES: Final[dict[int, str]] = {oid: name for oid, name, _ in BUILTIN_TYPES}
TYPE_NAMES.update({array: name + "[]" for _, name, array in BUILTIN_TYPES if array})

# array type OID -> element type OID
ARRAY_ELEMENTS: Final[dict[int, int]] = {
    array: oid for oid, _, array in BUILTIN_TYPES if array
}

# element type OID -> array type OID
ARRAY_OF: Final[dict[int, int]] = {elem: arr for arr, elem in ARRAY_ELEMENTS.items()}
