"""What a flow may ask of a driver: the whole vocabulary of waiting.

A flow is a generator; each value it yields is a request, and the driver
sends back the request's outcome (or throws the exception that fulfilling it
raised: an ``OSError``, a ``TimeoutError``, a task's cancellation...).  An
:class:`~pgwire.protocol.engine.Operation` yielded as it is means "send it and
wait until it completes" -- the common case, with no request object to
build.  Everything else:

=================  ==========================================================
request            the driver...
=================  ==========================================================
:class:`Resolve`   looks a host name up, without blocking an event loop
:class:`Open`      opens a stream to an :class:`Endpoint` (TCP or Unix
                   socket); the bytes read before the first operation are
                   raw (:class:`Read`), then they go to the engine
:class:`StartTLS`  wraps the stream in TLS (``ssl.SSLContext``); returns
                   the server's certificate and the ALPN protocol
:class:`Write`     sends bytes (CopyData, an SSLRequest...), reading what the
                   server sends meanwhile; waits while the send buffer is full
:class:`Read`      returns the next raw bytes (``b""`` when the server closed)
:class:`Start`     sends an operation's messages without waiting for it
:class:`Wait`      waits until an operation that was sent completes
:class:`Progress`  waits until an operation that was sent completes or has
                   something for the flow (``op.progressed()``: data to
                   take, the server waiting for COPY data)
:class:`Flush`     sends what the engine queued meanwhile (a CopyFail), no wait
:class:`Events`    waits until a notice or notification was delivered
:class:`Call`      calls user code, awaiting its result if it is awaitable
:class:`Deadline`  makes later waits of this flow fail with ``TimeoutError``
                   after so many seconds (``None``: no limit of its own)
:class:`Close`     closes the stream (after Terminate, or a cancel request)
=================  ==========================================================

A flow never reads a clock, never touches a socket and never imports an event
loop: the same flow runs on the asyncio driver and the blocking driver.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

from ..protocol.engine import Engine, Operation

T = TypeVar("T")

#: A flow that returns a ``T``: yields requests (or operations), gets outcomes back.
Flow = Generator[Any, Any, T]


class Request:
    """Base class of everything a flow yields besides a bare operation."""

    __slots__ = ()


class Endpoint:
    """One address to open a stream to: what :class:`Resolve` returns.

    ``family`` is a ``socket.AF_*`` constant; ``address`` the socket address
    (``(ip, port)``, ``(ip, port, flow, scope)`` or a Unix socket's path).
    """

    __slots__ = ("family", "address")

    def __init__(self, family: int, address: Any) -> None:
        self.family = family
        self.address = address

    def __repr__(self) -> str:
        return f"Endpoint({self.family!r}, {self.address!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Endpoint) and other.family == self.family
                and other.address == self.address)

    def __hash__(self) -> int:
        return hash((self.family, self.address))


class Resolve(Request):
    """Look ``host`` up (every IPv4 and IPv6 address, in the resolver's
    order); the outcome is a list of :class:`Endpoint`."""

    __slots__ = ("host", "port")

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port


class Open(Request):
    """Open a stream to ``endpoint``, with TCP ``options`` (keepalives...).

    ``engine`` gets the stream's protocol bytes once the first operation
    starts.
    """

    __slots__ = ("endpoint", "engine", "options")

    def __init__(self, endpoint: Endpoint, engine: Engine | None, options: Any = None) -> None:
        self.endpoint = endpoint
        self.engine = engine
        self.options = options


class TLSInfo:
    """What a TLS handshake established: the outcome of :class:`StartTLS`."""

    __slots__ = ("certificate", "certificate_der", "alpn_protocol")

    def __init__(
        self, certificate: dict[str, Any], certificate_der: bytes | None,
        alpn_protocol: str | None,
    ) -> None:
        #: ``SSLSocket.getpeercert()``: empty when the chain was not verified.
        self.certificate = certificate
        self.certificate_der = certificate_der
        self.alpn_protocol = alpn_protocol


class StartTLS(Request):
    """Wrap the stream in TLS; the outcome is a :class:`TLSInfo`."""

    __slots__ = ("context", "server_hostname")

    def __init__(self, context: Any, server_hostname: str | None) -> None:
        self.context = context
        self.server_hostname = server_hostname


class Write(Request):
    """Send ``data``.  ``whole``: it ends at a message boundary and must go out whole.

    A deadline that passes while whole data is being sent does not tear it:
    the send goes on (for :data:`WHOLE_WRITE_GRACE` seconds at most), then
    the timeout is raised, so the flow can still end its request cleanly.
    """

    __slots__ = ("data", "whole")

    def __init__(self, data: bytes, whole: bool = False) -> None:
        self.data = data
        self.whole = whole


#: How long a whole Write may go on past its deadline (see :class:`Write`).
WHOLE_WRITE_GRACE = 10.0


class Read(Request):
    __slots__ = ()


class Start(Request):
    __slots__ = ("op",)

    def __init__(self, op: Operation) -> None:
        self.op = op


class Wait(Request):
    __slots__ = ("op",)

    def __init__(self, op: Operation) -> None:
        self.op = op


class Progress(Request):
    __slots__ = ("op",)

    def __init__(self, op: Operation) -> None:
        self.op = op


class Flush(Request):
    __slots__ = ()


class Events(Request):
    __slots__ = ()


class Call(Request):
    __slots__ = ("function", "args")

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function = function
        self.args = args


class Deadline(Request):
    __slots__ = ("seconds",)

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds


class Close(Request):
    __slots__ = ()


def shorter_deadline(deadline: float | None, now: float, request: Deadline) -> float | None:
    """The deadline of a flow after its ``Deadline`` request, on the driver's
    clock (``now``): the request's own, unless the caller's comes first."""
    if request.seconds is None:
        return deadline
    limit = now + request.seconds
    return limit if deadline is None or limit < deadline else deadline


READ = Read()
FLUSH = Flush()
EVENTS = Events()
CLOSE = Close()
