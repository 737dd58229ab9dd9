"""Schema changes under running connections: cached statements must follow them.

Each scenario runs a statement until it is cached (described, and prepared
where named statements are used), then changes the schema under it from
another connection, as a migration would, and runs the statement again:

* outside a transaction the new result must come back at once (pgwire
  describes the statement again and retries, which is safe because a
  failed statement outside a transaction block changed nothing);
* inside a transaction block the new result may come back, or a clear,
  retryable ``InvalidCachedStatementError``; the statement then works once
  the transaction is over: never a failure that lasts until reconnecting.

Every scenario runs with the statement cache on, with
``statement_cache_size=0``, and through pgbouncer in transaction mode; as a
query and as a statement from ``Connection.prepare()``; on both APIs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest

import pgwire
from pgwire.testing import PgBouncer, TemporaryCluster


@dataclass(frozen=True)
class Scenario:
    setup: str
    query: str
    args: tuple[Any, ...]
    before: list[tuple[Any, ...]]
    change: str
    after: list[tuple[Any, ...]]
    cleanup: str
    same_session: bool = False  # the change must be made on the connection itself
    # The change is seen only in the data, after the statement ran: one
    # clear error (never a wrong value), then the new result.
    fails_once: type[Exception] | None = None


SCENARIOS = {
    "alter_column_type": Scenario(
        "CREATE TABLE {t} (id int, v int); INSERT INTO {t} VALUES (1, 10)",
        "SELECT v FROM {t} WHERE id = $1", (1,), [(10,)],
        "ALTER TABLE {t} ALTER COLUMN v TYPE text USING v::text || '!'", [("10!",)],
        "DROP TABLE IF EXISTS {t}",
    ),
    "parameter_type": Scenario(
        "CREATE TABLE {t} (id int, v int); INSERT INTO {t} VALUES (1, 10)",
        "SELECT count(*) FROM {t} WHERE v = $1", (10,), [(1,)],
        "ALTER TABLE {t} ALTER COLUMN v TYPE bigint", [(1,)],
        "DROP TABLE IF EXISTS {t}",
    ),
    "add_column": Scenario(
        "CREATE TABLE {t} (id int, v int); INSERT INTO {t} VALUES (1, 10)",
        "SELECT * FROM {t} WHERE id = $1", (1,), [(1, 10)],
        "ALTER TABLE {t} ADD COLUMN w text DEFAULT 'x'", [(1, 10, "x")],
        "DROP TABLE IF EXISTS {t}",
    ),
    "drop_column": Scenario(
        "CREATE TABLE {t} (id int, v int, w text); INSERT INTO {t} VALUES (1, 10, 'x')",
        "SELECT * FROM {t} WHERE id = $1", (1,), [(1, 10, "x")],
        "ALTER TABLE {t} DROP COLUMN v", [(1, "x")],
        "DROP TABLE IF EXISTS {t}",
    ),
    "recreated_enum_result": Scenario(
        "CREATE TYPE {t}_e AS ENUM ('a', 'b'); CREATE TABLE {t} (id int, v {t}_e); "
        "INSERT INTO {t} VALUES (1, 'a')",
        "SELECT v FROM {t} WHERE id = $1", (1,), [("a",)],
        "DROP TABLE {t}; DROP TYPE {t}_e; CREATE TYPE {t}_e AS ENUM ('z', 'a'); "
        "CREATE TABLE {t} (id int, v {t}_e); INSERT INTO {t} VALUES (1, 'z')", [("z",)],
        "DROP TABLE IF EXISTS {t}; DROP TYPE IF EXISTS {t}_e",
    ),
    "recreated_enum_parameter": Scenario(
        # The cached statement names the dropped type's OID as its parameter type.
        "CREATE TYPE {t}_e AS ENUM ('a', 'b'); CREATE TABLE {t} (id int, v {t}_e); "
        "INSERT INTO {t} VALUES (1, 'a')",
        "SELECT count(*) FROM {t} WHERE v = $1", ("a",), [(1,)],
        "DROP TABLE {t}; DROP TYPE {t}_e; CREATE TYPE {t}_e AS ENUM ('z', 'a'); "
        "CREATE TABLE {t} (id int, v {t}_e); INSERT INTO {t} VALUES (1, 'a'), (2, 'a')", [(2,)],
        "DROP TABLE IF EXISTS {t}; DROP TYPE IF EXISTS {t}_e",
    ),
    "composite_attribute_added": Scenario(
        "CREATE TYPE {t}_c AS (x int); CREATE TABLE {t} (id int, c {t}_c); "
        "INSERT INTO {t} VALUES (1, ROW(1))",
        "SELECT c FROM {t} WHERE id = $1", (1,), [((1,),)],
        "ALTER TYPE {t}_c ADD ATTRIBUTE y text; UPDATE {t} SET c = ROW(2, 'y')", [((2, "y"),)],
        "DROP TABLE IF EXISTS {t}; DROP TYPE IF EXISTS {t}_c",
        # The column keeps its type OID, so the server sees no change in
        # the statement; the values carry the new attribute count.
        fails_once=pgwire.OutdatedSchemaCacheError,
    ),
    "recreated_view": Scenario(
        "CREATE TABLE {t} (id int, v int); INSERT INTO {t} VALUES (1, 10); "
        "CREATE VIEW {t}_v AS SELECT id, v FROM {t}",
        "SELECT * FROM {t}_v WHERE id = $1", (1,), [(1, 10)],
        "DROP VIEW {t}_v; CREATE VIEW {t}_v AS SELECT id, v::text AS v FROM {t}", [(1, "10")],
        "DROP VIEW IF EXISTS {t}_v; DROP TABLE IF EXISTS {t}",
    ),
    "search_path": Scenario(
        "CREATE SCHEMA {t}_a; CREATE SCHEMA {t}_b; "
        "CREATE TABLE {t}_a.x (id int, v int); INSERT INTO {t}_a.x VALUES (1, 10); "
        "CREATE TABLE {t}_b.x (id int, v text, w int); INSERT INTO {t}_b.x VALUES (1, 'b', 2); "
        "SET search_path = {t}_a, public",
        "SELECT * FROM x WHERE id = $1", (1,), [(1, 10)],
        "SET search_path = {t}_b, public", [(1, "b", 2)],
        "RESET search_path; DROP SCHEMA IF EXISTS {t}_a, {t}_b CASCADE",
        same_session=True,
    ),
}

MODES = ["cache", "no_cache", "pgbouncer"]


def _plain(value: Any) -> Any:
    """Records (rows, composites) as tuples, for comparing with expected values."""
    if isinstance(value, (tuple, pgwire.Record)):
        return tuple(_plain(item) for item in value)
    return value


@pytest.fixture
async def connections(api: Any, cluster: TemporaryCluster, request: pytest.FixtureRequest,
                      ) -> Any:
    """``(connection under test, a direct connection for DDL)`` for the mode."""
    mode = request.node.callspec.params["mode"]
    opened: list[Any] = []

    async def open_(**kwargs: Any) -> Any:
        conn = await api.connect(**kwargs)
        opened.append(conn)
        return conn

    direct = {**cluster.connect_kwargs(), "ssl": "disable"}
    if mode == "pgbouncer":
        bouncer: PgBouncer = request.getfixturevalue("pgbouncer")
        conn = await open_(**{**bouncer.connect_kwargs(), "ssl": "disable"})
    else:
        conn = await open_(**direct, statement_cache_size=100 if mode == "cache" else 0)
    other = await open_(**direct)
    yield conn, other
    for c in opened:
        c.terminate()


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("form", ["query", "prepared"])
@pytest.mark.parametrize("place", ["outside", "inside_transaction"])
@pytest.mark.parametrize("name", list(SCENARIOS))
async def test_schema_change(connections: Any, mode: str, form: str, place: str,
                             name: str) -> None:
    scenario = SCENARIOS[name]
    if scenario.same_session and mode == "pgbouncer":
        pytest.skip("a session setting has no meaning through a transaction-mode pooler")
    conn, other = connections
    table = f"sc_{secrets.token_hex(4)}"
    ddl_conn = conn if scenario.same_session else other
    await conn.execute(scenario.setup.format(t=table))
    try:
        query = scenario.query.format(t=table)
        if form == "prepared":
            stmt = await conn.prepare(query)

            async def run() -> Any:
                return _plain(await stmt.fetch(*scenario.args))
        else:
            async def run() -> Any:
                return _plain(await conn.fetch(query, *scenario.args))

        for _ in range(3):  # described, then cached (and prepared on the server)
            assert await run() == scenario.before
        await ddl_conn.execute(scenario.change.format(t=table))
        if scenario.fails_once is not None:
            with pytest.raises(scenario.fails_once, match="run the statement again"):
                if place == "outside":
                    await run()
                else:
                    async with conn.transaction():
                        await run()
        elif place == "outside":
            assert await run() == scenario.after
        else:
            try:
                async with conn.transaction():
                    assert await run() == scenario.after
            except pgwire.InvalidCachedStatementError as exc:
                assert "retry" in str(exc)
            assert not conn.is_in_transaction()
        for _ in range(2):
            assert await run() == scenario.after
        # The connection is in step: a fresh query gets its own answer.
        token = secrets.token_hex(4)
        assert await conn.fetchval("SELECT $1::text", token) == token
    finally:
        await conn.execute(scenario.cleanup.format(t=table))
