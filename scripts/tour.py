"""A short tour of pgwire against a throwaway PostgreSQL it starts itself.

Run with ``./scripts/tour.sh`` (which installs what is missing first).
"""

from __future__ import annotations

import asyncio
import datetime
import decimal

import pgwire
from pgwire.testing import TemporaryCluster


def show(label: str, value: object) -> None:
    print(f"  {label:<38} {value!r}")


async def tour(cluster: TemporaryCluster) -> None:
    dsn = cluster.dsn(user="scram_user", database="pgwire_test",
                      password=cluster.passwords["scram_user"])
    print(f"connecting to {dsn.replace(cluster.passwords['scram_user'], '***')}")
    conn = await pgwire.connect(dsn)
    try:
        version = conn.get_server_version()
        print(f"connected: PostgreSQL {version.major}.{version.minor}, "
              f"server pid {conn.get_server_pid()}, authenticated with SCRAM-SHA-256")

        print("\nqueries with parameters (binary format both ways):")
        show("SELECT $1::int + 1 with 41", await conn.fetchval("SELECT $1::int + 1", 41))
        row = await conn.fetchrow(
            "SELECT $1::text AS greeting, $2::numeric * 2 AS twice, $3::timestamptz AS at",
            "hello", decimal.Decimal("1.25"),
            datetime.datetime(2026, 11, 21, 12, 0, tzinfo=datetime.timezone.utc),
        )
        assert row is not None
        show("fetchrow(...)", row)
        show("row['greeting'], row[1]", (row["greeting"], row[1]))

        print("\nDDL, executemany (one pipelined round trip), fetch:")
        await conn.execute("DROP TABLE IF EXISTS tour_items; "
                           "CREATE TABLE tour_items (id int PRIMARY KEY, name text, tags text[])")
        await conn.executemany(
            "INSERT INTO tour_items VALUES ($1, $2, $3)",
            [(i, f"item {i}", ["a", "b"][: i % 3]) for i in range(1, 6)],
        )
        for record in await conn.fetch("SELECT * FROM tour_items WHERE id <= $1 ORDER BY id", 3):
            show("row", dict(record.items()))

        print("\na transaction that commits, and one that rolls back:")
        async with conn.transaction():
            status = await conn.execute("UPDATE tour_items SET name = upper(name) WHERE id = $1", 1)
            show("UPDATE inside transaction", status)
        try:
            async with conn.transaction():
                await conn.execute("DELETE FROM tour_items")
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        show("rows after rolled-back DELETE", await conn.fetchval("SELECT count(*) FROM tour_items"))

        print("\nan error that is caught:")
        try:
            await conn.execute("INSERT INTO tour_items VALUES ($1, $2, $3)", 1, "dup", [])
        except pgwire.UniqueViolationError as exc:
            show("caught", type(exc).__name__)
            show("sqlstate / constraint", (exc.sqlstate, exc.constraint_name))
            show("detail", exc.detail)
        show("connection still usable", await conn.fetchval("SELECT 'yes'"))

        print("\nprepared statement:")
        stmt = await conn.prepare("SELECT name FROM tour_items WHERE id = $1")
        show("parameters", [t.name for t in stmt.get_parameters()])
        show("fetchval(2)", await stmt.fetchval(2))
        await conn.execute("DROP TABLE tour_items")
    finally:
        await conn.close()
    print("\nclosed. The tour is over.")


def main() -> None:
    build = "compiled (Cython)" if pgwire.compiled else "pure Python"
    print(f"pgwire {pgwire.__version__}, {build} build")
    print("starting a throwaway PostgreSQL server...")
    with TemporaryCluster() as cluster:
        print(f"server listening on {cluster.host}:{cluster.port} "
              f"and in {cluster.unix_socket_dir}")
        asyncio.run(tour(cluster))


if __name__ == "__main__":
    main()
