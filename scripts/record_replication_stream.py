#!/usr/bin/env python3
"""Record the bytes of a real logical replication stream, for the server-less engine tests.

Starts a throwaway PostgreSQL (``pgwire.testing.TemporaryCluster``), makes a
table, a publication and a pgoutput slot, changes some rows, then opens a
``replication=database`` connection with pgwire's own flows and runs
``START_REPLICATION``.  Every chunk the server sends while the stream runs
is recorded, then the client's CopyDone and every chunk until the command
completes.  The result is written as JSON (hex chunks) to
``tests/unit/protocol/data/pgoutput_stream.json``; ``test_engine_copy_both``
replays it through the engine.

Usage: ``python scripts/record_replication_stream.py`` (needs PostgreSQL
server binaries, as the tests do).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pgwire.sync  # noqa: E402
from pgwire import Record, connect_sync  # noqa: E402
from pgwire.api.arguments import prepare_connect  # noqa: E402
from pgwire.drivers.blocking import BlockingDriver  # noqa: E402
from pgwire.flows.connect import connect_flow  # noqa: E402
from pgwire.flows.requests import Flow, Progress, Start, Wait, Write  # noqa: E402
from pgwire.protocol import CopyBoth  # noqa: E402
from pgwire.testing import TemporaryCluster  # noqa: E402

OUTPUT = ROOT / "tests" / "unit" / "protocol" / "data" / "pgoutput_stream.json"
QUERY = ("START_REPLICATION SLOT pgwire_recording LOGICAL 0/0 "
         "(proto_version '1', publication_names 'pgwire_recording')")


def stream_flow(op: CopyBoth, commits_wanted: int, stopping: Callable[[], None]) -> Flow[None]:
    """Stream until ``commits_wanted`` pgoutput Commit messages, then stop."""
    yield Start(op)
    commits = 0
    while commits < commits_wanted:
        yield Progress(op)
        for chunk in op.take():
            # XLogData: 'w', three LSN/time words, then the pgoutput message.
            if chunk[:1] == b"w" and chunk[25:26] == b"C":
                commits += 1
        if op.done:
            raise RuntimeError(f"the stream ended early: {op.error}")
    stopping()
    yield Write(op.end())
    yield Wait(op)
    if op.error is not None:
        raise op.error


def main() -> int:
    with TemporaryCluster(ssl=False) as cluster:
        kwargs = cluster.connect_kwargs()
        with connect_sync(**kwargs, ssl="disable") as conn:
            conn.execute("CREATE TABLE recorded (id int PRIMARY KEY, name text, score numeric)")
            conn.execute("CREATE PUBLICATION pgwire_recording FOR TABLE recorded")
            conn.execute("SELECT pg_create_logical_replication_slot('pgwire_recording', "
                         "'pgoutput')")
            conn.execute("INSERT INTO recorded VALUES (1, 'one', 1.5), (2, NULL, 2)")
            conn.execute("UPDATE recorded SET name = 'two' WHERE id = 2")
            conn.execute("DELETE FROM recorded WHERE id = 1")
            version = conn.get_settings().server_version
        params, new_session = prepare_connect(
            None, host=kwargs["host"], port=kwargs["port"], user=kwargs["user"],
            password=kwargs.get("password"), database=kwargs["database"], timeout=30,
            statement_cache_size=0, server_settings={"replication": "database"},
            ssl="disable", record_class=Record, connection_class=pgwire.sync.Connection,
            connection_base=pgwire.sync.Connection, type_registry=None, unsupported={},
        )
        driver = BlockingDriver()
        driver.run_flow(connect_flow(params, new_session, detect_pooler=False))
        received: list[tuple[str, bytes]] = []
        phase = ["stream"]
        feed = driver._feed

        def recording_feed(data: bytes) -> Any:
            received.append((phase[0], bytes(data)))
            return feed(data)

        driver._feed = recording_feed  # type: ignore[method-assign]
        op = CopyBoth(QUERY)

        def stopping() -> None:
            phase[0] = "after CopyDone"

        driver.run_flow(stream_flow(op, 3, stopping), driver.deadline(60))
        driver.abort()
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps({
        "recorded_by": "scripts/record_replication_stream.py",
        "server_version": version,
        "query": QUERY,
        "stream": [chunk.hex() for kind, chunk in received if kind == "stream"],
        "after_copy_done": [chunk.hex() for kind, chunk in received if kind != "stream"],
    }, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.relative_to(ROOT)}: {len(received)} chunks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
