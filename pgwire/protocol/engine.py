"""The sans-I/O protocol engine: one connection's state machine.

An :class:`Engine` takes bytes received from the server and hands back bytes
to send and completed :class:`Operation` objects.  It never touches a socket,
a clock or an event loop, so the asyncio and blocking drivers share every
protocol flow and the flows can be tested with byte strings alone (h11's
way: bytes in, events out).

States
------
The engine is always in one :class:`EngineState`; which backend message may
arrive in which state, and the state it leads to, is written once in
``TRANSITIONS`` below (PostgreSQL docs, "Message Flow", section 54.2):

* ``STARTUP``: the StartupMessage went out; authentication requests and
  NegotiateProtocolVersion arrive until AuthenticationOk;
* ``AUTHENTICATED``: ParameterStatus and BackendKeyData until the first
  ReadyForQuery;
* ``READY``: idle, nothing pending;
* ``BUSY``: operations were sent and their responses are arriving;
* ``COPY_IN`` / ``COPY_OUT`` / ``COPY_BOTH``: a COPY sub-protocol (the
  server waits for CopyData, sends CopyData, or both: streaming replication);
* ``CLOSED``: for good; every pending operation failed.

Operations and events
---------------------
Operations are queued in the order they were sent; each consumes backend
messages until its ReadyForQuery.  A conversation need not end there to
deliver data: rows go to the operation's results as they arrive (a compiled
row decoder takes DataRows straight from the receive buffer), and CopyData
of a streaming operation (COPY TO, CopyBoth) is buffered on the operation
for the flow to take (:class:`StreamingOperation`).  Messages that can
arrive at any time (ParameterStatus, NoticeResponse, NotificationResponse)
are handled here and collected in :attr:`Engine.events`.

Bad input from the network (unknown or out-of-place messages, truncated
bodies, absurd lengths) raises nowhere: the engine moves to ``CLOSED``,
fails every pending operation with a :class:`ProtocolError` and the driver
drops the connection.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from typing import Any

from ..exceptions import (
    ConnectionDoesNotExistError,
    DataError,
    Error,
    InterfaceError,
    PostgresError,
    ProtocolError,
    exception_from_fields,
    notice_from_fields,
)
from . import session_state, wire
from .messages import parse_fields, parse_notification, parse_parameter_status
from .wire import MessageReader

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

# Backend message types, as C constants in the compiled build (engine.pxd).
_DATA_ROW = wire.DATA_ROW
# ParseComplete '1', BindComplete '2', CloseComplete '3': consecutive codes.
_PARSE_COMPLETE = wire.PARSE_COMPLETE
_CLOSE_COMPLETE = wire.CLOSE_COMPLETE
_NOTICE_RESPONSE = wire.NOTICE_RESPONSE
_NOTIFICATION_RESPONSE = wire.NOTIFICATION_RESPONSE
_PARAMETER_STATUS = wire.PARAMETER_STATUS
_ERROR_RESPONSE = wire.ERROR_RESPONSE
_COMMAND_COMPLETE = wire.COMMAND_COMPLETE
_SESSION_TAGS = session_state.SESSION_TAGS
_SESSION_TAG_FIRST_BYTES = session_state.SESSION_TAG_FIRST_BYTES
_LONGEST_SESSION_TAG = session_state.LONGEST_SESSION_TAG


class TransactionStatus(enum.Enum):
    """Transaction state reported by ReadyForQuery."""

    # Members are compared by identity: hash them by identity too, in C
    # (Enum's own __hash__ is Python code, run on every table lookup).
    __hash__ = object.__hash__

    IDLE = "I"
    IN_TRANSACTION = "T"
    IN_ERROR = "E"
    UNKNOWN = "?"


STATUS_BY_BYTE = {ord(s.value): s for s in TransactionStatus}


class EngineState(enum.Enum):
    """Where the conversation with the server stands (see the module docstring)."""

    __hash__ = object.__hash__  # see TransactionStatus

    STARTUP = "starting up"
    AUTHENTICATED = "authenticated"
    READY = "ready"
    BUSY = "busy"
    COPY_IN = "in COPY FROM STDIN"
    COPY_OUT = "in COPY TO STDOUT"
    COPY_BOTH = "in COPY BOTH"
    CLOSED = "closed"


_STARTUP = EngineState.STARTUP
_AUTHENTICATED = EngineState.AUTHENTICATED
_READY = EngineState.READY
_BUSY = EngineState.BUSY
_COPY_IN = EngineState.COPY_IN
_COPY_OUT = EngineState.COPY_OUT
_COPY_BOTH = EngineState.COPY_BOTH
_CLOSED = EngineState.CLOSED
_UNKNOWN_STATUS = TransactionStatus.UNKNOWN

# Events of the client's side, in the same table as the server's messages.
SEND = -1  # an operation's messages went out
AUTH_OK = -2  # AuthenticationOk arrived (an 'R' message with code 0)


def _kinds(letters: str) -> list[int]:
    return [ord(letter) for letter in letters]


# state -> {backend message type (or client event): next state}.  A message
# missing from its state's row is a protocol violation.  ParameterStatus,
# NoticeResponse and NotificationResponse may arrive in any state and do not
# change it.  Two refinements are made in code: a ReadyForQuery that leaves
# operations pending continues as READY + SEND (BUSY again), and an
# ErrorResponse while READY is a FATAL message before the server hangs up.
TRANSITIONS: dict[EngineState, dict[int, EngineState]] = {
    _STARTUP: {
        **dict.fromkeys(_kinds("Rv"), _STARTUP),  # authentication requests, protocol version
        AUTH_OK: _AUTHENTICATED,
        wire.ERROR_RESPONSE: _CLOSED,  # the server rejects us and hangs up
    },
    _AUTHENTICATED: {
        wire.BACKEND_KEY_DATA: _AUTHENTICATED,
        wire.READY_FOR_QUERY: _READY,
        wire.ERROR_RESPONSE: _CLOSED,
    },
    _READY: {
        SEND: _BUSY,
        wire.ERROR_RESPONSE: _CLOSED,
    },
    _BUSY: {
        # ParseComplete, BindComplete, CloseComplete, ParameterDescription,
        # RowDescription, NoData, DataRow, CommandComplete,
        # EmptyQueryResponse, PortalSuspended, ErrorResponse.
        **dict.fromkeys(_kinds("123tTnDCIsE"), _BUSY),
        SEND: _BUSY,
        wire.READY_FOR_QUERY: _READY,
        wire.COPY_IN_RESPONSE: _COPY_IN,
        wire.COPY_OUT_RESPONSE: _COPY_OUT,
        wire.COPY_BOTH_RESPONSE: _COPY_BOTH,
    },
    _COPY_IN: {
        SEND: _COPY_IN,
        # After our CopyDone (CommandComplete) or CopyFail, or on a failure
        # of the server's (ErrorResponse): back to normal responses.
        wire.COMMAND_COMPLETE: _BUSY,
        wire.ERROR_RESPONSE: _BUSY,
    },
    _COPY_OUT: {
        SEND: _COPY_OUT,
        wire.COPY_DATA: _COPY_OUT,
        wire.COPY_DONE: _BUSY,
        wire.ERROR_RESPONSE: _BUSY,
    },
    _COPY_BOTH: {
        SEND: _COPY_BOTH,
        wire.COPY_DATA: _COPY_BOTH,
        # The server stops streaming with CopyDone, but a walsender may still
        # send a keepalive before it reads ours (seen from PostgreSQL 15);
        # the stream ends with the command's results.
        wire.COPY_DONE: _COPY_BOTH,
        wire.ROW_DESCRIPTION: _BUSY,  # a physical stream's next timeline
        wire.COMMAND_COMPLETE: _BUSY,
        wire.ERROR_RESPONSE: _BUSY,
    },
    _CLOSED: {},
}


# The same table, typed for the compiled build (engine.pxd).
_ROWS = TRANSITIONS

#: What turns a DataRow body into a row (pgwire.types.rows.RowDecoder is one).
DecodeRow = Callable[[bytes], Any]


class Operation:
    """One unit of work: messages to send and the responses they produce."""

    __slots__ = ("done", "error", "transaction_status", "waiter")

    #: True for the operation that opens the session (startup, authentication).
    starts_session = False
    #: True when ParseComplete, BindComplete and CloseComplete need nothing
    #: from :meth:`handle`: the engine then skips it for them (one of each
    #: per statement of an extended-protocol batch).
    ignores_completions = False

    def __init__(self) -> None:
        self.done = False
        self.error: BaseException | None = None
        self.transaction_status = _UNKNOWN_STATUS
        #: What a driver waits on until the operation completes (the asyncio
        #: driver's future), or None; the engine never touches it.
        self.waiter: Any = None

    def messages(self) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:  # pragma: no cover
        """Consume one message; return True when the operation is complete."""
        raise NotImplementedError

    def abandon(self) -> None:
        """Nobody waits for this operation any more (timeout, cancellation):
        consume its remaining messages as cheaply as possible."""

    def progressed(self) -> bool:
        """True when the operation, still running, has something for its flow."""
        return False

    def fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self.done = True

    def set_error(self, exc: BaseException) -> None:
        """Record a failure; the first one wins (later ones are its consequences)."""
        if self.error is None:
            self.error = exc

    def row_sink(self) -> tuple[Callable[[bytes, int, int], Any], Callable[[Any], Any]] | None:
        """Where the DataRows arriving now go, for the engine's fast path.

        ``(decode_at, append)``: the engine passes each DataRow straight to
        ``append(decode_at(data, start, end))`` (the body is
        ``data[start:end]``) instead of :meth:`handle`, until another
        message arrives; an exception other than ProtocolError from
        ``decode_at`` goes to :meth:`set_error`.  None: DataRows go through
        :meth:`handle`.
        """
        return None

    def ready(self, body: bytes) -> bool:
        """Take the ReadyForQuery that ends the operation."""
        if len(body) != 1 or body[0] not in STATUS_BY_BYTE:
            raise ProtocolError(f"invalid ReadyForQuery status {body!r}")
        self.transaction_status = STATUS_BY_BYTE[body[0]]
        self.done = True
        return True


def decode_failure(exc: Exception) -> Exception:
    """What a query raises when a value could not be decoded: pgwire's own
    errors as they are, anything else (a ValueError from a text parser fed
    bytes the type never produces, a user codec's exception) as a
    :class:`~pgwire.DataError` naming it, the original as its cause.  The
    connection stays in step: the rest of the answer is read as usual."""
    if isinstance(exc, Error) or type(exc).__module__.startswith("pgwire."):
        return exc  # (pgwire's own, e.g. types.UnrepresentableValueError)
    wrapped = DataError(f"a value received could not be decoded: {type(exc).__name__}: {exc}")
    wrapped.__cause__ = exc
    return wrapped


class StreamingOperation(Operation):
    """An operation whose CopyData the flow takes while it runs (COPY TO, CopyBoth).

    Data waits in :attr:`chunks` (``buffered`` bytes in all) until
    :meth:`take`; a driver stops reading from the network while too much
    is buffered, so a slow consumer slows the server down instead of
    filling memory.
    """

    __slots__ = ("chunks", "buffered", "discarding")

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[bytes] = []
        self.buffered = 0
        self.discarding = False

    def push(self, data: bytes) -> None:
        if not self.discarding:
            self.chunks.append(data)
            self.buffered += len(data)

    def take(self) -> list[bytes]:
        """The data received since the last call (possibly none)."""
        chunks = self.chunks
        if chunks:
            self.chunks = []
            self.buffered = 0
        return chunks

    def progressed(self) -> bool:
        return bool(self.chunks)

    def abandon(self) -> None:
        self.discard()

    def discard(self) -> None:
        """Drop buffered and future data (the consumer is gone or failed)."""
        self.discarding = True
        self.chunks = []
        self.buffered = 0


class Engine:
    """Protocol state for one server connection, fed with bytes by a driver."""

    def __init__(self, max_message_size: int = wire.DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.state = _STARTUP
        self.parameters: dict[str, str] = {}
        self.backend_pid: int | None = None
        self.backend_secret: bytes | None = None
        self.transaction_status = _UNKNOWN_STATUS
        # Asked for by the Startup operation; lowered by NegotiateProtocolVersion.
        self.protocol_version = wire.PROTOCOL_3_0
        self.unrecognized_options: list[str] = []
        # Notices, notifications and errors that arrived outside any
        # operation, for the driver to deliver.
        self.events: list[Any] = []
        self.close_error: BaseException | None = None
        # Session state the server may hold since this was last cleared
        # (bits of pgwire.protocol.session_state): a pool resets only then.
        self.session_state = 0
        self._reader = MessageReader(max_message_size)
        self._pending: deque[Operation] = deque()
        self._out = bytearray()

    # -- state -------------------------------------------------------------

    def advance(self, event: int) -> None:
        """Follow the transition of ``event`` (a message type or a client
        event) from the current state; a missing one is a protocol error."""
        target = TRANSITIONS[self.state].get(event)
        if target is None:
            raise ProtocolError(f"unexpected message {_describe(event)} while {self.state.value}")
        self.state = target

    @property
    def protocol_minor(self) -> int:
        return self.protocol_version & 0xFFFF

    # -- sending -----------------------------------------------------------

    def queue(self, data: bytes) -> None:
        """Add raw bytes to the outgoing buffer (used by operations)."""
        self._out += data

    def send(self, op: Operation) -> None:
        """Queue an operation; its messages go out with the next data_to_send()."""
        state = self.state
        if state is _CLOSED:
            raise ConnectionDoesNotExistError("the connection is closed") from self.close_error
        if op.starts_session:
            if state is not _STARTUP or self._pending:
                raise InterfaceError("the session has started already")
            self.protocol_version = op.protocol_version  # type: ignore[attr-defined]
        elif state is _STARTUP or state is _AUTHENTICATED:
            raise InterfaceError("the connection is not ready: startup has not finished")
        else:
            self.state = TRANSITIONS[state][SEND]
        self._out += op.messages()
        self._pending.append(op)

    def data_to_send(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def terminate(self) -> bytes:
        """Return the Terminate message and move to closed."""
        self._close(ConnectionDoesNotExistError("the connection was closed by the client"))
        return wire.TERMINATE

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    @property
    def pending(self) -> tuple[Operation, ...]:
        """The operations sent and not yet complete, oldest first."""
        return tuple(self._pending)

    def abandon_pending(self) -> None:
        """Nobody waits for the pending operations: let them finish cheaply."""
        for op in self._pending:
            op.abandon()

    # -- receiving ---------------------------------------------------------

    @cython.locals(reader=MessageReader, kind=cython.Py_ssize_t)
    def receive_data(self, data: bytes) -> list[Operation]:
        """Process received bytes; return operations that completed."""
        if self.state is _CLOSED:
            return []
        completed: list[Operation] = []
        reader = self._reader
        reader.feed(data)
        # The fast path for a run of DataRows: see Operation.row_sink.
        decode_at: Callable[[bytes, int, int], Any] | None = None
        append: Callable[[Any], Any] | None = None
        sink_op: Operation | None = None
        try:
            while True:
                kind = reader.next_frame()
                if kind < 0:
                    break
                if kind == _DATA_ROW:
                    if decode_at is None and self._pending and self.state is _BUSY:
                        sink_op = self._pending[0]
                        sink = sink_op.row_sink()
                        if sink is not None:
                            decode_at, append = sink
                    if decode_at is not None:
                        try:
                            append(decode_at(reader.data, reader.start, reader.end))  # type: ignore[misc]
                        except ProtocolError:
                            raise
                        except Exception as exc:  # a codec failed: report it after Sync
                            sink_op.set_error(decode_failure(exc))  # type: ignore[union-attr]
                            decode_at = None
                        continue
                else:
                    decode_at = None
                    if (
                        _PARSE_COMPLETE <= kind <= _CLOSE_COMPLETE
                        and self.state is _BUSY
                        and self._pending
                        and self._pending[0].ignores_completions
                    ):
                        # ParseComplete/BindComplete/CloseComplete keep the
                        # state BUSY (TRANSITIONS) and the operation has
                        # nothing to do with them.
                        continue
                self._dispatch(kind, reader.data[reader.start : reader.end], completed)
                if self.state is _CLOSED:
                    break
        except ProtocolError as exc:
            completed.extend(self._close(exc))
        except (InterfaceError, PostgresError) as exc:
            # Authentication problems found on our side: the connection
            # cannot go on.
            completed.extend(self._close(exc))
        except Exception as exc:  # a parsing bug must not leave us half-way
            error = ProtocolError(f"failed to process a server message: {exc!r}")
            error.__cause__ = exc
            completed.extend(self._close(error))
        return completed

    def receive_eof(self, exc: BaseException | None = None) -> list[Operation]:
        """The server closed the connection (or the transport failed)."""
        if self.state is _CLOSED:
            return []
        error = exc or ConnectionDoesNotExistError("the server closed the connection unexpectedly")
        pending = self._pending
        if pending and exc is None:
            first = pending[0].error
            if first is not None and pending[0].starts_session:
                error = first
            elif isinstance(first, PostgresError) and _ends_session(first):
                # The server said why it hung up (FATAL: an administrator's
                # shutdown, a pooler refusing a transaction block) in answer
                # to the first operation in flight; the ones sent behind it
                # get that reason too, each as an exception of its own.
                for op in list(pending)[1:]:
                    op.set_error(exception_from_fields(first.fields, first.query))
                error = first
        return self._close(error)

    def _close(self, exc: BaseException) -> list[Operation]:
        self.state = _CLOSED
        self.close_error = exc
        failed = list(self._pending)
        self._pending.clear()
        for op in failed:
            op.fail(exc)
        return failed

    @cython.locals(row=dict, kind=cython.Py_ssize_t)
    def _dispatch(self, kind: int, body: bytes, completed: list[Operation]) -> None:
        if kind == _PARAMETER_STATUS:
            name, value = parse_parameter_status(body)
            self.parameters[name] = value
            self.session_state |= session_state.SETTINGS
            return
        if kind == _NOTICE_RESPONSE:
            self.events.append(notice_from_fields(parse_fields(body)))
            return
        if kind == _NOTIFICATION_RESPONSE:
            self.events.append(parse_notification(body))
            return
        # advance(kind), inline: this runs for every message but DataRow.
        state = self.state
        row = _ROWS[state]
        target = row.get(kind)
        if target is not state:  # most messages keep the state: skip the store
            if target is None:
                raise ProtocolError(f"unexpected message {_describe(kind)} while {state.value}")
            self.state = target
        pending = self._pending
        if not pending:
            # Only an ErrorResponse gets here (the READY row): e.g. FATAL
            # "terminating connection due to administrator command" sent to
            # an idle connection; the server closes next.
            error = exception_from_fields(parse_fields(body))
            self.events.append(error)
            self._close(error)
            return
        if (
            kind == _COMMAND_COMPLETE
            and len(body) <= _LONGEST_SESSION_TAG
            and body[0] in _SESSION_TAG_FIRST_BYTES
        ):
            self.session_state |= _SESSION_TAGS.get(body, 0)
        op = pending[0]
        if op.handle(self, kind, body):
            pending.popleft()
            completed.append(op)
            # Operations never move the engine: the state is still target.
            if target is _CLOSED:  # a startup that failed
                completed.extend(self._close(op.error or ProtocolError("startup failed")))
                return
            self.transaction_status = op.transaction_status
            if pending:
                self.state = _ROWS[target][SEND]
        elif target is _CLOSED:
            raise ProtocolError(f"message {_describe(kind)} should have ended the session")


def _ends_session(error: PostgresError) -> bool:
    """An ErrorResponse of severity FATAL or PANIC: the server closes next
    (PostgreSQL docs, "Error and Notice Message Fields": ``V``, else ``S``)."""
    fields = error.fields
    return (fields.get("V") or fields.get("S")) in ("FATAL", "PANIC")


def _describe(event: int) -> str:
    if event == SEND:
        return "(an operation sent)"
    if event == AUTH_OK:
        return "AuthenticationOk"
    return repr(chr(event))
