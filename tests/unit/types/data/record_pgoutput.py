"""Record real pgoutput payloads from a server into pgoutput_recorded.json.

``python tests/unit/types/data/record_pgoutput.py DSN`` (a superuser on a
server with wal_level=logical, e.g. ``python -m pgwire.testing``): the unit
tests in ``test_pgoutput_recorded.py`` decode what it wrote.
"""

import asyncio
import json
import sys
from pathlib import Path

import pgwire

dsn = sys.argv[1]
OUTPUT = Path(__file__).with_name("pgoutput_recorded.json")


async def main() -> None:
    c = await pgwire.connect(dsn)
    await c.execute("""DROP PUBLICATION IF EXISTS rec_pub; DROP TABLE IF EXISTS rec_items;
      CREATE TABLE rec_items (id int PRIMARY KEY, name text, price numeric, at timestamptz, flag bool, tags int[], doc jsonb);
      CREATE PUBLICATION rec_pub FOR TABLE rec_items""")
    out = {}
    for label, opts, settings in (
        ("v1_text", {"proto_version": "1"}, {}),
        ("v1_binary", {"proto_version": "1", "binary": "true"}, {}),
        ("v2_streaming", {"proto_version": "2", "streaming": "on", "messages": "true"}, {"logical_decoding_work_mem": "64kB"}),
    ):
        r = await pgwire.connect(dsn, replication="database", server_settings=settings)
        slot = f"rec_{label}"
        try:
            await r.drop_replication_slot(slot)
        except pgwire.PostgresError:
            pass
        await r.create_replication_slot(slot, plugin="pgoutput")
        await c.execute("TRUNCATE rec_items")
        await c.execute("""INSERT INTO rec_items VALUES (1, 'first', 12.50, '2024-05-06 07:08:09.123456+00', true, '{1,NULL,3}', '{"a": [1, 2]}'), (2, NULL, NULL, NULL, NULL, NULL, NULL)""")
        await c.execute("UPDATE rec_items SET id = 3, name = 'moved' WHERE id = 2")
        await c.execute("DELETE FROM rec_items WHERE id = 3")
        if label == "v2_streaming":
            await c.execute("SELECT pg_logical_emit_message(false, 'pfx', 'outside')")
            await c.execute("INSERT INTO rec_items (id, name) SELECT g, 'row ' || g FROM generate_series(100, 1100) g")
        end = await c.fetchval("SELECT pg_current_wal_insert_lsn()")
        options = {**opts, "publication_names": '"rec_pub"'}
        payloads = []
        async with r.start_replication(slot, options=options) as stream:
            async for m in stream:
                payloads.append(m.payload.hex())
                if m.payload[:1] in (b"C", b"c") and m.data_start >= end:
                    break
        await r.drop_replication_slot(slot)
        await r.close()
        out[label] = payloads
        print(label, len(payloads), file=sys.stderr)
    await c.execute("DROP PUBLICATION rec_pub; DROP TABLE rec_items")
    json.dump({"server": c.get_server_version().major, "note": "recorded by record_pgoutput.py", **out}, OUTPUT.open("w"), indent=0)
if __name__ == "__main__":
    asyncio.run(main())
