"""What the benchmark runs: the workloads, their SQL and their data.

Shared by the orchestrator (``run.py``: names, units, descriptions) and the
worker (``worker.py``: SQL, row counts, the ``executemany`` rows). SQL is
written once here with ``$n`` placeholders; the driver adapters in
``drivers.py`` spell it in their own parameter style.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

#: Rows produced by ``fetch_large``.
FETCH_LARGE_ROWS = 200_000
#: Rows inserted by one ``executemany`` call.
EXECUTEMANY_ROWS = 10_000
#: Records copied by one ``copy_in`` call.
COPY_ROWS = 200_000
#: Connections (tasks or threads) of ``select1_10conn``, and the pool size
#: (and tasks or threads) of ``select1_pool``.
MULTI_CONNECTIONS = 10

#: Drivers that have no connection pool of their own (no ``select1_pool`` row).
DRIVERS_WITHOUT_POOL = frozenset({"pg8000"})
#: Drivers whose connection refuses concurrent calls (no ``select1_shared`` row):
#: asyncpg raises "another operation is in progress"; pg8000 is not thread-safe.
DRIVERS_WITHOUT_SHARING = frozenset({"asyncpg", "pg8000"})

SELECT1_SQL = "SELECT $1::int"
FETCH_LARGE_SQL = (
    "SELECT i, 'row ' || i::text, now() + i * interval '1 second', (i::numeric / 7), "
    f"i % 2 = 0 FROM generate_series(1, {FETCH_LARGE_ROWS}) i"
)
#: Rows produced by ``fetch_typed``.
FETCH_TYPED_ROWS = 100_000
#: The user types ``fetch_typed`` reads (created with the benchmark's tables).
TYPED_CREATE = (
    "CREATE TYPE bench_mood AS ENUM ('sad', 'ok', 'happy'); "
    "CREATE TYPE bench_triple AS (a int, b text, c float8)"
)
FETCH_TYPED_SQL = (
    "SELECT ('10.' || (i % 256) || '.' || (i / 256 % 256) || '.1')::inet, "
    "int4range(i, i + 10), ROW(i, 'name ' || i, i / 3.0)::bench_triple, "
    "(ARRAY['sad', 'ok', 'happy']::bench_mood[])[i % 3 + 1], "
    "jsonb_build_object('id', i, 'tags', jsonb_build_array('a', 'b')) "
    f"FROM generate_series(1, {FETCH_TYPED_ROWS}) i"
)
#: The row-fetching workloads: (SQL, rows per call).
FETCH_WORKLOADS = {
    "fetch_large": (FETCH_LARGE_SQL, FETCH_LARGE_ROWS),
    "fetch_typed": (FETCH_TYPED_SQL, FETCH_TYPED_ROWS),
}
PG_TYPE_SQL = "SELECT * FROM pg_type"
EXECUTEMANY_TABLE = "bench_executemany"
EXECUTEMANY_CREATE = f"CREATE TABLE {EXECUTEMANY_TABLE} (a int, b text, c float8, d timestamptz)"
EXECUTEMANY_SQL = f"INSERT INTO {EXECUTEMANY_TABLE} (a, b, c, d) VALUES ($1, $2, $3, $4)"
TRUNCATE_SQL = f"TRUNCATE {EXECUTEMANY_TABLE}"
COUNT_SQL = f"SELECT count(*) FROM {EXECUTEMANY_TABLE}"
COPY_TABLE = "bench_copy"
COPY_COLUMNS = ("a", "b", "c", "d")
#: psycopg's ``Copy.set_types`` names for the columns (int, text, float8, timestamptz).
COPY_TYPES = ("int4", "text", "float8", "timestamptz")
COPY_CREATE = f"CREATE TABLE {COPY_TABLE} (a int, b text, c float8, d timestamptz)"
COPY_BINARY_SQL = f"COPY {COPY_TABLE} ({', '.join(COPY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
COPY_TEXT_SQL = f"COPY {COPY_TABLE} ({', '.join(COPY_COLUMNS)}) FROM STDIN"
COPY_TRUNCATE_SQL = f"TRUNCATE {COPY_TABLE}"
COPY_COUNT_SQL = f"SELECT count(*) FROM {COPY_TABLE}"

#: The pgbench script: the same statement as ``select1``, run with ``-M prepared``.
PGBENCH_SCRIPT = "\\set x 1\nSELECT :x::int;\n"


@dataclass(frozen=True)
class Workload:
    """One workload as the orchestrator presents it."""

    name: str
    #: What one unit of throughput is ("query" or "row").
    unit: str
    #: Connections the client opens.
    connections: int
    description: str

    @property
    def per_second(self) -> str:
        """The throughput unit, e.g. ``queries/s``."""
        return ("queries" if self.unit == "query" else self.unit + "s") + "/s"


WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        Workload(
            "select1",
            "query",
            1,
            "one connection, sequential `SELECT $1::int` with a varying argument",
        ),
        Workload(
            "select1_10conn",
            "query",
            MULTI_CONNECTIONS,
            f"{MULTI_CONNECTIONS} connections, one task (async) or thread (sync) each, "
            "sequential `SELECT $1::int`; total throughput",
        ),
        Workload(
            "select1_shared",
            "query",
            1,
            f"{MULTI_CONNECTIONS} tasks (async) or threads (sync) sharing one connection, each "
            "looping `SELECT $1::int`; total throughput (asyncpg and pg8000 refuse concurrent "
            "calls on a connection)",
        ),
        Workload(
            "select1_pool",
            "query",
            MULTI_CONNECTIONS,
            f"the driver's own pool of {MULTI_CONNECTIONS} connections, {MULTI_CONNECTIONS} "
            "tasks (async) or threads (sync) each looping acquire, `SELECT $1::int`, release; "
            "total throughput (pg8000 has no pool)",
        ),
        Workload(
            "connect",
            "connection",
            1,
            "a connection opened (TCP, no TLS, password-less trust login, startup and the "
            "driver's own first queries) and closed, one after another",
        ),
        Workload(
            "connect_tls",
            "connection",
            1,
            "as `connect`, over TLS: each driver's `sslmode=require` (encrypted, the "
            "server's certificate not verified); not run over the Unix socket",
        ),
        Workload(
            "fetch_large",
            "row",
            1,
            f"{FETCH_LARGE_ROWS:,} rows of (int, text, timestamptz, numeric, bool) "
            "from generate_series, fully fetched into a list",
        ),
        Workload(
            "fetch_typed",
            "row",
            1,
            f"{FETCH_TYPED_ROWS:,} rows of (inet, int4range, a 3-attribute composite, an enum, "
            "jsonb), fully fetched into a list (peers without codecs for the user types get "
            "them as text)",
        ),
        Workload(
            "pg_type",
            "query",
            1,
            "`SELECT * FROM pg_type` fully fetched (many columns of many types)",
        ),
        Workload(
            "executemany",
            "row",
            1,
            f"{EXECUTEMANY_ROWS:,} rows of (int, text, float8, timestamptz) inserted by one "
            "executemany call (table truncated before each call, untimed)",
        ),
        Workload(
            "copy_in",
            "row",
            1,
            f"{COPY_ROWS:,} records of (int, text, float8, timestamptz) copied into a table "
            "by one COPY FROM STDIN (binary, or text for pg8000; table truncated before "
            "each call, untimed)",
        ),
    )
}


def executemany_rows() -> list[tuple[int, str, float, dt.datetime]]:
    """The rows ``executemany`` inserts (built once per worker, untimed)."""
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    return [(i, f"row {i}", i / 7, base + dt.timedelta(seconds=i)) for i in range(EXECUTEMANY_ROWS)]


def copy_records() -> list[tuple[int, str, float, dt.datetime]]:
    """The records ``copy_in`` copies (built once per worker, untimed)."""
    base = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    return [(i, f"row {i}", i / 7, base + dt.timedelta(seconds=i)) for i in range(COPY_ROWS)]
