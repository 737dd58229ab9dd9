"""A TCP proxy that adds latency, for tests that count round trips.

``DelayProxy(host, port, delay=0.01)`` listens on 127.0.0.1 (a free port,
``proxy.port``) and forwards every connection to ``host:port``, holding each
chunk of data for ``delay`` seconds in each direction, so one round trip
costs about ``2 * delay`` more than it would directly (``delay=0``: none).
Order is kept per direction; ``client_bytes`` counts what clients sent.  The proxy runs its own event loop in a daemon thread, so it
works the same for the asyncio and the blocking API (and keeps its timing
while the test's own loop is busy)::

    with DelayProxy(cluster.host, cluster.port, delay=0.01) as proxy:
        conn = await pgwire.connect(host="127.0.0.1", port=proxy.port, ...)

``stop()`` (or leaving the ``with`` block) closes the listener and every
forwarded connection, stops the loop and joins the thread.

``best_of(attempts, run)`` times ``await run(attempt)`` several times and
returns the fastest, in seconds: the least disturbed by a busy machine, so
round-trip counts derived from it stay steady.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

__all__ = ["ONE_WAY_DELAY", "DelayProxy", "best_of"]

ONE_WAY_DELAY = 0.010  # seconds each way: a round trip costs ~20 ms more


async def best_of(attempts: int, run: Callable[[int], Awaitable[Any]]) -> float:
    """The fastest of ``attempts`` timed runs of ``await run(attempt)``."""
    best = float("inf")
    for attempt in range(attempts):
        started = time.monotonic()
        await run(attempt)
        best = min(best, time.monotonic() - started)
    return best


class _Pipe(asyncio.Protocol):
    """One side of a proxied connection: what it receives goes, delayed, to its peer."""

    def __init__(self, proxy: DelayProxy, client_side: bool = False) -> None:
        self.proxy = proxy
        self.client_side = client_side  # receives what the client sends
        self.transport: asyncio.Transport | None = None
        self.peer: _Pipe | None = None
        # Data from the peer waiting to be written here, with its due time.
        self._queue: deque[tuple[float, bytes | None]] = deque()
        self._timer: asyncio.TimerHandle | None = None
        self._early: list[bytes | None] = []  # received before the peer was connected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.proxy._transports.add(transport)

    def data_received(self, data: bytes) -> None:
        if self.client_side:
            self.proxy.client_bytes += len(data)
        if self.peer is None:
            self._early.append(data)
        else:
            self.peer.push(data)

    def eof_received(self) -> bool:
        if self.peer is None:
            self._early.append(None)
        else:
            self.peer.push(None)
        return True  # keep our side open until the peer's EOF is delivered

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.proxy._transports.discard(self.transport)
        if self.peer is not None:
            self.peer.push(None)

    def attach(self, peer: _Pipe) -> None:
        self.peer = peer
        early, self._early = self._early, []
        for data in early:
            peer.push(data)

    def push(self, data: bytes | None) -> None:
        """Write ``data`` here after the delay (None: close after the delay)."""
        loop = self.proxy._loop
        assert loop is not None
        self._queue.append((loop.time() + self.proxy.delay, data))
        if self._timer is None:
            self._schedule()

    def _schedule(self) -> None:
        loop = self.proxy._loop
        assert loop is not None
        self._timer = loop.call_at(self._queue[0][0], self._flush)

    def _flush(self) -> None:
        self._timer = None
        loop = self.proxy._loop
        assert loop is not None
        now = loop.time()
        transport = self.transport
        while self._queue and self._queue[0][0] <= now:
            _, data = self._queue.popleft()
            if transport is None or transport.is_closing():
                self._queue.clear()
                return
            if data is None:
                transport.close()
                self._queue.clear()
                return
            transport.write(data)
        if self._queue:
            self._schedule()


class DelayProxy:
    """Forward TCP connections to ``host:port``, delaying each direction by ``delay`` s."""

    def __init__(self, host: str, port: int, *, delay: float = 0.01) -> None:
        self.target = (host, port)
        self.delay = delay
        self.host = "127.0.0.1"
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.AbstractServer | None = None
        self._thread: threading.Thread | None = None
        self._transports: set[asyncio.Transport] = set()
        self.connections = 0  # how many client connections were accepted
        self.client_bytes = 0  # bytes received from clients, all connections together

    # -- lifecycle -----------------------------------------------------------

    def start(self) -> DelayProxy:
        if self._thread is not None:
            raise RuntimeError("proxy already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                self._server = loop.run_until_complete(
                    loop.create_server(self._accept, self.host, 0)
                )
                self.port = self._server.sockets[0].getsockname()[1]
            except BaseException as exc:  # pragma: no cover - reported to start()
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="delay-proxy", daemon=True)
        self._thread.start()
        ready.wait(10)
        if failure:
            self._thread.join(5)
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close the listener and every connection; stop and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            for transport in list(self._transports):
                transport.abort()
            self._transports.clear()
            await asyncio.sleep(0)
            loop.stop()

        def kick() -> None:
            loop.create_task(shutdown())

        loop.call_soon_threadsafe(kick)
        thread.join(10)
        if thread.is_alive():  # pragma: no cover
            raise RuntimeError("the delay proxy's thread did not stop")

    def __enter__(self) -> DelayProxy:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- connections -----------------------------------------------------------

    def _accept(self) -> _Pipe:
        client = _Pipe(self, client_side=True)
        self.connections += 1
        assert self._loop is not None
        self._loop.create_task(self._connect_upstream(client))
        return client

    async def _connect_upstream(self, client: _Pipe) -> None:
        assert self._loop is not None
        try:
            _, upstream = await self._loop.create_connection(
                lambda: _Pipe(self), *self.target
            )
        except OSError:
            if client.transport is not None:
                client.transport.close()
            return
        if client.transport is None or client.transport.is_closing():
            # The client left while we connected: drop the upstream side too.
            if upstream.transport is not None:
                upstream.transport.close()
            return
        client.attach(upstream)
        upstream.attach(client)
