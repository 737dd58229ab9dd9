"""Logical replication throughput: pgwire decoding pgoutput into Python values,
side by side with ``pg_recvlogical`` receiving the same stream (the C ceiling).

::

    python bench/replication.py                 # 1,000,000 rows: ~2-4 minutes
    python bench/replication.py --rows 200000   # quicker

One throwaway server; a table of 5 columns (int4, text, timestamptz,
numeric, bool) in a publication; one pgoutput slot per client, all created
before the workload (so every client receives exactly the same changes);
then ``--rows`` rows inserted in transactions of 10,000.  Each client then
reads its slot from the start to the workload's end LSN, in a process of
its own:

* ``pg_recvlogical --start -o proto_version=1 -o publication_names=... -f
  /dev/null --endpos ...``: receives the pgoutput bytes and writes them
  nowhere (no decoding at all);
* pgwire (``conn.logical_replication``), asyncio and blocking API, text
  and binary tuples, compiled and pure-Python builds: every Insert decoded
  into a dict of Python values, every Commit confirmed.

Reported: changes per second (wall time, from the start command to the
last commit) and client CPU per change (the client process's user + system
time; the server's decoding is the same for all and is not counted), and
the ratio to pg_recvlogical's rate.  The server and the client share the
machine's cores, so a client that spends CPU slows the server too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))

TABLE = "bench_repl"
PUBLICATION = "bench_repl_pub"
CREATE = (f"CREATE TABLE {TABLE} (id int4, name text, at timestamptz, amount numeric, "
          f"flag bool); CREATE PUBLICATION {PUBLICATION} FOR TABLE {TABLE}")
BATCH = 10_000

# (label, api, binary, pure build)
PGWIRE_CLIENTS = [
    ("pgwire async, text", "async", False, False),
    ("pgwire async, binary", "async", True, False),
    ("pgwire sync, text", "sync", False, False),
    ("pgwire async, text (pure Python)", "async", False, True),
]


def _cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Read one slot to the end LSN; report changes, wall and CPU."""
    import pgwire
    from pgwire.replication import Commit, Insert
    from pgwire.types import LSN

    end = LSN(spec["end"])
    info = spec["conninfo"]

    def done(changes: int, wall: float) -> dict[str, Any]:
        return {"changes": changes, "wall": wall, "cpu": time.process_time(),
                "compiled": pgwire.compiled}

    if spec["api"] == "sync":
        import pgwire.sync

        conn = pgwire.sync.connect(**info, replication="database", ssl=False)
        started = time.perf_counter()
        changes = 0
        stream = conn.logical_replication(spec["slot"], [PUBLICATION], binary=spec["binary"])
        for msg in stream:
            if type(msg) is Insert:
                changes += 1
            elif type(msg) is Commit:
                msg.confirm()
                if msg.end_lsn >= end:
                    break
        wall = time.perf_counter() - started
        stream.stop()
        conn.close()
        return done(changes, wall)

    import asyncio

    async def run() -> dict[str, Any]:
        conn = await pgwire.connect(**info, replication="database", ssl=False)
        started = time.perf_counter()
        changes = 0
        stream = conn.logical_replication(spec["slot"], [PUBLICATION], binary=spec["binary"])
        async for msg in stream:
            if type(msg) is Insert:
                changes += 1
            elif type(msg) is Commit:
                msg.confirm()
                if msg.end_lsn >= end:
                    break
        wall = time.perf_counter() - started
        await stream.stop()
        await conn.close()
        return done(changes, wall)

    try:
        import uvloop
    except ImportError:
        return asyncio.run(run())
    return uvloop.run(run())


def _run_worker(spec: dict[str, Any], pure: bool) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if pure:
        env["PGWIRE_NO_EXTENSIONS"] = "1"
    proc = subprocess.run([sys.executable, __file__, "--worker", json.dumps(spec)],
                          capture_output=True, text=True, env=env)
    if proc.returncode:
        raise SystemExit(f"worker failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return 0

    from pgwire.testing import TemporaryCluster

    with TemporaryCluster(ssl=False) as cluster:
        db = cluster.database
        cluster.psql(CREATE, database=db)
        # pg_recvlogical runs first and last: the first reader of the WAL
        # finds it colder than the others do; the faster of its runs is the
        # reference.
        slots = (["bench_slot_recvlogical_1"]
                 + [f"bench_slot_{i}" for i in range(len(PGWIRE_CLIENTS))]
                 + ["bench_slot_recvlogical_2"])
        for slot in slots:
            cluster.psql(f"SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput')",
                         database=db)
        started = time.monotonic()
        for first in range(0, args.rows, BATCH):
            last = min(first + BATCH, args.rows)
            cluster.psql(
                f"INSERT INTO {TABLE} SELECT g, 'name ' || g, "
                "'2024-01-01 00:00:00+00'::timestamptz + g * interval '1 second', "
                f"g / 7.0, g % 2 = 0 FROM generate_series({first + 1}, {last}) g",
                database=db)
        end = cluster.psql("SELECT pg_current_wal_insert_lsn()", database=db).strip()
        print(f"workload: {args.rows:,} rows in {time.monotonic() - started:.1f} s, "
              f"end LSN {end}", file=sys.stderr)
        server = cluster.psql("SHOW server_version", database=db).strip()
        info = cluster.connect_kwargs()

        results: list[tuple[str, int, float, float]] = []

        def recvlogical(slot: str, label: str) -> None:
            cpu0 = _cpu_of_children()
            t0 = time.perf_counter()
            subprocess.run(
                [str(cluster.bindir / "pg_recvlogical"), "-d", cluster.dsn(), "--slot", slot,
                 "--start", "-o", "proto_version=1", "-o", f"publication_names={PUBLICATION}",
                 "-f", "/dev/null", "--endpos", end, "--no-loop"],
                check=True, env={**os.environ, "PGSSLMODE": "disable"})
            results.append((label, args.rows, time.perf_counter() - t0,
                            _cpu_of_children() - cpu0))
            print(f"{label}: {args.rows / results[-1][2]:,.0f} changes/s", file=sys.stderr)

        recvlogical(slots[0], "pg_recvlogical, first run (receives, no decoding)")
        for (label, api, binary, pure), slot in zip(PGWIRE_CLIENTS, slots[1:-1]):
            spec = {"conninfo": info, "slot": slot, "end": end, "api": api, "binary": binary}
            out = _run_worker(spec, pure)
            if out["changes"] != args.rows:
                raise SystemExit(f"{label}: {out['changes']} changes, expected {args.rows}")
            results.append((label, out["changes"], out["wall"], out["cpu"]))
            print(f"{label}: {out['changes'] / out['wall']:,.0f} changes/s", file=sys.stderr)
        recvlogical(slots[-1], "pg_recvlogical, last run")

    base = max(results[0][1] / results[0][2], results[-1][1] / results[-1][2])
    print(f"PostgreSQL {server}, {args.rows:,} rows of (int4, text, timestamptz, numeric, "
          f"bool), TCP loopback\n")
    print("| client | changes/s | client CPU per change | vs pg_recvlogical (faster run) |")
    print("|---|---|---|---|")
    for label, changes, wall, cpu in results:
        print(f"| {label} | {changes / wall:,.0f} | {cpu / changes * 1e6:.2f} µs "
              f"| {changes / wall / base:.2f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
