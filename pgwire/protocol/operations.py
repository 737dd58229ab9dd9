"""The operations the engine runs: what each sends and how it reads the answers.

* :class:`Startup`: StartupMessage, authentication, the first ReadyForQuery;
* :class:`SimpleQuery`: a Query message (one or more statements);
* :class:`Extended`: a batch of Parse/Bind/Describe/Execute/Close ending
  with one Sync;
* :class:`CopyIn`, :class:`CopyOut`, :class:`CopyBoth`: the COPY
  sub-protocols over a Query (PostgreSQL docs, "COPY Operations", section
  54.2.6); CopyBoth carries streaming replication.

An operation parses the messages addressed to it; which messages may arrive
when is checked by the engine's transition table first.  Values are not
decoded here: row decoders come from the layers above (see
:meth:`Operation.row_sink`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from ..exceptions import (
    InterfaceError,
    ProtocolError,
    UnsupportedClientFeatureError,
    exception_from_fields,
)
from . import wire
from .auth import (
    OAUTH_MECHANISM,
    OAuthChallenge,
    ScramSha256,
    md5_password,
    oauth_initial_response,
    parse_oauth_challenge,
)
from .engine import AUTH_OK, DecodeRow, Engine, Operation, StreamingOperation, decode_failure
from .messages import (
    Column,
    parse_backend_key_data,
    parse_command_tag,
    parse_copy_response,
    parse_fields,
    parse_negotiate_protocol_version,
    parse_parameter_description,
    parse_row_description,
)
from .wire import BodyReader

# Backend message types, as C constants in the compiled build (operations.pxd).
_DATA_ROW = wire.DATA_ROW
_AUTHENTICATION = wire.AUTHENTICATION
_BACKEND_KEY_DATA = wire.BACKEND_KEY_DATA
_BIND_COMPLETE = wire.BIND_COMPLETE
_CLOSE_COMPLETE = wire.CLOSE_COMPLETE
_COMMAND_COMPLETE = wire.COMMAND_COMPLETE
_COPY_BOTH_RESPONSE = wire.COPY_BOTH_RESPONSE
_COPY_DATA = wire.COPY_DATA
_COPY_DONE = wire.COPY_DONE
_COPY_IN_RESPONSE = wire.COPY_IN_RESPONSE
_COPY_OUT_RESPONSE = wire.COPY_OUT_RESPONSE
_COPY_OUT_REFUSED = (
    "COPY ... TO STDOUT sends its rows as COPY data, which a query cannot return: "
    "use copy_from_query() or copy_from_table()"
)
_EMPTY_QUERY_RESPONSE = wire.EMPTY_QUERY_RESPONSE
_ERROR_RESPONSE = wire.ERROR_RESPONSE
_NEGOTIATE_PROTOCOL_VERSION = wire.NEGOTIATE_PROTOCOL_VERSION
_NO_DATA = wire.NO_DATA
_PARAMETER_DESCRIPTION = wire.PARAMETER_DESCRIPTION
_PARSE_COMPLETE = wire.PARSE_COMPLETE
_PORTAL_SUSPENDED = wire.PORTAL_SUSPENDED
_READY_FOR_QUERY = wire.READY_FOR_QUERY
_ROW_DESCRIPTION = wire.ROW_DESCRIPTION

# CopyFail reasons are truncated: the server logs them whole.
_MAX_REASON = 1000


class AuthPolicy:
    """What the client allows during authentication (PostgreSQL docs,
    "Parameter Key Words": ``require_auth``, ``channel_binding``).

    ``allowed`` names the methods the server may ask for ("password", "md5",
    "scram-sha-256", "gss", "sspi", "oauth", and "none" for no request at
    all); ``channel_binding`` is "disable", "prefer" or "require";
    ``tls_end_point`` the RFC 5929 binding data of the TLS connection (None
    without TLS).
    """

    __slots__ = ("allowed", "requirement", "channel_binding", "tls_end_point", "password_note",
                 "oauth_token", "oauth_enabled")

    def __init__(
        self,
        allowed: frozenset[str] | None = None,
        requirement: str = "",
        channel_binding: str = "prefer",
        tls_end_point: Callable[[], bytes] | None = None,
        password_note: str | None = None,
        oauth_token: str | None = None,
        oauth_enabled: bool = False,
    ) -> None:
        self.allowed = allowed
        #: A bearer token for OAUTHBEARER; without one (but ``oauth_enabled``:
        #: the user has a token provider) the server is asked what it wants.
        self.oauth_token = oauth_token
        self.oauth_enabled = oauth_enabled
        self.requirement = requirement
        self.channel_binding = channel_binding
        #: Computes the binding data when SCRAM-SHA-256-PLUS is chosen.
        self.tls_end_point = tls_end_point
        #: Added to "no password was given" (e.g. why a password file was ignored).
        self.password_note = password_note

    def check(self, method: str, request: str) -> None:
        if self.allowed is not None and method not in self.allowed:
            raise InterfaceError(
                f'authentication method requirement "{self.requirement}" failed: '
                f"server {request}"
            )


_DEFAULT_POLICY = AuthPolicy()


class Startup(Operation):
    """StartupMessage and authentication, up to the first ReadyForQuery."""

    __slots__ = ("_params", "_user", "_password", "_scram", "authenticated", "auth_method",
                 "protocol_version", "_policy", "channel_bound", "_oauth", "oauth_challenge")

    starts_session = True

    def __init__(
        self,
        params: dict[str, str],
        password: str | None,
        protocol_version: int = wire.PROTOCOL_3_0,
        policy: AuthPolicy | None = None,
    ) -> None:
        super().__init__()
        # The version asked for; the engine adopts it when the operation is sent.
        self.protocol_version = protocol_version
        self._params = params
        self._user = params.get("user", "")
        self._password = password
        self._scram: ScramSha256 | None = None
        self._policy = policy or _DEFAULT_POLICY
        self.authenticated = False
        self.auth_method = "trust"
        #: True once SCRAM-SHA-256-PLUS bound the session to the TLS channel.
        self.channel_bound = False
        self._oauth = False
        #: Set when the server answered an OAuth attempt with what it wants
        #: (the connect flow then asks the user's provider and tries again).
        self.oauth_challenge: OAuthChallenge | None = None

    def messages(self) -> bytes:
        return wire.startup_message(self._params, self.protocol_version)

    def _require_password(self, method: str) -> str:
        if self._password is None:
            note = self._policy.password_note
            raise InterfaceError(
                f"the server requested {method} authentication, but no password was given"
                + (f" ({note})" if note else "")
            )
        return self._password

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == _AUTHENTICATION:
            self._authenticate(engine, body)
            return False
        if kind == _BACKEND_KEY_DATA:
            engine.backend_pid, engine.backend_secret = parse_backend_key_data(
                body, engine.protocol_minor
            )
            return False
        if kind == _READY_FOR_QUERY:
            return self.ready(body)
        if kind == _ERROR_RESPONSE:
            # Startup errors are fatal: the server closes the connection.
            self.set_error(exception_from_fields(parse_fields(body)))
            self.done = True
            return True
        if kind == _NEGOTIATE_PROTOCOL_VERSION:
            newest_minor, unknown = parse_negotiate_protocol_version(body)
            # PostgreSQL docs, "Protocol versions": the server offers the
            # newest minor version it has, older than the one asked for.
            if not 0 <= newest_minor < engine.protocol_minor:
                raise ProtocolError(
                    f"NegotiateProtocolVersion offers 3.{newest_minor}, "
                    f"but 3.{engine.protocol_minor} was asked for"
                )
            engine.protocol_version = (engine.protocol_version & ~0xFFFF) | newest_minor
            engine.unrecognized_options = unknown
            return False
        raise ProtocolError(f"unexpected message {chr(kind)!r} during startup")

    def _authenticate(self, engine: Engine, body: bytes) -> None:
        reader = BodyReader(body)
        code = reader.int32()
        policy = self._policy
        if code == 0:  # AuthenticationOk
            if self._oauth and self.oauth_challenge is not None:
                raise ProtocolError("the server accepted an OAuth exchange it had failed")
            if self._scram is not None:
                raise ProtocolError("SCRAM exchange ended without a server signature")
            if self.auth_method == "trust":
                policy.check("none", "did not complete authentication")
            if policy.channel_binding == "require" and not self.channel_bound:
                raise InterfaceError(
                    "channel binding required, but server authenticated client without "
                    "channel binding"
                )
            self.authenticated = True
            engine.advance(AUTH_OK)
            return
        if code == 3:  # cleartext password
            policy.check("password", "requested a cleartext password")
            self._refuse_without_binding()
            self.auth_method = "password"
            password = self._require_password("password")
            engine.queue(wire.password_message(password.encode("utf-8")))
        elif code == 5:  # MD5 with a 4-byte salt
            policy.check("md5", "requested a hashed password")
            self._refuse_without_binding()
            self.auth_method = "md5"
            salt = reader.take(4)
            password = self._require_password("md5")
            engine.queue(wire.password_message(md5_password(self._user, password, salt)))
        elif code == 10:  # SASL: list of mechanisms
            self._start_sasl(engine, reader)
        elif code == 11 and self._oauth:  # OAUTHBEARER: the server's error document
            self.oauth_challenge = parse_oauth_challenge(reader.rest())
            # RFC 7628, section 3.2.3: answer with a lone 0x01; the server
            # then fails the exchange with an ErrorResponse.
            engine.queue(wire.sasl_response(b"\x01"))
        elif code == 11:  # SASLContinue
            if self._scram is None:
                raise ProtocolError("SASLContinue without a SASL exchange")
            engine.queue(wire.sasl_response(self._scram.client_final(reader.rest())))
        elif code == 12 and self._oauth:  # OAUTHBEARER has no final data to check
            pass
        elif code == 12:  # SASLFinal
            if self._scram is None:
                raise ProtocolError("SASLFinal without a SASL exchange")
            self._scram.verify_server_final(reader.rest())
            self._scram = None
        elif code in (7, 8):
            policy.check("gss", "requested GSSAPI authentication")
            raise UnsupportedClientFeatureError(
                "the server requested GSSAPI authentication, which pgwire does not support"
            )
        elif code == 9:
            policy.check("sspi", "requested SSPI authentication")
            raise UnsupportedClientFeatureError(
                "the server requested SSPI authentication, which pgwire does not support"
            )
        elif code in (2, 6):
            raise UnsupportedClientFeatureError(
                f"the server requested an unsupported authentication method (code {code}: "
                "Kerberos V5 / SCM credentials)"
            )
        else:
            raise ProtocolError(f"unknown authentication request code {code}")

    def _start_oauth(self, engine: Engine) -> None:
        policy = self._policy
        policy.check("oauth", "requested OAuth authentication")
        self._refuse_without_binding()
        if policy.oauth_token is None and not policy.oauth_enabled:
            raise InterfaceError(
                "the server requested OAuth authentication: pass oauth_token= to connect() "
                "(a token, or a function that returns one)"
            )
        self.auth_method = "oauth"
        self._oauth = True
        engine.queue(
            wire.sasl_initial_response(OAUTH_MECHANISM, oauth_initial_response(policy.oauth_token))
        )

    def _refuse_without_binding(self) -> None:
        if self._policy.channel_binding == "require":
            raise InterfaceError(
                "channel binding required, but server authenticated client without "
                "channel binding"
            )

    def _start_sasl(self, engine: Engine, reader: BodyReader) -> None:
        mechanisms = []
        while True:
            name = reader.cstring()
            if not name:
                break
            mechanisms.append(name)
        policy = self._policy
        if ScramSha256.mechanism not in mechanisms and ScramSha256.plus_mechanism not in mechanisms:
            if OAUTH_MECHANISM in mechanisms:
                self._start_oauth(engine)
                return
            raise UnsupportedClientFeatureError(
                f"the server offers no supported SASL mechanism (offered: {', '.join(mechanisms)})"
            )
        policy.check("scram-sha-256", "requested SASL authentication")
        tls = policy.tls_end_point is not None
        use_plus = (
            tls and policy.channel_binding != "disable"
            and ScramSha256.plus_mechanism in mechanisms
        )
        if policy.channel_binding == "require" and not use_plus:
            raise InterfaceError(
                "channel binding is required, but server did not offer an authentication "
                "method that supports channel binding"
            )
        password = self._require_password("SCRAM-SHA-256")
        binding = policy.tls_end_point() if use_plus and policy.tls_end_point else None
        self._scram = ScramSha256(
            password, channel_binding=binding,
            client_supports_binding=tls and policy.channel_binding != "disable",
        )
        self.auth_method = "scram-sha-256"
        self.channel_bound = use_plus
        engine.queue(
            wire.sasl_initial_response(self._scram.selected_mechanism, self._scram.client_first())
        )


class StatementResult:
    """The outcome of one statement: command tag, and rows if it returned any."""

    __slots__ = ("status", "columns", "rows", "suspended", "row_decoder", "on_description")

    def __init__(
        self,
        row_decoder: DecodeRow | None = None,
        on_description: Callable[[list[Column] | None], DecodeRow | None] | None = None,
    ) -> None:
        self.status: str | None = None
        self.columns: list[Column] | None = None
        self.rows: list[Any] = []
        self.suspended = False
        self.row_decoder = row_decoder
        self.on_description = on_description

    @property
    def row_count(self) -> int | None:
        """The row count at the end of the command tag, when it has one."""
        if not self.status:
            return None
        last = self.status.rpartition(" ")[2]
        return int(last) if last.isdigit() else None

    def describe(self, columns: list[Column] | None) -> BaseException | None:
        """Take a RowDescription (or NoData); return what building its decoder raised."""
        self.columns = columns
        if self.on_description is not None:
            try:
                self.row_decoder = self.on_description(columns)
            except Exception as exc:
                return exc
        return None


def _rows_sink(
    result: StatementResult,
) -> tuple[Callable[[bytes, int, int], Any], Callable[[Any], Any]] | None:
    decode_at = getattr(result.row_decoder, "decode_at", None)
    if decode_at is None:
        return None
    return decode_at, result.rows.append


def _take_row(op: Operation, result: StatementResult, body: bytes) -> None:
    """A DataRow outside the fast path: decoded by the result's decoder, or kept raw."""
    decoder = result.row_decoder
    if decoder is None:
        result.rows.append(body)
        return
    try:
        result.rows.append(decoder(body))
    except ProtocolError:
        raise
    except Exception as exc:  # a codec failed: report it after ReadyForQuery
        op.set_error(decode_failure(exc))


class SimpleQuery(Operation):
    """A Query message: one or more statements, results in text format.

    ``on_description`` chooses the row decoder of each result set from its
    columns; without one, rows are kept as raw DataRow bodies.
    """

    __slots__ = ("sql", "results", "_current", "_on_description", "_discard")

    def __init__(
        self,
        sql: str,
        on_description: Callable[[list[Column] | None], DecodeRow | None] | None = None,
    ) -> None:
        super().__init__()
        self.sql = sql
        self.results: list[StatementResult] = []
        self._current: StatementResult | None = None
        self._on_description = on_description
        self._discard = False

    def messages(self) -> bytes:
        return wire.query(self.sql)

    def abandon(self) -> None:
        self._discard = True

    def row_sink(self) -> tuple[Callable[[bytes, int, int], Any], Callable[[Any], Any]] | None:
        if self._current is None or self.error is not None or self._discard:
            return None
        return _rows_sink(self._current)

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == _DATA_ROW:
            if self._current is None:
                raise ProtocolError("DataRow without RowDescription")
            if self.error is None and not self._discard:
                _take_row(self, self._current, body)
            return False
        if kind == _ROW_DESCRIPTION:
            self._current = StatementResult(on_description=self._on_description)
            failure = self._current.describe(parse_row_description(body))
            if failure is not None:
                self.set_error(failure)
            return False
        if kind == _COMMAND_COMPLETE or kind == _EMPTY_QUERY_RESPONSE:
            result = self._current or StatementResult()
            result.status = parse_command_tag(body) if kind == _COMMAND_COMPLETE else ""
            self.results.append(result)
            self._current = None
            return False
        if kind == _ERROR_RESPONSE:
            self.set_error(exception_from_fields(parse_fields(body)))
            self._current = None
            return False
        if kind == _READY_FOR_QUERY:
            return self.ready(body)
        if kind == _COPY_IN_RESPONSE:
            # COPY FROM STDIN needs a data source; a query has none, so
            # refuse it the way the protocol allows: CopyFail ends it with an
            # error and keeps the connection in step.
            engine.queue(wire.copy_fail("COPY FROM STDIN is not supported by execute()"))
            return False
        if kind == _COPY_OUT_RESPONSE:
            # The rows cannot be returned as a result: say so rather than
            # return nothing (the COPY still runs to its end, in step).
            self.set_error(InterfaceError(_COPY_OUT_REFUSED))
            return False
        if kind == _COPY_DATA or kind == _COPY_DONE:
            return False  # the refused COPY TO STDOUT's output, dropped
        if kind == _COPY_BOTH_RESPONSE:
            # START_REPLICATION on a replication connection: end the stream
            # at once (CopyDone), keeping the connection in step.
            engine.queue(wire.COPY_DONE_MESSAGE)
            self.set_error(InterfaceError(
                "START_REPLICATION streams data: it needs the replication API, not a query"
            ))
            return False
        raise ProtocolError(f"unexpected message {chr(kind)!r} in simple query")


class _StatementDescription:
    """A pending Describe(statement) whose columns also decode the next execute."""

    __slots__ = ("feeds",)

    def __init__(self, feeds: StatementResult) -> None:
        self.feeds = feeds


class Extended(Operation):
    """A batch of extended-protocol messages ending with one Sync.

    Build it with :meth:`parse`, :meth:`bind_raw`, :meth:`describe_statement`,
    :meth:`describe_portal`, :meth:`execute` and :meth:`close_statement`;
    responses are matched to those steps in order.  After an error the
    server skips everything up to Sync, so later steps simply get no result.
    """

    # ParseComplete, BindComplete, CloseComplete: handle() has nothing to do.
    ignores_completions = True

    __slots__ = (
        "_out",
        "_describes",
        "_executes",
        "_pending_portal_description",
        "param_oids",
        "descriptions",
        "columns",
        "results",
        "_closed",
        "_discard",
        "_streaming",
        "pipelinable",
    )

    def __init__(self) -> None:
        super().__init__()
        self._out = bytearray()
        self._streaming = False
        # May go out while operations of other callers are in flight (see
        # pgwire.api._async.runner): set by the flow that knows the batch
        # never makes the server wait for the client (no COPY FROM STDIN).
        self.pipelinable = False
        # None for a statement description, a _StatementDescription for one
        # whose statement is executed next, or the StatementResult whose
        # portal is being described.
        self._describes: deque[StatementResult | _StatementDescription | None] = deque()
        self._executes: deque[StatementResult] = deque()
        self._pending_portal_description: StatementResult | None = None
        self.param_oids: list[int] | None = None
        # Every statement description of the batch, in order: (parameter
        # OIDs, columns or None).  param_oids/columns hold the last one.
        self.descriptions: list[tuple[list[int], list[Column] | None]] = []
        self.columns: list[Column] | None = None
        self.results: list[StatementResult] = []
        self._closed = False
        self._discard = False

    def parse(self, name: str, sql: str, param_oids: list[int] | tuple[int, ...] = ()) -> None:
        self._out += wire.parse(name, sql, param_oids)

    def bind_raw(self, message: bytes) -> None:
        """Append a Bind message built elsewhere (parameter encoding is not ours)."""
        self._out += message

    def describe_statement(
        self,
        name: str,
        on_description: Callable[[list[Column] | None], DecodeRow | None] | None = None,
    ) -> StatementResult | None:
        """Describe a statement.

        With ``on_description``, the statement is executed next in the same
        batch (after a Bind with the formats it implies): the returned result
        is the one that execute fills, decoded as ``on_description`` decides.
        """
        self._out += wire.describe(b"S", name)
        if on_description is None:
            self._describes.append(None)
            return None
        result = StatementResult(on_description=on_description)
        self._describes.append(_StatementDescription(result))
        self._pending_portal_description = result
        return result

    def describe_portal(
        self,
        name: str,
        on_description: Callable[[list[Column] | None], DecodeRow | None],
    ) -> StatementResult:
        """Describe a portal; the returned result is the one the next execute fills."""
        self._out += wire.describe(b"P", name)
        result = StatementResult(on_description=on_description)
        self._describes.append(result)
        self._pending_portal_description = result
        return result

    def execute(
        self, portal: str = "", max_rows: int = 0, row_decoder: DecodeRow | None = None
    ) -> StatementResult:
        self._out += wire.execute(portal, max_rows)
        result = self._pending_portal_description
        if result is None:
            result = StatementResult(row_decoder)
        else:
            self._pending_portal_description = None
        self._executes.append(result)
        self.results.append(result)
        return result

    def bind_execute(
        self, bind: bytes, row_decoder: DecodeRow | None, columns: list[Column] | None
    ) -> StatementResult:
        """A Bind built elsewhere, then an Execute of the unnamed portal for all its rows.

        :meth:`bind_raw` then :meth:`execute` in one call, for a statement
        already described (``columns``): what executemany does per row.
        """
        self._out += bind
        self._out += _EXECUTE_ALL
        result = StatementResult(row_decoder)
        result.columns = columns
        self._executes.append(result)
        self.results.append(result)
        return result

    def abandon(self) -> None:
        self._discard = True

    def close_statement(self, name: str) -> None:
        self._out += wire.close(b"S", name)

    def close_portal(self, name: str) -> None:
        self._out += wire.close(b"P", name)

    def messages(self) -> bytes:
        if self._streaming:
            # What is built so far, without the Sync: more_messages() hands
            # out the rest.
            data = bytes(self._out)
            self._out.clear()
            return data
        if not self._closed:
            self._out += wire.SYNC
            self._closed = True
        return bytes(self._out)

    def stream(self) -> None:
        """Send this batch in parts, the first when it starts.

        For a batch too long to build before sending: the server works on
        the first part while the rest is built.  Steps added later go out
        with :meth:`more_messages`; the last call (``final``) adds the Sync.
        """
        self._streaming = True

    def more_messages(self, final: bool = False) -> bytes:
        """The steps added since the last part (and the Sync when ``final``)."""
        if final:
            self._streaming = False
            self._out += wire.SYNC
            self._closed = True
        data = bytes(self._out)
        self._out.clear()
        return data

    def abort_stream(self) -> bytes:
        """End a streamed batch so that none of it takes effect; return what to send.

        Steps built but not sent are dropped.  An Execute of a portal that
        does not exist makes the server fail, which rolls back the implicit
        transaction of the batch (PostgreSQL docs, "Extended Query": an
        error discards everything up to Sync); then the Sync.
        """
        self._out.clear()
        self._streaming = False
        self._closed = True
        return wire.execute(ABANDONED_PORTAL, 0) + wire.SYNC

    def row_sink(self) -> tuple[Callable[[bytes, int, int], Any], Callable[[Any], Any]] | None:
        # Rows decoded by a compiled row decoder (pgwire.types.rows) skip
        # handle(); the outcome is the same as its DataRow branch.
        if not self._executes or self.error is not None or self._discard:
            return None
        return _rows_sink(self._executes[0])

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == _DATA_ROW:
            if not self._executes:
                raise ProtocolError("DataRow without a pending Execute")
            if self.error is None and not self._discard:
                _take_row(self, self._executes[0], body)
            return False  # rows after a decode error (or abandoned) are dropped
        if kind == _COMMAND_COMPLETE or kind == _EMPTY_QUERY_RESPONSE:
            if not self._executes:
                raise ProtocolError("CommandComplete without a pending Execute")
            result = self._executes.popleft()
            result.status = parse_command_tag(body) if kind == _COMMAND_COMPLETE else ""
            return False
        if kind == _PORTAL_SUSPENDED:
            if not self._executes:
                raise ProtocolError("PortalSuspended without a pending Execute")
            result = self._executes.popleft()
            result.suspended = True
            return False
        if kind == _PARSE_COMPLETE or kind == _BIND_COMPLETE or kind == _CLOSE_COMPLETE:
            return False
        if kind == _PARAMETER_DESCRIPTION:
            if not self._describes or isinstance(self._describes[0], StatementResult):
                raise ProtocolError("ParameterDescription without Describe(statement)")
            self.param_oids = parse_parameter_description(body)
            return False
        if kind == _ROW_DESCRIPTION or kind == _NO_DATA:
            if not self._describes:
                raise ProtocolError("RowDescription without Describe")
            target = self._describes.popleft()
            columns = parse_row_description(body) if kind == _ROW_DESCRIPTION else None
            if target is None or isinstance(target, _StatementDescription):
                self.columns = columns
                self.descriptions.append((self.param_oids or [], columns))
                target = target.feeds if target is not None else None
            if target is not None:
                failure = target.describe(columns)
                if failure is not None:
                    self.set_error(failure)
            return False
        if kind == _ERROR_RESPONSE:
            self.set_error(exception_from_fields(parse_fields(body)))
            return False
        if kind == _READY_FOR_QUERY:
            return self.ready(body)
        if kind == _COPY_IN_RESPONSE:
            # The server ignores the Sync we already sent while it is in
            # copy-in mode (PostgreSQL docs, "COPY Operations"), so after
            # CopyFail another Sync is needed to end the error state.
            engine.queue(
                wire.copy_fail(
                    "COPY FROM STDIN is not supported in a query or pipeline; "
                    "use the copy_* methods"
                )
                + wire.SYNC
            )
            return False
        if kind == _COPY_OUT_RESPONSE:
            self.set_error(InterfaceError(_COPY_OUT_REFUSED))
            return False
        if kind == _COPY_DATA or kind == _COPY_DONE:
            return False
        raise ProtocolError(f"unexpected message {chr(kind)!r} in extended query")


_EXECUTE_ALL = wire.execute("", 0)
#: The portal abort_stream executes: it never exists, so executing it fails.
ABANDONED_PORTAL = "pgwire: batch abandoned"


class CopyIn(Operation):
    """``COPY ... FROM STDIN``: wait for CopyInResponse, then take data.

    When the server fails during copy-in it reports the error at once and
    ignores the CopyData still in flight, so a sender can stop as soon as the
    operation is done.
    """

    __slots__ = ("sql", "ready_for_data", "format", "status", "_abort_reason", "ended")

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = sql
        self.ready_for_data = False
        self.format = 0
        self.status: str | None = None
        self._abort_reason: str | None = None
        # CopyDone or CopyFail has been sent.
        self.ended = False

    def abort(self, engine: Engine, reason: str) -> None:
        """Give the COPY up: CopyFail now if the server waits for data, or as
        soon as it does (the caller may not be there to answer by then)."""
        if self.ended or self.done:
            return
        if self.ready_for_data:
            self.ended = True
            engine.queue(wire.copy_fail(reason[:_MAX_REASON]))
        else:
            self._abort_reason = reason

    def end(self) -> bytes:
        """The CopyDone message, marking the data as complete."""
        self.ended = True
        return wire.COPY_DONE_MESSAGE

    def progressed(self) -> bool:
        return self.ready_for_data

    def messages(self) -> bytes:
        return wire.query(self.sql)

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == _COPY_IN_RESPONSE:
            if self.ready_for_data:
                raise ProtocolError("second CopyInResponse in one COPY")
            self.format, _ = parse_copy_response(body)
            self.ready_for_data = True
            if self._abort_reason is not None:
                self.ended = True
                engine.queue(wire.copy_fail(self._abort_reason[:_MAX_REASON]))
            return False
        if kind == _COMMAND_COMPLETE:
            self.status = parse_command_tag(body)
            return False
        if kind == _ERROR_RESPONSE:
            self.set_error(exception_from_fields(parse_fields(body)))
            return False
        if kind == _READY_FOR_QUERY:
            return self.ready(body)
        if kind == _COPY_OUT_RESPONSE:
            raise ProtocolError("the server started COPY TO where COPY FROM was sent")
        raise ProtocolError(f"unexpected message {chr(kind)!r} during COPY FROM STDIN")


class CopyOut(StreamingOperation):
    """``COPY ... TO STDOUT``: every CopyData body is buffered for the flow to take."""

    __slots__ = ("sql", "format", "status", "started")

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = sql
        self.format = 0
        self.status: str | None = None
        self.started = False

    def messages(self) -> bytes:
        return wire.query(self.sql)

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == _COPY_DATA:
            if not self.started:
                raise ProtocolError("CopyData before CopyOutResponse")
            self.push(body)
            return False
        if kind == _COPY_OUT_RESPONSE:
            self.format, _ = parse_copy_response(body)
            self.started = True
            return False
        if kind == _COPY_DONE:
            return False
        if kind == _COMMAND_COMPLETE:
            self.status = parse_command_tag(body)
            return False
        if kind == _ERROR_RESPONSE:
            self.set_error(exception_from_fields(parse_fields(body)))
            return False
        if kind == _READY_FOR_QUERY:
            return self.ready(body)
        if kind == _COPY_IN_RESPONSE:
            # The statement reads instead of writing: end it cleanly.
            engine.queue(wire.copy_fail("COPY FROM STDIN is not allowed here"))
            return False
        raise ProtocolError(f"unexpected message {chr(kind)!r} during COPY TO STDOUT")


class CopyBoth(StreamingOperation):
    """A command answered with CopyBothResponse: ``START_REPLICATION``.

    The server streams CopyData (buffered for the flow, as for
    :class:`CopyOut`) and takes CopyData from us (standby status updates)
    until either side sends CopyDone.  PostgreSQL docs, "Streaming
    Replication Protocol": after both CopyDones the command completes; a
    physical stream that reached the end of a timeline first sends a result
    set with the next timeline, kept in :attr:`results`.  CopyData the
    server sends after its own CopyDone (a walsender's last keepalive) is
    dropped: the stream is over.
    """

    __slots__ = ("sql", "streaming", "server_done", "client_done", "format", "results",
                 "_current")

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = sql
        self.streaming = False  # CopyBothResponse arrived
        self.server_done = False  # the server sent CopyDone
        self.client_done = False  # we sent CopyDone
        self.format = 0
        self.results: list[StatementResult] = []
        self._current: StatementResult | None = None

    def messages(self) -> bytes:
        return wire.query(self.sql)

    def end(self) -> bytes:
        """Our CopyDone: we stop streaming (the server answers with its own)."""
        self.client_done = True
        return wire.COPY_DONE_MESSAGE

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == _COPY_DATA:
            if not self.streaming:
                raise ProtocolError("CopyData before CopyBothResponse")
            if not self.server_done:
                self.push(body)
            return False
        if kind == _COPY_BOTH_RESPONSE:
            if self.streaming:
                raise ProtocolError("second CopyBothResponse in one command")
            self.format, _ = parse_copy_response(body)
            self.streaming = True
            return False
        if kind == _COPY_DONE:
            if self.server_done:
                raise ProtocolError("second CopyDone in one CopyBoth stream")
            self.server_done = True
            return False
        if kind == _ROW_DESCRIPTION:
            self._current = StatementResult()
            self._current.columns = parse_row_description(body)
            return False
        if kind == _DATA_ROW:
            if self._current is None:
                raise ProtocolError("DataRow without RowDescription")
            self._current.rows.append(body)
            return False
        if kind == _COMMAND_COMPLETE:
            result = self._current or StatementResult()
            result.status = parse_command_tag(body)
            self.results.append(result)
            self._current = None
            return False
        if kind == _ERROR_RESPONSE:
            self.set_error(exception_from_fields(parse_fields(body)))
            return False
        if kind == _READY_FOR_QUERY:
            return self.ready(body)
        if kind == _COPY_IN_RESPONSE:
            engine.queue(wire.copy_fail("COPY FROM STDIN is not allowed here"))
            return False
        if kind == _COPY_OUT_RESPONSE:
            return False  # a COPY TO answered instead: its data arrives and is kept
        raise ProtocolError(f"unexpected message {chr(kind)!r} in a CopyBoth command")
