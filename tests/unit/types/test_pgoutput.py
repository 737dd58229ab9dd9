"""Server-less tests of the pgoutput decoder (pgwire.types.pgoutput).

The payloads are built by hand from the layouts of PostgreSQL's "Logical
Replication Message Formats" (the builders below), for every message of
every protocol version, and then broken: cut at every byte, extended by a
byte, overwritten byte by byte, or replaced by random bytes.  Whatever
comes in, the decoder answers with a message or a PgoutputDecodeError.
"""

from __future__ import annotations

import pickle
import struct
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pgwire.exceptions import ProtocolError
from pgwire.types import LSN, TypeRegistry, default_registry, oids
from pgwire.types.pgoutput import (
    UNCHANGED_TOAST,
    Begin,
    BeginPrepare,
    Commit,
    CommitPrepared,
    Delete,
    Insert,
    Message,
    Origin,
    PgoutputDecodeError,
    PgoutputDecoder,
    PgoutputMessage,
    Prepare,
    Relation,
    RelationColumn,
    RollbackPrepared,
    StreamAbort,
    StreamCommit,
    StreamPrepare,
    StreamStart,
    StreamStop,
    Truncate,
    Type,
    UnchangedToast,
    Update,
)

UTC = timezone.utc
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
WHEN = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
LATER = WHEN + timedelta(seconds=1)


# -- payload builders ("Logical Replication Message Formats") -------------------------


def us(when: datetime) -> int:
    """A TimestampTz: microseconds since 2000-01-01 UTC."""
    delta = when - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds


def cstr(text: str) -> bytes:
    return text.encode("utf-8") + b"\0"


def with_xid(kind: bytes, xid: int | None) -> bytes:
    return kind if xid is None else kind + struct.pack("!I", xid)


def begin(final_lsn: int = 0x100, when: datetime = WHEN, xid: int = 700) -> bytes:
    return b"B" + struct.pack("!QqI", final_lsn, us(when), xid)


def commit(commit_lsn: int = 0x100, end_lsn: int = 0x130, when: datetime = WHEN,
           flags: int = 0) -> bytes:
    return b"C" + struct.pack("!BQQq", flags, commit_lsn, end_lsn, us(when))


def origin(lsn: int = 0x55, name: str = "node_a") -> bytes:
    return b"O" + struct.pack("!Q", lsn) + cstr(name)


Col = tuple[int, str, int, int]  # flags, name, type OID, type modifier


def relation(oid: int, columns: list[Col], *, schema: str = "public", name: str = "t",
             identity: bytes = b"d", xid: int | None = None) -> bytes:
    out = with_xid(b"R", xid) + struct.pack("!I", oid) + cstr(schema) + cstr(name) + identity
    out += struct.pack("!H", len(columns))
    for flags, column, type_oid, typmod in columns:
        out += bytes([flags]) + cstr(column) + struct.pack("!Ii", type_oid, typmod)
    return out


def type_message(oid: int, schema: str, name: str, xid: int | None = None) -> bytes:
    return with_xid(b"Y", xid) + struct.pack("!I", oid) + cstr(schema) + cstr(name)


def text(value: str | bytes) -> tuple[str, bytes]:
    return ("t", value.encode() if isinstance(value, str) else value)


def binary(value: bytes) -> tuple[str, bytes]:
    return ("b", value)


def tuple_data(*values: Any) -> bytes:
    """TupleData: None is NULL, UNCHANGED_TOAST 'u', text()/binary() values 't'/'b'."""
    out = struct.pack("!H", len(values))
    for value in values:
        if value is None:
            out += b"n"
        elif value is UNCHANGED_TOAST:
            out += b"u"
        else:
            kind, raw = value
            out += kind.encode() + struct.pack("!i", len(raw)) + raw
    return out


def insert(oid: int, new: bytes, xid: int | None = None) -> bytes:
    return with_xid(b"I", xid) + struct.pack("!I", oid) + b"N" + new


def update(oid: int, new: bytes, *, old: bytes | None = None, key: bytes | None = None,
           xid: int | None = None) -> bytes:
    out = with_xid(b"U", xid) + struct.pack("!I", oid)
    if old is not None:
        out += b"O" + old
    if key is not None:
        out += b"K" + key
    return out + b"N" + new


def delete(oid: int, *, old: bytes | None = None, key: bytes | None = None,
           xid: int | None = None) -> bytes:
    out = with_xid(b"D", xid) + struct.pack("!I", oid)
    return out + (b"O" + old if old is not None else b"K" + (key or b""))


def truncate(relids: list[int], options: int = 0, xid: int | None = None) -> bytes:
    return (with_xid(b"T", xid) + struct.pack("!iB", len(relids), options)
            + b"".join(struct.pack("!I", oid) for oid in relids))


def message(content: bytes, *, transactional: bool = True, lsn: int = 0x200,
            prefix: str = "app", xid: int | None = None) -> bytes:
    return (with_xid(b"M", xid) + struct.pack("!BQ", 1 if transactional else 0, lsn)
            + cstr(prefix) + struct.pack("!I", len(content)) + content)


def stream_start(xid: int = 900, first: bool = True) -> bytes:
    return b"S" + struct.pack("!IB", xid, 1 if first else 0)


def stream_stop() -> bytes:
    return b"E"


def stream_commit(xid: int = 900, commit_lsn: int = 0x300, end_lsn: int = 0x330,
                  when: datetime = WHEN) -> bytes:
    return b"c" + struct.pack("!IBQQq", xid, 0, commit_lsn, end_lsn, us(when))


def stream_abort(xid: int = 900, subxid: int = 901, abort_lsn: int | None = None,
                 when: datetime | None = None) -> bytes:
    out = b"A" + struct.pack("!II", xid, subxid)
    if abort_lsn is not None:
        out += struct.pack("!Qq", abort_lsn, us(when or WHEN))
    return out


def begin_prepare(gid: str = "tx1") -> bytes:
    return b"b" + struct.pack("!QQqI", 0x400, 0x430, us(WHEN), 800) + cstr(gid)


def prepare(kind: bytes = b"P", gid: str = "tx1") -> bytes:
    return kind + struct.pack("!BQQqI", 0, 0x400, 0x430, us(WHEN), 800) + cstr(gid)


def commit_prepared(gid: str = "tx1") -> bytes:
    return b"K" + struct.pack("!BQQqI", 0, 0x500, 0x530, us(LATER), 800) + cstr(gid)


def rollback_prepared(gid: str = "tx1") -> bytes:
    return (b"r" + struct.pack("!BQQqqI", 0, 0x430, 0x560, us(WHEN), us(LATER), 800)
            + cstr(gid))


# -- fixtures -----------------------------------------------------------------------

T = 16384  # the relation of most tests: t(id int4 key, name text, note text)
COLUMNS: list[Col] = [(1, "id", oids.INT4, -1), (0, "name", oids.TEXT, -1),
                      (0, "note", oids.TEXT, -1)]


def decoder(version: int = 4, *, parallel: bool = False,
            registry: TypeRegistry | None = None) -> PgoutputDecoder:
    return PgoutputDecoder(registry or default_registry.copy(), protocol_version=version,
                           streaming_parallel=parallel)


def with_t(version: int = 4, **kwargs: Any) -> PgoutputDecoder:
    d = decoder(version, **kwargs)
    d.decode(relation(T, COLUMNS))
    return d


ROW = tuple_data(text("1"), text("a"), None)


# -- construction -------------------------------------------------------------------


@pytest.mark.parametrize("version", [0, 5, -1, "4", 4.0, True, None])
def test_refuses_unknown_protocol_versions(version: Any) -> None:
    with pytest.raises(ValueError, match="protocol_version"):
        PgoutputDecoder(default_registry.copy(), protocol_version=version)


@pytest.mark.parametrize("version", [1, 2, 3])
def test_parallel_streaming_needs_version_4(version: int) -> None:
    with pytest.raises(ValueError, match="version 4"):
        PgoutputDecoder(default_registry.copy(), protocol_version=version,
                        streaming_parallel=True)


def test_error_class() -> None:
    assert issubclass(PgoutputDecodeError, ProtocolError)


# -- transaction messages --------------------------------------------------------------


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_begin_commit_origin(version: int) -> None:
    d = decoder(version)
    b = d.decode(begin(0x1_0000_0100, WHEN, 4_000_000_000))
    assert b == Begin(LSN(0x1_0000_0100), WHEN, 4_000_000_000)
    assert isinstance(b.final_lsn, LSN) and str(b.final_lsn) == "1/100"
    assert b.commit_time.tzinfo is UTC
    o = d.decode(origin(0x55, "node_é"))
    assert o == Origin(LSN(0x55), "node_é")
    c = d.decode(commit(0x1_0000_0100, 0x1_0000_0130, LATER, flags=0))
    assert c == Commit(0, LSN(0x1_0000_0100), LSN(0x1_0000_0130), LATER)
    assert isinstance(c.end_lsn, LSN) and isinstance(c.commit_lsn, LSN)


def test_timestamps_at_the_limits() -> None:
    d = decoder()
    # infinity, as the timestamptz codec decodes it
    payload = b"B" + struct.pack("!QqI", 1, 2**63 - 1, 1)
    assert d.decode(payload).commit_time == datetime.max.replace(tzinfo=UTC)
    # a finite value outside datetime's years: an error, not an OverflowError
    payload = b"B" + struct.pack("!QqI", 1, 2**62, 1)
    with pytest.raises(PgoutputDecodeError, match="pgoutput Begin: commit time"):
        d.decode(payload)


def test_reprs_and_equality() -> None:
    d = with_t()
    ins = d.decode(insert(T, ROW))
    assert repr(ins) == ("Insert(relation=<Relation public.t OID 16384>, "
                         "new={'id': 1, 'name': 'a', 'note': None}, xid=None)")
    assert repr(StreamStop()) == "StreamStop()"
    assert "Relation(oid=16384, schema='public', name='t'" in repr(d.relations[T])
    assert ins == d.decode(insert(T, ROW))
    assert ins != d.decode(insert(T, tuple_data(text("2"), text("a"), None)))
    assert Prepare(0, LSN(1), LSN(2), WHEN, 3, "g") != StreamPrepare(0, LSN(1), LSN(2),
                                                                     WHEN, 3, "g")
    assert not isinstance(StreamPrepare(0, LSN(1), LSN(2), WHEN, 3, "g"), Prepare)
    assert isinstance(ins, PgoutputMessage)


def test_messages_have_slots() -> None:
    ins = with_t().decode(insert(T, ROW))
    with pytest.raises(AttributeError):
        ins.something = 1  # type: ignore[attr-defined]
    assert ins.lsn is None  # set by the stream that delivers it
    with pytest.raises(ValueError, match="stream"):
        ins.confirm()


# -- Relation and Type -----------------------------------------------------------------


def test_relation() -> None:
    d = decoder()
    rel = d.decode(relation(T, COLUMNS + [(1, "région", 99999, 12)], identity=b"f"))
    assert isinstance(rel, Relation)
    assert rel.oid == T and rel.schema == "public" and rel.name == "t"
    assert rel.replica_identity == "f"
    assert rel.columns[0] == RelationColumn("id", oids.INT4, -1, True)
    assert rel.columns[3] == RelationColumn("région", 99999, 12, True)
    assert rel.qualified_name == "public.t"
    assert rel.column_names == ("id", "name", "note", "région")
    assert rel.key_columns == ("id", "région")
    assert rel.xid is None
    assert d.relations == {T: rel}
    assert d.unknown_type_oids() == {99999}


def test_relation_in_pg_catalog_has_an_empty_namespace() -> None:
    rel = decoder().decode(relation(1, [], schema="", name="pg_x"))
    assert rel.schema == "pg_catalog" and rel.qualified_name == "pg_catalog.pg_x"
    assert rel.columns == () and rel.key_columns == ()


def test_relation_replaced_by_a_later_relation() -> None:
    d = with_t()
    first = d.relations[T]
    assert d.decode(insert(T, ROW)).new == {"id": 1, "name": "a", "note": None}
    # ALTER TABLE t DROP note, ADD n int8: the server announces t again
    second = d.decode(relation(T, [(1, "id", oids.INT4, -1), (0, "n", oids.INT8, -1)]))
    assert d.relations[T] is second and second != first
    ins = d.decode(insert(T, tuple_data(text("1"), text("12345678901"))))
    assert ins.new == {"id": 1, "n": 12345678901}
    assert ins.relation is second
    with pytest.raises(PgoutputDecodeError, match="tuple of 3 columns for relation public.t"):
        d.decode(insert(T, ROW))


def test_type_message() -> None:
    d = decoder()
    ty = d.decode(type_message(99999, "public", "mood"))
    assert ty == Type(99999, "public", "mood")
    assert d.types == {99999: ty}
    assert d.decode(type_message(5, "", "x")).schema == "pg_catalog"


# -- TupleData --------------------------------------------------------------------------

TYPED = [
    (oids.INT4, "42", 42),
    (oids.TEXT, "héllo wörld", "héllo wörld"),
    (oids.BOOL, "t", True),
    (oids.NUMERIC, "12.50", Decimal("12.50")),
    (oids.TIMESTAMPTZ, "2024-05-06 07:08:09.123456+00", WHEN),
    (oids.UUID, "12345678-1234-5678-1234-567812345678",
     UUID("12345678-1234-5678-1234-567812345678")),
    (oids.INT4_ARRAY, "{1,2,NULL}", [1, 2, None]),
    (oids.JSONB, '{"a": [1, 2], "b": null}', {"a": [1, 2], "b": None}),
]


def typed_decoder(**kwargs: Any) -> PgoutputDecoder:
    d = decoder(**kwargs)
    d.decode(relation(1, [(0, f"c{i}", oid, -1) for i, (oid, _, _) in enumerate(TYPED)]))
    return d


def test_text_values() -> None:
    d = typed_decoder()
    row = d.decode(insert(1, tuple_data(*(text(raw) for _, raw, _ in TYPED)))).new
    assert row == {f"c{i}": value for i, (_, _, value) in enumerate(TYPED)}
    assert list(row) == [f"c{i}" for i in range(len(TYPED))]  # column order


def test_binary_values() -> None:
    registry = default_registry.copy()
    d = typed_decoder(registry=registry)
    raws = []
    for oid, _, value in TYPED:
        encode = registry.binary_encoder(oid)
        assert encode is not None
        raws.append(binary(encode(value)))
    row = d.decode(insert(1, tuple_data(*raws))).new
    assert row == {f"c{i}": value for i, (_, _, value) in enumerate(TYPED)}


def test_null_unchanged_toast_and_unknown_types() -> None:
    d = decoder()
    d.decode(relation(2, [(1, "id", oids.INT4, -1), (0, "big", oids.TEXT, -1),
                          (0, "u", 99999, -1), (0, "v", 99999, -1), (0, "w", oids.TEXT, -1)]))
    row = d.decode(insert(2, tuple_data(text("7"), UNCHANGED_TOAST, text("(1,2)"),
                                        binary(b"\x00\x01"), None))).new
    assert row == {"id": 7, "big": UNCHANGED_TOAST, "u": "(1,2)", "v": b"\x00\x01", "w": None}
    assert row["big"] is UNCHANGED_TOAST and row["big"] is not None
    assert row["w"] is None


def test_unchanged_toast_singleton() -> None:
    assert repr(UNCHANGED_TOAST) == "UNCHANGED_TOAST"
    assert UnchangedToast() is UNCHANGED_TOAST
    assert UNCHANGED_TOAST is not None
    assert UNCHANGED_TOAST != None  # noqa: E711
    assert UNCHANGED_TOAST != "" and UNCHANGED_TOAST != b"" and UNCHANGED_TOAST != 0
    assert pickle.loads(pickle.dumps(UNCHANGED_TOAST)) is UNCHANGED_TOAST


def test_empty_values() -> None:
    d = decoder()
    d.decode(relation(3, [(0, "a", oids.TEXT, -1), (0, "b", oids.BYTEA, -1),
                          (0, "c", 99999, -1)]))
    row = d.decode(insert(3, tuple_data(text(""), binary(b""), binary(b"")))).new
    assert row == {"a": "", "b": b"", "c": b""}


# -- changes --------------------------------------------------------------------------


def test_insert() -> None:
    d = with_t()
    ins = d.decode(insert(T, ROW))
    assert ins == Insert(d.relations[T], {"id": 1, "name": "a", "note": None})
    assert ins.xid is None


def test_update_without_old_row() -> None:
    d = with_t()
    up = d.decode(update(T, tuple_data(text("1"), text("b"), UNCHANGED_TOAST)))
    assert isinstance(up, Update)
    assert up.old is None and up.key is None
    assert up.new == {"id": 1, "name": "b", "note": UNCHANGED_TOAST}


def test_update_with_key() -> None:
    d = with_t()
    up = d.decode(update(T, ROW, key=tuple_data(text("9"), None, None)))
    assert up.key == {"id": 9} and up.old is None
    assert up.new == {"id": 1, "name": "a", "note": None}


def test_update_with_old_row() -> None:
    d = decoder()
    d.decode(relation(T, [(1, c, o, m) for _, c, o, m in COLUMNS], identity=b"f"))
    up = d.decode(update(T, ROW, old=tuple_data(text("1"), text("z"), None)))
    assert up.old == {"id": 1, "name": "z", "note": None} and up.key is None


def test_delete() -> None:
    d = with_t()
    de = d.decode(delete(T, key=tuple_data(text("5"), None, None)))
    assert de == Delete(d.relations[T], None, {"id": 5})
    de = d.decode(delete(T, old=tuple_data(text("5"), text("x"), text("y"))))
    assert de.old == {"id": 5, "name": "x", "note": "y"} and de.key is None


def test_key_of_a_relation_without_key_columns_is_the_whole_tuple() -> None:
    d = decoder()
    d.decode(relation(4, [(0, "a", oids.INT4, -1), (0, "b", oids.INT4, -1)]))
    assert d.decode(delete(4, key=tuple_data(text("1"), None))).key == {"a": 1, "b": None}


def test_truncate() -> None:
    d = with_t()
    d.decode(relation(T + 1, [(1, "id", oids.INT4, -1)], name="u"))
    d.decode(relation(T + 2, [(1, "id", oids.INT4, -1)], name="v"))
    for options, cascade, restart in [(0, False, False), (1, True, False), (2, False, True),
                                      (3, True, True)]:
        tr = d.decode(truncate([T, T + 2, T + 1], options))
        assert tr == Truncate((d.relations[T], d.relations[T + 2], d.relations[T + 1]),
                              cascade, restart)
    assert repr(tr).startswith("Truncate(relations=(<Relation public.t OID 16384>, ")
    with pytest.raises(PgoutputDecodeError, match="pgoutput Truncate: relation OID 77"):
        d.decode(truncate([T, 77]))


@pytest.mark.parametrize("transactional", [True, False])
def test_message(transactional: bool) -> None:
    d = decoder(1)
    msg = d.decode(message(b"\x00payload\xff", transactional=transactional, lsn=0x2_0000_0200,
                           prefix="wal2json"))
    assert msg == Message(transactional, LSN(0x2_0000_0200), "wal2json", b"\x00payload\xff")
    assert msg.lsn == LSN("2/200") and type(msg.content) is bytes
    assert d.decode(message(b"")).content == b""


# -- streaming (protocol 2+) ----------------------------------------------------------


@pytest.mark.parametrize("version", [2, 3, 4])
def test_streamed_block(version: int) -> None:
    d = decoder(version)
    d.decode(relation(T, COLUMNS))
    assert not d.in_stream
    start = d.decode(stream_start(900, True))
    assert start == StreamStart(900, True) and d.in_stream
    # inside the block every change starts with the (sub)transaction's xid
    rel = d.decode(relation(T, COLUMNS, xid=901))
    assert rel.xid == 901 and d.relations[T] is rel
    assert d.decode(type_message(99999, "public", "mood", xid=901)).xid == 901
    assert d.decode(origin()) == Origin(LSN(0x55), "node_a")  # no xid in Origin
    ins = d.decode(insert(T, ROW, xid=901))
    assert ins == Insert(rel, {"id": 1, "name": "a", "note": None}, 901)
    up = d.decode(update(T, ROW, key=tuple_data(text("3"), None, None), xid=901))
    assert up.xid == 901 and up.key == {"id": 3}
    assert d.decode(delete(T, key=ROW, xid=902)).xid == 902
    assert d.decode(truncate([T], 1, xid=900)).xid == 900
    msg = d.decode(message(b"x", xid=900))
    assert msg.xid == 900 and msg.content == b"x"
    assert d.decode(stream_stop()) == StreamStop() and not d.in_stream
    assert d.decode(stream_start(900, False)).first_segment is False
    d.decode(stream_stop())
    assert d.decode(stream_commit(900, 0x300, 0x330, WHEN)) == StreamCommit(
        900, 0, LSN(0x300), LSN(0x330), WHEN)
    # outside the block again: no xid
    assert d.decode(insert(T, ROW)).xid is None


@pytest.mark.parametrize("version, parallel", [(2, False), (3, False), (4, False)])
def test_stream_abort_without_abort_info(version: int, parallel: bool) -> None:
    d = decoder(version, parallel=parallel)
    assert d.decode(stream_abort(900, 901)) == StreamAbort(900, 901, None, None)
    with pytest.raises(PgoutputDecodeError, match="Stream Abort: 16 unexpected bytes"):
        d.decode(stream_abort(900, 901, 0x600, WHEN))


def test_stream_abort_parallel() -> None:
    d = decoder(4, parallel=True)
    ab = d.decode(stream_abort(900, 900, 0x1_0000_0600, LATER))
    assert ab == StreamAbort(900, 900, LSN(0x1_0000_0600), LATER)
    with pytest.raises(PgoutputDecodeError, match="pgoutput Stream Abort: truncated"):
        d.decode(stream_abort(900, 901))


def test_stream_block_nesting_is_checked() -> None:
    d = decoder(2)
    with pytest.raises(PgoutputDecodeError, match="Stream Stop: outside a streamed block"):
        d.decode(stream_stop())
    d.decode(stream_start())
    with pytest.raises(PgoutputDecodeError, match="Stream Start: inside another"):
        d.decode(stream_start())
    for payload in (begin(), commit(), stream_commit(), stream_abort()):
        with pytest.raises(PgoutputDecodeError, match="inside a streamed block"):
            d.decode(payload)
    d.reset()
    assert not d.in_stream
    assert d.decode(begin()).xid == 700


def test_a_truncated_stream_start_does_not_start_a_block() -> None:
    d = decoder(2)
    with pytest.raises(PgoutputDecodeError):
        d.decode(stream_start()[:-1])
    assert not d.in_stream


# -- two-phase commit (protocol 3+) -----------------------------------------------------


@pytest.mark.parametrize("version", [3, 4])
def test_two_phase(version: int) -> None:
    d = decoder(version)
    assert d.decode(begin_prepare("tx1")) == BeginPrepare(LSN(0x400), LSN(0x430), WHEN, 800,
                                                         "tx1")
    assert d.decode(prepare(b"P", "tx1")) == Prepare(0, LSN(0x400), LSN(0x430), WHEN, 800,
                                                     "tx1")
    assert d.decode(commit_prepared("tx1")) == CommitPrepared(0, LSN(0x500), LSN(0x530), LATER,
                                                              800, "tx1")
    assert d.decode(rollback_prepared("tx1")) == RollbackPrepared(
        0, LSN(0x430), LSN(0x560), WHEN, LATER, 800, "tx1")
    sp = d.decode(prepare(b"p", "gid é"))
    assert sp == StreamPrepare(0, LSN(0x400), LSN(0x430), WHEN, 800, "gid é")
    assert type(sp) is StreamPrepare


# -- what each version refuses ---------------------------------------------------------

STREAMING = [stream_start(), stream_stop(), stream_commit(), stream_abort()]
TWO_PHASE = [begin_prepare(), prepare(b"P"), commit_prepared(), rollback_prepared(),
             prepare(b"p")]


@pytest.mark.parametrize("payload", STREAMING + TWO_PHASE)
def test_version_1_refuses_streaming_and_two_phase(payload: bytes) -> None:
    with pytest.raises(PgoutputDecodeError, match="needs protocol version [23], the stream "
                                                  "uses version 1"):
        decoder(1).decode(payload)


@pytest.mark.parametrize("payload", TWO_PHASE)
def test_version_2_refuses_two_phase(payload: bytes) -> None:
    with pytest.raises(PgoutputDecodeError, match="needs protocol version 3"):
        decoder(2).decode(payload)


def test_version_1_reads_no_xid() -> None:
    # without streams there is no xid: the Insert's first Int32 is its relation
    d = with_t(1)
    assert d.decode(insert(T, ROW)).xid is None


# -- registry changes -------------------------------------------------------------------


def test_decoders_follow_the_registry() -> None:
    registry = default_registry.copy()
    d = decoder(registry=registry)
    d.decode(relation(5, [(1, "id", oids.INT4, -1), (0, "m", 99999, -1)]))
    assert d.decode(insert(5, tuple_data(text("1"), text("happy")))).new["m"] == "happy"
    assert d.decode(insert(5, tuple_data(text("1"), binary(b"\x01")))).new["m"] == b"\x01"
    assert d.unknown_type_oids() == {99999}
    # the stream code introspects the type; the next row uses it
    registry.register_text(99999, None, str.upper, name="mood")
    registry.register_binary(99999, None, lambda data: data.hex())
    assert d.unknown_type_oids() == set()
    assert d.decode(insert(5, tuple_data(text("1"), text("happy")))).new["m"] == "HAPPY"
    assert d.decode(insert(5, tuple_data(text("1"), binary(b"\x01")))).new["m"] == "01"
    d.refresh()
    assert d.decode(insert(5, tuple_data(text("1"), text("sad")))).new["m"] == "SAD"


def test_replacing_the_registry() -> None:
    d = decoder()
    d.decode(relation(5, [(0, "m", 99999, -1)]))
    assert d.decode(insert(5, tuple_data(text("x")))).new == {"m": "x"}
    other = default_registry.copy()
    other.register_text(99999, None, lambda value: value * 2)
    d.registry = other
    assert d.registry is other
    assert d.decode(insert(5, tuple_data(text("x")))).new == {"m": "xx"}


# -- errors ---------------------------------------------------------------------------


def test_change_for_an_unknown_relation() -> None:
    d = decoder()
    for payload, name in [(insert(77, ROW), "Insert"), (update(77, ROW), "Update"),
                          (delete(77, key=ROW), "Delete")]:
        with pytest.raises(PgoutputDecodeError,
                           match=f"pgoutput {name}: relation OID 77 was not announced"):
            d.decode(payload)


def test_unknown_message_types() -> None:
    d = decoder()
    with pytest.raises(PgoutputDecodeError, match="unknown message type 'Z'"):
        d.decode(b"Z\x00\x00")
    with pytest.raises(PgoutputDecodeError, match="unknown message type 0x00"):
        d.decode(b"\x00")
    with pytest.raises(PgoutputDecodeError, match="empty message"):
        d.decode(b"")


def test_column_count_mismatch() -> None:
    d = with_t()
    with pytest.raises(PgoutputDecodeError,
                       match=r"pgoutput Insert: tuple of 2 columns for relation public.t "
                             r"\(OID 16384\) of 3 columns"):
        d.decode(insert(T, tuple_data(text("1"), None)))


def test_wrong_tuple_kinds() -> None:
    d = with_t()
    with pytest.raises(PgoutputDecodeError, match="pgoutput Insert: expected 'N'"):
        d.decode(b"I" + struct.pack("!I", T) + b"O" + ROW)
    with pytest.raises(PgoutputDecodeError, match="pgoutput Update: expected 'N'"):
        d.decode(b"U" + struct.pack("!I", T) + b"X" + ROW)
    with pytest.raises(PgoutputDecodeError, match="pgoutput Update: expected 'N'"):
        d.decode(b"U" + struct.pack("!I", T) + b"K" + ROW + b"K" + ROW)
    with pytest.raises(PgoutputDecodeError, match="pgoutput Delete: expected 'O'"):
        d.decode(b"D" + struct.pack("!I", T) + b"N" + ROW)
    with pytest.raises(PgoutputDecodeError,
                       match="unknown tuple data kind 'x' for column 'name' at byte 14"):
        d.decode(insert(T, struct.pack("!H", 3) + b"t\x00\x00\x00\x011x" + b"n"))


def test_truncated_tuple_data_names_the_byte() -> None:
    d = with_t()
    payload = insert(T, tuple_data(text("1"), text("abc"), None))
    with pytest.raises(PgoutputDecodeError,
                       match=r"^pgoutput Insert: truncated value of column 'name' at byte 19$"):
        d.decode(payload[:21])
    with pytest.raises(PgoutputDecodeError, match=r"^pgoutput Insert: truncated tuple data "
                                                  r"\(column 'name'\) at byte 14$"):
        d.decode(payload[:18])
    with pytest.raises(PgoutputDecodeError, match=r"^pgoutput Insert: truncated tuple data "
                                                  r"\(column 'note'\) at byte 22$"):
        d.decode(payload[:22])


def test_values_their_codec_refuses() -> None:
    d = typed_decoder()
    values: list[Any] = [None] * len(TYPED)
    values[0] = binary(b"\x00\x00\x01")  # int4 of 3 bytes
    with pytest.raises(PgoutputDecodeError, match="cannot decode column 'c0' of public.t"):
        d.decode(insert(1, tuple_data(*values)))
    values[0] = text("forty-two")
    with pytest.raises(PgoutputDecodeError, match="cannot decode column 'c0'"):
        d.decode(insert(1, tuple_data(*values)))
    values[0] = None
    values[1] = text(b"\xff\xfe")  # not UTF-8
    with pytest.raises(PgoutputDecodeError, match="cannot decode column 'c1'"):
        d.decode(insert(1, tuple_data(*values)))
    values[1] = None
    values[6] = text("{1,2")
    with pytest.raises(PgoutputDecodeError, match="cannot decode column 'c6'"):
        d.decode(insert(1, tuple_data(*values)))


def test_names_must_be_utf8() -> None:
    with pytest.raises(PgoutputDecodeError, match="relation name at byte 12 is not UTF-8"):
        decoder().decode(b"R" + struct.pack("!I", 1) + b"public\0\xff\0d\0\0")


def test_negative_lengths() -> None:
    d = with_t()
    with pytest.raises(PgoutputDecodeError, match="truncated value of column 'id'"):
        d.decode(insert(T, struct.pack("!H", 3) + b"t\xff\xff\xff\xff" + b"nn"))
    with pytest.raises(PgoutputDecodeError, match="negative number of relations"):
        d.decode(b"T" + struct.pack("!iB", -1, 0))


def test_decoding_in_place_and_other_buffers() -> None:
    d = with_t()
    payload = insert(T, ROW)
    body = b"w" + struct.pack("!QQq", 1, 2, 3) + payload  # a whole XLogData body
    assert d.decode(body, 25) == d.decode(payload)
    assert d.decode(memoryview(payload)) == d.decode(payload)
    assert d.decode(bytearray(payload)) == d.decode(payload)
    with pytest.raises(PgoutputDecodeError, match="empty message"):
        d.decode(body, len(body))
    with pytest.raises(PgoutputDecodeError, match="outside"):
        d.decode(body, -1)
    # offsets in errors count from pos
    with pytest.raises(PgoutputDecodeError, match="unexpected bytes at byte 21$"):
        d.decode(b"junk" + b"I" + struct.pack("!I", T) + b"N" + ROW + b"!", 4)


# -- every message, broken every way ----------------------------------------------------

Setup = list[bytes]


def cases() -> list[tuple[str, int, bool, Setup, bytes]]:
    """(id, version, parallel, messages to feed first, payload) for every message."""
    t = [relation(T, COLUMNS)]
    streamed = [stream_start(), relation(T, COLUMNS, xid=901)]
    keyed = [relation(T, COLUMNS, identity=b"f")]
    typed = [relation(1, [(0, f"c{i}", oid, -1) for i, (oid, _, _) in enumerate(TYPED)])]
    row = tuple_data(text("1"), text("abc"), UNCHANGED_TOAST)
    out: list[tuple[str, int, bool, Setup, bytes]] = []
    for version in (1, 2, 3, 4):
        out += [
            (f"begin-v{version}", version, False, [], begin()),
            (f"commit-v{version}", version, False, [], commit()),
            (f"origin-v{version}", version, False, [], origin()),
            (f"relation-v{version}", version, False, [], relation(T, COLUMNS)),
            (f"type-v{version}", version, False, [], type_message(9, "public", "mood")),
            (f"insert-v{version}", version, False, t, insert(T, row)),
            (f"insert-typed-v{version}", version, False, typed,
             insert(1, tuple_data(*(text(raw) for _, raw, _ in TYPED)))),
            (f"update-v{version}", version, False, t, update(T, row)),
            (f"update-key-v{version}", version, False, t, update(T, row, key=row)),
            (f"update-old-v{version}", version, False, keyed, update(T, row, old=row)),
            (f"delete-key-v{version}", version, False, t, delete(T, key=row)),
            (f"delete-old-v{version}", version, False, keyed, delete(T, old=row)),
            (f"truncate-v{version}", version, False, t, truncate([T, T], 3)),
            (f"message-v{version}", version, False, [], message(b"hello")),
        ]
    for version in (2, 3, 4):
        out += [
            (f"stream-start-v{version}", version, False, [], stream_start()),
            (f"stream-stop-v{version}", version, False, [stream_start()], stream_stop()),
            (f"stream-commit-v{version}", version, False, [], stream_commit()),
            (f"stream-abort-v{version}", version, False, [], stream_abort()),
            (f"stream-relation-v{version}", version, False, [stream_start()],
             relation(T, COLUMNS, xid=901)),
            (f"stream-type-v{version}", version, False, [stream_start()],
             type_message(9, "public", "mood", xid=901)),
            (f"stream-insert-v{version}", version, False, streamed, insert(T, row, xid=901)),
            (f"stream-update-v{version}", version, False, streamed,
             update(T, row, key=row, xid=901)),
            (f"stream-delete-v{version}", version, False, streamed,
             delete(T, key=row, xid=901)),
            (f"stream-truncate-v{version}", version, False, streamed,
             truncate([T], 0, xid=901)),
            (f"stream-message-v{version}", version, False, [stream_start()],
             message(b"hello", xid=901)),
        ]
    for version in (3, 4):
        out += [
            (f"begin-prepare-v{version}", version, False, [], begin_prepare()),
            (f"prepare-v{version}", version, False, [], prepare(b"P")),
            (f"commit-prepared-v{version}", version, False, [], commit_prepared()),
            (f"rollback-prepared-v{version}", version, False, [], rollback_prepared()),
            (f"stream-prepare-v{version}", version, False, [], prepare(b"p")),
        ]
    out.append(("stream-abort-parallel", 4, True, [], stream_abort(900, 901, 0x600, WHEN)))
    return out


CASES = cases()


def prepared(version: int, parallel: bool, setup: Setup) -> PgoutputDecoder:
    d = decoder(version, parallel=parallel)
    for payload in setup:
        d.decode(payload)
    return d


@pytest.mark.parametrize("version, parallel, setup, payload",
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_every_truncation_and_extension_is_refused(version: int, parallel: bool,
                                                   setup: Setup, payload: bytes) -> None:
    d = prepared(version, parallel, setup)
    for cut in range(len(payload)):
        with pytest.raises(PgoutputDecodeError):
            d.decode(payload[:cut])
        if d.in_stream != prepared(version, parallel, setup).in_stream:
            pytest.fail(f"a refused message changed the stream state (cut at {cut})")
    for extra in (b"\x00", b"N", b"\x00" * 9):
        with pytest.raises(PgoutputDecodeError, match="unexpected bytes"):
            prepared(version, parallel, setup).decode(payload + extra)
    assert isinstance(d.decode(payload), PgoutputMessage)


@pytest.mark.parametrize("version, parallel, setup, payload",
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_every_overwritten_byte_decodes_or_is_refused(version: int, parallel: bool,
                                                      setup: Setup, payload: bytes) -> None:
    for at in range(len(payload)):
        for byte in (0x00, 0x01, 0x7F, 0x80, 0xFF, payload[at] ^ 0x20):
            broken = payload[:at] + bytes([byte]) + payload[at + 1:]
            d = prepared(version, parallel, setup)
            try:
                d.decode(broken)
            except PgoutputDecodeError:
                pass


KINDS = st.sampled_from([bytes([kind]) for kind in b"BCORYIUDTMSEcAbPKrp"])


def decode_or_refuse(d: PgoutputDecoder, data: bytes) -> None:
    try:
        result = d.decode(data)
    except PgoutputDecodeError:
        return
    assert isinstance(result, PgoutputMessage)


@settings(max_examples=300, deadline=None)
@given(kind=KINDS, body=st.binary(max_size=120), version=st.integers(1, 4),
       streaming=st.booleans())
def test_arbitrary_bytes_after_a_relation(kind: bytes, body: bytes, version: int,
                                          streaming: bool) -> None:
    d = decoder(version, parallel=version == 4 and streaming)
    d.decode(relation(T, COLUMNS))
    if streaming and version >= 2:
        d.decode(stream_start())
    decode_or_refuse(d, kind + body)
    decode_or_refuse(d, body)


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.one_of(st.none(), st.just(UNCHANGED_TOAST),
                                 st.tuples(st.sampled_from(["t", "b"]),
                                           st.binary(max_size=12))),
                       min_size=len(TYPED), max_size=len(TYPED)))
def test_arbitrary_values_of_typed_columns(values: list[Any]) -> None:
    # any bytes in any column: a value, or an error naming the column
    d = typed_decoder()
    try:
        row = d.decode(insert(1, tuple_data(*values))).new
    except PgoutputDecodeError as exc:
        assert "cannot decode column 'c" in str(exc)
        return
    assert len(row) == len(TYPED)


@settings(max_examples=100, deadline=None)
@given(text_value=st.text(max_size=30))
def test_text_columns_round_trip(text_value: str) -> None:
    d = with_t()
    row = d.decode(insert(T, tuple_data(text("1"), text(text_value), None))).new
    assert row["name"] == text_value


def test_refused_messages_leave_relations_as_they_were() -> None:
    d = with_t()
    before = d.relations[T]
    broken = relation(T, [(0, "x", oids.INT4, -1)])[:-1]
    with pytest.raises(PgoutputDecodeError):
        d.decode(broken)
    assert d.relations[T] is before
