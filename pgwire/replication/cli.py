"""``python -m pgwire.replication``: stream a logical slot as JSON lines, like ``pg_recvlogical``.

::

    python -m pgwire.replication -d "dbname=app" --slot s --create-slot --if-not-exists \\
        --publication pub --start

Each change is one JSON object on its own line (``lsn``, ``xid``,
``action``, ``schema``, ``table``, ``columns``, and ``key``/``old`` when
the server sends them); transactions are framed by ``begin`` and ``commit``
lines.  Values are the Python values the connection decodes, written as
JSON (dates ISO 8601, numerics and UUIDs as strings, bytea as ``\\x...``
hex); a TOASTed column that did not change is left out of ``columns`` and
named in ``unchanged_toast``.  With ``--plugin`` other than pgoutput each
message is ``{"lsn": ..., "data": ...}`` (the plugin's output as text).

A transaction is confirmed to the server once its commit line is written
and flushed (and, for a file, fsync'ed): a restart from the slot loses
nothing, and writes again at most what was written since the last
confirmation (after a crash).  Progress goes
to standard error; Ctrl-C (or SIGTERM) stops cleanly, confirming what was
written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import signal
import stat
import sys
import time
from collections.abc import Sequence
from typing import IO, Any

from .. import sync
from ..exceptions import DuplicateObjectError, Error
from ..types import pgoutput as po
from ..types.values import LSN


def _json_value(value: Any) -> Any:
    """What a row value that json cannot write becomes (the rest: its str())."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\x" + bytes(value).hex()
    if isinstance(value, tuple):  # Records, composite values
        return list(value)
    if isinstance(value, (set, frozenset)):
        return list(value)
    return str(value)


def _row(row: dict[str, Any] | None) -> tuple[dict[str, Any] | None, list[str]]:
    if row is None:
        return None, []
    unchanged = [name for name, value in row.items() if value is po.UNCHANGED_TOAST]
    if unchanged:
        row = {name: value for name, value in row.items() if value is not po.UNCHANGED_TOAST}
    return row, unchanged


class Writer:
    """Turns stream messages into JSON lines; knows what is durably written."""

    def __init__(self, out: IO[str], *, fsync: bool) -> None:
        self.out = out
        self.fsync = fsync
        self.xid: int | None = None
        self.changes = 0

    def line(self, obj: dict[str, Any]) -> None:
        # One write per line: an interrupt leaves no half line behind.
        self.out.write(json.dumps(obj, default=_json_value, ensure_ascii=False) + "\n")

    def durable(self) -> None:
        self.out.flush()
        if self.fsync:
            os.fsync(self.out.fileno())

    def pgoutput(self, msg: Any) -> bool:
        """Write ``msg``; True when it ends a transaction (time to confirm)."""
        kind = type(msg)
        lsn = str(msg.lsn) if msg.lsn is not None else None
        if kind is po.Insert or kind is po.Update or kind is po.Delete:
            relation = msg.relation
            obj: dict[str, Any] = {
                "lsn": lsn, "xid": msg.xid if msg.xid is not None else self.xid,
                "action": kind.__name__.lower(), "schema": relation.schema,
                "table": relation.name,
            }
            if kind is not po.Delete:
                columns, unchanged = _row(msg.new)
                obj["columns"] = columns
                if unchanged:
                    obj["unchanged_toast"] = unchanged
            if kind is not po.Insert:
                if msg.key is not None:
                    obj["key"] = _row(msg.key)[0]
                if msg.old is not None:
                    obj["old"] = _row(msg.old)[0]
            self.line(obj)
            self.changes += 1
            return False
        if kind is po.Begin:
            self.xid = msg.xid
            self.line({"lsn": lsn, "xid": msg.xid, "action": "begin",
                       "final_lsn": str(msg.final_lsn), "commit_time": msg.commit_time})
            return False
        if kind is po.Commit:
            self.line({"lsn": lsn, "xid": self.xid, "action": "commit",
                       "commit_lsn": str(msg.commit_lsn), "end_lsn": str(msg.end_lsn),
                       "commit_time": msg.commit_time})
            self.xid = None
            return True
        if kind is po.Truncate:
            self.line({"lsn": lsn, "xid": msg.xid if msg.xid is not None else self.xid,
                       "action": "truncate",
                       "tables": [[r.schema, r.name] for r in msg.relations],
                       "cascade": msg.cascade, "restart_identity": msg.restart_identity})
            self.changes += 1
            return False
        if kind is po.Message:
            try:
                content: Any = msg.content.decode("utf-8")
            except UnicodeDecodeError:
                content = "\\x" + msg.content.hex()
            self.line({"lsn": lsn, "xid": msg.xid if msg.xid is not None else self.xid,
                       "action": "message", "transactional": msg.transactional,
                       "prefix": msg.prefix, "content": content})
            return not msg.transactional and self.xid is None
        if kind is po.Relation or kind is po.Type:
            return False  # what later lines name; nothing to write
        # Streamed and two-phase transactions, origins: the message's fields.
        obj = {"lsn": lsn, "action": _snake(kind.__name__)}
        for name in kind._fields:
            if name != "lsn":
                obj[name] = getattr(msg, name)
        self.line(obj)
        return kind in (po.StreamCommit, po.CommitPrepared, po.RollbackPrepared,
                        po.Prepare, po.StreamPrepare, po.StreamAbort)

    def raw(self, msg: Any) -> bool:
        self.line({"lsn": str(msg.data_start),
                   "data": msg.payload.decode("utf-8", errors="replace")})
        self.changes += 1
        return True


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() and i else c.lower()
                   for i, c in enumerate(name))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m pgwire.replication",
        description="Stream a logical replication slot as JSON lines (pgoutput decoded).")
    parser.add_argument("-d", "--dbname", dest="conninfo", default="",
                        help="connection string or URI (libpq's; PG* variables apply)")
    parser.add_argument("-S", "--slot", required=True, help="the replication slot")
    parser.add_argument("--create-slot", action="store_true", help="create the slot")
    parser.add_argument("--if-not-exists", action="store_true",
                        help="with --create-slot: an existing slot is not an error")
    parser.add_argument("--drop-slot", action="store_true", help="drop the slot")
    parser.add_argument("--start", action="store_true", help="stream the slot")
    parser.add_argument("-P", "--plugin", default="pgoutput",
                        help="output plugin of a created slot (default pgoutput)")
    parser.add_argument("--publication", action="append", default=[],
                        help="pgoutput publication (repeat for several)")
    parser.add_argument("-o", "--option", action="append", default=[], metavar="NAME[=VALUE]",
                        help="an option for another plugin")
    parser.add_argument("-I", "--start-lsn", default="0/0", help="where to start (default: "
                        "where the slot stands)")
    parser.add_argument("-E", "--endpos", default=None,
                        help="stop after the first transaction ending at or past this LSN")
    parser.add_argument("--binary", action="store_true", help="pgoutput binary tuples")
    parser.add_argument("--messages", action="store_true", help="logical decoding messages")
    parser.add_argument("--streaming", choices=("off", "on", "parallel"), default="off")
    parser.add_argument("--two-phase", action="store_true",
                        help="two-phase transactions (a created slot too)")
    parser.add_argument("--proto-version", type=int, default=None)
    parser.add_argument("-f", "--file", default="-", help="output file (default: stdout)")
    parser.add_argument("-s", "--status-interval", type=float, default=10.0,
                        help="seconds between status updates (default 10)")
    parser.add_argument("--progress-interval", type=float, default=10.0,
                        help="seconds between progress lines on stderr (0: none)")
    args = parser.parse_args(argv)
    for name in ("start_lsn", "endpos"):
        value = getattr(args, name)
        if value is not None:
            try:
                setattr(args, name, LSN(value))
            except ValueError as exc:
                parser.error(f"--{name.replace('_', '-')}: {exc}")
    if args.status_interval <= 0:
        parser.error("--status-interval must be positive")
    if args.option and args.plugin == "pgoutput":
        parser.error("-o is for other plugins: pgoutput takes --publication, --binary, ...")
    if not (args.create_slot or args.drop_slot or args.start):
        parser.error("nothing to do: give --create-slot, --start and/or --drop-slot")
    if args.start and args.plugin == "pgoutput" and not args.publication:
        parser.error("pgoutput needs --publication")
    return args


def _plugin_options(pairs: list[str]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        options[name] = value if sep else None
    return options


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    err = sys.stderr
    try:
        conn = sync.connect(args.conninfo or None, replication="database")
    except (Error, OSError) as exc:
        print(f"pgwire.replication: could not connect: {exc}", file=err)
        return 1
    try:
        if args.create_slot:
            try:
                made = conn.create_replication_slot(
                    args.slot, plugin=args.plugin, two_phase=args.two_phase)
                print(f"pgwire.replication: created slot {made.slot_name} at "
                      f"{made.consistent_point}", file=err)
            except DuplicateObjectError:
                if not args.if_not_exists:
                    raise
        if args.start:
            code = _stream(conn, args)
            if code:
                return code
        if args.drop_slot:
            conn.drop_replication_slot(args.slot)
            print(f"pgwire.replication: dropped slot {args.slot}", file=err)
        return 0
    except Error as exc:
        print(f"pgwire.replication: {exc}", file=err)
        return 1
    finally:
        conn.close()


def _stream(conn: Any, args: argparse.Namespace) -> int:
    err = sys.stderr
    endpos = args.endpos
    pgoutput = args.plugin == "pgoutput"
    if pgoutput:
        stream = conn.logical_replication(
            args.slot, args.publication, start_lsn=args.start_lsn,
            proto_version=args.proto_version, binary=args.binary, messages=args.messages,
            streaming=args.streaming, two_phase=args.two_phase,
            status_interval=args.status_interval)
    else:
        stream = conn.start_replication(args.slot, start_lsn=args.start_lsn,
                                        options=_plugin_options(args.option),
                                        status_interval=args.status_interval)
    if args.file == "-":
        out: IO[str] = sys.stdout
        if hasattr(out, "reconfigure"):
            out.reconfigure(encoding="utf-8")
        # Redirected to a file, stdout is fsync'ed too (a pipe cannot be).
        try:
            durable_file = stat.S_ISREG(os.fstat(out.fileno()).st_mode)
        except (OSError, ValueError):
            durable_file = False
    else:
        out = open(args.file, "a", encoding="utf-8")
        durable_file = True
    writer = Writer(out, fsync=durable_file)
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    started = last_progress = time.monotonic()
    last_changes = 0
    pending: Any = None  # the last message ending a transaction, not confirmed yet
    last_sync = started
    try:
        try:
            while True:
                # Waits of a second at most: the pending transaction is made
                # durable and confirmed when the stream goes quiet, progress
                # is reported, and --endpos is seen on an idle stream too.
                msg = stream.get(timeout=1.0)
                now = time.monotonic()
                if msg is None:
                    if stream.is_done():
                        break
                    if pending is not None:
                        writer.durable()
                        last_sync = now
                        pending.confirm()
                        pending = None
                    # Quiet, and the server has read past --endpos: everything
                    # before it was sent and written (pg_recvlogical's rule).
                    if endpos is not None:
                        if stream.server_wal_end >= endpos:
                            break
                        stream.send_feedback(reply_requested=True)  # where are you?
                else:
                    done = writer.pgoutput(msg) if pgoutput else writer.raw(msg)
                    if done:
                        pending = msg
                        # Durable, then confirmed: a file is fsync'ed at most
                        # once a second, a pipe flushed at every transaction.
                        if not writer.fsync or now - last_sync >= 1.0:
                            writer.durable()
                            last_sync = now
                            msg.confirm()
                            pending = None
                        position = getattr(msg, "end_lsn", None) or msg.lsn
                        if endpos is not None and position is not None and position >= endpos:
                            break
                if args.progress_interval and now - last_progress >= args.progress_interval:
                    rate = (writer.changes - last_changes) / (now - last_progress)
                    lag = max(stream.server_wal_end - stream.confirmed_lsn, 0)
                    print(f"pgwire.replication: confirmed {stream.confirmed_lsn}, "
                          f"{writer.changes} changes ({rate:,.0f}/s), lag {lag} bytes",
                          file=err, flush=True)
                    last_progress, last_changes = now, writer.changes
        except KeyboardInterrupt:
            print("pgwire.replication: stopping", file=err)
        writer.durable()
        if pending is not None:
            pending.confirm()
        stream.stop()
    finally:
        signal.signal(signal.SIGTERM, previous)
        if out is not sys.stdout:
            out.close()
    print(f"pgwire.replication: stopped at {stream.confirmed_lsn}, {writer.changes} changes "
          f"in {time.monotonic() - started:.1f} s", file=err)
    return 0
