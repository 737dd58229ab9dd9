"""The blocking driver: the same engine and flows over a plain socket.

No event loop and no helper thread: the driver writes what the engine
returns and waits with ``poll`` for the answer, so the blocking API runs
exactly the protocol flows the asyncio driver runs.  While it writes a large
request it keeps reading, so a server that answers early (an executemany of
thousands of rows) can never fill both socket buffers and deadlock.
"""

from __future__ import annotations

import select
import socket
import ssl as ssl_module
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ..conninfo.params import ConnectParams
from ..exceptions import ConnectionDoesNotExistError, InterfaceError
from ..flows.statements import Flow, Session
from ..protocol import wire
from ..protocol.engine import Engine, EngineState, Operation, Startup

T = TypeVar("T")

_RECV_SIZE = 256 * 1024


def _wait(sock: socket.socket, write: bool, timeout: float | None) -> tuple[bool, bool]:
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


class BlockingDriver:
    """One server connection driven by blocking socket calls."""

    def __init__(self, session: Session, sock: socket.socket, address: tuple[str, int]) -> None:
        self.session = session
        self.engine: Engine = session.engine
        self.sock: socket.socket | ssl_module.SSLSocket | None = sock
        self.address = address
        self.on_events: Callable[[list[Any]], None] | None = None
        self.on_lost: Callable[[], None] | None = None
        self._delivered = 0
        self._pending = 0
        sock.setblocking(False)
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    # -- state -------------------------------------------------------------

    @property
    def busy(self) -> bool:
        return self.engine.busy

    def is_closed(self) -> bool:
        return self.sock is None or self.engine.state is EngineState.CLOSED

    def close(self) -> None:
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
        if self.engine.state is not EngineState.CLOSED:
            self.engine.receive_eof()
        if sock is not None and self.on_lost is not None:
            self.on_lost()

    # -- I/O -----------------------------------------------------------------

    def _require_socket(self) -> socket.socket | ssl_module.SSLSocket:
        if self.sock is None:
            raise ConnectionDoesNotExistError("the connection is closed") from self.engine.close_error
        return self.sock

    def _feed(self, data: bytes) -> list[Operation]:
        completed = self.engine.receive_data(data)
        if self.engine.events:
            events = self.engine.events
            self.engine.events = []
            self._delivered += len(events)
            if self.on_events is not None:
                self.on_events(events)
        if self.engine.state is EngineState.CLOSED:
            self.close()
        return completed

    def wait_for_events(self, deadline: float | None) -> None:
        """Read until some event (a notification, a notice) was delivered."""
        before = self._delivered
        self.poll()  # what has arrived already, even with no time to wait
        while self._delivered == before and self.sock is not None:
            try:
                self._receive(deadline)
            except TimeoutError:
                return

    def _receive(self, deadline: float | None) -> list[Operation]:
        """Wait for data (up to the deadline) and feed it to the engine."""
        if deadline is not None and time.monotonic() >= deadline:
            # Checked before reading, so a steady stream of data (a large
            # result) cannot keep a timed-out call going.
            raise TimeoutError()
        sock = self._require_socket()
        if not (isinstance(sock, ssl_module.SSLSocket) and sock.pending()):
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not _wait(sock, False, timeout)[0]:
                raise TimeoutError()
        try:
            data = sock.recv(_RECV_SIZE)
        except (BlockingIOError, ssl_module.SSLWantReadError, ssl_module.SSLWantWriteError):
            return []
        except OSError as exc:
            self._lost(exc)
            return []
        if not data:
            self._lost(None)
            return []
        return self._feed(data)

    def _lost(self, exc: BaseException | None) -> None:
        error = None
        if exc is not None:
            error = ConnectionDoesNotExistError(f"the connection was lost: {exc}")
            error.__cause__ = exc
        self.engine.receive_eof(error)
        self.close()

    def _send_all(self, data: bytes, deadline: float | None) -> None:
        """Write everything, reading whatever the server sends meanwhile."""
        view = memoryview(data)
        while view:
            sock = self._require_socket()
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            readable, writable = _wait(sock, True, timeout)
            if not readable and not writable:
                raise TimeoutError()
            if readable:
                self._receive(deadline)
                if self.sock is None:
                    return
            if writable:
                try:
                    sent = sock.send(view[:_RECV_SIZE])
                except (BlockingIOError, ssl_module.SSLWantWriteError,
                        ssl_module.SSLWantReadError):
                    continue
                except OSError as exc:
                    self._lost(exc)
                    return
                view = view[sent:]

    def start(self, op: Operation, deadline: float | None) -> None:
        """Send an operation without waiting for its completion."""
        self._require_socket()
        if not self.engine.busy:
            self.poll()
            self._require_socket()
        self.engine.send(op)
        self._send_all(self.engine.data_to_send(), deadline)

    def send_raw(self, data: bytes, deadline: float | None) -> None:
        """Send bytes that are not an operation's messages (COPY data)."""
        self._require_socket()
        self._send_all(data, deadline)

    def wait_until(self, condition: Callable[[], bool], deadline: float | None) -> None:
        """Read until ``condition()`` holds (or the connection is lost)."""
        while not condition():
            self._receive(deadline)
            out = self.engine.data_to_send()
            if out and self.sock is not None:
                self._send_all(out, deadline)

    def poll(self) -> None:
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
                if not _wait(sock, False, 0)[0]:
                    return
            self._receive(None)

    def run(self, op: Operation, deadline: float | None = None) -> Operation:
        """Send one operation and wait until it completes."""
        self._require_socket()
        if not self.engine.busy:
            self.poll()
            self._require_socket()
        self.engine.send(op)
        self._send_all(self.engine.data_to_send(), deadline)
        while not op.done:
            self._receive(deadline)
            out = self.engine.data_to_send()
            if out and self.sock is not None:
                self._send_all(out, deadline)
        return op

    def run_flow(self, flow: Flow[T], deadline: float | None = None) -> T:
        try:
            op = next(flow)
            while True:
                done = self.run(op, deadline)
                op = flow.send(done)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            flow.close()

    def drain(self, deadline: float | None) -> None:
        """Read until every sent operation has completed."""
        while self.engine.busy and self.sock is not None:
            self._receive(deadline)
            out = self.engine.data_to_send()
            if out and self.sock is not None:
                self._send_all(out, deadline)

    def terminate(self) -> None:
        """Send Terminate (best effort) and close the socket."""
        sock = self.sock
        if sock is not None and self.engine.state is not EngineState.CLOSED:
            try:
                sock.setblocking(True)
                sock.settimeout(1.0)
                sock.sendall(self.engine.terminate())
            except OSError:
                pass
        self.close()

    def send_cancel(self) -> None:
        """Ask the server to cancel what this backend runs (new connection)."""
        pid, secret = self.engine.backend_pid, self.engine.backend_secret
        if pid is None or secret is None:
            return
        host, port = self.address
        sock = _plain_socket(host, port, 10.0)
        try:
            sock.sendall(wire.cancel_request(pid, secret))
            # The server closes the connection once it has handled the request.
            while sock.recv(64):
                pass
        except OSError:
            pass
        finally:
            sock.close()


def _plain_socket(host: str, port: int, timeout: float | None) -> socket.socket:
    if host.startswith("/"):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(f"{host}/.s.PGSQL.{port}")
        except BaseException:
            sock.close()
            raise
        return sock
    return socket.create_connection((host, port), timeout=timeout)


def _negotiate_ssl(
    sock: socket.socket, params: ConnectParams, host: str, port: int
) -> socket.socket | ssl_module.SSLSocket:
    sock.sendall(wire.ssl_request())
    answer = sock.recv(1)
    if answer == b"S":
        assert params.ssl_context is not None
        return params.ssl_context.wrap_socket(
            sock, server_hostname=host if params.ssl_context.check_hostname else None
        )
    if answer == b"N":
        if params.sslmode in ("require", "verify-ca", "verify-full"):
            raise ConnectionDoesNotExistError(
                f"the server at {host}:{port} does not support SSL, "
                f"but sslmode={params.sslmode} requires it"
            )
        return sock
    if not answer:
        raise ConnectionDoesNotExistError("the server closed the connection during SSL negotiation")
    raise InterfaceError(f"unexpected answer {answer!r} to SSLRequest from {host}:{port}")


def open_blocking(
    params: ConnectParams, make_session: Callable[[], Session], timeout: float | None
) -> BlockingDriver:
    """Connect to the first reachable address, negotiate SSL, authenticate."""
    errors: list[str] = []
    last_exc: BaseException | None = None
    for host, port in params.addresses:
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            return _connect_one(params, host, port, make_session, timeout, deadline)
        except TimeoutError as exc:
            errors.append(f"{host}:{port}: timed out after {timeout} s")
            last_exc = exc
        except (OSError, ConnectionDoesNotExistError) as exc:
            errors.append(f"{host}:{port}: {exc}")
            last_exc = exc
    if len(params.addresses) == 1 and isinstance(last_exc, TimeoutError):
        raise TimeoutError(f"connecting to {errors[0]}") from None
    if len(params.addresses) == 1 and isinstance(last_exc, OSError):
        raise last_exc
    raise ConnectionDoesNotExistError(
        "could not connect to any host: " + "; ".join(errors)
    ) from last_exc


def _connect_one(
    params: ConnectParams,
    host: str,
    port: int,
    make_session: Callable[[], Session],
    timeout: float | None,
    deadline: float | None,
) -> BlockingDriver:
    sock: socket.socket | ssl_module.SSLSocket = _plain_socket(host, port, timeout)
    try:
        if not host.startswith("/") and params.sslmode != "disable" and params.ssl_context:
            sock = _negotiate_ssl(sock, params, host, port)
        driver = BlockingDriver(make_session(), sock, (host, port))
    except BaseException:
        sock.close()
        raise
    try:
        op = driver.run(Startup(params.startup_parameters(), params.password), deadline)
        if op.error is not None:
            raise op.error
        return driver
    except BaseException:
        driver.close()
        raise
