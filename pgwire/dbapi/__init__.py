"""PEP 249 (DB-API 2.0) on top of pgwire's blocking API.

::

    from pgwire import dbapi

    conn = dbapi.connect("postgresql://user@localhost/db")
    with conn.cursor() as cur:
        cur.execute("INSERT INTO t (id, name) VALUES (%s, %s)", (1, "one"))
        cur.execute("SELECT name FROM t WHERE id = %(id)s", {"id": 1})
        print(cur.fetchone())
    conn.commit()

``connect()`` takes the keywords of :func:`pgwire.connect_sync`, plus
``autocommit``.  Rows are plain tuples.

Parameters
    ``paramstyle`` is ``pyformat``; ``format`` works too: ``%s`` and
    ``%(name)s``, with ``%%`` for a literal ``%``.  The placeholders are
    rewritten to ``$1..$n`` on the client and the values are bound by the
    server, never spliced into the SQL text.  The rewriting knows SQL's
    lexical rules: a ``%`` inside a string literal (``'...'``, ``E'...'``),
    a quoted identifier, a dollar-quoted string or a comment is never a
    placeholder (a lone ``%`` there is kept as is; ``%%`` still means ``%``,
    so queries written for other pyformat drivers keep their meaning).  A
    name used twice is one parameter.  Mixing ``%s`` and ``%(name)s``, a
    wrong number of values or a missing key raise ProgrammingError.  The
    rewritten query is cached per query text (an LRU).

    With ``parameters=None`` the query is sent as it is, ``%`` included (as
    psycopg does), and may then hold several statements separated by
    semicolons; their result sets are reached with :meth:`Cursor.nextset`.

    Parameter types come from the server, as in the asyncpg-style API: in
    ``SELECT %s`` the parameter is ``text``, so pass a ``str`` or add a
    cast (``SELECT %s::int``).

Transactions
    Unless ``autocommit`` is on, the first statement after connecting (or
    after commit()/rollback()) is preceded by BEGIN; commit() and rollback()
    end the transaction (they do nothing when none is open, and also end one
    started by hand with ``execute("BEGIN")``).  commit() on a transaction
    that an error has aborted rolls it back, as the server does, and raises
    ``InFailedSQLTransactionError`` so the lost work does not go unnoticed.
    Changing ``autocommit`` while a transaction is open raises
    ProgrammingError rather than committing or rolling back behind the
    caller's back (psycopg does the same).

    ``with conn:`` commits when the block succeeds, rolls back when it
    raises, and then closes the connection (as psycopg 3 and files do).

Decisions where PEP 249 leaves a choice
    * ``threadsafety = 2``: threads may share the module and connections,
      not cursors.  A connection runs one statement at a time (the blocking
      connection serializes them, and the implicit BEGIN and the statement
      run under one lock here), but every thread works in the same
      transaction: one thread's commit() commits the others' work.  Give
      each thread its own connection when that matters.
    * :meth:`Cursor.nextset` moves to the next result set of a
      multi-statement query and returns True, or returns None when there is
      none.
    * :meth:`Cursor.callproc` runs ``SELECT * FROM proc(...)``, which suits
      functions; call a procedure with ``execute("CALL proc(...)")``.
    * Results are read whole into memory when the statement runs (a
      client-side cursor).
    * Statements are prepared and cached per connection, as everywhere in
      pgwire.  DDL run inside a transaction (ALTER, DROP, CREATE) makes the
      connection prepare its statements anew, so a statement whose result
      columns changed keeps working in the same transaction.
    * Two-phase commit: ``tpc_begin()`` issues BEGIN at once; transaction
      ids are stored as ``pgwire:<format_id>:<gtrid>:<bqual>`` (the parts
      percent-encoded); ``tpc_recover()`` lists the prepared transactions of
      the current database (only those can be committed from here).
"""

from __future__ import annotations

import datetime as _dt
import functools
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, NamedTuple, TypeVar
from urllib.parse import quote, unquote

from .. import sync
from ..api.results import Result
from ..exceptions import (
    DatabaseError,
    DataError,
    Error,
    InFailedSQLTransactionError,
    IntegrityError,
    InterfaceError,
    InternalError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    Warning,
)
from ..flows import sqltext
from ..protocol.messages import Column as _WireColumn
from ..types import oids
from ..types.record import record_values

__all__ = [
    "BINARY",
    "DATETIME",
    "NUMBER",
    "ROWID",
    "STRING",
    "Binary",
    "Column",
    "Connection",
    "ConvertedQuery",
    "Cursor",
    "DBAPITypeObject",
    "DataError",
    "DatabaseError",
    "Date",
    "DateFromTicks",
    "Error",
    "IntegrityError",
    "InterfaceError",
    "InternalError",
    "NotSupportedError",
    "OperationalError",
    "ProgrammingError",
    "ServerCursor",
    "Time",
    "TimeFromTicks",
    "TimeoutExpiredError",
    "Timestamp",
    "TimestampFromTicks",
    "Warning",
    "Xid",
    "apilevel",
    "connect",
    "convert_query",
    "paramstyle",
    "threadsafety",
]

apilevel = "2.0"
# See the module docstring: connections may be shared, cursors may not.
threadsafety = 2
paramstyle = "pyformat"


# ---------------------------------------------------------------------------
# Type objects and constructors


class DBAPITypeObject:
    """A group of PostgreSQL types; equal to the OID of each type in the group.

    ``cursor.description[i].type_code`` is a type OID, so
    ``description[0].type_code == dbapi.NUMBER`` tells whether a column is
    numeric.
    """

    __slots__ = ("name", "oids")

    def __init__(self, name: str, *type_oids: int) -> None:
        self.name = name
        self.oids = frozenset(type_oids)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DBAPITypeObject):
            return self.oids == other.oids
        if isinstance(other, int):
            return other in self.oids
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self.oids)

    def __repr__(self) -> str:
        return f"<DBAPITypeObject {self.name} {sorted(self.oids)}>"


_TID = 27  # the type of ctid, PostgreSQL's row id

STRING = DBAPITypeObject(
    "STRING", oids.TEXT, oids.VARCHAR, oids.BPCHAR, oids.NAME, oids.CHAR
)
BINARY = DBAPITypeObject("BINARY", oids.BYTEA)
NUMBER = DBAPITypeObject(
    "NUMBER", oids.INT2, oids.INT4, oids.INT8, oids.FLOAT4, oids.FLOAT8, oids.NUMERIC
)
DATETIME = DBAPITypeObject(
    "DATETIME",
    oids.DATE, oids.TIME, oids.TIMETZ, oids.TIMESTAMP, oids.TIMESTAMPTZ, oids.INTERVAL,
)
ROWID = DBAPITypeObject("ROWID", oids.OID, _TID)

Date = _dt.date
Time = _dt.time
Timestamp = _dt.datetime
Binary = bytes


def DateFromTicks(ticks: float) -> _dt.date:  # noqa: N802 - name fixed by PEP 249
    """The local date of a POSIX timestamp."""
    return _dt.date.fromtimestamp(ticks)


def TimeFromTicks(ticks: float) -> _dt.time:  # noqa: N802
    """The local time of day of a POSIX timestamp."""
    return _dt.datetime.fromtimestamp(ticks).time()


def TimestampFromTicks(ticks: float) -> _dt.datetime:  # noqa: N802
    """The local date and time of a POSIX timestamp (naive)."""
    return _dt.datetime.fromtimestamp(ticks)


# ---------------------------------------------------------------------------
# Placeholder conversion: %s / %(name)s -> $n


class ConvertedQuery(NamedTuple):
    """A query with its placeholders rewritten to ``$1..$n``.

    ``names`` gives the mapping key of each ``$n`` for ``%(name)s`` queries
    (empty when the query has no placeholder); it is None for ``%s``
    queries, which take ``param_count`` values in order.
    """

    sql: str
    names: tuple[str, ...] | None
    param_count: int

    def bind(self, parameters: Sequence[Any] | Mapping[str, Any]) -> tuple[Any, ...]:
        """The values for ``$1..$n`` taken from ``parameters``; ProgrammingError if they do not fit."""
        names = self.names
        if isinstance(parameters, Mapping):
            if names is None:
                raise ProgrammingError(
                    "the query uses %s placeholders, which take a sequence of parameters, "
                    "not a mapping"
                )
            try:
                return tuple([parameters[name] for name in names])
            except KeyError as exc:
                raise ProgrammingError(
                    f"the query parameter {exc.args[0]!r} is missing from the mapping"
                ) from None
        if isinstance(parameters, (str, bytes, bytearray, memoryview)) or not isinstance(
            parameters, Sequence
        ):
            raise ProgrammingError(
                "query parameters must be a sequence (for %s) or a mapping (for %(name)s), "
                f"got {type(parameters).__name__}"
            )
        if names:
            raise ProgrammingError(
                "the query uses %(name)s placeholders, which take a mapping of parameters, "
                "not a sequence"
            )
        if len(parameters) != self.param_count:
            count = self.param_count
            raise ProgrammingError(
                f"the query has {count} placeholder{'' if count == 1 else 's'} but "
                f"{len(parameters)} parameter{' was' if len(parameters) == 1 else 's were'} "
                "given"
            )
        return tuple(parameters)


# Where something happens in SQL code: a placeholder, a statement end, or the
# start of something to skip (string, identifier, dollar quote, comment).
_SPECIAL = re.compile(r"[%;]|" + sqltext.SKIP_START + "|" + sqltext.NOT_AFTER_IDENT + r"\$[0-9]+")
_PLACEHOLDER = re.compile(r"%(?:(%)|s|\(([^)]*)\)s)")
_skip = sqltext.skip


@functools.lru_cache(maxsize=512)
def convert_query(query: str, standard_strings: bool = True) -> ConvertedQuery:
    """Rewrite the ``%s`` / ``%(name)s`` placeholders of ``query`` to ``$1..$n``.

    ``%%`` becomes ``%``.  Text inside string literals, quoted identifiers,
    dollar-quoted strings and comments holds no placeholder.
    ``standard_strings`` is the server's ``standard_conforming_strings``:
    when off, a backslash escapes a quote in ``'...'`` too.  Raises
    ProgrammingError for a malformed placeholder, for a mix of ``%s`` and
    ``%(name)s``, and for ``$n`` written in the query itself.
    """
    parts: list[str] = []
    names: list[str] = []
    index_of: dict[str, int] = {}
    positional = 0
    copied = 0  # query[:copied] has been handled
    pos = 0
    search = _SPECIAL.search
    while True:
        match = search(query, pos)
        if match is None:
            break
        token = match.group()
        start = match.start()
        if token == "%":
            placeholder = _PLACEHOLDER.match(query, start)
            if placeholder is None:
                raise ProgrammingError(_bad_placeholder(query, start))
            parts.append(query[copied:start])
            if placeholder.group(1) is not None:  # %%
                parts.append("%")
            elif placeholder.group(2) is None:  # %s
                if names:
                    raise ProgrammingError(_MIXED)
                positional += 1
                parts.append(f"${positional}")
            else:  # %(name)s
                if positional:
                    raise ProgrammingError(_MIXED)
                name = placeholder.group(2)
                index = index_of.get(name)
                if index is None:
                    names.append(name)
                    index = index_of[name] = len(names)
                parts.append(f"${index}")
            copied = pos = placeholder.end()
        elif token == ";":
            pos = start + 1
        elif token[0] == "$" and token[1:].isdigit():
            raise ProgrammingError(
                f"the query contains ${token[1:]}: with pgwire.dbapi write %s or %(name)s "
                "placeholders, which are numbered for the server by the driver"
            )
        else:
            end = _skip(query, token, start, standard_strings)
            if "%%" in query[start:end]:
                # Kept as in other pyformat drivers: %% means % everywhere.
                parts.append(query[copied:start])
                parts.append(query[start:end].replace("%%", "%"))
                copied = end
            pos = end
    parts.append(query[copied:])
    if positional:
        return ConvertedQuery("".join(parts), None, positional)
    return ConvertedQuery("".join(parts), tuple(names), len(names))


_MIXED = "the query mixes %s and %(name)s placeholders: use one style"


def _bad_placeholder(query: str, start: int) -> str:
    rest = query[start : start + 20]
    if rest.startswith("%(") and ")" not in query[start:]:
        return f"unterminated %(name)s placeholder at position {start}: {rest!r}"
    if start == len(query) - 1:
        return "incomplete placeholder: the query ends with %; write %% for a literal %"
    shown = query[start : query.index(")", start) + 2] if rest.startswith("%(") else rest[:2]
    return (
        f"unsupported placeholder {shown!r} at position {start}: use %s or %(name)s, "
        "and %% for a literal %"
    )


@functools.lru_cache(maxsize=512)
def _is_script(query: str, standard_strings: bool = True) -> bool:
    """Does ``query`` hold more than one statement (code after a top-level ``;``)?"""
    pos = 0
    search = _SPECIAL.search
    length = len(query)
    while True:
        match = search(query, pos)
        if match is None:
            return False
        token = match.group()
        if token == ";":
            break
        if token == "%" or (token[0] == "$" and token[1:].isdigit()):
            pos = match.end()
        else:
            pos = _skip(query, token, match.start(), standard_strings)
    # What follows the ';': only blanks, more ';' and comments make one statement.
    pos = match.end()
    while pos < length:
        char = query[pos]
        if char.isspace() or char == ";":
            pos += 1
        elif query.startswith("--", pos) or query.startswith("/*", pos):
            pos = _skip(query, query[pos : pos + 2], pos, standard_strings)
        else:
            return True
    return False


# ---------------------------------------------------------------------------
# Results


class Column(NamedTuple):
    """One item of ``cursor.description``: PEP 249's seven fields."""

    name: str
    type_code: int
    display_size: int | None
    internal_size: int | None
    precision: int | None
    scale: int | None
    null_ok: bool | None


def _describe(column: _WireColumn) -> Column:
    precision = scale = None
    modifier = column.type_modifier
    if column.type_oid == oids.NUMERIC and modifier >= 4:
        # numeric(p, s): typmod is ((p << 16) | s) + 4, the scale an 11-bit
        # signed number (negative scales exist since PostgreSQL 15).
        modifier -= 4
        precision = (modifier >> 16) & 0xFFFF
        scale = ((modifier & 0x7FF) ^ 1024) - 1024
    size = column.type_size
    return Column(column.name, column.type_oid, None, size if size > 0 else None,
                  precision, scale, None)


class _ResultSet:
    """One statement's outcome as a cursor shows it."""

    __slots__ = ("columns", "rows", "rowcount", "status", "_description")

    def __init__(self, columns: Sequence[_WireColumn] | None, rows: list[tuple[Any, ...]],
                 status: str | None) -> None:
        self.columns = columns
        self.rows = rows
        self.status = status
        count = None
        if status:
            last = status.rpartition(" ")[2]
            if last.isdigit():
                count = int(last)
        if count is None and columns is not None:
            count = len(rows)  # SHOW, FETCH of a cursor... tagged without a count
        self.rowcount = -1 if count is None else count
        self._description: tuple[Column, ...] | None = None

    @property
    def description(self) -> tuple[Column, ...] | None:
        # Built on first use: many callers never look.
        if self.columns is None:
            return None
        if self._description is None:
            self._description = tuple(_describe(c) for c in self.columns)
        return self._description


def _result_set(result: Result) -> _ResultSet:
    # A Record keeps its values in a tuple: the row itself, shared, no copy.
    return _ResultSet(result.columns, [record_values(record) for record in result.rows],
                      result.status)


# ---------------------------------------------------------------------------
# Two-phase commit ids

_GID_PREFIX = "pgwire"
_GID_MAX_BYTES = 199  # PostgreSQL's GIDSIZE is 200, the terminating NUL included


_ISOLATION_LEVELS = ("READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE")


class Xid(tuple):  # type: ignore[type-arg]
    """A two-phase commit transaction id: ``(format_id, gtrid, bqual)``.

    It behaves like that 3-tuple, as PEP 249 asks.  Ids from
    :meth:`Connection.tpc_recover` also carry ``prepared`` (when it was
    prepared), ``owner`` and ``database``; one not written by pgwire has
    ``format_id`` and ``bqual`` None and the server's whole id as ``gtrid``.
    """

    prepared: _dt.datetime | None
    owner: str | None
    database: str | None

    def __new__(cls, format_id: int | None, gtrid: str, bqual: str | None, *,
                prepared: _dt.datetime | None = None, owner: str | None = None,
                database: str | None = None) -> Xid:
        self = super().__new__(cls, (format_id, gtrid, bqual))
        self.prepared = prepared
        self.owner = owner
        self.database = database
        return self

    @property
    def format_id(self) -> int | None:
        """The format id (None for an id not written by pgwire)."""
        return self[0]  # type: ignore[no-any-return]

    @property
    def gtrid(self) -> str:
        """The global transaction id."""
        return self[1]  # type: ignore[no-any-return]

    @property
    def bqual(self) -> str | None:
        """The branch qualifier (None for an id not written by pgwire)."""
        return self[2]  # type: ignore[no-any-return]

    def __repr__(self) -> str:
        return f"Xid({self[0]!r}, {self[1]!r}, {self[2]!r})"

    def __reduce__(self) -> Any:
        return (_make_xid, (tuple(self), self.prepared, self.owner, self.database))

    @property
    def gid(self) -> str:
        """The transaction id as the server stores it (``pg_prepared_xacts.gid``)."""
        return self._gid()

    def _gid(self) -> str:
        """The transaction id as the server stores it."""
        if self.format_id is None:
            return self.gtrid
        return ":".join((_GID_PREFIX, str(self.format_id),
                         quote(self.gtrid, safe=""), quote(self.bqual or "", safe="")))

    @classmethod
    def _from_gid(cls, gid: str, **extra: Any) -> Xid:
        parts = gid.split(":")
        if len(parts) == 4 and parts[0] == _GID_PREFIX and parts[1].isascii() \
                and parts[1].isdigit():
            return cls(int(parts[1]), unquote(parts[2]), unquote(parts[3]), **extra)
        return cls(None, gid, None, **extra)


def _make_xid(values: tuple[Any, Any, Any], prepared: Any, owner: Any, database: Any) -> Xid:
    return Xid(*values, prepared=prepared, owner=owner, database=database)


def _escape_literal(text: str) -> str:
    # E'...' reads the same whatever standard_conforming_strings says.
    return "E'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


# ---------------------------------------------------------------------------
# Connection


class TimeoutExpiredError(OperationalError, TimeoutError):
    """A ``timeout`` or ``command_timeout`` expired (the statement was cancelled).

    Both a PEP 249 ``OperationalError`` and the built-in ``TimeoutError``
    that pgwire's other APIs raise.
    """


_F = TypeVar("_F", bound=Callable[..., Any])


def _pep249_errors(method: _F) -> _F:
    """Make what the blocking API raises besides pgwire's errors PEP 249 errors.

    PEP 249 wants every error of the module under ``Error``: a timeout
    becomes :class:`TimeoutExpiredError`, a network failure (``OSError``:
    refused, unreachable, name not found) an ``OperationalError``; the
    original is the ``__cause__``.
    """

    @functools.wraps(method)
    def translated(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except Error:
            raise
        except TimeoutError as exc:  # before OSError, of which it is one
            raise TimeoutExpiredError(str(exc) or "the operation timed out") from exc
        except OSError as exc:
            raise OperationalError(f"connection failed: {exc}") from exc

    return translated  # type: ignore[return-value]


class Connection:
    """A PEP 249 connection over a :class:`pgwire.sync.Connection`."""

    # PEP 249's optional extension: the exceptions as connection attributes,
    # so code juggling several drivers can write ``except conn.Error``.
    Warning = Warning
    Error = Error
    InterfaceError = InterfaceError
    DatabaseError = DatabaseError
    DataError = DataError
    OperationalError = OperationalError
    IntegrityError = IntegrityError
    InternalError = InternalError
    ProgrammingError = ProgrammingError
    NotSupportedError = NotSupportedError

    def __init__(self, connection: sync.Connection, *, autocommit: bool = False) -> None:
        self._conn = connection
        self._autocommit = bool(autocommit)
        self._closed = False
        # Held across the implicit BEGIN and the statement it precedes, and
        # across commit/rollback, so threads sharing the connection cannot
        # slip between the two.
        self._lock = threading.RLock()
        self._tpc: Xid | None = None
        self._tpc_prepared = False
        self._isolation_level: str | None = None
        self._read_only: bool | None = None
        self._deferrable: bool | None = None
        self._begin = "BEGIN"

    # -- state ---------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once closed, by close() or because the connection was lost."""
        return self._closed or self._conn.is_closed()

    @property
    def sync_connection(self) -> sync.Connection:
        """The underlying blocking connection (for COPY, LISTEN and the like)."""
        return self._conn

    @property
    def autocommit(self) -> bool:
        """When True, each statement commits on its own and no BEGIN is sent."""
        return self._autocommit

    @autocommit.setter
    def autocommit(self, value: bool) -> None:
        with self._lock:
            self._check_open()
            value = bool(value)
            if value == self._autocommit:
                return
            if self._tpc is not None or self._conn.is_in_transaction():
                raise ProgrammingError(
                    "cannot change autocommit while a transaction is open: "
                    "call commit() or rollback() first"
                )
            self._autocommit = value

    @property
    def isolation_level(self) -> str | None:
        """The isolation level of the transactions this connection begins.

        One of ``'READ UNCOMMITTED'``, ``'READ COMMITTED'``, ``'REPEATABLE
        READ'``, ``'SERIALIZABLE'``, or None for the server's default
        (``default_transaction_isolation``).  It is sent with each BEGIN
        (``BEGIN ISOLATION LEVEL ...``), not as a session setting, so it
        holds behind a transaction-mode pooler too.
        """
        return self._isolation_level

    @isolation_level.setter
    def isolation_level(self, value: str | None) -> None:
        if value is not None:
            if not isinstance(value, str):
                raise ProgrammingError(f"isolation_level must be a str or None, got {value!r}")
            level = " ".join(value.replace("_", " ").upper().split())
            if level not in _ISOLATION_LEVELS:
                raise ProgrammingError(
                    f"unknown isolation level {value!r}: use one of "
                    + ", ".join(repr(name) for name in _ISOLATION_LEVELS) + " or None"
                )
            value = level
        self._set_characteristic("_isolation_level", value)

    @property
    def read_only(self) -> bool | None:
        """True: transactions begin READ ONLY; False: READ WRITE; None: the server's default."""
        return self._read_only

    @read_only.setter
    def read_only(self, value: bool | None) -> None:
        self._set_characteristic("_read_only", None if value is None else bool(value))

    @property
    def deferrable(self) -> bool | None:
        """True: transactions begin DEFERRABLE (with SERIALIZABLE READ ONLY); None: the default."""
        return self._deferrable

    @deferrable.setter
    def deferrable(self, value: bool | None) -> None:
        self._set_characteristic("_deferrable", None if value is None else bool(value))

    def _set_characteristic(self, attribute: str, value: Any) -> None:
        with self._lock:
            self._check_open()
            if getattr(self, attribute) == value:
                return
            if self._tpc is not None or self._conn.is_in_transaction():
                name = attribute.lstrip("_")
                raise ProgrammingError(
                    f"cannot change {name} while a transaction is open: "
                    "call commit() or rollback() first"
                )
            setattr(self, attribute, value)
            parts = ["BEGIN"]
            if self._isolation_level is not None:
                parts.append(f"ISOLATION LEVEL {self._isolation_level}")
            if self._read_only is not None:
                parts.append("READ ONLY" if self._read_only else "READ WRITE")
            if self._deferrable is not None:
                parts.append("DEFERRABLE" if self._deferrable else "NOT DEFERRABLE")
            self._begin = " ".join(parts)

    def _check_open(self) -> None:
        if self.closed:
            raise InterfaceError("the connection is closed")

    def _standard_strings(self) -> bool:
        settings = self._conn.get_settings()
        if "standard_conforming_strings" not in settings:
            return True
        return settings.standard_conforming_strings == "on"

    def _before_statement(self) -> None:
        """Check the connection can run a statement; open the implicit transaction.

        Called with the lock held.
        """
        self._check_open()
        if self._tpc_prepared:
            raise ProgrammingError(
                "no statement may run between tpc_prepare() and tpc_commit()/tpc_rollback()"
            )
        if not self._autocommit and not self._conn.is_in_transaction():
            self._conn.execute(self._begin)

    # -- PEP 249 methods -----------------------------------------------------

    def cursor(self, name: str | None = None) -> Cursor:
        """A new cursor on this connection.

        Without ``name``, a client-side cursor: each statement's rows are
        read whole when it runs.  With a ``name``, a :class:`ServerCursor`,
        whose rows stay on the server until fetched.
        """
        self._check_open()
        support = _CursorSupport(self._conn, self._lock, self._standard_strings,
                                 self._before_statement)
        if name is not None and not isinstance(name, str):
            raise ProgrammingError(f"a cursor name must be a str, got {name!r}")
        return self._make_cursor(support, name)

    def _make_cursor(self, support: _CursorSupport, name: str | None) -> Cursor:
        # A subclass may hand out subclasses of the cursors.
        if name is None:
            return Cursor(self, support)
        return ServerCursor(self, support, name)

    @_pep249_errors
    def ping(self) -> None:
        """Check the connection with an empty query (one round trip).

        Neither starts nor ends a transaction; raises OperationalError (or a
        subclass) when the connection is lost, and closes it.
        """
        with self._lock:
            self._check_open()
            self._conn.execute("")

    @_pep249_errors
    def commit(self) -> None:
        """Commit the open transaction, if any.

        Raises InFailedSQLTransactionError, after the rollback the server
        does instead, when an earlier error had aborted the transaction.
        """
        with self._lock:
            self._check_open()
            if self._tpc is not None:
                raise ProgrammingError(
                    "commit() cannot end a two-phase transaction: use tpc_commit()"
                )
            if not self._conn.is_in_transaction():
                return
            status = self._conn.execute("COMMIT")
            if status == "ROLLBACK":
                raise InFailedSQLTransactionError(
                    "the transaction had failed and was rolled back: nothing was committed"
                )

    @_pep249_errors
    def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        with self._lock:
            self._check_open()
            if self._tpc is not None:
                raise ProgrammingError(
                    "rollback() cannot end a two-phase transaction: use tpc_rollback()"
                )
            if self._conn.is_in_transaction():
                self._conn.execute("ROLLBACK")

    def close(self) -> None:
        """Close the connection; an open transaction is rolled back by the server.

        Closing a closed connection does nothing.
        """
        if self._closed:
            return
        self._closed = True
        self._conn.close()

    def terminate(self) -> None:
        """Close the connection at once, without waiting for the server (PEP 249 extension)."""
        self._closed = True
        self._conn.terminate()

    def __enter__(self) -> Connection:
        self._check_open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            # A two-phase transaction is left to the server: unprepared, it
            # is rolled back by the close; prepared, it waits for recovery.
            if not self.closed and self._tpc is None:
                if exc_type is None:
                    self.commit()
                else:
                    try:
                        self.rollback()
                    except Error:
                        pass  # the block's own exception says more; close() rolls back
        finally:
            self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<pgwire.dbapi.Connection {state} autocommit={self._autocommit}>"

    # -- two-phase commit ----------------------------------------------------

    def xid(self, format_id: int, gtrid: str, bqual: str) -> Xid:
        """A transaction id for the tpc_* methods (PEP 249).

        ``format_id`` is a non-negative 32-bit integer; ``gtrid`` and
        ``bqual`` are strings of at most 64 characters.
        """
        if not isinstance(format_id, int) or isinstance(format_id, bool) \
                or not 0 <= format_id < 2**31:
            raise ProgrammingError(
                f"format_id must be a non-negative 32-bit integer, got {format_id!r}"
            )
        for label, value in (("gtrid", gtrid), ("bqual", bqual)):
            if not isinstance(value, str) or len(value) > 64:
                raise ProgrammingError(
                    f"{label} must be a string of at most 64 characters, got {value!r}"
                )
        xid = Xid(format_id, gtrid, bqual)
        if len(xid._gid().encode("utf-8")) > _GID_MAX_BYTES:
            raise ProgrammingError(
                f"the transaction id {xid!r} is too long for the server "
                f"(at most {_GID_MAX_BYTES} bytes once encoded)"
            )
        return xid

    @_pep249_errors
    def tpc_begin(self, xid: Xid | str) -> None:
        """Begin a two-phase transaction with id ``xid``.

        ``xid`` comes from :meth:`xid`, or is a ``str``: the transaction id
        the server stores, as it is (what SQLAlchemy and psycopg pass).
        """
        with self._lock:
            self._check_open()
            if isinstance(xid, str):
                if not xid or len(xid.encode("utf-8")) > _GID_MAX_BYTES:
                    raise ProgrammingError(
                        f"a transaction id must be 1 to {_GID_MAX_BYTES} bytes, got {xid!r}")
                xid = Xid(None, xid, None)
            elif not isinstance(xid, Xid):
                xid = self.xid(*xid)
            if self._autocommit:
                raise ProgrammingError("two-phase transactions cannot be used in autocommit mode")
            if self._tpc is not None or self._conn.is_in_transaction():
                raise ProgrammingError(
                    "tpc_begin() must be called outside a transaction: "
                    "call commit() or rollback() first"
                )
            self._conn.execute(self._begin)
            self._tpc = xid
            self._tpc_prepared = False

    @_pep249_errors
    def tpc_prepare(self) -> None:
        """First phase: PREPARE TRANSACTION, which detaches it from this session."""
        with self._lock:
            self._check_open()
            if self._tpc is None:
                raise ProgrammingError("tpc_prepare() outside a two-phase transaction")
            if self._tpc_prepared:
                raise ProgrammingError("the two-phase transaction is already prepared")
            try:
                self._conn.execute(f"PREPARE TRANSACTION {_escape_literal(self._tpc._gid())}")
            except BaseException:
                # The server has rolled the transaction back: there is
                # nothing left to prepare, commit or roll back.
                if not self._conn.is_in_transaction():
                    self._tpc = None
                raise
            self._tpc_prepared = True

    def tpc_commit(self, xid: Xid | None = None) -> None:
        """Second phase: commit this two-phase transaction, or ``xid`` (recovery).

        Without ``xid``, an unprepared transaction is committed in one phase.
        """
        self._tpc_end("COMMIT", xid)

    def tpc_rollback(self, xid: Xid | None = None) -> None:
        """Roll back this two-phase transaction, or the prepared ``xid`` (recovery)."""
        self._tpc_end("ROLLBACK", xid)

    @_pep249_errors
    def _tpc_end(self, action: str, xid: Xid | None) -> None:
        method = f"tpc_{action.lower()}"
        with self._lock:
            self._check_open()
            if xid is not None:
                if self._tpc is not None or self._conn.is_in_transaction():
                    raise ProgrammingError(
                        f"{method}(xid) must be called outside a transaction"
                    )
                if not isinstance(xid, Xid):
                    xid = Xid(*xid) if not isinstance(xid, str) else Xid(None, xid, None)
                self._conn.execute(f"{action} PREPARED {_escape_literal(xid._gid())}")
                return
            current = self._tpc
            if current is None:
                raise ProgrammingError(f"{method}() outside a two-phase transaction")
            try:
                if self._tpc_prepared:
                    self._conn.execute(f"{action} PREPARED {_escape_literal(current._gid())}")
                else:
                    self._conn.execute(action)
            finally:
                self._tpc = None
                self._tpc_prepared = False

    @_pep249_errors
    def tpc_recover(self) -> list[Xid]:
        """The prepared transactions of this database, waiting for tpc_commit/tpc_rollback."""
        with self._lock:
            self._check_open()
            # A catalog read: no implicit BEGIN, the transaction state is
            # left as it was.
            rows = self._conn.fetch(
                "SELECT gid, prepared, owner::text, database::text FROM pg_prepared_xacts "
                "WHERE database = current_database() ORDER BY prepared, gid"
            )
        return [
            Xid._from_gid(gid, prepared=prepared, owner=owner, database=database)
            for gid, prepared, owner, database in rows
        ]


# ---------------------------------------------------------------------------
# Cursor


class _CursorSupport(NamedTuple):
    """What a connection hands each of its cursors: the blocking connection
    to run statements on, the lock that keeps an implicit BEGIN and its
    statement together, and the connection's checks."""

    conn: sync.Connection
    lock: threading.RLock
    standard_strings: Callable[[], bool]
    before_statement: Callable[[], None]


class Cursor:
    """A PEP 249 cursor: runs statements and holds their results (client side)."""

    #: Default number of rows for fetchmany().
    arraysize: int

    def __init__(self, connection: Connection, support: _CursorSupport) -> None:
        self._connection = connection
        self._support = support
        self.arraysize = 1
        self._closed = False
        self._sets: list[_ResultSet] = []
        self._index = 0
        self._current: _ResultSet | None = None
        self._pos = 0
        self._rowcount = -1
        self._query: str | None = None

    # -- attributes ----------------------------------------------------------

    @property
    def connection(self) -> Connection:
        """The connection this cursor runs on (PEP 249 extension)."""
        return self._connection

    @property
    def closed(self) -> bool:
        """True once this cursor or its connection is closed."""
        return self._closed or self._connection.closed

    @property
    def description(self) -> tuple[Column, ...] | None:
        """One :class:`Column` per result column; None when the statement returned no rows."""
        current = self._current
        return None if current is None else current.description

    @property
    def rowcount(self) -> int:
        """Rows returned or affected by the last execute*(); -1 when unknown."""
        return self._rowcount

    @property
    def rownumber(self) -> int | None:
        """Index of the next row to fetch in the current result set (PEP 249 extension)."""
        current = self._current
        return None if current is None or current.columns is None else self._pos

    @property
    def lastrowid(self) -> None:
        """Always None: PostgreSQL has no row ids to report (use RETURNING)."""
        return None

    @property
    def statusmessage(self) -> str | None:
        """The command tag of the current result set (``'INSERT 0 1'``)."""
        current = self._current
        return None if current is None else current.status

    @property
    def query(self) -> str | None:
        """The last query as sent to the server (with ``$n`` placeholders)."""
        return self._query

    # -- running -------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise InterfaceError("the cursor is closed")
        if self._connection.closed:
            raise InterfaceError("the cursor's connection is closed")

    def _reset(self) -> None:
        self._sets = []
        self._index = 0
        self._current = None
        self._pos = 0
        self._rowcount = -1

    def _show(self, sets: list[_ResultSet], rowcount: int | None = None) -> None:
        self._sets = sets
        self._index = 0
        self._current = sets[0] if sets else None
        self._pos = 0
        if rowcount is None:
            rowcount = -1 if self._current is None else self._current.rowcount
        self._rowcount = rowcount

    @_pep249_errors
    def execute(self, operation: str,
                parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> Cursor:
        """Run ``operation``; ``%s`` / ``%(name)s`` take their values from ``parameters``.

        Returns the cursor, so ``cur.execute(...).fetchone()`` works.
        """
        self._check_open()
        if not isinstance(operation, str):
            raise ProgrammingError(f"the query must be a str, got {type(operation).__name__}")
        support = self._support
        with support.lock:
            self._reset()
            self._query = operation
            standard = support.standard_strings()
            script = False
            args: tuple[Any, ...] = ()
            if parameters is None:
                sql = operation
                script = _is_script(sql, standard)
            else:
                converted = convert_query(operation, standard)
                args = converted.bind(parameters)
                sql = self._query = converted.sql
            support.before_statement()
            if script:
                # The simple protocol: several statements, each a result set.
                results = support.conn.query_script(sql)
            else:
                results = [support.conn.query(sql, *args)]
        self._show([_result_set(result) for result in results])
        return self

    @_pep249_errors
    def executemany(self, operation: str,
                    seq_of_parameters: Iterable[Sequence[Any] | Mapping[str, Any]]) -> None:
        """Run ``operation`` once per parameter set, pipelined in one round trip.

        ``rowcount`` is the total of the rows affected (-1 if a statement
        does not report a count).  The statement's rows, if any, are not kept.
        """
        self._check_open()
        if not isinstance(operation, str):
            raise ProgrammingError(f"the query must be a str, got {type(operation).__name__}")
        support = self._support
        with support.lock:
            self._reset()
            converted = convert_query(operation, support.standard_strings())
            self._query = converted.sql
            # Bound lazily, as the batch is built: a bad parameter set
            # raises before anything of the batch is sent.
            args = (converted.bind(parameters) for parameters in seq_of_parameters)
            support.before_statement()
            results = support.conn.query_many(converted.sql, args)
        total = 0
        for result in results:
            count = result.rowcount
            if count is None:
                total = -1
                break
            total += count
        self._show([], total)

    @_pep249_errors
    def callproc(self, procname: str,
                 parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """Call the function ``procname`` (``SELECT * FROM procname(...)``).

        Its result is fetched like a query's.  A mapping passes its values
        by parameter name (``name => value``; names matched exactly).
        Returns ``parameters`` unchanged: PostgreSQL functions return OUT
        values as result columns, not in place.
        """
        self._check_open()
        if not isinstance(procname, str):
            raise ProgrammingError(f"the procedure name must be a str, got {procname!r}")
        if parameters is None:
            args: tuple[Any, ...] = ()
            arguments = ""
        elif isinstance(parameters, Mapping):
            args = tuple(parameters.values())
            arguments = ", ".join(
                '"{}" => ${}'.format(name.replace('"', '""'), index)
                for index, name in enumerate(parameters, 1)
            )
        else:
            args = tuple(parameters)
            arguments = ", ".join(f"${index}" for index in range(1, len(args) + 1))
        sql = f"SELECT * FROM {procname}({arguments})"
        support = self._support
        with support.lock:
            self._reset()
            self._query = sql
            support.before_statement()
            result = support.conn.query(sql, *args)
        self._show([_result_set(result)])
        return parameters

    def nextset(self) -> bool | None:
        """Move to the next result set of a multi-statement query.

        Returns True, or None when there is no further set (the current one
        is then left as it is).
        """
        self._check_open()
        if self._index + 1 >= len(self._sets):
            return None
        self._index += 1
        self._current = self._sets[self._index]
        self._pos = 0
        self._rowcount = self._current.rowcount
        return True

    # -- fetching ------------------------------------------------------------

    def _rows(self) -> list[tuple[Any, ...]]:
        self._check_open()
        current = self._current
        if current is None or current.columns is None:
            if self._query is None:
                raise ProgrammingError("no query has been executed yet")
            raise ProgrammingError("the last statement returned no rows to fetch")
        return current.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row, or None when there are no more."""
        rows = self._rows()
        pos = self._pos
        if pos >= len(rows):
            return None
        self._pos = pos + 1
        return rows[pos]

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to ``size`` (default ``arraysize``) more rows; an empty list at the end."""
        rows = self._rows()
        if size is None:
            size = self.arraysize
        if size < 0:
            raise ProgrammingError(f"fetchmany() size must not be negative, got {size}")
        pos = self._pos
        chunk = rows[pos : pos + size]
        self._pos = pos + len(chunk)
        return chunk

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All the remaining rows."""
        rows = self._rows()
        pos = self._pos
        self._pos = len(rows)
        return rows[pos:]

    def scroll(self, value: int, mode: str = "relative") -> None:
        """Move in the result set (PEP 249 extension); IndexError when out of range."""
        rows = self._rows()
        if mode == "relative":
            target = self._pos + value
        elif mode == "absolute":
            target = value
        else:
            raise ProgrammingError(f"scroll mode must be 'relative' or 'absolute', got {mode!r}")
        if not 0 <= target <= len(rows):
            raise IndexError(f"scroll target {target} out of the result set (0..{len(rows)})")
        self._pos = target

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return self

    def __next__(self) -> tuple[Any, ...]:
        row = self.fetchone()
        if row is None:
            raise StopIteration
        return row

    # -- no-ops and closing --------------------------------------------------

    def setinputsizes(self, sizes: Any) -> None:
        """Does nothing: parameter types come from the server (PEP 249 allows this)."""

    def setoutputsize(self, size: int, column: int | None = None) -> None:
        """Does nothing: results are read whole (PEP 249 allows this)."""

    def close(self) -> None:
        """Close the cursor and drop its results; closing twice does nothing."""
        self._closed = True
        self._reset()

    def __enter__(self) -> Cursor:
        self._check_open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<pgwire.dbapi.Cursor {state}>"


class ServerCursor(Cursor):
    """A cursor whose rows stay on the server until fetched: a portal.

    Made by ``connection.cursor(name)``.  ``execute()`` binds the statement
    to a portal and reads its first ``itersize`` rows; fetchone(),
    fetchmany() and iteration read more as they need them, ``itersize``
    rows per round trip for iteration and fetchall().  A portal lives until
    its transaction ends (PostgreSQL docs, "Extended Query", 54.2.3), so a
    server cursor needs a transaction: in autocommit mode ``execute()``
    raises ProgrammingError.  ``name`` is the caller's label; the portal's
    own name is chosen by the connection, so two cursors given the same
    name do not collide.  ``rowcount`` counts the rows fetched so far.
    """

    #: Rows read per round trip by iteration and fetchall().
    itersize: int

    def __init__(self, connection: Connection, support: _CursorSupport, name: str) -> None:
        super().__init__(connection, support)
        self.name = name
        self.itersize = 100
        self._portal: sync.Cursor | None = None
        self._columns: tuple[Column, ...] | None = None

    @property
    def description(self) -> tuple[Column, ...] | None:
        """One :class:`Column` per result column, known from ``execute()`` on."""
        return self._columns

    @property
    def rownumber(self) -> int | None:
        """How many rows have been fetched from the portal; None before execute()."""
        return None if self._portal is None else self._rowcount

    @property
    def statusmessage(self) -> str | None:
        """Always None: the command tag arrives only when the portal is read to its end."""
        return None

    def _close_portal(self) -> None:
        portal, self._portal = self._portal, None
        self._columns = None
        if portal is not None and not self._connection.closed \
                and self._support.conn.is_in_transaction():
            portal.close()

    @_pep249_errors
    def execute(self, operation: str,
                parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> Cursor:
        """Bind ``operation`` to a portal on the server; fetch its rows afterwards."""
        self._check_open()
        if not isinstance(operation, str):
            raise ProgrammingError(f"the query must be a str, got {type(operation).__name__}")
        support = self._support
        with support.lock:
            self._close_portal()
            self._reset()
            converted = convert_query(operation, support.standard_strings())
            args = converted.bind(() if parameters is None else parameters)
            self._query = converted.sql
            support.before_statement()
            if not support.conn.is_in_transaction():
                raise ProgrammingError(
                    "a server-side cursor needs a transaction, and the connection is in "
                    "autocommit mode: turn autocommit off or use an unnamed cursor"
                )
            portal = support.conn.cursor(converted.sql, *args, prefetch=self._batch())
            self._portal = portal
            self._columns = tuple(_describe(column) for column in portal.columns)
            self._rowcount = 0
        return self

    @_pep249_errors
    def executemany(self, operation: str,
                    seq_of_parameters: Iterable[Sequence[Any] | Mapping[str, Any]]) -> None:
        """Not available: raises NotSupportedError (use an unnamed cursor)."""
        raise NotSupportedError("executemany() is not available on a server-side cursor")

    @_pep249_errors
    def callproc(self, procname: str,
                 parameters: Sequence[Any] | Mapping[str, Any] | None = None) -> Any:
        """Not available: raises NotSupportedError (use an unnamed cursor)."""
        raise NotSupportedError("callproc() is not available on a server-side cursor")

    def nextset(self) -> bool | None:
        """Not available: raises NotSupportedError (a portal holds one result set)."""
        raise NotSupportedError("a server-side cursor has one result set")

    def _batch(self) -> int:
        size = self.itersize
        if not isinstance(size, int) or size <= 0:
            raise ProgrammingError(f"itersize must be a positive integer, got {size!r}")
        return size

    @_pep249_errors
    def _fetch(self, count: int) -> list[tuple[Any, ...]]:
        self._check_open()
        portal = self._portal
        if portal is None:
            raise ProgrammingError("no query has been executed yet")
        if count <= 0:
            return []
        with self._support.lock:
            rows = [record_values(record) for record in portal.fetch(count)]
        self._rowcount += len(rows)
        return rows

    def fetchone(self) -> tuple[Any, ...] | None:
        """The next row (one round trip unless buffered), or None at the end."""
        rows = self._fetch(1)
        return rows[0] if rows else None

    def fetchmany(self, size: int | None = None) -> list[tuple[Any, ...]]:
        """Up to ``size`` (default ``arraysize``) more rows, in one round trip."""
        if size is None:
            size = self.arraysize
        if size < 0:
            raise ProgrammingError(f"fetchmany() size must not be negative, got {size}")
        return self._fetch(size)

    def fetchall(self) -> list[tuple[Any, ...]]:
        """All the remaining rows, read ``itersize`` per round trip."""
        rows: list[tuple[Any, ...]] = []
        batch = self._batch()
        while True:
            chunk = self._fetch(batch)
            rows.extend(chunk)
            if len(chunk) < batch:
                return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        batch = self._batch()
        while True:
            chunk = self._fetch(batch)
            yield from chunk
            if len(chunk) < batch:
                return

    def scroll(self, value: int, mode: str = "relative") -> None:
        """Not available: raises NotSupportedError (portals are read forward only)."""
        raise NotSupportedError("a server-side cursor reads forward only")

    def close(self) -> None:
        """Close the portal (if its transaction is still open) and the cursor."""
        if not self._closed:
            try:
                with self._support.lock:
                    self._close_portal()
            finally:
                super().close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return f"<pgwire.dbapi.ServerCursor {self.name!r} {state}>"


def connect(dsn: str | None = None, *, autocommit: bool = False, **kwargs: Any) -> Connection:
    """Open a PEP 249 connection.

    The arguments are those of :func:`pgwire.connect_sync` (a libpq
    conninfo string or URI, ``host``, ``port``, ``user``, ``password``,
    ``database``, ``ssl``...) plus ``autocommit``.
    """
    return Connection(_pep249_errors(sync.connect)(dsn, **kwargs), autocommit=autocommit)
