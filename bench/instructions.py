#!/usr/bin/env python3
"""Client CPU instructions per query or row, counted by valgrind: pgwire against its peers.

Throughput on a shared 2-core machine moves with the load; the number of
instructions the client executes per query does not.  For each client this
runs a short program under ``valgrind --tool=cachegrind --cache-sim=no``
twice, with N and 2N units of work after a warm-up, and reports
(instructions(2N) - instructions(N)) / N: start-up, imports and connecting
cancel out.  The server runs outside valgrind.  Workloads:

* ``select1`` (default): N queries of ``SELECT $1::int`` on one connection;
* ``executemany`` and ``copy_in``: one call inserting N rows of (int, text,
  float8, timestamptz), through the same driver adapters as ``run.py``
  (``bench/drivers.py``); both runs build the same 2N rows, so building
  them cancels out too;
* ``connect``: N connections opened (startup, trust login and the driver's
  own first queries) and closed, one after another, after 5 of warm-up.

    python bench/instructions.py                    # all clients, N = 2000
    python bench/instructions.py --queries 1000 --clients pgwire_sync,psycopg_sync
    python bench/instructions.py --workload copy_in --queries 20000
    python bench/instructions.py --workload connect --queries 50
    python bench/instructions.py --loop asyncio     # async clients on asyncio's own loop

Needs valgrind (``apt-get install valgrind``) and the peers of
``bench/requirements.txt``; a missing peer is skipped.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Each program connects, warms up (statement prepared and cached), then runs
# the measured loop; {n} queries, {dsn} the server.
PROGRAMS = {
    "pgwire_async": """
import asyncio, pgwire
async def main():
    conn = await pgwire.connect({dsn!r})
    for i in range(50):
        await conn.fetchval("SELECT $1::int", i)
    for i in range({n}):
        await conn.fetchval("SELECT $1::int", i)
    await conn.close()
asyncio.run(main())
""",
    "asyncpg": """
import asyncio, asyncpg
async def main():
    conn = await asyncpg.connect({dsn!r})
    for i in range(50):
        await conn.fetchval("SELECT $1::int", i)
    for i in range({n}):
        await conn.fetchval("SELECT $1::int", i)
    await conn.close()
asyncio.run(main())
""",
    "psycopg_async": """
import asyncio, psycopg
async def main():
    conn = await psycopg.AsyncConnection.connect({dsn!r}, autocommit=True)
    cur = conn.cursor()
    for i in range(50):
        await cur.execute("SELECT %s::int", (i,)); await cur.fetchone()
    for i in range({n}):
        await cur.execute("SELECT %s::int", (i,)); await cur.fetchone()
    await conn.close()
asyncio.run(main())
""",
    "pgwire_sync": """
import pgwire.sync
conn = pgwire.sync.connect({dsn!r})
for i in range(50):
    conn.fetchval("SELECT $1::int", i)
for i in range({n}):
    conn.fetchval("SELECT $1::int", i)
conn.close()
""",
    "psycopg_sync": """
import psycopg
conn = psycopg.connect({dsn!r}, autocommit=True)
cur = conn.cursor()
for i in range(50):
    cur.execute("SELECT %s::int", (i,)); cur.fetchone()
for i in range({n}):
    cur.execute("SELECT %s::int", (i,)); cur.fetchone()
conn.close()
""",
}

# connect: {n} connections opened and closed after 5 of warm-up.  IMPORT and
# OPEN are filled in per client; {n} and {dsn!r} stay for count_instructions.
CONNECT_ASYNC = """
import asyncio, IMPORT
async def main():
    for i in range(5 + {n}):
        conn = await OPEN
        await conn.close()
asyncio.run(main())
"""
CONNECT_SYNC = """
import IMPORT
for i in range(5 + {n}):
    OPEN.close()
"""
CONNECT_PROGRAMS = {
    client: template.replace("IMPORT", module).replace("OPEN", open_call)
    for client, template, module, open_call in (
        ("pgwire_async", CONNECT_ASYNC, "pgwire", "pgwire.connect({dsn!r})"),
        ("asyncpg", CONNECT_ASYNC, "asyncpg", "asyncpg.connect({dsn!r})"),
        ("psycopg_async", CONNECT_ASYNC, "psycopg",
         "psycopg.AsyncConnection.connect({dsn!r}, autocommit=True)"),
        ("pgwire_sync", CONNECT_SYNC, "pgwire.sync", "pgwire.sync.connect({dsn!r})"),
        ("psycopg_sync", CONNECT_SYNC, "psycopg", "psycopg.connect({dsn!r}, autocommit=True)"),
    )
}

# executemany / copy_in: {driver} is an adapter of bench/drivers.py, {n} rows.
BULK_PROGRAM = """
import sys
sys.path.insert(0, {bench!r})
import datetime as dt
import drivers
base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
rows = [(i, f"row {{i}}", i / 7, base + dt.timedelta(seconds=i)) for i in range(2 * {n})]
chosen = rows[:{n}] if {half} else rows
{setup}
"""
BULK_ASYNC = """
import asyncio
async def main():
    client = await drivers.{adapter}.open({info!r})
    await client.{method}(rows[:100])
    await client.{method}(chosen)
    await client.close()
asyncio.run(main())
"""
BULK_SYNC = """
client = drivers.{adapter}.open({info!r})
client.{method}(rows[:100])
client.{method}(chosen)
client.close()
"""
BULK_ADAPTERS = {
    "pgwire_async": ("PgwireAsync", BULK_ASYNC),
    "asyncpg": ("Asyncpg", BULK_ASYNC),
    "psycopg_async": ("PsycopgAsync", BULK_ASYNC),
    "pgwire_sync": ("PgwireSync", BULK_SYNC),
    "psycopg_sync": ("PsycopgSync", BULK_SYNC),
}
BULK_METHODS = {"executemany": "executemany", "copy_in": "copy_records"}


def bulk_program(client: str, workload: str, dsn: str, n: int, half: bool) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(dsn)
    info = {"host": parts.hostname, "port": parts.port or 5432, "user": parts.username,
            "database": parts.path.lstrip("/"), "password": parts.password}
    adapter, setup = BULK_ADAPTERS[client]
    return BULK_PROGRAM.format(
        bench=str(ROOT / "bench"), n=n, half=half,
        setup=setup.format(adapter=adapter, info=info, method=BULK_METHODS[workload]),
    )


# pgwire twice: compiled, and pure Python.
CLIENTS = {
    "pgwire_async": ("pgwire_async", {}),
    "pgwire_async_pure": ("pgwire_async", {"PGWIRE_NO_EXTENSIONS": "1"}),
    "asyncpg": ("asyncpg", {}),
    "psycopg_async": ("psycopg_async", {}),
    "pgwire_sync": ("pgwire_sync", {}),
    "pgwire_sync_pure": ("pgwire_sync", {"PGWIRE_NO_EXTENSIONS": "1"}),
    "psycopg_sync": ("psycopg_sync", {}),
}


def on_loop(program: str, loop: str) -> str:
    """``program`` with its async clients on ``loop`` (asyncio's own or uvloop)."""
    if loop == "uvloop":
        return program.replace("asyncio.run(main())", "import uvloop; uvloop.run(main())")
    return program


def count_instructions(program: str, env: dict[str, str]) -> int:
    """Instructions the client executed (all its threads), per cachegrind."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg.out"
        script = Path(tmp) / "client.py"
        script.write_text(program)
        done = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={out}",
             sys.executable, str(script)],
            capture_output=True, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        )
        if done.returncode != 0:
            raise RuntimeError(done.stderr[-2000:])
        match = re.search(r"I\s+refs:\s+([\d,]+)", done.stderr)
        if match is None:
            raise RuntimeError("no instruction count in valgrind's output")
        return int(match.group(1).replace(",", ""))


def make_tables(dsn: str) -> None:
    """The executemany and copy_in tables, as run.py creates them."""
    sys.path.insert(0, str(ROOT / "bench"))
    sys.path.insert(0, str(ROOT))
    from workloads import COPY_CREATE, COPY_TABLE, EXECUTEMANY_CREATE, EXECUTEMANY_TABLE

    import pgwire.sync

    conn = pgwire.sync.connect(dsn)
    try:
        for table, create in ((EXECUTEMANY_TABLE, EXECUTEMANY_CREATE), (COPY_TABLE, COPY_CREATE)):
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(create)
    finally:
        conn.close()


def available(client: str) -> bool:
    module = {"asyncpg": "asyncpg", "psycopg_async": "psycopg",
              "psycopg_sync": "psycopg"}.get(client)
    if module is None:
        return True
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", help="server (default: a throwaway one)")
    parser.add_argument("--queries", type=int, default=2000,
                        help="N: queries, rows of executemany / copy_in, or connections (default 2000)")
    parser.add_argument("--workload", choices=("select1", "executemany", "copy_in", "connect"),
                        default="select1")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                        help="event loop of the async clients; auto: uvloop when installed, "
                             "as run.py picks")
    args = parser.parse_args()
    loop = args.loop
    if loop == "auto":
        try:
            import uvloop  # noqa: F401
        except ImportError:
            loop = "asyncio"
        else:
            loop = "uvloop"
    names = [c for c in args.clients.split(",") if c]
    for name in names:
        if name not in CLIENTS:
            parser.error(f"unknown client {name!r}")

    def run(dsn: str) -> None:
        results: dict[str, float] = {}
        bulk = args.workload in BULK_METHODS
        if bulk:
            make_tables(dsn)
        unit = {"select1": "query", "connect": "connection"}.get(args.workload, "row")
        for name in names:
            program_name, env = CLIENTS[name]
            if not available(program_name):
                print(f"{name}: not installed", flush=True)
                continue
            n = args.queries
            if bulk:
                if program_name not in BULK_ADAPTERS:
                    continue
                small = count_instructions(on_loop(bulk_program(
                    program_name, args.workload, dsn, n, True), loop), env)
                large = count_instructions(on_loop(bulk_program(
                    program_name, args.workload, dsn, n, False), loop), env)
            else:
                template = on_loop((CONNECT_PROGRAMS if args.workload == "connect" else
                                    PROGRAMS)[program_name], loop)
                small = count_instructions(template.format(dsn=dsn, n=n), env)
                large = count_instructions(template.format(dsn=dsn, n=2 * n), env)
            results[name] = (large - small) / n
            print(f"{name}: {results[name]:,.0f} instructions per {unit}", flush=True)
        what = {"select1": "SELECT $1::int (one connection)",
                "connect": "connection opened and closed (TCP, no TLS, trust)"}.get(
            args.workload, f"{args.workload} row of (int, text, float8, timestamptz)")
        print(f"\ninstructions per {what}, N = {args.queries}, async clients on {loop}\n")
        print(f"| client | instructions per {unit} | vs asyncpg | vs psycopg sync |")
        print("|---|---|---|---|")
        for name, value in results.items():
            ratios = [f"{value / results[ref]:.2f}" if ref in results else ""
                      for ref in ("asyncpg", "psycopg_sync")]
            print(f"| {name} | {value:,.0f} | {ratios[0]} | {ratios[1]} |")

    if args.dsn:
        run(args.dsn)
    else:
        sys.path.insert(0, str(ROOT))
        from pgwire.testing import TemporaryCluster

        with TemporaryCluster(ssl=False) as cluster:
            run(cluster.dsn())
    return 0


if __name__ == "__main__":
    sys.exit(main())
