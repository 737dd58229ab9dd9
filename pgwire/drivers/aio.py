"""The asyncio driver: moves bytes between a transport and the engine.

An ``asyncio.Protocol`` (callbacks, not streams, for speed) that feeds the
sans-I/O engine, writes what it returns and resolves one future per
operation.  Flows from :mod:`pgwire.session` run here by awaiting each
operation they yield.  Connecting (Unix socket or TCP, SSL negotiation),
cancel requests and timeouts live here too: they are the parts that wait.
"""

from __future__ import annotations

import asyncio
import socket
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from ..conninfo.params import ConnectParams
from ..exceptions import ConnectionDoesNotExistError, InterfaceError
from ..flows.statements import Flow, Session
from ..protocol import wire
from ..protocol.engine import Engine, EngineState, Operation, Startup

T = TypeVar("T")


class AsyncioDriver(asyncio.Protocol):
    """One server connection driven by asyncio callbacks."""

    def __init__(self, session: Session, loop: asyncio.AbstractEventLoop) -> None:
        self.session = session
        self.engine: Engine = session.engine
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self._waiters: deque[asyncio.Future[Operation]] = deque()
        self._ssl_answer: asyncio.Future[bytes] | None = None
        self._idle_waiters: list[asyncio.Future[None]] = []
        self.on_events: Callable[[list[Any]], None] | None = None
        self.on_lost: Callable[[], None] | None = None
        self.lost = loop.create_future()
        self._write_paused = False
        self._drain_waiters: list[asyncio.Future[None]] = []

    # -- asyncio.Protocol --------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not isinstance(asyncio.Transport): uvloop's transports implement
        # the interface without subclassing it.
        self.transport = transport  # type: ignore[assignment]
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # Small request/response messages: Nagle's delay would cost a
            # round trip's worth of latency on every query.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def data_received(self, data: bytes) -> None:
        if self._ssl_answer is not None:
            answer, self._ssl_answer = self._ssl_answer, None
            if not answer.done():
                answer.set_result(data)
            return
        engine = self.engine
        completed = engine.receive_data(data)
        out = engine.data_to_send()
        if out and self.transport is not None:
            self.transport.write(out)
        if completed:
            self._complete(completed)
        if engine.events:
            self._deliver_events()
        if engine.state is EngineState.CLOSED and self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._ssl_answer is not None and not self._ssl_answer.done():
            self._ssl_answer.set_exception(
                ConnectionDoesNotExistError("the server closed the connection during SSL negotiation")
            )
        error = None
        if exc is not None:
            error = ConnectionDoesNotExistError(f"the connection was lost: {exc}")
            error.__cause__ = exc
        completed = self.engine.receive_eof(error)
        if completed:
            self._complete(completed)
        if self.engine.events:
            self._deliver_events()
        self._wake_idle()
        self._wake_drain()
        if not self.lost.done():
            self.lost.set_result(None)
        if self.on_lost is not None:
            self.on_lost()

    def pause_writing(self) -> None:
        self._write_paused = True

    def resume_writing(self) -> None:
        self._write_paused = False
        self._wake_drain()

    def _wake_drain(self) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def write_raw(self, data: bytes) -> None:
        """Send bytes that are not an operation's messages (COPY data)."""
        if self.transport is None or self.transport.is_closing():
            raise ConnectionDoesNotExistError("the connection is closed") from self.engine.close_error
        self.transport.write(data)

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        if self._write_paused and not self.is_closed():
            waiter: asyncio.Future[None] = self.loop.create_future()
            self._drain_waiters.append(waiter)
            await waiter

    def _complete(self, completed: list[Operation]) -> None:
        waiters = self._waiters
        for op in completed:
            waiter = waiters.popleft()
            if not waiter.done():
                waiter.set_result(op)
        if not waiters:
            self._wake_idle()

    def _deliver_events(self) -> None:
        events = self.engine.events
        self.engine.events = []
        if self.on_events is not None:
            self.on_events(events)

    def _wake_idle(self) -> None:
        waiters, self._idle_waiters = self._idle_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    # -- running operations ------------------------------------------------

    @property
    def busy(self) -> bool:
        return bool(self._waiters)

    def is_closed(self) -> bool:
        return self.engine.state is EngineState.CLOSED or self.transport is None or (
            self.transport.is_closing()
        )

    def submit(self, op: Operation) -> asyncio.Future[Operation]:
        if self.transport is None or self.transport.is_closing():
            raise ConnectionDoesNotExistError("the connection is closed") from self.engine.close_error
        self.engine.send(op)
        self.transport.write(self.engine.data_to_send())
        waiter: asyncio.Future[Operation] = self.loop.create_future()
        self._waiters.append(waiter)
        return waiter

    async def run(self, op: Operation) -> Operation:
        return await self.submit(op)

    async def run_flow(self, flow: Flow[T]) -> T:
        try:
            op = next(flow)
            while True:
                done = await self.submit(op)
                op = flow.send(done)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            flow.close()

    async def wait_idle(self) -> None:
        """Wait until every submitted operation has completed."""
        if not self._waiters:
            return
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._idle_waiters.append(waiter)
        await waiter

    # -- connecting ----------------------------------------------------------

    async def negotiate_ssl(self) -> bytes:
        """Send SSLRequest and return the server's one-byte answer."""
        assert self.transport is not None
        self._ssl_answer = self.loop.create_future()
        self.transport.write(wire.ssl_request())
        answer = await self._ssl_answer
        if len(answer) != 1:
            # Bytes after the answer were not protected by TLS: a
            # man-in-the-middle could have injected them (CVE-2021-23222).
            raise InterfaceError("unexpected data after the server's SSL response")
        return answer

    def close_transport(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()


async def _open_transport(
    host: str, port: int, make_protocol: Callable[[], AsyncioDriver], loop: asyncio.AbstractEventLoop
) -> AsyncioDriver:
    if host.startswith("/"):
        _, protocol = await loop.create_unix_connection(
            make_protocol, f"{host}/.s.PGSQL.{port}"
        )
    else:
        _, protocol = await loop.create_connection(make_protocol, host, port)
    return protocol


async def open_driver(
    params: ConnectParams,
    make_session: Callable[[], Session],
    timeout: float | None,
) -> AsyncioDriver:
    """Connect to the first reachable address, negotiate SSL, authenticate."""
    loop = asyncio.get_running_loop()
    errors: list[str] = []
    last_exc: BaseException | None = None
    for host, port in params.addresses:
        try:
            if timeout is None:
                return await _connect_one(params, host, port, make_session, loop)
            return await asyncio.wait_for(
                _connect_one(params, host, port, make_session, loop), timeout
            )
        except asyncio.TimeoutError as exc:
            errors.append(f"{host}:{port}: timed out after {timeout} s")
            last_exc = exc
        except OSError as exc:
            errors.append(f"{host}:{port}: {exc}")
            last_exc = exc
        except ConnectionDoesNotExistError as exc:
            errors.append(f"{host}:{port}: {exc}")
            last_exc = exc
    if len(params.addresses) == 1 and isinstance(last_exc, asyncio.TimeoutError):
        raise asyncio.TimeoutError(f"connecting to {errors[0]}") from None
    if len(params.addresses) == 1 and isinstance(last_exc, OSError):
        raise last_exc
    raise ConnectionDoesNotExistError(
        "could not connect to any host: " + "; ".join(errors)
    ) from last_exc


async def _connect_one(
    params: ConnectParams,
    host: str,
    port: int,
    make_session: Callable[[], Session],
    loop: asyncio.AbstractEventLoop,
) -> AsyncioDriver:
    session = make_session()
    driver = await _open_transport(host, port, lambda: AsyncioDriver(session, loop), loop)
    try:
        if not host.startswith("/") and params.sslmode != "disable" and params.ssl_context:
            answer = await driver.negotiate_ssl()
            if answer == b"S":
                assert driver.transport is not None
                new_transport = await loop.start_tls(
                    driver.transport,
                    driver,
                    params.ssl_context,
                    server_hostname=host if params.ssl_context.check_hostname else None,
                )
                assert new_transport is not None
                driver.transport = new_transport  # type: ignore[assignment]
            elif answer == b"N":
                if params.sslmode in ("require", "verify-ca", "verify-full"):
                    raise ConnectionDoesNotExistError(
                        f"the server at {host}:{port} does not support SSL, "
                        f"but sslmode={params.sslmode} requires it"
                    )
            else:
                raise ConnectionDoesNotExistError(
                    f"unexpected answer {answer!r} to SSLRequest from {host}:{port}"
                )
        op = await driver.run(Startup(params.startup_parameters(), params.password))
        if op.error is not None:
            raise op.error
        return driver
    except BaseException:
        driver.close_transport()
        raise


async def send_cancel_request(host: str, port: int, pid: int, secret: int, sslmode: str) -> None:
    """Ask the server to cancel what the given backend is running.

    The request goes over a new connection (PostgreSQL docs, "Canceling
    Requests in Progress", section 55.2.7); wait for the server to close it,
    so the cancel has been delivered before the caller goes on.
    """
    if host.startswith("/"):
        reader, writer = await asyncio.open_unix_connection(f"{host}/.s.PGSQL.{port}")
    else:
        reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(wire.cancel_request(pid, secret))
        await writer.drain()
        await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
