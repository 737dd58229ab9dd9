"""pgoutput: the messages of PostgreSQL's logical replication output plugin, decoded.

A logical replication stream started with ``START_REPLICATION ... LOGICAL``
on a ``pgoutput`` slot carries, in each XLogData, one message of the
logical replication protocol (PostgreSQL docs, "Logical Replication Message
Formats"; field types as in "Message Data Types").  :class:`PgoutputDecoder`
turns the payload of each XLogData (what follows its 25-byte header) into
one message object -- :class:`Begin`, :class:`Insert`, :class:`Commit`... --
and remembers what later messages refer to: the relations (``Relation``
messages announce a table's columns before its first change, and again
after its definition may have changed) and the ``Type`` messages.

It is sans-I/O and knows nothing of the stream: it is fed bytes, one
message at a time, in the order the server sent them.  It keeps one piece
of state besides the relations: whether it is inside a streamed block
(between ``Stream Start`` and ``Stream Stop``, protocol 2 and later), where
Relation, Type, Insert, Update, Delete, Truncate and Message carry a
transaction ID after their type byte.  A decoder therefore serves one
``START_REPLICATION`` at a time; :meth:`PgoutputDecoder.reset` (or a new
decoder) is for the next one.

Layouts depend on the protocol version the client asked for
(``proto_version``; see "Logical Replication Message Formats"): 1
(PostgreSQL 10+), 2 adds the streaming of in-progress transactions
(PostgreSQL 14+), 3 two-phase commit (15+), 4 parallel streaming (16+),
whose Stream Abort carries the abort LSN and time only when the stream was
started with ``streaming 'parallel'``.  Messages a version does not have
are refused.

Rows ("TupleData") become ``dict``\\ s of column name to value, in column
order: NULL is ``None``, an unchanged TOASTed value (the server does not
send values it did not have to read) is :data:`UNCHANGED_TOAST`, a value in
text format is parsed by the registry's text parser for the column's type
(``str`` when it has none), a value in binary format (the ``binary``
option) by its binary codec (raw ``bytes`` when it has none).  Names and
text values are decoded as UTF-8: the server writes them in the database
encoding, which pgwire expects to be UTF-8.

Bad input from the network -- truncated or malformed messages, an unknown
message type, a change for a relation never announced, a value its codec
refuses -- raises :class:`PgoutputDecodeError` (a
:class:`~pgwire.exceptions.ProtocolError`) naming the message; no other
exception escapes :meth:`PgoutputDecoder.decode`.

This is a hot path (every replicated row goes through it): per relation,
the decoder keeps each column's parser or codec in a plan it builds on the
first row and rebuilds whenever the registry changes (its ``version``), so
decoding a row is one loop over the plan; fixed fields are read with
precompiled :class:`struct.Struct` objects, in place.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, NamedTuple

from ..exceptions import ProtocolError
from .codec import InPlaceDecoder, TextParser
from .datetimes import decode_timestamptz
from .registry import TypeRegistry
from .values import LSN

__all__ = [
    "UNCHANGED_TOAST",
    "Begin",
    "BeginPrepare",
    "Commit",
    "CommitPrepared",
    "Delete",
    "Insert",
    "Message",
    "Origin",
    "PgoutputDecodeError",
    "PgoutputDecoder",
    "PgoutputMessage",
    "Prepare",
    "Relation",
    "RelationColumn",
    "RollbackPrepared",
    "StreamAbort",
    "StreamCommit",
    "StreamPrepare",
    "StreamStart",
    "StreamStop",
    "Truncate",
    "Type",
    "UnchangedToast",
    "Update",
]


class PgoutputDecodeError(ProtocolError):
    """A pgoutput message that cannot be decoded (the message says which and why)."""


# -- values ---------------------------------------------------------------------


class UnchangedToast:
    """The type of :data:`UNCHANGED_TOAST`: a column whose TOASTed value did not change.

    The server does not send such values (TupleData kind ``'u'``); the
    column keeps the value it had.  The only instance is never None and
    equals nothing but itself.
    """

    __slots__ = ()
    _instance: ClassVar[UnchangedToast | None] = None

    def __new__(cls) -> UnchangedToast:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNCHANGED_TOAST"

    def __reduce__(self) -> str:
        return "UNCHANGED_TOAST"  # unpickled as this module's singleton


UNCHANGED_TOAST = UnchangedToast()
"""The value of a column sent as "unchanged TOASTed value" ('u' in TupleData)."""


class RelationColumn(NamedTuple):
    """One column of a :class:`Relation` message."""

    name: str
    type_oid: int
    type_modifier: int  # atttypmod; -1 when the type has none
    is_key: bool  # part of the replica identity (flag 1)


# -- messages -------------------------------------------------------------------


class PgoutputMessage:
    """What every decoded pgoutput message is.

    ``lsn`` and the private stream slot are for the replication stream that
    delivers the message: it sets ``lsn`` to the WAL position of the
    XLogData that carried it (for a :class:`Message` it is the message's own
    LSN, which is also that position).  Messages compare equal when they are
    of the same class and their fields (``_fields``) are equal.
    """

    __slots__ = ("lsn", "_stream")
    _fields: ClassVar[tuple[str, ...]] = ()

    lsn: LSN | None

    def confirm(self) -> None:
        """Report this message as processed; see the stream's ``confirm()``."""
        stream = getattr(self, "_stream", None)
        if stream is None:
            raise ValueError("this message does not belong to a replication stream")
        stream.confirm_message(self)

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={_show(getattr(self, name))}" for name in self._fields)
        return f"{type(self).__name__}({fields})"

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in self._fields)

    __hash__ = None  # type: ignore[assignment]  # rows are dicts: not hashable


def _show(value: Any) -> str:
    # A change names its relation rather than repeating all its columns.
    if isinstance(value, Relation):
        return f"<Relation {value.qualified_name} OID {value.oid}>"
    if isinstance(value, tuple) and value and isinstance(value[0], Relation):
        return f"({', '.join(_show(item) for item in value)})"
    return repr(value)


class Begin(PgoutputMessage):
    """Begin ('B'): a transaction's changes follow.

    ``final_lsn`` is the LSN of its commit record (the ``commit_lsn`` of the
    :class:`Commit` that ends it).
    """

    __slots__ = ("final_lsn", "commit_time", "xid")
    _fields = __slots__

    def __init__(self, final_lsn: LSN, commit_time: datetime, xid: int) -> None:
        self.lsn = None
        self._stream = None
        self.final_lsn = final_lsn
        self.commit_time = commit_time
        self.xid = xid


class Commit(PgoutputMessage):
    """Commit ('C'): the end of a transaction.

    ``commit_lsn`` is the LSN of the commit record, ``end_lsn`` the end of
    the transaction in the WAL: the position to confirm once it is applied.
    """

    __slots__ = ("flags", "commit_lsn", "end_lsn", "commit_time")
    _fields = __slots__

    def __init__(self, flags: int, commit_lsn: LSN, end_lsn: LSN, commit_time: datetime) -> None:
        self.lsn = None
        self._stream = None
        self.flags = flags
        self.commit_lsn = commit_lsn
        self.end_lsn = end_lsn
        self.commit_time = commit_time


class Origin(PgoutputMessage):
    """Origin ('O'): the transaction came from another node (replication origin ``name``)."""

    __slots__ = ("origin_lsn", "name")
    _fields = __slots__

    def __init__(self, origin_lsn: LSN, name: str) -> None:
        self.lsn = None
        self._stream = None
        self.origin_lsn = origin_lsn
        self.name = name


class Relation(PgoutputMessage):
    """Relation ('R'): a table's columns, as the changes that follow carry them.

    ``replica_identity`` is ``relreplident``: ``'d'`` default (primary
    key), ``'n'`` nothing, ``'f'`` full, ``'i'`` index.  ``schema`` is
    ``'pg_catalog'`` where the server sends an empty namespace.  ``xid`` is
    the transaction's ID inside a streamed block, else None.
    """

    __slots__ = ("oid", "schema", "name", "replica_identity", "columns", "xid")
    _fields = __slots__

    def __init__(self, oid: int, schema: str, name: str, replica_identity: str,
                 columns: tuple[RelationColumn, ...], xid: int | None = None) -> None:
        self.lsn = None
        self._stream = None
        self.oid = oid
        self.schema = schema
        self.name = name
        self.replica_identity = replica_identity
        self.columns = columns
        self.xid = xid

    @property
    def qualified_name(self) -> str:
        """``schema.name``, unquoted (for messages and keys, not for SQL)."""
        return f"{self.schema}.{self.name}"

    @property
    def column_names(self) -> tuple[str, ...]:
        """The names of the columns, in order."""
        return tuple(column.name for column in self.columns)

    @property
    def key_columns(self) -> tuple[str, ...]:
        """The names of the replica identity columns."""
        return tuple(column.name for column in self.columns if column.is_key)


class Type(PgoutputMessage):
    """Type ('Y'): the name of a user type that a following Relation's column has.

    The server sends it for types outside the built-in OID range; the
    catalog (introspection) tells what the type is.
    """

    __slots__ = ("oid", "schema", "name", "xid")
    _fields = __slots__

    def __init__(self, oid: int, schema: str, name: str, xid: int | None = None) -> None:
        self.lsn = None
        self._stream = None
        self.oid = oid
        self.schema = schema
        self.name = name
        self.xid = xid


class Insert(PgoutputMessage):
    """Insert ('I'): the new row of ``relation``."""

    __slots__ = ("relation", "new", "xid")
    _fields = __slots__

    def __init__(self, relation: Relation, new: dict[str, Any], xid: int | None = None) -> None:
        self.lsn = None
        self._stream = None
        self.relation = relation
        self.new = new
        self.xid = xid


class Update(PgoutputMessage):
    """Update ('U'): the new row, and what the server sent of the old one.

    ``old`` is the whole old row (replica identity full, 'O'); ``key`` its
    replica identity columns when one of them changed ('K': only the key
    columns, plus any other column the server sent non-NULL); both are None
    when the server sent neither (the key did not change).
    """

    __slots__ = ("relation", "old", "key", "new", "xid")
    _fields = __slots__

    def __init__(self, relation: Relation, old: dict[str, Any] | None,
                 key: dict[str, Any] | None, new: dict[str, Any],
                 xid: int | None = None) -> None:
        self.lsn = None
        self._stream = None
        self.relation = relation
        self.old = old
        self.key = key
        self.new = new
        self.xid = xid


class Delete(PgoutputMessage):
    """Delete ('D'): the old row ('O', replica identity full) or its key ('K')."""

    __slots__ = ("relation", "old", "key", "xid")
    _fields = __slots__

    def __init__(self, relation: Relation, old: dict[str, Any] | None,
                 key: dict[str, Any] | None, xid: int | None = None) -> None:
        self.lsn = None
        self._stream = None
        self.relation = relation
        self.old = old
        self.key = key
        self.xid = xid


class Truncate(PgoutputMessage):
    """Truncate ('T'): ``relations`` were truncated (``CASCADE``, ``RESTART IDENTITY``)."""

    __slots__ = ("relations", "cascade", "restart_identity", "xid")
    _fields = __slots__

    def __init__(self, relations: tuple[Relation, ...], cascade: bool, restart_identity: bool,
                 xid: int | None = None) -> None:
        self.lsn = None
        self._stream = None
        self.relations = relations
        self.cascade = cascade
        self.restart_identity = restart_identity
        self.xid = xid


class Message(PgoutputMessage):
    """Message ('M'): a logical decoding message (``pg_logical_emit_message``).

    Sent with the ``messages`` option.  A transactional one belongs to the
    transaction around it; ``content`` is bytes, as emitted.
    """

    __slots__ = ("transactional", "prefix", "content", "xid")
    _fields = ("transactional", "lsn", "prefix", "content", "xid")

    def __init__(self, transactional: bool, lsn: LSN, prefix: str, content: bytes,
                 xid: int | None = None) -> None:
        self._stream = None
        self.transactional = transactional
        self.lsn = lsn
        self.prefix = prefix
        self.content = content
        self.xid = xid


class StreamStart(PgoutputMessage):
    """Stream Start ('S', protocol 2+): a block of changes of in-progress transaction ``xid``."""

    __slots__ = ("xid", "first_segment")
    _fields = __slots__

    def __init__(self, xid: int, first_segment: bool) -> None:
        self.lsn = None
        self._stream = None
        self.xid = xid
        self.first_segment = first_segment


class StreamStop(PgoutputMessage):
    """Stream Stop ('E', protocol 2+): the end of a streamed block."""

    __slots__ = ()

    def __init__(self) -> None:
        self.lsn = None
        self._stream = None


class StreamCommit(PgoutputMessage):
    """Stream Commit ('c', protocol 2+): streamed transaction ``xid`` committed."""

    __slots__ = ("xid", "flags", "commit_lsn", "end_lsn", "commit_time")
    _fields = __slots__

    def __init__(self, xid: int, flags: int, commit_lsn: LSN, end_lsn: LSN,
                 commit_time: datetime) -> None:
        self.lsn = None
        self._stream = None
        self.xid = xid
        self.flags = flags
        self.commit_lsn = commit_lsn
        self.end_lsn = end_lsn
        self.commit_time = commit_time


class StreamAbort(PgoutputMessage):
    """Stream Abort ('A', protocol 2+): subtransaction ``subxid`` of ``xid`` aborted.

    ``subxid == xid`` when the whole transaction aborted.  ``abort_lsn``
    and ``abort_time`` are sent only with protocol 4 and ``streaming
    'parallel'``; None otherwise.
    """

    __slots__ = ("xid", "subxid", "abort_lsn", "abort_time")
    _fields = __slots__

    def __init__(self, xid: int, subxid: int, abort_lsn: LSN | None = None,
                 abort_time: datetime | None = None) -> None:
        self.lsn = None
        self._stream = None
        self.xid = xid
        self.subxid = subxid
        self.abort_lsn = abort_lsn
        self.abort_time = abort_time


class BeginPrepare(PgoutputMessage):
    """Begin Prepare ('b', protocol 3+): the changes of a transaction being prepared follow.

    ``end_lsn`` is the end of its PREPARE TRANSACTION record, not of the
    messages that follow: confirm at the :class:`Prepare`, not here.
    """

    __slots__ = ("prepare_lsn", "end_lsn", "prepare_time", "xid", "gid")
    _fields = __slots__

    def __init__(self, prepare_lsn: LSN, end_lsn: LSN, prepare_time: datetime, xid: int,
                 gid: str) -> None:
        self.lsn = None
        self._stream = None
        self.prepare_lsn = prepare_lsn
        self.end_lsn = end_lsn
        self.prepare_time = prepare_time
        self.xid = xid
        self.gid = gid


class _Prepared(PgoutputMessage):
    """The fields Prepare and Stream Prepare share (two classes, so that one never
    matches the other in ``isinstance`` or ``match``)."""

    __slots__ = ("flags", "prepare_lsn", "end_lsn", "prepare_time", "xid", "gid")
    _fields = __slots__

    def __init__(self, flags: int, prepare_lsn: LSN, end_lsn: LSN, prepare_time: datetime,
                 xid: int, gid: str) -> None:
        self.lsn = None
        self._stream = None
        self.flags = flags
        self.prepare_lsn = prepare_lsn
        self.end_lsn = end_lsn
        self.prepare_time = prepare_time
        self.xid = xid
        self.gid = gid


class Prepare(_Prepared):
    """Prepare ('P', protocol 3+): transaction ``gid`` was prepared (PREPARE TRANSACTION)."""

    __slots__ = ()


class StreamPrepare(_Prepared):
    """Stream Prepare ('p', protocol 3+): streamed transaction ``gid`` was prepared."""

    __slots__ = ()


class CommitPrepared(PgoutputMessage):
    """Commit Prepared ('K', protocol 3+): prepared transaction ``gid`` committed."""

    __slots__ = ("flags", "commit_lsn", "end_lsn", "commit_time", "xid", "gid")
    _fields = __slots__

    def __init__(self, flags: int, commit_lsn: LSN, end_lsn: LSN, commit_time: datetime,
                 xid: int, gid: str) -> None:
        self.lsn = None
        self._stream = None
        self.flags = flags
        self.commit_lsn = commit_lsn
        self.end_lsn = end_lsn
        self.commit_time = commit_time
        self.xid = xid
        self.gid = gid


class RollbackPrepared(PgoutputMessage):
    """Rollback Prepared ('r', protocol 3+): prepared transaction ``gid`` rolled back.

    ``prepare_end_lsn`` and ``prepare_time`` identify the prepared
    transaction (a gid alone may be reused); ``rollback_end_lsn`` is the end
    of the ROLLBACK PREPARED record.
    """

    __slots__ = ("flags", "prepare_end_lsn", "rollback_end_lsn", "prepare_time",
                 "rollback_time", "xid", "gid")
    _fields = __slots__

    def __init__(self, flags: int, prepare_end_lsn: LSN, rollback_end_lsn: LSN,
                 prepare_time: datetime, rollback_time: datetime, xid: int, gid: str) -> None:
        self.lsn = None
        self._stream = None
        self.flags = flags
        self.prepare_end_lsn = prepare_end_lsn
        self.rollback_end_lsn = rollback_end_lsn
        self.prepare_time = prepare_time
        self.rollback_time = rollback_time
        self.xid = xid
        self.gid = gid


# -- wire layouts ("Logical Replication Message Formats") ---------------------------
# Int64 LSNs and Int32 OIDs/xids are read unsigned (XLogRecPtr, Oid and
# TransactionId are unsigned); timestamps (Int64 microseconds since
# 2000-01-01) go through the timestamptz codec, which also maps infinity.

_u16 = struct.Struct("!H").unpack_from
_u32 = struct.Struct("!I").unpack_from
_i32 = struct.Struct("!i").unpack_from
_u64 = struct.Struct("!Q").unpack_from
_u32_u32 = struct.Struct("!II").unpack_from
_COLUMN = struct.Struct("!Ii")  # type OID, type modifier
_column = _COLUMN.unpack_from
_BEGIN = struct.Struct("!Q8xI")  # final LSN, (commit time), xid
_COMMIT = struct.Struct("!BQQ8x")  # flags, commit LSN, end LSN, (commit time)
_STREAM_START = struct.Struct("!IB")  # xid, first segment
_STREAM_COMMIT = struct.Struct("!IBQQ8x")  # xid, flags, commit LSN, end LSN, (time)
_STREAM_ABORT = struct.Struct("!II")  # xid, subxid
_STREAM_ABORT_PARALLEL = struct.Struct("!IIQ8x")  # + abort LSN, (abort time)
_BEGIN_PREPARE = struct.Struct("!QQ8xI")  # prepare LSN, end LSN, (time), xid
_PREPARE = struct.Struct("!BQQ8xI")  # flags, two LSNs, (time), xid: also Commit Prepared
_ROLLBACK_PREPARED = struct.Struct("!BQQ16xI")  # flags, two LSNs, (two times), xid
_MESSAGE = struct.Struct("!BQ")  # flags, LSN
_TRUNCATE = struct.Struct("!iB")  # number of relations, option bits

_NAMES: dict[int, str] = {
    ord("B"): "Begin",
    ord("C"): "Commit",
    ord("O"): "Origin",
    ord("R"): "Relation",
    ord("Y"): "Type",
    ord("I"): "Insert",
    ord("U"): "Update",
    ord("D"): "Delete",
    ord("T"): "Truncate",
    ord("M"): "Message",
    ord("S"): "Stream Start",
    ord("E"): "Stream Stop",
    ord("c"): "Stream Commit",
    ord("A"): "Stream Abort",
    ord("b"): "Begin Prepare",
    ord("P"): "Prepare",
    ord("K"): "Commit Prepared",
    ord("r"): "Rollback Prepared",
    ord("p"): "Stream Prepare",
}

# The protocol version that introduced each message (the others: 1).
_SINCE: dict[int, int] = {
    ord("S"): 2, ord("E"): 2, ord("c"): 2, ord("A"): 2,
    ord("b"): 3, ord("P"): 3, ord("K"): 3, ord("r"): 3, ord("p"): 3,
}

# What precedes a TupleData in Insert, Update and Delete (the column kinds
# 'n', 'u', 't', 'b' are literals in PgoutputDecoder._tuple).
_NEW, _OLD, _KEY = b"N"[0], b"O"[0], b"K"[0]

# One column of a relation's plan: name, text parser (None: str), binary
# decoder (None: raw bytes).
_ColumnPlan = tuple[str, TextParser | None, InPlaceDecoder | None]


def _error(what: str, text: str) -> PgoutputDecodeError:
    return PgoutputDecodeError(f"pgoutput {what}: {text}")


def _truncated(what: str, offset: int, field: str = "") -> PgoutputDecodeError:
    return _error(what, f"truncated {field or 'message'} at byte {offset}")


def _check_size(what: str, data: bytes, p: int, size: int, base: int) -> None:
    """The message must end exactly ``size`` bytes after ``p``."""
    left = len(data) - p
    if left < size:
        raise _truncated(what, len(data) - base)
    if left > size:
        raise _error(what, f"{left - size} unexpected bytes at byte {p + size - base}")


def _check_end(what: str, data: bytes, p: int, base: int) -> None:
    if p != len(data):
        raise _trailing(what, data, p, base)


def _trailing(what: str, data: bytes, p: int, base: int) -> PgoutputDecodeError:
    return _error(what, f"{len(data) - p} unexpected bytes at byte {p - base}")


def _unknown_relation(what: str, oid: int) -> PgoutputDecodeError:
    return _error(what, f"relation OID {oid} was not announced by a Relation message")


def _string(what: str, data: bytes, p: int, base: int, field: str) -> tuple[str, int]:
    """A String (NUL-terminated, UTF-8) at ``p``, and the position after it."""
    q = data.find(b"\0", p)
    if q < 0:
        raise _error(what, f"truncated {field} at byte {p - base} (no terminating NUL)")
    try:
        return data[p:q].decode("utf-8"), q + 1
    except UnicodeDecodeError as exc:
        raise _error(what, f"{field} at byte {p - base} is not UTF-8") from exc


def _time(what: str, data: bytes, p: int, base: int, field: str) -> datetime:
    """The TimestampTz at ``p`` (the caller checked that its 8 bytes are there)."""
    try:
        return decode_timestamptz(data, p, 8)
    except (ValueError, OverflowError) as exc:
        raise _error(what, f"{field} at byte {p - base}: {exc}") from exc


class _Entry:
    """A relation the decoder knows, and the plan that decodes its rows."""

    __slots__ = ("relation", "plan", "version", "keys")

    def __init__(self, relation: Relation) -> None:
        self.relation = relation
        self.plan: tuple[_ColumnPlan, ...] = ()
        self.version = -1  # the registry version the plan was built for; -1: none yet
        self.keys = frozenset(column.name for column in relation.columns if column.is_key)


_Handler = Callable[["PgoutputDecoder", bytes, int, int], PgoutputMessage]


class PgoutputDecoder:
    """Decodes the pgoutput messages of one logical replication stream.

    ``registry`` gives the parsers and codecs of column values (a
    connection's registry, or ``default_registry.copy()``);
    ``protocol_version`` is the ``proto_version`` the stream was started
    with (1 to 4); ``streaming_parallel`` says it was started with
    ``streaming 'parallel'`` (protocol 4), whose Stream Abort carries more.

    Feed :meth:`decode` each XLogData payload in order.  ``relations`` maps
    relation OIDs to their latest :class:`Relation` (a later Relation for
    the same OID replaces it), ``types`` type OIDs to their :class:`Type`
    message.  Column decoders are looked up in the registry when a
    relation's first row arrives and again whenever the registry changed
    since (``TypeRegistry.version``), so types added after a Relation
    (introspected from :meth:`unknown_type_oids`) apply to the next row;
    :meth:`refresh` rebuilds them at once.
    """

    __slots__ = ("_registry", "protocol_version", "streaming_parallel", "relations", "types",
                 "_entries", "_in_stream", "_handlers")

    def __init__(self, registry: TypeRegistry, protocol_version: int = 4,
                 streaming_parallel: bool = False) -> None:
        if (isinstance(protocol_version, bool) or not isinstance(protocol_version, int)
                or not 1 <= protocol_version <= 4):
            raise ValueError(
                f"pgoutput protocol_version must be 1, 2, 3 or 4, got {protocol_version!r}")
        if streaming_parallel and protocol_version < 4:
            raise ValueError(
                f"streaming_parallel needs pgoutput protocol version 4, got {protocol_version}")
        self._registry = registry
        self.protocol_version = protocol_version
        self.streaming_parallel = bool(streaming_parallel)
        self.relations: dict[int, Relation] = {}
        self.types: dict[int, Type] = {}
        self._entries: dict[int, _Entry] = {}
        self._in_stream = False
        # Indexed by the type byte; None: unknown, or not in this version.
        handlers: list[_Handler | None] = [None] * 256
        for kind, handler in _HANDLERS.items():
            if _SINCE.get(kind, 1) <= protocol_version:
                handlers[kind] = handler
        self._handlers = handlers

    # -- state ----------------------------------------------------------------------

    @property
    def registry(self) -> TypeRegistry:
        """The registry column values are decoded with; setting another one
        applies from the next row on."""
        return self._registry

    @registry.setter
    def registry(self, registry: TypeRegistry) -> None:
        """Decode values with another registry from the next row on."""
        self._registry = registry
        for entry in self._entries.values():
            entry.version = -1

    @property
    def in_stream(self) -> bool:
        """Between a Stream Start and its Stream Stop?"""
        return self._in_stream

    def reset(self) -> None:
        """Forget the streamed-block state, for a new ``START_REPLICATION``.

        Relations and types are kept: harmless, since the server announces
        every relation again before its first change on a new stream.
        """
        self._in_stream = False

    def refresh(self) -> None:
        """Look every known relation's column decoders up in the registry again, now."""
        for entry in self._entries.values():
            self._build_plan(entry)

    def unknown_type_oids(self) -> set[int]:
        """The column types of known relations that the registry does not know."""
        knows = self._registry.knows
        return {
            column.type_oid
            for relation in self.relations.values()
            for column in relation.columns
            if not knows(column.type_oid)
        }

    def _build_plan(self, entry: _Entry) -> None:
        registry = self._registry
        plan = []
        for column in entry.relation.columns:
            codec = registry.binary_decoder(column.type_oid)
            plan.append((column.name, registry.text_parser(column.type_oid),
                         None if codec is None else codec.decoder_function()))
        entry.plan = tuple(plan)
        entry.version = registry.version

    # -- decoding ---------------------------------------------------------------------

    def decode(self, payload: bytes | bytearray | memoryview, pos: int = 0) -> PgoutputMessage:
        """The message in ``payload`` from ``pos`` to its end (an XLogData payload).

        ``pos`` lets a caller decode a whole XLogData body in place
        (``pos=25``); offsets in error messages count from it.  Other
        buffers than ``bytes`` are copied once (the codecs read ``bytes``).
        """
        data = payload if type(payload) is bytes else bytes(payload)
        if not 0 <= pos < len(data):
            raise PgoutputDecodeError(
                "pgoutput: empty message" if pos == len(data)
                else f"pgoutput: message start {pos} outside the {len(data)} bytes given")
        kind = data[pos]
        handler = self._handlers[kind]
        if handler is None:
            raise self._unexpected(kind)
        try:
            return handler(self, data, pos + 1, pos)
        except PgoutputDecodeError:
            raise
        except Exception as exc:  # a safety net: every expected case is raised above
            raise _error(_NAMES[kind], f"malformed message ({type(exc).__name__}: {exc})") from exc

    def _unexpected(self, kind: int) -> PgoutputDecodeError:
        name = _NAMES.get(kind)
        if name is None:
            shown = repr(chr(kind)) if 32 < kind < 127 else f"0x{kind:02x}"
            return PgoutputDecodeError(f"pgoutput: unknown message type {shown}")
        return _error(name, f"needs protocol version {_SINCE[kind]}, the stream uses "
                            f"version {self.protocol_version}")

    def _entry(self, what: str, oid: int) -> _Entry:
        entry = self._entries.get(oid)
        if entry is None:
            raise _unknown_relation(what, oid)
        return entry

    def _tuple(self, what: str, entry: _Entry, data: bytes, p: int,
               base: int) -> tuple[dict[str, Any], int]:
        """The TupleData at ``p``, as a row of ``entry``'s relation, and the position after it."""
        if entry.version != self._registry.version:
            self._build_plan(entry)
        plan = entry.plan
        end = len(data)
        if p + 2 > end:
            raise _truncated(what, p - base, "tuple data")
        count = _u16(data, p)[0]
        if count != len(plan):
            relation = entry.relation
            raise _error(what, f"tuple of {count} columns for relation "
                               f"{relation.qualified_name} (OID {relation.oid}) of "
                               f"{len(plan)} columns")
        p += 2
        row: dict[str, Any] = {}
        name = ""
        i32 = _i32
        try:
            # The kinds as int literals (b"t"[0]...): constants are the
            # cheapest comparison in this loop, run once per column.
            for name, parse, decode in plan:
                if p >= end:
                    raise _truncated(what, p - base, f"tuple data (column {name!r})")
                kind = data[p]
                if kind == 116:  # 't': text format
                    if p + 5 > end:
                        raise _truncated(what, p - base, f"tuple data (column {name!r})")
                    n = i32(data, p + 1)[0]
                    p += 5
                    q = p + n
                    if n < 0 or q > end:
                        raise _truncated(what, p - base, f"value of column {name!r}")
                    if parse is None:
                        row[name] = data[p:q].decode("utf-8")
                    else:
                        row[name] = parse(data[p:q].decode("utf-8"))
                    p = q
                elif kind == 110:  # 'n': NULL
                    row[name] = None
                    p += 1
                elif kind == 98:  # 'b': binary format
                    if p + 5 > end:
                        raise _truncated(what, p - base, f"tuple data (column {name!r})")
                    n = i32(data, p + 1)[0]
                    p += 5
                    q = p + n
                    if n < 0 or q > end:
                        raise _truncated(what, p - base, f"value of column {name!r}")
                    row[name] = data[p:q] if decode is None else decode(data, p, n)
                    p = q
                elif kind == 117:  # 'u': unchanged TOASTed value, not sent
                    row[name] = UNCHANGED_TOAST
                    p += 1
                else:
                    raise _error(what, f"unknown tuple data kind {chr(kind)!r} for column "
                                       f"{name!r} at byte {p - base}")
        except PgoutputDecodeError:
            raise
        except Exception as exc:  # the value's parser or codec refused it
            raise _error(what, f"cannot decode column {name!r} of "
                               f"{entry.relation.qualified_name}: {exc}") from exc
        return row, p

    def _key(self, entry: _Entry, row: dict[str, Any]) -> dict[str, Any]:
        # 'K' tuples carry every column, those outside the replica identity
        # as NULL: keep the key columns (and anything else actually sent).
        keys = entry.keys
        if not keys:
            return row
        return {name: value for name, value in row.items() if name in keys or value is not None}

    # Each handler gets the data, the position after the type byte and the
    # position of the type byte (offsets in errors count from it).

    def _begin(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        self._outside_stream("Begin")
        _check_size("Begin", data, p, 20, base)
        final_lsn, xid = _BEGIN.unpack_from(data, p)
        return Begin(LSN(final_lsn), _time("Begin", data, p + 8, base, "commit time"), xid)

    def _commit(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        self._outside_stream("Commit")
        _check_size("Commit", data, p, 25, base)
        flags, commit_lsn, end_lsn = _COMMIT.unpack_from(data, p)
        return Commit(flags, LSN(commit_lsn), LSN(end_lsn),
                      _time("Commit", data, p + 17, base, "commit time"))

    def _origin(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        if len(data) - p < 8:
            raise _truncated("Origin", len(data) - base)
        origin_lsn = _u64(data, p)[0]
        name, p = _string("Origin", data, p + 8, base, "origin name")
        _check_end("Origin", data, p, base)
        return Origin(LSN(origin_lsn), name)

    def _stream_xid(self, what: str, data: bytes, p: int, base: int,
                    size: int) -> tuple[int | None, int]:
        """The xid streamed messages start with (None outside streams), after
        checking that ``size`` more bytes follow it."""
        if self._in_stream:
            if len(data) - p < 4 + size:
                raise _truncated(what, len(data) - base)
            return _u32(data, p)[0], p + 4
        if len(data) - p < size:
            raise _truncated(what, len(data) - base)
        return None, p

    def _relation(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Relation"
        xid, p = self._stream_xid(what, data, p, base, 4)
        oid = _u32(data, p)[0]
        schema, p = _string(what, data, p + 4, base, "namespace")
        name, p = _string(what, data, p, base, "relation name")
        if len(data) - p < 3:
            raise _truncated(what, len(data) - base)
        replica_identity = chr(data[p])
        count = _u16(data, p + 1)[0]
        p += 3
        columns = []
        for _ in range(count):
            if p >= len(data):
                raise _truncated(what, p - base, "column")
            flags = data[p]
            column_name, p = _string(what, data, p + 1, base, "column name")
            if len(data) - p < 8:
                raise _truncated(what, len(data) - base, f"column {column_name!r}")
            type_oid, type_modifier = _column(data, p)
            p += 8
            columns.append(RelationColumn(column_name, type_oid, type_modifier, bool(flags & 1)))
        _check_end(what, data, p, base)
        relation = Relation(oid, schema or "pg_catalog", name, replica_identity, tuple(columns),
                            xid)
        self.relations[oid] = relation
        self._entries[oid] = _Entry(relation)
        return relation

    def _type(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Type"
        xid, p = self._stream_xid(what, data, p, base, 4)
        oid = _u32(data, p)[0]
        schema, p = _string(what, data, p + 4, base, "namespace")
        name, p = _string(what, data, p, base, "type name")
        _check_end(what, data, p, base)
        message = Type(oid, schema or "pg_catalog", name, xid)
        self.types[oid] = message
        return message

    def _insert(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        if self._in_stream:
            if len(data) - p < 9:
                raise _truncated("Insert", len(data) - base)
            xid, oid = _u32_u32(data, p)
            p += 8
        else:
            if len(data) - p < 5:
                raise _truncated("Insert", len(data) - base)
            xid = None
            oid = _u32(data, p)[0]
            p += 4
        entry = self._entries.get(oid)
        if entry is None:
            raise _unknown_relation("Insert", oid)
        if data[p] != _NEW:
            raise _error("Insert", f"expected 'N' (new tuple) at byte {p - base}, "
                                   f"got {chr(data[p])!r}")
        new, p = self._tuple("Insert", entry, data, p + 1, base)
        if p != len(data):
            raise _trailing("Insert", data, p, base)
        return Insert(entry.relation, new, xid)

    def _update(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Update"
        xid, p = self._stream_xid(what, data, p, base, 5)
        entry = self._entry(what, _u32(data, p)[0])
        p += 4
        kind = data[p]
        old = key = None
        if kind == _OLD or kind == _KEY:
            row, p = self._tuple(what, entry, data, p + 1, base)
            if kind == _OLD:
                old = row
            else:
                key = self._key(entry, row)
            if p >= len(data):
                raise _truncated(what, p - base)
            kind = data[p]
        if kind != _NEW:
            raise _error(what, f"expected 'N' (new tuple) at byte {p - base}, got {chr(kind)!r}")
        new, p = self._tuple(what, entry, data, p + 1, base)
        _check_end(what, data, p, base)
        return Update(entry.relation, old, key, new, xid)

    def _delete(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Delete"
        xid, p = self._stream_xid(what, data, p, base, 5)
        entry = self._entry(what, _u32(data, p)[0])
        p += 4
        kind = data[p]
        if kind != _OLD and kind != _KEY:
            raise _error(what, f"expected 'O' (old tuple) or 'K' (key) at byte {p - base}, "
                               f"got {chr(kind)!r}")
        row, p = self._tuple(what, entry, data, p + 1, base)
        _check_end(what, data, p, base)
        if kind == _OLD:
            return Delete(entry.relation, row, None, xid)
        return Delete(entry.relation, None, self._key(entry, row), xid)

    def _truncate(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Truncate"
        xid, p = self._stream_xid(what, data, p, base, 5)
        count, options = _TRUNCATE.unpack_from(data, p)
        p += 5
        if count < 0:
            raise _error(what, f"negative number of relations ({count})")
        _check_size(what, data, p, 4 * count, base)
        relations = tuple(self._entry(what, oid).relation
                          for oid in struct.unpack_from(f"!{count}I", data, p))
        return Truncate(relations, bool(options & 1), bool(options & 2), xid)

    def _message(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Message"
        xid, p = self._stream_xid(what, data, p, base, 9)
        flags, lsn = _MESSAGE.unpack_from(data, p)
        prefix, p = _string(what, data, p + 9, base, "prefix")
        if len(data) - p < 4:
            raise _truncated(what, len(data) - base)
        n = _u32(data, p)[0]
        p += 4
        _check_size(what, data, p, n, base)
        return Message(bool(flags & 1), LSN(lsn), prefix, data[p:], xid)

    def _outside_stream(self, what: str) -> None:
        if self._in_stream:
            raise _error(what, "inside a streamed block (between Stream Start and Stream Stop)")

    def _stream_start(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        if self._in_stream:
            raise _error("Stream Start", "inside another streamed block")
        _check_size("Stream Start", data, p, 5, base)
        xid, first_segment = _STREAM_START.unpack_from(data, p)
        self._in_stream = True
        return StreamStart(xid, first_segment == 1)

    def _stream_stop(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        if not self._in_stream:
            raise _error("Stream Stop", "outside a streamed block")
        _check_size("Stream Stop", data, p, 0, base)
        self._in_stream = False
        return StreamStop()

    def _stream_commit(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Stream Commit"
        self._outside_stream(what)
        _check_size(what, data, p, 29, base)
        xid, flags, commit_lsn, end_lsn = _STREAM_COMMIT.unpack_from(data, p)
        return StreamCommit(xid, flags, LSN(commit_lsn), LSN(end_lsn),
                            _time(what, data, p + 21, base, "commit time"))

    def _stream_abort(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Stream Abort"
        self._outside_stream(what)
        if self.streaming_parallel:
            _check_size(what, data, p, 24, base)
            xid, subxid, abort_lsn = _STREAM_ABORT_PARALLEL.unpack_from(data, p)
            return StreamAbort(xid, subxid, LSN(abort_lsn),
                               _time(what, data, p + 16, base, "abort time"))
        _check_size(what, data, p, 8, base)
        xid, subxid = _STREAM_ABORT.unpack_from(data, p)
        return StreamAbort(xid, subxid)

    def _gid(self, what: str, data: bytes, p: int, base: int) -> str:
        gid, p = _string(what, data, p, base, "gid")
        _check_end(what, data, p, base)
        return gid

    def _fixed(self, what: str, data: bytes, p: int, base: int, size: int) -> None:
        self._outside_stream(what)
        if len(data) - p < size:
            raise _truncated(what, len(data) - base)

    def _begin_prepare(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Begin Prepare"
        self._fixed(what, data, p, base, 28)
        prepare_lsn, end_lsn, xid = _BEGIN_PREPARE.unpack_from(data, p)
        return BeginPrepare(LSN(prepare_lsn), LSN(end_lsn),
                            _time(what, data, p + 16, base, "prepare time"), xid,
                            self._gid(what, data, p + 28, base))

    def _prepare(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        return self._prepared(Prepare, "Prepare", data, p, base)

    def _stream_prepare(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        return self._prepared(StreamPrepare, "Stream Prepare", data, p, base)

    def _prepared(self, cls: type[_Prepared], what: str, data: bytes, p: int,
                  base: int) -> PgoutputMessage:
        self._fixed(what, data, p, base, 29)
        flags, prepare_lsn, end_lsn, xid = _PREPARE.unpack_from(data, p)
        return cls(flags, LSN(prepare_lsn), LSN(end_lsn),
                   _time(what, data, p + 17, base, "prepare time"), xid,
                   self._gid(what, data, p + 29, base))

    def _commit_prepared(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Commit Prepared"
        self._fixed(what, data, p, base, 29)
        flags, commit_lsn, end_lsn, xid = _PREPARE.unpack_from(data, p)
        return CommitPrepared(flags, LSN(commit_lsn), LSN(end_lsn),
                              _time(what, data, p + 17, base, "commit time"), xid,
                              self._gid(what, data, p + 29, base))

    def _rollback_prepared(self, data: bytes, p: int, base: int) -> PgoutputMessage:
        what = "Rollback Prepared"
        self._fixed(what, data, p, base, 37)
        flags, prepare_end_lsn, rollback_end_lsn, xid = _ROLLBACK_PREPARED.unpack_from(data, p)
        return RollbackPrepared(flags, LSN(prepare_end_lsn), LSN(rollback_end_lsn),
                                _time(what, data, p + 17, base, "prepare time"),
                                _time(what, data, p + 25, base, "rollback time"), xid,
                                self._gid(what, data, p + 37, base))


_HANDLERS: dict[int, _Handler] = {
    ord("B"): PgoutputDecoder._begin,
    ord("C"): PgoutputDecoder._commit,
    ord("O"): PgoutputDecoder._origin,
    ord("R"): PgoutputDecoder._relation,
    ord("Y"): PgoutputDecoder._type,
    ord("I"): PgoutputDecoder._insert,
    ord("U"): PgoutputDecoder._update,
    ord("D"): PgoutputDecoder._delete,
    ord("T"): PgoutputDecoder._truncate,
    ord("M"): PgoutputDecoder._message,
    ord("S"): PgoutputDecoder._stream_start,
    ord("E"): PgoutputDecoder._stream_stop,
    ord("c"): PgoutputDecoder._stream_commit,
    ord("A"): PgoutputDecoder._stream_abort,
    ord("b"): PgoutputDecoder._begin_prepare,
    ord("P"): PgoutputDecoder._prepare,
    ord("K"): PgoutputDecoder._commit_prepared,
    ord("r"): PgoutputDecoder._rollback_prepared,
    ord("p"): PgoutputDecoder._stream_prepare,
}
