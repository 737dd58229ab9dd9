"""pgoutput end to end: what the server streams, decoded into Python values,
checked against the workload that produced it.

A server of its own per PostgreSQL version (two-phase commit needs
``max_prepared_transactions``, which only a restart sets): the Debian one
(protocol 3 on PostgreSQL 15) and PostgreSQL 17 (protocol 4, parallel
streaming, ``origin``).  Both APIs, text and binary tuples.
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from missing import missing

import pgwire
from pgwire.testing import TemporaryCluster
from pgwire.testing.cluster import BinaryNotFoundError
from pgwire.types import LSN
from pgwire.types import pgoutput as po

VERSIONS = [None, 17]  # None: the server scripts/setup.sh installs (PostgreSQL 15 on Debian)


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[Any, TemporaryCluster]]:
    started: dict[Any, TemporaryCluster] = {}
    yield started
    for server in started.values():
        server.stop()


@pytest.fixture(params=VERSIONS, ids=lambda v: f"pg{v or 'default'}")
def server(request: pytest.FixtureRequest, servers: dict[Any, TemporaryCluster]) -> Any:
    version = request.param
    if version not in servers:
        cluster = TemporaryCluster(version=version, extra_config={
            "max_prepared_transactions": 10, "logical_decoding_work_mem": "64kB"})
        try:
            cluster.start()
        except BinaryNotFoundError as exc:
            missing(f"PostgreSQL {version}", exc)
        servers[version] = cluster
    return servers[version]


class Setup:
    """One test's objects: a table with many types, its publication, a slot."""

    def __init__(self, api: Any, server: TemporaryCluster) -> None:
        self.api = api
        self.server = server
        self.tag = secrets.token_hex(4)
        self.table = f"items_{self.tag}"
        self.publication = f"pub_{self.tag}"
        self.slot = f"slot_{self.tag}"
        self.opened: list[Any] = []

    async def connect(self, **kwargs: Any) -> Any:
        conn = await self.api.connect(**self.server.connect_kwargs(), ssl="disable", **kwargs)
        self.opened.append(conn)
        return conn

    async def create(self, *, identity: str = "DEFAULT", two_phase: bool = False) -> Any:
        self.sql = await self.connect()
        t = self.tag
        await self.sql.execute(f"""
            CREATE TYPE mood_{t} AS ENUM ('sad', 'ok', 'happy');
            CREATE TYPE pair_{t} AS (x int, y text);
            CREATE TABLE {self.table} (
                id int PRIMARY KEY, name text, price numeric, at timestamptz, flag bool,
                doc jsonb, uid uuid, tags int[], mood mood_{t}, pair pair_{t}, big text);
            ALTER TABLE {self.table} REPLICA IDENTITY {identity};
            CREATE PUBLICATION {self.publication} FOR TABLE {self.table};
        """)
        self.repl = await self.connect(replication="database")
        await self.repl.create_replication_slot(self.slot, plugin="pgoutput",
                                                two_phase=two_phase)
        return self.sql

    def stream(self, **kwargs: Any) -> Any:
        return self.repl.logical_replication(self.slot, [self.publication], **kwargs)

    async def close(self) -> None:
        for conn in self.opened:
            if not conn.is_closed():
                conn.terminate()
        admin = await self.api.connect(**self.server.connect_kwargs(), ssl="disable")
        try:
            await admin.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                f"WHERE slot_name = '{self.slot}' AND NOT active")
        finally:
            await admin.close()


@pytest.fixture
async def setup(api: Any, server: TemporaryCluster) -> Any:
    made = Setup(api, server)
    yield made
    await made.close()


async def _until_commits(stream: Any, commits: int, *, kinds: tuple[type, ...] = (
        po.Commit,)) -> list[Any]:
    got = []
    async for msg in stream:
        got.append(msg)
        if isinstance(msg, kinds):
            commits -= 1
            if not commits:
                break
    return got


ROW1 = {
    "id": 1, "name": "first", "price": Decimal("12.50"),
    "at": dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=dt.timezone.utc), "flag": True,
    "doc": {"a": [1, 2], "b": None}, "uid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "tags": [1, None, 3], "mood": "happy", "pair": (7, "seven"), "big": None,
}
ROW2 = {**ROW1, "id": 2, "name": "it's", "price": Decimal("-0.001"), "flag": False,
        "doc": [], "tags": [], "mood": "sad", "pair": (None, ""), "at": None}

INSERT = ("INSERT INTO {t} VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text::mood_{tag}, "
          "ROW($10::int, $11::text), $12)")


async def _insert(sql: Any, setup: Setup, row: dict[str, Any]) -> None:
    values = [row[k] for k in ("id", "name", "price", "at", "flag", "doc", "uid", "tags", "mood")]
    await sql.execute(INSERT.format(t=setup.table, tag=setup.tag), *values,
                      row["pair"][0], row["pair"][1], row["big"])


def _plain(row: dict[str, Any] | None) -> dict[str, Any] | None:
    """A decoded row with the composite as a tuple, for comparing."""
    if row is None:
        return None
    return {k: (tuple(v) if k == "pair" and v is not None else v) for k, v in row.items()}


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
async def test_changes_decoded_in_commit_order(setup: Setup, binary: bool) -> None:
    sql = await setup.create()
    await _insert(sql, setup, ROW1)
    async with sql.transaction():
        await _insert(sql, setup, ROW2)
        await sql.execute(f"UPDATE {setup.table} SET name = 'renamed' WHERE id = 1")
    await sql.execute(f"UPDATE {setup.table} SET id = 20 WHERE id = 2")  # the key changes
    await sql.execute(f"DELETE FROM {setup.table} WHERE id = 20")
    await sql.execute(f"TRUNCATE {setup.table}")
    stream = setup.stream(binary=binary)
    got = await _until_commits(stream, 5)
    # Type messages announce the user types before the first Relation using them.
    types = [m for m in got if isinstance(m, po.Type)]
    assert {m.name for m in types} == {f"mood_{setup.tag}", f"pair_{setup.tag}"}
    # (and the server may announce a relation again before a later change)
    assert isinstance(got[1 + len([m for m in got[:3] if isinstance(m, po.Type)])],
                      (po.Relation, po.Type))
    relations = [m for m in got if isinstance(m, po.Relation)]
    got = [m for m in got if not isinstance(m, (po.Type, po.Relation))]
    kinds = [type(m).__name__ for m in got]
    assert kinds == ["Begin", "Insert", "Commit",
                     "Begin", "Insert", "Update", "Commit",
                     "Begin", "Update", "Commit",
                     "Begin", "Delete", "Commit",
                     "Begin", "Truncate", "Commit"]
    relation = relations[0]
    assert {r.oid for r in relations} == {relation.oid}
    assert (relation.schema, relation.name) == ("public", setup.table)
    assert [c.name for c in relation.columns][:3] == ["id", "name", "price"]
    assert [c.name for c in relation.columns if c.is_key] == ["id"]
    inserts = [m for m in got if isinstance(m, po.Insert)]
    assert all(m.relation.oid == relation.oid for m in inserts)
    assert [_plain(m.new) for m in inserts] == [ROW1, ROW2]
    first_update, key_update = [m for m in got if isinstance(m, po.Update)]
    assert _plain(first_update.new) == {**ROW1, "name": "renamed"}
    assert first_update.old is None and first_update.key is None
    assert key_update.key is not None and key_update.key["id"] == 2
    assert _plain(key_update.new) == {**ROW2, "id": 20}
    delete = next(m for m in got if isinstance(m, po.Delete))
    assert delete.key is not None and delete.key["id"] == 20 and delete.old is None
    truncate = next(m for m in got if isinstance(m, po.Truncate))
    assert [r.name for r in truncate.relations] == [setup.table]
    assert not truncate.cascade and not truncate.restart_identity
    # Transactions: Begin's final LSN is its Commit's, commits in order.
    begins = [m for m in got if isinstance(m, po.Begin)]
    commits = [m for m in got if isinstance(m, po.Commit)]
    assert [b.final_lsn for b in begins] == [c.commit_lsn for c in commits]
    assert commits == sorted(commits, key=lambda c: c.commit_lsn)
    assert all(isinstance(c.end_lsn, LSN) and c.end_lsn > c.commit_lsn for c in commits)
    assert len({b.xid for b in begins}) == 5
    assert all(c.commit_time.tzinfo is not None for c in commits)
    await stream.stop()


async def test_replica_identity_full_sends_old_rows(setup: Setup) -> None:
    sql = await setup.create(identity="FULL")
    await _insert(sql, setup, ROW1)
    await sql.execute(f"UPDATE {setup.table} SET name = 'b' WHERE id = 1")
    await sql.execute(f"DELETE FROM {setup.table} WHERE id = 1")
    async with setup.stream() as stream:
        got = await _until_commits(stream, 3)
    update = next(m for m in got if isinstance(m, po.Update))
    assert _plain(update.old) == ROW1 and update.key is None
    assert _plain(update.new) == {**ROW1, "name": "b"}
    delete = next(m for m in got if isinstance(m, po.Delete))
    assert _plain(delete.old) == {**ROW1, "name": "b"} and delete.key is None


async def test_unchanged_toast_is_not_null(setup: Setup) -> None:
    sql = await setup.create()
    big = "".join(secrets.token_hex(16) for _ in range(1000))  # toasted, out of line
    await _insert(sql, setup, {**ROW1, "big": big})
    await sql.execute(f"UPDATE {setup.table} SET name = 'x' WHERE id = 1")
    await sql.execute(f"UPDATE {setup.table} SET big = NULL WHERE id = 1")
    async with setup.stream() as stream:
        got = await _until_commits(stream, 3)
    insert = next(m for m in got if isinstance(m, po.Insert))
    assert insert.new["big"] == big
    unchanged, nulled = [m for m in got if isinstance(m, po.Update)]
    assert unchanged.new["big"] is po.UNCHANGED_TOAST
    assert unchanged.new["name"] == "x"
    assert nulled.new["big"] is None


async def test_logical_messages_and_truncate_options(setup: Setup) -> None:
    sql = await setup.create()
    await sql.execute(f"CREATE TABLE child_{setup.tag} (id int REFERENCES {setup.table})")
    await sql.execute(f"ALTER PUBLICATION {setup.publication} ADD TABLE child_{setup.tag}")
    await sql.execute("SELECT pg_logical_emit_message(false, 'pfx', 'outside')")
    async with sql.transaction():
        await sql.execute("SELECT pg_logical_emit_message(true, 'pfx', '\\x00ff'::bytea)")
        await _insert(sql, setup, ROW1)
    await sql.execute(f"TRUNCATE {setup.table} RESTART IDENTITY CASCADE")
    async with setup.stream(messages=True) as stream:
        got = await _until_commits(stream, 2)
    messages = [m for m in got if isinstance(m, po.Message)]
    assert [(m.transactional, m.prefix, m.content) for m in messages] == [
        (False, "pfx", b"outside"), (True, "pfx", b"\x00\xff")]
    truncate = next(m for m in got if isinstance(m, po.Truncate))
    assert sorted(r.name for r in truncate.relations) == sorted(
        [setup.table, f"child_{setup.tag}"])
    assert truncate.cascade and truncate.restart_identity


async def test_big_transaction_is_streamed_in_progress(setup: Setup) -> None:
    sql = await setup.create()
    await sql.execute(
        f"INSERT INTO {setup.table} (id, name) SELECT g, 'row ' || g "
        "FROM generate_series(1, 3000) g")
    async with setup.stream(streaming=True) as stream:
        got = await _until_commits(stream, 1, kinds=(po.StreamCommit, po.Commit))
    assert isinstance(got[-1], po.StreamCommit)
    starts = [m for m in got if isinstance(m, po.StreamStart)]
    assert len(starts) >= 2 and starts[0].first_segment and not starts[1].first_segment
    assert len({s.xid for s in starts}) == 1 and got[-1].xid == starts[0].xid
    inserts = [m for m in got if isinstance(m, po.Insert)]
    assert [m.new["id"] for m in inserts] == list(range(1, 3001))
    assert all(m.xid == starts[0].xid for m in inserts)
    assert len([m for m in got if isinstance(m, po.StreamStop)]) == len(starts)


async def test_parallel_streaming_abort_carries_its_position(setup: Setup) -> None:
    sql = await setup.create()
    if sql.get_server_version().major < 16:
        pytest.skip("streaming=parallel and protocol 4 need PostgreSQL 16")
    async with sql.transaction():
        await sql.execute(
            f"INSERT INTO {setup.table} (id) SELECT g FROM generate_series(1, 3000) g")
        await sql.execute("SAVEPOINT s")
        await sql.execute(
            f"INSERT INTO {setup.table} (id) SELECT g FROM generate_series(3001, 6000) g")
        await sql.execute("ROLLBACK TO SAVEPOINT s")
    async with setup.stream(streaming="parallel") as stream:
        got = await _until_commits(stream, 1, kinds=(po.StreamCommit, po.Commit))
    aborts = [m for m in got if isinstance(m, po.StreamAbort)]
    assert aborts and all(isinstance(a.abort_lsn, LSN) for a in aborts)
    assert all(a.subxid != a.xid for a in aborts)
    kept = {m.new["id"] for m in got if isinstance(m, po.Insert)
            if m.xid not in {a.subxid for a in aborts}}
    assert kept == set(range(1, 3001))


async def test_two_phase_commit_and_rollback(setup: Setup) -> None:
    sql = await setup.create(two_phase=True)
    await sql.execute("BEGIN")
    await _insert(sql, setup, ROW1)
    await sql.execute(f"PREPARE TRANSACTION 'gid_{setup.tag}_1'")
    await sql.execute(f"COMMIT PREPARED 'gid_{setup.tag}_1'")
    await sql.execute("BEGIN")
    await _insert(sql, setup, ROW2)
    await sql.execute(f"PREPARE TRANSACTION 'gid_{setup.tag}_2'")
    await sql.execute(f"ROLLBACK PREPARED 'gid_{setup.tag}_2'")
    async with setup.stream(two_phase=True) as stream:
        got = await _until_commits(stream, 2, kinds=(po.CommitPrepared, po.RollbackPrepared))
    got = [m for m in got if not isinstance(m, (po.Type, po.Relation))]
    kinds = [type(m).__name__ for m in got]
    # (the second one's Insert may be left out: it was rolled back before
    # decoding reached its PREPARE)
    assert kinds[:4] == ["BeginPrepare", "Insert", "Prepare", "CommitPrepared"]
    assert kinds[4:] in (["BeginPrepare", "Insert", "Prepare", "RollbackPrepared"],
                         ["BeginPrepare", "Prepare", "RollbackPrepared"])
    assert got[0].gid == f"gid_{setup.tag}_1" and got[3].gid == got[0].gid
    assert got[-1].gid == f"gid_{setup.tag}_2"
    assert got[0].xid == got[2].xid == got[3].xid


async def test_origins_are_reported_and_filtered(setup: Setup) -> None:
    sql = await setup.create()
    origin = f"origin_{setup.tag}"
    await sql.execute(f"SELECT pg_replication_origin_create('{origin}')")
    try:
        await sql.execute(f"SELECT pg_replication_origin_session_setup('{origin}')")
        await _insert(sql, setup, ROW1)  # replicated from elsewhere
        await sql.execute("SELECT pg_replication_origin_session_reset()")
        await _insert(sql, setup, ROW2)  # local
        major = sql.get_server_version().major
        async with setup.stream() as stream:
            got = await _until_commits(stream, 2)
        origins = [m for m in got if isinstance(m, po.Origin)]
        assert [o.name for o in origins] == [origin]
        if major >= 16:
            # A second slot, filtering: only the local change comes.
            repl = await setup.connect(replication="database")
            await repl.create_replication_slot(setup.slot + "_b", plugin="pgoutput",
                                               temporary=True)
            await _insert(sql, setup, {**ROW1, "id": 3})
            await sql.execute(f"SELECT pg_replication_origin_session_setup('{origin}')")
            await _insert(sql, setup, {**ROW1, "id": 4})
            await sql.execute("SELECT pg_replication_origin_session_reset()")
            await _insert(sql, setup, {**ROW1, "id": 5})
            async with repl.logical_replication(setup.slot + "_b", [setup.publication],
                                                origin="none") as stream:
                filtered = await _until_commits(stream, 2)
            assert [m.new["id"] for m in filtered if isinstance(m, po.Insert)] == [3, 5]
    finally:
        try:
            await sql.execute("SELECT pg_replication_origin_session_reset()")
        except pgwire.PostgresError:
            pass  # none was set up any more
        await sql.execute(f"SELECT pg_replication_origin_drop('{origin}')")


async def test_resume_from_the_slot_after_confirming(setup: Setup) -> None:
    sql = await setup.create()
    for i in range(1, 6):
        await _insert(sql, setup, {**ROW1, "id": i})
    async with setup.stream() as stream:
        first = await _until_commits(stream, 2)
        first[-1].confirm()  # transactions 1 and 2 are done
    again = await setup.connect(replication="database")
    async with again.logical_replication(setup.slot, [setup.publication]) as stream:
        rest = await _until_commits(stream, 3)
    assert [m.new["id"] for m in rest if isinstance(m, po.Insert)] == [3, 4, 5]


async def test_bad_options_are_refused_before_streaming(setup: Setup) -> None:
    await setup.create()
    with pytest.raises(pgwire.InterfaceError, match="streaming must be"):
        setup.stream(streaming="sometimes")
    with pytest.raises(pgwire.InterfaceError, match="proto_version"):
        setup.stream(proto_version=9)
    with pytest.raises(pgwire.InterfaceError, match="needs proto_version"):
        setup.stream(proto_version=1, streaming=True)
    with pytest.raises(pgwire.InterfaceError, match="at least one publication"):
        setup.repl.logical_replication(setup.slot, [])
    # A publication that does not exist: the server's error, the connection fine.
    with pytest.raises(pgwire.PostgresError):
        async with setup.repl.logical_replication(setup.slot, ["no_such_pub"]) as stream:
            await _insert(setup.sql, setup, ROW1)
            async for _ in stream:
                pass
    assert setup.repl.is_closed() or await setup.repl.fetchval("SELECT 1") == 1
