"""Hand-written exception bases: the PEP 249 hierarchy, the server-message
classes that carry ErrorResponse/NoticeResponse fields, and the client-side
errors.

The per-SQLSTATE classes are generated into ``_sqlstate.py`` on top of these.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

__all__ = [
    # PEP 249
    "Warning",
    "Error",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    # server messages
    "PostgresMessage",
    "PostgresError",
    "FatalPostgresError",
    "UnknownPostgresError",
    "PostgresLogMessage",
    "PostgresWarning",
    # client side
    "InterfaceWarning",
    "ClientConfigurationError",
    "UnsupportedClientFeatureError",
    "UnsupportedServerFeatureError",
    "InternalClientError",
    "PipelineAbortedError",
    "ProtocolError",
    "OutdatedSchemaCacheError",
    "TargetServerAttributeNotMatched",
]

#: ErrorResponse/NoticeResponse field code -> attribute name (asyncpg's names).
FIELD_NAMES: Mapping[str, str] = MappingProxyType(
    {
        "S": "severity",
        "V": "severity_en",
        "C": "sqlstate",
        "M": "message",
        "D": "detail",
        "H": "hint",
        "P": "position",
        "p": "internal_position",
        "q": "internal_query",
        "W": "context",
        "s": "schema_name",
        "t": "table_name",
        "c": "column_name",
        "d": "data_type_name",
        "n": "constraint_name",
        "F": "server_source_filename",
        "L": "server_source_line",
        "R": "server_source_function",
    }
)

_EMPTY_FIELDS: Mapping[str, str] = MappingProxyType({})


def _with_detail_and_hint(message: str, detail: str | None, hint: str | None) -> str:
    # Same layout as psql and asyncpg, so logs read the same.
    if detail:
        message += f"\nDETAIL:  {detail}"
    if hint:
        message += f"\nHINT:  {hint}"
    return message


# --------------------------------------------------------------------------
# PEP 249


class Warning(Exception):  # shadows the builtin on purpose: PEP 249 names it
    """Important warnings (PEP 249)."""


class Error(Exception):
    """Base class of every error pgwire raises (PEP 249)."""


class InterfaceError(Error):
    """Improper use of the driver, or a problem in the driver itself (PEP 249).

    ``detail`` and ``hint`` are optional extra lines, shown by ``str()`` the way
    server errors show theirs.
    """

    detail: str | None = None
    hint: str | None = None

    def __init__(
        self, message: str = "", *, detail: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        if detail is not None:
            self.detail = detail
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return _with_detail_and_hint(str(self.args[0]) if self.args else "", self.detail, self.hint)


class DatabaseError(Error):
    """Errors related to the database (PEP 249)."""


class OperationalError(DatabaseError):
    """Errors in the database's operation, not under the programmer's control (PEP 249)."""


class IntegrityError(DatabaseError):
    """Relational integrity violated (PEP 249)."""


class InternalError(DatabaseError):
    """The database hit an internal error or is out of sync (PEP 249)."""


class ProgrammingError(DatabaseError):
    """Errors in the SQL or in how it is used (PEP 249)."""


class NotSupportedError(DatabaseError):
    """A feature the database does not support (PEP 249)."""


# --------------------------------------------------------------------------
# Server messages


class PostgresMessage:
    """The fields of an ErrorResponse or NoticeResponse, as attributes.

    Every field of the protocol ("Error and Notice Message Fields") has an
    attribute named as asyncpg names it (see ``FIELD_NAMES``); a field the
    server did not send reads as ``None``.  Values are the server's strings,
    unconverted (``position`` and ``server_source_line`` included), as in
    asyncpg.  ``fields`` holds the raw ``{code: value}`` mapping, including
    codes this version does not know.
    """

    sqlstate: str | None = None
    severity: str | None = None
    severity_en: str | None = None
    message: str | None = None
    detail: str | None = None
    hint: str | None = None
    position: str | None = None
    internal_position: str | None = None
    internal_query: str | None = None
    context: str | None = None
    schema_name: str | None = None
    table_name: str | None = None
    column_name: str | None = None
    data_type_name: str | None = None
    constraint_name: str | None = None
    server_source_filename: str | None = None
    server_source_line: str | None = None
    server_source_function: str | None = None

    #: The raw fields, keyed by their one-character protocol code.
    fields: Mapping[str, str] = _EMPTY_FIELDS
    #: The query that caused the message, when the caller knows it.
    query: str | None = None

    def _set_fields(self, fields: Mapping[str, str], query: str | None) -> None:
        # Written straight into __dict__: log messages forbid setattr.
        d = self.__dict__
        for code, value in fields.items():
            name = FIELD_NAMES.get(code)
            if name is not None:
                d[name] = value
        d["fields"] = dict(fields)
        d["query"] = query

    def as_dict(self) -> dict[str, str]:
        """Return the fields that are present, keyed by attribute name."""
        result: dict[str, str] = {}
        for name in FIELD_NAMES.values():
            value = getattr(self, name)
            if value is not None:
                result[name] = value
        return result


class PostgresError(PostgresMessage, DatabaseError):
    """Base class of the errors the server reports (ErrorResponse).

    ``str(exc)`` is the message followed by ``DETAIL:`` and ``HINT:`` lines
    when the server sent them; ``exc.message`` is the bare message.  The
    class attribute ``sqlstate`` is the code the class stands for; on an
    instance built from a server error it is the code the server sent.
    """

    def __init__(
        self, message: str = "", *, detail: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        if detail is not None:
            self.detail = detail
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return _with_detail_and_hint(str(self.args[0]) if self.args else "", self.detail, self.hint)


class FatalPostgresError(PostgresError):
    """Kept for asyncpg compatibility; pgwire does not raise it itself."""


class UnknownPostgresError(PostgresError):
    """A server error whose SQLSTATE (and its class) pgwire does not know."""


class PostgresLogMessage(PostgresMessage):
    """A non-error server message (NoticeResponse): NOTICE, INFO, LOG, ...

    Instances are immutable, since the same object goes to every listener.
    """

    def __str__(self) -> str:
        return f"{type(self).__name__}: {self.message}"

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("__"):
            # __traceback__, __notes__, ... on PostgresWarning
            super().__setattr__(name, value)
            return
        raise TypeError(f"instances of {type(self).__name__} are immutable")

    def __delattr__(self, name: str) -> None:
        raise TypeError(f"instances of {type(self).__name__} are immutable")

    def __setstate__(self, state: dict[str, Any] | None) -> None:
        # Unpickling must bypass __setattr__ above.
        if state:
            self.__dict__.update(state)


class PostgresWarning(PostgresLogMessage, Warning, builtins.Warning):
    """A server notice of severity WARNING, or with a class 01/02 SQLSTATE.

    Also a Python ``Warning``, so it can be passed to ``warnings.warn``.
    """

    sqlstate = "01000"


# --------------------------------------------------------------------------
# The class 22 base doubles as PEP 249's DataError.  It is defined here
# rather than generated so the PEP 249 hierarchy is complete in one place.


class DataError(PostgresError):
    """Errors in the processed data (PEP 249); also SQLSTATE class 22, data_exception.

    ``except pgwire.DataError`` therefore catches every class 22 server error
    (invalid_text_representation, division_by_zero, ...).
    """

    sqlstate = "22000"


# --------------------------------------------------------------------------
# Client side


class InterfaceWarning(Warning, UserWarning):
    """A warning about questionable use of the driver's API."""

    detail: str | None = None
    hint: str | None = None

    def __init__(
        self, message: str = "", *, detail: str | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message)
        if detail is not None:
            self.detail = detail
        if hint is not None:
            self.hint = hint

    def __str__(self) -> str:
        return _with_detail_and_hint(str(self.args[0]) if self.args else "", self.detail, self.hint)


class ClientConfigurationError(InterfaceError, ValueError):
    """Invalid connection or client configuration (an unknown option, a bad value)."""


class UnsupportedClientFeatureError(InterfaceError):
    """The requested feature is not supported by pgwire."""


class UnsupportedServerFeatureError(InterfaceError):
    """The requested feature is not supported by the server."""


class InternalClientError(InterfaceError):
    """An unexpected condition inside the driver."""


class PipelineAbortedError(InterfaceError):
    """A statement queued in a pipeline was not run: an earlier statement
    before the same sync point failed (its error is ``__cause__``)."""


class ProtocolError(InternalClientError):
    """Malformed or unexpected data from the server; the connection is closed."""


class OutdatedSchemaCacheError(InternalClientError):
    """A cached statement or type description went stale after a schema change.

    Raised when it cannot be retried transparently, i.e. inside a transaction.
    """

    def __init__(
        self,
        message: str = "",
        *,
        schema: str | None = None,
        data_type: str | None = None,
        position: str | None = None,
    ) -> None:
        super().__init__(message)
        self.schema_name = schema
        self.data_type_name = data_type
        self.position = position


class TargetServerAttributeNotMatched(InternalClientError):
    """No host satisfied ``target_session_attrs``."""
