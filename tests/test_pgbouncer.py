"""pgwire through a real pgbouncer, with default settings.

The promise tested here (DESIGN.md, "Statement strategy"): with no
configuration pgwire works through pgbouncer in transaction mode, including
Debian's pgbouncer 1.18, which knows nothing about prepared statements.
pgwire notices the pooler (the BackendKeyData pid is not the server's
``pg_backend_pid()``) and switches to the unnamed statement, sending
Parse/Bind/Describe/Execute/Sync in one write; named statements, when used
at all, carry a random per-connection prefix so they never collide on a
shared server connection.

The ``pgbouncer`` fixture (conftest.py) is a transaction-mode pgbouncer
whose pool is smaller than the number of clients of the acceptance test, so
server connections really are shared.  Statement-mode and session-mode
pgbouncers, and single-server-connection pools for the collision tests, are
started here.  Every test runs on both APIs (``api`` fixture, conftest.py);
for the blocking API, concurrent clients are threads.
"""

from __future__ import annotations

import asyncio
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

import pgwire
from pgwire.drivers.blocking import BlockingDriver
from pgwire.testing import PgBouncer, TemporaryCluster, find_pgbouncer

pytestmark = pytest.mark.timeout(180)

# No test may hang: every scenario runs under asyncio.wait_for with this bound.
ACCEPTANCE_TIMEOUT = 60.0
STEP_TIMEOUT = 30.0


# ---------------------------------------------------------------- helpers


async def _connect(api: Any, bouncer: PgBouncer | TemporaryCluster, **overrides: Any) -> Any:
    kwargs = {**bouncer.connect_kwargs(), "ssl": "disable", **overrides}
    return await api.connect(**kwargs)


async def _close_all(conns: list[Any]) -> None:
    for conn in conns:
        if not conn.is_closed():
            try:
                await asyncio.wait_for(conn.close(), 5)
            except Exception:
                conn.terminate()


def _start_bouncer(cluster: TemporaryCluster, **kwargs: Any) -> PgBouncer:
    try:
        find_pgbouncer()
    except Exception as exc:  # pragma: no cover - conftest decides skip/fail for the main one
        pytest.skip(f"pgbouncer not available: {exc}")
    return cluster.start_pgbouncer(**kwargs)


def _message_types(data: bytes) -> list[str]:
    """The type bytes of the frontend messages in one write."""
    types = []
    pos = 0
    while pos + 5 <= len(data):
        types.append(chr(data[pos]))
        pos += 1 + int.from_bytes(data[pos + 1 : pos + 5], "big")
    assert pos == len(data), "a write ended in the middle of a message"
    return types


@contextmanager
def _record_writes(conn: Any) -> Iterator[list[list[str]]]:
    """Record the message types of every write on ``conn``'s transport (asyncio) or
    socket (blocking: each ``_send_all`` call writes what the engine had to send)."""
    driver = conn._runner.driver
    writes: list[list[str]] = []
    if isinstance(driver, BlockingDriver):
        send_all: Callable[..., None] = driver._send_all

        def send(data: bytes, *args: Any) -> None:
            writes.append(_message_types(bytes(data)))
            send_all(data, *args)

        driver._send_all = send  # type: ignore[method-assign]
        try:
            yield writes
        finally:
            del driver._send_all
        return
    transport = driver.transport
    assert transport is not None
    original: Callable[[bytes], None] = transport.write

    def write(data: Any) -> None:
        writes.append(_message_types(bytes(data)))
        original(data)

    transport.write = write  # type: ignore[method-assign]
    try:
        yield writes
    finally:
        del transport.write


async def _prepared_statement_names(conn: Any) -> list[str]:
    rows = await conn.fetch("SELECT name FROM pg_prepared_statements ORDER BY name")
    return [row[0] for row in rows]


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def statement_bouncer(cluster: TemporaryCluster) -> Iterator[PgBouncer]:
    """A pgbouncer in statement pooling mode."""
    bouncer = _start_bouncer(cluster, pool_mode="statement", default_pool_size=2)
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture(scope="module")
def session_bouncer(cluster: TemporaryCluster) -> Iterator[PgBouncer]:
    """A pgbouncer in session pooling mode, one server connection (reused by each client)."""
    bouncer = _start_bouncer(cluster, pool_mode="session", default_pool_size=1)
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture(scope="module")
def tiny_bouncer(cluster: TemporaryCluster) -> Iterator[PgBouncer]:
    """A transaction-mode pgbouncer with a single server connection: every client shares it."""
    bouncer = _start_bouncer(cluster, pool_mode="transaction", default_pool_size=1)
    try:
        yield bouncer
    finally:
        bouncer.stop()


# ------------------------------------------------------- 1. pooler detection


async def test_pooler_detected_through_pgbouncer(api: Any, pgbouncer: PgBouncer) -> None:
    conn = await _connect(api, pgbouncer)
    try:
        session = conn._session
        # Not asked at connect: the probe rides with the first request, and
        # statements are unnamed until it is answered.
        assert session.pooler_detected is None
        assert session.use_named_statements is False
        # The BackendKeyData came from pgbouncer, not from the server.
        server_pid = await conn.fetchval("SELECT pg_backend_pid()")
        assert session.pooler_detected is True
        assert session.use_named_statements is False
        assert server_pid != conn.get_server_pid()
        # Several statements, none of them named on the server.
        for n in range(5):
            assert await conn.fetchval("SELECT $1::int + 1", n) == n + 1
        ps = await conn.prepare("SELECT $1::text || 'x'")
        assert ps.get_name() == ""
        assert await ps.fetchval("a") == "ax"
        assert len(session.cache) == 0
        assert not [
            name for name in await _prepared_statement_names(conn) if name.startswith("__pgwire")
        ]
    finally:
        await _close_all([conn])


async def test_listen_through_a_pooler_warns(api: Any, pgbouncer: PgBouncer,
                                             cluster: TemporaryCluster) -> None:
    conn = await _connect(api, pgbouncer)
    direct = await _connect(api, cluster)
    try:
        with pytest.warns(pgwire.InterfaceWarning, match="notifications are not delivered"):
            await conn.add_listener("bounced", lambda *args: None)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing on a direct connection
            await direct.add_listener("direct", lambda *args: None)
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await _close_all([conn, direct])


async def test_pooler_not_detected_on_direct_connection(
    api: Any, cluster: TemporaryCluster
) -> None:
    conn = await _connect(api, cluster)
    try:
        assert conn._session.pooler_detected is None
        assert await conn.fetchval("SELECT pg_backend_pid()") == conn.get_server_pid()
        assert conn._session.pooler_detected is False
        assert conn._session.use_named_statements is True
        assert await conn.fetchval("SELECT $1::int * 3", 7) == 21
        names = await _prepared_statement_names(conn)
        assert any(name.startswith(conn._session._prefix) for name in names)
    finally:
        await _close_all([conn])


async def test_unnamed_statement_sent_in_one_write(api: Any, pgbouncer: PgBouncer) -> None:
    """Once described, a statement goes out as Parse/Bind/Describe/Execute/Sync, one write."""
    conn = await _connect(api, pgbouncer)
    try:
        sql = "SELECT $1::int + $2::int AS total"
        assert await conn.fetchval(sql, 1, 2) == 3  # learns the description
        with _record_writes(conn) as writes:
            assert await conn.fetchval(sql, 20, 22) == 42
            rows = await conn.fetch(sql, 5, 6)
        assert [r["total"] for r in rows] == [11]
        assert writes == [["P", "B", "D", "E", "S"], ["P", "B", "D", "E", "S"]]
        # A new statement too: whatever its first use sends, every write is a
        # whole request (Parse first, exactly one Sync, at the end), so no
        # half of it can be routed to another server connection.
        with _record_writes(conn) as writes:
            assert await conn.fetchval("SELECT $1::text || '!' AS bang", "hi") == "hi!"
        assert writes
        for w in writes:
            assert w[0] == "P" and w[-1] == "S" and w.count("S") == 1, writes
        assert {"B", "E"} <= set(writes[-1])
    finally:
        await _close_all([conn])


# -------------------------------------------------------- 2. acceptance test

CLIENTS = 20
ROUNDS = 12
KEPT_PER_ROUND = (0, 1, 2, 3, 4, 6)  # seq offsets that survive each round


class _Rollback(Exception):
    """Raised inside a savepoint block to roll it back on purpose."""


async def _acceptance_client(conn: Any, client: int) -> dict[str, Any]:
    """A few hundred mixed operations; every value checked; returns what was seen."""
    insert = "INSERT INTO pgb_accept (client, seq, note) VALUES ($1, $2, $3)"
    ops = 0
    pids: set[int] = set()
    unique_violations = 0
    for r in range(ROUNDS):
        base = r * 10
        mine = client * 100_000 + r

        # Parameterised reads, many distinct SQL texts (shared among clients).
        assert await conn.fetchval("SELECT $1::int * 2", mine) == mine * 2
        k = (client + r) % 17
        row = await conn.fetchrow(
            f"SELECT $1::int + {k} AS v, $2::text AS label", mine, f"c{client}"
        )
        assert row is not None and row["v"] == mine + k and row["label"] == f"c{client}"
        got = await conn.fetch(
            "SELECT g, g * $3::bigint AS m FROM generate_series($1::int, $2::int) AS g",
            mine,
            mine + 4,
            client + 1,
        )
        assert [(x["g"], x["m"]) for x in got] == [
            (g, g * (client + 1)) for g in range(mine, mine + 5)
        ]
        assert await conn.fetchval(f"SELECT $1::text || '-{r % 5}'", str(mine)) == f"{mine}-{r % 5}"
        ops += 4

        # Writes: execute with arguments, executemany.
        status = await conn.execute(insert, client, base, "execute")
        assert status == "INSERT 0 1"
        await conn.executemany(insert, [(client, base + j, "many") for j in (1, 2, 3)])
        ops += 2

        # A transaction block with savepoints and an expected unique violation.
        async with conn.transaction():
            await conn.execute(insert, client, base + 4, "tx")
            pid_in_tx = await conn.fetchval("SELECT pg_backend_pid()")
            try:
                async with conn.transaction():
                    await conn.execute(insert, client, base + 5, "rolled back")
                    raise _Rollback
            except _Rollback:
                pass
            try:
                async with conn.transaction():
                    await conn.execute(insert, client, base, "duplicate")
            except pgwire.UniqueViolationError:
                unique_violations += 1
            else:
                raise AssertionError("the duplicate insert did not fail")
            async with conn.transaction():
                async with conn.transaction():
                    await conn.execute(insert, client, base + 6, "deep")
            count = await conn.fetchval(
                "SELECT count(*) FROM pgb_accept WHERE client = $1 AND seq BETWEEN $2 AND $3",
                client,
                base,
                base + 9,
            )
            assert count == len(KEPT_PER_ROUND)
            # A transaction keeps its server connection.
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid_in_tx
            ops += 11
        pids.add(pid_in_tx)

        # A whole transaction that fails and is rolled back.
        try:
            async with conn.transaction():
                await conn.execute(insert, client, base + 7, "lost")
                await conn.execute(insert, client, base + 1, "duplicate")
        except pgwire.UniqueViolationError:
            unique_violations += 1
        else:
            raise AssertionError("the duplicate insert did not fail")
        assert not conn.is_in_transaction()
        ops += 4

        # A prepared statement used several times.
        ps = await conn.prepare("SELECT $1::int + $2::int AS s, $3::text AS who")
        for j in range(3):
            got_row = await ps.fetchrow(mine, j, f"c{client}")
            assert got_row is not None and tuple(got_row) == (mine + j, f"c{client}")
        assert [tuple(x) for x in await ps.fetch(1, client, "f")] == [(1 + client, "f")]
        ops += 5

        pids.add(await conn.fetchval("SELECT pg_backend_pid()"))
        ops += 1
        # Let other clients interleave between rounds.
        await asyncio.sleep(0)

    rows = await conn.fetch(
        "SELECT seq, note FROM pgb_accept WHERE client = $1 ORDER BY seq", client
    )
    expected = [r * 10 + j for r in range(ROUNDS) for j in KEPT_PER_ROUND]
    assert [x["seq"] for x in rows] == expected
    assert not any(x["note"] in ("duplicate", "lost", "rolled back") for x in rows)
    ops += 1
    return {"ops": ops, "pids": pids, "unique_violations": unique_violations}


async def test_acceptance_concurrent_clients(
    api: Any, pgbouncer: PgBouncer, cluster: TemporaryCluster
) -> None:
    assert pgbouncer.pool_mode == "transaction"
    assert pgbouncer.default_pool_size < CLIENTS
    setup = await _connect(api, cluster)
    try:
        await setup.execute(
            "DROP TABLE IF EXISTS pgb_accept;"
            "CREATE TABLE pgb_accept (client int, seq int, note text, PRIMARY KEY (client, seq))"
        )
    finally:
        await _close_all([setup])

    conns: list[Any] = []
    try:
        conns = list(
            await asyncio.wait_for(
                asyncio.gather(*(_connect(api, pgbouncer) for _ in range(CLIENTS))), STEP_TIMEOUT
            )
        )
        # Default settings everywhere: the pooler was detected by each client
        # (with its first statement).
        for c in conns:
            assert await c.fetchval("SELECT 1") == 1
        assert all(c._session.pooler_detected for c in conns)
        assert all(not c._session.use_named_statements for c in conns)

        outcomes = await asyncio.wait_for(
            asyncio.gather(
                *(_acceptance_client(c, i) for i, c in enumerate(conns)),
                return_exceptions=True,
            ),
            ACCEPTANCE_TIMEOUT,
        )
        errors = [
            f"client {i}: " + "".join(traceback.format_exception(o))
            for i, o in enumerate(outcomes)
            if isinstance(o, BaseException)
        ]
        assert not errors, "\n".join(errors)

        results: list[dict[str, Any]] = list(outcomes)  # type: ignore[arg-type]
        assert all(r["ops"] >= 300 for r in results)
        assert all(r["unique_violations"] == 2 * ROUNDS for r in results)
        # Server connections were shared: no more backends than the pool
        # holds, and some backend served several clients.
        seen_by: Counter[int] = Counter()
        for r in results:
            seen_by.update(r["pids"])
        assert len(seen_by) <= pgbouncer.default_pool_size
        assert max(seen_by.values()) > 1
        # No pgwire connection is stuck in a transaction, all still usable.
        for c in conns:
            assert not c.is_in_transaction()
            assert await c.fetchval("SELECT 1") == 1
        total = await conns[0].fetchval("SELECT count(*) FROM pgb_accept")
        assert total == CLIENTS * ROUNDS * len(KEPT_PER_ROUND)
    finally:
        await _close_all(conns)


# ----------------------------------------- 3. more through the same pgbouncer


async def test_statement_cache_size_zero(api: Any, pgbouncer: PgBouncer) -> None:
    conn = await _connect(api, pgbouncer, statement_cache_size=0)
    try:
        assert conn._session.use_named_statements is False
        assert await conn.fetchval("SELECT $1::int * 2", 21) == 42
        assert [tuple(r) for r in await conn.fetch("SELECT $1::text, $2::int", "a", 1)] == [
            ("a", 1)
        ]
        ps = await conn.prepare("SELECT $1::int + 1")
        assert ps.get_name() == ""
        assert [await ps.fetchval(i) for i in range(3)] == [1, 2, 3]
        async with conn.transaction():
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid
        assert not [
            name for name in await _prepared_statement_names(conn) if name.startswith("__pgwire")
        ]
    finally:
        await _close_all([conn])


async def test_ddl_changes_result_shape(api: Any, pgbouncer: PgBouncer) -> None:
    conn = await _connect(api, pgbouncer)
    try:
        await conn.execute("DROP TABLE IF EXISTS pgb_shape")
        await conn.execute("CREATE TABLE pgb_shape (id int PRIMARY KEY, a int)")
        await conn.execute("INSERT INTO pgb_shape VALUES ($1, $2)", 1, 2)
        sql = "SELECT * FROM pgb_shape WHERE id = $1"
        for _ in range(2):  # first use, then the cached description
            row = await conn.fetchrow(sql, 1)
            assert row is not None and list(row.keys()) == ["id", "a"] and tuple(row) == (1, 2)
        await conn.execute("ALTER TABLE pgb_shape ADD COLUMN name text DEFAULT 'x'")
        for _ in range(2):
            row = await conn.fetchrow(sql, 1)
            assert row is not None and list(row.keys()) == ["id", "a", "name"]
            assert tuple(row) == (1, 2, "x")
        await conn.execute("ALTER TABLE pgb_shape DROP COLUMN a")
        for _ in range(2):
            assert [tuple(r) for r in await conn.fetch(sql, 1)] == [(1, "x")]
    finally:
        await _close_all([conn])


async def test_type_changing_ddl_between_executions(api: Any, pgbouncer: PgBouncer) -> None:
    conn = await _connect(api, pgbouncer)
    try:
        await conn.execute("DROP TABLE IF EXISTS pgb_types")
        await conn.execute("CREATE TABLE pgb_types (id int PRIMARY KEY, v int)")
        await conn.execute("INSERT INTO pgb_types VALUES (1, 10), (2, 20)")
        sql = "SELECT v FROM pgb_types WHERE id = $1"
        assert await conn.fetchval(sql, 1) == 10
        await conn.execute("ALTER TABLE pgb_types ALTER COLUMN v TYPE text USING v::text || '!'")
        assert await conn.fetchval(sql, 1) == "10!"
        await conn.execute("ALTER TABLE pgb_types ALTER COLUMN v TYPE numeric USING 1.5")
        assert str(await conn.fetchval(sql, 2)) == "1.5"
        # A type with no binary codec (text format) and back.  The cached
        # description asked for binary, which pgwire cannot decode for money:
        # a clear error once (the statement did run), then the new type.
        await conn.execute("ALTER TABLE pgb_types ALTER COLUMN v TYPE money USING 1.5")
        with pytest.raises(pgwire.OutdatedSchemaCacheError, match="changed type"):
            await conn.fetchval(sql, 1)
        assert await conn.fetchval(sql, 1) == "$1.50"
        await conn.execute("ALTER TABLE pgb_types ALTER COLUMN v TYPE text USING 'back'")
        assert await conn.fetchval(sql, 1) == "back"
        # Inside a transaction (the same server connection throughout).
        async with conn.transaction():
            assert await conn.fetchval(sql, 2) == "back"
            await conn.execute("ALTER TABLE pgb_types ALTER COLUMN v TYPE int USING 5")
            assert await conn.fetchval(sql, 2) == 5
        # A parameter type that changes compatibly (int -> bigint).
        await conn.execute("ALTER TABLE pgb_types ALTER COLUMN id TYPE bigint")
        assert await conn.fetchval(sql, 2) == 5
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await _close_all([conn])


async def test_type_change_retry_does_not_execute_twice(api: Any, pgbouncer: PgBouncer) -> None:
    conn = await _connect(api, pgbouncer)
    try:
        await conn.execute("DROP TABLE IF EXISTS pgb_twice")
        await conn.execute("CREATE TABLE pgb_twice (id int, v money DEFAULT '1.5')")
        sql = "INSERT INTO pgb_twice (id) VALUES ($1) RETURNING v"
        assert await conn.fetchval(sql, 1) == "$1.50"
        # money has no binary codec in pgwire (text format asked); text has one.
        await conn.execute("ALTER TABLE pgb_twice ALTER COLUMN v TYPE text")
        assert await conn.fetchval(sql, 2) == "$1.50"
        counts = await conn.fetch("SELECT id, count(*) FROM pgb_twice GROUP BY id ORDER BY id")
        assert [tuple(r) for r in counts] == [(1, 1), (2, 1)]
    finally:
        await _close_all([conn])


async def test_type_change_inside_transaction(api: Any, pgbouncer: PgBouncer) -> None:
    conn = await _connect(api, pgbouncer)
    try:
        await conn.execute("DROP TABLE IF EXISTS pgb_txmsg")
        await conn.execute("CREATE TABLE pgb_txmsg (id int, v money DEFAULT 1.5)")
        await conn.execute("INSERT INTO pgb_txmsg (id) VALUES (1)")
        sql = "SELECT v FROM pgb_txmsg WHERE id = $1"
        for _ in range(2):
            assert await conn.fetchval(sql, 1) == "$1.50"
        await conn.execute("ALTER TABLE pgb_txmsg ALTER COLUMN v TYPE text")
        # money -> text: text has a binary codec, the column arrives in the
        # text format the old description asked for and is decoded as such.
        async with conn.transaction():
            assert await conn.fetchval(sql, 1) == "$1.50"
        assert not conn.is_in_transaction()
        assert await conn.fetchval(sql, 1) == "$1.50"
    finally:
        await _close_all([conn])


async def test_timeout_through_pgbouncer(api: Any, pgbouncer: PgBouncer) -> None:
    """A timed-out statement is cancelled through pgbouncer; the connection stays in step."""
    conn = await _connect(api, pgbouncer)
    try:
        for sql, args in (("SELECT pg_sleep(10)", ()), ("SELECT pg_sleep($1::float)", (10.0,))):
            started = asyncio.get_running_loop().time()
            with pytest.raises((TimeoutError, asyncio.TimeoutError)):
                await conn.fetchval(sql, *args, timeout=0.3)
            assert await asyncio.wait_for(conn.fetchval("SELECT $1::int", 7), STEP_TIMEOUT) == 7
            assert asyncio.get_running_loop().time() - started < 8
    finally:
        await _close_all([conn])


async def test_queued_operations_on_one_connection(api: Any, pgbouncer: PgBouncer) -> None:
    conn = await _connect(api, pgbouncer)
    try:
        results = await asyncio.wait_for(
            asyncio.gather(*(conn.fetchval(f"SELECT $1::int * {i % 4 + 1}", i) for i in range(60))),
            STEP_TIMEOUT,
        )
        assert results == [i * (i % 4 + 1) for i in range(60)]
    finally:
        await _close_all([conn])


@pytest.mark.async_only  # concurrent calls share round trips on the asyncio API
@pytest.mark.parametrize("mode", ["transaction", "statement"])
async def test_shared_round_trips_through_pgbouncer(api: Any, mode: str, pgbouncer: PgBouncer,
                                                   statement_bouncer: PgBouncer) -> None:
    """Gathered statements the connection knows go out together, each with
    its own Sync: a pooler may move each to another server connection, and
    an error, a timeout or a bad argument fails its own call alone."""
    conn = await _connect(api, pgbouncer if mode == "transaction" else statement_bouncer)
    divide = "SELECT 100 / $1::int"
    sleep = "SELECT pg_sleep($1::float8)::text || $2::text"
    try:
        for _ in range(2):  # new statements, then known ones
            calls = []
            for i in range(40):
                if i % 10 == 3:
                    calls.append(conn.fetchval(sleep, 2, str(i), timeout=0.3))
                elif i % 10 == 7:
                    calls.append(conn.fetchval(divide, "x"))
                else:
                    calls.append(conn.fetchval(divide, i % 5))
            results = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True),
                                             STEP_TIMEOUT)
            for i, result in enumerate(results):
                if i % 10 == 3:
                    assert isinstance(result, (TimeoutError, asyncio.TimeoutError)), (i, result)
                elif i % 10 == 7:
                    assert isinstance(result, pgwire.DataError), (i, result)
                elif i % 5 == 0:
                    assert isinstance(result, pgwire.DivisionByZeroError), (i, result)
                else:
                    assert result == 100 // (i % 5), (i, result)
            assert await asyncio.wait_for(conn.fetchval("SELECT $1::int", 7), STEP_TIMEOUT) == 7
    finally:
        await _close_all([conn])


async def test_errors_leave_connection_usable(api: Any, pgbouncer: PgBouncer) -> None:
    conn = await _connect(api, pgbouncer)
    try:
        await conn.execute("DROP TABLE IF EXISTS pgb_errors")
        await conn.execute("CREATE TABLE pgb_errors (id int PRIMARY KEY)")
        await conn.execute("INSERT INTO pgb_errors VALUES ($1)", 1)
        for _ in range(3):
            with pytest.raises(pgwire.PostgresSyntaxError):
                await conn.fetch("SELEC $1::int", 1)
            assert await conn.fetchval("SELECT $1::int", 5) == 5
            with pytest.raises(pgwire.PostgresSyntaxError):
                await conn.execute("SELEC 1")
            assert await conn.fetchval("SELECT 2") == 2
            with pytest.raises(pgwire.UniqueViolationError):
                await conn.execute("INSERT INTO pgb_errors VALUES ($1)", 1)
            assert not conn.is_in_transaction()
            with pytest.raises(pgwire.UniqueViolationError):
                await conn.executemany("INSERT INTO pgb_errors VALUES ($1)", [(2,), (1,), (3,)])
            # The batch was one implicit transaction: nothing of it was kept.
            assert await conn.fetchval("SELECT count(*) FROM pgb_errors") == 1
            with pytest.raises(pgwire.DivisionByZeroError):
                await conn.fetch("SELECT 1 / (g - $1::int) FROM generate_series(1, 10) g", 5)
            assert await conn.fetchval("SELECT $1::int * 2", 4) == 8
            # Inside a transaction: the error aborts it and rolls back cleanly.
            with pytest.raises(pgwire.UniqueViolationError):
                async with conn.transaction():
                    await conn.execute("INSERT INTO pgb_errors VALUES ($1)", 10)
                    await conn.execute("INSERT INTO pgb_errors VALUES ($1)", 1)
            assert not conn.is_in_transaction()
            assert await conn.fetchval("SELECT count(*) FROM pgb_errors") == 1
    finally:
        await _close_all([conn])


async def test_large_result(api: Any, pgbouncer: PgBouncer) -> None:
    conn = await _connect(api, pgbouncer)
    try:
        n = 50_000
        rows = await asyncio.wait_for(
            conn.fetch(
                "SELECT g, md5(g::text) AS h, repeat('x', g % 50) AS pad "
                "FROM generate_series(1, $1::int) AS g",
                n,
            ),
            STEP_TIMEOUT,
        )
        assert len(rows) == n
        assert [r["g"] for r in rows] == list(range(1, n + 1))
        assert sum(len(r["pad"]) for r in rows) == sum(g % 50 for g in range(1, n + 1))
        assert rows[-1]["h"] == await conn.fetchval("SELECT md5($1::text)", str(n))
        # The connection is in step afterwards.
        assert await conn.fetchval("SELECT $1::int + 1", 1) == 2
        assert len(await conn.fetch("SELECT generate_series(1, 50000)")) == n
    finally:
        await _close_all([conn])


# --------------------------------------------------- 4. statement pool mode


async def test_statement_mode_single_statements(api: Any, statement_bouncer: PgBouncer) -> None:
    conns: list[Any] = []
    try:
        conns = [await _connect(api, statement_bouncer) for _ in range(4)]
        first = conns[0]
        await first.execute("DROP TABLE IF EXISTS pgb_stmt")
        assert first._session.pooler_detected is True
        await first.execute("CREATE TABLE pgb_stmt (client int, n int)")

        async def client(conn: Any, c: int) -> None:
            for n in range(25):
                assert await conn.fetchval("SELECT $1::int * 2", c * 1000 + n) == (c * 1000 + n) * 2
                row = await conn.fetchrow(f"SELECT $1::text AS t, {n % 3} AS k", f"c{c}")
                assert row is not None and tuple(row) == (f"c{c}", n % 3)
                await conn.execute("INSERT INTO pgb_stmt VALUES ($1, $2)", c, n)
            await conn.executemany(
                "INSERT INTO pgb_stmt VALUES ($1, $2)", [(c, 100 + i) for i in range(5)]
            )
            ps = await conn.prepare("SELECT count(*) FROM pgb_stmt WHERE client = $1")
            assert [await ps.fetchval(c) for _ in range(3)] == [30, 30, 30]

        await asyncio.wait_for(
            asyncio.gather(*(client(c, i) for i, c in enumerate(conns))), ACCEPTANCE_TIMEOUT
        )
        assert await first.fetchval("SELECT count(*) FROM pgb_stmt") == 4 * 30
    finally:
        await _close_all(conns)


async def test_statement_mode_transaction_fails_cleanly(
    api: Any, statement_bouncer: PgBouncer
) -> None:
    """Statement mode forbids transaction blocks: an error, never a hang."""
    conn = await _connect(api, statement_bouncer)
    try:

        async def transaction() -> None:
            async with conn.transaction():
                await conn.fetchval("SELECT 1")

        with pytest.raises(pgwire.PostgresError, match="statement pooling mode"):
            await asyncio.wait_for(transaction(), STEP_TIMEOUT)
        # pgbouncer drops the client after that; pgwire noticed.
        await asyncio.sleep(0.1)
        assert conn.is_closed()
        with pytest.raises(pgwire.InterfaceError):
            await asyncio.wait_for(conn.fetchval("SELECT 1"), STEP_TIMEOUT)
    finally:
        await _close_all([conn])
    # Other clients are unaffected.
    other = await _connect(api, statement_bouncer)
    try:
        assert await other.fetchval("SELECT $1::int", 3) == 3
    finally:
        await _close_all([other])


# ----------------------------------------------------- 5. session pool mode


async def test_session_mode(api: Any, session_bouncer: PgBouncer) -> None:
    for _ in range(3):  # sequential clients, one after another on the same server
        conn = await _connect(api, session_bouncer)
        try:
            pid = await conn.fetchval("SELECT pg_backend_pid()")
            assert conn._session.pooler_detected is True
            assert await conn.fetchval("SELECT $1::int * 2", 8) == 16
            async with conn.transaction():
                await conn.execute("CREATE TEMP TABLE IF NOT EXISTS pgb_sess (n int)")
                await conn.executemany("INSERT INTO pgb_sess VALUES ($1)", [(1,), (2,)])
                async with conn.transaction():
                    await conn.execute("INSERT INTO pgb_sess VALUES ($1)", 3)
            assert await conn.fetchval("SELECT sum(n) FROM pgb_sess") >= 6
            ps = await conn.prepare("SELECT $1::text")
            assert [await ps.fetchval(s) for s in "abc"] == ["a", "b", "c"]
            assert await conn.fetchval("SELECT pg_backend_pid()") == pid
        finally:
            await _close_all([conn])


# ---------------------------------------------- 6. statement name collisions


async def test_clients_preparing_same_sql_do_not_collide(api: Any, tiny_bouncer: PgBouncer) -> None:
    """Two default clients on one shared server connection prepare the same SQL over and over."""
    a = await _connect(api, tiny_bouncer)
    b = await _connect(api, tiny_bouncer)
    try:
        sql = "SELECT $1::int + 100 AS v"

        async def client(conn: Any, offset: int) -> set[int]:
            pids = set()
            for i in range(150):
                n = offset + i
                ps = await conn.prepare(sql)
                assert await ps.fetchval(n) == n + 100
                assert await conn.fetchval(sql, n) == n + 100
                row = await conn.fetchrow(sql, n)
                assert row is not None and row["v"] == n + 100
                if i % 25 == 0:
                    pids.add(await conn.fetchval("SELECT pg_backend_pid()"))
            return pids

        pids_a, pids_b = await asyncio.wait_for(
            asyncio.gather(client(a, 0), client(b, 10_000)), ACCEPTANCE_TIMEOUT
        )
        assert pids_a == pids_b and len(pids_a) == 1  # really one shared server connection
    finally:
        await _close_all([a, b])


async def test_named_statement_prefixes_never_collide(api: Any, session_bouncer: PgBouncer) -> None:
    """Named statements left on a pooled server connection don't clash with the next client's.

    pgwire itself switches named statements off behind a pooler; here they
    are forced on (session mode keeps a client on one server connection, so
    they are safe) to check the random per-connection prefix: each client
    in turn gets the same server connection, still holding the previous
    clients' statements (this pgbouncer runs no reset query).
    """
    sql = "SELECT $1::int * 10"
    seen_prefixes: set[str] = set()
    leftover: set[str] = set()
    for turn in range(5):
        conn = await _connect(api, session_bouncer)
        try:
            session = conn._session
            assert await conn.fetchval("SELECT 1") == 1  # the pooler probe answered
            session.use_named_statements = True
            prefix = session._prefix
            assert prefix not in seen_prefixes
            seen_prefixes.add(prefix)
            for i in range(20):
                ps = await conn.prepare(sql)
                assert ps.get_name().startswith(prefix)
                assert await ps.fetchval(i) == i * 10
                assert await conn.fetchval(sql, i) == i * 10
            names = await _prepared_statement_names(conn)
            # Earlier clients' statements are still there on this server connection.
            owners = {
                name.rsplit("_", 1)[0] + "_" for name in names if name.startswith("__pgwire_")
            }
            assert prefix in owners
            if turn == 0:  # what earlier tests on this bouncer left behind
                leftover = owners - {prefix}
            assert owners - leftover == seen_prefixes
        finally:
            await _close_all([conn])


async def test_prepare_first_is_named_only_on_a_direct_connection(
    api: Any, cluster: TemporaryCluster, pgbouncer: PgBouncer
) -> None:
    """``prepare()`` as a connection's first request waits for the pooler
    probe: a named statement directly, the unnamed one through pgbouncer."""
    direct = await _connect(api, cluster)
    pooled = await _connect(api, pgbouncer)
    try:
        ps = await direct.prepare("SELECT $1::int * 2")
        assert ps.get_name().startswith("__pgwire_")
        assert await ps.fetchval(4) == 8
        assert direct._session.use_named_statements is True
        ps = await pooled.prepare("SELECT $1::int * 2")
        assert ps.get_name() == ""
        assert await ps.fetchval(4) == 8
        assert pooled._session.pooler_detected is True
    finally:
        await _close_all([direct, pooled])
