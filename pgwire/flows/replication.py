"""Replication conversations: the commands, and the stream with its feedback policy.

A connection opened with ``replication=database`` (logical) or
``replication=true`` (physical) takes the replication commands of
PostgreSQL docs, "Streaming Replication Protocol", through the simple
query protocol only.  This module builds their text (with the syntax of
the server's version), reads their answers into the values of
:mod:`pgwire.types.replication`, and runs ``START_REPLICATION``:

* :func:`start_stream_flow` sends it and waits for CopyBothResponse (or the
  server's refusal);
* :func:`receive_flow` waits for stream data up to a given time;
* :class:`StreamState` is the sans-I/O side of a stream: it parses what
  arrived (XLogData, primary keepalives), decodes payloads, keeps the
  positions received, handed out and confirmed, and says when a standby
  status update is due and what it reports.  The API layer owns the clock
  and the waiting.
* :func:`stop_stream_flow` ends the stream (CopyDone both ways) and leaves
  the connection ready for the next command.

The feedback policy (see :class:`StreamState`): a status update whenever the
server asks for one and every ``status_interval`` seconds; it reports as
flushed only what the consumer confirmed -- never more -- except that a
logical stream whose every handed-out message is confirmed takes the
server's keepalive position as confirmed too, so an idle or filtered
publication does not hold WAL back forever (as ``pg_recvlogical`` does).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..exceptions import InterfaceError, ProtocolError
from ..protocol import replication as rp
from ..protocol import wire
from ..protocol.operations import CopyBoth
from ..types import pgoutput
from ..types.replication import (
    IdentifySystem,
    ReplicationSlot,
    SlotInfo,
    TimelineHistory,
    XLogData,
    timestamp_from_microseconds,
)
from ..types.values import LSN
from .requests import Deadline, Flow, Progress, Start, Write

# Slot names: lower-case letters, digits and underscores (slot.c,
# ReplicationSlotValidateName); they then need no quoting.
_SLOT_NAME = re.compile(r"[a-z0-9_]{1,63}")
SNAPSHOT_ACTIONS = ("export", "use", "nothing")


def server_major(parameters: Mapping[str, str]) -> int:
    """The server's major version from its ``server_version`` parameter (0 if unknown)."""
    match = re.match(r"\d+", parameters.get("server_version", ""))
    return int(match[0]) if match else 0


def check_slot_name(name: Any) -> str:
    """``name`` checked, as a quoted identifier: the replication grammar reads
    a bare name starting with a digit as a number (repl_scanner.l)."""
    if not isinstance(name, str) or not _SLOT_NAME.fullmatch(name):
        raise InterfaceError(
            f"invalid replication slot name {name!r}: up to 63 lower-case letters, digits "
            "and underscores")
    return f'"{name}"'


def quote_identifier(name: str) -> str:
    if "\x00" in name:
        raise InterfaceError("names cannot contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


def quote_sql_literal(value: str) -> str:
    """A string literal for an ordinary SQL query, right whatever
    standard_conforming_strings says (an ``E''`` literal)."""
    if "\x00" in value:
        raise InterfaceError("names cannot contain NUL characters")
    return "E'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def quote_literal(value: str) -> str:
    if "\x00" in value:
        raise InterfaceError("replication option values cannot contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def _option_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value
    raise InterfaceError(
        f"replication option values are str, int or bool, got {type(value).__qualname__}")


def check_lsn(value: Any, name: str = "start_lsn") -> LSN:
    if isinstance(value, LSN):
        return value
    try:
        return LSN(value)
    except (TypeError, ValueError) as exc:
        raise InterfaceError(f"{name}: {exc}") from None


# -- commands ----------------------------------------------------------------


def create_slot_sql(name: str, *, plugin: str | None, temporary: bool, two_phase: bool,
                    failover: bool, snapshot: str | None, reserve_wal: bool,
                    major: int) -> str:
    """``CREATE_REPLICATION_SLOT`` for the server's version (the option list
    form of PostgreSQL 15+, the older keywords before)."""
    slot = check_slot_name(name)
    if snapshot is not None and snapshot not in SNAPSHOT_ACTIONS:
        raise InterfaceError(f"snapshot must be one of {', '.join(SNAPSHOT_ACTIONS)}, "
                             f"got {snapshot!r}")
    head = f"CREATE_REPLICATION_SLOT {slot}{' TEMPORARY' if temporary else ''}"
    if plugin is None:
        if two_phase or failover or snapshot is not None:
            raise InterfaceError("two_phase, failover and snapshot apply to logical slots "
                                 "(give plugin=...)")
        if major and major < 15:
            return head + " PHYSICAL" + (" RESERVE_WAL" if reserve_wal else "")
        return head + " PHYSICAL" + (" (RESERVE_WAL true)" if reserve_wal else "")
    if not isinstance(plugin, str) or not plugin:
        raise InterfaceError(f"plugin must be an output plugin's name, got {plugin!r}")
    if reserve_wal:
        raise InterfaceError("reserve_wal applies to physical slots")
    if failover and major and major < 17:
        raise InterfaceError("failover slots need PostgreSQL 17 or later")
    if two_phase and major and major < 15:
        raise InterfaceError("two_phase slots need PostgreSQL 15 or later")
    head += f" LOGICAL {quote_identifier(plugin)}"
    if major and major < 15:
        keyword = {"export": " EXPORT_SNAPSHOT", "use": " USE_SNAPSHOT",
                   "nothing": " NOEXPORT_SNAPSHOT", None: ""}[snapshot]
        return head + keyword
    options = []
    if snapshot is not None:
        options.append(f"SNAPSHOT {quote_literal(snapshot)}")
    if two_phase:
        options.append("TWO_PHASE true")
    if failover:
        options.append("FAILOVER true")
    return head + (f" ({', '.join(options)})" if options else "")


def alter_slot_sql(name: str, *, failover: bool | None, two_phase: bool | None,
                   major: int) -> str:
    slot = check_slot_name(name)
    if major and major < 17:
        raise InterfaceError("ALTER_REPLICATION_SLOT needs PostgreSQL 17 or later")
    options = []
    if failover is not None:
        options.append(f"FAILOVER {'true' if failover else 'false'}")
    if two_phase is not None:
        if major and major < 18:
            raise InterfaceError("altering two_phase needs PostgreSQL 18 or later")
        options.append(f"TWO_PHASE {'true' if two_phase else 'false'}")
    if not options:
        raise InterfaceError("alter_replication_slot() needs failover= or two_phase=")
    return f"ALTER_REPLICATION_SLOT {slot} ({', '.join(options)})"


def start_logical_sql(slot: str, start_lsn: LSN, options: Mapping[str, Any]) -> str:
    quoted = check_slot_name(slot)
    parts = []
    for key, value in options.items():
        if not isinstance(key, str) or not key or "\x00" in key:
            raise InterfaceError(f"invalid output plugin option name {key!r}")
        if value is None:
            parts.append(quote_identifier(key))
        else:
            parts.append(f"{quote_identifier(key)} {quote_literal(_option_value(value))}")
    tail = f" ({', '.join(parts)})" if parts else ""
    return f"START_REPLICATION SLOT {quoted} LOGICAL {start_lsn}{tail}"


def start_physical_sql(slot: str | None, start_lsn: LSN, timeline: int | None) -> str:
    head = "START_REPLICATION"
    if slot is not None:
        head += f" SLOT {check_slot_name(slot)}"
    if timeline is not None and (isinstance(timeline, bool) or not isinstance(timeline, int)
                                 or timeline <= 0):
        raise InterfaceError(f"timeline must be a positive int, got {timeline!r}")
    return f"{head} PHYSICAL {start_lsn}" + (f" TIMELINE {timeline}" if timeline else "")


def pgoutput_options(publications: Iterable[str], *, proto_version: int, binary: bool,
                     messages: bool, streaming: str | bool, two_phase: bool,
                     origin: str | None) -> dict[str, Any]:
    """pgoutput's options (PostgreSQL docs, "Logical Streaming Replication
    Parameters"), checked against the protocol version they need."""
    if isinstance(publications, str):
        publications = [publications]
    names = list(publications)
    if not names or not all(isinstance(n, str) and n for n in names):
        raise InterfaceError("publications must name at least one publication")
    if proto_version not in (1, 2, 3, 4):
        raise InterfaceError(f"proto_version must be 1 to 4, got {proto_version!r}")
    options: dict[str, Any] = {
        "proto_version": str(proto_version),
        "publication_names": ",".join(quote_identifier(n) for n in names),
    }
    if binary:
        options["binary"] = True
    if messages:
        options["messages"] = True
    mode: Any = streaming
    if isinstance(streaming, bool):
        mode = "on" if streaming else "off"
    if mode not in ("on", "off", "parallel"):
        raise InterfaceError(f"streaming must be off, on or parallel, got {streaming!r}")
    if mode != "off":
        needed = 4 if mode == "parallel" else 2
        if proto_version < needed:
            raise InterfaceError(f"streaming={mode} needs proto_version {needed} or later")
        options["streaming"] = mode
    if two_phase:
        if proto_version < 3:
            raise InterfaceError("two_phase needs proto_version 3 or later")
        options["two_phase"] = True
    if origin is not None:
        if origin not in ("any", "none"):
            raise InterfaceError(f"origin must be 'any' or 'none', got {origin!r}")
        options["origin"] = origin
    return options


def default_proto_version(major: int) -> int:
    """The newest pgoutput protocol the server speaks (2: 14, 3: 15, 4: 16+)."""
    if major >= 16:
        return 4
    if major == 15:
        return 3
    if major == 14:
        return 2
    return 1


def _rows(results: list[Any]) -> list[Any]:
    return [row for result in results for row in result.rows]


def _lsn_or_none(text: Any) -> LSN | None:
    return None if text is None else LSN(str(text))


def identify_system_answer(results: list[Any]) -> IdentifySystem:
    rows = _rows(results)
    if len(rows) != 1 or len(rows[0]) < 4:
        raise ProtocolError("IDENTIFY_SYSTEM answered with an unexpected result")
    systemid, timeline, xlogpos, dbname = rows[0][:4]
    return IdentifySystem(str(systemid), int(timeline), LSN(str(xlogpos)),
                          None if dbname is None else str(dbname))


def create_slot_answer(results: list[Any]) -> ReplicationSlot:
    rows = _rows(results)
    if len(rows) != 1 or len(rows[0]) < 4:
        raise ProtocolError("CREATE_REPLICATION_SLOT answered with an unexpected result")
    name, point, snapshot, plugin = rows[0][:4]
    return ReplicationSlot(str(name), LSN(str(point)), snapshot, plugin)


def read_slot_answer(results: list[Any]) -> SlotInfo:
    rows = _rows(results)
    if len(rows) != 1 or len(rows[0]) < 3:
        raise ProtocolError("READ_REPLICATION_SLOT answered with an unexpected result")
    slot_type, restart_lsn, tli = rows[0][:3]
    return SlotInfo(slot_type, _lsn_or_none(restart_lsn), None if tli is None else int(tli))


def timeline_history_answer(results: list[Any]) -> TimelineHistory:
    """From the raw rows (``decode_rows=False``): the walsender sends the
    file's bytes as they are, though it labels the column bytea."""
    rows = [rp.parse_data_row(row) for row in _rows(results)]
    if len(rows) != 1 or len(rows[0]) < 2 or rows[0][0] is None:
        raise ProtocolError("TIMELINE_HISTORY answered with an unexpected result")
    filename, content = rows[0][0], rows[0][1]
    return TimelineHistory(bytes(filename or b"").decode("utf-8"), content or b"")


def next_timeline_of(op: CopyBoth) -> tuple[int, LSN] | None:
    """After a physical stream ended at the end of its timeline, the result
    set the server sent: the next timeline and where it starts."""
    for result in op.results:
        for row in result.rows:
            values = rp.parse_data_row(bytes(row)) if isinstance(row, (bytes, bytearray)) else row
            if len(values) >= 2 and values[0] is not None and values[1] is not None:
                first, second = values[0], values[1]
                if isinstance(first, (bytes, bytearray)):
                    first = first.decode()
                if isinstance(second, (bytes, bytearray)):
                    second = second.decode()
                return int(first), LSN(str(second))
    return None


def publication_types_flow(session: Any, publications: Iterable[str]) -> Flow[None]:
    """Look up the user types of the publications' columns before streaming:
    once the stream runs, the connection can ask nothing more.  (Types
    added to a published table later arrive as text, or as bytes in binary
    mode.)"""
    names = ", ".join(quote_sql_literal(name) for name in publications)
    sql = (
        "SELECT DISTINCT a.atttypid FROM pg_catalog.pg_publication_tables pt "
        "JOIN pg_catalog.pg_namespace n ON n.nspname = pt.schemaname "
        "JOIN pg_catalog.pg_class c ON c.relnamespace = n.oid AND c.relname = pt.tablename "
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 "
        f"AND NOT a.attisdropped WHERE pt.pubname = ANY (ARRAY[{names}]::text[])"
    )
    op = yield from session.simple_query_flow(sql, decode_rows=True)
    type_oids = [int(row[0]) for result in op.results for row in result.rows]
    yield from session.introspect_flow(type_oids)


# -- the stream --------------------------------------------------------------


def start_stream_flow(sql: str) -> Flow[CopyBoth]:
    """Send ``START_REPLICATION``; return the operation once the server streams.

    A refusal (no such slot, a slot in use, a bad option) raises the
    server's error, and the connection is ready for the next command.
    """
    op = CopyBoth(sql)
    yield Start(op)
    while not op.streaming and not op.done:
        yield Progress(op)
    if op.done:
        if op.error is not None:
            raise op.error
        raise InterfaceError(f"the server did not start streaming for {sql!r}")
    return op


def receive_flow(op: CopyBoth, wait: float | None) -> Flow[list[bytes]]:
    """What the stream delivered, waiting at most ``wait`` seconds for it
    (an empty list when that time passed, or when the stream ended)."""
    chunks = op.take()
    if chunks or op.done:
        return chunks
    if wait is not None:
        yield Deadline(max(wait, 0.0))
    try:
        yield Progress(op)
    except TimeoutError:
        pass
    return op.take()


def send_flow(body: bytes) -> Flow[None]:
    """Send one CopyData message on the stream (a status update)."""
    yield Write(wire.copy_data(body))


def stop_stream_flow(op: CopyBoth, last_status: bytes | None) -> Flow[CopyBoth]:
    """End the stream: a last status update, CopyDone; then wait for the
    command to complete.  When we stop first, what the server still sends
    is dropped; when the server stopped first, it sends nothing more (and
    still takes our CopyData until our CopyDone: PostgreSQL docs, "COPY
    Operations")."""
    if not op.server_done:
        # We stop first: decided now, before writing (a write may read the
        # server's last data and its CopyDone meanwhile).
        op.discard()
    if not op.done and not op.client_done:
        if last_status is not None:
            yield Write(wire.copy_data(last_status))
        yield Write(op.end())
    while not op.done:
        op.take()  # nothing more is handed out; Progress waits for the end
        yield Progress(op)
    return op


class StreamState:
    """The sans-I/O side of one replication stream.

    ``decode(body, offset)`` turns the payload of an XLogData body (from
    ``offset`` on) into the message handed to the consumer (pgoutput's
    decoder), or is None to hand out
    :class:`~pgwire.types.replication.XLogData` as it is.  Positions:

    * ``received``: the end of the WAL data seen (XLogData starts, and the
      server's keepalive positions);
    * ``confirmed``: what the consumer said it has processed (monotonic);
    * ``handed_out``: the position of the last message handed out.
    """

    def __init__(self, decode: Callable[[bytes, int], Any] | None, *, logical: bool,
                 status_interval: float, advance_when_idle: bool) -> None:
        self.decode = decode
        self.logical = logical
        self.status_interval = status_interval
        self.advance_when_idle = advance_when_idle and logical
        self.pending: deque[Any] = deque()
        self.incoming: deque[bytes] = deque()  # CopyData bodies not processed yet
        self.received = 0
        self.confirmed = 0
        self.handed_out = 0
        self.server_wal_end = 0
        self.reply_requested = False
        self.last_status_at: float | None = None
        self.messages = 0  # XLogData messages received
        self.stream_handle: Any = None  # given to messages, for their confirm()

    # -- what arrived --

    def feed(self, chunks: list[bytes]) -> None:
        """Parse and decode what the stream delivered, in order.

        The chunks wait in :attr:`incoming` and each leaves it only once it
        was processed: an interrupt (KeyboardInterrupt on the blocking API)
        in the middle loses nothing, and the next ``feed`` goes on from there.
        """
        incoming = self.incoming
        incoming.extend(chunks)
        pending = self.pending
        decode = self.decode
        while incoming:
            body = incoming[0]
            if not body:
                raise ProtocolError("empty CopyData in a replication stream")
            kind = body[0]
            if kind == rp.XLOG_DATA:
                data_start, wal_end, send_time = rp.parse_xlog_header(body)
                if decode is None:
                    message: Any = XLogData(
                        LSN(data_start), LSN(wal_end), timestamp_from_microseconds(send_time),
                        body[rp.XLOG_HEADER_SIZE:], self.stream_handle)
                else:
                    # (the payload is decoded where it lies: no copy)
                    message = decode(body, rp.XLOG_HEADER_SIZE)
                    message.lsn = LSN(data_start)
                    message._stream = self.stream_handle
                pending.append(message)
                incoming.popleft()
                self.messages += 1
                end = data_start if self.logical else (
                    data_start + len(body) - rp.XLOG_HEADER_SIZE)
                if end > self.received:
                    self.received = end
                if wal_end > self.server_wal_end:
                    self.server_wal_end = wal_end
            elif kind == rp.PRIMARY_KEEPALIVE:
                wal_end, _, reply = rp.parse_keepalive(body)
                incoming.popleft()
                if wal_end > self.server_wal_end:
                    self.server_wal_end = wal_end
                if self.logical and not pending and self.handed_out <= self.confirmed:
                    # Everything before this keepalive was handed out and
                    # confirmed: its position is the consumer's too.  Sound
                    # because a logical walsender's keepalive carries sentPtr,
                    # the end of the last record it decoded: never past the
                    # commit record of a transaction not yet sent in full,
                    # and a restart skips only transactions whose commit
                    # record starts before the confirmed position
                    # (SnapBuildXactNeedsSkip in snapbuild.c).
                    if wal_end > self.received:
                        self.received = wal_end
                    if self.advance_when_idle and wal_end > self.confirmed:
                        self.confirmed = wal_end
                if reply:
                    self.reply_requested = True
            else:
                raise ProtocolError(
                    f"unknown replication stream message {chr(kind)!r} ({len(body)} bytes)")

    def next_message(self) -> Any:
        """The next message for the consumer, or None when none is buffered."""
        if not self.pending:
            return None
        message = self.pending.popleft()
        position = message_position(message, self.logical)
        if position > self.handed_out:
            self.handed_out = position
        return message

    # -- what the consumer says --

    def confirm(self, lsn: Any) -> None:
        """The consumer processed everything up to ``lsn``."""
        position = check_lsn(lsn, "lsn")
        # (not the server's end of WAL: WAL it has and we have not received)
        seen = max(self.received, self.handed_out)
        if position > seen:
            raise InterfaceError(
                f"cannot confirm {position}: the stream has not reached it (last seen {LSN(seen)})")
        if position > self.confirmed:
            self.confirmed = position

    # -- feedback --

    def status_due(self, now: float) -> bool:
        return (self.reply_requested or self.last_status_at is None
                or now - self.last_status_at >= self.status_interval)

    def seconds_until_status(self, now: float) -> float:
        if self.last_status_at is None or self.reply_requested:
            return 0.0
        return max(self.status_interval - (now - self.last_status_at), 0.0)

    def status_message(self, now: float, *, reply_requested: bool = False) -> bytes:
        """The standby status update to send now (and note that it was)."""
        self.last_status_at = now
        self.reply_requested = False
        # Written, flushed and applied: what the consumer confirmed; pgwire
        # itself keeps nothing durable (a synchronous standby with
        # remote_write must not be acknowledged from a buffer).  0
        # (InvalidXLogRecPtr) is ignored by the server: nothing confirmed yet.
        done = self.confirmed
        return rp.standby_status_update(done, done, done, reply_requested=reply_requested)


def message_position(message: Any, logical: bool) -> int:
    """The position confirming ``message`` reports: the end of what a
    message that closes a transaction (commit, prepare, rollback prepared)
    closes, else the start of the data it came in (its end, for physical WAL).

    A Begin Prepare also has an ``end_lsn`` -- of the transaction it opens:
    confirming that before the transaction is processed would skip it on a
    restart, so it counts by its position like any other message."""
    if not logical:
        if isinstance(message, XLogData):
            return int(message.data_end)
        return int(getattr(message, "lsn", 0) or 0)
    kind = type(message)
    if kind in _CLOSES_BY_END_LSN:
        return int(message.end_lsn)
    if kind is pgoutput.RollbackPrepared:
        return int(message.rollback_end_lsn)
    return int(getattr(message, "lsn", 0) or 0)


_CLOSES_BY_END_LSN = frozenset({pgoutput.Commit, pgoutput.StreamCommit, pgoutput.Prepare,
                                pgoutput.StreamPrepare, pgoutput.CommitPrepared})
