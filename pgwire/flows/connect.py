"""Connecting and disconnecting: every conversation outside the queries.

* :func:`connect_flow`: try each address in turn (each attempt with its own
  ``connect_timeout``), negotiate TLS, start up and authenticate, then run
  the checks that follow startup (pooler detection);
* :func:`cancel_flow`: a CancelRequest over a stream of its own;
* :func:`drain_flow`: wait until every operation sent has been answered;
* :func:`terminate_flow`: Terminate, then close;
* :func:`events_flow`: wait for a notification or notice.

Written once as sans-I/O flows (see :mod:`pgwire.flows.requests`), driven
by both drivers.
"""

from __future__ import annotations

from collections.abc import Callable

from ..conninfo.params import ConnectParams
from ..exceptions import ConnectionDoesNotExistError, InterfaceError
from ..protocol import wire
from ..protocol.engine import Engine
from ..protocol.operations import Startup
from .requests import CLOSE, EVENTS, READ, Deadline, Flow, Open, StartTLS, Wait, Write
from .statements import Session

# How long a cancel request may take before it is given up.
CANCEL_TIMEOUT = 10.0

_SSL_REQUIRED = ("require", "verify-ca", "verify-full")


def connect_flow(
    params: ConnectParams, new_session: Callable[[], Session], *, detect_pooler: bool
) -> Flow[Session]:
    """Open a session at the first address that answers; return it.

    An address that refuses the connection, drops it or does not answer in
    time is reported and the next one is tried; a server that answers and
    rejects us (a wrong password, an unknown database) ends the attempt at
    once, as in libpq.
    """
    errors: list[str] = []
    last_error: BaseException | None = None
    timeout = params.connect_timeout
    for host, port in params.addresses:
        yield Deadline(timeout)
        try:
            session = yield from _connect_address(params, host, port, new_session)
            if detect_pooler:
                session.note_pooler((yield from detect_pooler_flow(session)))
        except TimeoutError as exc:
            errors.append(f"{host}:{port}: timed out after {timeout} s")
            last_error = exc
            yield CLOSE
            continue
        except (OSError, ConnectionDoesNotExistError) as exc:
            errors.append(f"{host}:{port}: {exc}")
            last_error = exc
            yield CLOSE
            continue
        yield Deadline(None)
        return session
    if len(params.addresses) == 1 and isinstance(last_error, TimeoutError):
        # The driver's own TimeoutError class (asyncio's, on the asyncio API).
        raise type(last_error)(f"connecting to {errors[0]}") from None
    if len(params.addresses) == 1 and isinstance(last_error, OSError):
        raise last_error
    raise ConnectionDoesNotExistError(
        "could not connect to any host: " + "; ".join(errors)
    ) from last_error


def _connect_address(
    params: ConnectParams, host: str, port: int, new_session: Callable[[], Session]
) -> Flow[Session]:
    session = new_session()
    yield Open(host, port, session.engine)
    session.address = (host, port)
    context = params.ssl_context
    if not host.startswith("/") and params.sslmode != "disable" and context is not None:
        # PostgreSQL docs, "SSL Session Encryption" (section 54.2.10).
        yield Write(wire.ssl_request())
        answer = yield READ
        if not answer:
            raise ConnectionDoesNotExistError(
                "the server closed the connection during SSL negotiation"
            )
        if answer[:1] == b"S":
            if len(answer) != 1:
                # Bytes after the answer were not protected by TLS: a
                # man-in-the-middle could have injected them (CVE-2021-23222).
                raise InterfaceError("unexpected data after the server's SSL response")
            yield StartTLS(context, host if context.check_hostname else None)
        elif answer == b"N":
            if params.sslmode in _SSL_REQUIRED:
                raise ConnectionDoesNotExistError(
                    f"the server at {host}:{port} does not support SSL, "
                    f"but sslmode={params.sslmode} requires it"
                )
        else:
            raise ConnectionDoesNotExistError(
                f"unexpected answer {answer[:16]!r} to SSLRequest from {host}:{port}"
            )
    op = yield Startup(params.startup_parameters(), params.password)
    if op.error is not None:
        raise op.error
    return session


def detect_pooler_flow(session: Session) -> Flow[bool]:
    """True when a connection pooler sits between us and the server.

    A pooler answers the startup itself: the BackendKeyData it sends is its
    own, so the process id there differs from the server's
    ``pg_backend_pid()``.  Newer pgbouncers also report ``pgbouncer.*``
    parameters.
    """
    engine = session.engine
    if any(name.startswith("pgbouncer") for name in engine.parameters):
        return True
    if engine.backend_pid is None:
        return True
    op = yield from session.simple_query_flow("SELECT pg_backend_pid()", decode_rows=True)
    try:
        server_pid = int(op.results[0].rows[0][0])
    except (IndexError, TypeError, ValueError):
        return True
    return server_pid != engine.backend_pid


def cancel_flow(address: tuple[str, int], pid: int, secret: bytes) -> Flow[None]:
    """Ask the server to cancel what backend ``pid`` runs (a stream of its own).

    PostgreSQL docs, "Canceling Requests in Progress" (section 54.2.8): the
    server closes the stream once it has handled the request, so waiting for
    that means the cancel has been delivered.  Best effort: a cancel that
    cannot be delivered is given up quietly; the caller then waits for the
    statement to end by itself.
    """
    host, port = address
    yield Deadline(CANCEL_TIMEOUT)
    try:
        yield Open(host, port, None)
        yield Write(wire.cancel_request(pid, secret))
        while (yield READ):
            pass
    except OSError:  # refused, reset, timed out (TimeoutError is an OSError)
        pass
    yield CLOSE


def drain_flow(engine: Engine) -> Flow[None]:
    """Wait until every operation sent on ``engine`` has completed."""
    for op in engine.pending:
        if not op.done:
            yield Wait(op)


def terminate_flow(engine: Engine) -> Flow[None]:
    """End the session gracefully: Terminate, then close the stream."""
    yield Write(engine.terminate())
    yield CLOSE


def events_flow() -> Flow[None]:
    """Wait until a notification or notice has been delivered, or the deadline."""
    try:
        yield EVENTS
    except TimeoutError:
        pass
