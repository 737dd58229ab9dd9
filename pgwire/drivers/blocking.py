"""The blocking driver: fulfils the flows' requests with a plain socket.

No event loop and no helper thread: the driver writes what the engine
returns and waits with ``poll`` for the answer, so the blocking API runs
exactly the protocol flows the asyncio driver runs.  While it writes a large
request it keeps reading, so a server that answers early (an executemany of
thousands of rows) can never fill both socket buffers and deadlock.

Timeouts are deadlines on ``time.monotonic()`` (:meth:`BlockingDriver.deadline`);
a wait past its deadline raises ``TimeoutError`` into the flow.
"""

from __future__ import annotations

import inspect
import select
import socket
import ssl as ssl_module
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..exceptions import ConnectionDoesNotExistError, InterfaceError
from ..flows.requests import (
    WHOLE_WRITE_GRACE,
    Call,
    Close,
    Deadline,
    Events,
    Flow,
    Flush,
    Open,
    Progress,
    Read,
    Resolve,
    Start,
    StartTLS,
    Wait,
    Write,
    shorter_deadline,
)
from ..protocol.engine import Engine, EngineState, Operation
from .sockets import new_socket, receive_buffer, resolved, tls_info

T = TypeVar("T")

# Requests are sent in pieces of at most this size (the rest when writable).
_SEND_CHUNK = 256 * 1024

# Requests whose wait may never block while data flows: their deadline is
# checked before they start.
_STREAMING = frozenset({Write, Progress, Call})

Socket = socket.socket | ssl_module.SSLSocket

# A request on a connection that has received nothing for at least this long
# (seconds) first takes in what arrived meanwhile (see BlockingDriver._poll);
# one sent sooner after the last answer skips that poll, a system call per
# query in a busy loop, however long the round trip.
_IDLE_CHECK_AFTER = 0.001


def _wait(sock: Socket, write: bool, timeout: float | None) -> tuple[bool, bool]:
    """Wait until ``sock`` is readable (or, with ``write``, writable); return
    (readable, writable).  ``poll`` where there is one: ``select`` refuses
    file descriptors above FD_SETSIZE (1024), which busy processes reach."""
    if sock.fileno() < 0:
        # Closed meanwhile (terminate() from another thread): the next
        # recv or send reports it.
        return True, write
    if not hasattr(select, "poll"):  # Windows
        ready = select.select([sock], [sock] if write else [], [], timeout)
        return bool(ready[0]), bool(ready[1])
    poller = select.poll()
    poller.register(sock, select.POLLIN | (select.POLLOUT if write else 0))
    events = 0
    for _, mask in poller.poll(None if timeout is None else timeout * 1000):
        events |= mask
    # An error or hang-up counts as ready: recv or send then reports it.
    failed = events & (select.POLLERR | select.POLLHUP | select.POLLNVAL)
    readable = bool(events & select.POLLIN or failed)
    return readable, write and bool(events & select.POLLOUT or failed)


def _remaining(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


class BlockingDriver:
    """One server connection (and the streams it needs) driven by blocking calls."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self.sock: Socket | None = None
        self._engine_mode = False
        self._raw = bytearray()
        self._raw_eof = False
        self._delivered = 0
        # A poll object registered for reading, kept while the socket is the
        # same: one per wait would cost an allocation and a register each.
        self._poller: Any = None
        self._poller_sock: Socket | None = None
        self._received_at = 0.0  # time.monotonic() of the last bytes received
        self.on_events: Callable[[list[Any]], None] | None = None
        self.on_lost: Callable[[], None] | None = None

    # -- clock and state ----------------------------------------------------

    @staticmethod
    def deadline(timeout: float | None) -> float | None:
        """The monotonic time ``timeout`` seconds from now (None: no deadline)."""
        return None if timeout is None else time.monotonic() + timeout

    @property
    def busy(self) -> bool:
        return self.engine is not None and self.engine.busy

    def is_closed(self) -> bool:
        return self.sock is None or self.engine is None or self.engine.state is EngineState.CLOSED

    def spawn(self) -> BlockingDriver:
        """A new driver, for a stream of its own (a cancel request)."""
        return BlockingDriver()

    def abort(self) -> None:
        """Close the socket at once; safe from another thread."""
        sock, self.sock = self.sock, None
        if sock is not None:
            try:
                # Wakes a thread waiting on this socket (terminate() from
                # another thread); close() alone leaves it waiting for the
                # server's answer.
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                sock.close()
            except OSError:
                pass
        engine = self.engine
        if engine is not None and engine.state is not EngineState.CLOSED:
            engine.receive_eof()
        if sock is not None and self._engine_mode and self.on_lost is not None:
            self.on_lost()

    # -- running flows ------------------------------------------------------

    def run_flow(self, flow: Flow[T], deadline: float | None = None, first: Any = None) -> T:
        """Run ``flow`` to its end, fulfilling each request; return its result.

        ``deadline`` (monotonic time) bounds every wait of the flow; a flow's
        own :class:`~pgwire.flows.requests.Deadline` can only shorten it.
        ``first``: the flow was started already and asked for this.
        """
        limit = deadline
        result: Any = None
        try:
            request = flow.send(None) if first is None else first
            while True:
                try:
                    if isinstance(request, Operation):
                        self._start(request, limit)
                        result = self._wait_op(request, limit)
                    elif type(request) is Deadline:
                        limit = shorter_deadline(deadline, time.monotonic(), request)
                        result = None
                    else:
                        result = self._fulfil(request, limit)
                except BaseException as exc:
                    request = flow.throw(exc)
                    continue
                request = flow.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            flow.close()

    def _fulfil(self, request: Any, limit: float | None) -> Any:
        kind = type(request)
        if limit is not None and kind in _STREAMING and time.monotonic() >= limit:
            # Data that keeps arriving (or a source that never waits) must
            # not keep a call going past its deadline.
            raise TimeoutError()
        if kind is Write:
            self._require_socket()
            if request.whole and limit is not None:
                # Not torn by the deadline (see Write): finished, then timed out.
                self._send_all(request.data, max(limit, time.monotonic()) + WHOLE_WRITE_GRACE)
                if time.monotonic() >= limit:
                    raise TimeoutError()
            else:
                self._send_all(request.data, limit)
            # Take in what the server said meanwhile (an error ending a
            # COPY), so the flow can stop sending early.
            self._poll()
            return None
        if kind is Progress:
            op = request.op
            while not (op.done or op.progressed()):
                self._receive(limit)
                self._flush(limit)
            return None
        if kind is Call:
            result = request.function(*request.args)
            if inspect.isawaitable(result):
                close = getattr(result, "close", None)
                if close is not None:
                    close()
                raise InterfaceError(
                    f"the blocking API cannot await {request.function!r}: pass plain callables, "
                    "iterables and file objects"
                )
            return result
        if kind is Start:
            self._start(request.op, limit)
            return None
        if kind is Wait:
            return self._wait_op(request.op, limit)
        if kind is Flush:
            self._flush(None)
            return None
        if kind is Read:
            return self._read(limit)
        if kind is Events:
            self._wait_for_events(limit)
            return None
        if kind is Resolve:
            return resolved(socket.getaddrinfo(request.host, request.port, type=socket.SOCK_STREAM))
        if kind is Open:
            self._open(request, limit)
            return None
        if kind is StartTLS:
            return self._start_tls(request, limit)
        if kind is Close:
            self.abort()
            return None
        raise InterfaceError(f"a flow asked for something no driver does: {request!r}")

    def _start(self, op: Operation, limit: float | None) -> None:
        if self.sock is None:
            self._require_socket()  # raises
        engine = self.engine
        assert engine is not None
        if not self._engine_mode:
            self._engine_mode = True
            if self._raw:  # bytes that arrived before the session started
                data, self._raw = bytes(self._raw), bytearray()
                self._feed(data)
        elif not engine.busy:
            # Take in what arrived while idle first (a FATAL message, EOF),
            # so it is not mistaken for the answer to this request. A
            # session the server ends (a termination, an idle timeout, a
            # shutdown) has almost always been idle for longer than the
            # threshold; within it, such a FATAL error is the answer, as it
            # is when it comes between this check and the send.
            if time.monotonic() - self._received_at >= _IDLE_CHECK_AFTER:
                self._poll()
                if self.sock is None:
                    self._require_socket()  # raises
        engine.send(op)
        self._send_all(engine.data_to_send(), limit)

    def until_idle(self, deadline: float | None) -> None:
        """Read until every operation sent has completed (or the connection is lost)."""
        engine = self.engine
        while engine is not None and engine.busy and not self.is_closed():
            self._wait_op(engine.pending[-1], deadline)

    def _wait_op(self, op: Operation, limit: float | None) -> Operation:
        engine = self.engine
        assert engine is not None
        while not op.done:
            self._receive(limit)
            if self.sock is not None:
                # What the engine queued while reading (authentication, CopyFail).
                out = engine.data_to_send()
                if out:
                    self._send_all(out, limit)
        return op

    def _flush(self, limit: float | None) -> None:
        """Send what the engine queued while reading (authentication, CopyFail)."""
        engine = self.engine
        if engine is not None and self.sock is not None:
            out = engine.data_to_send()
            if out:
                self._send_all(out, limit)

    # -- connecting -----------------------------------------------------------

    def _open(self, request: Open, limit: float | None) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        endpoint = request.endpoint
        sock = new_socket(endpoint, request.options)
        try:
            sock.settimeout(_remaining(limit))
            sock.connect(endpoint.address)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.engine = request.engine
        self._engine_mode = False
        self._raw = bytearray()
        self._raw_eof = False

    def _start_tls(self, request: StartTLS, limit: float | None) -> Any:
        sock = self._require_socket()
        sock.setblocking(True)
        sock.settimeout(_remaining(limit))
        wrapped = request.context.wrap_socket(sock, server_hostname=request.server_hostname)
        wrapped.setblocking(False)
        self.sock = wrapped
        return tls_info(wrapped)

    # -- I/O -----------------------------------------------------------------

    def _require_socket(self) -> Socket:
        if self.sock is None:
            engine = self.engine
            raise ConnectionDoesNotExistError("the connection is closed") from (
                engine.close_error if engine is not None else None
            )
        return self.sock

    def _read(self, limit: float | None) -> bytes:
        while not self._raw and not self._raw_eof:
            self._receive(limit)
        data, self._raw = bytes(self._raw), bytearray()
        return data

    def _feed(self, data: bytes) -> list[Operation]:
        engine = self.engine
        if not self._engine_mode or engine is None:
            self._raw += data
            return []
        completed = engine.receive_data(data)
        if engine.events:
            events = engine.events
            engine.events = []
            self._delivered += len(events)
            if self.on_events is not None:
                self.on_events(events)
        if engine.state is EngineState.CLOSED:
            self.abort()
        return completed

    def _receive(self, deadline: float | None) -> list[Operation]:
        """Wait for data (up to the deadline) and feed it to the engine."""
        remaining = None
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                # Checked before reading, so a steady stream of data (a large
                # result) cannot keep a timed-out call going.
                raise TimeoutError()
        sock = self.sock
        if sock is None:
            sock = self._require_socket()  # raises
        if not (isinstance(sock, ssl_module.SSLSocket) and sock.pending()):
            if not self._readable(sock, remaining):
                raise TimeoutError()
        try:
            buffer = receive_buffer()
            try:
                size = sock.recv_into(buffer)
            except (BlockingIOError, ssl_module.SSLWantReadError, ssl_module.SSLWantWriteError):
                return []
            except OSError as exc:
                self._lost(exc)
                return []
            if not size:
                self._lost(None)
                return []
            self._received_at = time.monotonic()
            # Copied out before anything else can use this thread's buffer.
            return self._feed(buffer[:size].tobytes())
        except BaseException as exc:
            # Only an exception from outside (a signal handler's, such as
            # KeyboardInterrupt) gets here, between taking bytes from the
            # socket and the engine's having read them: they may be lost,
            # so no drain could find the answer's end.  Waiting in poll()
            # is outside this window, so most interrupts stay recoverable.
            self._tear(exc, "interrupted while reading the server's answer")
            raise

    def _readable(self, sock: Socket, timeout: float | None) -> bool:
        """Wait until ``sock`` is readable, up to ``timeout`` (None: no limit)."""
        if sock.fileno() < 0:
            return True  # closed meanwhile (terminate()): recv reports it
        poller = self._poller
        if self._poller_sock is not sock:
            if not hasattr(select, "poll"):  # Windows
                return _wait(sock, False, timeout)[0]
            poller = self._poller = select.poll()
            poller.register(sock, select.POLLIN)
            self._poller_sock = sock
        # An error or hang-up counts as readable too: recv then reports it.
        return bool(poller.poll(None if timeout is None else timeout * 1000))

    def _lost(self, exc: BaseException | None) -> None:
        self._raw_eof = True
        engine = self.engine
        if engine is not None and self._engine_mode:
            error = None
            if exc is not None:
                error = ConnectionDoesNotExistError(f"the connection was lost: {exc}")
                error.__cause__ = exc
            engine.receive_eof(error)
        self.abort()

    def _send_all(self, data: bytes | memoryview, deadline: float | None) -> None:
        """Write everything, reading whatever the server sends meanwhile.

        Given up part way (a timeout, an exception from a signal handler),
        the request is torn: the server waits for the rest of a message it
        will never get, so no drain could bring the connection back in
        step.  It is closed at once instead (its operations fail with
        ConnectionDoesNotExistError) and the exception goes on.
        """
        sock = self.sock
        if sock is not None and len(data) <= _SEND_CHUNK:
            try:
                # Most requests fit in the socket's buffer: sent at once.
                sent = sock.send(data)
            except (BlockingIOError, ssl_module.SSLWantWriteError, ssl_module.SSLWantReadError):
                sent = 0
            except OSError as exc:
                self._lost(exc)
                return
            except BaseException as exc:
                self._tear(exc, "a request was cut short while being sent")
                raise
            if sent == len(data):
                return
            data = memoryview(data)[sent:]
        try:
            self._send_all_or_raise(data, deadline)
        except BaseException as exc:
            self._tear(exc, "a request was cut short while being sent")
            raise

    def _tear(self, exc: BaseException, what: str) -> None:
        """Close a connection left out of step by ``exc``; its operations fail."""
        if self.sock is None:
            return
        torn = ConnectionDoesNotExistError(
            f"the connection was closed: {what} ({type(exc).__name__})")
        torn.__cause__ = exc
        if self.engine is not None and self._engine_mode:
            self.engine.receive_eof(torn)
        self.abort()

    def _send_all_or_raise(self, data: bytes | memoryview, deadline: float | None) -> None:
        view = memoryview(data)
        sock = self._require_socket()
        try:
            # Most requests fit in the socket's buffer: try at once, and wait
            # for writability (reading meanwhile) only for what is left.
            view = view[sock.send(view[:_SEND_CHUNK]):]
        except (BlockingIOError, ssl_module.SSLWantWriteError, ssl_module.SSLWantReadError):
            pass
        except OSError as exc:
            self._lost(exc)
            return
        while view:
            sock = self._require_socket()
            readable, writable = _wait(sock, True, _remaining(deadline))
            if not readable and not writable:
                raise TimeoutError()
            if readable:
                self._receive(deadline)
                if self.sock is None:
                    return
            if writable:
                try:
                    sent = sock.send(view[:_SEND_CHUNK])
                except (BlockingIOError, ssl_module.SSLWantWriteError,
                        ssl_module.SSLWantReadError):
                    continue
                except OSError as exc:
                    self._lost(exc)
                    return
                view = view[sent:]

    def _poll(self) -> None:
        """Take in what the server sent while the connection was idle.

        Notices and notifications are delivered; a FATAL error and EOF (the
        server ended the session: pg_terminate_backend, an idle timeout, a
        pooler dropping the client) close the connection here, before a
        request goes out, so the call fails with ConnectionDoesNotExistError
        as on the asyncio driver, which reads all the time, instead of
        taking the FATAL error as the answer to the new request.
        """
        while self.sock is not None:
            sock = self.sock
            if not (isinstance(sock, ssl_module.SSLSocket) and sock.pending()):
                if not self._readable(sock, 0):
                    return
            self._receive(None)

    def probe(self) -> None:
        """Take in what arrived while the connection was idle (see :meth:`_poll`):
        a pool's health check before handing the connection out."""
        if self.sock is not None and self._engine_mode:
            self._poll()

    def _wait_for_events(self, deadline: float | None) -> None:
        """Read until some event (a notification, a notice) was delivered."""
        before = self._delivered
        self._poll()  # what has arrived already, even with no time to wait
        while self._delivered == before:
            if self.sock is None:
                return  # closed meanwhile: its listeners have been told
            self._receive(deadline)
            self._flush(deadline)
