"""Protocol flows shared by every driver: statements, the cache and the strategy.

A flow is a generator that yields engine operations and receives them back
once completed; the asyncio driver and the blocking driver only differ in how
they wait for that (the psycopg 3 idea).  This module is sans-I/O like the
engine, but it knows Python types: it encodes parameters with the type
registry and builds the row decoders that turn DataRows into Records.

Statement strategy (see DESIGN.md, "Statement strategy"):

* direct connection with a statement cache: named statements, each prepared
  once (Parse + Describe) and then executed with Bind/Execute/Sync, one
  round trip; the per-connection LRU closes evicted statements with the
  protocol Close message, sent along with the next request;
* a pooler (pgbouncer) or ``statement_cache_size=0``: the unnamed statement,
  Parse/Bind/Describe/Execute/Sync written together, so no half of a request
  can be routed to another server connection.  Descriptions learned on first
  use are still cached per connection, to encode parameters and request
  binary results.

Statement names carry a random per-connection prefix, so two clients sharing
a server connection can never collide.
"""

from __future__ import annotations

import logging
import secrets
import struct
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from itertools import islice
from typing import Any, cast
from uuid import UUID

from ..exceptions import (
    DataError,
    InterfaceError,
    InvalidCachedStatementError,
    OutdatedSchemaCacheError,
    PipelineAbortedError,
    PostgresError,
    ProtocolError,
)
from ..protocol import session_state, wire
from ..protocol.engine import Engine, TransactionStatus
from ..protocol.messages import Column
from ..protocol.operations import Extended, SimpleQuery, StatementResult
from ..protocol.session_state import statement_flags
from ..types import TypeRegistry
from ..types.codec import shown_value
from ..types.record import Record
from ..types.rows import BINARY_FORMAT, TEXT_FORMAT, RowCodec
from . import introspection
from .requests import FLUSH, Flow, Start, Wait, Write
from .sqltext import first_keyword, replace_numbered_params

log = logging.getLogger("pgwire.statements")

_POOLER_PROBE = "SELECT pg_backend_pid()"
_INT32 = struct.Struct("!i")


# Results whose rows are kept raw until their column types have been looked
# up: (columns, the result, decode in the formats the server reports?).
DeferredRows = list[tuple[list[Column], Callable[[], "StatementResult | None"], bool]]


class PreparedState:
    """What the client knows about one statement on this connection."""

    __slots__ = (
        "name",
        "sql",
        "param_oids",
        "columns",
        "row_codec",
        "encoders",
        "closed",
        "registry_version",
        "session_flags",
        "pipelinable",
        "_description_key",
        "_bind_formats",
        "_encode",
        "_bind_prefix",
        "_bind_results",
    )

    def __init__(
        self,
        name: str,
        sql: str,
        param_oids: list[int],
        columns: list[Column] | None,
        registry: TypeRegistry,
        record_class: type[Record],
    ) -> None:
        self.name = name
        self.sql = sql
        self.param_oids = param_oids
        self.columns = columns
        self.closed = False
        # Session state the text shows it may create (see protocol.session_state).
        self.session_flags = statement_flags(sql)
        # Its runs may share round trips with other callers' statements: a
        # COPY FROM STDIN would make the server read the next caller's
        # messages as COPY data (PostgreSQL docs, "COPY Operations").
        self.pipelinable = first_keyword(sql) != "COPY"
        self.build_codecs(registry, record_class)

    def build_codecs(self, registry: TypeRegistry, record_class: type[Record]) -> None:
        """(Re)choose encoders and decoders: at creation and when the registry changed."""
        self.registry_version = registry.version
        columns = self.columns
        self.row_codec = (
            RowCodec(columns, registry, record_class) if columns is not None else None
        )
        self.encoders: list[tuple[int, Callable[[Any], bytes]]] = []
        for oid in self.param_oids:
            encoder = registry.binary_encoder(oid)
            if encoder is not None:
                self.encoders.append((BINARY_FORMAT, encoder))
            else:
                self.encoders.append((TEXT_FORMAT, _text_encoder(registry, oid)))
        self._description_key: tuple[Column, ...] | None = tuple(columns) if columns else None
        # The parts of a Bind that do not change from one execution to the next.
        self._bind_formats = [fmt for fmt, _ in self.encoders]
        self._encode = [encoder for _, encoder in self.encoders]
        self._bind_prefix = wire.bind_prefix("", self.name, self._bind_formats)
        self._bind_results = wire.format_codes(self.result_formats)

    @property
    def result_formats(self) -> list[int]:
        """Result format codes for Bind.

        One code when all columns share it: the server applies a single code
        to every column, so a column count changed by DDL cannot make the
        Bind fail.
        """
        if self.row_codec is None:
            return []
        formats = self.row_codec.result_formats
        if all(f == formats[0] for f in formats):
            return formats[:1]  # [] when there are no columns
        return formats

    def encode_bind(self, portal: str, args: Sequence[Any], registry: TypeRegistry) -> bytes:
        """Build the Bind message for ``args``; bad arguments raise DataError."""
        if len(args) != len(self._encode):
            raise _argument_count_error(len(self._encode), len(args))
        prefix = (
            wire.bind_prefix(portal, self.name, self._bind_formats) if portal
            else self._bind_prefix
        )
        try:
            return wire.bind_fields(prefix, self._encode, args, self._bind_results)
        except wire.FieldEncodingError as failure:
            raise _argument_error(failure.index, failure.value, self.param_oids[failure.index],
                                  registry, failure.error) from failure.error


def _argument_tuple(index: int, args: Any) -> Sequence[Any]:
    """Item ``index`` of executemany's iterable: a sequence of arguments."""
    # Not isinstance Sequence: records and array rows are welcome too.
    if isinstance(args, (str, bytes)) or not hasattr(args, "__len__"):
        raise InterfaceError(
            f"executemany() takes an iterable of argument sequences, one per execution: "
            f"item {index} is {type(args).__name__} {args!r:.60}"
        )
    return cast("Sequence[Any]", args)


def _argument_count_error(expected: int, given: int) -> InterfaceError:
    return InterfaceError(
        f"the server expects {expected} argument{'s' if expected != 1 else ''}"
        f" for this query, {given} {'were' if given != 1 else 'was'} passed"
    )


def _argument_error(
    index: int, value: Any, oid: int, registry: TypeRegistry, exc: BaseException
) -> DataError:
    type_name = registry.type_name(oid) or f"OID {oid}"
    return DataError(
        f"invalid input for query argument ${index + 1}: {shown_value(value)} "
        f"({exc}; expected a value for type {type_name})"
    )


#: Rows of an executemany built before the first of them is sent (outside a
#: transaction block; see Session._executemany_rest).
STREAM_ROWS = 1000

# Python types whose generic text form the server parses the same way
# whatever type it infers for the parameter; other values (lists, dicts)
# need the parameter type first, so they take the describe-first path.
_TEXT_SAFE_TYPES = (str, int, float, Decimal, bool, date, time, datetime, timedelta, UUID,
                    bytes, bytearray, memoryview)


def _text_encoder(registry: TypeRegistry, oid: int) -> Callable[[Any], bytes]:
    def encode(value: Any) -> bytes:
        return registry.encode_text(oid, value)

    return encode


class StatementCache:
    """Per-connection LRU of prepared statements, keyed by SQL text."""

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size
        self._entries: OrderedDict[str, PreparedState] = OrderedDict()

    def get(self, sql: str) -> PreparedState | None:
        entry = self._entries.get(sql)
        if entry is not None:
            self._entries.move_to_end(sql)
        return entry

    def put(self, state: PreparedState) -> list[PreparedState]:
        """Insert a statement; return the entries evicted to make room."""
        self._entries[state.sql] = state
        self._entries.move_to_end(state.sql)
        evicted = []
        while len(self._entries) > self.max_size:
            _, old = self._entries.popitem(last=False)
            evicted.append(old)
        return evicted

    def discard(self, sql: str) -> PreparedState | None:
        return self._entries.pop(sql, None)

    def clear(self) -> list[PreparedState]:
        entries = list(self._entries.values())
        self._entries.clear()
        return entries

    def __len__(self) -> int:
        return len(self._entries)


class Session:
    """Driver-independent state of one connection: engine, codecs, statements."""

    def __init__(
        self,
        engine: Engine,
        registry: TypeRegistry,
        *,
        statement_cache_size: int = 100,
        record_class: type[Record] = Record,
        replication: str | None = None,
    ) -> None:
        self.engine = engine
        # "database" (logical) or "true" (physical): the server then takes
        # the simple query protocol only (PostgreSQL docs, "Streaming
        # Replication Protocol"); None for an ordinary session.
        self.replication = replication
        self.registry = registry
        self.record_class = record_class
        self.statement_cache_size = statement_cache_size
        self.cache = StatementCache(max(statement_cache_size, 0))
        # Descriptions learned for unnamed statements: they are not server
        # objects, so they stay useful behind a pooler too.
        self.descriptions = StatementCache(max(statement_cache_size, 100))
        self.use_named_statements = statement_cache_size > 0 and replication is None
        # True behind a pooler, False if not (or not looked for), None while
        # the probe that tells is still to be answered (see defer_pooler_probe).
        self.pooler_detected: bool | None = False
        self._named_wanted = self.use_named_statements
        self._probe: SimpleQuery | None = None
        # Where the session was opened (host or socket directory, port).
        self.address: tuple[str, int] | None = None
        # Where and how a cancel request goes (a flows.connect.CancelTarget).
        self.cancel_target: Any = None
        self.tls_in_use = False
        self.auth_method = "trust"  # what the server asked for at startup
        self._prefix = f"__pgwire_{secrets.token_hex(4)}_"
        self._counter = 0
        self._to_close: list[str] = []

    # -- helpers -----------------------------------------------------------

    def new_statement_name(self) -> str:
        self._counter += 1
        return f"{self._prefix}{self._counter}"

    def _with_closes(self, op: Extended) -> Extended:
        """Add Close messages for evicted statements to a request about to go out.

        Closing rides along with the next request: no round trip of its own.
        It is added only when the request is really sent, so a request
        abandoned before that (a bad argument) loses nothing.
        """
        if self._to_close:
            for name in self._to_close:
                op.close_statement(name)
            self._to_close.clear()
        return op

    def forget_statement(self, state: PreparedState) -> None:
        """Schedule a named statement for Close on the next request."""
        if state.name and not state.closed:
            state.closed = True
            self._to_close.append(state.name)

    def note_pooler(self, detected: bool) -> None:
        """Use unnamed statements when a pooler sits in between, else the
        strategy asked for."""
        self.pooler_detected = detected
        self.use_named_statements = False if detected else self._named_wanted

    # -- pooler detection ------------------------------------------------------

    def defer_pooler_probe(self) -> None:
        """Look for a pooler with the first request rather than at connect.

        A pooler answers the startup itself: the BackendKeyData it sends is
        its own, so its process id differs from the server's
        ``pg_backend_pid()``.  Newer pgbouncers also report ``pgbouncer.*``
        parameters, which settles it at once.  Otherwise the probe query
        rides with the first request (:meth:`with_pooler_probe`), which
        saves the connect a round trip; until it is answered, statements
        are unnamed, which is right either way.
        """
        engine = self.engine
        if engine.backend_pid is None or any(
            name.startswith("pgbouncer") for name in engine.parameters
        ):
            self.note_pooler(True)
            return
        self.pooler_detected = None
        self.use_named_statements = False

    def with_pooler_probe(self, flow: Flow[Any]) -> Flow[Any]:
        """Run ``flow`` with the pooler probe sent ahead of its first request.

        The probe is its own Query (its own transaction, behind a pooler
        too), written just before the flow's first message, so the two
        share a round trip; the server answers it first.  A probe left
        unanswered (the flow failed before reading, the connection broke)
        is sent again with the next flow.
        """
        probe = self._probe = SimpleQuery(_POOLER_PROBE)
        try:
            yield Start(probe)
            return (yield from flow)
        finally:
            self._probe = None
            self._settle_probe(probe)

    def detect_pooler_flow(self) -> Flow[bool]:
        """Whether a pooler sits in between, asked now (what a pool needs at connect)."""
        probe = self._probe
        if probe is None:
            probe = yield SimpleQuery(_POOLER_PROBE)
        else:  # started by with_pooler_probe around this flow
            yield Wait(probe)
        assert isinstance(probe, SimpleQuery)
        if probe.error is not None:
            raise probe.error
        detected = self._probe_answer(probe)
        if self.pooler_detected is None and detected is not None:
            self.note_pooler(detected)
        return True if detected is None else detected

    def _probe_answer(self, probe: SimpleQuery) -> bool | None:
        """What the answered probe says (None: it was not answered, or failed)."""
        if not probe.done or probe.error is not None:
            return None
        try:
            body = probe.results[0].rows[0]
            (length,) = _INT32.unpack_from(body, 2)  # after the column count
            server_pid = int(bytes(body[6:6 + length]))
        except (IndexError, TypeError, ValueError, struct.error):
            return True  # not an answer PostgreSQL gives
        return server_pid != self.engine.backend_pid

    def _named_after_probe(self, state: PreparedState) -> PreparedState | None:
        """A named copy of ``state``, just described unnamed while the pooler
        probe was unanswered, when the probe's answer (in now, with the
        description's) says there is no pooler: it is parsed in the same
        write as its first run, so a connection's first statement is cached
        as the others are, with no round trip more."""
        probe = self._probe
        if probe is None or state.name or self.pooler_detected is not None:
            return None
        self._settle_probe(probe)
        if not self.use_named_statements:
            return None
        return PreparedState(self.new_statement_name(), state.sql, state.param_oids,
                             state.columns, self.registry, self.record_class)

    def _settle_probe(self, probe: SimpleQuery) -> None:
        detected = self._probe_answer(probe)
        if detected is not None and self.pooler_detected is None:
            self.note_pooler(detected)
            log.debug("backend pid %s%s", self.engine.backend_pid,
                      ": behind a pooler, unnamed statements" if detected else
                      ", no pooler")

    def introspect_flow(self, type_oids: Iterable[int]) -> Flow[None]:
        """Look up the types among ``type_oids`` that the registry does not know."""
        unknown = introspection.unknown_oids(self.registry, type_oids)
        if unknown:
            yield from introspection.introspect_flow(self.registry, unknown,
                                                     simple=self.replication is not None)

    def check_extended(self, what: str) -> None:
        """Refuse what needs the extended query protocol on a replication
        connection, before anything is sent (the server would refuse it
        with a protocol violation)."""
        if self.replication is not None:
            raise InterfaceError(
                f"{what} needs the extended query protocol, which a replication connection "
                f"(replication={self.replication}) does not accept: use execute() or "
                "fetch() without arguments (the simple protocol), or another connection")

    def schema_changed(self) -> None:
        """Forget looked-up types and cached statements (``reload_schema_state()``)."""
        self.registry.forget_types()
        for state in self.cache.clear():
            self.forget_statement(state)
        self.descriptions.clear()

    def reset_flow(self, *, everything: bool = False, behind_pooler: bool = False) -> Flow[bool]:
        """Undo the session state picked up since the last reset: one round
        trip, or none; return whether something was sent.

        ROLLBACK when a transaction is open or has failed, then the
        statements of :func:`pgwire.protocol.session_state.reset_statements`
        for the state the engine saw change (all of it with ``everything``),
        sent together as one simple Query.  Nothing is sent when nothing
        changed.  ``behind_pooler`` ends the transaction only: in pgbouncer's
        transaction mode any other statement would run on whatever server
        connection the pooler picks -- another client's session.
        """
        engine = self.engine
        flags = engine.session_state
        if everything:
            flags |= session_state.UNKNOWN
        statements = []
        if engine.transaction_status is not TransactionStatus.IDLE:
            statements.append("ROLLBACK")
        if not behind_pooler:
            statements.extend(session_state.reset_statements(flags, engine.parameters))
        if statements:
            # Sent as is: its own text must not count as new session state.
            done = yield SimpleQuery("; ".join(statements), None)
            assert isinstance(done, SimpleQuery)
            if done.error is not None:
                raise done.error
        if flags & (session_state.PREPARED | session_state.STATEMENTS_DROPPED) and (
            not behind_pooler or flags & session_state.STATEMENTS_DROPPED
        ):
            self.statements_dropped()
        engine.session_state = 0
        return bool(statements)

    def statements_dropped(self) -> None:
        """The server forgot this session's prepared statements (DEALLOCATE
        ALL, DISCARD ALL): forget them here too, without closing them."""
        for state in self.cache.clear():
            state.closed = True

    def _text_decoder_or_defer(
        self, columns: list[Column] | None, deferred: DeferredRows,
        result_of: Callable[[], StatementResult | None],
    ) -> Callable[[bytes], Any] | None:
        """A text row decoder for ``columns``; None (keep the rows raw) when
        a column's type must be looked up first -- :meth:`_decode_deferred`
        decodes them once it has been."""
        if columns is None:
            return None
        if introspection.unknown_oids(self.registry, introspection.column_oids(columns)):
            deferred.append((columns, result_of, False))
            return None
        return RowCodec(columns, self.registry, self.record_class, text_only=True).decode_row

    def _decode_deferred(self, deferred: DeferredRows) -> Flow[None]:
        """Look up the types of deferred results and decode their raw rows
        (text, or in the formats the server reports when ``as_sent``)."""
        if not deferred:
            return None
        yield from self.introspect_flow(
            oid for columns, _, _ in deferred for oid in introspection.column_oids(columns))
        for columns, result_of, as_sent in deferred:
            result = result_of()
            if result is None or not result.rows:
                continue
            decode = RowCodec(columns, self.registry, self.record_class, text_only=not as_sent,
                              formats_as_sent=as_sent).decode_row
            result.rows = [decode(body) for body in result.rows]
        return None

    def _make_state(self, name: str, sql: str, op: Extended) -> PreparedState:
        if op.param_oids is None:
            raise ProtocolError("statement description lacks ParameterDescription")
        return PreparedState(
            name, sql, op.param_oids, op.columns, self.registry, self.record_class
        )

    # -- flows ---------------------------------------------------------------

    def simple_query_flow(self, sql: str, *, decode_rows: bool = False) -> Flow[SimpleQuery]:
        """Run ``sql`` (one or more statements) with the simple protocol.

        Rows are decoded from text into Records with ``decode_rows``; else
        they are not decoded at all (``execute()`` returns only the status).
        """
        deferred: DeferredRows = []

        def on_description(columns: list[Column] | None) -> Callable[[bytes], Any] | None:
            # This result set becomes results[index] at its CommandComplete.
            index = len(op.results)
            return self._text_decoder_or_defer(
                columns, deferred,
                lambda: op.results[index] if index < len(op.results) else None)

        self.engine.session_state |= statement_flags(sql)
        op = SimpleQuery(sql, on_description if decode_rows else None)
        done = yield op
        assert isinstance(done, SimpleQuery)
        self._note_commands(done.results)
        if done.error is not None:
            raise done.error
        yield from self._decode_deferred(deferred)
        return done

    def prepare_flow(
        self, sql: str, *, named: bool | None = None, param_oids: Sequence[int] = (),
        name: str | None = None,
    ) -> Flow[PreparedState]:
        """Parse and describe ``sql``; named unless the strategy forbids it.

        ``name`` is the caller's name for the server statement (asyncpg's
        ``prepare(name=)``), used when named statements are.
        """
        self.check_extended("preparing a statement")
        if self.pooler_detected is None and named is not False:
            # Connection.prepare() before anything else: named on a direct
            # connection, so the pooler probe's answer is needed first.
            yield from self.detect_pooler_flow()
        use_name = self.use_named_statements if named is None else (
            named and self.use_named_statements
        )
        op = Extended()
        if not use_name:
            name = ""
        elif name is None:
            name = self.new_statement_name()
        elif name in self._to_close:
            # Prepared again under the same name (after a schema change):
            # its pending Close must go before the Parse, not after.
            self._to_close.remove(name)
            op.close_statement(name)
        op.parse(name, sql, list(param_oids))
        op.describe_statement(name)
        done = yield self._with_closes(op)
        if done.error is not None:
            raise done.error
        assert isinstance(done, Extended)
        yield from self.introspect_flow([*(done.param_oids or ()),
                                         *introspection.column_oids(done.columns)])
        return self._make_state(name, sql, done)

    def _lookup_flow(self, sql: str) -> Flow[PreparedState]:
        if self.use_named_statements:
            state = self.cache.get(sql)
            if state is None:
                state = yield from self.prepare_flow(sql)
                for old in self.cache.put(state):
                    self._evicted(old)
            return state
        state = self.descriptions.get(sql)
        if state is None:
            state = yield from self.prepare_flow(sql, named=False)
            self.descriptions.put(state)
        return state

    def _evicted(self, state: PreparedState) -> None:
        log.debug("statement cache full (%d): closing %s, %.60r", self.cache.max_size,
                  state.name, state.sql)
        self.forget_statement(state)

    def _drop_cached(self, state: PreparedState) -> None:
        log.debug("forgotten after a schema change (prepared again when next used): %.60r",
                  state.sql)
        if state.name:
            if self.cache.get(state.sql) is state:
                self.cache.discard(state.sql)
            self.forget_statement(state)
        else:
            # Nothing to close on the server; closed marks it dropped, so a
            # PreparedStatement holding it describes the statement again.
            state.closed = True
            if self.descriptions.get(state.sql) is state:
                self.descriptions.discard(state.sql)

    def _add_execute(
        self,
        op: Extended,
        state: PreparedState,
        args: Sequence[Any],
        max_rows: int = 0,
        parse: bool = True,
        portal: str = "",
        bind: bytes | None = None,
        deferred: DeferredRows | None = None,
    ) -> StatementResult:
        """Add Bind/Execute of ``state`` (and Parse/Describe when unnamed) to ``op``.

        With ``deferred``, rows of an unnamed statement whose result has
        changed to types not looked up yet are kept raw, for
        :meth:`_decode_deferred` once they have been.
        """
        if bind is None:
            bind = self._bind_message(state, args, portal)
        if state.session_flags:
            self.engine.session_state |= state.session_flags
        if state.name:
            op.bind_raw(bind)
            codec = state.row_codec
            result = op.execute(portal, max_rows, codec.decode_row if codec is not None else None)
            result.columns = state.columns
            return result
        # Unnamed: the statement is parsed again in the same write.  The
        # portal is described so a changed result shape is noticed.
        if parse:
            op.parse("", state.sql, state.param_oids)
        op.bind_raw(bind)
        executed: list[StatementResult] = []
        op.describe_portal(portal, self._portal_decoder_factory(
            state, deferred, lambda: executed[0] if executed else None))
        result = op.execute(portal, max_rows)
        executed.append(result)
        return result

    def _bind_message(self, state: PreparedState, args: Sequence[Any], portal: str = "") -> bytes:
        if state.registry_version != self.registry.version:
            # A codec was replaced (say, the JSON decoder) after this
            # statement was described.
            state.build_codecs(self.registry, self.record_class)
        return state.encode_bind(portal, args, self.registry)

    def _portal_decoder_factory(
        self, state: PreparedState, deferred: DeferredRows | None,
        result_of: Callable[[], StatementResult | None],
    ) -> Callable[[list[Column] | None], Callable[[bytes], Any] | None]:
        def on_description(columns: list[Column] | None) -> Callable[[bytes], Any] | None:
            if columns is None:
                return None
            codec = state.row_codec
            if codec is not None and _same_shape(codec.columns, columns):
                return codec.decode_row
            # The result shape changed since the statement was described
            # (DDL), and the statement has already run: decode each column
            # in the format the server actually used, never run it again
            # (after looking up types new to this connection, when we can).
            self._drop_cached(state)
            if deferred is not None and introspection.unknown_oids(
                self.registry, introspection.column_oids(columns)
            ):
                deferred.append((columns, result_of, True))
                return None
            return RowCodec(columns, self.registry, self.record_class,
                            formats_as_sent=True).decode_row

        return on_description

    def _first_use_flow(
        self, sql: str, args: Sequence[Any], max_rows: int
    ) -> Flow[StatementResult]:
        """Prepare, describe and run a new statement in one round trip.

        Parse, Describe(statement), Bind, Execute and Sync go in one write.
        The parameter types are not known yet, so the arguments travel in
        text form (the server parses them as it would literals of the types
        it infers) and results come back as text, decoded by the text
        parsers into the same Python values as the binary codecs give.  The
        description is kept, so later runs use binary both ways.
        """
        registry = self.registry
        texts: list[bytes | None] = []
        for index, value in enumerate(args):
            try:
                texts.append(None if value is None else registry.encode_text(0, value))
            except (TypeError, ValueError) as exc:
                raise _argument_error(index, value, 0, registry, exc) from exc
        name = self.new_statement_name() if self.use_named_statements else ""
        self.engine.session_state |= statement_flags(sql)
        op = Extended()
        op.parse(name, sql)
        captured: list[list[Column] | None] = []
        deferred: DeferredRows = []

        def on_description(columns: list[Column] | None) -> Callable[[bytes], Any] | None:
            captured.append(columns)
            return self._text_decoder_or_defer(columns, deferred, lambda: result)

        result = op.describe_statement(name, on_description)
        op.bind_raw(wire.bind("", name, [TEXT_FORMAT] * len(texts), texts, [TEXT_FORMAT]))
        op.execute("", max_rows)
        done = yield self._with_closes(op)
        assert isinstance(done, Extended)
        if done.param_oids is not None and captured:
            # Parse and Describe succeeded, so the statement exists even if
            # executing it failed.
            described = [*done.param_oids, *introspection.column_oids(done.columns)]
            if done.error is None:
                yield from self._decode_deferred(deferred)
                yield from self.introspect_flow(described)
            elif self.engine.transaction_status is TransactionStatus.IDLE:
                # The statement failed (a bad argument, say) outside a
                # transaction block: look its types up anyway, so that the
                # next run describes and checks its arguments by type.  Not
                # in a failed block, where the catalog query would fail too.
                try:
                    yield from self.introspect_flow(described)
                except PostgresError:
                    pass
            if not introspection.unknown_oids(self.registry, described):
                state = self._make_state(name, sql, done)
                if name:
                    for old in self.cache.put(state):
                        self._evicted(old)
                else:
                    self.descriptions.put(state)
        elif name and done.error is None:
            raise ProtocolError("statement description missing from the server's answer")
        if done.error is not None:
            if (
                done.param_oids is not None
                and len(done.param_oids) != len(args)
                and isinstance(done.error, PostgresError)
                and done.error.sqlstate == "08P01"
            ):
                # Said by the server because we could not know before; say
                # it the way a cached statement's check says it.
                raise _argument_count_error(len(done.param_oids), len(args)) from done.error
            raise done.error
        assert result is not None
        return result

    def execute_flow(
        self, sql: str, args: Sequence[Any], *, max_rows: int = 0
    ) -> Flow[StatementResult]:
        """Run one statement with arguments; retry once if DDL staled its plan."""
        if len(args) > 0xFFFF:
            # Refused before anything is sent: the server would describe
            # such a statement with a parameter count that overflows.
            raise InterfaceError(
                f"{len(args)} arguments: a statement takes at most 65535 parameters")
        if self.replication is not None:
            if args:
                self.check_extended("a query with arguments")
            # The simple protocol serves it: its last result (text, decoded).
            done = yield from self.simple_query_flow(sql, decode_rows=True)
            return done.results[-1] if done.results else StatementResult()
        # The text path serves only statement_cache_size=0, where one round
        # trip on first use is asked for; elsewhere the statement is
        # described first, so arguments are checked and encoded by type.
        if (
            self.statement_cache_size == 0
            and self.descriptions.get(sql) is None
            and self._text_results_parsable()
            and all(_text_safe(arg) for arg in args)
        ):
            return (yield from self._first_use_flow(sql, args, max_rows))
        attempts: tuple[int, ...] = (1, 2)
        if self.use_named_statements:
            cached = self.cache.get(sql)
            if cached is not None:
                # The steady state, without a lookup flow: one Bind/Execute/Sync.
                result = yield from self.execute_prepared_flow(cached, args, max_rows=max_rows,
                                                               retry=True, reencode=True)
                if result is not None:
                    return result
                attempts = (2,)
        for attempt in attempts:
            known = attempt == 1 and (self.cache.get(sql) or self.descriptions.get(sql))
            state = yield from self._lookup_flow(sql)
            named = self._named_after_probe(state)
            result = yield from self.execute_prepared_flow(named or state, args,
                                                           max_rows=max_rows,
                                                           retry=attempt == 1,
                                                           reencode=bool(known),
                                                           parse=named is not None)
            if result is not None:
                return result
        raise AssertionError("unreachable")  # pragma: no cover

    def execute_prepared_flow(
        self,
        state: PreparedState,
        args: Sequence[Any],
        *,
        max_rows: int = 0,
        retry: bool = False,
        reencode: bool = False,
        parse: bool = False,
    ) -> Flow[StatementResult | None]:
        """Execute a described statement.  Returns None when a retry is due:
        ``retry`` after the server found the plan stale, ``reencode`` when an
        argument does not fit a description that came from the cache.
        ``parse``: a named statement not on the server yet, parsed in the
        same write and cached once it ran (see :meth:`_named_after_probe`)."""
        op = Extended()
        op.pipelinable = state.pipelinable
        if parse:
            op.parse(state.name, state.sql, state.param_oids)
        deferred: DeferredRows = []
        try:
            result = self._add_execute(op, state, args, max_rows, deferred=deferred)
        except DataError:
            if not reencode:
                raise
            # An argument its cached parameter type refuses: the description
            # may be stale (ALTER TABLE ... TYPE since).  Nothing was sent:
            # describe the statement again and encode once more, then the
            # error stands if the types did not change.
            self._drop_cached(state)
            return None
        done = yield (self._with_closes(op) if self._to_close else op)
        if parse:
            if done.error is None:
                for old in self.cache.put(state):
                    self._evicted(old)
            else:  # parsed or not (the error may have come later): closed either way
                self.forget_statement(state)
        if done.error is not None:
            if isinstance(done.error, OutdatedSchemaCacheError):
                self.schema_changed()
            if self._is_stale(done.error) or _bind_formats_rejected(done.error, result):
                self._drop_cached(state)
                # Retried only where it ran outside a transaction block:
                # after an error there the status is idle, not failed.  (The
                # op's own status: others' may have arrived since.)
                if retry and done.transaction_status is TransactionStatus.IDLE:
                    return None
                raise _stale_error(done.error) from done.error
            raise done.error
        if deferred:
            yield from self._decode_deferred(deferred)
        if done.transaction_status is TransactionStatus.IN_TRANSACTION:
            self._note_commands([result], done.transaction_status)
        return result

    def run_prepared_flow(
        self, state: PreparedState, args: Sequence[Any], *, max_rows: int = 0
    ) -> Flow[tuple[PreparedState, StatementResult]]:
        """Run a statement from ``Connection.prepare()``; return the state
        that ran (a new one when it had to be prepared again) and its result.

        A schema change that makes the statement stale (see
        :meth:`execute_prepared_flow`) is recovered as for cached
        statements: outside a transaction it is prepared again and run at
        once; inside one the error stands (retry the transaction) and the
        statement is prepared again when next used.
        """
        state = yield from self.live_prepared_flow(state)
        result = yield from self.execute_prepared_flow(state, args, max_rows=max_rows,
                                                       retry=True)
        if result is None:  # stale: dropped (closed), so prepared again
            state = yield from self.live_prepared_flow(state)
            result = yield from self.execute_prepared_flow(state, args, max_rows=max_rows)
            assert result is not None  # without retry it returns or raises
        return state, result

    def is_live(self, state: PreparedState) -> bool:
        """Can ``state`` run as it is (see :meth:`live_prepared_flow`)?"""
        return not state.closed and state.registry_version == self.registry.version

    def live_prepared_flow(self, state: PreparedState) -> Flow[PreparedState]:
        """``state``, or a new one when a schema change dropped it; the
        types it uses looked up again when the registry forgot them (a
        changed composite type)."""
        if state.closed:
            log.debug("prepared again after a schema change: %.60r", state.sql)
            own_name = state.name and not state.name.startswith(self._prefix)
            return (yield from self.prepare_flow(state.sql, named=bool(state.name),
                                                 name=state.name if own_name else None))
        if state.registry_version != self.registry.version:
            yield from self.introspect_flow(
                [*state.param_oids, *introspection.column_oids(state.columns)])
        return state
    def inline_arguments_flow(self, sql: str, args: Sequence[Any]) -> Flow[str]:
        """Write ``args`` into ``sql`` as literals, for statements that cannot
        take parameters (COPY).

        The server makes the literals: ``quote_nullable`` of each argument,
        bound with the type the statement gives its parameter, plus a cast
        to that type.  Only ``$n`` outside literals and comments is replaced.
        """
        target = yield from self.prepare_flow(sql, named=False)
        count = len(target.param_oids)
        if count != len(args):
            raise _argument_count_error(count, len(args))
        selects = ", ".join(
            f"quote_nullable(${i}) || '::' || ${count + i}::regtype::text"
            for i in range(1, count + 1)
        )
        oids = [*target.param_oids, *([2206] * count)]  # regtype for the casts
        quoting = yield from self.prepare_flow(f"SELECT {selects}", named=False,
                                               param_oids=oids)
        result = yield from self.execute_prepared_flow(
            quoting, [*args, *target.param_oids]
        )
        assert result is not None and result.rows
        literals = [str(value) for value in result.rows[0]]
        return replace_numbered_params(sql, literals)

    # -- pipelines ---------------------------------------------------------------

    def pipeline_flow(
        self, items: list[tuple[str, list[Sequence[Any]], int]]
    ) -> Flow[list[list[StatementResult] | BaseException]]:
        """Run queued statements with one Sync: ``(sql, argument tuples, max_rows)``.

        Statements the connection has not described yet run inline, as a
        statement_cache_size=0 first run does (Parse, Describe, Bind with
        text arguments, Execute, results as text), so a statement may use
        what an earlier one of the same batch created.  Only statements
        whose arguments have no generic text form (lists, dicts) are
        described first, in a round trip of their own.  The outcome of each
        item is its results, or the exception that failed it; items after a
        failure get a PipelineAbortedError, as the server skipped them
        (everything up to Sync is one implicit transaction).  When a
        statement fails to describe or to encode, nothing is sent.
        """
        self.check_extended("a pipeline")
        outcomes: list[list[StatementResult] | BaseException] = []
        states: dict[str, PreparedState] = {}
        unknown: list[str] = []
        inline: set[str] = set()
        text_ok = self._text_results_parsable()
        for sql, arg_list, _ in items:
            known = self.cache.get(sql) or self.descriptions.get(sql)
            if known is not None:
                states[sql] = known
            elif sql in inline or sql in unknown:
                continue
            elif text_ok and all(_text_safe(a) for args in arg_list for a in args):
                inline.add(sql)
            else:
                unknown.append(sql)
        failure: BaseException | None = None
        stop = len(items)
        if unknown:
            op = Extended()
            names = []
            for sql in unknown:
                name = self.new_statement_name() if self.use_named_statements else ""
                op.parse(name, sql)
                op.describe_statement(name)
                names.append(name)
            done = yield self._with_closes(op)
            assert isinstance(done, Extended)
            if done.error is None:
                yield from self.introspect_flow(
                    oid for oids, columns in done.descriptions
                    for oid in (*oids, *introspection.column_oids(columns)))
            for sql, name, (oids, columns) in zip(unknown, names, done.descriptions):
                state = PreparedState(name, sql, oids, columns, self.registry, self.record_class)
                states[sql] = state
                if name:
                    for old in self.cache.put(state):
                        self._evicted(old)
                else:
                    self.descriptions.put(state)
            if done.error is not None:
                failure = done.error
                failed_sql = unknown[len(done.descriptions)]
                stop = next(i for i, item in enumerate(items) if item[0] == failed_sql)
        op = Extended()
        per_item: list[list[StatementResult]] = []
        inline_order: list[str] = []
        deferred: DeferredRows = []
        if failure is None:
            for index, (sql, arg_list, max_rows) in enumerate(items):
                try:
                    if sql in inline:
                        per_item.append(self._add_inline(op, sql, arg_list, max_rows,
                                                         deferred))
                        inline_order.append(sql)
                        continue
                    state = states[sql]
                    # Encode every argument tuple before writing any.
                    binds = [self._bind_message(state, args) for args in arg_list]
                except (DataError, InterfaceError) as exc:
                    failure, stop = exc, index
                    break
                per_item.append([
                    self._add_execute(op, state, args, max_rows, parse=k == 0, bind=bind,
                                      deferred=deferred)
                    for k, (args, bind) in enumerate(zip(arg_list, binds))
                ])
        if failure is not None:
            # A statement failed to describe or to encode: nothing is sent,
            # so the batch stays all-or-nothing; the others were not run.
            return [failure if i == stop else _aborted(failure) for i in range(len(items))]
        error: BaseException | None = None
        if any(per_item):
            done = yield self._with_closes(op)
            error = done.error
            assert isinstance(done, Extended)
            if error is None:
                yield from self._decode_deferred(deferred)
                yield from self.introspect_flow(
                    oid for oids, columns in done.descriptions
                    for oid in (*oids, *introspection.column_oids(columns)))
            # Keep what the inline statements' descriptions taught us.
            for sql, (oids, columns) in zip(inline_order, done.descriptions):
                if self.descriptions.get(sql) is None and not introspection.unknown_oids(
                    self.registry, [*oids, *introspection.column_oids(columns)]
                ):
                    self.descriptions.put(PreparedState(
                        "", sql, oids, columns, self.registry, self.record_class
                    ))
            if error is not None and self._is_stale(error):
                for state in states.values():
                    self._drop_cached(state)
        cause: BaseException | None = None
        for results in per_item:
            if cause is not None:
                outcomes.append(_aborted(cause))
            elif error is not None and not all(
                r.status is not None or r.suspended for r in results
            ):
                outcomes.append(error)  # the server failed here; it skipped the rest
                cause = error
            else:
                outcomes.append(results)
        if error is not None and cause is None and outcomes:
            # Every statement completed but the batch still failed (a row
            # that could not be decoded): the last one carries the error.
            outcomes[-1] = error
        return outcomes

    # -- server-side cursors (named portals; they live until the transaction ends)

    def new_portal_name(self) -> str:
        self._counter += 1
        return f"{self._prefix}p{self._counter}"

    def cursor_open_flow(
        self, sql: str, args: Sequence[Any], portal: str, prefetch: int
    ) -> Flow[StatementResult]:
        """Bind ``sql`` to a named portal and fetch its first ``prefetch`` rows.

        At least one row is fetched: that also yields the row decoder, which
        for an unnamed statement comes from describing the portal.
        """
        self.check_extended("a cursor")
        state = yield from self._lookup_flow(sql)
        op = Extended()
        result = self._add_execute(op, state, args, max_rows=max(prefetch, 1), portal=portal)
        done = yield self._with_closes(op)
        if done.error is not None:
            raise done.error
        return result

    def cursor_fetch_flow(
        self, portal: str, count: int, row_decoder: Callable[[bytes], Any] | None
    ) -> Flow[StatementResult]:
        """Execute the portal for up to ``count`` rows (0: all that remain)."""
        op = Extended()
        result = op.execute(portal, count, row_decoder)
        done = yield self._with_closes(op)
        if done.error is not None:
            raise done.error
        return result

    def cursor_close_flow(self, portal: str) -> Flow[None]:
        op = Extended()
        op.close_portal(portal)
        done = yield self._with_closes(op)
        if done.error is not None:
            raise done.error
        return None

    def executemany_flow(
        self, sql: str, args_seq: Iterable[Sequence[Any]], *, state: PreparedState | None = None
    ) -> Flow[list[StatementResult]]:
        """Bind/Execute for every argument tuple, one Sync: one round trip.

        Returns the result (command tag) of each execution.
        """
        self.check_extended("executemany()")
        if state is None:
            state = yield from self._lookup_flow(sql)
        op = Extended()
        if state.name:
            if self.engine.transaction_status is TransactionStatus.IDLE:
                rows = iter(args_seq)
                results = self._add_executes_named(op, state, islice(rows, STREAM_ROWS))
                if len(results) == STREAM_ROWS:  # perhaps more: sent while built
                    return (yield from self._executemany_rest(op, state, rows, results))
            else:
                results = self._add_executes_named(op, state, args_seq)
        else:
            results = [
                # An unnamed statement stays until the next Parse: one Parse
                # serves the whole batch.
                self._add_execute(op, state, _argument_tuple(index, args), parse=index == 0)
                for index, args in enumerate(args_seq)
            ]
        if not results:
            return results
        done = yield self._with_closes(op)
        return self._executemany_outcome(done, state, results)

    def _executemany_rest(
        self, op: Extended, state: PreparedState, rows: Iterator[Sequence[Any]],
        results: list[StatementResult],
    ) -> Flow[list[StatementResult]]:
        """The rest of an executemany outside a transaction block, sent while built.

        The first :data:`STREAM_ROWS` rows (in ``op`` and ``results``) go out
        at once, so the server executes them while the next are encoded (a
        batch built whole first keeps the server idle meanwhile).  The batch
        stays one implicit transaction: all of it or nothing.  A bad
        argument found after rows went out, a timeout or a cancellation
        abandons the batch (:meth:`Extended.abort_stream`): the server
        rolls back what it ran, and the connection stays in step.
        """
        op.stream()
        yield Start(self._with_closes(op))
        try:
            while True:
                more = self._add_executes_named(op, state, islice(rows, STREAM_ROWS),
                                                first_index=len(results))
                results += more
                if len(more) < STREAM_ROWS:
                    break
                yield Write(op.more_messages(), whole=True)
            yield Write(op.more_messages(final=True), whole=True)
        except GeneratorExit:
            raise
        except BaseException as exc:
            # As copy_in_flow does: the server must see the batch fail and a
            # Sync, whatever stopped it here.
            self.engine.queue(op.abort_stream())
            yield FLUSH
            if isinstance(exc, Exception) and not isinstance(exc, TimeoutError):
                yield Wait(op)
            raise
        yield Wait(op)
        return self._executemany_outcome(op, state, results)

    def _executemany_outcome(
        self, done: Extended, state: PreparedState, results: list[StatementResult]
    ) -> list[StatementResult]:
        if done.error is not None:
            if self._is_stale(done.error):
                self._drop_cached(state)
                raise _stale_error(done.error) from done.error
            raise done.error
        return results

    def _add_executes_named(
        self, op: Extended, state: PreparedState, args_seq: Iterable[Sequence[Any]],
        first_index: int = 0,
    ) -> list[StatementResult]:
        """Bind/Execute of a named statement for each argument tuple.

        What :meth:`_add_execute` does for each, with the per-statement work
        done once: the loop runs once per row of an executemany.
        """
        if state.registry_version != self.registry.version:
            state.build_codecs(self.registry, self.record_class)
        if state.session_flags:
            self.engine.session_state |= state.session_flags
        codec = state.row_codec
        decoder = codec.decode_row if codec is not None else None
        columns = state.columns
        encode = state.encode_bind
        registry = self.registry
        bind_execute = op.bind_execute
        results = []
        for index, args in enumerate(args_seq, first_index):
            if type(args) is not tuple and type(args) is not list:
                args = _argument_tuple(index, args)
            results.append(bind_execute(encode("", args, registry), decoder, columns))
        return results

    def _note_commands(self, results: list[StatementResult],
                       transaction: TransactionStatus | None = None) -> None:
        """Forget named statements after DDL inside a transaction block.

        A plan made stale by DDL fails with "cached plan must not change
        result type", which can be retried transparently only outside a
        transaction; inside one, preparing the statements again up front
        avoids the failure (and the aborted transaction) altogether.
        """
        if transaction is None:
            transaction = self.engine.transaction_status
        if not self.cache or transaction is not TransactionStatus.IN_TRANSACTION:
            return
        for result in results:
            status = result.status
            if status and status.startswith(_SCHEMA_CHANGING_TAGS):
                for state in self.cache.clear():
                    self.forget_statement(state)
                return

    def _add_inline(
        self, op: Extended, sql: str, arg_list: list[Sequence[Any]], max_rows: int,
        deferred: DeferredRows,
    ) -> list[StatementResult]:
        """Parse, describe and run a new statement inside a batch (text formats).

        The unnamed statement: it may be parsed again later in the batch.
        """
        if not arg_list:
            return []  # executemany with no rows: nothing to run
        registry = self.registry
        binds = []
        for args in arg_list:
            texts: list[bytes | None] = []
            for index, value in enumerate(args):
                try:
                    texts.append(None if value is None else registry.encode_text(0, value))
                except (TypeError, ValueError) as exc:
                    raise _argument_error(index, value, 0, registry, exc) from exc
            binds.append(wire.bind("", "", [TEXT_FORMAT] * len(texts), texts, [TEXT_FORMAT]))
        self.engine.session_state |= statement_flags(sql)
        op.parse("", sql)

        results: list[StatementResult] = []

        def on_description(columns: list[Column] | None) -> Callable[[bytes], Any] | None:
            return self._text_decoder_or_defer(columns, deferred,
                                               lambda: results[0] if results else None)

        op.describe_statement("", on_description)
        for index, bind in enumerate(binds):
            op.bind_raw(bind)
            # Rows of later argument tuples (executemany) are not kept.
            results.append(op.execute("", max_rows if index == 0 else 0))
        return results

    def _text_results_parsable(self) -> bool:
        """True when the session's output styles are the ones the text parsers read."""
        parameters = self.engine.parameters
        return parameters.get("DateStyle", "ISO").startswith("ISO") and parameters.get(
            "IntervalStyle", "postgres"
        ) == "postgres"

    @staticmethod
    def _is_stale(error: BaseException) -> bool:
        return isinstance(error, InvalidCachedStatementError) or _type_dropped(error)


# Command tags of statements that can change what cached statements return.
_SCHEMA_CHANGING_TAGS = ("ALTER ", "DROP ", "CREATE ")


def _aborted(cause: BaseException) -> PipelineAbortedError:
    exc = PipelineAbortedError(
        "not run: an earlier statement in the pipeline failed before the sync point"
    )
    exc.__cause__ = cause
    return exc


def _type_dropped(error: BaseException) -> bool:
    """Did the server fail to find a type the statement was described with?

    A type dropped and created again (a migration recreating an enum) gets
    a new OID; a statement described before still names the old one as a
    parameter type, which the server then reports as an internal error
    (XX000, "cache lookup failed for type"), every time.  Describing the
    statement again gives the new OID.
    """
    if not isinstance(error, PostgresError) or error.sqlstate != "XX000":
        return False
    routine = error.server_source_function or ""
    return routine.startswith("getType") or "lookup failed for type" in (error.message or "")


def _bind_formats_rejected(error: BaseException, result: StatementResult) -> bool:
    """Did the server refuse our Bind's result formats (the column count changed)?

    Protocol violation 08P01 before anything ran: the statement never
    started, so it is safe to describe it again and retry.
    """
    return (
        isinstance(error, PostgresError)
        and error.sqlstate == "08P01"
        and result.status is None
        and not result.rows
        and (
            error.server_source_function == "PortalSetResultFormat"
            or "result formats" in (error.message or "")
        )
    )


def _stale_error(error: BaseException) -> BaseException:
    """Explain a stale statement that could not be retried (a transaction was open).

    The server's error may be a protocol violation (08P01, a Bind refused
    for its result formats): that would read as a broken connection, so it
    becomes an InvalidCachedStatementError too.
    """
    if isinstance(error, PostgresError):
        message = error.message or (error.args[0] if error.args else "") or type(error).__name__
        text = (
            f"{message}: the statement was prepared before a schema change; "
            "it has been dropped, retry the transaction"
        )
        if isinstance(error, InvalidCachedStatementError):
            error.args = (text,)
            return error
        return InvalidCachedStatementError(text)
    return error


def _text_safe(value: Any) -> bool:
    """Can ``value`` be sent as text before its parameter type is known?"""
    if isinstance(value, str):
        # A one-character non-ASCII string may be meant for "char", whose
        # text input keeps only the first byte of the UTF-8 form.
        return len(value) != 1 or value.isascii()
    return value is None or isinstance(value, _TEXT_SAFE_TYPES)


def _same_shape(old: list[Column], new: list[Column]) -> bool:
    if len(old) != len(new):
        return False
    for a, b in zip(old, new):
        if a.type_oid != b.type_oid or a.name != b.name:
            return False
    return True
