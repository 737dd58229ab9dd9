"""Values that replication commands and streams return.

The answers of the replication commands (PostgreSQL docs, "Streaming
Replication Protocol": ``IDENTIFY_SYSTEM``, ``CREATE_REPLICATION_SLOT``,
``READ_REPLICATION_SLOT``, ``TIMELINE_HISTORY``) as named tuples with LSNs
as :class:`~pgwire.types.values.LSN`, and :class:`XLogData`, one piece of
a stream as it arrived (WAL bytes of a physical stream, or the payload of
an output plugin other than pgoutput).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, NamedTuple

from .values import LSN

__all__ = ["IdentifySystem", "ReplicationSlot", "SlotInfo", "TimelineHistory", "XLogData",
           "timestamp_from_microseconds"]

_POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)


def timestamp_from_microseconds(us: int) -> datetime:
    """A replication message's clock (microseconds since 2000-01-01 UTC) as a datetime;
    values beyond what datetime holds are clamped to its limits."""
    try:
        return _POSTGRES_EPOCH + timedelta(microseconds=us)
    except OverflowError:
        return (datetime.max if us > 0 else datetime.min).replace(tzinfo=timezone.utc)


class IdentifySystem(NamedTuple):
    """``IDENTIFY_SYSTEM``: which cluster, timeline and WAL position the server is at."""

    systemid: str
    timeline: int
    xlogpos: LSN
    #: the database of a logical replication connection (None for physical)
    dbname: str | None


class ReplicationSlot(NamedTuple):
    """``CREATE_REPLICATION_SLOT``'s answer."""

    slot_name: str
    #: where the slot became consistent: stream from here to miss nothing
    consistent_point: LSN
    #: the exported snapshot (``snapshot='export'``), else None
    snapshot_name: str | None
    #: the output plugin of a logical slot, None for a physical one
    output_plugin: str | None


class SlotInfo(NamedTuple):
    """``READ_REPLICATION_SLOT``'s answer (PostgreSQL 15+; physical slots)."""

    slot_type: str | None
    restart_lsn: LSN | None
    restart_tli: int | None


class TimelineHistory(NamedTuple):
    """``TIMELINE_HISTORY``'s answer: the history file of a timeline."""

    filename: str
    content: bytes


class XLogData:
    """One XLogData message of a stream, undecoded.

    ``data_start`` is the WAL position of the data (for a logical stream, of
    the change the plugin wrote it for), ``wal_end`` the server's end of WAL
    when it sent it, ``send_time`` its clock then.  :meth:`confirm` tells the
    stream this data is processed (durably): the next status update reports
    it as flushed.
    """

    __slots__ = ("data_start", "wal_end", "send_time", "payload", "_stream")

    def __init__(self, data_start: LSN, wal_end: LSN, send_time: datetime, payload: bytes,
                 stream: Any = None) -> None:
        self.data_start = data_start
        self.wal_end = wal_end
        self.send_time = send_time
        self.payload = payload
        self._stream = stream

    @property
    def lsn(self) -> LSN:
        """Where the data starts (``confirm()`` reports the end of the data
        on a physical stream, its start on a logical one)."""
        return self.data_start

    @property
    def data_end(self) -> LSN:
        """The WAL position just past the data (physical streams)."""
        return LSN(self.data_start + len(self.payload))

    def confirm(self) -> None:
        """Report this data as processed; see the stream's ``confirm()``."""
        if self._stream is None:
            raise ValueError("this XLogData does not belong to a stream")
        self._stream.confirm_message(self)

    def __repr__(self) -> str:
        return (f"XLogData(data_start={self.data_start}, wal_end={self.wal_end}, "
                f"{len(self.payload)} bytes)")
