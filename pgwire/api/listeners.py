"""Listeners: who is told about notifications, notices and the connection's end.

A :class:`Listeners` registry belongs to one connection.  The driver hands it
the events the engine collected (:meth:`Listeners.dispatch`) whether they
arrive during a query or while the connection is idle; each callback runs
through the API's ``call`` function (the asyncio API runs a coroutine
function's result as a task; the blocking API refuses coroutine functions
when they are added).  A callback that raises is logged, never raised into
the query that happened to read the event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, NamedTuple

from ..exceptions import InterfaceError, PostgresLogMessage
from ..flows.sqltext import quote_ident
from ..protocol.messages import Notification

log = logging.getLogger("pgwire")

_LOG_LEVELS = {"WARNING": logging.WARNING, "NOTICE": logging.INFO, "INFO": logging.INFO}

Callback = Callable[..., Any]


def call_logged(callback: Callback, *args: Any) -> Any:
    """Run one listener; an exception in it is logged, never raised here."""
    try:
        return callback(*args)
    except Exception:
        log.exception("pgwire: a listener callback raised an exception")
        return None


class LoggedQuery(NamedTuple):
    """What a query logger receives (asyncpg's ``LoggedQuery``): one query run
    on the connection, after it ended."""

    query: str
    args: Any
    timeout: float | None
    elapsed: float
    #: the exception the query raised, else None
    exception: BaseException | None
    conn_addr: Any
    conn_params: Any


class Listeners:
    """The listeners of one connection (``owner`` is what callbacks receive first)."""

    __slots__ = ("owner", "call", "channels", "log_listeners", "termination_listeners",
                 "unsettled", "_terminated")

    def __init__(self, call: Callable[..., None]) -> None:
        self.owner: Any = None
        self.call = call
        self.channels: dict[str, list[Callback]] = {}
        self.log_listeners: list[Callback] = []
        self.termination_listeners: list[Callback] = []
        # Channels LISTENed or UNLISTENed inside a transaction block: a
        # rollback (of it, or of a savepoint) undoes that on the server.
        self.unsettled: set[str] = set()
        self._terminated = False

    # -- events from the server ------------------------------------------------

    def dispatch(self, events: list[Any]) -> None:
        call = self.call
        for event in events:
            if isinstance(event, Notification):
                for callback in list(self.channels.get(event.channel, ())):
                    call(callback, self.owner, event.pid, event.channel, event.payload)
            elif isinstance(event, PostgresLogMessage):
                if self.log_listeners:
                    for callback in list(self.log_listeners):
                        call(callback, self.owner, event)
                else:
                    severity = getattr(event, "severity_en", None) or "LOG"
                    log.log(_LOG_LEVELS.get(severity, logging.DEBUG), "%s: %s",
                            severity, getattr(event, "message", event))

    def terminated(self) -> None:
        """The connection closed, for whatever reason: tell each listener once."""
        if self._terminated:
            return
        self._terminated = True
        for callback in list(self.termination_listeners):
            self.call(callback, self.owner)

    # -- registration ------------------------------------------------------------

    def listen(self, channel: str, callback: Callback) -> str | None:
        """Register a listener; return LISTEN when it is the channel's first."""
        if not callable(callback):
            raise InterfaceError(f"listener callback must be callable, got {callback!r}")
        quoted = quote_ident(channel)
        callbacks = self.channels.setdefault(channel, [])
        callbacks.append(callback)
        return f"LISTEN {quoted}" if len(callbacks) == 1 else None

    def unlisten(self, channel: str, callback: Callback) -> str | None:
        """Unregister a listener; return UNLISTEN when none is left for the channel."""
        callbacks = self.channels.get(channel)
        if not callbacks or callback not in callbacks:
            return None
        callbacks.remove(callback)
        if callbacks:
            return None
        del self.channels[channel]
        return f"UNLISTEN {quote_ident(channel)}"

    def settle_statement(self) -> str | None:
        """After a transaction block: LISTEN / UNLISTEN again what was changed
        inside it (a no-op for the server where it committed), so the server
        listens exactly to the channels that have callbacks."""
        if not self.unsettled:
            return None
        statements = [
            f"{'LISTEN' if channel in self.channels else 'UNLISTEN'} {quote_ident(channel)}"
            for channel in sorted(self.unsettled)
        ]
        self.unsettled.clear()
        return "; ".join(statements)

    def clear(self) -> None:
        """Forget every listener (a pool hands the connection to someone else)."""
        self.unsettled.clear()
        self.channels.clear()
        self.log_listeners.clear()
        self.termination_listeners.clear()

    def add_log_listener(self, callback: Callback) -> None:
        if not callable(callback):
            raise InterfaceError(f"log listener must be callable, got {callback!r}")
        self.log_listeners.append(callback)

    def remove_log_listener(self, callback: Callback) -> None:
        if callback in self.log_listeners:
            self.log_listeners.remove(callback)

    def add_termination_listener(self, callback: Callback) -> None:
        if not callable(callback):
            raise InterfaceError(f"termination listener must be callable, got {callback!r}")
        self.termination_listeners.append(callback)

    def remove_termination_listener(self, callback: Callback) -> None:
        if callback in self.termination_listeners:
            self.termination_listeners.remove(callback)
