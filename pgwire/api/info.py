"""What a connection tells about itself and its statements, without asking the server.

:class:`ServerVersion` (as asyncpg reports it), :class:`ConnectionSettings`
(the server's reported run-time parameters), and the :class:`Type` /
:class:`Attribute` descriptions of a prepared statement's parameters and
columns, plus :class:`StatementInfo`, what both APIs' prepared statements
share.
"""

from __future__ import annotations

import re
import weakref
from typing import NamedTuple

from ..flows.statements import PreparedState, Session
from ..protocol.messages import Column
from ..types import TypeRegistry
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
    if major >= 10:
        # Since PostgreSQL 10 "15.18" is major 15, bugfix 18: asyncpg reports
        # it as (15, 0, 18), so that version[:2] checks ignore bugfix releases.
        minor, micro = 0, minor
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
    """What asyncpg's get_parameters()/get_attributes() say of a type: its
    name (``int4``, ``int4[]``, ``char`` for ``"char"``), kind and schema."""
    name = registry.type_name(oid)
    if name is not None:
        name = name.replace('"', "")
    return Type(oid, name, registry.type_kind(oid), registry.type_schema(oid))


class StatementInfo:
    """Metadata of a statement prepared on one connection (both APIs' PreparedStatement)."""

    _state: PreparedState
    _session: Session

    def _init_info(self, session: Session, state: PreparedState,
                   record_class: type[Record] | None) -> None:
        self._session = session
        self._state = state
        self._record_class = record_class
        self._last_status: str | None = None
        self._watch(state)

    def _watch(self, state: PreparedState) -> None:
        if state.name:
            # Close the server statement once nobody can use it any more.
            weakref.finalize(self, self._session.forget_statement, state)

    def _use_state(self, state: PreparedState) -> None:
        """Switch to ``state``: the statement was prepared again (schema change)."""
        if state is not self._state:
            self._state = state
            self._watch(state)

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
