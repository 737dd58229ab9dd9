"""What the asyncio and blocking APIs share: everything but the waiting.

Argument checks, result shaping, server information, prepared-statement
metadata, transaction statements and the pooler detection flow live here
once; :mod:`pgwire.connection` (asyncio) and :mod:`pgwire.sync` (blocking)
add only the methods that run flows, each in its own way of waiting.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable
from typing import Any, NamedTuple

from ..conninfo.params import ConnectParams, build_params
from ..exceptions import InterfaceError, PostgresLogMessage
from ..flows.sqltext import quote_ident
from ..flows.statements import Flow, PreparedState, Session
from ..protocol.engine import Column, Engine, Notification, StatementResult, TransactionStatus
from ..types import TypeRegistry, default_registry
from ..types.record import Record


class ServerVersion(NamedTuple):
    """The server's version, as asyncpg reports it."""

    major: int
    minor: int
    micro: int
    releaselevel: str
    serial: int


_VERSION_RE = re.compile(r"^\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*(?:(devel|alpha|beta|rc)(\d*))?")


def parse_server_version(text: str) -> ServerVersion:
    match = _VERSION_RE.match(text)
    if match is None:
        return ServerVersion(0, 0, 0, "final", 0)
    major = int(match.group(1))
    minor = int(match.group(2) or 0)
    micro = int(match.group(3) or 0)
    level = match.group(4) or "final"
    if level == "rc":
        level = "candidate"
    serial = int(match.group(5) or 0)
    return ServerVersion(major, minor, micro, level, serial)


class ConnectionSettings:
    """Read-only view of the server's reported run-time parameters."""

    __slots__ = ("_parameters",)

    def __init__(self, parameters: dict[str, str]) -> None:
        self._parameters = parameters

    def __getattr__(self, name: str) -> str:
        try:
            return self._parameters[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: str) -> bool:
        return name in self._parameters

    def __repr__(self) -> str:
        items = ", ".join(f"{k}={v!r}" for k, v in sorted(self._parameters.items()))
        return f"<ConnectionSettings {items}>"


class Type(NamedTuple):
    oid: int
    name: str | None
    kind: str
    schema: str


class Attribute(NamedTuple):
    name: str
    type: Type


def type_of(registry: TypeRegistry, oid: int) -> Type:
    name = registry.type_name(oid)
    kind = "scalar"
    if name is not None and name.endswith("[]"):
        # pg_type spells array types with a leading underscore: _int4.
        kind = "array"
        name = "_" + name[:-2]
    elif name == '"char"':
        name = "char"
    return Type(oid, name, kind, "pg_catalog")


def check_record_class(record_class: Any) -> None:
    if record_class is not None and not (
        isinstance(record_class, type) and issubclass(record_class, Record)
    ):
        raise InterfaceError(
            f"record_class is expected to be a subclass of pgwire.Record, got {record_class!r}"
        )


def rows_of(result: StatementResult, record_class: type[Record] | None) -> list[Record]:
    rows = result.rows
    if record_class is not None and rows and type(rows[0]) is not record_class:
        return [record_class._make(r._mapping, tuple(r)) for r in rows]
    return rows


_IGNORED_CONNECT_ARGUMENTS = frozenset(
    {"loop", "max_cached_statement_lifetime", "max_cacheable_statement_size", "passfile",
     "direct_tls", "target_session_attrs"}
)


def prepare_connect(
    dsn: str | None,
    *,
    host: Any,
    port: Any,
    user: str | None,
    password: str | None,
    database: str | None,
    timeout: float | None,
    statement_cache_size: int,
    server_settings: dict[str, str] | None,
    ssl: Any,
    record_class: Any,
    connection_class: Any,
    connection_base: type,
    type_registry: TypeRegistry | None,
    unsupported: dict[str, Any],
) -> tuple[ConnectParams, Callable[[], Session]]:
    """Check connect() arguments; return the parameters and a session factory."""
    unknown = set(unsupported) - _IGNORED_CONNECT_ARGUMENTS
    if unknown:
        raise TypeError(f"connect() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
    if record_class is None:
        raise InterfaceError("record_class is expected to be a subclass of pgwire.Record, got None")
    check_record_class(record_class)
    if not isinstance(connection_class, type) or not issubclass(connection_class, connection_base):
        raise InterfaceError(
            f"connection_class is expected to be a subclass of {connection_base.__module__}."
            f"{connection_base.__qualname__}, got {connection_class!r}"
        )
    if statement_cache_size < 0:
        raise InterfaceError("statement_cache_size must not be negative")
    params = build_params(dsn, host=host, port=port, user=user, password=password,
                          database=database, ssl=ssl, server_settings=server_settings,
                          timeout=timeout)
    registry = (type_registry or default_registry).copy()

    def make_session() -> Session:
        return Session(Engine(), registry, statement_cache_size=statement_cache_size,
                       record_class=record_class)

    return params, make_session


_log = logging.getLogger("pgwire")

_LOG_LEVELS = {"WARNING": logging.WARNING, "NOTICE": logging.INFO, "INFO": logging.INFO}


class ConnectionBase:
    """Server information and helpers common to both connection classes."""

    _session: Session
    _engine: Engine
    _params: ConnectParams

    def _init_base(self, session: Session, params: ConnectParams,
                   command_timeout: float | None) -> None:
        self._session = session
        self._engine = session.engine
        self._params = params
        self._command_timeout = command_timeout
        self._top_transaction: Any = None
        self._savepoint_counter = 0
        self._closing = False
        self._listeners: dict[str, list[Callable[..., Any]]] = {}
        self._log_listeners: list[Callable[..., Any]] = []
        self._termination_listeners: list[Callable[..., Any]] = []
        self._terminated_notified = False

    # -- events from the server ------------------------------------------------

    def _call_listener(self, callback: Callable[..., Any], *args: Any) -> None:
        """Run one listener; an exception in it is logged, never raised here."""
        try:
            callback(*args)
        except Exception:
            _log.exception("pgwire: a listener callback raised an exception")

    def _dispatch_events(self, events: list[Any]) -> None:
        for event in events:
            if isinstance(event, Notification):
                for callback in list(self._listeners.get(event.channel, ())):
                    self._call_listener(callback, self, event.pid, event.channel, event.payload)
            elif isinstance(event, PostgresLogMessage):
                if self._log_listeners:
                    for callback in list(self._log_listeners):
                        self._call_listener(callback, self, event)
                else:
                    severity = getattr(event, "severity_en", None) or "LOG"
                    _log.log(_LOG_LEVELS.get(severity, logging.DEBUG), "%s: %s",
                             severity, getattr(event, "message", event))

    def _notify_terminated(self) -> None:
        if self._terminated_notified:
            return
        self._terminated_notified = True
        for callback in list(self._termination_listeners):
            self._call_listener(callback, self)

    def _listen_statement(self, channel: str, callback: Callable[..., Any]) -> str | None:
        """Register a listener; return LISTEN when it is the channel's first."""
        if not callable(callback):
            raise InterfaceError(f"listener callback must be callable, got {callback!r}")
        quoted = quote_ident(channel)
        callbacks = self._listeners.setdefault(channel, [])
        callbacks.append(callback)
        return f"LISTEN {quoted}" if len(callbacks) == 1 else None

    def _unlisten_statement(self, channel: str, callback: Callable[..., Any]) -> str | None:
        """Unregister a listener; return UNLISTEN when none is left for the channel."""
        callbacks = self._listeners.get(channel)
        if not callbacks or callback not in callbacks:
            return None
        callbacks.remove(callback)
        if callbacks:
            return None
        del self._listeners[channel]
        return f"UNLISTEN {quote_ident(channel)}"

    def add_log_listener(self, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection, message)`` for each NOTICE/WARNING the server sends.

        Without log listeners, such messages go to the ``pgwire`` logger.
        """
        if not callable(callback):
            raise InterfaceError(f"log listener must be callable, got {callback!r}")
        self._log_listeners.append(callback)

    def remove_log_listener(self, callback: Callable[..., Any]) -> None:
        if callback in self._log_listeners:
            self._log_listeners.remove(callback)

    def add_termination_listener(self, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection)`` once when the connection closes, for any reason."""
        if not callable(callback):
            raise InterfaceError(f"termination listener must be callable, got {callback!r}")
        self._termination_listeners.append(callback)

    def remove_termination_listener(self, callback: Callable[..., Any]) -> None:
        if callback in self._termination_listeners:
            self._termination_listeners.remove(callback)

    def is_in_transaction(self) -> bool:
        return self._engine.transaction_status in (
            TransactionStatus.IN_TRANSACTION, TransactionStatus.IN_ERROR
        )

    def get_server_pid(self) -> int:
        return self._engine.backend_pid or 0

    def get_server_version(self) -> ServerVersion:
        return parse_server_version(self._engine.parameters.get("server_version", ""))

    def get_settings(self) -> ConnectionSettings:
        return ConnectionSettings(self._engine.parameters)

    def get_reset_query(self) -> str:
        return "RESET ALL"

    @property
    def type_registry(self) -> TypeRegistry:
        """This connection's codecs (a copy of the defaults; changes stay here)."""
        return self._session.registry

    def _prepared_flow(self, state: PreparedState, args: Any,
                       max_rows: int) -> Flow[StatementResult]:
        result = yield from self._session.execute_prepared_flow(state, args, max_rows=max_rows)
        assert result is not None
        return result

    def _timeout(self, timeout: float | None) -> float | None:
        return self._command_timeout if timeout is None else timeout


class PreparedStatementBase:
    """Metadata of a statement prepared on one connection."""

    _state: PreparedState
    _session: Session

    def _init_base(self, session: Session, state: PreparedState,
                   record_class: type[Record] | None) -> None:
        import weakref

        self._session = session
        self._state = state
        self._record_class = record_class
        self._last_status: str | None = None
        if state.name:
            # Close the server statement once nobody can use it any more.
            weakref.finalize(self, session.forget_statement, state)

    def get_query(self) -> str:
        return self._state.sql

    def get_name(self) -> str:
        return self._state.name

    def get_statusmsg(self) -> str | None:
        return self._last_status

    def get_parameters(self) -> tuple[Type, ...]:
        registry = self._session.registry
        return tuple(type_of(registry, oid) for oid in self._state.param_oids)

    def get_attributes(self) -> tuple[Attribute, ...]:
        registry = self._session.registry
        columns: list[Column] = self._state.columns or []
        return tuple(Attribute(c.name, type_of(registry, c.type_oid)) for c in columns)


ISOLATION_LEVELS = {
    "read_committed": "READ COMMITTED",
    "read_uncommitted": "READ UNCOMMITTED",
    "repeatable_read": "REPEATABLE READ",
    "serializable": "SERIALIZABLE",
}


class TransactionState(enum.Enum):
    NEW = "new"
    STARTED = "started"
    COMMITTED = "committed"
    ROLLEDBACK = "rolled back"
    FAILED = "failed"


class TransactionBase:
    """The statements and state of a transaction block or savepoint.

    Subclasses run the statements; this class decides which ones.
    """

    __slots__ = ("_connection", "_isolation", "_readonly", "_deferrable", "_state",
                 "_nested", "_savepoint")

    def __init__(self, connection: Any, isolation: str | None, readonly: bool,
                 deferrable: bool) -> None:
        if isolation is not None and isolation not in ISOLATION_LEVELS:
            raise ValueError(
                f"isolation is expected to be one of {', '.join(sorted(ISOLATION_LEVELS))}, "
                f"got {isolation!r}"
            )
        self._connection = connection
        self._isolation = isolation
        self._readonly = readonly
        self._deferrable = deferrable
        self._state = TransactionState.NEW
        self._nested = False
        self._savepoint: str | None = None

    def _start_statement(self) -> str:
        """Check that the block can start; return BEGIN or SAVEPOINT."""
        if self._state is not TransactionState.NEW:
            raise InterfaceError(f"cannot start a transaction that is {self._state.value}")
        conn = self._connection
        top = conn._top_transaction
        if top is None:
            if conn.is_in_transaction():
                raise InterfaceError(
                    "cannot use Connection.transaction() in a manually started transaction"
                )
            parts = ["BEGIN"]
            if self._isolation is not None:
                parts.append(f"ISOLATION LEVEL {ISOLATION_LEVELS[self._isolation]}")
            if self._readonly:
                parts.append("READ ONLY")
            if self._deferrable:
                parts.append("DEFERRABLE")
            return " ".join(parts)
        if self._isolation is not None and self._isolation != top._isolation:
            raise InterfaceError(
                f"nested transaction has a different isolation level: "
                f"current {top._isolation!r} != outer {self._isolation!r}"
            )
        if (self._readonly or self._deferrable) and (
            self._readonly != top._readonly or self._deferrable != top._deferrable
        ):
            raise InterfaceError("nested transaction has different readonly/deferrable settings")
        conn._savepoint_counter += 1
        self._savepoint = f"pgwire_savepoint_{conn._savepoint_counter}"
        self._nested = True
        return f"SAVEPOINT {self._savepoint}"

    def _started(self) -> None:
        self._state = TransactionState.STARTED
        if not self._nested:
            self._connection._top_transaction = self

    def _end_statements(self, action: str) -> list[str]:
        if self._state is not TransactionState.STARTED:
            raise InterfaceError(f"cannot {action} a transaction that is {self._state.value}")
        if action == "commit":
            return [f"RELEASE SAVEPOINT {self._savepoint}"] if self._nested else ["COMMIT"]
        if self._nested:
            return [f"ROLLBACK TO SAVEPOINT {self._savepoint}",
                    f"RELEASE SAVEPOINT {self._savepoint}"]
        return ["ROLLBACK"]

    def _ended(self, state: TransactionState) -> None:
        self._state = state
        conn = self._connection
        if not self._nested and conn._top_transaction is self:
            conn._top_transaction = None

    def _exit_action(self, exc_type: type[BaseException] | None) -> str | None:
        """What leaving the block does: 'commit', 'rollback' or nothing."""
        if self._state is not TransactionState.STARTED:
            return None  # committed or rolled back by hand inside the block
        if exc_type is None:
            return "commit"
        if self._connection.is_closed():
            self._ended(TransactionState.FAILED)
            return None
        return "rollback"

    def __repr__(self) -> str:
        kind = "savepoint" if self._nested else "transaction"
        return f"<pgwire.Transaction {kind} state={self._state.value}>"
