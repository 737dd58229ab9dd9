# Generated from pgwire/api/_async/connection.py by scripts/unasync.py: edit that file, not this one.
"""The blocking connection API, compatible with asyncpg's public surface.

``pgwire.connect_sync(...)`` returns a :class:`Connection` whose methods
(``execute``, ``executemany``, ``fetch``, ``fetchrow``, ``fetchval``,
``prepare``, ``transaction``, ``cursor``, ``copy_*``, ...) behave like
asyncpg's, so code can switch by changing an import.  Operations issued
concurrently on one connection wait their turn in order instead of failing
with "another operation is in progress".

The blocking API's connection (``pgwire.sync.Connection``) is generated
from the asyncio source of this module by ``scripts/unasync.py`` (see
:mod:`pgwire.api.flavours`).
"""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any

from ...conninfo.secret import mask_password
from ...drivers.blocking import BlockingDriver
from ...exceptions import InterfaceError, InterfaceWarning
from ...flows import copying as copy_flows
from ...flows import introspection
from ...flows.connect import connect_flow
from ...flows.statements import PreparedState, Session
from ...protocol.operations import StatementResult
from ...protocol.session_state import UNKNOWN, reset_statements
from ...types import TypeRegistry
from ...types.record import Record
from .. import typecodecs
from ..arguments import prepare_connect
from ..copy_sources import output_writer
from ..flavours import SyncFlavour as flavour
from ..info import ConnectionSettings, ServerVersion, StatementInfo, parse_server_version
from ..results import Result, check_record_class, rows_of
from .cursor import Cursor, CursorFactory
from .pipeline import Pipeline
from .replication import ReplicationCommands
from .runner import Runner
from .transaction import Transaction

__all__ = ["Connection", "PreparedStatement", "ServerVersion", "connect"]


class _Released:
    """What a pool's handle on a connection holds once it was released:
    every use raises InterfaceError, as asyncpg's connection proxy does."""

    __slots__ = ()

    def __getattr__(self, name: str) -> Any:
        raise InterfaceError(
            "the connection has been released back to the pool: acquire another one"
        )


_RELEASED: Any = _Released()


def lease(connection: Connection) -> Connection:
    """A new handle on ``connection`` for one holder from a pool.

    The handle is a shallow copy (same class, same attributes, the same
    session underneath), so user subclasses keep what their ``__init__``
    set; :func:`detach` disables it without touching the connection.
    """
    handle = object.__new__(type(connection))
    handle.__dict__.update(connection.__dict__)
    connection._runner.listeners.owner = handle
    return handle


def detach(handle: Connection) -> None:
    """Make ``handle`` (from :func:`lease`) and what it made unusable."""
    runner = handle._runner
    if runner is _RELEASED:
        return
    runner.generation += 1
    handle._runner = _RELEASED
    handle._session = _RELEASED


def is_detached(handle: Connection) -> bool:
    return handle.__dict__.get("_runner") is _RELEASED


def runner_of(connection: Connection) -> Runner:
    """The runner of a connection (for the pool, which manages its life)."""
    return connection._runner


class PreparedStatement(StatementInfo):
    """A statement prepared on one connection (``Connection.prepare``)."""

    def __init__(self, runner: Runner, state: PreparedState,
                 record_class: type[Record] | None) -> None:
        self._runner = runner
        self._generation = runner.generation
        self._init_info(runner.session, state, record_class)

    def _execute(self, args: Sequence[Any], timeout: float | None,
                       max_rows: int = 0) -> StatementResult:
        self._runner.check_generation(self._generation)
        state, result = self._runner.run(
            self._session.run_prepared_flow(self._state, args, max_rows=max_rows), timeout,
            query=self._state.sql, args=args,
        )
        self._use_state(state)
        self._last_status = result.status
        return result

    def _live_state(self, timeout: float | None) -> PreparedState:
        """The statement's state, prepared again first if a schema change dropped it."""
        self._runner.check_generation(self._generation)
        if not self._session.is_live(self._state):
            self._use_state(self._runner.run(
                self._session.live_prepared_flow(self._state), timeout))
        return self._state

    def fetch(self, *args: Any, timeout: float | None = None) -> list[Record]:
        """Run the statement with ``args`` and return all its rows.

        Rows are of the ``record_class`` given to ``prepare()``, if any;
        timeout and server errors as in :meth:`Connection.fetch`.

        :param args: the values of ``$1``, ``$2``...
        :raises pgwire.InterfaceError: the connection was released back to
            its pool since the statement was prepared.
        """
        result = self._execute(args, timeout)
        return rows_of(result, self._record_class)

    def fetchrow(self, *args: Any, timeout: float | None = None) -> Record | None:
        """The first row of the statement run with ``args`` (None when there
        is none); the server sends no more.  Arguments and errors as :meth:`fetch`."""
        result = self._execute(args, timeout, max_rows=1)
        rows = rows_of(result, self._record_class)
        return rows[0] if rows else None

    def fetchval(self, *args: Any, column: int | str = 0,
                       timeout: float | None = None) -> Any:
        """One value of the first row: ``column`` by position or name (None
        when there is no row).  Arguments and errors as :meth:`fetch`.

        :raises IndexError: no column at that position.
        :raises KeyError: no column of that name.
        """
        row = self.fetchrow(*args, timeout=timeout)
        return None if row is None else row[column]

    def executemany(self, args: Iterable[Sequence[Any]], *,
                          timeout: float | None = None) -> None:
        """Run the statement for each argument tuple, pipelined in one round
        trip, as :meth:`Connection.executemany` does (outside a transaction,
        all of them apply or none).

        :raises pgwire.InterfaceError: the connection was released back to
            its pool since the statement was prepared.
        """
        state = self._live_state(timeout)
        self._runner.run(
            self._session.executemany_flow(state.sql, args, state=state), timeout,
            query=state.sql, args=args,
        )

    def cursor(self, *args: Any, prefetch: int | None = None,
               timeout: float | None = None,
               record_class: type[Record] | None = None) -> Cursor:
        """Open a server-side cursor over this statement (needs an open transaction)."""
        self._runner.check_generation(self._generation)
        factory = CursorFactory(self._runner, self._state.sql, args, prefetch, timeout,
                                record_class or self._record_class)
        return factory.open(factory.prefetch)

    def explain(self, *args: Any, analyze: bool = False) -> Any:
        """The plan of this statement (``EXPLAIN (FORMAT JSON, VERBOSE)``), as
        asyncpg returns it: the decoded JSON.  ``analyze`` runs the statement
        too, inside a transaction that is rolled back."""
        self._runner.check_generation(self._generation)
        query = f"EXPLAIN (FORMAT JSON, VERBOSE{', ANALYZE' if analyze else ''}) "
        query += self._state.sql
        session = self._session
        if analyze:
            block = Transaction(self._runner, None, False, False)
            block.start()
            try:
                result = self._runner.run(session.execute_flow(query, args))
            finally:
                block.rollback()
        else:
            result = self._runner.run(session.execute_flow(query, args))
        value = result.rows[0][0] if result.rows else None
        return json.loads(value) if isinstance(value, (str, bytes)) else value

    def fetchmany(self, args: Iterable[Sequence[Any]], *,
                        timeout: float | None = None,
                        record_class: type[Record] | None = None) -> list[Record]:
        """Run the statement for each argument tuple (one round trip) and
        return the rows of all of them, in order (asyncpg's ``fetchmany``)."""
        check_record_class(record_class)
        state = self._live_state(timeout)
        results = self._runner.run(
            self._session.executemany_flow(state.sql, args, state=state), timeout,
            query=state.sql, args=args,
        )
        return _rows_of_all(results, record_class or self._record_class)


def _rows_of_all(results: list[StatementResult],
                 record_class: type[Record] | None) -> list[Record]:
    return [row for result in results for row in rows_of(result, record_class)]


class Connection(ReplicationCommands):
    """A connection to a PostgreSQL server."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._session: Session = runner.session
        runner.listeners.owner = self

    # -- server information ------------------------------------------------------

    def is_in_transaction(self) -> bool:
        """Is a transaction open on the server (also a failed one, which
        waits for ROLLBACK)?"""
        return self._runner.in_transaction()

    def get_server_pid(self) -> int:
        """The process ID of the server backend (``pg_backend_pid()``); 0
        when the server did not send it (some poolers)."""
        return self._runner.engine.backend_pid or 0

    def get_protocol_version(self) -> tuple[int, int]:
        """The protocol version in use, e.g. ``(3, 2)`` (PostgreSQL 18 with
        ``max_protocol_version=3.2``), as libpq's ``PQprotocolVersion``."""
        version = self._runner.engine.protocol_version
        return version >> 16, version & 0xFFFF

    def get_server_version(self) -> ServerVersion:
        """The server's version, parsed from its ``server_version`` setting as
        asyncpg parses it: ``15.4`` is ``ServerVersion(15, 0, 4, 'final', 0)``."""
        return parse_server_version(self._runner.engine.parameters.get("server_version", ""))

    def get_settings(self) -> ConnectionSettings:
        """The run-time parameters the server reported (``ParameterStatus``),
        as attributes: ``conn.get_settings().server_encoding``."""
        return ConnectionSettings(self._runner.engine.parameters)

    def get_reset_query(self) -> str:
        """The statements :meth:`reset` runs (asyncpg's, plus temporary objects)."""
        return ";\n".join(reset_statements(UNKNOWN, self._runner.engine.parameters)) + ";"

    def reset(self, *, timeout: float | None = None) -> None:
        """Bring the session back to its state after connecting: roll back an
        open transaction, release advisory locks, close cursors, stop
        listening, reset settings, drop temporary objects, forget listeners.

        A pool does this on release, but only for what changed (see
        :mod:`pgwire.protocol.session_state`); this runs all of it.
        """
        self._runner.reset(everything=True, behind_pooler=False, timeout=timeout)

    @property
    def type_registry(self) -> TypeRegistry:
        """This connection's codecs (a copy of the defaults; changes stay here)."""
        return self._session.registry

    # -- type codecs (asyncpg's methods; see pgwire.api.typecodecs) ---------------

    def set_type_codec(self, typename: str, *, schema: str = "public",
                             encoder: Callable[[Any], Any], decoder: Callable[[Any], Any],
                             format: str = "text") -> None:
        """Exchange values of ``schema.typename`` through ``encoder``/``decoder``.

        ``format`` is what they exchange: ``'text'`` (str), ``'binary'``
        (bytes in the type's binary format) or ``'tuple'`` (composites and a
        few date/time types); see :mod:`pgwire.api.typecodecs`.
        ``set_type_codec('jsonb', schema='pg_catalog', encoder=json.dumps,
        decoder=json.loads)`` gives asyncpg's JSON behaviour.
        """
        typecodecs.check_format(format)
        oid = self._runner.run(
            introspection.type_lookup_flow(self._session, typename, schema), None)
        typecodecs.set_type_codec(self._session.registry, oid, typename, schema,
                                  encoder=encoder, decoder=decoder, format=format)

    def reset_type_codec(self, typename: str, *, schema: str = "public") -> None:
        """Give ``schema.typename`` back pgwire's own codec."""
        oid = self._runner.run(
            introspection.type_lookup_flow(self._session, typename, schema), None)
        typecodecs.reset_type_codec(self._session.registry, oid)

    def set_builtin_type_codec(self, typename: str, *, schema: str = "public",
                                     codec_name: str, format: str | None = None) -> None:
        """Exchange values of ``schema.typename`` as those of a built-in type
        (``codec_name``: ``'int4'``, ``'text'``..., or ``'pg_contrib.hstore'``)."""
        typecodecs.check_format(format, allow_none=True)
        oid = self._runner.run(
            introspection.type_lookup_flow(self._session, typename, schema), None)
        typecodecs.set_builtin_type_codec(self._session.registry, oid, typename, schema,
                                          codec_name=codec_name, format=format)

    def reload_schema_state(self) -> None:
        """Forget the user types looked up so far and the cached statements:
        after types changed (``ALTER TYPE``...), they are looked up again on use."""
        self._session.schema_changed()

    # -- listeners ---------------------------------------------------------------

    def add_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection, pid, channel, payload)`` on each NOTIFY to ``channel``.

        The asyncio API delivers notifications whether they arrive during a
        query or while the connection is idle, and runs a coroutine
        function's result as a task.  A blocking connection reads from the
        server only inside a call: its callbacks run during any later call,
        or while :meth:`process_notifications` waits.
        """
        flavour.check_listener(callback)
        statement = self._runner.listeners.listen(channel, callback)
        if statement is not None:
            if self._session.pooler_detected is None:
                # The first request on this connection: ask now, so the
                # warning comes before the LISTEN, as it does once known.
                try:
                    self._runner.run(self._session.detect_pooler_flow())
                except BaseException:
                    self._runner.listeners.unlisten(channel, callback)
                    raise
            if self._session.pooler_detected:
                # A transaction-mode pooler hands the server connection that
                # listens to other clients: nothing would arrive here.
                warnings.warn(InterfaceWarning(
                    f"LISTEN {channel!r} through a connection pooler: in transaction "
                    "pooling mode (pgbouncer's default) notifications are not delivered to "
                    "this connection; listen on a direct connection"), stacklevel=2)
            try:
                self._listen_statement(channel, statement)
            except BaseException:
                self._runner.listeners.unlisten(channel, callback)
                raise

    def remove_listener(self, channel: str, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` on NOTIFY to ``channel`` (nothing if it
        was not added); when the channel has no callback left, ``UNLISTEN``
        is sent, unless the connection is closed."""
        statement = self._runner.listeners.unlisten(channel, callback)
        if statement is not None and not self.is_closed():
            self._listen_statement(channel, statement)

    def _listen_statement(self, channel: str, statement: str) -> None:
        runner = self._runner
        if runner.in_transaction():
            # Undone by a rollback: settled again when the block ends.
            runner.listeners.unsettled.add(channel)
        self.execute(statement)

    def add_log_listener(self, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection, message)`` for each NOTICE/WARNING the server sends.

        Without log listeners, such messages go to the ``pgwire`` logger.
        """
        self._runner.listeners.add_log_listener(callback)

    def remove_log_listener(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` for server messages (nothing if it was not added)."""
        self._runner.listeners.remove_log_listener(callback)

    def add_termination_listener(self, callback: Callable[..., Any]) -> None:
        """Call ``callback(connection)`` once when the connection closes, for any reason."""
        self._runner.listeners.add_termination_listener(callback)

    def remove_termination_listener(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` at close (nothing if it was not added)."""
        self._runner.listeners.remove_termination_listener(callback)

    def add_query_logger(self, callback: Callable[..., Any]) -> None:
        """Call ``callback(record)`` after each query (asyncpg's query loggers):
        ``record`` is a :class:`~pgwire.LoggedQuery` with the query, its
        arguments, the timeout, the seconds it took and the exception it
        raised, if any.  A coroutine function's result runs as a task."""
        if not callable(callback):
            raise TypeError("callback must be callable")
        flavour.check_listener(callback)
        self._runner.query_loggers.append(callback)

    def remove_query_logger(self, callback: Callable[..., Any]) -> None:
        """Stop calling ``callback`` after queries (nothing if it was not added)."""
        if callback in self._runner.query_loggers:
            self._runner.query_loggers.remove(callback)

    @contextlib.contextmanager
    def query_logger(self, callback: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
        """``with conn.query_logger(callback):`` logs the queries of the block."""
        self.add_query_logger(callback)
        try:
            yield callback
        finally:
            self.remove_query_logger(callback)

    def process_notifications(self, timeout: float | None = 0) -> None:
        """Wait up to ``timeout`` seconds (None: until one arrives) for server
        messages and deliver them to the listeners.  Returns as soon as
        something was delivered, or when the time is up."""
        self._runner.wait_for_events(timeout)

    # -- queries -------------------------------------------------------------

    def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        """Run a command; return the status of the last one (e.g. ``'INSERT 0 1'``).

        Without arguments the simple query protocol is used, so ``query`` may
        hold several statements separated by semicolons.
        """
        session = self._session
        if not args:
            op = self._runner.run(session.simple_query_flow(query), timeout, query=query)
            if self._runner.listeners.unsettled:  # a COMMIT or ROLLBACK of one's own
                self._runner.settle_listeners()
            return op.results[-1].status or "" if op.results else ""
        result = self._runner.run(session.execute_flow(query, args), timeout,
                                        query=query, args=args)
        return result.status or ""

    def executemany(self, command: str, args: Iterable[Sequence[Any]], *,
                          timeout: float | None = None) -> None:
        """Run ``command`` for each argument tuple, pipelined in one round trip.

        The batch runs as one implicit transaction when none is open: if one
        row fails, none is applied.  Inside a transaction block the error
        aborts the transaction, as any failed statement would.
        """
        self._runner.run(self._session.executemany_flow(command, args), timeout,
                               query=command, args=args)

    def fetchmany(self, query: str, args: Iterable[Sequence[Any]], *,
                        timeout: float | None = None,
                        record_class: type[Record] | None = None) -> list[Record]:
        """Run ``query`` for each argument tuple, pipelined in one round trip
        as :meth:`executemany` is, and return the rows of all of them in
        order (``INSERT ... RETURNING`` for many rows at once)."""
        check_record_class(record_class)
        results = self._runner.run(self._session.executemany_flow(query, args), timeout,
                                         query=query, args=args)
        return _rows_of_all(results, record_class)

    def fetch(self, query: str, *args: Any, timeout: float | None = None,
                    record_class: type[Record] | None = None) -> list[Record]:
        """Run ``query`` with ``args`` (``$1``, ``$2``... in the text) and return
        all its rows as :class:`~pgwire.Record` objects (or ``record_class``).

        ``timeout`` (seconds) cancels the query on the server when it runs
        out; the connection stays usable.  Raises a
        :class:`~pgwire.PostgresError` subclass for the server's errors (one
        per SQLSTATE: ``UniqueViolationError``...) and
        :class:`~pgwire.DataError` for an argument its column type cannot take.
        """
        if record_class is not None:
            check_record_class(record_class)
        result = self._runner.run(self._session.execute_flow(query, args), timeout,
                                        query=query, args=args)
        return rows_of(result, record_class)

    def fetchrow(self, query: str, *args: Any, timeout: float | None = None,
                       record_class: type[Record] | None = None) -> Record | None:
        """The first row of ``query`` (None when there is none); the rest are
        not even sent by the server.  Arguments and errors as :meth:`fetch`."""
        if record_class is not None:
            check_record_class(record_class)
        result = self._runner.run(
            self._session.execute_flow(query, args, max_rows=1), timeout, query=query, args=args
        )
        rows = rows_of(result, record_class)
        return rows[0] if rows else None

    def fetchval(self, query: str, *args: Any, column: int | str = 0,
                       timeout: float | None = None) -> Any:
        """One value of the first row: ``column`` by position or name (None
        when there is no row).  Arguments and errors as :meth:`fetch`."""
        result = self._runner.run(
            self._session.execute_flow(query, args, max_rows=1), timeout, query=query, args=args
        )
        rows = result.rows
        return rows[0][column] if rows else None

    def query(self, query: str, *args: Any, timeout: float | None = None,
                    record_class: type[Record] | None = None) -> Result:
        """Run one statement; return its :class:`~pgwire.Result`: status,
        columns and rows together (what ``fetch`` and ``execute`` each give half of)."""
        check_record_class(record_class)
        result = self._runner.run(self._session.execute_flow(query, args), timeout,
                                        query=query, args=args)
        return Result.of(result, record_class)

    def query_script(self, script: str, *, timeout: float | None = None,
                           record_class: type[Record] | None = None) -> list[Result]:
        """Run ``script`` (several statements, simple protocol, no arguments);
        return each statement's :class:`~pgwire.Result`.

        Values arrive in text form and are decoded into the same Python values.
        """
        check_record_class(record_class)
        op = self._runner.run(
            self._session.simple_query_flow(script, decode_rows=True), timeout, query=script
        )
        return [Result.of(result, record_class) for result in op.results]

    def query_many(self, command: str, args: Iterable[Sequence[Any]], *,
                         timeout: float | None = None) -> list[Result]:
        """:meth:`executemany`, returning the :class:`~pgwire.Result` of each execution."""
        results = self._runner.run(self._session.executemany_flow(command, args), timeout,
                                         query=command, args=args)
        return [Result.of(result) for result in results]

    def prepare(self, query: str, *, name: str | None = None,
                      timeout: float | None = None,
                      record_class: type[Record] | None = None) -> PreparedStatement:
        """Prepare a statement for repeated execution on this connection.

        ``name`` names the server statement (else pgwire chooses one); it
        is ignored where named statements are not used (behind a pooler in
        transaction mode, where each use is parsed again).  A schema change
        that invalidates the statement is recovered as for cached ones: the
        statement is prepared again, transparently outside a transaction.
        """
        check_record_class(record_class)
        state = self._runner.run(self._session.prepare_flow(query, name=name), timeout)
        return PreparedStatement(self._runner, state, record_class)

    # -- COPY ------------------------------------------------------------------

    def copy_records_to_table(
        self, table_name: str, *, records: Iterable[Sequence[Any]] | Iterable[Sequence[Any]],
        columns: Sequence[str] | None = None, schema_name: str | None = None,
        timeout: float | None = None, where: str | None = None,
    ) -> str:
        """Copy Python records into a table with binary COPY; return the status.

        Records are encoded one by one into a buffer sent in chunks of about
        512 KiB, so an iterable (or async iterable) of any size is streamed.
        """
        return self._runner.run(copy_flows.copy_records_flow(
            self._session, table_name, columns, schema_name, where,
            lambda encoder: flavour.record_chunks(records, encoder),
        ), timeout)

    def copy_to_table(
        self, table_name: str, *, source: Any, columns: Sequence[str] | None = None,
        schema_name: str | None = None, timeout: float | None = None,
        where: str | None = None, **options: Any,
    ) -> str:
        """Copy data into a table from a path, a file object (sync or async
        ``read``) or an iterable / async iterable of bytes; return the status.

        ``options`` are COPY options: format, oids, freeze, delimiter, null,
        header, quote, escape, force_quote, force_not_null, force_null,
        encoding.
        """
        table = copy_flows.table_reference(table_name, schema_name)
        sql = copy_flows.copy_in_sql(table, columns, copy_flows.copy_options(**options), where)
        chunks = flavour.copy_chunks(source)
        return self._runner.run(copy_flows.copy_in_flow(self._session, sql, chunks),
                                      timeout)

    def copy_from_table(
        self, table_name: str, *, output: Any, columns: Sequence[str] | None = None,
        schema_name: str | None = None, timeout: float | None = None, **options: Any,
    ) -> str:
        """Copy a table out to a path, a file object or a callable (sync or
        async) receiving bytes; return the status."""
        table = copy_flows.table_reference(table_name, schema_name)
        sql = copy_flows.copy_out_table_sql(table, columns, copy_flows.copy_options(**options))
        return self._copy_out(sql, output, timeout)

    def copy_from_query(
        self, query: str, *args: Any, output: Any, timeout: float | None = None,
        **options: Any,
    ) -> str:
        """Copy the result of a query out (see :meth:`copy_from_table`).

        COPY cannot take bind parameters, so ``args`` are turned into SQL
        literals by the server itself (``quote_nullable``) with the types the
        query gives them, then written into the statement.
        """
        if args:
            query = self._runner.run(self._session.inline_arguments_flow(query, args),
                                           timeout)
        sql = copy_flows.copy_out_query_sql(query, copy_flows.copy_options(**options))
        return self._copy_out(sql, output, timeout)

    def _copy_out(self, sql: str, output: Any, timeout: float | None) -> str:
        write = output_writer(output)
        if write is not None:
            return self._runner.run(copy_flows.copy_out_flow(sql, write), timeout)
        with open(output, "wb") as file:
            return self._runner.run(copy_flows.copy_out_flow(sql, file.write), timeout)

    # -- cursors, transactions, pipelines ---------------------------------------

    def cursor(self, query: str, *args: Any, prefetch: int | None = None,
               timeout: float | None = None,
               record_class: type[Record] | None = None) -> Cursor:
        """Open a server-side cursor (needs an open transaction); iterate it
        (``prefetch`` rows per round trip) or call ``fetch(n)``."""
        factory = CursorFactory(self._runner, query, args, prefetch, timeout, record_class)
        return factory.open(factory.prefetch)

    def transaction(self, *, isolation: str | None = None, readonly: bool = False,
                    deferrable: bool = False) -> Transaction:
        """A transaction block; nested blocks become savepoints."""
        return Transaction(self._runner, isolation, readonly, deferrable)

    def pipeline(self, *, timeout: float | None = None) -> Pipeline:
        """Pipeline mode: ``with conn.pipeline() as p:`` then ``p.fetch(...)``
        etc. return pending results settled at ``p.sync()`` or the end of
        the block (see :mod:`pgwire.api._sync.pipeline`).  ``timeout``
        bounds each sync's round trip (default: ``command_timeout``)."""
        return Pipeline(self._runner, timeout)

    # -- closing -------------------------------------------------------------

    def is_closed(self) -> bool:
        """Is the connection closed, or being closed?"""
        return self._runner.is_closed()

    def close(self, *, timeout: float | None = None) -> None:
        """Close gracefully: wait for queued operations, send Terminate."""
        self._runner.close(timeout)

    def terminate(self) -> None:
        """Close the connection at once, without waiting for anything."""
        self._runner.terminate()

    def __enter__(self) -> Connection:
        return self

    def __exit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def __repr__(self) -> str:
        if is_detached(self):
            return f"<{type(self).__module__}.{type(self).__qualname__} released>"
        state = "closed" if self.is_closed() else "open"
        return f"<{type(self).__module__}.{type(self).__qualname__} {state} pid={self.get_server_pid()}>"


def connect(
    dsn: str | None = None,
    *,
    host: str | list[str] | None = None,
    port: int | str | list[int] | None = None,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
    timeout: float | None = None,
    command_timeout: float | None = None,
    statement_cache_size: int = 100,
    server_settings: dict[str, str] | None = None,
    ssl: Any = None,
    record_class: type[Record] = Record,
    connection_class: type[Connection] = Connection,
    type_registry: TypeRegistry | None = None,
    **unsupported: Any,
) -> Connection:
    """Open a connection (asyncpg's signature; libpq's keywords too).

    :param dsn: a ``postgresql://`` URI or a libpq ``key=value`` string
        (see docs/connecting.md); keywords below override it, ``PG*``
        environment variables, service and password files fill in the rest.
    :param host: host name, IP address or Unix socket directory, or a list
        of them (tried in order; see ``target_session_attrs``).
    :param port: port number, or one per host.
    :param user: role name (default: the operating system user).
    :param password: password (default: from the password file).
    :param database: database name (default: the user name).
    :param timeout: seconds for the whole connection attempt (per host).
    :param command_timeout: default timeout in seconds of every call that
        has none of its own (None: no limit).
    :param statement_cache_size: prepared statements cached per connection;
        0 uses the unnamed statement for everything.  With the default,
        named statements are cached unless a pooler such as pgbouncer is
        detected, in which case pgwire switches to unnamed statements by itself.
    :param server_settings: run-time parameters sent at startup
        (``{"application_name": "app", "search_path": "app"}``).
    :param ssl: ``True``/``False``, a libpq ``sslmode`` name, or an
        ``ssl.SSLContext``.
    :param record_class: the row class (a subclass of :class:`pgwire.Record`).
    :param connection_class: the class of the returned connection (a subclass).
    :param type_registry: the codecs to start from (copied; default: the built-ins).
    :param unsupported: any libpq connection keyword (``sslmode``,
        ``target_session_attrs``, ``replication``, ``options``...); an
        unknown one is refused, as libpq refuses it.
    :raises pgwire.PostgresError: the server refused (authentication,
        unknown database...).
    :raises OSError: no server could be reached.
    :raises pgwire.InterfaceError: bad arguments.
    """
    # Masked at once: this frame's locals show in tracebacks (conninfo.secret).
    password = mask_password(password) if isinstance(password, str) else password
    dsn = mask_password(dsn) if isinstance(dsn, str) else dsn
    if command_timeout is not None and (
        isinstance(command_timeout, bool) or not isinstance(command_timeout, (int, float))
        or command_timeout <= 0
    ):
        raise ValueError(
            f"invalid command_timeout value: expected a number greater than 0, "
            f"got {command_timeout!r}")
    params, new_session = prepare_connect(
        dsn, host=host, port=port, user=user, password=password, database=database,
        timeout=timeout, statement_cache_size=statement_cache_size,
        server_settings=server_settings, ssl=ssl, record_class=record_class,
        connection_class=connection_class, connection_base=Connection,
        type_registry=type_registry, unsupported=unsupported,
    )
    driver = BlockingDriver()
    try:
        session = driver.run_flow(
            connect_flow(params, new_session, detect_pooler=statement_cache_size > 0
                         and params.replication is None)
        )
    except BaseException:
        driver.abort()
        raise
    runner = Runner(driver, session, params, command_timeout)
    connection = connection_class(runner)
    if session.engine.events:  # notices sent during startup
        events, session.engine.events = session.engine.events, []
        runner.listeners.dispatch(events)
    return connection
