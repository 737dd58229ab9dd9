"""Bad input from the caller: each gets a clear exception, and loses nothing.

Wrong argument counts and types, NUL characters and lone surrogates (in
arguments, query text, identifiers and connection settings), out-of-range
numbers, ragged nested lists, 100 MB arguments, methods called on closed
objects, and one connection used from many tasks or threads at once.  After
every failure the same connection must answer the next query with its own
answer (``_in_step``).  Both APIs (conftest.py).
"""

from __future__ import annotations

import asyncio
import decimal
import hashlib
import inspect
import secrets
from typing import Any

import pytest

import pgwire
import pgwire.types

# (argument, the cast its parameter gets, the exception, a phrase of its message)
BAD_ARGUMENTS = {
    "str_for_int": ("x", "int", pgwire.DataError, "int4 expects int"),
    "float_for_int": (1.5, "int", pgwire.DataError, "got float"),
    "bool_for_int": (True, "int", pgwire.DataError, "got bool"),
    "decimal_for_int": (decimal.Decimal("1.5"), "int", pgwire.DataError, "got Decimal"),
    "int2_range": (-(2**15) - 1, "int2", pgwire.DataError, "out of int2 range"),
    "int4_range": (2**31, "int", pgwire.DataError, "out of int4 range"),
    "int8_range": (2**63, "int8", pgwire.DataError, "out of int8 range"),
    "numeric_range": (decimal.Decimal("1e200000"), "numeric", pgwire.DataError,
                      "out of numeric range"),
    "nul_in_text": ("a\x00b", "text", pgwire.DataError, "NUL"),
    "nul_in_text_array": (["ok", "a\x00"], "text[]", pgwire.DataError, "NUL"),
    "lone_surrogate": ("a\ud800", "text", pgwire.DataError, "surrogates not allowed"),
    "ragged_list": ([[1, 2], [3]], "int[]", pgwire.DataError, "rectangular"),
    "list_and_scalar": ([[1, 2], 3], "int[]", pgwire.DataError, "rectangular"),
    "too_deep": ([[[[[[[1]]]]]]], "int[]", pgwire.DataError, "at most 6 dimensions"),
    "str_for_date": ("2020-01-01", "date", pgwire.DataError, "date expects datetime.date"),
    "bytes_for_text": (b"abc", "text", pgwire.DataError, "text expects str"),
    "int_for_bytea": (5, "bytea", pgwire.DataError, "bytea expects bytes"),
    "set_for_jsonb": ({1, 2}, "jsonb", pgwire.DataError, "not JSON serializable"),
    "object_for_text": (object(), "text", pgwire.DataError, "got object"),
    "str_for_bool": ("maybe", "bool", pgwire.DataError, "bool expects bool"),
    "bad_uuid": ("not-a-uuid", "uuid", pgwire.DataError, "invalid UUID"),
    "bad_inet": ("300.1.1.1", "inet", pgwire.DataError, "invalid inet"),
    "short_point": ((1,), "point", pgwire.DataError, "two numbers"),
    "bad_range_bound": ((1, "a"), "int4range", pgwire.DataError, "int4range"),
    "dict_for_int": ({"a": 1}, "int", pgwire.DataError, "got dict"),
}


async def _in_step(conn: Any) -> None:
    """The connection answers a fresh query with that query's own answer."""
    token = secrets.token_hex(6)
    assert await conn.fetchval("SELECT $1::text", token) == token
    assert not conn.is_in_transaction()


@pytest.mark.parametrize("name", list(BAD_ARGUMENTS))
async def test_bad_argument(conn: Any, name: str) -> None:
    value, cast, error, phrase = BAD_ARGUMENTS[name]
    query = f"SELECT $1::{cast}"
    for _ in range(2):  # first use (described), then the cached statement
        with pytest.raises(error, match="argument \\$1") as info:
            await conn.fetchval(query, value)
        assert phrase in str(info.value)
        await _in_step(conn)
    # The second argument is named when it is the bad one.
    with pytest.raises(error, match="argument \\$2"):
        await conn.fetchval(f"SELECT $1::int, $2::{cast}", 1, value)
    await _in_step(conn)


async def test_bad_argument_in_a_transaction_loses_nothing(conn: Any) -> None:
    """Refused before anything is sent: the transaction goes on unharmed."""
    await conn.execute("CREATE TEMP TABLE bad_in_tx (v int)")
    async with conn.transaction():
        await conn.execute("INSERT INTO bad_in_tx VALUES (1)")
        with pytest.raises(pgwire.DataError):
            await conn.execute("INSERT INTO bad_in_tx VALUES ($1)", "two")
        await conn.execute("INSERT INTO bad_in_tx VALUES (3)")
    assert await conn.fetchval("SELECT array_agg(v ORDER BY v) FROM bad_in_tx") == [1, 3]


@pytest.mark.parametrize("given", [0, 2])
async def test_wrong_argument_count(conn: Any, given: int) -> None:
    with pytest.raises(pgwire.InterfaceError, match=f"expects 1 argument.*{given} were passed"):
        await conn.fetchval("SELECT $1::int", *range(given))
    await _in_step(conn)


async def test_more_parameters_than_the_protocol_allows(conn: Any) -> None:
    with pytest.raises(pgwire.InterfaceError, match="65535"):
        await conn.fetchval("SELECT 1", *range(70_000))
    await _in_step(conn)


async def test_executemany_bad_items(conn: Any) -> None:
    await conn.execute("CREATE TEMP TABLE many_bad (v int)")
    insert = "INSERT INTO many_bad VALUES ($1)"
    with pytest.raises(pgwire.InterfaceError, match="item 1 is int"):
        await conn.executemany(insert, [(1,), 2])
    with pytest.raises(pgwire.InterfaceError, match="item 0 is str"):
        await conn.executemany(insert, ["1"])
    with pytest.raises(pgwire.InterfaceError, match="expects 1 argument"):
        await conn.executemany(insert, [(1,), (1, 2)])
    with pytest.raises(pgwire.DataError, match="argument \\$1"):
        await conn.executemany(insert, [(1,), ("two",)])
    # Nothing of a refused batch was applied.
    assert await conn.fetchval("SELECT count(*) FROM many_bad") == 0
    await _in_step(conn)


@pytest.mark.parametrize("text", [
    pytest.param("SELECT 1\x00", id="nul"),
    pytest.param("SELECT '\ud800'", id="surrogate"),
])
async def test_query_text_that_cannot_be_sent(conn: Any, text: str) -> None:
    for call in (conn.execute, conn.fetch, conn.prepare):
        with pytest.raises(pgwire.InterfaceError, match="a string sent to the server"):
            await call(text)
        await _in_step(conn)
    with pytest.raises(pgwire.InterfaceError):
        await conn.executemany(text, [()])
    await _in_step(conn)


async def test_identifiers_with_nul(conn: Any) -> None:
    with pytest.raises(pgwire.InterfaceError, match="NUL"):
        await conn.add_listener("a\x00b", lambda *args: None)
    with pytest.raises(pgwire.InterfaceError, match="NUL"):
        await conn.copy_records_to_table("a\x00b", records=[(1,)])
    await _in_step(conn)


@pytest.mark.parametrize("setting", [
    pytest.param({"user": "a\x00b"}, id="user"),
    pytest.param({"database": "d\x00"}, id="database"),
    pytest.param({"server_settings": {"application_name": "x\x00"}}, id="setting_value"),
    pytest.param({"server_settings": {"a\x00": "x"}}, id="setting_name"),
    pytest.param({"server_settings": {"application_name": "\udcff"}}, id="surrogate"),
])
async def test_connection_settings_that_cannot_be_sent(api: Any, cluster: Any,
                                                       setting: dict[str, Any]) -> None:
    kwargs = {**cluster.connect_kwargs(), "ssl": "disable", **setting}
    with pytest.raises(pgwire.InterfaceError, match="a string sent to the server"):
        await api.connect(**kwargs)


@pytest.mark.parametrize("value, cast", [
    pytest.param(b"\xab" * 100_000_000, "bytea", id="bytea"),
    pytest.param("\u00e9" * 50_000_000, "text", id="text"),
])
async def test_100_mb_argument(conn: Any, value: Any, cast: str) -> None:
    length = "octet_length" if cast == "text" else "length"
    assert await conn.fetchval(f"SELECT {length}($1::{cast})", value) == 100_000_000
    data = value if isinstance(value, bytes) else value.encode()
    assert await conn.fetchval(f"SELECT md5($1::{cast}) = $2", value,
                               hashlib.md5(data).hexdigest())
    await _in_step(conn)


async def test_large_array_argument_and_result(conn: Any) -> None:
    items = [secrets.token_hex(8)] * 200_000
    assert await conn.fetchval("SELECT cardinality($1::text[])", items) == 200_000
    assert len(await conn.fetchval("SELECT array_agg(g) FROM generate_series(1, 500000) g")) \
        == 500_000
    await _in_step(conn)


# -- closed objects -------------------------------------------------------------

CLOSED_CALLS: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = [
    ("execute", ("SELECT 1",), {}),
    ("fetch", ("SELECT 1",), {}),
    ("fetchrow", ("SELECT 1",), {}),
    ("fetchval", ("SELECT 1",), {}),
    ("executemany", ("SELECT $1::int", [(1,)]), {}),
    ("fetchmany", ("SELECT $1::int", [(1,)]), {}),
    ("prepare", ("SELECT 1",), {}),
    ("copy_records_to_table", ("t",), {"records": [(1,)]}),
    ("copy_to_table", ("t",), {"source": b""}),
    ("copy_from_query", ("SELECT 1",), {"output": "/dev/null"}),
    ("copy_from_table", ("t",), {"output": "/dev/null"}),
    ("add_listener", ("channel", lambda *args: None), {}),
    ("set_type_codec", ("json",), {"encoder": str, "decoder": str, "schema": "pg_catalog"}),
    ("reset", (), {}),
]


async def _call(obj: Any, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    result = getattr(obj, name)(*args, **kwargs)
    if inspect.isawaitable(result):
        result = await result
    return result


@pytest.mark.parametrize("how", ["close", "terminate", "killed"])
async def test_methods_on_a_closed_connection(conn: Any, make_conn: Any, how: str) -> None:
    stmt = await conn.prepare("SELECT $1::int")
    if how == "close":
        await conn.close()
    elif how == "terminate":
        conn.terminate()
    else:
        killer = await make_conn()
        await killer.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())
        # The server's FATAL message, or the lost connection when it was read first.
        with pytest.raises((pgwire.AdminShutdownError, pgwire.ConnectionDoesNotExistError)):
            await conn.fetchval("SELECT 1")
    assert conn.is_closed()
    for name, args, kwargs in CLOSED_CALLS:
        with pytest.raises(pgwire.ConnectionDoesNotExistError, match="closed"):
            await _call(conn, name, args, kwargs)
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await stmt.fetch(1)
    with pytest.raises(pgwire.ConnectionDoesNotExistError):
        await conn.transaction().start()
    # Closing again, and what needs no server, still work.
    await conn.close()
    conn.terminate()
    assert conn.get_server_pid() > 0
    assert not conn.is_in_transaction()


async def test_released_pool_connection_refuses_use(api: Any, cluster: Any) -> None:
    pool = await api.create_pool(**cluster.connect_kwargs(), ssl="disable", min_size=1,
                                 max_size=1)
    try:
        conn = await pool.acquire()
        stmt = await conn.prepare("SELECT 1")
        await pool.release(conn)
        with pytest.raises(pgwire.InterfaceError, match="released"):
            await conn.fetchval("SELECT 1")
        with pytest.raises(pgwire.InterfaceError, match="released"):
            await stmt.fetchval()
        async with pool.acquire() as again:
            await _in_step(again)
    finally:
        await pool.close()
    with pytest.raises(pgwire.InterfaceError, match="clos"):
        await pool.acquire()


# -- one connection, many users at once -------------------------------------------------


async def test_many_callers_share_one_connection(conn: Any) -> None:
    """Tasks (asyncio) or threads (blocking API) on one connection, with
    errors mixed in: every caller gets its own answer or its own error."""
    mismatches: list[Any] = []

    async def caller(k: int) -> None:
        for i in range(60):
            if i % 13 == 5:
                with pytest.raises(pgwire.DivisionByZeroError):
                    await conn.execute("SELECT 1/0")
            elif i % 13 == 9:
                with pytest.raises(pgwire.DataError):
                    await conn.fetchval("SELECT $1::int", "bad")
            else:
                token = f"{k}-{i}"
                got = await conn.fetchval("SELECT $1::text", token)
                if got != token:
                    mismatches.append((token, got))

    # On the blocking API each call runs in a worker thread of its own
    # (conftest.py): the threads share the connection.
    await asyncio.gather(*(caller(k) for k in range(20)))
    assert mismatches == []
    await _in_step(conn)


async def test_values_python_cannot_hold(conn: Any) -> None:
    # Python's datetime is narrower than PostgreSQL's: such a value is a
    # clear error (the rest of the answer is read, the connection in step).
    for query in ("SELECT '20000-01-01'::date", "SELECT '20000-01-01'::timestamp",
                  "SELECT '24:00:00'::time"):
        with pytest.raises(pgwire.types.UnrepresentableValueError,
                           match="cannot be represented in Python"):
            await conn.fetch(f"{query} FROM generate_series(1, 3)")
        await _in_step(conn)
