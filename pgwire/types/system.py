"""System and server-internal types: tid, xid, xid8, cid, pg_lsn, snapshots, vectors, void.

* ``xid``, ``cid`` (uint32) and ``xid8`` (uint64) <-> ``int``;
* ``tid`` <-> ``(block, offset)`` tuple, as asyncpg gives it;
* ``pg_lsn`` <-> :class:`~pgwire.types.values.LSN` (an ``int``; parameters
  also take a plain int or the text form ``'16/B374D848'``);
* ``pg_snapshot``/``txid_snapshot`` <-> ``(xmin, xmax, (xip, ...))``;
* ``int2vector``/``oidvector`` <-> ``list[int]`` (their binary form is a
  one-dimensional array, so the registry treats them as arrays of int2/oid);
* ``void`` -> ``None``.

Types read as ``str`` in text format (their output function is what users
want to see, and asyncpg gives the same): money (formatted by the server's
``lc_monetary``), xml, tsvector, tsquery, jsonpath, the reg* types
(``'pg_class'::regclass`` reads as ``'pg_class'``), aclitem, pg_node_tree
and the other internal types: :data:`TEXT_TYPES`.

Compiled by Cython (pure Python mode, types in ``system.pxd``).
"""

from __future__ import annotations

import struct
from typing import Any

from . import oids
from .codec import Codec, TypeSpec
from .codec import malformed as _malformed
from .codec import type_label as _type_label
from .values import LSN

_U32 = struct.Struct("!I")
_U64 = struct.Struct("!Q")
_TID = struct.Struct("!IH")
_SNAPSHOT_HEAD = struct.Struct("!iqq")
_I64 = struct.Struct("!q")


def _check_int(value: Any, type_name: str, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{type_name} expects int, got {_type_label(value)}")
    if not 0 <= value < limit:
        raise OverflowError(f"{type_name} out of range: {value}")
    return value


def decode_xid(data: bytes, pos: int = 0, n: int = -1) -> int:
    if n < 0:
        n = len(data) - pos
    if n != 4:
        raise _malformed("xid", n)
    return _U32.unpack_from(data, pos)[0]  # type: ignore[no-any-return]


def encode_xid(value: Any) -> bytes:
    return _U32.pack(_check_int(value, "xid", 1 << 32))


def decode_xid8(data: bytes, pos: int = 0, n: int = -1) -> int:
    if n < 0:
        n = len(data) - pos
    if n != 8:
        raise _malformed("xid8", n)
    return _U64.unpack_from(data, pos)[0]  # type: ignore[no-any-return]


def encode_xid8(value: Any) -> bytes:
    return _U64.pack(_check_int(value, "xid8", 1 << 64))


def decode_tid(data: bytes, pos: int = 0, n: int = -1) -> tuple[int, int]:
    if n < 0:
        n = len(data) - pos
    if n != 6:
        raise _malformed("tid", n)
    return _TID.unpack_from(data, pos)


def encode_tid(value: Any) -> bytes:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise TypeError(f"tid expects a (block, offset) tuple, got {_type_label(value)}")
    if len(value) != 2:
        raise ValueError(f"tid expects a (block, offset) tuple, got {len(value)} items")
    block, offset = value
    return _TID.pack(_check_int(block, "tid block", 1 << 32),
                     _check_int(offset, "tid offset", 1 << 16))


def parse_tid(text: str) -> tuple[int, int]:
    block, offset = text.strip("()").split(",")
    return int(block), int(offset)


def format_tid(value: Any) -> str:
    if isinstance(value, str):
        return value
    encode_tid(value)
    return f"({value[0]},{value[1]})"


def decode_lsn(data: bytes, pos: int = 0, n: int = -1) -> LSN:
    if n < 0:
        n = len(data) - pos
    if n != 8:
        raise _malformed("pg_lsn", n)
    return LSN(_U64.unpack_from(data, pos)[0])


def encode_lsn(value: Any) -> bytes:
    if isinstance(value, str):
        return _U64.pack(LSN(value))
    return _U64.pack(_check_int(value, "pg_lsn", 1 << 64))


def format_lsn(value: Any) -> str:
    if isinstance(value, str):
        return value
    return str(LSN(_check_int(value, "pg_lsn", 1 << 64)))


Snapshot = tuple[int, int, tuple[int, ...]]


def decode_snapshot(data: bytes, pos: int = 0, n: int = -1) -> Snapshot:
    if n < 0:
        n = len(data) - pos
    if n < 20:
        raise _malformed("pg_snapshot", n)
    count, xmin, xmax = _SNAPSHOT_HEAD.unpack_from(data, pos)
    if count < 0 or n != 20 + 8 * count:
        raise _malformed("pg_snapshot", n)
    unpack = _I64.unpack_from
    xip = tuple(unpack(data, pos + 20 + 8 * i)[0] for i in range(count))
    return (xmin, xmax, xip)


def encode_snapshot(value: Any) -> bytes:
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)) or len(value) != 3:
        raise TypeError(f"pg_snapshot expects (xmin, xmax, (xip, ...)), got {_type_label(value)}")
    xmin, xmax, xip = value
    xip = sorted(_check_int(x, "pg_snapshot xip", 1 << 63) for x in xip)
    return _SNAPSHOT_HEAD.pack(len(xip), _check_int(xmin, "pg_snapshot xmin", 1 << 63),
                               _check_int(xmax, "pg_snapshot xmax", 1 << 63)) + b"".join(
        _I64.pack(x) for x in xip)


def parse_snapshot(text: str) -> Snapshot:
    xmin, xmax, xip = text.split(":")
    return (int(xmin), int(xmax), tuple(int(x) for x in xip.split(",") if x))


def format_snapshot(value: Any) -> str:
    if isinstance(value, str):
        return value
    encode_snapshot(value)
    xmin, xmax, xip = value
    return f"{xmin}:{xmax}:{','.join(str(x) for x in sorted(xip))}"


def decode_void(data: bytes, pos: int = 0, n: int = -1) -> None:
    return None


def encode_void(value: Any) -> bytes:
    return b""


def parse_void(text: str) -> None:
    return None


class FixedCodec(Codec):
    """A type whose value holds no references: a decode and an encode function."""

    def __init__(self, decoder: Any, encoder: Any) -> None:
        super().__init__(True, decoder, encoder)
        self.decoder = decoder
        self.encoder = encoder

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return self.decoder(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return self.encoder(value)  # type: ignore[no-any-return]


def _int(text: str) -> int:
    return int(text)


TYPES = (
    TypeSpec(oids.XID, "xid", oids.XID_ARRAY, FixedCodec(decode_xid, encode_xid), _int),
    TypeSpec(oids.CID, "cid", oids.CID_ARRAY, FixedCodec(decode_xid, encode_xid), _int),
    TypeSpec(oids.XID8, "xid8", oids.XID8_ARRAY, FixedCodec(decode_xid8, encode_xid8), _int),
    TypeSpec(oids.TID, "tid", oids.TID_ARRAY, FixedCodec(decode_tid, encode_tid), parse_tid,
             format_tid),
    TypeSpec(oids.PG_LSN, "pg_lsn", oids.PG_LSN_ARRAY, FixedCodec(decode_lsn, encode_lsn), LSN,
             format_lsn),
    TypeSpec(oids.PG_SNAPSHOT, "pg_snapshot", oids.PG_SNAPSHOT_ARRAY,
             FixedCodec(decode_snapshot, encode_snapshot), parse_snapshot, format_snapshot),
    TypeSpec(oids.TXID_SNAPSHOT, "txid_snapshot", oids.TXID_SNAPSHOT_ARRAY,
             FixedCodec(decode_snapshot, encode_snapshot), parse_snapshot, format_snapshot),
    TypeSpec(oids.VOID, "void", 0, FixedCodec(decode_void, encode_void), parse_void),
)

# Types whose binary form is a one-dimensional array of an element type.
VECTOR_TYPES = (
    (oids.INT2VECTOR, oids.INT2),
    (oids.OIDVECTOR, oids.OID),
)

def parse_vector(text: str) -> list[int]:
    return [int(item) for item in text.split()]


def format_vector(value: Any) -> str:
    if isinstance(value, str):
        return value
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"a vector type expects a list of int, got {_type_label(value)}")
    for item in value:
        if isinstance(item, bool) or not isinstance(item, int):
            raise TypeError(f"a vector type expects a list of int, got {_type_label(item)}")
    # The range (int2 or oid) is the server's to check.
    return " ".join(str(item) for item in value)


# Built-in types read as str in text format (see the module docstring).
TEXT_TYPES = (
    oids.MONEY, oids.XML, oids.TSVECTOR, oids.TSQUERY, oids.GTSVECTOR, oids.JSONPATH,
    oids.REGPROC, oids.REGPROCEDURE, oids.REGOPER, oids.REGOPERATOR, oids.REGCLASS,
    oids.REGTYPE, oids.REGCONFIG, oids.REGDICTIONARY, oids.REGNAMESPACE, oids.REGROLE,
    oids.REGCOLLATION, oids.ACLITEM, oids.PG_NODE_TREE, oids.PG_NDISTINCT,
    oids.PG_DEPENDENCIES, oids.PG_MCV_LIST, oids.PG_BRIN_BLOOM_SUMMARY,
    oids.PG_BRIN_MINMAX_MULTI_SUMMARY, oids.CSTRING, oids.UNKNOWN_TYPE, oids.PG_DDL_COMMAND,
)
