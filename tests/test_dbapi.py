"""pgwire.dbapi against PEP 249, point by point, on a real server.

Module globals, connect(), every Connection and Cursor method and attribute,
type objects and constructors, the exception hierarchy, implicit
transactions (checked from a second connection), autocommit, context
managers, closed objects, two-phase commit (on a server of its own with
``max_prepared_transactions``), and the client-side placeholder converter,
on its own (with hypothesis) and for proof that values are bound by the
server, never spliced into the SQL.
"""

from __future__ import annotations

import datetime as dt
import pickle
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pgwire
from pgwire import dbapi, exceptions
from pgwire.dbapi import ConvertedQuery, convert_query
from pgwire.testing import TemporaryCluster
from pgwire.types import oids

# ---------------------------------------------------------------------------
# Fixtures


def _connect(cluster: TemporaryCluster, **kwargs: Any) -> dbapi.Connection:
    return dbapi.connect(**cluster.connect_kwargs(), ssl="disable", **kwargs)


class _Factory:
    """Opens dbapi connections to one server and remembers them, to close them all."""

    def __init__(self, server: TemporaryCluster) -> None:
        self.server = server
        self.opened: list[dbapi.Connection] = []

    def __call__(self, **kwargs: Any) -> dbapi.Connection:
        connection = _connect(self.server, **kwargs)
        self.opened.append(connection)
        return connection

    def end_transactions(self, keep: dbapi.Connection) -> None:
        """Close every connection but ``keep``, so none holds a lock on a table to drop."""
        for connection in self.opened:
            if connection is not keep:
                connection.close()

    def close_all(self) -> None:
        for connection in self.opened:
            connection.close()


@pytest.fixture
def make_dbconn(cluster: TemporaryCluster) -> Iterator[_Factory]:
    """A factory of dbapi connections to the session cluster; all closed at the end."""
    factory = _Factory(cluster)
    yield factory
    factory.close_all()


@pytest.fixture
def conn(make_dbconn: _Factory) -> dbapi.Connection:
    """A dbapi connection with autocommit off (the PEP 249 default)."""
    return make_dbconn()  # type: ignore[no-any-return]


@pytest.fixture
def observer(make_dbconn: _Factory) -> dbapi.Connection:
    """A second connection, in autocommit, to see what others have committed."""
    return make_dbconn(autocommit=True)  # type: ignore[no-any-return]


@pytest.fixture
def table(make_dbconn: _Factory, observer: dbapi.Connection) -> Iterator[str]:
    """A fresh table ``(id int PRIMARY KEY, name text)`` with a unique name."""
    name = f"dbapi_{secrets.token_hex(6)}"
    cur = observer.cursor()
    cur.execute(f"CREATE TABLE {name} (id int PRIMARY KEY, name text)")
    yield name
    make_dbconn.end_transactions(keep=observer)
    if not observer.closed:
        cur.execute(f"DROP TABLE IF EXISTS {name}")


def _ids(connection: dbapi.Connection, table: str) -> list[int]:
    cur = connection.cursor()
    cur.execute(f"SELECT id FROM {table} ORDER BY id")
    return [row[0] for row in cur.fetchall()]


# ---------------------------------------------------------------------------
# Module interface


def test_module_globals() -> None:
    assert dbapi.apilevel == "2.0"
    assert dbapi.threadsafety == 2
    assert dbapi.paramstyle == "pyformat"
    assert callable(dbapi.connect)


def test_exception_hierarchy() -> None:
    assert issubclass(dbapi.Warning, Exception)
    assert issubclass(dbapi.Error, Exception)
    assert not issubclass(dbapi.Warning, dbapi.Error)
    assert issubclass(dbapi.InterfaceError, dbapi.Error)
    assert issubclass(dbapi.DatabaseError, dbapi.Error)
    for name in ("DataError", "OperationalError", "IntegrityError", "InternalError",
                 "ProgrammingError", "NotSupportedError"):
        assert issubclass(getattr(dbapi, name), dbapi.DatabaseError), name
        # The same classes as pgwire's, so one except clause serves both APIs.
        assert getattr(dbapi, name) is getattr(exceptions, name)
    assert dbapi.Error is pgwire.Error


def test_connection_exception_attributes(conn: dbapi.Connection) -> None:
    for name in ("Warning", "Error", "InterfaceError", "DatabaseError", "DataError",
                 "OperationalError", "IntegrityError", "InternalError", "ProgrammingError",
                 "NotSupportedError"):
        assert getattr(conn, name) is getattr(dbapi, name)
        assert getattr(dbapi.Connection, name) is getattr(dbapi, name)


def test_server_errors_are_pep249_classes(conn: dbapi.Connection, table: str) -> None:
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    with pytest.raises(dbapi.IntegrityError):
        cur.execute(f"INSERT INTO {table} VALUES (1, 'b')")
    conn.rollback()
    with pytest.raises(dbapi.ProgrammingError):
        cur.execute("SELEC 1")
    conn.rollback()
    with pytest.raises(dbapi.ProgrammingError):
        cur.execute("SELECT * FROM no_such_table_here")
    conn.rollback()
    with pytest.raises(dbapi.DataError):
        cur.execute("SELECT 1 / 0")
    conn.rollback()
    with pytest.raises(dbapi.DataError):
        cur.execute("SELECT %s::int", ("not a number",))
    conn.rollback()


def test_connect_forms(cluster: TemporaryCluster) -> None:
    with dbapi.connect(cluster.dsn(), ssl="disable") as by_dsn:
        assert not by_dsn.autocommit
        assert by_dsn.cursor().execute("SELECT current_database()").fetchone() == (
            cluster.database,
        )
    with _connect(cluster, autocommit=True) as by_keywords:
        assert by_keywords.autocommit
    with pytest.raises(TypeError, match="no_such_option"):
        _connect(cluster, no_such_option=1)


# ---------------------------------------------------------------------------
# Type objects and constructors


def test_type_objects_compare_with_oids() -> None:
    assert dbapi.STRING == oids.TEXT
    assert oids.VARCHAR == dbapi.STRING
    assert dbapi.STRING != oids.INT4
    assert dbapi.NUMBER == oids.INT4 == dbapi.NUMBER
    assert dbapi.NUMBER == oids.NUMERIC
    assert dbapi.NUMBER != oids.TEXT
    assert dbapi.BINARY == oids.BYTEA
    assert dbapi.DATETIME == oids.TIMESTAMPTZ
    assert dbapi.DATETIME == oids.DATE
    assert dbapi.ROWID == oids.OID
    assert dbapi.STRING != dbapi.NUMBER
    assert dbapi.STRING == dbapi.STRING
    assert dbapi.STRING != "text"
    assert len({dbapi.STRING, dbapi.NUMBER, dbapi.BINARY, dbapi.DATETIME, dbapi.ROWID}) == 5
    assert "STRING" in repr(dbapi.STRING)


def test_type_objects_match_description(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute(
        "SELECT 'a'::text, 'b'::varchar(3), 'c'::char(2), 'd'::name,"
        " 1::int2, 2::int4, 3::int8, 1.5::float4, 2.5::float8, 3.5::numeric,"
        " '\\x00'::bytea, now(), current_date, '1:00'::time, '1 day'::interval,"
        " 1::oid, ctid FROM (VALUES (1)) v(x), pg_class LIMIT 1"
    )
    codes = [column.type_code for column in cur.description or ()]
    assert codes[0:4] == [dbapi.STRING] * 4
    assert codes[4:10] == [dbapi.NUMBER] * 6
    assert codes[10] == dbapi.BINARY
    assert codes[11:15] == [dbapi.DATETIME] * 4
    assert codes[15:17] == [dbapi.ROWID] * 2
    assert codes[0] != dbapi.NUMBER and codes[4] != dbapi.STRING


def test_constructors_round_trip(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    values = [
        (dbapi.Date(2024, 2, 29), "date"),
        (dbapi.Time(13, 14, 15, 123456), "time"),
        (dbapi.Timestamp(2024, 2, 29, 13, 14, 15, 500), "timestamp"),
        (dbapi.Binary(b"\x00\x01\xffbytes"), "bytea"),
        (dbapi.DateFromTicks(86400 * 365), "date"),
        (dbapi.TimeFromTicks(3600.5), "time"),
        (dbapi.TimestampFromTicks(1_700_000_000.25), "timestamp"),
    ]
    for value, type_name in values:
        cur.execute(f"SELECT %s::{type_name}", (value,))
        assert cur.fetchone() == (value,), type_name


def test_ticks_constructors_use_local_time() -> None:
    ticks = 1_700_000_000.5
    local = time.localtime(ticks)
    assert dbapi.DateFromTicks(ticks) == dt.date(*local[:3])
    assert dbapi.TimeFromTicks(ticks) == dt.time(*local[3:6], 500000)
    assert dbapi.TimestampFromTicks(ticks) == dt.datetime(*local[:6], 500000)
    assert dbapi.Date is dt.date and dbapi.Time is dt.time and dbapi.Timestamp is dt.datetime
    assert dbapi.Binary(b"x") == b"x"


# ---------------------------------------------------------------------------
# Transactions


def test_implicit_transaction_commit(
    conn: dbapi.Connection, observer: dbapi.Connection, table: str
) -> None:
    cur = conn.cursor()
    assert not conn.sync_connection.is_in_transaction()
    cur.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, "one"))
    # BEGIN went before the INSERT: the row is not visible elsewhere yet.
    assert conn.sync_connection.is_in_transaction()
    assert _ids(observer, table) == []
    assert _ids(conn, table) == [1]
    conn.commit()
    assert not conn.sync_connection.is_in_transaction()
    assert _ids(observer, table) == [1]
    # The next statement opens the next transaction.
    cur.execute(f"INSERT INTO {table} VALUES (2, 'two')")
    assert _ids(observer, table) == [1]
    conn.commit()
    assert _ids(observer, table) == [1, 2]


def test_even_a_select_opens_a_transaction(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert conn.sync_connection.is_in_transaction()
    conn.rollback()
    assert not conn.sync_connection.is_in_transaction()


def test_rollback(conn: dbapi.Connection, observer: dbapi.Connection, table: str) -> None:
    cur = conn.cursor()
    cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [(1, "a"), (2, "b")])
    assert _ids(conn, table) == [1, 2]
    conn.rollback()
    assert _ids(conn, table) == []
    assert _ids(observer, table) == []
    conn.rollback()  # nothing open: does nothing
    conn.commit()


def test_commit_and_rollback_without_transaction_send_nothing(
    conn: dbapi.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = conn.sync_connection
    sent: list[str] = []
    execute = server.execute

    def spy(query: str, *args: Any, **kwargs: Any) -> str:
        sent.append(query)
        return execute(query, *args, **kwargs)

    monkeypatch.setattr(server, "execute", spy)
    conn.commit()
    conn.rollback()
    assert sent == []
    conn.cursor().execute("SELECT 1")
    conn.commit()
    assert sent == ["BEGIN", "COMMIT"]


def test_autocommit(observer: dbapi.Connection, make_dbconn: _Factory, table: str) -> None:
    conn = make_dbconn(autocommit=True)
    assert conn.autocommit
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert not conn.sync_connection.is_in_transaction()
    assert _ids(observer, table) == [1]
    # An explicit BEGIN in autocommit mode is ended by commit()/rollback().
    cur.execute("BEGIN")
    cur.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    assert _ids(observer, table) == [1]
    conn.rollback()
    assert _ids(observer, table) == [1]
    cur.execute("BEGIN")
    cur.execute(f"INSERT INTO {table} VALUES (3, 'c')")
    conn.commit()
    assert _ids(observer, table) == [1, 3]
    # Statements that refuse to run in a transaction block work.
    cur.execute(f"VACUUM {table}")


def test_autocommit_switching(conn: dbapi.Connection, observer: dbapi.Connection,
                              table: str) -> None:
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    # Neither committed nor rolled back behind the caller's back.
    with pytest.raises(dbapi.ProgrammingError, match="transaction is open"):
        conn.autocommit = True
    assert not conn.autocommit
    assert conn.sync_connection.is_in_transaction()
    conn.commit()
    conn.autocommit = True
    assert conn.autocommit
    cur.execute(f"INSERT INTO {table} VALUES (2, 'b')")
    assert _ids(observer, table) == [1, 2]
    cur.execute("BEGIN")
    with pytest.raises(dbapi.ProgrammingError):
        conn.autocommit = False
    conn.rollback()
    conn.autocommit = False
    conn.autocommit = False  # unchanged: fine
    cur.execute(f"INSERT INTO {table} VALUES (3, 'c')")
    assert _ids(observer, table) == [1, 2]
    conn.rollback()


def test_commit_of_failed_transaction_raises(conn: dbapi.Connection,
                                             observer: dbapi.Connection, table: str) -> None:
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    with pytest.raises(dbapi.DataError):
        cur.execute("SELECT 1 / 0")
    with pytest.raises(dbapi.InternalError, match="rolled back") as info:
        conn.commit()
    assert isinstance(info.value, exceptions.InFailedSQLTransactionError)
    assert not conn.sync_connection.is_in_transaction()
    assert _ids(observer, table) == []
    # The connection goes on.
    assert cur.execute("SELECT 2").fetchone() == (2,)


def test_statement_after_error_needs_rollback(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    with pytest.raises(dbapi.DataError):
        cur.execute("SELECT 1 / 0")
    with pytest.raises(exceptions.InFailedSQLTransactionError):
        cur.execute("SELECT 1")
    conn.rollback()
    assert cur.execute("SELECT 1").fetchone() == (1,)


def test_connection_context_manager_commits_and_closes(
    make_dbconn: _Factory, observer: dbapi.Connection, table: str
) -> None:
    conn = make_dbconn()
    with conn as entered:
        assert entered is conn
        conn.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert conn.closed
    assert _ids(observer, table) == [1]


def test_connection_context_manager_rolls_back_on_error(
    make_dbconn: _Factory, observer: dbapi.Connection, table: str
) -> None:
    conn = make_dbconn()

    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        with conn:
            conn.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a')")
            raise Boom
    assert conn.closed
    assert _ids(observer, table) == []
    # A server error inside the block propagates as it is.
    conn = make_dbconn()
    with pytest.raises(dbapi.IntegrityError):
        with conn:
            cur = conn.cursor()
            cur.execute(f"INSERT INTO {table} VALUES (2, 'a')")
            cur.execute(f"INSERT INTO {table} VALUES (2, 'a')")
    assert conn.closed
    assert _ids(observer, table) == []


def test_close_rolls_back(make_dbconn: _Factory, observer: dbapi.Connection, table: str) -> None:
    conn = make_dbconn()
    conn.cursor().execute(f"INSERT INTO {table} VALUES (1, 'a')")
    conn.close()
    assert _ids(observer, table) == []


def test_closed_connection_raises_interface_error(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert not conn.closed
    conn.close()
    assert conn.closed
    conn.close()  # a second close does nothing
    for call in (conn.cursor, conn.commit, conn.rollback, conn.tpc_recover,
                 lambda: conn.tpc_begin(conn.xid(1, "a", "b")),
                 lambda: setattr(conn, "autocommit", True),
                 lambda: cur.execute("SELECT 1"), cur.fetchone, cur.fetchall,
                 lambda: cur.executemany("SELECT %s::int", [(1,)]), cur.nextset,
                 lambda: conn.__enter__()):
        with pytest.raises(dbapi.InterfaceError, match="closed"):
            call()
    assert cur.closed
    assert "closed" in repr(conn)


def test_lost_connection_reads_as_closed(conn: dbapi.Connection, observer: dbapi.Connection
                                         ) -> None:
    cur = conn.cursor()
    pid = cur.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    observer.cursor().execute("SELECT pg_terminate_backend(%s::int)", (pid,))
    with pytest.raises(dbapi.OperationalError):
        for _ in range(50):  # the server's FATAL may take a moment to arrive
            cur.execute("SELECT 1")
            time.sleep(0.05)
    assert conn.closed
    with pytest.raises(dbapi.InterfaceError):
        cur.execute("SELECT 1")


def test_threads_share_a_connection(make_dbconn: _Factory) -> None:
    conn = make_dbconn(autocommit=True)
    errors: list[BaseException] = []

    def work(base: int) -> None:
        try:
            cur = conn.cursor()  # cursors are per thread (threadsafety 2)
            for i in range(20):
                cur.execute("SELECT %s::int + 1, %s::text", (base + i, str(base + i)))
                assert cur.fetchall() == [(base + i + 1, str(base + i))]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n * 1000,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


# ---------------------------------------------------------------------------
# Cursor


def test_cursor_attributes_before_execute(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    assert cur.connection is conn
    assert cur.description is None
    assert cur.rowcount == -1
    assert cur.arraysize == 1
    assert cur.lastrowid is None
    assert cur.rownumber is None
    assert cur.statusmessage is None
    assert cur.query is None
    assert not cur.closed
    with pytest.raises(dbapi.ProgrammingError, match="no query"):
        cur.fetchone()
    assert cur.nextset() is None


def test_execute_returns_cursor_and_fetchone(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    assert cur.execute("SELECT generate_series(1, 3) AS n, 'x' AS s") is cur
    assert cur.rownumber == 0
    assert cur.fetchone() == (1, "x")
    assert cur.rownumber == 1
    row = cur.fetchone()
    assert type(row) is tuple and row == (2, "x")
    assert cur.fetchone() == (3, "x")
    assert cur.fetchone() is None
    assert cur.fetchone() is None
    assert cur.statusmessage == "SELECT 3"


def test_fetchmany_sizes(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT generate_series(1, 10)")
    assert cur.fetchmany() == [(1,)]  # arraysize, 1 by default
    cur.arraysize = 3
    assert cur.fetchmany() == [(2,), (3,), (4,)]
    assert cur.fetchmany(2) == [(5,), (6,)]
    assert cur.fetchmany(size=0) == []
    assert cur.fetchmany(10) == [(7,), (8,), (9,), (10,)]
    assert cur.fetchmany(10) == []
    assert cur.fetchmany() == []
    with pytest.raises(dbapi.ProgrammingError):
        cur.fetchmany(-1)


def test_fetchall(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT generate_series(1, 5)")
    assert cur.fetchone() == (1,)
    assert cur.fetchall() == [(2,), (3,), (4,), (5,)]
    assert cur.fetchall() == []
    cur.execute("SELECT 1 WHERE false")
    assert cur.fetchall() == []
    assert cur.rowcount == 0
    assert cur.description is not None


def test_iteration_and_scroll(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT generate_series(1, 4)")
    assert iter(cur) is cur
    assert next(cur) == (1,)
    assert list(cur) == [(2,), (3,), (4,)]
    cur.scroll(-2)
    assert cur.fetchone() == (3,)
    cur.scroll(0, mode="absolute")
    assert cur.fetchall() == [(1,), (2,), (3,), (4,)]
    with pytest.raises(IndexError):
        cur.scroll(1)
    with pytest.raises(IndexError):
        cur.scroll(-1, mode="absolute")
    with pytest.raises(dbapi.ProgrammingError):
        cur.scroll(0, mode="sideways")


def test_fetch_without_result_raises(conn: dbapi.Connection, table: str) -> None:
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert cur.description is None
    for fetch in (cur.fetchone, cur.fetchall, cur.fetchmany):
        with pytest.raises(dbapi.ProgrammingError, match="no rows"):
            fetch()
    assert cur.rownumber is None
    conn.rollback()


def test_rowcount(conn: dbapi.Connection, table: str) -> None:
    cur = conn.cursor()
    cur.execute(f"INSERT INTO {table} VALUES (1, 'a')")
    assert cur.rowcount == 1
    cur.execute(f"INSERT INTO {table} SELECT g, 'g' FROM generate_series(2, 6) g")
    assert cur.rowcount == 5
    cur.execute(f"UPDATE {table} SET name = 'u' WHERE id > %s", (3,))
    assert cur.rowcount == 3
    cur.execute(f"UPDATE {table} SET name = 'u' WHERE id > 100")
    assert cur.rowcount == 0
    cur.execute(f"SELECT * FROM {table}")
    assert cur.rowcount == 6
    cur.execute(f"DELETE FROM {table} WHERE id <= %(max)s", {"max": 2})
    assert cur.rowcount == 2
    cur.execute("SHOW server_version")  # a result without a count in its tag
    assert cur.rowcount == 1
    cur.execute(f"CREATE TEMP TABLE t_{secrets.token_hex(4)} (a int)")
    assert cur.rowcount == -1
    cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [(10, "x"), (11, "y"), (12, "z")])
    assert cur.rowcount == 3
    cur.executemany(f"UPDATE {table} SET name = %s WHERE id >= %s", [("a", 11), ("b", 100),
                                                                     ("c", 3)])
    assert cur.rowcount == 2 + 0 + 7
    cur.executemany(f"DELETE FROM {table} WHERE id = %(id)s", [{"id": 3}, {"id": 4}])
    assert cur.rowcount == 2
    cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [])
    assert cur.rowcount == 0
    assert cur.description is None
    conn.rollback()


def test_executemany(conn: dbapi.Connection, table: str) -> None:
    cur = conn.cursor()
    cur.executemany(
        f"INSERT INTO {table} VALUES (%(id)s, %(name)s)",
        ({"id": i, "name": f"n{i}"} for i in range(100)),  # any iterable
    )
    assert cur.rowcount == 100
    cur.execute(f"SELECT count(*), min(name), max(id) FROM {table}")
    assert cur.fetchone() == (100, "n0", 99)
    # One bad parameter set: nothing of the batch is sent.
    with pytest.raises(dbapi.ProgrammingError, match="2 placeholders but 1"):
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [(200, "a"), (201,)])
    assert cur.execute(f"SELECT count(*) FROM {table}").fetchone() == (100,)
    # A failing row fails the batch.
    with pytest.raises(dbapi.IntegrityError):
        cur.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [(300, "a"), (300, "b")])
    conn.rollback()


def test_description_types(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute(
        "SELECT 1::int2 AS i2, 2::int4 AS i4, 3::int8 AS i8, 1.5::float8 AS f8,"
        " 1.25::numeric(7,2) AS n72, 3::numeric(5) AS n5, 1::numeric AS n,"
        " 'x'::text AS t, 'v'::varchar(20) AS v, true AS b, '\\x01'::bytea AS by,"
        " '2024-01-02'::date AS d, now() AS ts, gen_random_uuid() AS u,"
        " '{}'::jsonb AS j, ARRAY[1, 2] AS a"
    )
    description = cur.description
    assert description is not None
    assert all(len(column) == 7 for column in description)
    by_name = {column.name: column for column in description}
    assert [column[0] for column in description] == list(by_name)
    expected_types = {
        "i2": oids.INT2, "i4": oids.INT4, "i8": oids.INT8, "f8": oids.FLOAT8,
        "n72": oids.NUMERIC, "n5": oids.NUMERIC, "n": oids.NUMERIC, "t": oids.TEXT,
        "v": oids.VARCHAR, "b": oids.BOOL, "by": oids.BYTEA, "d": oids.DATE,
        "ts": oids.TIMESTAMPTZ, "u": oids.UUID, "j": oids.JSONB, "a": oids.INT4_ARRAY,
    }
    assert {name: column.type_code for name, column in by_name.items()} == expected_types
    assert by_name["i2"].internal_size == 2
    assert by_name["i8"].internal_size == 8
    assert by_name["u"].internal_size == 16
    assert by_name["t"].internal_size is None  # variable length
    assert (by_name["n72"].precision, by_name["n72"].scale) == (7, 2)
    assert (by_name["n5"].precision, by_name["n5"].scale) == (5, 0)
    assert (by_name["n"].precision, by_name["n"].scale) == (None, None)
    assert by_name["i4"].precision is None
    for column in description:
        assert column.display_size is None and column.null_ok is None
        assert column[1] == column.type_code
    row = cur.fetchone()
    assert row is not None
    assert row[4] == Decimal("1.25") and row[9] is True and row[10] == b"\x01"
    assert isinstance(row[13], uuid.UUID) and row[15] == [1, 2]


def test_description_negative_numeric_scale(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    if conn.sync_connection.get_server_version().major < 15:
        pytest.skip("negative numeric scales need PostgreSQL 15")
    cur.execute("SELECT 1234::numeric(3, -2)")
    (column,) = cur.description or ()
    assert (column.precision, column.scale) == (3, -2)


def test_description_of_a_table(conn: dbapi.Connection, table: str) -> None:
    cur = conn.cursor()
    cur.execute(f"SELECT * FROM {table}")
    assert [(c.name, c.type_code) for c in cur.description or ()] == [
        ("id", oids.INT4), ("name", oids.TEXT)
    ]
    # Run again (a cached statement): the description is the same.
    cur.execute(f"SELECT * FROM {table}")
    assert [c.name for c in cur.description or ()] == ["id", "name"]


def test_description_with_unnamed_statements(make_dbconn: _Factory) -> None:
    conn = make_dbconn(statement_cache_size=0)
    cur = conn.cursor()
    for _ in range(2):
        cur.execute("SELECT %s::int AS a, 'x' AS b", (1,))
        assert [c.name for c in cur.description or ()] == ["a", "b"]
        assert cur.fetchall() == [(1, "x")]


def test_ddl_changing_a_result_inside_a_transaction(make_dbconn: _Factory) -> None:
    # Without a statement cache each run is parsed anew: DDL is harmless.
    conn = make_dbconn(statement_cache_size=0)
    cur = conn.cursor()
    name = f"dbapi_{secrets.token_hex(6)}"
    cur.execute(f"CREATE TABLE {name} (a int)")
    cur.execute(f"INSERT INTO {name} VALUES (1)")
    assert cur.execute(f"SELECT * FROM {name}").fetchall() == [(1,)]
    cur.execute(f"ALTER TABLE {name} ADD COLUMN b text DEFAULT 'x'")
    assert cur.execute(f"SELECT * FROM {name}").fetchall() == [(1, "x")]
    assert [c.name for c in cur.description or ()] == ["a", "b"]
    conn.rollback()


def test_ddl_changing_a_cached_result_inside_a_transaction(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    name = f"dbapi_{secrets.token_hex(6)}"
    try:
        cur.execute(f"CREATE TABLE {name} (a int)")
        cur.execute(f"SELECT * FROM {name}")
        cur.execute(f"ALTER TABLE {name} ADD COLUMN b text")
        cur.execute(f"SELECT * FROM {name}")
        assert [c.name for c in cur.description or ()] == ["a", "b"]
    finally:
        conn.rollback()


def test_callproc(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    name = f"dbapi_fn_{secrets.token_hex(4)}"
    cur.execute(
        f"CREATE FUNCTION {name}(a int, b text, OUT doubled int, OUT label text)"
        " LANGUAGE sql AS $$ SELECT a * 2, b || '!' $$"
    )
    params = (21, "hi")
    assert cur.callproc(name, params) is params
    assert [c.name for c in cur.description or ()] == ["doubled", "label"]
    assert cur.fetchall() == [(42, "hi!")]
    assert cur.rowcount == 1
    named = {"b": "named", "a": 5}
    assert cur.callproc(name, named) is named
    assert cur.fetchone() == (10, "named!")
    cur.callproc("pg_backend_pid")
    assert cur.fetchone() == (conn.sync_connection.get_server_pid(),)
    conn.rollback()


def test_nextset(conn: dbapi.Connection, table: str) -> None:
    cur = conn.cursor()
    cur.execute("SELECT 1")
    assert cur.nextset() is None
    assert cur.fetchall() == [(1,)]  # left as it was
    cur.execute(
        f"SELECT 1 AS a, 'x'::text AS b; INSERT INTO {table} VALUES (1, 'a'), (2, 'b');"
        " SELECT generate_series(1, 3) AS g, now()::date AS d"
    )
    assert [c.name for c in cur.description or ()] == ["a", "b"]
    assert cur.rowcount == 1
    assert cur.fetchall() == [(1, "x")]
    assert cur.nextset() is True
    assert cur.description is None
    assert cur.rowcount == 2
    assert cur.statusmessage == "INSERT 0 2"
    assert cur.nextset() is True
    assert cur.description is not None and cur.description[1].type_code == oids.DATE
    assert cur.fetchone() is not None  # decoded from text: an int and a date
    assert cur.fetchall()[-1][0] == 3
    assert cur.nextset() is None
    assert _ids(conn, table) == [1, 2]
    conn.rollback()


def test_multi_statement_values_are_decoded(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT 1; SELECT 42::int8, 1.5::numeric, true, NULL::text, 'a b'::text,"
                " '2024-01-02 03:04:05'::timestamp, '\\xff'::bytea")
    assert cur.nextset()
    assert cur.fetchall() == [(42, Decimal("1.5"), True, None, "a b",
                               dt.datetime(2024, 1, 2, 3, 4, 5), b"\xff")]


def test_setinputsizes_setoutputsize(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.setinputsizes([int, str])
    cur.setoutputsize(100)
    cur.setoutputsize(100, 0)
    assert cur.execute("SELECT %s::int, %s::text", (1, "a")).fetchone() == (1, "a")


def test_cursor_close_and_context_manager(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT 1")
    cur.close()
    assert cur.closed
    cur.close()  # twice: nothing
    for call in (lambda: cur.execute("SELECT 1"), cur.fetchone, cur.fetchall, cur.fetchmany,
                 lambda: cur.executemany("SELECT 1", []), lambda: cur.callproc("now"),
                 cur.nextset, lambda: cur.scroll(0), lambda: next(cur), cur.__enter__):
        with pytest.raises(dbapi.InterfaceError, match="closed"):
            call()
    with conn.cursor() as cur2:
        assert cur2.execute("SELECT 2").fetchone() == (2,)
    assert cur2.closed
    assert not conn.closed  # closing a cursor leaves its connection alone
    assert "closed" in repr(cur2)


def test_failed_execute_clears_results(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT 1")
    with pytest.raises(dbapi.ProgrammingError):
        cur.execute("SELECT %s", (1, 2))
    assert cur.description is None and cur.rowcount == -1
    cur.execute("SELECT 1")
    with pytest.raises(dbapi.DataError):
        cur.execute("SELECT 1 / 0")
    assert cur.description is None and cur.rowcount == -1
    conn.rollback()


def test_query_and_statusmessage(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT %(a)s::int + %(b)s::int + %(a)s::int", {"a": 1, "b": 2})
    assert cur.query == "SELECT $1::int + $2::int + $1::int"
    assert cur.fetchone() == (4,)
    assert cur.statusmessage == "SELECT 1"
    cur.execute("SELECT 1")
    assert cur.query == "SELECT 1"


def test_operation_must_be_str(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    with pytest.raises(dbapi.ProgrammingError, match="str"):
        cur.execute(b"SELECT 1")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------
# Parameters, bound on the server


def test_injection_attempt_is_stored_verbatim(conn: dbapi.Connection, table: str) -> None:
    cur = conn.cursor()
    nasty = f"'); DROP TABLE {table}; --"
    cur.execute(f"INSERT INTO {table} VALUES (%s, %s)", (1, nasty))
    cur.execute(f"INSERT INTO {table} VALUES (%(id)s, %(name)s)", {"id": 2, "name": "'; --"})
    cur.execute(f"SELECT name FROM {table} ORDER BY id")
    assert cur.fetchall() == [(nasty,), ("'; --",)]
    assert cur.query == f"SELECT name FROM {table} ORDER BY id"
    conn.commit()


def test_placeholder_text_inside_values_is_verbatim(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    for value in ("%s", "%(name)s", "%%", "100%", "$1", "'%s'", "\\'", "--", "/*"):
        cur.execute("SELECT %s::text", (value,))
        assert cur.fetchone() == (value,)
        cur.execute("SELECT %(v)s::text, %(v)s::text", {"v": value})
        assert cur.fetchone() == (value, value)


def test_null_and_typed_parameters(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT %s::int IS NULL, %s::text", (None, "x"))
    assert cur.fetchone() == (True, "x")
    cur.execute("SELECT %s::int + 1, %s::numeric * 2, %s::bool, %s::bytea, %s::jsonb",
                (41, Decimal("1.5"), False, b"\x00", {"a": [1]}))
    assert cur.fetchone() == (42, Decimal("3.0"), False, b"\x00", {"a": [1]})


def test_percent_handling(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    # No parameters: the query goes as it is.
    assert cur.execute("SELECT 7 % 3, '100%%'").fetchone() == (1, "100%%")
    # With parameters (even none), %% is %.
    assert cur.execute("SELECT 7 %% 3, %s::text", ("x",)).fetchone() == (1, "x")
    assert cur.execute("SELECT '100%%'", ()).fetchone() == ("100%",)
    assert cur.execute("SELECT '100%%', %s::int", (1,)).fetchone() == ("100%", 1)
    # A lone % or %s in a literal is no placeholder.
    assert cur.execute("SELECT '50%', '%s', %s::int", (2,)).fetchone() == ("50%", "%s", 2)
    assert cur.execute("SELECT 'x' LIKE '%%', %(a)s::int", {"a": 3}).fetchone() == (True, 3)
    assert cur.execute("SELECT $$%s$$ /* %s */, %s::int -- %s\n", (4,)).fetchone() == ("%s", 4)
    with pytest.raises(dbapi.ProgrammingError, match="unsupported placeholder"):
        cur.execute("SELECT 7 % 3, %s::int", (1,))


def test_named_parameters(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SELECT %(x)s::int * %(x)s::int + %(y)s::int", {"x": 3, "y": 1, "unused": 0})
    assert cur.fetchone() == (10,)
    cur.execute("SELECT 1", {"unused": 0})  # no placeholder, a mapping: fine
    assert cur.fetchone() == (1,)


@pytest.mark.parametrize(
    ("query", "params", "message"),
    [
        ("SELECT %s::int, %s::int", (1,), "2 placeholders but 1 parameter was given"),
        ("SELECT %s::int", (1, 2), "1 placeholder but 2 parameters were given"),
        ("SELECT 1", (1,), "0 placeholders but 1 parameter was given"),
        ("SELECT %(a)s::int, %(b)s::int", {"a": 1}, "'b' is missing"),
        ("SELECT %s::int, %(a)s::int", (1,), "mixes"),
        ("SELECT %(a)s::int, %s::int", {"a": 1}, "mixes"),
        ("SELECT %s::int", {"a": 1}, "take a sequence"),
        ("SELECT %(a)s::int", (1,), "take a mapping"),
        ("SELECT %s::text", "abc", "must be a sequence"),
        ("SELECT %s::int", 5, "must be a sequence"),
        ("SELECT %d", (1,), "unsupported placeholder '%d'"),
        ("SELECT %(a)d", {"a": 1}, r"unsupported placeholder '%\(a\)d'"),
        ("SELECT %(a", {"a": 1}, "unterminated"),
        ("SELECT 1 %", (), "ends with %"),
        ("SELECT $1::int", (1,), r"contains \$1"),
    ],
)
def test_parameter_errors(conn: dbapi.Connection, query: str, params: Any, message: str) -> None:
    cur = conn.cursor()
    with pytest.raises(dbapi.ProgrammingError, match=message):
        cur.execute(query, params)
    # Nothing reached the server: no transaction was opened.
    assert not conn.sync_connection.is_in_transaction()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.text(alphabet=st.characters(blacklist_characters="\x00", codec="utf-8")))
def test_any_text_round_trips(conn: dbapi.Connection, value: str) -> None:
    cur = conn.cursor()
    cur.execute("SELECT %s::text, length(%s::text)", (value, value))
    assert cur.fetchone() == (value, len(value))


# ---------------------------------------------------------------------------
# The placeholder converter on its own


def test_convert_positional_and_named() -> None:
    assert convert_query("SELECT %s, %s") == ConvertedQuery("SELECT $1, $2", None, 2)
    assert convert_query("SELECT %(a)s, %(b)s, %(a)s") == ConvertedQuery(
        "SELECT $1, $2, $1", ("a", "b"), 2
    )
    assert convert_query("SELECT 1") == ConvertedQuery("SELECT 1", (), 0)
    assert convert_query("SELECT %(weird name!)s").names == ("weird name!",)
    assert convert_query("SELECT %()s").names == ("",)
    assert convert_query("x%%s%s") == ConvertedQuery("x%s$1", None, 1)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("SELECT '%s', %s", "SELECT '%s', $1"),
        ("SELECT 'it''s %s', %s", "SELECT 'it''s %s', $1"),
        ("SELECT E'it\\'s %s', %s", "SELECT E'it\\'s %s', $1"),
        ("SELECT e'\\\\', %s", "SELECT e'\\\\', $1"),
        ("SELECT E'a''%s', %s", "SELECT E'a''%s', $1"),
        ("SELECT '\\', %s", "SELECT '\\', $1"),  # standard strings: \ is no escape
        ("SELECT \"col%s\", %s", "SELECT \"col%s\", $1"),
        ('SELECT "a""%s", %s', 'SELECT "a""%s", $1'),
        ("SELECT U&'%s', %s", "SELECT U&'%s', $1"),
        ("SELECT $$%s$$, %s", "SELECT $$%s$$, $1"),
        ("SELECT $fn$ $$ %s ' $fn$, %s", "SELECT $fn$ $$ %s ' $fn$, $1"),
        ("SELECT $a$%s$b$%s$a$, %s", "SELECT $a$%s$b$%s$a$, $1"),
        ("SELECT a$b$c, %s", "SELECT a$b$c, $1"),  # $ inside an identifier
        ("SELECT 1 -- %s '\n, %s", "SELECT 1 -- %s '\n, $1"),
        ("SELECT /* %s /* %s */ ' %s */ %s", "SELECT /* %s /* %s */ ' %s */ $1"),
        ("SELECT int4'%s', %s", "SELECT int4'%s', $1"),
        ("SELECT typee'\\', %s", "SELECT typee'\\', $1"),  # not an E-string
        ("SELECT '100%%', %s", "SELECT '100%', $1"),
        ("SELECT /* 100%% */ %s", "SELECT /* 100% */ $1"),
        ("SELECT %s -- unterminated '", "SELECT $1 -- unterminated '"),
        ("SELECT %s, 'unterminated %s", "SELECT $1, 'unterminated %s"),
        ("SELECT %s, $$unterminated %s", "SELECT $1, $$unterminated %s"),
        ("SELECT %s, /* unterminated %s", "SELECT $1, /* unterminated %s"),
        ("SELECT x$1, %s", "SELECT x$1, $1"),
        ("SELECT '$1', %s", "SELECT '$1', $1"),
        ("SELECT 1; SELECT %s", "SELECT 1; SELECT $1"),
    ],
)
def test_convert_skips_literals_and_comments(query: str, expected: str) -> None:
    assert convert_query(query).sql == expected


def test_convert_without_standard_conforming_strings() -> None:
    query = "SELECT 'it\\'s %s', %s"
    assert convert_query(query, False).sql == "SELECT 'it\\'s %s', $1"
    # With standard strings the backslash is ordinary: the literal ends early.
    assert convert_query(query, True).sql == "SELECT 'it\\'s $1', %s"


def test_convert_follows_the_server_setting(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    cur.execute("SET standard_conforming_strings = off")
    cur.execute("SELECT 'a\\'%s', %s::int", (1,))
    assert cur.fetchone() == ("a'%s", 1)
    conn.rollback()


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT %s, %(a)s", "mixes"),
        ("SELECT %(a)s, %s", "mixes"),
        ("SELECT %x", "unsupported placeholder '%x'"),
        ("SELECT % s", "unsupported placeholder '% '"),
        ("SELECT %(a)", "unsupported placeholder"),
        ("SELECT %(a", "unterminated"),
        ("SELECT %", "ends with %"),
        ("SELECT $1", r"contains \$1"),
        ("SELECT ($12)", r"contains \$12:"),
    ],
)
def test_convert_errors(query: str, message: str) -> None:
    with pytest.raises(dbapi.ProgrammingError, match=message):
        convert_query(query)


def test_convert_is_cached() -> None:
    query = f"SELECT %s /* {secrets.token_hex(8)} */"
    before = convert_query.cache_info().hits
    first = convert_query(query)
    assert convert_query(query) is first
    assert convert_query.cache_info().hits == before + 1


def test_bind() -> None:
    named = convert_query("%(a)s %(b)s %(a)s")
    assert named.bind({"b": 2, "a": 1, "c": 3}) == (1, 2)
    positional = convert_query("%s %s")
    assert positional.bind([1, 2]) == (1, 2)
    assert positional.bind((None, None)) == (None, None)
    assert convert_query("x").bind({}) == ()
    assert convert_query("x").bind([]) == ()


# Segments of SQL, each with what the converter must make of it; a
# placeholder is a callable filled in with its number.
_plain = st.text(alphabet="abc xyz,()=+*<>\n\t01", max_size=8).map(
    lambda s: (s, s)  # no quote, %, $, ;, - or / in plain code
)
_inside = st.text(alphabet="ab %s()$'\"\\-*/;\n", max_size=10)


def _same(s: str) -> tuple[str, str]:
    return (s, s.replace("%%", "%"))


_literals = st.one_of(
    _inside.map(lambda s: "'" + s.replace("'", "''") + "'").map(_same),
    _inside.map(lambda s: "E'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'").map(_same),
    _inside.map(lambda s: '"' + s.replace('"', '""') + '"').map(_same),
    _inside.filter(lambda s: "$q$" not in s and not s.endswith("$q")).map(
        lambda s: " $q$" + s + "$q$ "
    ).map(_same),
    _inside.filter(lambda s: "$" not in s).map(lambda s: " $$" + s + "$$ ").map(_same),
    _inside.map(lambda s: "--" + s.replace("\n", " ") + "\n").map(_same),
    _inside.filter(lambda s: "*/" not in s and "/*" not in s and not s.endswith("/")
                   and not s.endswith("*")).map(lambda s: "/*" + s + "*/").map(_same),
    st.just(("%%", "%")),
)


@settings(max_examples=200, deadline=None)
@given(
    segments=st.lists(st.one_of(_plain, _literals, st.just(("%s", None))), max_size=12),
)
def test_convert_positional_property(segments: list[tuple[str, str | None]]) -> None:
    query_parts: list[str] = []
    expected_parts: list[str] = []
    count = 0
    for text, expected in segments:
        query_parts.append(text)
        if expected is None:
            count += 1
            expected_parts.append(f"${count}")
        else:
            expected_parts.append(expected)
    query = " ".join(query_parts)
    converted = convert_query(query)
    assert converted.sql == " ".join(expected_parts)
    assert converted.param_count == count
    assert (converted.names is None) == (count > 0)


@settings(max_examples=200, deadline=None)
@given(
    segments=st.lists(
        st.one_of(_plain, _literals, st.sampled_from(["a", "b", "c_1", "Ü"]).map(
            lambda name: (f"%({name})s", name))),
        max_size=12,
    ),
)
def test_convert_named_property(segments: list[tuple[str, str]]) -> None:
    query_parts: list[str] = []
    expected_parts: list[str] = []
    names: list[str] = []
    for text, extra in segments:
        query_parts.append(text)
        if text.startswith("%("):
            if extra not in names:
                names.append(extra)
            expected_parts.append(f"${names.index(extra) + 1}")
        else:
            expected_parts.append(extra)
    converted = convert_query(" ".join(query_parts))
    assert converted.sql == " ".join(expected_parts)
    assert converted.names == tuple(names)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_convert_never_crashes(query: str) -> None:
    try:
        converted = convert_query(query)
    except dbapi.ProgrammingError:
        return
    assert converted.sql.count("$") >= converted.param_count


@pytest.mark.parametrize(
    ("query", "is_script"),
    [
        ("SELECT 1", False),
        ("SELECT 1;", False),
        ("SELECT 1; ; -- done\n /* really */ ", False),
        ("SELECT ';'; ", False),
        ("SELECT $$;$$", False),
        ("SELECT 1 -- ; SELECT 2", False),
        ("SELECT 1; SELECT 2", True),
        ("SELECT 1;SELECT 2;", True),
        ("SELECT 1; /* x */ SELECT 2", True),
        ('SELECT ";"; SELECT 2', True),
        ("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;", False),
    ],
)
def test_script_detection(query: str, is_script: bool) -> None:
    assert dbapi._is_script(query) is is_script


def test_semicolon_inside_a_function_body(conn: dbapi.Connection) -> None:
    cur = conn.cursor()
    name = f"dbapi_fn_{secrets.token_hex(4)}"
    cur.execute(
        f"CREATE FUNCTION {name}() RETURNS int LANGUAGE plpgsql AS $$"
        " BEGIN PERFORM 1; RETURN 7; END $$;"
    )
    assert cur.execute(f"SELECT {name}()").fetchone() == (7,)
    conn.rollback()


# ---------------------------------------------------------------------------
# Two-phase commit


@pytest.fixture(scope="module")
def tpc_cluster(cluster: TemporaryCluster) -> Iterator[TemporaryCluster]:
    """A server that allows prepared transactions (the session's does not).

    It depends on ``cluster`` only so that a missing server is reported
    (and skipped) the same way.
    """
    server = TemporaryCluster(ssl=False, extra_config={"max_prepared_transactions": 10})
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def tpc(tpc_cluster: TemporaryCluster) -> Iterator[Any]:
    """``(connect, table)`` on the 2PC server; prepared leftovers are rolled back."""
    connect = _Factory(tpc_cluster)
    admin = connect(autocommit=True)
    name = f"tpc_{secrets.token_hex(6)}"
    admin.cursor().execute(f"CREATE TABLE {name} (id int PRIMARY KEY)")
    yield connect, name
    connect.end_transactions(keep=admin)
    for xid in admin.tpc_recover():
        admin.tpc_rollback(xid)
    admin.cursor().execute(f"DROP TABLE {name}")
    connect.close_all()


def test_xid() -> None:
    conn = dbapi.Connection.__new__(dbapi.Connection)  # xid() needs no server
    xid = conn.xid(42, "global", "branch")
    assert (xid.format_id, xid.gtrid, xid.bqual) == (42, "global", "branch")
    assert xid.prepared is None and xid.owner is None and xid.database is None
    assert xid == (42, "global", "branch")
    assert tuple(xid) == (42, "global", "branch")
    assert len(xid) == 3 and xid[1] == "global"
    assert pickle.loads(pickle.dumps(xid)) == xid
    assert repr(xid) == "Xid(42, 'global', 'branch')"
    for bad in ((-1, "a", "b"), (2**31, "a", "b"), ("1", "a", "b"), (1, "a" * 65, "b"),
                (1, "a", 5), (1, "\U0001f600" * 64, "\U0001f600" * 64)):
        with pytest.raises(dbapi.ProgrammingError):
            conn.xid(*bad)  # type: ignore[arg-type]


def test_tpc_commit_cycle(tpc: Any) -> None:
    connect, table = tpc
    conn = connect()
    observer = connect(autocommit=True)
    xid = conn.xid(7, "order 'one'/:%", "branch\\1")
    conn.tpc_begin(xid)
    conn.cursor().execute(f"INSERT INTO {table} VALUES (1)")
    assert _ids(observer, table) == []
    conn.tpc_prepare()
    # Prepared: detached from the session, still invisible.
    assert not conn.sync_connection.is_in_transaction()
    assert _ids(observer, table) == []
    (recovered,) = observer.tpc_recover()
    assert recovered == xid
    assert recovered.prepared is not None and recovered.owner == "postgres"
    assert recovered.database == "pgwire_test"
    conn.tpc_commit()
    assert _ids(observer, table) == [1]
    assert observer.tpc_recover() == []
    # The connection is back to ordinary transactions.
    conn.cursor().execute(f"INSERT INTO {table} VALUES (2)")
    conn.commit()
    assert _ids(observer, table) == [1, 2]


def test_tpc_rollback_after_prepare(tpc: Any) -> None:
    connect, table = tpc
    conn = connect()
    observer = connect(autocommit=True)
    conn.tpc_begin(conn.xid(1, "to roll back", ""))
    conn.cursor().execute(f"INSERT INTO {table} VALUES (1)")
    conn.tpc_prepare()
    assert len(observer.tpc_recover()) == 1
    conn.tpc_rollback()
    assert observer.tpc_recover() == []
    assert _ids(observer, table) == []


def test_tpc_one_phase(tpc: Any) -> None:
    connect, table = tpc
    conn = connect()
    observer = connect(autocommit=True)
    conn.tpc_begin(conn.xid(1, "one phase", "b"))
    conn.cursor().execute(f"INSERT INTO {table} VALUES (1)")
    conn.tpc_commit()  # not prepared: a plain COMMIT
    assert _ids(observer, table) == [1]
    conn.tpc_begin(conn.xid(1, "one phase", "c"))
    conn.cursor().execute(f"INSERT INTO {table} VALUES (2)")
    conn.tpc_rollback()
    assert _ids(observer, table) == [1]
    assert observer.tpc_recover() == []


def test_tpc_recover_and_commit_from_another_connection(tpc: Any) -> None:
    connect, table = tpc
    xids = []
    for n in range(2):
        first = connect()
        xid = first.xid(3, "recover me", f"b{n}")
        first.tpc_begin(xid)
        first.cursor().execute(f"INSERT INTO {table} VALUES (%s)", (n,))
        first.tpc_prepare()
        first.close()  # prepared transactions outlive their session
        xids.append(xid)

    second = connect()
    recovered = second.tpc_recover()
    assert sorted(recovered) == sorted(xids)
    assert not second.sync_connection.is_in_transaction()  # no implicit BEGIN for this
    second.tpc_commit(recovered[recovered.index(xids[0])])
    second.tpc_rollback(xids[1])
    assert second.tpc_recover() == []
    assert _ids(second, table) == [0]
    second.rollback()
    with pytest.raises(dbapi.ProgrammingError):
        second.tpc_commit(xids[0])  # no longer exists


def test_tpc_foreign_transaction_ids(tpc: Any) -> None:
    connect, table = tpc
    conn = connect(autocommit=True)
    cur = conn.cursor()
    cur.execute("BEGIN")
    cur.execute(f"INSERT INTO {table} VALUES (1)")
    cur.execute("PREPARE TRANSACTION 'someone else''s: id'")
    (xid,) = conn.tpc_recover()
    assert xid == (None, "someone else's: id", None)
    conn.tpc_commit(xid)
    assert _ids(conn, table) == [1]


def test_tpc_misuse(tpc: Any) -> None:
    connect, table = tpc
    conn = connect()
    xid = conn.xid(1, "misuse", "b")
    with pytest.raises(dbapi.ProgrammingError):
        conn.tpc_prepare()
    with pytest.raises(dbapi.ProgrammingError):
        conn.tpc_commit()
    with pytest.raises(dbapi.ProgrammingError):
        conn.tpc_rollback()
    conn.cursor().execute("SELECT 1")
    with pytest.raises(dbapi.ProgrammingError, match="outside a transaction"):
        conn.tpc_begin(xid)
    conn.rollback()
    conn.tpc_begin(xid)
    with pytest.raises(dbapi.ProgrammingError):
        conn.tpc_begin(xid)
    with pytest.raises(dbapi.ProgrammingError, match="tpc_commit"):
        conn.commit()
    with pytest.raises(dbapi.ProgrammingError, match="tpc_rollback"):
        conn.rollback()
    with pytest.raises(dbapi.ProgrammingError):
        conn.autocommit = True
    with pytest.raises(dbapi.ProgrammingError, match="outside a transaction"):
        conn.tpc_commit(xid)
    conn.cursor().execute(f"INSERT INTO {table} VALUES (1)")
    conn.tpc_prepare()
    with pytest.raises(dbapi.ProgrammingError):
        conn.tpc_prepare()
    with pytest.raises(dbapi.ProgrammingError, match="tpc_prepare"):
        conn.cursor().execute("SELECT 1")
    conn.tpc_rollback()
    auto = connect(autocommit=True)
    with pytest.raises(dbapi.ProgrammingError, match="autocommit"):
        auto.tpc_begin(xid)


def test_tpc_prepare_refused_by_the_server(conn: dbapi.Connection) -> None:
    # The session's server has max_prepared_transactions = 0.
    conn.tpc_begin(conn.xid(1, "refused", "b"))
    conn.cursor().execute("SELECT 1")
    with pytest.raises(dbapi.OperationalError, match="disabled"):
        conn.tpc_prepare()
    # The server rolled the transaction back: the connection is free again.
    assert not conn.sync_connection.is_in_transaction()
    conn.cursor().execute("SELECT 1")
    conn.commit()


# ---------------------------------------------------------------------------
# Server-side cursors, transaction characteristics, ping, terminate


def _open_portals(connection: dbapi.Connection) -> int:
    # pg_cursors lists protocol-level portals too; the unnamed one is this query's.
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_cursors WHERE name <> ''")
        row = cur.fetchone()
    assert row is not None
    return int(row[0])


def test_server_cursor_reads_in_batches(conn: dbapi.Connection) -> None:
    cur = conn.cursor("big")
    assert isinstance(cur, dbapi.ServerCursor) and cur.name == "big"
    cur.itersize = 7
    cur.execute("SELECT g, g::text FROM generate_series(1, %s) g", (50,))
    assert [c.name for c in cur.description or ()] == ["g", "g"]
    assert cur.description is not None and cur.description[0].type_code == oids.INT4
    assert cur.fetchone() == (1, "1")
    assert cur.fetchmany(3) == [(2, "2"), (3, "3"), (4, "4")]
    assert _open_portals(conn) == 1  # still on the server, in the same transaction
    rest = list(cur)
    assert [r[0] for r in rest] == list(range(5, 51))
    assert cur.rowcount == 50
    assert cur.fetchall() == [] and cur.fetchone() is None
    cur.close()
    assert _open_portals(conn) == 0
    conn.rollback()


def test_server_cursor_fetchall_and_reexecute(conn: dbapi.Connection) -> None:
    with conn.cursor("c") as cur:
        cur.itersize = 3
        cur.execute("SELECT g FROM generate_series(1, 10) g WHERE g > %(low)s", {"low": 2})
        assert [r[0] for r in cur.fetchall()] == list(range(3, 11))
        cur.execute("SELECT 'x'::text")  # the first portal is closed, a new one bound
        assert cur.fetchall() == [("x",)]
        assert _open_portals(conn) == 1
    assert _open_portals(conn) == 0


def test_server_cursor_refusals(conn: dbapi.Connection, make_dbconn: _Factory) -> None:
    cur = conn.cursor("c")
    with pytest.raises(dbapi.ProgrammingError, match="no query"):
        cur.fetchone()
    for call in (lambda: cur.executemany("SELECT %s", [(1,)]), lambda: cur.callproc("now"),
                 cur.nextset, lambda: cur.scroll(1)):
        with pytest.raises(dbapi.NotSupportedError):
            call()
    with pytest.raises(dbapi.ProgrammingError, match="itersize"):
        cur.itersize = 0
        cur.execute("SELECT 1")
    with pytest.raises(dbapi.ProgrammingError, match="cursor name"):
        conn.cursor(5)  # type: ignore[arg-type]
    auto = make_dbconn(autocommit=True)
    with pytest.raises(dbapi.ProgrammingError, match="autocommit"):
        auto.cursor("c").execute("SELECT 1")
    assert auto.cursor().execute("SELECT 2").fetchone() == (2,)  # still usable


def test_server_cursor_error_leaves_connection_usable(conn: dbapi.Connection) -> None:
    cur = conn.cursor("c")
    cur.itersize = 2
    cur.execute("SELECT 10 / (3 - g) FROM generate_series(1, 5) g")
    assert cur.fetchmany(2) == [(5,), (10,)]
    with pytest.raises(exceptions.DivisionByZeroError):
        cur.fetchone()
    conn.rollback()
    cur.close()
    assert conn.cursor().execute("SELECT 1").fetchone() == (1,)


def _characteristics(connection: dbapi.Connection) -> tuple[str, str, str]:
    with connection.cursor() as cur:
        cur.execute("SELECT current_setting('transaction_isolation'), "
                    "current_setting('transaction_read_only'), "
                    "current_setting('transaction_deferrable')")
        row = cur.fetchone()
    assert row is not None
    return row


def test_transaction_characteristics_go_with_begin(conn: dbapi.Connection) -> None:
    assert (conn.isolation_level, conn.read_only, conn.deferrable) == (None, None, None)
    assert _characteristics(conn) == ("read committed", "off", "off")
    conn.rollback()
    conn.isolation_level = "serializable"
    conn.read_only = True
    conn.deferrable = True
    assert conn.isolation_level == "SERIALIZABLE"
    assert _characteristics(conn) == ("serializable", "on", "on")
    with pytest.raises(dbapi.ProgrammingError, match="transaction is open"):
        conn.isolation_level = "READ COMMITTED"
    with pytest.raises(exceptions.ReadOnlySQLTransactionError):
        conn.cursor().execute("CREATE TEMP TABLE t (x int)")
    conn.rollback()
    conn.isolation_level = "repeatable_read"
    conn.read_only = False
    conn.deferrable = None
    assert _characteristics(conn) == ("repeatable read", "off", "off")
    conn.commit()
    # A session default is not touched: only each BEGIN says its level.
    with conn.cursor() as cur:
        cur.execute("SHOW default_transaction_isolation")
        assert cur.fetchone() == ("read committed",)
    conn.rollback()
    with pytest.raises(dbapi.ProgrammingError, match="unknown isolation level"):
        conn.isolation_level = "chaos"
    with pytest.raises(dbapi.ProgrammingError, match="str or None"):
        conn.isolation_level = 3  # type: ignore[assignment]
    assert conn.isolation_level == "REPEATABLE READ"


def test_ping_and_terminate(conn: dbapi.Connection, observer: dbapi.Connection) -> None:
    conn.ping()
    assert not conn.sync_connection.is_in_transaction()  # no BEGIN for a ping
    pid = conn.sync_connection.get_server_pid()
    observer.cursor().execute("SELECT pg_terminate_backend(%s::int)", (pid,))
    deadline = time.monotonic() + 10
    while True:
        try:
            conn.ping()
        except dbapi.Error as exc:
            assert isinstance(exc, (dbapi.OperationalError, dbapi.InterfaceError)), exc
            break
        assert time.monotonic() < deadline, "the terminated connection still answers"
        time.sleep(0.05)
    assert conn.closed
    conn.terminate()  # on a closed connection: nothing to do


def test_driver_failures_are_pep249_errors(cluster: TemporaryCluster) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    with pytest.raises(dbapi.OperationalError, match="connection failed") as refused:
        dbapi.connect(host="127.0.0.1", port=dead, user="postgres", ssl="disable",
                      connect_timeout=10)
    assert isinstance(refused.value.__cause__, OSError)
    with pytest.raises(dbapi.OperationalError):
        dbapi.connect(host="no-such-host.invalid", user="postgres", connect_timeout=10)
    conn = _connect(cluster, command_timeout=0.5)
    try:
        with pytest.raises(dbapi.TimeoutExpiredError) as timed_out:
            conn.cursor().execute("SELECT pg_sleep(30)")
        assert isinstance(timed_out.value, TimeoutError)
        assert isinstance(timed_out.value, dbapi.OperationalError)
        conn.rollback()
        assert conn.cursor().execute("SELECT 1").fetchone() == (1,)
    finally:
        conn.close()
