"""A fault-injecting TCP proxy: cut or stall a PostgreSQL connection at a chosen point.

``FaultProxy(host, port)`` listens on 127.0.0.1 (a free port,
``proxy.port``) and forwards each connection to ``host:port``, reading the
protocol as it goes (PostgreSQL docs, "Message Formats": one type byte and
an int32 length, except the untyped startup packet) so that a
:class:`Fault` can fire at an exact place::

    with FaultProxy(cluster.host, cluster.port) as proxy:
        proxy.fault = Fault("to_client", message=b"D", occurrence=1000)
        conn = await pgwire.connect(host="127.0.0.1", port=proxy.port, ...)
        await conn.fetch("SELECT * FROM generate_series(1, 100000)")  # cut mid-result

A fault fires once on each connection: on those accepted while it is set
(counting from their start) and on those live when it is set (counting
from then on): before the ``occurrence``-th message of type ``message`` in
its direction is forwarded (everything before it is), or once
``after_bytes`` bytes of that direction have been forwarded.  Its
``action`` is ``"close"`` (both sockets closed: the client reads end of
file), ``"reset"`` (the client's socket closed with an RST) or ``"stall"``
(nothing more forwarded either way; the sockets stay open until the proxy
stops).  After TLS is negotiated the bytes are opaque: only ``after_bytes``
can place a fault there.  ``proxy.fired`` counts the faults that fired (so
a test can check its fault was reached), ``proxy.cut_all()`` closes every
live connection now (a server that goes away while the client is idle).

One daemon thread serves every connection with a selector; loopback only.
"""

from __future__ import annotations

import selectors
import socket
import struct
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

__all__ = ["Fault", "FaultProxy"]

_SSL_REQUEST = 80877103
_GSSENC_REQUEST = 80877104
_TLS_HANDSHAKE = 0x16  # first byte of a TLS ClientHello (direct TLS)
_CHUNK = 65536


@dataclass(frozen=True)
class Fault:
    """Where a connection breaks and how.

    ``direction``: ``"to_server"`` (what the client sends) or
    ``"to_client"``.  Give ``message`` (a type byte such as ``b"D"``, with
    ``occurrence``, counted from 1) or ``after_bytes``.
    """

    direction: Literal["to_server", "to_client"]
    message: bytes | None = None
    occurrence: int = 1
    after_bytes: int | None = None
    action: Literal["close", "reset", "stall"] = "close"

    def __post_init__(self) -> None:
        if self.direction not in ("to_server", "to_client"):
            raise ValueError(f"direction must be 'to_server' or 'to_client', not {self.direction!r}")
        if (self.message is None) == (self.after_bytes is None):
            raise ValueError("give exactly one of message= and after_bytes=")
        if self.message is not None and len(self.message) != 1:
            raise ValueError(f"message must be one type byte, not {self.message!r}")
        if self.occurrence < 1:
            raise ValueError("occurrence counts from 1")
        if self.action not in ("close", "reset", "stall"):
            raise ValueError(f"action must be 'close', 'reset' or 'stall', not {self.action!r}")


class _Direction:
    """One direction of a proxied connection and the reading of its messages."""

    def __init__(self, name: str, src: socket.socket, dst: socket.socket) -> None:
        self.name = name
        self.src = src
        self.dst = dst
        # "untyped": startup-phase packets (length first); "typed": regular
        # messages; "answer": the one-byte reply to SSLRequest/GSSENCRequest;
        # "opaque": TLS, not read.
        self.mode = "untyped" if name == "to_server" else "typed"
        self.pending = b""  # received, not yet forwarded
        self.remaining = 0  # bytes of the current message still to forward
        self.forwarded = 0
        self.counts: dict[bytes, int] = {}
        # What had passed when the fault was armed: its counts start there.
        self.base_counts: dict[bytes, int] = {}
        self.base_forwarded = 0
        self.out = bytearray()  # decided, waiting to be written to dst


class _Link:
    """A client connection and its server connection."""

    def __init__(self, client: socket.socket, server: socket.socket, fault: Fault | None) -> None:
        self.client = client
        self.server = server
        self.fault = fault
        self.up = _Direction("to_server", client, server)
        self.down = _Direction("to_client", server, client)
        self.stalled = False
        self.closed = False
        self.arm(fault)

    def arm(self, fault: Fault | None) -> None:
        """Put ``fault`` on this connection, counting from what has passed so far."""
        self.fault = fault
        for direction in (self.up, self.down):
            direction.base_counts = dict(direction.counts)
            direction.base_forwarded = direction.forwarded


class FaultProxy:
    """A loopback TCP proxy in front of ``host:port`` that injects faults (:class:`Fault`)."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self._fault: Fault | None = None
        self.fired = 0
        self.accepted = 0
        self._links: list[_Link] = []
        self._lock = threading.Lock()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._listener.setblocking(False)
        self.host = "127.0.0.1"
        self.port: int = self._listener.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._stopping = False
        self._pending_cut = False
        self._cut_action = "close"
        self._thread = threading.Thread(target=self._serve, name="pgwire-fault-proxy",
                                        daemon=True)
        self._thread.start()

    # -- control -----------------------------------------------------------------

    @property
    def fault(self) -> Fault | None:
        """The fault in force (None: forward everything).

        Setting it arms it on the live connections too, counting messages
        and bytes from that moment (so a query's rows are counted, not the
        connection's startup), and on every connection accepted later,
        counting from its start.
        """
        return self._fault

    @fault.setter
    def fault(self, fault: Fault | None) -> None:
        with self._lock:
            self._fault = fault
            for link in self._links:
                link.arm(fault)

    def cut_all(self, action: Literal["close", "reset"] = "close") -> None:
        """Break every live connection now (``close`` or ``reset``)."""
        with self._lock:
            self._pending_cut = True
            self._cut_action = action
        self._wake_w.send(b"x")

    def stop(self) -> None:
        """Close the listener and every connection; join the thread."""
        if self._stopping:
            return
        self._stopping = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(10)
        for link in list(self._links):
            self._close(link, "close")
        self._selector.close()
        self._listener.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- the loop ----------------------------------------------------------------

    def _serve(self) -> None:
        while not self._stopping:
            for key, _events in self._selector.select(timeout=1.0):
                sock = key.fileobj
                if sock is self._listener:
                    self._accept()
                elif sock is self._wake_r:
                    self._wake_r.recv(4096)
                    with self._lock:
                        cut, self._pending_cut = self._pending_cut, False
                    if cut:
                        for link in list(self._links):
                            self._close(link, self._cut_action)
                else:
                    link, direction = key.data
                    if not link.closed and not link.stalled:
                        self._pump(link, direction)

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        try:
            server = socket.create_connection(self.target, timeout=10)
        except OSError:
            client.close()
            return
        for sock in (client, server):
            sock.setblocking(True)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.accepted += 1
        with self._lock:
            link = _Link(client, server, self._fault)
            self._links.append(link)
        self._selector.register(client, selectors.EVENT_READ, (link, link.up))
        self._selector.register(server, selectors.EVENT_READ, (link, link.down))

    def _pump(self, link: _Link, direction: _Direction) -> None:
        try:
            data = direction.src.recv(_CHUNK)
        except OSError:
            data = b""
        if not data:
            self._close(link, "close")
            return
        with self._lock:
            fire = self._read(link, direction, data)
            fault = link.fault
        try:
            if direction.out:
                direction.dst.sendall(direction.out)
                direction.forwarded += len(direction.out)
                direction.out.clear()
        except OSError:
            self._close(link, "close")
            return
        if fire:
            self.fired += 1
            assert fault is not None
            link.fault = None  # once per connection
            if fault.action == "stall":
                link.stalled = True
                self._unregister(link)
            else:
                self._close(link, fault.action)

    def _read(self, link: _Link, d: _Direction, data: bytes) -> bool:
        """Decide what of ``data`` is forwarded (into ``d.out``); True when the fault fires."""
        fault = link.fault if link.fault is not None and link.fault.direction == d.name else None
        d.pending += data
        while d.pending:
            if d.mode == "opaque":
                d.out += d.pending
                d.pending = b""
                break
            if d.remaining:
                take = min(d.remaining, len(d.pending))
                d.out += d.pending[:take]
                d.pending = d.pending[take:]
                d.remaining -= take
                continue
            if d.mode == "answer":
                answer = d.pending[:1]
                d.remaining = 1
                # 'S' (TLS) or 'G' (GSS): encrypted from here, both ways.
                if answer in (b"S", b"G"):
                    link.up.mode = "opaque"
                    d.mode = "opaque"
                else:
                    d.mode = "typed"
                continue
            if d.mode == "untyped":
                if d.pending[0] == _TLS_HANDSHAKE:  # direct TLS (PostgreSQL 17)
                    d.mode = link.down.mode = "opaque"
                    continue
                if len(d.pending) < 8:
                    break
                length, code = struct.unpack("!ii", d.pending[:8])
                d.remaining = length
                if code in (_SSL_REQUEST, _GSSENC_REQUEST):
                    link.down.mode = "answer"
                else:
                    d.mode = "typed"  # a startup packet (or CancelRequest)
                continue
            if len(d.pending) < 5:
                break
            kind = d.pending[:1]
            length = struct.unpack("!i", d.pending[1:5])[0]
            count = d.counts.get(kind, 0) + 1
            if fault is not None and fault.message == kind \
                    and fault.occurrence == count - d.base_counts.get(kind, 0):
                return True  # what came before the message is in d.out
            d.counts[kind] = count
            d.remaining = 1 + length
        if fault is not None and fault.after_bytes is not None:
            return self._cut_at_bytes(d, fault)
        return False

    @staticmethod
    def _cut_at_bytes(d: _Direction, fault: Fault) -> bool:
        if fault.after_bytes is None:
            return False
        room = fault.after_bytes - (d.forwarded - d.base_forwarded)
        if room < len(d.out):
            del d.out[max(room, 0):]
            return True
        return False

    def _unregister(self, link: _Link) -> None:
        """Stop reading from both sockets of ``link`` (unregistered once only)."""
        for sock in (link.client, link.server):
            try:
                self._selector.unregister(sock)
            except (KeyError, ValueError):
                pass

    def _close(self, link: _Link, action: str) -> None:
        if link.closed:
            return
        link.closed = True
        self._unregister(link)
        if action == "reset":
            # SO_LINGER with a zero timeout: close() sends RST, not FIN.
            link.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                   struct.pack("ii", 1, 0))
        for sock in (link.client, link.server):
            try:
                sock.close()
            except OSError:
                pass
        with self._lock:
            if link in self._links:
                self._links.remove(link)
