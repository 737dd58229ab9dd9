"""Replication, in one place: the messages a stream hands out, and a CLI.

``conn.logical_replication(slot, publications)`` (on a connection opened
with ``replication="database"``) yields the pgoutput messages named here
(:class:`Begin`, :class:`Insert`, :class:`Update`, :class:`Delete`,
:class:`Truncate`, :class:`Commit`, ...), rows as dicts of Python values;
``conn.start_replication(...)`` (other output plugins) and
``conn.physical_replication(...)`` yield :class:`XLogData`.  A column
whose TOASTed value did not change is :data:`UNCHANGED_TOAST`, never None.
:class:`PgoutputDecoder` also works on its own, fed payload bytes.

``python -m pgwire.replication`` streams a slot as JSON lines, in the spirit
of ``pg_recvlogical`` (see :mod:`pgwire.replication.cli`).
"""

from __future__ import annotations

from ..types.pgoutput import (
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
from ..types.replication import IdentifySystem, ReplicationSlot, SlotInfo, TimelineHistory, XLogData
from ..types.values import LSN

__all__ = [
    "LSN",
    "UNCHANGED_TOAST",
    "Begin",
    "BeginPrepare",
    "Commit",
    "CommitPrepared",
    "Delete",
    "IdentifySystem",
    "Insert",
    "Message",
    "Origin",
    "PgoutputDecodeError",
    "PgoutputDecoder",
    "PgoutputMessage",
    "Prepare",
    "Relation",
    "RelationColumn",
    "ReplicationSlot",
    "RollbackPrepared",
    "SlotInfo",
    "StreamAbort",
    "StreamCommit",
    "StreamPrepare",
    "StreamStart",
    "StreamStop",
    "TimelineHistory",
    "Truncate",
    "Type",
    "UnchangedToast",
    "Update",
    "XLogData",
]
