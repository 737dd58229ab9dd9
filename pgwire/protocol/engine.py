"""The sans-I/O protocol engine: one connection's state machine.

An :class:`Engine` takes bytes received from the server and hands back bytes
to send and completed :class:`Operation` objects.  It never touches a socket,
a clock or an event loop, so the asyncio and blocking drivers share every
protocol flow and the flows can be tested with byte strings alone.

Operations are queued in the order they were sent; each consumes backend
messages until its ReadyForQuery (or, for startup, until the first one).
Messages that can arrive at any time (ParameterStatus, NoticeResponse,
NotificationResponse) are handled by the engine itself and collected as
events.  See PostgreSQL docs, "Message Flow" (section 55.2).

Bad input from the network (unknown or out-of-place messages, truncated
bodies, absurd lengths) raises nowhere: the engine moves to ``closed``,
fails every pending operation with a :class:`ProtocolError` and the driver
drops the connection.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import (
    ConnectionDoesNotExistError,
    InterfaceError,
    PostgresError,
    ProtocolError,
    exception_from_fields,
    notice_from_fields,
)
from . import wire
from .auth import ScramSha256, md5_password
from .wire import BodyReader, MessageReader

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

# Backend message types, as C constants in the compiled build (protocol.pxd).
_DATA_ROW = wire.DATA_ROW
_AUTHENTICATION = wire.AUTHENTICATION
_BACKEND_KEY_DATA = wire.BACKEND_KEY_DATA
_BIND_COMPLETE = wire.BIND_COMPLETE
_CLOSE_COMPLETE = wire.CLOSE_COMPLETE
_COMMAND_COMPLETE = wire.COMMAND_COMPLETE
_COPY_BOTH_RESPONSE = wire.COPY_BOTH_RESPONSE
_COPY_DATA = wire.COPY_DATA
_COPY_DONE = wire.COPY_DONE
_COPY_IN_RESPONSE = wire.COPY_IN_RESPONSE
_COPY_OUT_RESPONSE = wire.COPY_OUT_RESPONSE
_EMPTY_QUERY_RESPONSE = wire.EMPTY_QUERY_RESPONSE
_ERROR_RESPONSE = wire.ERROR_RESPONSE
_NEGOTIATE_PROTOCOL_VERSION = wire.NEGOTIATE_PROTOCOL_VERSION
_NOTICE_RESPONSE = wire.NOTICE_RESPONSE
_NOTIFICATION_RESPONSE = wire.NOTIFICATION_RESPONSE
_NO_DATA = wire.NO_DATA
_PARAMETER_DESCRIPTION = wire.PARAMETER_DESCRIPTION
_PARAMETER_STATUS = wire.PARAMETER_STATUS
_PARSE_COMPLETE = wire.PARSE_COMPLETE
_PORTAL_SUSPENDED = wire.PORTAL_SUSPENDED
_READY_FOR_QUERY = wire.READY_FOR_QUERY
_ROW_DESCRIPTION = wire.ROW_DESCRIPTION


class TransactionStatus(enum.Enum):
    """Transaction state reported by ReadyForQuery."""

    IDLE = "I"
    IN_TRANSACTION = "T"
    IN_ERROR = "E"
    UNKNOWN = "?"


_STATUS_BY_BYTE = {ord(s.value): s for s in TransactionStatus}


class EngineState(enum.Enum):
    STARTUP = "startup"
    READY = "ready"
    CLOSED = "closed"


# Enum members looked up once: EngineState.CLOSED costs a metaclass
# attribute lookup (~150 ns on CPython 3.11) each time.
_STARTUP = EngineState.STARTUP
_READY = EngineState.READY
_CLOSED = EngineState.CLOSED
_UNKNOWN_STATUS = TransactionStatus.UNKNOWN


@dataclass(frozen=True, slots=True)
class Column:
    """One field of a RowDescription."""

    name: str
    table_oid: int
    column_number: int
    type_oid: int
    type_size: int
    type_modifier: int
    format: int


@dataclass(frozen=True, slots=True)
class Notification:
    """A NotificationResponse (LISTEN/NOTIFY)."""

    pid: int
    channel: str
    payload: str


def parse_row_description(body: bytes) -> list[Column]:
    reader = BodyReader(body)
    count = reader.int16()
    if count < 0:
        raise ProtocolError("negative field count in RowDescription")
    columns = []
    for _ in range(count):
        columns.append(
            Column(
                reader.cstring(),
                reader.uint32(),
                reader.int16(),
                reader.uint32(),
                reader.int16(),
                reader.int32(),
                reader.int16(),
            )
        )
    if not reader.at_end():
        raise ProtocolError("trailing bytes in RowDescription")
    return columns


def parse_fields(body: bytes) -> dict[str, str]:
    """Parse the fields of an ErrorResponse or NoticeResponse."""
    fields: dict[str, str] = {}
    reader = BodyReader(body)
    while True:
        code = reader.byte()
        if code == 0:
            break
        fields[chr(code)] = reader.cstring()
    if not reader.at_end():
        raise ProtocolError("trailing bytes after error fields")
    return fields


def parse_data_row_text(body: bytes) -> list[bytes | None]:
    """Split a DataRow into raw field values (None for NULL)."""
    reader = BodyReader(body)
    count = reader.int16()
    values: list[bytes | None] = []
    for _ in range(count):
        length = reader.int32()
        values.append(None if length == -1 else reader.take(length))
    if not reader.at_end():
        raise ProtocolError("trailing bytes in DataRow")
    return values


RowDecoder = Callable[[bytes], Any]


class Operation:
    """One unit of work: messages to send and the responses they produce."""

    __slots__ = ("done", "error", "transaction_status")

    def __init__(self) -> None:
        self.done = False
        self.error: BaseException | None = None
        self.transaction_status = _UNKNOWN_STATUS

    def messages(self) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:  # pragma: no cover
        """Consume one message; return True when the operation is complete."""
        raise NotImplementedError

    def abandon(self) -> None:
        """Nobody waits for this operation any more (timeout, cancellation):
        consume its remaining messages as cheaply as possible."""

    def fail(self, exc: BaseException) -> None:
        if self.error is None:
            self.error = exc
        self.done = True

    def _set_error(self, exc: BaseException) -> None:
        # The first error wins: later ones are consequences of it.
        if self.error is None:
            self.error = exc

    def row_sink(self) -> tuple[Callable[[bytes, int, int], Any], Callable[[Any], Any]] | None:
        """Where the DataRows arriving now go, for the engine's fast path.

        ``(decode_at, append)``: the engine passes each DataRow straight to
        ``append(decode_at(data, start, end))`` (the body is
        ``data[start:end]``) instead of :meth:`handle`, until another
        message arrives; an exception other than ProtocolError from
        ``decode_at`` goes to :meth:`_set_error`.  None: DataRows go through
        :meth:`handle`.
        """
        return None

    def _ready(self, body: bytes) -> bool:
        if len(body) != 1 or body[0] not in _STATUS_BY_BYTE:
            raise ProtocolError(f"invalid ReadyForQuery status {body!r}")
        self.transaction_status = _STATUS_BY_BYTE[body[0]]
        self.done = True
        return True


class Startup(Operation):
    """StartupMessage and authentication, up to the first ReadyForQuery."""

    __slots__ = ("_params", "_user", "_password", "_scram", "authenticated", "auth_method")

    def __init__(self, params: dict[str, str], password: str | None) -> None:
        super().__init__()
        self._params = params
        self._user = params.get("user", "")
        self._password = password
        self._scram: ScramSha256 | None = None
        self.authenticated = False
        self.auth_method = "trust"

    def messages(self) -> bytes:
        return wire.startup_message(self._params)

    def _require_password(self, method: str) -> str:
        if self._password is None:
            raise InterfaceError(
                f"the server requested {method} authentication, but no password was given"
            )
        return self._password

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == _AUTHENTICATION:
            self._authenticate(engine, body)
            return False
        if kind == _BACKEND_KEY_DATA:
            reader = BodyReader(body)
            engine.backend_pid = reader.int32()
            engine.backend_secret = reader.int32()
            return False
        if kind == _READY_FOR_QUERY:
            if not self.authenticated:
                raise ProtocolError("ReadyForQuery before authentication completed")
            return self._ready(body)
        if kind == _ERROR_RESPONSE:
            # Startup errors are fatal: the server closes the connection.
            self._set_error(exception_from_fields(parse_fields(body)))
            self.done = True
            return True
        if kind == _NEGOTIATE_PROTOCOL_VERSION:
            reader = BodyReader(body)
            newest_minor = reader.int32()
            count = reader.int32()
            unknown = [reader.cstring() for _ in range(count)]
            engine.negotiated_minor_version = newest_minor
            engine.unrecognized_options = unknown
            return False
        raise ProtocolError(f"unexpected message {chr(kind)!r} during startup")

    def _authenticate(self, engine: Engine, body: bytes) -> None:
        reader = BodyReader(body)
        code = reader.int32()
        if code == 0:  # AuthenticationOk
            self.authenticated = True
            if self._scram is not None:
                raise ProtocolError("SCRAM exchange ended without a server signature")
            return
        if self.authenticated:
            raise ProtocolError("authentication request after AuthenticationOk")
        if code == 3:  # cleartext password
            self.auth_method = "password"
            password = self._require_password("password")
            engine.queue(wire.password_message(password.encode("utf-8")))
        elif code == 5:  # MD5 with a 4-byte salt
            self.auth_method = "md5"
            salt = reader.take(4)
            password = self._require_password("md5")
            engine.queue(wire.password_message(md5_password(self._user, password, salt)))
        elif code == 10:  # SASL: list of mechanisms
            mechanisms = []
            while True:
                name = reader.cstring()
                if not name:
                    break
                mechanisms.append(name)
            if ScramSha256.mechanism not in mechanisms:
                raise InterfaceError(
                    f"the server offers no supported SASL mechanism (offered: {', '.join(mechanisms)})"
                )
            self.auth_method = "scram-sha-256"
            password = self._require_password("SCRAM-SHA-256")
            self._scram = ScramSha256(password)
            engine.queue(
                wire.sasl_initial_response(ScramSha256.mechanism, self._scram.client_first())
            )
        elif code == 11:  # SASLContinue
            if self._scram is None:
                raise ProtocolError("SASLContinue without a SASL exchange")
            engine.queue(wire.sasl_response(self._scram.client_final(reader.rest())))
        elif code == 12:  # SASLFinal
            if self._scram is None:
                raise ProtocolError("SASLFinal without a SASL exchange")
            self._scram.verify_server_final(reader.rest())
            self._scram = None
        elif code in (2, 6, 7, 8, 9):
            raise InterfaceError(
                f"the server requested an unsupported authentication method (code {code}: "
                "Kerberos/GSSAPI/SSPI)"
            )
        else:
            raise ProtocolError(f"unknown authentication request code {code}")


class StatementResult:
    """The outcome of one statement: command tag, and rows if it returned any."""

    __slots__ = ("status", "columns", "rows", "suspended", "row_decoder", "on_description")

    def __init__(
        self,
        row_decoder: RowDecoder | None = None,
        on_description: Callable[[list[Column] | None], RowDecoder | None] | None = None,
    ) -> None:
        self.status: str | None = None
        self.columns: list[Column] | None = None
        self.rows: list[Any] = []
        self.suspended = False
        self.row_decoder = row_decoder
        self.on_description = on_description

    @property
    def row_count(self) -> int | None:
        """The row count at the end of the command tag, when it has one."""
        if not self.status:
            return None
        last = self.status.rpartition(" ")[2]
        return int(last) if last.isdigit() else None


class SimpleQuery(Operation):
    """A Query message: one or more statements, results in text format."""

    __slots__ = ("sql", "results", "_current")

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = sql
        self.results: list[StatementResult] = []
        self._current: StatementResult | None = None

    def messages(self) -> bytes:
        return wire.query(self.sql)

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == _DATA_ROW:
            if self._current is None:
                raise ProtocolError("DataRow without RowDescription")
            self._current.rows.append(parse_data_row_text(body))
            return False
        if kind == _ROW_DESCRIPTION:
            self._current = StatementResult()
            self._current.columns = parse_row_description(body)
            return False
        if kind == _COMMAND_COMPLETE or kind == _EMPTY_QUERY_RESPONSE:
            result = self._current or StatementResult()
            result.status = BodyReader(body).cstring() if kind == _COMMAND_COMPLETE else ""
            self.results.append(result)
            self._current = None
            return False
        if kind == _ERROR_RESPONSE:
            self._set_error(exception_from_fields(parse_fields(body)))
            self._current = None
            return False
        if kind == _READY_FOR_QUERY:
            return self._ready(body)
        if kind == _COPY_IN_RESPONSE:
            # COPY FROM STDIN needs a data source; execute() has none, so
            # refuse it the way the protocol allows: CopyFail ends it with an
            # error and keeps the connection in step.
            engine.queue(wire.copy_fail("COPY FROM STDIN is not supported by execute()"))
            return False
        if kind == _COPY_OUT_RESPONSE or kind == _COPY_DATA or kind == _COPY_DONE:
            return False  # COPY TO STDOUT output is discarded by execute()
        if kind == _COPY_BOTH_RESPONSE:
            raise ProtocolError("CopyBoth is only valid for replication connections")
        raise ProtocolError(f"unexpected message {chr(kind)!r} in simple query")


class _StatementDescription:
    """A pending Describe(statement) whose columns also decode the next execute."""

    __slots__ = ("feeds",)

    def __init__(self, feeds: StatementResult) -> None:
        self.feeds = feeds


class Extended(Operation):
    """A batch of extended-protocol messages ending with one Sync.

    Build it with :meth:`parse`, :meth:`bind`, :meth:`describe_statement`,
    :meth:`describe_portal`, :meth:`execute` and :meth:`close_statement`;
    responses are matched to those steps in order.  After an error the
    server skips everything up to Sync, so later steps simply get no result.
    """

    __slots__ = (
        "_out",
        "_describes",
        "_executes",
        "_pending_portal_description",
        "param_oids",
        "descriptions",
        "columns",
        "results",
        "_closed",
        "_discard",
    )

    def __init__(self) -> None:
        super().__init__()
        self._out = bytearray()
        # None for a statement description, a _StatementDescription for one
        # whose statement is executed next, or the StatementResult whose
        # portal is being described.
        self._describes: deque[StatementResult | _StatementDescription | None] = deque()
        self._executes: deque[StatementResult] = deque()
        self._pending_portal_description: StatementResult | None = None
        self.param_oids: list[int] | None = None
        # Every statement description of the batch, in order: (parameter
        # OIDs, columns or None).  param_oids/columns hold the last one.
        self.descriptions: list[tuple[list[int], list[Column] | None]] = []
        self.columns: list[Column] | None = None
        self.results: list[StatementResult] = []
        self._closed = False
        self._discard = False

    def parse(self, name: str, sql: str, param_oids: list[int] | tuple[int, ...] = ()) -> None:
        self._out += wire.parse(name, sql, param_oids)

    def bind_raw(self, message: bytes) -> None:
        """Append a Bind message built elsewhere (parameter encoding is not ours)."""
        self._out += message

    def describe_statement(
        self,
        name: str,
        on_description: Callable[[list[Column] | None], RowDecoder | None] | None = None,
    ) -> StatementResult | None:
        """Describe a statement.

        With ``on_description``, the statement is executed next in the same
        batch (after a Bind with the formats it implies): the returned result
        is the one that execute fills, decoded as ``on_description`` decides.
        """
        self._out += wire.describe(b"S", name)
        if on_description is None:
            self._describes.append(None)
            return None
        result = StatementResult(on_description=on_description)
        self._describes.append(_StatementDescription(result))
        self._pending_portal_description = result
        return result

    def describe_portal(
        self,
        name: str,
        on_description: Callable[[list[Column] | None], RowDecoder | None],
    ) -> StatementResult:
        """Describe a portal; the returned result is the one the next execute fills."""
        self._out += wire.describe(b"P", name)
        result = StatementResult(on_description=on_description)
        self._describes.append(result)
        self._pending_portal_description = result
        return result

    def execute(
        self, portal: str = "", max_rows: int = 0, row_decoder: RowDecoder | None = None
    ) -> StatementResult:
        self._out += wire.execute(portal, max_rows)
        result = self._pending_portal_description
        if result is None:
            result = StatementResult(row_decoder)
        else:
            self._pending_portal_description = None
        self._executes.append(result)
        self.results.append(result)
        return result

    def abandon(self) -> None:
        self._discard = True

    def close_statement(self, name: str) -> None:
        self._out += wire.close(b"S", name)

    def close_portal(self, name: str) -> None:
        self._out += wire.close(b"P", name)

    def messages(self) -> bytes:
        if not self._closed:
            self._out += wire.SYNC
            self._closed = True
        return bytes(self._out)

    def row_sink(self) -> tuple[Callable[[bytes, int, int], Any], Callable[[Any], Any]] | None:
        # Rows decoded by a RowDecoder (pgwire.rows) skip handle(); the
        # outcome is the same as its DataRow branch.
        if not self._executes or self.error is not None:
            return None
        result = self._executes[0]
        decode_at = getattr(result.row_decoder, "decode_at", None)
        if decode_at is None:
            return None
        return decode_at, result.rows.append

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == _DATA_ROW:
            if not self._executes:
                raise ProtocolError("DataRow without a pending Execute")
            result = self._executes[0]
            if self.error is not None or self._discard:
                return False  # rows after a decode error (or abandoned) are dropped
            decoder = result.row_decoder
            if decoder is None:
                result.rows.append(body)
                return False
            try:
                result.rows.append(decoder(body))
            except ProtocolError:
                raise
            except Exception as exc:  # a codec failed: report it after Sync
                self._set_error(exc)
            return False
        if kind == _COMMAND_COMPLETE or kind == _EMPTY_QUERY_RESPONSE:
            if not self._executes:
                raise ProtocolError("CommandComplete without a pending Execute")
            result = self._executes.popleft()
            result.status = BodyReader(body).cstring() if kind == _COMMAND_COMPLETE else ""
            return False
        if kind == _PORTAL_SUSPENDED:
            if not self._executes:
                raise ProtocolError("PortalSuspended without a pending Execute")
            result = self._executes.popleft()
            result.suspended = True
            return False
        if kind == _PARSE_COMPLETE or kind == _BIND_COMPLETE or kind == _CLOSE_COMPLETE:
            return False
        if kind == _PARAMETER_DESCRIPTION:
            if not self._describes or isinstance(self._describes[0], StatementResult):
                raise ProtocolError("ParameterDescription without Describe(statement)")
            reader = BodyReader(body)
            count = reader.int16()
            self.param_oids = [reader.uint32() for _ in range(count)]
            if not reader.at_end():
                raise ProtocolError("trailing bytes in ParameterDescription")
            return False
        if kind == _ROW_DESCRIPTION or kind == _NO_DATA:
            if not self._describes:
                raise ProtocolError("RowDescription without Describe")
            target = self._describes.popleft()
            columns = parse_row_description(body) if kind == _ROW_DESCRIPTION else None
            if target is None or isinstance(target, _StatementDescription):
                self.columns = columns
                self.descriptions.append((self.param_oids or [], columns))
                target = target.feeds if target is not None else None
            if target is not None:
                target.columns = columns
                if target.on_description is not None:
                    try:
                        target.row_decoder = target.on_description(columns)
                    except Exception as exc:
                        self._set_error(exc)
            return False
        if kind == _ERROR_RESPONSE:
            self._set_error(exception_from_fields(parse_fields(body)))
            return False
        if kind == _READY_FOR_QUERY:
            return self._ready(body)
        if kind == _COPY_IN_RESPONSE:
            # The server ignores the Sync we already sent while it is in
            # copy-in mode (PostgreSQL docs, "COPY Operations"), so after
            # CopyFail another Sync is needed to end the error state.
            engine.queue(
                wire.copy_fail(
                    "COPY FROM STDIN is not supported in a query or pipeline; "
                    "use the copy_* methods"
                )
                + wire.SYNC
            )
            return False
        if kind in (_COPY_OUT_RESPONSE, _COPY_DATA, _COPY_DONE):
            return False
        raise ProtocolError(f"unexpected message {chr(kind)!r} in extended query")


class Engine:
    """Protocol state for one server connection, fed with bytes by a driver."""

    def __init__(self, max_message_size: int = wire.DEFAULT_MAX_MESSAGE_SIZE) -> None:
        self.state = _STARTUP
        self.parameters: dict[str, str] = {}
        self.backend_pid: int | None = None
        self.backend_secret: int | None = None
        self.transaction_status = _UNKNOWN_STATUS
        self.negotiated_minor_version: int | None = None
        self.unrecognized_options: list[str] = []
        # Notices, notifications and errors that arrived outside any
        # operation, for the driver to deliver.
        self.events: list[Any] = []
        self.close_error: BaseException | None = None
        self._reader = MessageReader(max_message_size)
        self._pending: deque[Operation] = deque()
        self._out = bytearray()

    # -- sending -----------------------------------------------------------

    def queue(self, data: bytes) -> None:
        """Add raw bytes to the outgoing buffer (used by operations)."""
        self._out += data

    def send(self, op: Operation) -> None:
        """Queue an operation; its messages go out with the next data_to_send()."""
        if self.state is _CLOSED:
            raise ConnectionDoesNotExistError("the connection is closed") from self.close_error
        if self.state is _STARTUP and not isinstance(op, Startup):
            raise InterfaceError("the connection is not ready: startup has not finished")
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
                    if decode_at is None and self._pending:
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
                            sink_op._set_error(exc)  # type: ignore[union-attr]
                            decode_at = None
                        continue
                else:
                    decode_at = None
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
        if self._pending and isinstance(self._pending[0], Startup):
            failing = self._pending[0]
            if failing.error is not None:
                error = failing.error
        return self._close(error)

    def _close(self, exc: BaseException) -> list[Operation]:
        self.state = _CLOSED
        self.close_error = exc
        failed = list(self._pending)
        self._pending.clear()
        for op in failed:
            op.fail(exc)
        return failed

    def _dispatch(self, kind: int, body: bytes, completed: list[Operation]) -> None:
        if kind == _PARAMETER_STATUS:
            reader = BodyReader(body)
            name = reader.cstring()
            self.parameters[name] = reader.cstring()
            return
        if kind == _NOTICE_RESPONSE:
            self.events.append(notice_from_fields(parse_fields(body)))
            return
        if kind == _NOTIFICATION_RESPONSE:
            reader = BodyReader(body)
            self.events.append(Notification(reader.int32(), reader.cstring(), reader.cstring()))
            return
        if not self._pending:
            if kind == _ERROR_RESPONSE:
                # E.g. FATAL "terminating connection due to administrator
                # command" sent to an idle connection; the server closes next.
                error = exception_from_fields(parse_fields(body))
                self.events.append(error)
                self._close(error)
                return
            raise ProtocolError(f"unexpected message {chr(kind)!r} with no operation pending")
        op = self._pending[0]
        if op.handle(self, kind, body):
            self._pending.popleft()
            completed.append(op)
            if isinstance(op, Startup):
                if op.error is None:
                    self.state = _READY
                    self.transaction_status = op.transaction_status
                else:
                    completed.extend(self._close(op.error))
            else:
                self.transaction_status = op.transaction_status
