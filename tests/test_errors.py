"""Errors against a real server: exception classes, fields, and recovery.

Every server error must arrive as the class of its SQLSTATE (in the PEP 249
hierarchy) with all the ErrorResponse fields the server sent; mistakes the
caller makes are caught client-side with a clear message; and after any error
the connection is either usable and in step with the server, or closed.
Every test runs once per API (conftest.py); noticing a closed connection
while idle is the asyncio API's alone (``async_only``).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import pgwire


@pytest.fixture
async def table(conn: Any) -> AsyncIterator[str]:
    """A unique table name, dropped after the test (the test creates it)."""
    name = f"t_{secrets.token_hex(6)}"
    yield name
    if not conn.is_closed():
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        await conn.execute(f"DROP TABLE IF EXISTS {name}")


async def _assert_usable(conn: Any) -> None:
    """The connection answers the next queries with their own results."""
    token = secrets.token_hex(4)
    assert await conn.fetchval("SELECT $1::text", token) == token
    assert await conn.fetchval(f"SELECT '{token}' || 'x'") == token + "x"
    assert await conn.execute("SELECT 1") == "SELECT 1"


# ---------------------------------------------------------------------------
# Classes and fields


@pytest.mark.parametrize("with_args", [False, True], ids=["simple", "extended"])
async def test_syntax_error(conn: Any, with_args: bool) -> None:
    args = (1,) if with_args else ()
    query = "SELEC $1" if with_args else "SELECT 1 FROM WHERE"
    with pytest.raises(pgwire.PostgresSyntaxError) as info:
        if with_args:
            await conn.fetch(query, *args)
        else:
            await conn.execute(query)
    exc = info.value
    assert isinstance(exc, pgwire.ProgrammingError)
    assert isinstance(exc, pgwire.PostgresError)
    assert exc.sqlstate == "42601"
    assert exc.position == ("1" if with_args else "15")
    assert "syntax error" in exc.message
    await _assert_usable(conn)


async def test_undefined_table(conn: Any) -> None:
    with pytest.raises(pgwire.UndefinedTableError) as info:
        await conn.fetch("SELECT * FROM no_such_table_pgwire WHERE x = $1", 1)
    exc = info.value
    assert exc.sqlstate == "42P01"
    assert isinstance(exc, pgwire.ProgrammingError)
    assert "no_such_table_pgwire" in exc.message
    assert exc.position == "15"
    with pytest.raises(pgwire.UndefinedTableError):
        await conn.execute("SELECT * FROM no_such_table_pgwire")
    await _assert_usable(conn)


async def test_undefined_column_and_function(conn: Any) -> None:
    with pytest.raises(pgwire.UndefinedColumnError):
        await conn.fetchval("SELECT no_such_column FROM pg_class")
    with pytest.raises(pgwire.UndefinedFunctionError) as info:
        await conn.fetchval("SELECT no_such_function_pgwire($1::int)", 1)
    assert info.value.hint  # "No function matches ..."
    await _assert_usable(conn)


async def test_unique_violation_fields(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (id int CONSTRAINT {table}_pk PRIMARY KEY)")
    await conn.execute(f"INSERT INTO {table} VALUES (1)")
    with pytest.raises(pgwire.UniqueViolationError) as info:
        await conn.execute(f"INSERT INTO {table} VALUES ($1)", 1)
    exc = info.value
    assert isinstance(exc, pgwire.IntegrityError)
    assert exc.sqlstate == "23505"
    assert exc.constraint_name == f"{table}_pk"
    assert exc.table_name == table
    assert exc.schema_name == "public"
    assert exc.detail == "Key (id)=(1) already exists."
    assert "duplicate key value violates unique constraint" in exc.message
    assert "DETAIL:  Key (id)=(1) already exists." in str(exc)
    # Simple protocol: same class, same fields.
    with pytest.raises(pgwire.UniqueViolationError) as info2:
        await conn.execute(f"INSERT INTO {table} VALUES (1)")
    assert info2.value.constraint_name == f"{table}_pk"
    await _assert_usable(conn)


async def test_common_fields_always_present(conn: Any) -> None:
    with pytest.raises(pgwire.DivisionByZeroError) as info:
        await conn.fetchval("SELECT 1 / $1::int", 0)
    exc = info.value
    assert exc.severity == "ERROR"
    assert exc.severity_en == "ERROR"
    assert exc.sqlstate == "22012"
    assert exc.message == "division by zero"
    assert exc.server_source_filename
    assert exc.server_source_line and exc.server_source_line.isdigit()
    assert exc.server_source_function
    assert exc.fields["C"] == "22012"
    assert exc.as_dict()["message"] == "division by zero"
    # Fields the server did not send read as None.
    assert exc.table_name is None and exc.constraint_name is None and exc.detail is None


async def test_every_field_from_raise(conn: Any) -> None:
    sql = """
    DO $$ BEGIN
      RAISE EXCEPTION USING
        MESSAGE = 'custom message', DETAIL = 'custom detail', HINT = 'custom hint',
        ERRCODE = 'P0001', COLUMN = 'col_x', CONSTRAINT = 'cons_x',
        DATATYPE = 'type_x', TABLE = 'table_x', SCHEMA = 'schema_x';
    END $$
    """
    with pytest.raises(pgwire.RaiseError) as info:
        await conn.execute(sql)
    exc = info.value
    assert exc.sqlstate == "P0001"
    assert exc.message == "custom message"
    assert exc.detail == "custom detail"
    assert exc.hint == "custom hint"
    assert exc.column_name == "col_x"
    assert exc.constraint_name == "cons_x"
    assert exc.data_type_name == "type_x"
    assert exc.table_name == "table_x"
    assert exc.schema_name == "schema_x"
    assert exc.context and "PL/pgSQL function" in exc.context
    assert str(exc) == "custom message\nDETAIL:  custom detail\nHINT:  custom hint"
    await _assert_usable(conn)


async def test_internal_query_and_position(conn: Any) -> None:
    with pytest.raises(pgwire.PostgresSyntaxError) as info:
        await conn.execute("DO $$ BEGIN EXECUTE 'SELECT 1 FROM WHERE'; END $$")
    exc = info.value
    assert exc.internal_query == "SELECT 1 FROM WHERE"
    assert exc.internal_position == "15"
    assert exc.position is None
    assert exc.context and "EXECUTE" in exc.context


async def test_not_null_and_check_and_domain_fields(conn: Any, table: str) -> None:
    domain = f"{table}_dom"
    await conn.execute(
        f"CREATE DOMAIN {domain} AS int CHECK (VALUE > 0); "
        f"CREATE TABLE {table} (a int NOT NULL, b int CONSTRAINT {table}_b_check CHECK (b < 10),"
        f" c {domain})"
    )
    try:
        with pytest.raises(pgwire.NotNullViolationError) as nn:
            await conn.execute(f"INSERT INTO {table} (a) VALUES ($1)", None)
        assert nn.value.column_name == "a"
        assert nn.value.table_name == table
        assert nn.value.schema_name == "public"
        with pytest.raises(pgwire.CheckViolationError) as ck:
            await conn.execute(f"INSERT INTO {table} (a, b) VALUES (1, $1)", 99)
        assert ck.value.constraint_name == f"{table}_b_check"
        assert ck.value.table_name == table
        with pytest.raises(pgwire.CheckViolationError) as dom:
            await conn.execute(f"INSERT INTO {table} (a, c) VALUES (1, $1)", -1)
        assert dom.value.data_type_name == domain
        assert dom.value.schema_name == "public"
        await _assert_usable(conn)
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}; DROP DOMAIN IF EXISTS {domain}")


async def test_division_by_zero_is_pep249_data_error(conn: Any) -> None:
    with pytest.raises(pgwire.DivisionByZeroError) as info:
        await conn.fetchval("SELECT 1 / 0")
    assert isinstance(info.value, pgwire.DataError)
    assert isinstance(info.value, pgwire.DatabaseError)
    assert isinstance(info.value, pgwire.Error)
    with pytest.raises(pgwire.DataError):
        await conn.fetchval("SELECT $1::int / 0", 5)
    await _assert_usable(conn)


async def test_errors_are_picklable(conn: Any) -> None:
    import pickle

    with pytest.raises(pgwire.UniqueViolationError) as info:
        await conn.execute("CREATE TEMP TABLE pk_pickle (a int PRIMARY KEY); "
                           "INSERT INTO pk_pickle VALUES (1), (1)")
    restored = pickle.loads(pickle.dumps(info.value))
    assert type(restored) is pgwire.UniqueViolationError
    assert str(restored) == str(info.value)


# ---------------------------------------------------------------------------
# Caller mistakes


WRONG_COUNTS = [pytest.param((), id="none"), pytest.param((1, 2), id="two"),
                pytest.param((1, 2, 3), id="three")]


@pytest.mark.parametrize("args", WRONG_COUNTS)
async def test_wrong_parameter_count_cached_statement(conn: Any, args: tuple[Any, ...]) -> None:
    query = "SELECT $1::int + 1"
    assert await conn.fetchval(query, 1) == 2  # described and cached
    methods = ["fetchval", "fetch", "fetchrow"] + (["execute"] if args else [])
    for method in methods:
        with pytest.raises(pgwire.InterfaceError) as info:
            await getattr(conn, method)(query, *args)
        assert "argument" in str(info.value)
        assert not isinstance(info.value, pgwire.PostgresError)
        assert await conn.fetchval(query, 41) == 42
    await _assert_usable(conn)


async def test_execute_without_arguments_uses_simple_protocol(conn: Any) -> None:
    # As in asyncpg: no arguments means the simple protocol, so the server
    # itself reports the missing parameter.
    with pytest.raises(pgwire.UndefinedParameterError):
        await conn.execute("SELECT $1::int + 1")
    await _assert_usable(conn)


@pytest.mark.parametrize("args", WRONG_COUNTS)
async def test_wrong_parameter_count_first_use_leaves_connection_usable(
    conn: Any, args: tuple[Any, ...]
) -> None:
    with pytest.raises((pgwire.InterfaceError, pgwire.ProtocolViolationError)):
        await conn.fetchval("SELECT $1::int + 1", *args)
    await _assert_usable(conn)
    assert await conn.fetchval("SELECT $1::int + 1", 41) == 42


@pytest.mark.parametrize("cache_size", [100, 0])
async def test_wrong_parameter_count_first_use_is_interface_error(
    make_conn: Any, cache_size: int
) -> None:
    conn = await make_conn(statement_cache_size=cache_size)
    with pytest.raises(pgwire.InterfaceError, match="argument"):
        await conn.fetchval("SELECT $1::int + 1", 1, 2)
    assert await conn.fetchval("SELECT $1::int + 1", 41) == 42


async def test_wrong_parameter_count_in_transaction_sends_nothing(conn: Any) -> None:
    await conn.fetchval("SELECT $1::int", 1)  # cached
    async with conn.transaction():
        with pytest.raises(pgwire.InterfaceError):
            await conn.fetchval("SELECT $1::int", 1, 2)
        # Nothing reached the server: the transaction is not aborted.
        assert await conn.fetchval("SELECT $1::int", 7) == 7
    await _assert_usable(conn)


async def test_wrong_parameter_type_is_a_data_error(conn: Any) -> None:
    for _ in range(2):  # first use, and with the statement already cached
        with pytest.raises(pgwire.DataError):
            await conn.fetchval("SELECT $1::int", "abc")
        await _assert_usable(conn)
    assert await conn.fetchval("SELECT $1::int", 12) == 12


async def test_wrong_parameter_type_names_argument_and_sends_nothing(conn: Any) -> None:
    assert await conn.fetchval("SELECT $1::int", 1) == 1  # cached
    async with conn.transaction():
        with pytest.raises(pgwire.DataError, match=r"\$1"):
            await conn.fetchval("SELECT $1::int", "abc")
        # Nothing was sent: the transaction is still good.
        assert await conn.fetchval("SELECT $1::int", 5) == 5


@pytest.mark.parametrize("bad", [object(), {"a": 1}, 2**40])
async def test_unencodable_argument_names_it_and_sends_nothing(conn: Any, bad: Any) -> None:
    query = "SELECT $1::int4"
    assert await conn.fetchval(query, 3) == 3  # the statement is described and cached
    async with conn.transaction():
        with pytest.raises(pgwire.DataError, match=r"\$1") as info:
            await conn.fetchval(query, bad)
        assert "int4" in str(info.value)
        # Nothing reached the server: the transaction is not aborted.
        assert await conn.fetchval(query, 4) == 4
        assert conn.is_in_transaction()
    await _assert_usable(conn)


async def test_unencodable_argument_on_first_use(conn: Any) -> None:
    with pytest.raises(pgwire.DataError, match=r"\$2"):
        await conn.fetchval("SELECT $1::int + $2::int", 1, object())
    await _assert_usable(conn)


async def test_unencodable_argument_without_statement_cache(make_conn: Any) -> None:
    conn = await make_conn(statement_cache_size=0)
    assert await conn.fetchval("SELECT $1::int4", 1) == 1
    async with conn.transaction():
        with pytest.raises(pgwire.DataError, match=r"\$1"):
            await conn.fetchval("SELECT $1::int4", object())
        assert await conn.fetchval("SELECT $1::int4", 2) == 2
    await _assert_usable(conn)


async def test_invalid_text_for_int_is_server_error(conn: Any) -> None:
    with pytest.raises(pgwire.InvalidTextRepresentationError) as info:
        await conn.fetchval("SELECT $1::text::int", "not a number")
    assert info.value.sqlstate == "22P02"
    assert "not a number" in info.value.message
    await _assert_usable(conn)
    with pytest.raises(pgwire.InvalidTextRepresentationError):
        await conn.fetchval("SELECT $1::text::int", "still not")
    await _assert_usable(conn)


ERROR_QUERIES = [
    ("SELECT 1/0", (), pgwire.DivisionByZeroError),
    ("SELECT $1::int/0", (1,), pgwire.DivisionByZeroError),
    ("SELEC 1", (), pgwire.PostgresSyntaxError),
    ("SELECT * FROM no_such_relation_pgwire", (), pgwire.UndefinedTableError),
    ("SELECT $1::text::int", ("x",), pgwire.InvalidTextRepresentationError),
    ("SELECT generate_series(1, 5) / (3 - generate_series(1, 5))", (), pgwire.DivisionByZeroError),
    ("SELECT g / (50 - g) FROM generate_series(1, 100) g", (), pgwire.DivisionByZeroError),
    ("SELECT 1; SELECT 1/0; SELECT 2", (), pgwire.DivisionByZeroError),
    ("DO $$ BEGIN RAISE 'boom'; END $$", (), pgwire.RaiseError),
]


@pytest.mark.parametrize("method", ["execute", "fetch", "fetchrow", "fetchval"])
async def test_next_query_after_every_error_gets_its_own_result(conn: Any, method: str) -> None:
    for index, (query, args, error) in enumerate(ERROR_QUERIES):
        if method != "execute" and ";" in query:
            continue  # several statements: simple protocol only
        if method in ("fetchrow", "fetchval") and "generate_series" in query:
            continue  # only the first row is computed: no error
        with pytest.raises(error):
            await getattr(conn, method)(query, *args)
        assert await conn.fetchval("SELECT $1::int * 2", index) == index * 2
        assert await conn.fetch("SELECT $1::text AS v", str(index)) == [(str(index),)]
        assert not conn.is_in_transaction()


async def test_error_with_partial_rows_discards_them(conn: Any) -> None:
    # Rows stream before the error: none of them may leak into the next result.
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.fetch("SELECT 10 / (5000 - g) FROM generate_series(1, 10000) g")
    assert await conn.fetch("SELECT 1 AS a") == [(1,)]


async def test_errors_in_prepared_statements(conn: Any) -> None:
    stmt = await conn.prepare("SELECT 10 / $1::int")
    with pytest.raises(pgwire.DivisionByZeroError):
        await stmt.fetchval(0)
    assert await stmt.fetchval(5) == 2
    with pytest.raises(pgwire.PostgresSyntaxError):
        await conn.prepare("SELEC 1")
    await _assert_usable(conn)


# ---------------------------------------------------------------------------
# Closed connections


OPERATIONS = [
    ("execute", lambda c: c.execute("SELECT 1")),
    ("execute_args", lambda c: c.execute("SELECT $1::int", 1)),
    ("fetch", lambda c: c.fetch("SELECT 1")),
    ("fetchrow", lambda c: c.fetchrow("SELECT 1")),
    ("fetchval", lambda c: c.fetchval("SELECT 1")),
    ("executemany", lambda c: c.executemany("SELECT $1::int", [(1,)])),
    ("prepare", lambda c: c.prepare("SELECT 1")),
    ("transaction", lambda c: c.transaction().start()),
]


@pytest.mark.parametrize("how", ["close", "terminate"])
@pytest.mark.parametrize("name,operation", OPERATIONS, ids=[o[0] for o in OPERATIONS])
async def test_operation_on_closed_connection(
    make_conn: Any, how: str, name: str, operation: Any
) -> None:
    conn = await make_conn()
    assert await conn.fetchval("SELECT 1") == 1
    if how == "close":
        await conn.close()
    else:
        conn.terminate()
    assert conn.is_closed()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(operation(conn), 5)


async def test_prepared_statement_on_closed_connection(make_conn: Any) -> None:
    conn = await make_conn()
    stmt = await conn.prepare("SELECT $1::int")
    assert await stmt.fetchval(1) == 1
    await conn.close()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(stmt.fetchval(1), 5)


async def test_close_waits_for_running_query(make_conn: Any) -> None:
    conn = await make_conn()
    task = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(0.3)::text || 'done'"))
    await asyncio.sleep(0.05)
    await asyncio.wait_for(conn.close(), 5)
    assert await task == "done"
    assert conn.is_closed()


async def test_terminate_fails_running_query(make_conn: Any) -> None:
    conn = await make_conn()
    task = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(5)"))
    await asyncio.sleep(0.1)
    started = time.monotonic()
    conn.terminate()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 2
    assert conn.is_closed()


# ---------------------------------------------------------------------------
# The server ends the connection


async def _terminate_backend(killer: Any, pid: int) -> None:
    # The timeout form waits until the backend has really exited (PG 14+).
    assert await killer.fetchval("SELECT pg_terminate_backend($1::int, 5000)", pid) is True


async def test_server_terminates_idle_connection(make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    assert await conn.fetchval("SELECT 1") == 1
    await _terminate_backend(killer, conn.get_server_pid())
    started = time.monotonic()
    with pytest.raises((pgwire.ConnectionDoesNotExistError, pgwire.AdminShutdownError)):
        await asyncio.wait_for(conn.fetchval("SELECT 1"), 10)
    assert time.monotonic() - started < 5
    for _ in range(50):
        if conn.is_closed():
            break
        await asyncio.sleep(0.02)
    assert conn.is_closed()
    # Every later operation fails the same clear way.
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(conn.fetchval("SELECT 1"), 10)
    await asyncio.wait_for(conn.close(), 5)  # closing a dead connection is fine


@pytest.mark.async_only  # a blocking connection reads only inside a call
async def test_server_terminates_idle_connection_is_noticed(make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    await _terminate_backend(killer, conn.get_server_pid())
    # The server's FATAL message and EOF arrive while idle: is_closed() notices
    # without another query being needed.
    for _ in range(250):
        if conn.is_closed():
            break
        await asyncio.sleep(0.02)
    assert conn.is_closed()


async def test_server_terminates_connection_during_query(make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    pid = conn.get_server_pid()
    task = asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(30)"))
    for _ in range(250):
        state = await killer.fetchval(
            "SELECT state FROM pg_stat_activity WHERE pid = $1::int", pid
        )
        if state == "active":
            break
        await asyncio.sleep(0.02)
    assert state == "active"
    started = time.monotonic()
    await _terminate_backend(killer, pid)
    with pytest.raises((pgwire.AdminShutdownError, pgwire.ConnectionDoesNotExistError)):
        await asyncio.wait_for(task, 10)
    assert time.monotonic() - started < 5
    assert conn.is_closed()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(conn.fetchval("SELECT 1"), 10)


async def test_server_terminates_connection_with_queued_operations(make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    pid = conn.get_server_pid()
    tasks = [asyncio.ensure_future(conn.fetchval("SELECT pg_sleep(30)"))]
    tasks += [asyncio.ensure_future(conn.fetchval("SELECT $1::int", i)) for i in range(5)]
    await asyncio.sleep(0.2)
    await _terminate_backend(killer, pid)
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
    for result in results:
        assert isinstance(result, (pgwire.AdminShutdownError, pgwire.ConnectionDoesNotExistError))
    assert conn.is_closed()


# ---------------------------------------------------------------------------
# More server-side conditions


async def test_several_commands_with_arguments(conn: Any) -> None:
    with pytest.raises(pgwire.PostgresSyntaxError) as info:
        await conn.execute("SELECT $1::int; SELECT 2", 1)
    assert "multiple commands" in info.value.message
    await _assert_usable(conn)


async def test_statement_timeout_is_query_canceled(conn: Any) -> None:
    await conn.execute("SET statement_timeout = 100")
    try:
        with pytest.raises(pgwire.QueryCanceledError) as info:
            await asyncio.wait_for(conn.fetchval("SELECT pg_sleep(3)"), 10)
        assert info.value.sqlstate == "57014"
        assert "statement timeout" in info.value.message
        await _assert_usable(conn)
    finally:
        await conn.execute("RESET statement_timeout")


async def test_non_ascii_error_message(conn: Any) -> None:
    with pytest.raises(pgwire.InvalidTextRepresentationError) as info:
        await conn.fetchval("SELECT $1::text::int", "ünï😀")
    assert "ünï😀" in info.value.message
    await _assert_usable(conn)


@pytest.mark.async_only  # a blocking connection reads only inside a call
async def test_idle_in_transaction_timeout_closes_connection(make_conn: Any) -> None:
    conn = await make_conn()
    await conn.execute("SET idle_in_transaction_session_timeout = '100ms'; BEGIN")
    for _ in range(250):
        if conn.is_closed():
            break
        await asyncio.sleep(0.02)
    assert conn.is_closed()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(conn.fetchval("SELECT 1"), 10)


async def test_idle_in_transaction_timeout_next_call_fails_cleanly(make_conn: Any) -> None:
    conn = await make_conn()
    killer = await make_conn()
    pid = conn.get_server_pid()
    await conn.execute("SET idle_in_transaction_session_timeout = '100ms'; BEGIN")
    for _ in range(250):  # until the server has ended the session
        if not await killer.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid):
            break
        await asyncio.sleep(0.02)
    started = time.monotonic()
    # Whether the connection noticed while idle (asyncio) or notices now
    # (blocking): the call fails as on any connection the server has closed.
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(conn.fetchval("SELECT 1"), 10)
    assert time.monotonic() - started < 5
    assert conn.is_closed()
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await asyncio.wait_for(conn.fetchval("SELECT 1"), 10)


async def test_lock_timeout(conn: Any, make_conn: Any, table: str) -> None:
    other = await make_conn()
    await conn.execute(f"CREATE TABLE {table} (a int)")
    await other.execute(f"BEGIN; LOCK TABLE {table}")
    try:
        await conn.execute("SET lock_timeout = 100")
        with pytest.raises(pgwire.LockNotAvailableError):
            await asyncio.wait_for(conn.fetch(f"SELECT * FROM {table}"), 10)
        await _assert_usable(conn)
    finally:
        await other.execute("ROLLBACK")
        await conn.execute("RESET lock_timeout")


async def test_server_errors_carry_the_query(conn: Any) -> None:
    query = "SELECT 1 / $1::int"
    with pytest.raises(pgwire.DivisionByZeroError) as caught:
        await conn.fetchval(query, 0)
    assert caught.value.query == query
    with pytest.raises(pgwire.UndefinedTableError) as script_error:
        await conn.query_script("SELECT 1; SELECT * FROM no_such_table_here")
    assert script_error.value.query == "SELECT 1; SELECT * FROM no_such_table_here"
    with pytest.raises(pgwire.PostgresError) as many_error:
        await conn.executemany("SELECT 1 / $1::int", [(1,), (0,)])
    assert many_error.value.query == "SELECT 1 / $1::int"
    assert await conn.fetchval("SELECT 1") == 1
