"""A small inventory service written against asyncpg's documented API.

tests/test_asyncpg_app.py runs this file twice: as it is, on asyncpg, and
with its import line changed to ``import pgwire as asyncpg``; both runs
must report the same thing.  Nothing else in it may mention pgwire.
"""

import asyncio
import json

import asyncpg


async def _init(conn):
    # asyncpg returns json as text; the application decodes it itself.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads,
                              schema="pg_catalog")


async def run(dsn):
    report = {}
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP TABLE IF EXISTS app_items, app_moves")
        await conn.execute("""
            CREATE TABLE app_items (
                id serial PRIMARY KEY,
                name text UNIQUE NOT NULL,
                qty int NOT NULL CHECK (qty >= 0),
                attrs jsonb NOT NULL DEFAULT '{}'
            )""")
        await conn.execute(
            "CREATE TABLE app_moves (item int REFERENCES app_items, delta int, note text)")
        report["version_major"] = conn.get_server_version().major >= 14

        # COPY in, then prepared statements.
        await conn.copy_records_to_table(
            "app_items", records=[(f"item{i}", i * 10) for i in range(1, 6)],
            columns=["name", "qty"])
        stmt = await conn.prepare("SELECT id, qty FROM app_items WHERE name = $1")
        row = await stmt.fetchrow("item3")
        report["item3"] = (row["id"], row["qty"])
        report["params"] = [t.name for t in stmt.get_parameters()]
        report["attrs"] = [a.name for a in stmt.get_attributes()]

        # Transactions, nested (savepoint), with an error rolled back.
        async with conn.transaction():
            await conn.execute("UPDATE app_items SET qty = qty - 5 WHERE name = $1", "item1")
            try:
                async with conn.transaction():
                    await conn.execute("UPDATE app_items SET qty = -1 WHERE name = 'item2'")
            except asyncpg.CheckViolationError as exc:
                report["check"] = exc.sqlstate
            await conn.executemany(
                "INSERT INTO app_moves (item, delta, note) VALUES ($1, $2, $3)",
                [(1, -5, "sold"), (3, 2, "found")])
        try:
            await conn.execute("INSERT INTO app_items (name, qty) VALUES ('item1', 1)")
        except asyncpg.UniqueViolationError as exc:
            report["unique"] = (exc.sqlstate, exc.constraint_name)
        report["qty"] = [tuple(r) for r in await conn.fetch(
            "SELECT name, qty FROM app_items ORDER BY id")]

        # A codec set up per connection.
        await _init(conn)
        await conn.execute("UPDATE app_items SET attrs = $1 WHERE id = 1",
                           {"colour": "red", "tags": ["a"]})
        report["attrs_row"] = await conn.fetchval("SELECT attrs FROM app_items WHERE id = 1")

        # A server-side cursor.
        async with conn.transaction():
            names = [r["name"] async for r in conn.cursor(
                "SELECT name FROM app_items ORDER BY id", prefetch=2)]
            cur = await conn.cursor("SELECT id FROM app_items ORDER BY id")
            first = await cur.fetch(2)
            await cur.forward(1)
            rest = await cur.fetch(10)
        report["cursor"] = (names, [r["id"] for r in first], [r["id"] for r in rest])

        # COPY out to a callable.
        chunks = []

        async def sink(data):
            chunks.append(data)

        await conn.copy_from_query("SELECT name FROM app_items WHERE qty > $1 ORDER BY 1",
                                   20, output=sink)
        report["copy_out"] = b"".join(chunks).decode()

        # A listener.
        heard = asyncio.get_running_loop().create_future()

        def on_note(connection, pid, channel, payload):
            if not heard.done():
                heard.set_result((channel, payload))

        await conn.add_listener("app_events", on_note)
        other = await asyncpg.connect(dsn)
        try:
            await other.execute("SELECT pg_notify('app_events', 'restocked')")
        finally:
            await other.close()
        report["notify"] = await asyncio.wait_for(heard, 10)
        await conn.remove_listener("app_events", on_note)
    finally:
        await conn.close()

    # A pool, with a per-connection init and concurrent work.
    pool = await asyncpg.create_pool(dsn, min_size=2, max_size=4, init=_init)
    try:
        async def add(n):
            async with pool.acquire() as c:
                async with c.transaction():
                    await c.execute("UPDATE app_items SET qty = qty + $1 WHERE id = 1", n)
                    return await c.fetchval("SELECT attrs->>'colour' FROM app_items WHERE id = 1")

        colours = await asyncio.gather(*(add(1) for _ in range(20)))
        report["pool"] = (set(colours), await pool.fetchval(
            "SELECT qty FROM app_items WHERE id = 1"), pool.get_max_size())
        report["pool_attrs"] = await pool.fetchval("SELECT attrs FROM app_items WHERE id = 1")
    finally:
        await pool.close()
    return report


if __name__ == "__main__":
    import sys

    print(asyncio.run(run(sys.argv[1])))
