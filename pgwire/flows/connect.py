"""Connecting and disconnecting: every conversation outside the queries.

* :func:`connect_flow`: libpq's connection sequence (PostgreSQL docs,
  "Specifying Multiple Hosts", section 32.1.1.3): each host of the list in
  turn (shuffled with ``load_balance_hosts=random``), each address of a
  host name, each attempt with its own ``connect_timeout``; TLS negotiated
  as ``sslmode`` and ``sslnegotiation`` say; startup and authentication;
  then ``target_session_attrs`` and pooler detection;
* :func:`cancel_flow`: a CancelRequest over a stream of its own, over TLS
  when the session uses TLS;
* :func:`drain_flow`: wait until every operation sent has been answered;
* :func:`terminate_flow`: Terminate, then close;
* :func:`events_flow`: wait for a notification or notice.

Written once as sans-I/O flows (see :mod:`pgwire.flows.requests`), driven
by both drivers.
"""

from __future__ import annotations

import logging
import random
import socket
import ssl
from collections.abc import Callable
from typing import Any

from ..conninfo.params import ConnectParams, Host
from ..conninfo.tls import ALPN_PROTOCOL, check_server_name
from ..exceptions import (
    ConnectionDoesNotExistError,
    InterfaceError,
    PostgresError,
    TargetServerAttributeNotMatched,
)
from ..protocol import wire
from ..protocol.auth import tls_server_end_point
from ..protocol.engine import Engine
from ..protocol.operations import AuthPolicy, Startup
from .requests import (
    CLOSE,
    EVENTS,
    READ,
    Call,
    Deadline,
    Endpoint,
    Flow,
    Open,
    Resolve,
    StartTLS,
    TLSInfo,
    Wait,
    Write,
)
from .statements import Session

# How long a cancel request may take before it is given up.
CANCEL_TIMEOUT = 10.0


class _TryNext(Exception):
    """This address failed in a way that lets the next one be tried."""

    def __init__(self, message: str, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class _SessionNotWanted(Exception):
    """The server answered but does not satisfy target_session_attrs."""


class CancelTarget:
    """Where and how a session was opened: where its cancel requests go."""

    __slots__ = ("endpoint", "tls_context", "server_hostname", "direct_tls")

    def __init__(
        self, endpoint: Endpoint, tls_context: Any = None, server_hostname: str | None = None,
        direct_tls: bool = False,
    ) -> None:
        self.endpoint = endpoint
        #: The TLS context of the session (None: it does not use TLS).
        self.tls_context = tls_context
        self.server_hostname = server_hostname
        self.direct_tls = direct_tls


log = logging.getLogger("pgwire.connection")


def connect_flow(
    params: ConnectParams,
    new_session: Callable[[], Session],
    *,
    detect_pooler: bool,
    shuffle: Callable[[list[Any]], None] = random.shuffle,
) -> Flow[Session]:
    """Open a session on the first host that answers and suits; return it.

    A host that cannot be reached, drops the connection, does not answer in
    time or does not match ``target_session_attrs`` is noted and the next
    one is tried; a server that answers and rejects us (a wrong password,
    an unknown database) ends the whole attempt, as in libpq.
    """
    hosts = list(params.hosts)
    if params.load_balance_hosts:
        shuffle(hosts)
    wanted = params.target_session_attrs
    # prefer-standby: standbys first, then anything (libpq's second pass).
    passes = ["standby", "any"] if wanted == "prefer-standby" else [wanted]
    failures: list[str] = []
    last_error: BaseException | None = None
    attempts = 0
    mismatches = 0
    for wanted_now in passes:
        for host in hosts:
            try:
                endpoints = yield from _endpoints(params, host, shuffle)
            except _TryNext as exc:
                failures.append(str(exc))
                last_error = exc.cause
                attempts += 1
                continue
            for endpoint in endpoints:
                attempts += 1
                label = _attempt_label(host, endpoint)
                log.debug("connecting to server %s", label)
                try:
                    session = yield from _connect_endpoint(params, host, endpoint, new_session)
                except _TryNext as exc:
                    failures.append(f"connection to server {label} failed: {exc}")
                    log.debug("connection to %s failed: %s", label, exc)
                    last_error = exc.cause
                    continue
                try:
                    yield from _check_session_attrs(session, wanted_now)
                except _SessionNotWanted as exc:
                    failures.append(f"connection to server {label} failed: {exc}")
                    log.debug("connection to %s not wanted (%s): %s", label, wanted_now, exc)
                    mismatches += 1
                    yield from _quit(session)
                    continue
                if detect_pooler:
                    session.defer_pooler_probe()
                engine = session.engine
                log.debug(
                    "connected to %s: TLS %s, authentication %s, server %s, backend pid %s%s",
                    label, "on" if session.tls_in_use else "off", session.auth_method,
                    engine.parameters.get("server_version", "?"), engine.backend_pid,
                    ", behind a pooler: unnamed statements" if session.pooler_detected else "")
                yield Deadline(None)
                return session
    if mismatches and mismatches == attempts:
        raise TargetServerAttributeNotMatched("\n".join(failures))
    if attempts == 1 and isinstance(last_error, TimeoutError):
        # The driver's own TimeoutError class (asyncio's, on the asyncio API).
        raise type(last_error)(failures[0]) from None
    if attempts == 1 and isinstance(last_error, OSError):
        error = type(last_error)(last_error.errno, failures[0]) if last_error.errno else last_error
        raise error from None
    raise ConnectionDoesNotExistError("\n".join(failures)) from last_error


def _attempt_label(host: Host, endpoint: Endpoint) -> str:
    if host.is_unix_socket:
        return f'on socket "{endpoint.address}"'
    ip = endpoint.address[0] if isinstance(endpoint.address, tuple) else endpoint.address
    name = host.host if host.host == ip else f"{host.host} ({ip})"
    return f'at "{name}", port {host.port}'


def _endpoints(
    params: ConnectParams, host: Host, shuffle: Callable[[list[Any]], None]
) -> Flow[list[Endpoint]]:
    if host.is_unix_socket:
        path = f"{host.host}/.s.PGSQL.{host.port}"
        if path.startswith("@"):  # Linux abstract namespace
            path = "\0" + path[1:]
        return [Endpoint(socket.AF_UNIX, path)]
    target = host.hostaddr or host.host
    yield Deadline(params.connect_timeout)
    try:
        endpoints: list[Endpoint] = yield Resolve(target, host.port)
    except TimeoutError as exc:
        raise _TryNext(f'could not translate host name "{target}" to address: timed out', exc) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _TryNext(f'could not translate host name "{target}" to address: {reason}', exc) from None
    if params.load_balance_hosts:
        shuffle(endpoints)
    return endpoints


def _connect_endpoint(
    params: ConnectParams, host: Host, endpoint: Endpoint, new_session: Callable[[], Session]
) -> Flow[Session]:
    """One address: open, TLS as sslmode says (retrying where libpq retries),
    start up.  Raises _TryNext when the next address may be tried."""
    tls = params.tls
    use_tls = tls.context is not None and not host.is_unix_socket
    mode = tls.sslmode
    # allow: plaintext first, TLS if the server refuses it; prefer: TLS
    # first, plaintext if the handshake fails.
    first_tls = use_tls and mode != "allow"
    token = params.oauth_token if isinstance(params.oauth_token, str) else None
    while True:
        try:
            try:
                return (yield from _attempt(params, host, endpoint, new_session, first_tls, token))
            except _RetryOtherWay as retry:
                if mode == "allow" and use_tls:
                    return (yield from _attempt(params, host, endpoint, new_session, True, token))
                if mode == "prefer":
                    return (yield from _attempt(params, host, endpoint, new_session, False, token))
                raise retry.error from None
        except _OAuthChallenged as challenged:
            if token is not None or not callable(params.oauth_token):
                raise challenged.error from None
            token = yield from _oauth_token_flow(params, challenged.challenge)


class _OAuthChallenged(Exception):
    """The server named the issuer and scope it wants a token for."""

    def __init__(self, challenge: Any, error: BaseException) -> None:
        super().__init__(str(error))
        self.challenge = challenge
        self.error = error


def _oauth_token_flow(params: ConnectParams, challenge: Any) -> Flow[str]:
    """Ask the user's provider for a token for the server's issuer and scope."""
    if params.oauth_issuer is not None and params.oauth_issuer.rstrip("/") != challenge.issuer.rstrip("/"):
        # libpq refuses a server that names another issuer than the one
        # configured: a token must not go to a server that did not ask for it.
        raise InterfaceError(
            f'the server asks for tokens of issuer "{challenge.issuer}", but oauth_issuer is '
            f'"{params.oauth_issuer}"'
        )
    token = yield Call(params.oauth_token, challenge)
    if not isinstance(token, str) or not token:
        raise InterfaceError(f"the oauth_token provider returned {token!r}, not a token")
    return token


class _RetryOtherWay(Exception):
    """sslmode=allow/prefer: try again with (or without) TLS."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


def _attempt(
    params: ConnectParams, host: Host, endpoint: Endpoint, new_session: Callable[[], Session],
    want_tls: bool, oauth_token: str | None,
) -> Flow[Session]:
    tls = params.tls
    session = new_session()
    yield Deadline(params.connect_timeout)
    try:
        yield Open(endpoint, session.engine, params.socket)
        info: TLSInfo | None = None
        if want_tls:
            info = yield from _negotiate_tls(params, host)
        session.cancel_target = CancelTarget(
            endpoint, tls.context if info is not None else None,
            tls.server_hostname(host.host) if info is not None else None,
            tls.negotiation == "direct",
        )
        session.address = (host.host, host.port)
        session.tls_in_use = info is not None
        op = yield Startup(
            params.startup_parameters(), host.password, params.max_protocol_version,
            _auth_policy(params, host, info, oauth_token),
        )
    except _RetryOtherWay:
        yield CLOSE
        raise
    except TimeoutError as exc:
        yield CLOSE
        raise _TryNext(f"timeout expired after {params.connect_timeout:g} s", exc) from None
    except ConnectionDoesNotExistError as exc:
        yield CLOSE
        raise _TryNext(str(exc), exc) from None
    except OSError as exc:
        yield CLOSE
        if want_tls and tls.sslmode == "prefer" and _is_tls_failure(exc):
            raise _RetryOtherWay(exc) from None
        raise _TryNext(exc.strerror or str(exc), exc) from None
    except BaseException:
        yield CLOSE
        raise
    if op.error is not None:
        yield CLOSE
        error = op.error
        if op.oauth_challenge is not None:
            raise _OAuthChallenged(op.oauth_challenge, error)
        if isinstance(error, PostgresError) and tls.context is not None \
                and not host.is_unix_socket and (
                    (not want_tls and tls.sslmode == "allow")
                    or (want_tls and session.tls_in_use and tls.sslmode == "prefer")):
            # libpq: a server that refuses the session one way (pg_hba.conf
            # hostssl/hostnossl lines) is asked again the other way.
            raise _RetryOtherWay(error)
        if isinstance(error, ConnectionDoesNotExistError):
            raise _TryNext(str(error), error)
        if host.password_file is not None and getattr(error, "sqlstate", None) == "28P01":
            error.add_note(f'password retrieved from file "{host.password_file}"')
        raise error
    session.auth_method = op.auth_method
    engine = session.engine
    if engine.protocol_version < params.min_protocol_version:
        yield from _quit(session)
        raise InterfaceError(
            f"server only supports protocol version 3.{engine.protocol_minor}, but "
            f"min_protocol_version was set to 3.{params.min_protocol_version & 0xFFFF}"
        )
    return session


def _is_tls_failure(exc: OSError) -> bool:
    return isinstance(exc, ssl.SSLError)


def _negotiate_tls(params: ConnectParams, host: Host) -> Flow[TLSInfo | None]:
    """SSLRequest (or direct TLS) and the handshake; None when the server
    declined and the mode lets us go on without TLS."""
    tls = params.tls
    assert tls.context is not None
    if tls.negotiation != "direct":
        # PostgreSQL docs, "SSL Session Encryption" (section 54.2.10).
        yield Write(wire.ssl_request())
        answer = yield READ
        if not answer:
            raise ConnectionDoesNotExistError(
                "the server closed the connection during SSL negotiation"
            )
        if answer[:1] == b"N":
            if len(answer) != 1:
                raise InterfaceError("unexpected data after the server's SSL response")
            if tls.required:
                raise InterfaceError(
                    f'server does not support SSL, but SSL was required (sslmode={tls.sslmode})'
                )
            return None
        if answer[:1] == b"E":
            # A server older than 7.0 (or something else) answering with an
            # error: libpq retries without SSL when the mode allows it.
            if tls.required:
                raise ConnectionDoesNotExistError(
                    "the server answered the SSL request with an error"
                )
            raise _RetryOtherWay(ConnectionDoesNotExistError("SSL request refused"))
        if answer != b"S":
            if answer[:1] == b"S":
                # Bytes after the answer were not protected by TLS: a
                # man-in-the-middle could have injected them (CVE-2021-23222).
                raise InterfaceError("unexpected data after the server's SSL response")
            raise ConnectionDoesNotExistError(
                f"unexpected answer {answer[:16]!r} to SSLRequest"
            )
    info: TLSInfo = yield StartTLS(tls.context, tls.server_hostname(host.host))
    if tls.negotiation == "direct" and info.alpn_protocol != ALPN_PROTOCOL:
        raise InterfaceError(
            "direct SSL connection was established without ALPN protocol negotiation extension"
        )
    if tls.check_name:
        problem = check_server_name(info.certificate, host.host)
        if problem is not None:
            raise InterfaceError(problem)
    return info


def _auth_policy(
    params: ConnectParams, host: Host, info: TLSInfo | None, oauth_token: str | None
) -> AuthPolicy:
    der = info.certificate_der if info is not None else None
    requirement = params.require_auth
    return AuthPolicy(
        allowed=None if not requirement.text else requirement.allowed,
        requirement=requirement.text,
        channel_binding=params.channel_binding,
        tls_end_point=(lambda: tls_server_end_point(der)) if der is not None else None,
        password_note=params.password_file_note,
        oauth_token=oauth_token,
        oauth_enabled=params.oauth_token is not None,
    )


def _check_session_attrs(session: Session, wanted: str) -> Flow[None]:
    """libpq's target_session_attrs checks, from the parameters the server
    reports (PostgreSQL 14+) or, failing that, a query."""
    if wanted == "any":
        return
    reported = session.engine.parameters
    if wanted in ("read-write", "read-only"):
        if "in_hot_standby" in reported and "default_transaction_read_only" in reported:
            read_only = (reported["in_hot_standby"] == "on"
                         or reported["default_transaction_read_only"] == "on")
        else:
            read_only = (yield from _query_flag(session, "SHOW transaction_read_only"))
        if wanted == "read-write" and read_only:
            raise _SessionNotWanted("session is read-only")
        if wanted == "read-only" and not read_only:
            raise _SessionNotWanted("session is not read-only")
        return
    if "in_hot_standby" in reported:
        standby = reported["in_hot_standby"] == "on"
    else:
        standby = (yield from _query_flag(session, "SELECT pg_catalog.pg_is_in_recovery()"))
    if wanted == "primary" and standby:
        raise _SessionNotWanted("server is in hot standby mode")
    if wanted == "standby" and not standby:
        raise _SessionNotWanted("server is not in hot standby mode")


def _query_flag(session: Session, sql: str) -> Flow[bool]:
    op = yield from session.simple_query_flow(sql, decode_rows=True)
    value = op.results[0].rows[0][0]
    return value is True or value in ("on", "t", "true")


def _quit(session: Session) -> Flow[None]:
    try:
        yield Write(session.engine.terminate())
    except OSError:
        pass
    yield CLOSE


def cancel_flow(target: CancelTarget, pid: int, secret: bytes) -> Flow[None]:
    """Ask the server to cancel what backend ``pid`` runs (a stream of its own).

    PostgreSQL docs, "Canceling Requests in Progress" (section 54.2.8): the
    server closes the stream once it has handled the request, so waiting for
    that means the cancel has been delivered.  The request goes to the
    address the session was opened on, over TLS when the session uses TLS
    (as libpq 17 does).  Best effort: a cancel that cannot be delivered is
    given up quietly; the caller then waits for the statement to end by
    itself.
    """
    yield Deadline(CANCEL_TIMEOUT)
    try:
        yield Open(target.endpoint, None)
        if target.tls_context is not None:
            if not target.direct_tls:
                yield Write(wire.ssl_request())
                answer = yield READ
                if answer != b"S":
                    raise ConnectionDoesNotExistError("the server refused TLS for the cancel request")
            yield StartTLS(target.tls_context, target.server_hostname)
        yield Write(wire.cancel_request(pid, secret))
        while (yield READ):
            pass
    except (OSError, ConnectionDoesNotExistError, InterfaceError):
        pass  # refused, reset, timed out (TimeoutError is an OSError)
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
