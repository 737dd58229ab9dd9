"""Sockets as both drivers open them: TCP options, and what a TLS handshake gave.

The connection flow decides where to connect and with which options
(:class:`pgwire.flows.requests.Open`); this module only turns that into a
configured, non-blocking socket, the same way for the asyncio and the
blocking driver, and gives both the buffer they receive into.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

from ..flows.requests import Endpoint, TLSInfo


def new_socket(endpoint: Endpoint, options: Any) -> socket.socket:
    """A non-blocking socket for ``endpoint``, not yet connected."""
    sock = socket.socket(endpoint.family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        if endpoint.family != getattr(socket, "AF_UNIX", None):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if options is not None:
                _set_tcp_options(sock, options)
    except BaseException:
        sock.close()
        raise
    return sock


def _set_tcp_options(sock: socket.socket, options: Any) -> None:
    # libpq's keepalives* and tcp_user_timeout (PostgreSQL docs, "Parameter
    # Key Words"): where the platform has no such option it is skipped, as
    # libpq does.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1 if options.keepalives else 0)
    if not options.keepalives:
        return
    for name, value in (
        ("TCP_KEEPIDLE", options.keepalives_idle),
        ("TCP_KEEPINTVL", options.keepalives_interval),
        ("TCP_KEEPCNT", options.keepalives_count),
    ):
        if value is not None and hasattr(socket, name):
            sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), value)
    if options.tcp_user_timeout is not None and hasattr(socket, "TCP_USER_TIMEOUT"):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, options.tcp_user_timeout)


# Received bytes land in one buffer per thread and are copied out at once,
# by both drivers.  A receive into a new bytes object of this size (asyncio's
# own loop, socket.recv) is served by malloc with mmap, then mremap to shrink
# it and munmap to free it: three system calls and a page fault per read.
RECEIVE_BUFFER_SIZE = 256 * 1024
_thread_buffers = threading.local()


def receive_buffer() -> memoryview:
    """This thread's receive buffer (filled and copied out before any other use)."""
    view: memoryview | None = getattr(_thread_buffers, "view", None)
    if view is None:
        view = _thread_buffers.view = memoryview(bytearray(RECEIVE_BUFFER_SIZE))
    return view


def tls_info(ssl_object: Any) -> TLSInfo:
    """The server's certificate (parsed when verified, and DER) and ALPN choice."""
    if ssl_object is None:
        return TLSInfo({}, None, None)
    return TLSInfo(
        ssl_object.getpeercert() or {},
        ssl_object.getpeercert(binary_form=True),
        ssl_object.selected_alpn_protocol(),
    )


def numeric_endpoints(host: str, port: int) -> list[Endpoint] | None:
    """The endpoints of a numeric IPv4 or IPv6 address, or None for a host name.

    getaddrinfo() with AI_NUMERICHOST parses the address without any lookup,
    so it cannot block; an event loop calls it in place and sends only names
    to its resolver thread (the hop costs more CPU than the parse).
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_NUMERICHOST)
    except (socket.gaierror, UnicodeError):
        return None
    return resolved(infos)


def resolved(infos: list[Any]) -> list[Endpoint]:
    """getaddrinfo() results as endpoints, in order, without repeats."""
    endpoints: list[Endpoint] = []
    for family, _type, _proto, _name, address in infos:
        endpoint = Endpoint(family, address)
        if endpoint not in endpoints:
            endpoints.append(endpoint)
    return endpoints
