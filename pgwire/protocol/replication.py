"""The messages of a replication stream, inside CopyData: parsed and built.

After ``START_REPLICATION`` the connection is in CopyBoth mode (PostgreSQL
docs, "Streaming Replication Protocol"); every CopyData body starts with a
byte naming what it carries:

* from the server, ``w`` **XLogData** (the start of the WAL data in it, the
  server's current end of WAL, its clock, then the data: WAL bytes for a
  physical stream, one output plugin message for a logical one) and ``k``
  **Primary keepalive** (end of WAL, clock, and whether the server wants an
  answer now);
* from the client, ``r`` **Standby status update** (the positions written,
  flushed and applied, the client's clock, and whether the client wants a
  keepalive back) and ``h`` **Hot standby feedback** (physical only).

Clocks are microseconds since 2000-01-01 UTC.  This module only packs and
unpacks bytes: no clock, no socket.
"""

from __future__ import annotations

import struct
import time

from ..exceptions import ProtocolError

XLOG_DATA = ord("w")
PRIMARY_KEEPALIVE = ord("k")

# 'w', then data start, WAL end, send time (Int64 each): 25 bytes of header.
_XLOG_HEADER = struct.Struct("!xQQq")
XLOG_HEADER_SIZE = _XLOG_HEADER.size
# 'k', WAL end, send time, reply requested (Byte1).
_KEEPALIVE = struct.Struct("!xQqB")
_STATUS_UPDATE = struct.Struct("!cQQQqB")
_HOT_STANDBY_FEEDBACK = struct.Struct("!cqIIII")

#: Seconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC).
POSTGRES_EPOCH_SECONDS = 946_684_800


def now_microseconds() -> int:
    """The wall clock as a replication message carries it."""
    return time.time_ns() // 1000 - POSTGRES_EPOCH_SECONDS * 1_000_000


def parse_xlog_header(body: bytes) -> tuple[int, int, int]:
    """``(data_start, wal_end, send_time)`` of an XLogData body; the data
    follows at :data:`XLOG_HEADER_SIZE`."""
    if len(body) < XLOG_HEADER_SIZE:
        raise ProtocolError(f"XLogData of {len(body)} bytes: shorter than its header")
    return _XLOG_HEADER.unpack_from(body)


def parse_keepalive(body: bytes) -> tuple[int, int, bool]:
    """``(wal_end, send_time, reply_requested)`` of a primary keepalive."""
    if len(body) != _KEEPALIVE.size:
        raise ProtocolError(f"primary keepalive of {len(body)} bytes, expected {_KEEPALIVE.size}")
    wal_end, send_time, reply = _KEEPALIVE.unpack(body)
    return wal_end, send_time, reply != 0


def standby_status_update(written: int, flushed: int, applied: int, *,
                          clock: int | None = None, reply_requested: bool = False) -> bytes:
    """The CopyData body of a standby status update.

    The server uses ``flushed`` to advance a slot (``confirmed_flush_lsn``
    for a logical slot, ``restart_lsn`` for a physical one): WAL before it
    may be removed, so it must never be ahead of what the consumer has made
    durable.
    """
    return _STATUS_UPDATE.pack(b"r", written, flushed, applied,
                               now_microseconds() if clock is None else clock,
                               1 if reply_requested else 0)


def hot_standby_feedback(xmin: int, xmin_epoch: int, catalog_xmin: int = 0,
                         catalog_xmin_epoch: int = 0, *, clock: int | None = None) -> bytes:
    """The CopyData body of a hot standby feedback message (physical streams)."""
    return _HOT_STANDBY_FEEDBACK.pack(b"h", now_microseconds() if clock is None else clock,
                                      xmin, xmin_epoch, catalog_xmin, catalog_xmin_epoch)


def parse_data_row(body: bytes) -> list[bytes | None]:
    """The column values of a DataRow body, raw (PostgreSQL docs, "Message
    Formats"): what the few replication answers read without a decoder
    (the raw content of a timeline history file, the next timeline)."""
    try:
        (count,) = struct.unpack_from("!h", body)
        pos = 2
        values: list[bytes | None] = []
        for _ in range(count):
            (length,) = struct.unpack_from("!i", body, pos)
            pos += 4
            if length < 0:
                values.append(None)
                continue
            if pos + length > len(body):
                raise ProtocolError("DataRow shorter than its values")
            values.append(body[pos:pos + length])
            pos += length
    except struct.error:
        raise ProtocolError("truncated DataRow") from None
    if pos != len(body):
        raise ProtocolError("trailing bytes in DataRow")
    return values
