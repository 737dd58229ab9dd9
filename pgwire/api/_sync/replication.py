# Generated from pgwire/api/_async/replication.py by scripts/unasync.py: edit that file, not this one.
"""Replication streams on the asyncio API: ``for msg in conn.logical_replication(...)``.

A :class:`ReplicationStream` runs ``START_REPLICATION`` on a replication
connection and hands out what arrives: pgoutput messages decoded into
Python values (:mod:`pgwire.replication`), or
:class:`~pgwire.types.replication.XLogData` for physical streams and other
output plugins.  It answers the server by itself (see
:mod:`pgwire.flows.replication` for the policy): a standby status update
when the server asks and every ``status_interval`` seconds, also while the
consumer's own code is busy (a background task), reporting as flushed only
what the consumer confirmed with ``msg.confirm()`` or
``stream.confirm(lsn)``.

While the stream runs it holds the connection: other calls on it raise
InterfaceError.  ``stream.stop()`` (or leaving ``async with``) ends
it with CopyDone both ways and a last status update, and the connection
takes commands again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from ...exceptions import InterfaceError, PostgresError
from ...flows.replication import (
    StreamState,
    alter_slot_sql,
    check_lsn,
    check_slot_name,
    create_slot_answer,
    create_slot_sql,
    default_proto_version,
    identify_system_answer,
    message_position,
    next_timeline_of,
    pgoutput_options,
    publication_types_flow,
    read_slot_answer,
    receive_flow,
    send_flow,
    server_major,
    start_logical_sql,
    start_physical_sql,
    start_stream_flow,
    stop_stream_flow,
    timeline_history_answer,
)
from ...protocol.operations import CopyBoth
from ...types.pgoutput import PgoutputDecoder
from ...types.replication import IdentifySystem, ReplicationSlot, SlotInfo, TimelineHistory
from ...types.values import LSN
from ..flavours import SyncFlavour as flavour
from ..pooling import check_timeout
from .runner import Runner

__all__ = ["ReplicationCommands", "ReplicationStream"]

log = logging.getLogger("pgwire.replication")

_NEW, _STREAMING, _STOPPING, _DONE = "new", "streaming", "stopping", "done"


class ReplicationStream:
    """One ``START_REPLICATION`` stream; iterate over it for its messages.

    Made by :meth:`Connection.logical_replication`,
    :meth:`Connection.start_replication` and
    :meth:`Connection.physical_replication`; it starts at the first
    iteration or at ``async with``.
    """

    def __init__(self, runner: Runner, sql: str, state: StreamState, *,
                 prepare: Callable[[], Any] | None = None) -> None:
        self._runner = runner
        self._sql = sql
        self._state = state
        state.stream_handle = self
        self._prepare = prepare
        self._phase = _NEW
        self._op: CopyBoth | None = None
        self._lock = flavour.Lock()
        self._stopped = flavour.Wakeup()
        self._feedback: Any = None

    # -- positions -------------------------------------------------------------

    @property
    def received_lsn(self) -> LSN:
        """How far the stream has delivered WAL (or, for a logical stream,
        the server's position once everything before it was handed out)."""
        return LSN(self._state.received)

    @property
    def confirmed_lsn(self) -> LSN:
        """What status updates report as flushed: what the consumer confirmed."""
        return LSN(self._state.confirmed)

    @property
    def server_wal_end(self) -> LSN:
        """The server's end of WAL, as it last reported it."""
        return LSN(self._state.server_wal_end)

    def is_done(self) -> bool:
        """The stream has ended (stopped, or ended by the server) and every
        message it received was handed out."""
        return self._phase is _DONE and not self._state.pending

    @property
    def messages_received(self) -> int:
        """How many WAL data messages (XLogData) the stream has received;
        keepalives are not counted."""
        return self._state.messages

    @property
    def decoder(self) -> Any:
        """The pgoutput decoder of a logical stream (its ``relations``...), else None."""
        return getattr(self._state.decode, "__self__", None)

    def confirm(self, lsn: Any) -> None:
        """Everything up to ``lsn`` is processed (durably, if it matters to
        you): the next status update reports it as flushed, and the server
        may then drop the WAL before it.  Positions only move forward."""
        self._state.confirm(lsn)

    def confirm_message(self, message: Any) -> None:
        """Confirm one message handed out by this stream (``msg.confirm()``):
        a commit by its end, anything else by its position."""
        self._state.confirm(message_position(message, self._state.logical))

    # -- running ---------------------------------------------------------------

    def _start(self) -> None:
        if self._phase is not _NEW:
            raise InterfaceError("this replication stream has already run: start a new one")
        runner = self._runner
        if self._prepare is not None:
            self._prepare()  # before the stream holds the connection
        runner.begin_stream(self)
        self._phase = _STREAMING
        try:
            self._op = runner.run_stream(start_stream_flow(self._sql))
        except BaseException as exc:
            self._phase = _DONE
            if not isinstance(exc, PostgresError):
                # Interrupted before the server answered: out of step.
                runner.terminate()
            runner.end_stream()
            raise
        self._feedback = flavour.background(self._feedback_loop)

    def __iter__(self) -> ReplicationStream:
        return self

    def __next__(self) -> Any:
        message = self.get()
        if message is None:
            raise StopIteration
        return message

    def get(self, timeout: float | None = None) -> Any:
        """The next message; None when the stream has ended, or when
        ``timeout`` seconds passed without one (the stream goes on: status
        updates keep being sent meanwhile).  What iteration calls."""
        if self._phase is _NEW:
            self._start()
        state = self._state
        limit = check_timeout(timeout)
        deadline = None if limit is None else flavour.clock() + limit
        while True:
            message = state.next_message()
            if message is not None:
                return message
            if self._phase is not _STREAMING:
                return None
            wait = None if deadline is None else deadline - flavour.clock()
            if wait is not None and wait <= 0:
                return None
            self._receive(wait)

    def _receive(self, wait: float | None) -> None:
        self._lock.acquire()
        try:
            if self._phase is not _STREAMING:
                return
            op = self._op
            assert op is not None
            state = self._state
            runner = self._runner
            try:
                now = flavour.clock()
                if state.status_due(now):
                    self._send_status(now)
                until_status = state.seconds_until_status(flavour.clock())
                # Interrupting this wait is harmless: the data stays with the
                # operation, and feed() keeps what it has not processed.
                chunks = runner.run_stream(receive_flow(
                    op, until_status if wait is None else min(wait, until_status)))
                state.feed(chunks)
                if state.reply_requested:
                    self._send_status(flavour.clock())
            except Exception:
                # Lost connection, malformed stream data, a payload the
                # decoder refuses: the stream cannot go on from here.
                self._abort()
                raise
            if op.server_done or op.done:
                self._finish(op)
        finally:
            self._lock.release()

    def _send_status(self, now: float, *, reply_requested: bool = False) -> None:
        body = self._state.status_message(now, reply_requested=reply_requested)
        try:
            self._runner.run_stream(send_flow(body))
        except BaseException:
            # A message half sent would leave the stream out of step.
            self._abort()
            raise

    def send_feedback(self, *, reply_requested: bool = False) -> None:
        """Send a status update now (say, right after confirming), instead of
        at the next interval; ``reply_requested`` asks the server for a keepalive."""
        if self._phase is not _STREAMING:
            raise InterfaceError("the replication stream is not running")
        self._lock.acquire()
        try:
            if self._phase is _STREAMING:
                self._send_status(flavour.clock(), reply_requested=reply_requested)
        finally:
            self._lock.release()

    def _feedback_loop(self) -> None:
        """Status updates while the consumer's own code runs: the server
        must hear from a live consumer within wal_sender_timeout.  (On
        asyncio, while that code awaits something; a loop that never
        yields stops every task.)"""
        state = self._state
        while self._phase is _STREAMING and not self._runner.is_closed():
            flavour.wait_wakeup(self._stopped, max(state.status_interval / 4, 0.05))
            if self._phase is not _STREAMING:
                break
            if not state.status_due(flavour.clock()):
                continue
            if not self._lock.try_acquire():
                continue  # the consumer is waiting for data: it answers itself
            try:
                if self._phase is _STREAMING and not self._runner.is_closed():
                    self._send_status(flavour.clock())
            except Exception as exc:
                log.warning("pgwire.replication: sending a status update failed: %s", exc)
                break
            finally:
                self._lock.release()

    def _finish(self, op: CopyBoth) -> None:
        """The server ended the stream: hand out what came before its end,
        answer with the last status update and CopyDone, read it to its end."""
        self._phase = _STOPPING
        try:
            self._state.feed(op.take())
            last = self._state.status_message(flavour.clock())
            self._runner.run_stream(stop_stream_flow(op, last))
        except BaseException:
            self._abort()
            raise
        self._done()
        if op.error is not None:
            raise op.error

    def stop(self, *, timeout: float | None = None) -> None:
        """End the stream: a last status update, CopyDone, and the rest of
        what the server sends is read and dropped (the server finishes the
        transaction it is sending first).  The connection then takes
        commands again.  Messages received and not handed out are dropped.
        After ``timeout`` seconds (or if interrupted) the connection is
        closed instead."""
        if self._phase is _NEW:
            self._phase = _DONE
            return
        if self._phase is not _STREAMING:
            return
        limit = check_timeout(timeout)
        try:
            self._stopped.set()
            self._lock.acquire(limit)
            try:
                if self._phase is not _STREAMING:
                    return  # the server ended it meanwhile
                self._phase = _STOPPING
                op = self._op
                assert op is not None
                last = None
                if not self._runner.is_closed() and not op.done:
                    last = self._state.status_message(flavour.clock())
                self._runner.run_stream(stop_stream_flow(op, last), limit)
                self._state.pending.clear()
                self._done()
            finally:
                self._lock.release()
        except BaseException as exc:
            self._abort()
            if isinstance(exc, TimeoutError):
                raise flavour.TimeoutError(
                    f"the replication stream did not stop within {timeout} s: "
                    "the connection was closed") from None
            raise
        if op.error is not None:
            raise op.error

    @property
    def next_timeline(self) -> tuple[int, LSN] | None:
        """After a physical stream reached the end of its timeline: the next
        timeline and where it starts (the server's answer), else None."""
        return None if self._op is None else next_timeline_of(self._op)

    def _done(self) -> None:
        self._phase = _DONE
        self._stopped.set()
        self._runner.end_stream()

    def _abort(self) -> None:
        """Something failed mid-stream: the connection cannot be trusted to
        be in step, so it is closed (nothing unconfirmed was reported)."""
        if self._phase is _DONE:
            return
        self._phase = _DONE
        self._stopped.set()
        self._runner.terminate()
        self._runner.end_stream()

    def __enter__(self) -> ReplicationStream:
        self._start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        if exc is not None and not isinstance(exc, Exception):
            # Cancelled (or interrupted): no waiting for the server now.
            self._abort()
            return
        self.stop()

    def __repr__(self) -> str:
        return (f"<ReplicationStream {self._phase} received={self.received_lsn} "
                f"confirmed={self.confirmed_lsn}>")



class ReplicationCommands:
    """The replication commands as :class:`~pgwire.Connection` methods
    (PostgreSQL docs, "Streaming Replication Protocol"), for connections
    opened with ``replication='database'`` (logical) or ``'true'`` (physical)."""

    _runner: Runner

    def _replication_mode(self, what: str) -> str:
        mode = self._runner.session.replication
        if mode is None:
            raise InterfaceError(
                f"{what} needs a replication connection: connect with "
                "replication='database' (logical) or replication='true' (physical)")
        return str(mode)

    def _server_major(self) -> int:
        return server_major(self._runner.engine.parameters)

    def _command(self, sql: str, timeout: float | None, *,
                       decode: bool = True) -> list[Any]:
        session = self._runner.session
        op = self._runner.run(session.simple_query_flow(sql, decode_rows=decode), timeout)
        return op.results

    def identify_system(self, *, timeout: float | None = None) -> IdentifySystem:
        """``IDENTIFY_SYSTEM``: system id, timeline, current WAL position, database."""
        self._replication_mode("identify_system()")
        return identify_system_answer(self._command("IDENTIFY_SYSTEM", timeout))

    def create_replication_slot(
        self, slot_name: str, *, plugin: str | None = None, temporary: bool = False,
        two_phase: bool = False, failover: bool = False, snapshot: str | None = None,
        reserve_wal: bool = False, timeout: float | None = None,
    ) -> ReplicationSlot:
        """Create a slot: logical with ``plugin`` (e.g. ``"pgoutput"``), else
        physical.  ``snapshot``: ``"export"`` (its name is returned, usable
        with ``SET TRANSACTION SNAPSHOT`` while this connection waits),
        ``"use"`` (for the transaction running on this connection) or
        ``"nothing"``; ``two_phase`` (15+), ``failover`` (17+); ``reserve_wal``
        for a physical slot."""
        self._replication_mode("create_replication_slot()")
        sql = create_slot_sql(slot_name, plugin=plugin, temporary=temporary,
                              two_phase=two_phase, failover=failover, snapshot=snapshot,
                              reserve_wal=reserve_wal, major=self._server_major())
        return create_slot_answer(self._command(sql, timeout))

    def drop_replication_slot(self, slot_name: str, *, wait: bool = False,
                                    timeout: float | None = None) -> None:
        """Drop a slot; ``wait`` waits for a slot in use to be released instead of failing."""
        self._replication_mode("drop_replication_slot()")
        sql = f"DROP_REPLICATION_SLOT {check_slot_name(slot_name)}" + (" WAIT" if wait else "")
        self._command(sql, timeout)

    def read_replication_slot(self, slot_name: str, *,
                                    timeout: float | None = None) -> SlotInfo:
        """``READ_REPLICATION_SLOT`` (PostgreSQL 15+): type, restart LSN and
        timeline of a physical slot (all None when there is no such slot)."""
        self._replication_mode("read_replication_slot()")
        sql = f"READ_REPLICATION_SLOT {check_slot_name(slot_name)}"
        return read_slot_answer(self._command(sql, timeout))

    def alter_replication_slot(self, slot_name: str, *, failover: bool | None = None,
                                     two_phase: bool | None = None,
                                     timeout: float | None = None) -> None:
        """``ALTER_REPLICATION_SLOT``: ``failover`` (17+), ``two_phase`` (18+)."""
        self._replication_mode("alter_replication_slot()")
        sql = alter_slot_sql(slot_name, failover=failover, two_phase=two_phase,
                             major=self._server_major())
        self._command(sql, timeout)

    def timeline_history(self, timeline: int, *,
                               timeout: float | None = None) -> TimelineHistory:
        """``TIMELINE_HISTORY``: the history file of ``timeline`` (not of timeline 1)."""
        self._replication_mode("timeline_history()")
        if isinstance(timeline, bool) or not isinstance(timeline, int) or timeline <= 0:
            raise InterfaceError(f"timeline must be a positive int, got {timeline!r}")
        return timeline_history_answer(self._command(f"TIMELINE_HISTORY {timeline}",
                                                           timeout, decode=False))

    def logical_replication(
        self, slot_name: str, publications: Iterable[str] | str, *,
        start_lsn: Any = 0, proto_version: int | None = None, binary: bool = False,
        messages: bool = False, streaming: str | bool = False, two_phase: bool = False,
        origin: str | None = None, status_interval: float = 10.0,
        advance_when_idle: bool = True,
    ) -> ReplicationStream:
        """Stream a pgoutput slot, decoded: ``for msg in
        conn.logical_replication("slot", ["pub"]):`` yields
        :mod:`pgwire.replication` messages (``Begin``, ``Insert`` with
        ``.relation`` and ``.new``, ``Commit``...), rows as dicts of Python
        values.  ``start_lsn`` 0: where the slot stands.  Call
        ``msg.confirm()`` (or ``stream.confirm(lsn)``) once a change is
        processed; only that is reported to the server as flushed
        (``advance_when_idle``: and the server's position while everything
        handed out is confirmed).  ``proto_version`` defaults to the newest
        the server speaks."""
        mode = self._replication_mode("logical_replication()")
        if mode != "database":
            raise InterfaceError("logical replication needs replication='database'")
        if isinstance(publications, str):
            publications = [publications]
        names = list(publications)
        major = self._server_major()
        if origin is not None and major and major < 16:
            raise InterfaceError("the origin option needs PostgreSQL 16 or later")
        version = default_proto_version(major) if proto_version is None else proto_version
        options = pgoutput_options(names, proto_version=version, binary=binary,
                                   messages=messages, streaming=streaming,
                                   two_phase=two_phase, origin=origin)
        sql = start_logical_sql(slot_name, check_lsn(start_lsn), options)
        runner = self._runner
        decoder = PgoutputDecoder(runner.session.registry, protocol_version=version,
                                  streaming_parallel=options.get("streaming") == "parallel")
        state = StreamState(decoder.decode, logical=True,
                            status_interval=_check_interval(status_interval),
                            advance_when_idle=advance_when_idle)

        def prepare() -> None:
            runner.run(publication_types_flow(runner.session, names))

        return ReplicationStream(runner, sql, state, prepare=prepare)

    def start_replication(
        self, slot_name: str, *, start_lsn: Any = 0, options: dict[str, Any] | None = None,
        status_interval: float = 10.0, advance_when_idle: bool = True,
    ) -> ReplicationStream:
        """Stream a logical slot of any output plugin (test_decoding,
        wal2json...), undecoded: yields
        :class:`~pgwire.types.replication.XLogData` (``.payload`` bytes,
        ``.data_start``) with the same feedback policy.  ``options`` are the
        plugin's (a value None sends the name alone)."""
        mode = self._replication_mode("start_replication()")
        if mode != "database":
            raise InterfaceError("logical replication needs replication='database'")
        sql = start_logical_sql(slot_name, check_lsn(start_lsn), options or {})
        state = StreamState(None, logical=True, status_interval=_check_interval(status_interval),
                            advance_when_idle=advance_when_idle)
        return ReplicationStream(self._runner, sql, state)

    def physical_replication(
        self, slot_name: str | None = None, *, start_lsn: Any, timeline: int | None = None,
        status_interval: float = 10.0,
    ) -> ReplicationStream:
        """Stream WAL (``replication='true'``): yields
        :class:`~pgwire.types.replication.XLogData` with the WAL bytes and
        their ``data_start``/``data_end``; ``msg.confirm()`` reports the WAL
        up to its end as written, flushed and applied.  ``start_lsn`` is
        required (``(conn.identify_system()).xlogpos`` is the server's
        current position)."""
        mode = self._replication_mode("physical_replication()")
        if mode == "database":
            raise InterfaceError("physical replication needs replication='true'")
        sql = start_physical_sql(slot_name, check_lsn(start_lsn), timeline)
        state = StreamState(None, logical=False, status_interval=_check_interval(status_interval),
                            advance_when_idle=False)
        return ReplicationStream(self._runner, sql, state)


def _check_interval(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise InterfaceError(f"status_interval must be a positive number of seconds, "
                             f"got {value!r}")
    return float(value)
