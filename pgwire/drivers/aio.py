"""The asyncio driver: fulfils the flows' requests with an event loop.

An ``asyncio.BufferedProtocol`` (callbacks, not streams, for speed) feeds received
bytes to the sans-I/O engine, writes what it returns and resolves one future
per awaited operation.  :meth:`AsyncioDriver.run_flow` runs any flow of
:mod:`pgwire.flows`: each request it yields (see
:mod:`pgwire.flows.requests`) is fulfilled here by waiting -- for a
connection, for bytes, for an operation, for the user's coroutine -- and
nothing else: what to send and what it means is the flows' business.

Timeouts are deadlines on the loop's clock (:meth:`AsyncioDriver.deadline`);
a wait past its deadline raises ``TimeoutError`` into the flow.  A task
cancelled while it waits gets its ``CancelledError`` the same way.
"""

from __future__ import annotations

import asyncio
import inspect
import os
import socket
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ..exceptions import ConnectionDoesNotExistError, InterfaceError
from ..flows.requests import (
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
from ..protocol.engine import Engine, EngineState, Operation, StreamingOperation
from .sockets import (
    RECEIVE_BUFFER_SIZE,
    new_socket,
    numeric_endpoints,
    receive_buffer,
    resolved,
    tls_info,
)

T = TypeVar("T")

if sys.version_info >= (3, 11):
    TimeoutError_ = TimeoutError
else:  # asyncio's own class before 3.11: raise one that both names catch

    class TimeoutError_(asyncio.TimeoutError, TimeoutError):  # noqa: N801
        pass


# Requests whose wait may never block while data flows: their deadline is
# checked before they start.
_STREAMING = frozenset({Write, Progress, Call})

# A streaming operation with this much unread data stops the reading from the
# socket until the flow has taken it below the low mark.
_HIGH_WATER = 4 * 1024 * 1024
_LOW_WATER = 1024 * 1024



class _Channel(asyncio.BufferedProtocol):
    """The protocol object of one transport; forwards to its driver until detached.

    A driver opens several transports over its life (one per address tried
    while connecting); callbacks of a transport it gave up on go nowhere.

    The loop reads into :meth:`get_buffer` and calls :meth:`buffer_updated`
    right after, in the same callback (asyncio's selector loop and its TLS
    layer, uvloop), so the channels of a thread share one buffer.  A
    proactor loop (Windows) fills it later, asynchronously, so there each
    channel has its own.
    """

    __slots__ = ("driver", "transport", "buffer")

    def __init__(self, driver: AsyncioDriver) -> None:
        self.driver: AsyncioDriver | None = driver
        self.transport: Any = None
        if isinstance(driver.loop, getattr(asyncio, "ProactorEventLoop", ())):
            self.buffer = memoryview(bytearray(RECEIVE_BUFFER_SIZE))
        else:
            self.buffer = receive_buffer()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # TCP_NODELAY is set already: the transport wraps a socket of
        # new_socket() (and TLS keeps the socket underneath).
        self.transport = transport

    def get_buffer(self, sizehint: int) -> memoryview:
        return self.buffer

    def buffer_updated(self, nbytes: int) -> None:
        driver = self.driver
        if driver is not None:
            driver._received(self.buffer[:nbytes].tobytes())

    def eof_received(self) -> bool | None:
        return None  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        driver = self.driver
        if driver is not None:
            driver._lost(exc)

    def pause_writing(self) -> None:
        if self.driver is not None:
            self.driver._write_paused = True

    def resume_writing(self) -> None:
        driver = self.driver
        if driver is not None:
            driver._write_paused = False
            driver._wake(driver._drain_waiter)
            driver._drain_waiter = None


async def _connect_socket(loop: asyncio.AbstractEventLoop, sock: socket.socket,
                          address: Any) -> None:
    """Connect the non-blocking ``sock`` to ``address`` (numeric: resolved by the flow).

    Done here rather than with ``loop.sock_connect``, which resolves the
    address again: uvloop does so on its thread pool, a hand-off to another
    thread and back for every connection attempt.
    """
    if sys.platform == "win32":  # the proactor loop cannot wait for writability
        await loop.sock_connect(sock, address)
        return
    try:
        sock.connect(address)
        return
    except (BlockingIOError, InterruptedError):
        pass
    fd = sock.fileno()
    writable: asyncio.Future[None] = loop.create_future()

    def on_writable() -> None:
        if not writable.done():
            writable.set_result(None)

    loop.add_writer(fd, on_writable)
    try:
        await writable
    finally:
        loop.remove_writer(fd)
    error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if error:
        raise OSError(error, os.strerror(error))  # ConnectionRefusedError, ...


class AsyncioDriver:
    """One server connection (and the streams it needs) on an asyncio loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.loop = loop or asyncio.get_running_loop()
        self.engine: Engine | None = None
        self.transport: Any = None
        self._channel: _Channel | None = None
        self._engine_mode = False
        self._raw = bytearray()
        self._raw_eof = False
        self._raw_waiter: asyncio.Future[None] | None = None
        self._progress_op: Operation | None = None
        self._progress_waiter: asyncio.Future[None] | None = None
        self._stream_op: StreamingOperation | None = None
        self._read_paused = False
        self._event_waiter: asyncio.Future[None] | None = None
        self._write_paused = False
        self._drain_waiter: asyncio.Future[None] | None = None
        self._closed_waiter: asyncio.Future[None] | None = None
        self._idle_waiter: asyncio.Future[None] | None = None
        self.on_events: Callable[[list[Any]], None] | None = None
        self.on_lost: Callable[[], None] | None = None

    # -- clock and state ----------------------------------------------------

    def deadline(self, timeout: float | None) -> float | None:
        """The loop time ``timeout`` seconds from now (None: no deadline)."""
        return None if timeout is None else self.loop.time() + timeout

    @property
    def busy(self) -> bool:
        return self.engine is not None and self.engine.busy

    def is_closed(self) -> bool:
        engine = self.engine
        transport = self.transport
        return (
            engine is None or engine.state is EngineState.CLOSED
            or transport is None or transport.is_closing()
        )

    def probe(self) -> None:
        """Nothing to take in: this driver reads all the time, so a connection
        the server closed while idle is known to be closed already."""

    def spawn(self) -> AsyncioDriver:
        """A new driver on the same loop, for a stream of its own (a cancel request)."""
        return AsyncioDriver(self.loop)

    def abort(self) -> None:
        """Drop the connection at once (no Terminate, nothing awaited)."""
        if self.transport is not None:
            self.transport.abort()

    # -- running flows ------------------------------------------------------

    async def run_flow(self, flow: Flow[T], deadline: float | None = None,
                       first: Any = None) -> T:
        """Run ``flow`` to its end, fulfilling each request; return its result.

        ``deadline`` (loop time) bounds every wait of the flow; a flow's own
        :class:`~pgwire.flows.requests.Deadline` can only shorten it.
        ``first``: the flow was started already and asked for this.
        """
        limit = deadline
        result: Any = None
        try:
            request = flow.send(None) if first is None else first
            while True:
                try:
                    if isinstance(request, Operation):
                        self.start_operation(request)
                        if request.done:
                            result = request
                        else:
                            waiter = request.waiter = self.loop.create_future()
                            try:
                                result = await (
                                    waiter if limit is None else self._until(waiter, limit)
                                )
                            finally:
                                request.waiter = None
                    elif type(request) is Deadline:
                        limit = shorter_deadline(deadline, self.loop.time(), request)
                        result = None
                    else:
                        result = await self._fulfil(request, limit)
                except BaseException as exc:
                    # The flow decides: handle it (a refused address, a
                    # failed source) or let it through.
                    request = flow.throw(exc)
                    continue
                request = flow.send(result)
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        finally:
            flow.close()

    async def until_idle(self, deadline: float | None) -> None:
        """Wait until every operation sent has completed (or the connection is lost)."""
        while self.busy and not self.is_closed():
            waiter: asyncio.Future[None] = self.loop.create_future()
            self._idle_waiter = waiter
            try:
                await (waiter if deadline is None else self._until(waiter, deadline))
            finally:
                self._idle_waiter = None

    def start_operation(self, op: Operation) -> None:
        """Send ``op`` now, behind those in flight (see :meth:`wait_operation`)."""
        engine = self.engine
        transport = self.transport
        if engine is None or transport is None or transport.is_closing():
            raise ConnectionDoesNotExistError("the connection is closed") from (
                engine.close_error if engine is not None else None
            )
        if not self._engine_mode:
            self._engine_mode = True
            if self._raw:  # bytes that arrived before the session started
                data, self._raw = bytes(self._raw), bytearray()
                self._received(data)
        engine.send(op)
        transport.write(engine.data_to_send())

    def wait_operation(self, op: Operation, limit: float | None) -> Awaitable[Operation]:
        """An awaitable of ``op``, sent by :meth:`start_operation`, once it
        has completed.  Without a limit it is the future ``_received``
        resolves: no coroutine of its own for the common case."""
        waiter: asyncio.Future[Operation] = self.loop.create_future()
        if op.done:
            waiter.set_result(op)
            return waiter
        op.waiter = waiter
        if limit is None:
            return waiter
        return self._wait_until(op, waiter, limit)

    async def _wait_until(self, op: Operation, waiter: asyncio.Future[Operation],
                          limit: float) -> Operation:
        try:
            done: Operation = await self._until(waiter, limit)
            return done
        finally:
            op.waiter = None

    async def _until(self, waiter: asyncio.Future[Any], limit: float) -> Any:
        """Await ``waiter`` until loop time ``limit``; then TimeoutError."""
        handle = self.loop.call_at(limit, _expire, waiter)
        try:
            return await waiter
        finally:
            handle.cancel()

    async def _fulfil(self, request: Any, limit: float | None) -> Any:
        kind = type(request)
        if limit is not None and kind in _STREAMING and self.loop.time() >= limit:
            # Data that keeps arriving (or a source that never waits) must
            # not keep a call going past its deadline.
            raise TimeoutError_()
        if kind is Write:
            return await self._write(request.data, limit)
        if kind is Progress:
            return await self._progress(request.op, limit)
        if kind is Call:
            result = request.function(*request.args)
            if inspect.isawaitable(result):
                result = await self._await(result, limit)
            return result
        if kind is Start:
            self.start_operation(request.op)
            return None
        if kind is Wait:
            return await self.wait_operation(request.op, limit)
        if kind is Flush:
            if self.engine is not None and self.transport is not None:
                out = self.engine.data_to_send()
                if out and not self.transport.is_closing():
                    self.transport.write(out)
            return None
        if kind is Read:
            return await self._read(limit)
        if kind is Events:
            return await self._events(limit)
        if kind is Resolve:
            return await self._resolve(request, limit)
        if kind is Open:
            return await self._open(request, limit)
        if kind is StartTLS:
            return await self._start_tls(request, limit)
        if kind is Close:
            return await self._close(limit)
        raise InterfaceError(f"a flow asked for something no driver does: {request!r}")

    async def _await(self, awaitable: Awaitable[Any], limit: float | None) -> Any:
        if limit is None:
            return await awaitable
        if sys.version_info >= (3, 11):
            # A deadline on this task, where wait_for would wrap the awaitable
            # in a task of its own (four per connect, at a connect timeout).
            try:
                async with asyncio.timeout_at(limit):
                    return await awaitable
            except TimeoutError:
                raise TimeoutError_() from None
        remaining = limit - self.loop.time()
        try:
            return await asyncio.wait_for(awaitable, max(remaining, 0))
        except asyncio.TimeoutError:
            raise TimeoutError_() from None

    # -- connecting -----------------------------------------------------------

    async def _resolve(self, request: Resolve, limit: float | None) -> list[Any]:
        numeric = numeric_endpoints(request.host, request.port)
        if numeric is not None:
            return numeric
        infos = await self._await(
            self.loop.getaddrinfo(request.host, request.port, type=socket.SOCK_STREAM), limit
        )
        return resolved(infos)

    async def _open(self, request: Open, limit: float | None) -> None:
        self._detach()
        channel = _Channel(self)
        endpoint = request.endpoint
        sock = new_socket(endpoint, request.options)
        try:
            await self._await(_connect_socket(self.loop, sock, endpoint.address), limit)
            if endpoint.family == getattr(socket, "AF_UNIX", None):
                connecting: Awaitable[Any] = self.loop.create_unix_connection(
                    lambda: channel, sock=sock
                )
            else:
                connecting = self.loop.create_connection(lambda: channel, sock=sock)
            await self._await(connecting, limit)
        except BaseException:
            if channel.transport is not None:
                channel.transport.abort()
            sock.close()
            raise
        self._channel = channel
        self.transport = channel.transport
        self.engine = request.engine
        self._engine_mode = False
        self._raw = bytearray()
        self._raw_eof = False
        self._closed_waiter = self.loop.create_future()

    async def _start_tls(self, request: StartTLS, limit: float | None) -> Any:
        assert self._channel is not None
        transport = await self._await(
            self.loop.start_tls(
                self.transport, self._channel, request.context,
                server_hostname=request.server_hostname,
            ),
            limit,
        )
        if transport is None:
            raise ConnectionDoesNotExistError("the connection closed while TLS was starting")
        self.transport = self._channel.transport = transport
        return tls_info(transport.get_extra_info("ssl_object"))

    def _detach(self) -> None:
        """Give up the current transport (a failed connection attempt)."""
        channel = self._channel
        if channel is not None:
            channel.driver = None
            if channel.transport is not None:
                channel.transport.abort()
        self._channel = None
        self.transport = None

    async def _close(self, limit: float | None) -> None:
        """Close the stream and wait until the transport has gone."""
        transport = self.transport
        if transport is None:
            return
        if not transport.is_closing():
            transport.close()
        waiter = self._closed_waiter
        if waiter is not None and not waiter.done():
            try:
                await (self._until(waiter, limit) if limit is not None else waiter)
            except TimeoutError:
                transport.abort()

    # -- raw bytes and writing ---------------------------------------------------

    async def _read(self, limit: float | None) -> bytes:
        while not self._raw and not self._raw_eof:
            waiter: asyncio.Future[None] = self.loop.create_future()
            self._raw_waiter = waiter
            try:
                await (self._until(waiter, limit) if limit is not None else waiter)
            finally:
                self._raw_waiter = None
        data, self._raw = bytes(self._raw), bytearray()
        return data

    async def _write(self, data: bytes, limit: float | None) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            engine = self.engine
            raise ConnectionDoesNotExistError("the connection is closed") from (
                engine.close_error if engine is not None else None
            )
        transport.write(data)
        if self._write_paused and not transport.is_closing():
            waiter: asyncio.Future[None] = self.loop.create_future()
            self._drain_waiter = waiter
            await (self._until(waiter, limit) if limit is not None else waiter)
        # Let the server's answer be read even when the flow's data source
        # never awaits (a plain list of records for COPY): a failure stops
        # the sending early.
        await asyncio.sleep(0)

    # -- streaming and events --------------------------------------------------------

    async def _progress(self, op: Operation, limit: float | None) -> None:
        if isinstance(op, StreamingOperation):
            self._stream_op = op
            if self._read_paused and op.buffered < _LOW_WATER:
                self._resume_reading()
        if op.done or op.progressed():
            return
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._progress_op = op
        self._progress_waiter = waiter
        try:
            await (self._until(waiter, limit) if limit is not None else waiter)
        finally:
            self._progress_op = None
            self._progress_waiter = None

    async def _events(self, limit: float | None) -> None:
        waiter: asyncio.Future[None] = self.loop.create_future()
        self._event_waiter = waiter
        try:
            await (self._until(waiter, limit) if limit is not None else waiter)
        finally:
            self._event_waiter = None

    def _resume_reading(self) -> None:
        self._read_paused = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.resume_reading()

    # -- transport callbacks (through _Channel) -------------------------------------

    def _received(self, data: bytes) -> None:
        engine = self.engine
        if not self._engine_mode or engine is None:
            self._raw += data
            self._wake(self._raw_waiter)
            return
        completed = engine.receive_data(data)
        out = engine.data_to_send()
        transport = self.transport
        if out and transport is not None:
            transport.write(out)
        if completed:
            self._complete(completed)
            if self._idle_waiter is not None and not engine.busy:
                self._wake(self._idle_waiter)
        op = self._progress_op
        if op is not None and (op.done or op.progressed()):
            self._wake(self._progress_waiter)
        stream = self._stream_op
        if stream is not None:
            if stream.done:
                self._stream_op = None
                if self._read_paused:
                    self._resume_reading()
            elif stream.buffered > _HIGH_WATER and not self._read_paused and transport:
                transport.pause_reading()
                self._read_paused = True
        if engine.events:
            self._deliver_events()
        if engine.state is EngineState.CLOSED and transport is not None:
            transport.close()

    def _lost(self, exc: Exception | None) -> None:
        error = None
        if exc is not None:
            error = ConnectionDoesNotExistError(f"the connection was lost: {exc}")
            error.__cause__ = exc
        self._raw_eof = True
        self._wake(self._raw_waiter)
        engine = self.engine
        if engine is not None:
            completed = engine.receive_eof(error)
            if completed:
                self._complete(completed)
            if engine.events:
                self._deliver_events()
        self._wake(self._progress_waiter)
        self._wake(self._drain_waiter)
        self._wake(self._event_waiter)
        self._wake(self._closed_waiter)
        self._wake(self._idle_waiter)
        if self._engine_mode and self.on_lost is not None:
            self.on_lost()

    @staticmethod
    def _complete(completed: list[Operation]) -> None:
        for op in completed:
            waiter = op.waiter
            if waiter is not None:
                op.waiter = None  # no cycle through the future's result
                if not waiter.done():
                    waiter.set_result(op)

    def _deliver_events(self) -> None:
        assert self.engine is not None
        events = self.engine.events
        self.engine.events = []
        if self.on_events is not None:
            self.on_events(events)
        self._wake(self._event_waiter)

    @staticmethod
    def _wake(waiter: asyncio.Future[None] | None) -> None:
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError_())
