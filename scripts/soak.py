#!/usr/bin/env python3
"""Soak test: many tasks on a pool for a while, mixed work, errors on purpose.

``python scripts/soak.py`` runs 2,000 asyncio tasks on a pool of 20
connections for 60 seconds (then 200 threads on a blocking pool of 20 for
as long) against a throwaway PostgreSQL it starts itself, or ``--dsn``.
Each task loops over a random mix: a query whose answer is checked against
a fresh token, a few hundred rows, a transaction that commits or rolls back,
statement texts from a set larger than the statement cache, executemany,
server errors (division by zero, unique violation inside a transaction),
a timeout on pg_sleep, a cancelled task (asyncio), and a LISTEN/NOTIFY round.

It reports, per API: operations done, expected errors by kind, unexpected
errors (must be 0), resident memory after warm-up and at the end (growth
must stay under 10 %; glibc's per-thread malloc caches are turned off, see
``MALLOC_TUNABLE``), and the bounds of what the connections keep (the
statement cache, the server's prepared statements, listener registries).
The exit status is 1 if a check fails.  CI runs a 10-second version
(``tests/test_soak.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import os
import random
import secrets
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pgwire  # noqa: E402
import pgwire.sync  # noqa: E402

# More distinct statement texts than the statement cache holds (100), so
# evictions (and their Close messages) happen all the time.
STATEMENT_VARIANTS = 200
STATEMENT_CACHE_SIZE = 100
SETUP_SQL = """
DROP TABLE IF EXISTS soak_items;
CREATE TABLE soak_items (id bigint PRIMARY KEY, task int, payload text);
"""


def _malloc_trim() -> Callable[[], None]:
    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc
        return lambda: None
    return lambda: trim(0)


malloc_trim = _malloc_trim()


def rss_bytes() -> int:
    """Resident set size of this process (Linux), after a garbage
    collection and handing freed heap back to the system, so it follows
    what is live rather than the allocator's high-water mark."""
    gc.collect()
    malloc_trim()
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class Report:
    api: str
    seconds: float = 0.0
    workers: int = 0
    connections: int = 0
    operations: Counter[str] = field(default_factory=Counter)
    expected_errors: Counter[str] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    rss_samples: list[int] = field(default_factory=list)  # once a second after warm-up
    bounds: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    # Memory is compared between the first and the last samples taken under
    # load (the median of three each, so one transient peak does not decide).
    @property
    def rss_warm(self) -> int:
        return int(statistics.median(self.rss_samples[:3])) if self.rss_samples else 0

    @property
    def rss_end(self) -> int:
        return int(statistics.median(self.rss_samples[-3:])) if self.rss_samples else 0

    @property
    def rss_growth(self) -> float:
        return (self.rss_end - self.rss_warm) / self.rss_warm if self.rss_warm else 0.0

    def check(self, max_growth: float = 0.10) -> None:
        if self.unexpected:
            self.problems.append(f"{len(self.unexpected)} unexpected errors, first: "
                                 f"{self.unexpected[0]}")
        if len(self.rss_samples) < 6:
            self.problems.append("too few memory samples (run longer than the warm-up + 6 s)")
        elif self.rss_growth > max_growth:
            self.problems.append(f"RSS grew {self.rss_growth:.1%} after warm-up "
                                 f"(limit {max_growth:.0%})")
        if self.bounds.get("statement_cache_max", 0) > STATEMENT_CACHE_SIZE:
            self.problems.append("a statement cache outgrew its size")
        if self.bounds.get("server_statements_max", 0) > STATEMENT_CACHE_SIZE + 5:
            self.problems.append("the server holds more statements than the cache")
        if self.bounds.get("listener_channels", 0) or self.bounds.get("pending_closes_max", 0) > 5:
            self.problems.append("listener registries or pending closes not emptied")
        if sum(self.operations.values()) == 0:
            self.problems.append("no operation completed")

    def lines(self) -> list[str]:
        ops = sum(self.operations.values())
        out = [
            f"{self.api}: {self.workers} workers on {self.connections} connections for "
            f"{self.seconds:.0f} s: {ops} operations ({ops / max(self.seconds, 1e-9):.0f}/s)",
            "  operations: " + ", ".join(f"{k} {v}" for k, v in sorted(self.operations.items())),
            "  expected errors: " + ", ".join(
                f"{k} {v}" for k, v in sorted(self.expected_errors.items())),
            f"  unexpected errors: {len(self.unexpected)}",
            f"  RSS after warm-up {self.rss_warm / 2**20:.1f} MiB, at the end "
            f"{self.rss_end / 2**20:.1f} MiB ({self.rss_growth:+.1%}; "
            f"{len(self.rss_samples)} samples under load)",
            "  bounds: " + ", ".join(f"{k} {v}" for k, v in sorted(self.bounds.items())),
        ]
        out += [f"  PROBLEM: {p}" for p in self.problems]
        return out


class Work:
    """The mixed operations, written once for both APIs (``call`` awaits or not)."""

    def __init__(self, report: Report, seed: int) -> None:
        self.report = report
        self.rng = random.Random(seed)
        self.next_id = seed * 10_000_000

    def pick(self) -> str:
        return self.rng.choices(
            ["token", "rows", "commit", "rollback", "variant", "executemany",
             "division", "unique", "timeout", "listen", "cancel"],
            weights=[30, 10, 8, 4, 15, 5, 4, 3, 2, 2, 2],
        )[0]

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


async def async_step(conn: Any, work: Work, kind: str, task: int) -> None:
    rng = work.rng
    if kind == "token":
        token = secrets.token_hex(8)
        got = await conn.fetchval("SELECT $1::text", token)
        if got != token:
            raise AssertionError(f"out of step: sent {token}, got {got!r}")
    elif kind == "rows":
        rows = await conn.fetch("SELECT g, md5(g::text) FROM generate_series(1, $1) g",
                                rng.randint(1, 500))
        if rows and rows[-1][0] != len(rows):
            raise AssertionError("rows out of order")
    elif kind in ("commit", "rollback"):
        ident = work.new_id()
        try:
            async with conn.transaction():
                await conn.execute("INSERT INTO soak_items VALUES ($1, $2, $3)", ident, task,
                                   "x" * rng.randint(0, 200))
                if kind == "rollback":
                    raise _Rollback
        except _Rollback:
            pass
        present = await conn.fetchval("SELECT count(*) FROM soak_items WHERE id = $1", ident)
        if present != (kind == "commit"):
            raise AssertionError(f"transaction outcome wrong for {kind}")
    elif kind == "variant":
        k = rng.randrange(STATEMENT_VARIANTS)
        if await conn.fetchval(f"SELECT $1::int + {k}", 1) != 1 + k:
            raise AssertionError("variant answer wrong")
    elif kind == "executemany":
        await conn.executemany("INSERT INTO soak_items VALUES ($1, $2, $3)",
                               [(work.new_id(), task, "m") for _ in range(rng.randint(1, 20))])
    elif kind == "division":
        try:
            await conn.execute("SELECT 1 / (random() < 2)::int / 0")
        except pgwire.DivisionByZeroError:
            work.report.expected_errors["division_by_zero"] += 1
    elif kind == "unique":
        ident = work.new_id()
        try:
            async with conn.transaction():
                await conn.execute("INSERT INTO soak_items VALUES ($1, $2, 'u')", ident, task)
                await conn.execute("INSERT INTO soak_items VALUES ($1, $2, 'u')", ident, task)
        except pgwire.UniqueViolationError:
            work.report.expected_errors["unique_violation"] += 1
    elif kind == "timeout":
        try:
            await conn.execute("SELECT pg_sleep(5)", timeout=0.05)
        except (TimeoutError, asyncio.TimeoutError):
            work.report.expected_errors["timeout"] += 1
    elif kind == "listen":
        channel = f"soak_{task % 7}"
        received: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def on_notify(_c: Any, _pid: int, _channel: str, payload: str) -> None:
            if not received.done():
                received.set_result(payload)

        await conn.add_listener(channel, on_notify)
        try:
            token = secrets.token_hex(4)
            await conn.execute("SELECT pg_notify($1, $2)", channel, token)
            await asyncio.wait_for(received, 10)
        finally:
            await conn.remove_listener(channel, on_notify)
    elif kind == "cancel":
        job = asyncio.ensure_future(conn.execute("SELECT pg_sleep(5)"))
        await asyncio.sleep(rng.uniform(0, 0.02))
        job.cancel()
        try:
            await job
        except asyncio.CancelledError:
            work.report.expected_errors["cancelled"] += 1
        else:
            raise AssertionError("pg_sleep(5) finished within 20 ms")
    work.report.operations[kind] += 1


def sync_step(conn: Any, work: Work, kind: str, task: int) -> None:
    rng = work.rng
    if kind in ("listen", "cancel"):
        kind = "token"  # listeners need a poll loop; cancellation is asyncio's
    if kind == "token":
        token = secrets.token_hex(8)
        got = conn.fetchval("SELECT $1::text", token)
        if got != token:
            raise AssertionError(f"out of step: sent {token}, got {got!r}")
    elif kind == "rows":
        rows = conn.fetch("SELECT g, md5(g::text) FROM generate_series(1, $1) g",
                          rng.randint(1, 500))
        if rows and rows[-1][0] != len(rows):
            raise AssertionError("rows out of order")
    elif kind in ("commit", "rollback"):
        ident = work.new_id()
        try:
            with conn.transaction():
                conn.execute("INSERT INTO soak_items VALUES ($1, $2, $3)", ident, task,
                             "x" * rng.randint(0, 200))
                if kind == "rollback":
                    raise _Rollback
        except _Rollback:
            pass
        present = conn.fetchval("SELECT count(*) FROM soak_items WHERE id = $1", ident)
        if present != (kind == "commit"):
            raise AssertionError(f"transaction outcome wrong for {kind}")
    elif kind == "variant":
        k = rng.randrange(STATEMENT_VARIANTS)
        if conn.fetchval(f"SELECT $1::int + {k}", 1) != 1 + k:
            raise AssertionError("variant answer wrong")
    elif kind == "executemany":
        conn.executemany("INSERT INTO soak_items VALUES ($1, $2, $3)",
                         [(work.new_id(), task, "m") for _ in range(rng.randint(1, 20))])
    elif kind == "division":
        try:
            conn.execute("SELECT 1 / (random() < 2)::int / 0")
        except pgwire.DivisionByZeroError:
            work.report.expected_errors["division_by_zero"] += 1
    elif kind == "unique":
        ident = work.new_id()
        try:
            with conn.transaction():
                conn.execute("INSERT INTO soak_items VALUES ($1, $2, 'u')", ident, task)
                conn.execute("INSERT INTO soak_items VALUES ($1, $2, 'u')", ident, task)
        except pgwire.UniqueViolationError:
            work.report.expected_errors["unique_violation"] += 1
    elif kind == "timeout":
        try:
            conn.execute("SELECT pg_sleep(5)", timeout=0.05)
        except TimeoutError:
            work.report.expected_errors["timeout"] += 1
    work.report.operations[kind] += 1


class _Rollback(Exception):
    pass


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


async def _async_bounds(pool: Any, report: Report) -> None:
    cache_max = closes_max = channels = 0
    server_max = 0
    for holder in list(pool._holders):
        session = holder.runner.session
        cache_max = max(cache_max, len(session.cache))
        closes_max = max(closes_max, len(session._to_close))
        channels += len(holder.runner.listeners.channels)
    for _ in range(len(pool._holders)):
        async with pool.acquire() as conn:
            server_max = max(server_max, await conn.fetchval(
                "SELECT count(*) FROM pg_prepared_statements"))
    report.bounds.update(statement_cache_max=cache_max, pending_closes_max=closes_max,
                         listener_channels=channels, server_statements_max=server_max,
                         pool_size=pool.get_size())


async def soak_async(dsn: str, seconds: float, tasks: int, connections: int,
                     warmup: float) -> Report:
    report = Report("asyncio", workers=tasks, connections=connections)
    pool = await pgwire.create_pool(dsn, min_size=connections, max_size=connections,
                                    statement_cache_size=STATEMENT_CACHE_SIZE)
    try:
        async with pool.acquire() as conn:
            await conn.execute(SETUP_SQL)

        async def fill_cache() -> None:
            # Every statement cache full before the clock starts, so the
            # memory they legitimately hold is not counted as growth.
            async with pool.acquire() as conn:
                for k in range(STATEMENT_VARIANTS):
                    await conn.fetchval(f"SELECT $1::int + {k}", 1)
                await asyncio.sleep(0.5)  # hold it, so each filler gets its own

        await asyncio.gather(*(fill_cache() for _ in range(connections)))
        start = time.monotonic()
        deadline = start + seconds

        async def worker(task: int) -> None:
            work = Work(report, seed=task + 1)
            while time.monotonic() < deadline:
                kind = work.pick()
                try:
                    async with pool.acquire(timeout=30) as conn:
                        await async_step(conn, work, kind, task)
                except Exception as exc:
                    report.unexpected.append(f"{kind}: {_describe(exc)}")

        async def sample_memory() -> None:
            await asyncio.sleep(warmup)
            while time.monotonic() < deadline - 0.5:
                report.rss_samples.append(rss_bytes())
                await asyncio.sleep(1)

        await asyncio.gather(sample_memory(), *(worker(t) for t in range(tasks)))
        report.seconds = time.monotonic() - start
        await _async_bounds(pool, report)
    finally:
        await pool.close()
    report.check()
    return report


def soak_sync(dsn: str, seconds: float, threads: int, connections: int,
              warmup: float) -> Report:
    report = Report("blocking", workers=threads, connections=connections)
    pool = pgwire.sync.create_pool(dsn, min_size=connections, max_size=connections,
                                   statement_cache_size=STATEMENT_CACHE_SIZE)
    lock = threading.Lock()
    try:
        with pool.acquire() as conn:
            conn.execute(SETUP_SQL)
        held = [pool.acquire() for _ in range(connections)]
        for context in held:
            conn = context.__enter__()
            for k in range(STATEMENT_VARIANTS):
                conn.fetchval(f"SELECT $1::int + {k}", 1)
        for context in held:
            context.__exit__(None, None, None)
        start = time.monotonic()
        deadline = start + seconds

        def worker(task: int) -> None:
            local = Report("blocking")
            work = Work(local, seed=task + 1)
            while time.monotonic() < deadline:
                kind = work.pick()
                try:
                    with pool.acquire(timeout=30) as conn:
                        sync_step(conn, work, kind, task)
                except Exception as exc:
                    local.unexpected.append(f"{kind}: {_describe(exc)}")
            with lock:
                report.operations.update(local.operations)
                report.expected_errors.update(local.expected_errors)
                report.unexpected.extend(local.unexpected)

        pool_threads = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
        for thread in pool_threads:
            thread.start()
        time.sleep(warmup)
        while time.monotonic() < deadline - 0.5:
            report.rss_samples.append(rss_bytes())
            time.sleep(1)
        for thread in pool_threads:
            thread.join(seconds + 120)
        if any(thread.is_alive() for thread in pool_threads):
            report.unexpected.append("a worker thread hung")
        report.seconds = time.monotonic() - start
        cache_max = closes_max = server_max = 0
        for holder in list(pool._holders):
            session = holder.runner.session
            cache_max = max(cache_max, len(session.cache))
            closes_max = max(closes_max, len(session._to_close))
        for _ in range(pool.get_size()):
            with pool.acquire() as conn:
                server_max = max(server_max, conn.fetchval(
                    "SELECT count(*) FROM pg_prepared_statements"))
        report.bounds.update(statement_cache_max=cache_max, pending_closes_max=closes_max,
                             server_statements_max=server_max, pool_size=pool.get_size())
    finally:
        pool.close()
    report.check()
    return report


def run(dsn: str, seconds: float, tasks: int, threads: int, connections: int,
        apis: tuple[str, ...] = ("async", "sync"), warmup: float | None = None,
        emit: Callable[[str], None] = print) -> list[Report]:
    """Run the soak on each API in turn; print and return the reports.

    Memory is compared between the end of the warm-up (by default a quarter
    of the run, 2 to 15 s) and the end; the warm-up is part of ``seconds``.
    """
    if warmup is None:
        warmup = min(max(seconds * 0.25, 2.0), 15.0)
    reports = []
    if "async" in apis:
        reports.append(asyncio.run(soak_async(dsn, seconds, tasks, connections, warmup)))
        for line in reports[-1].lines():
            emit(line)
    if "sync" in apis:
        reports.append(soak_sync(dsn, seconds, threads, connections, warmup))
        for line in reports[-1].lines():
            emit(line)
    return reports


# glibc keeps a small cache of freed blocks per thread (tcache).  With 200
# threads these fill over the first minutes and read as steady growth of
# the resident size (measured: +20 % in 60 s, flat with the caches off,
# while the Python heap stays the same), so the soak runs without them and
# its RSS follows live memory.
MALLOC_TUNABLE = "glibc.malloc.tcache_count=0"


def _without_malloc_caches() -> None:
    """Run this script again with glibc's per-thread caches off (see above)."""
    if os.environ.get("GLIBC_TUNABLES") is None and sys.platform == "linux":
        env = {**os.environ, "GLIBC_TUNABLES": MALLOC_TUNABLE}
        os.execve(sys.executable, [sys.executable, *sys.argv], env)


def main() -> int:
    if "--keep-malloc-caches" not in sys.argv:
        _without_malloc_caches()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep-malloc-caches", action="store_true",
                        help="leave glibc's per-thread malloc caches on")
    parser.add_argument("--dsn", help="server to use (default: a throwaway one)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--tasks", type=int, default=2000, help="asyncio tasks")
    parser.add_argument("--threads", type=int, default=200, help="blocking API threads")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--api", choices=["async", "sync", "both"], default="both")
    parser.add_argument("--warmup", type=float, help="seconds before the first memory sample")
    args = parser.parse_args()
    apis = ("async", "sync") if args.api == "both" else (args.api,)
    if args.dsn:
        reports = run(args.dsn, args.seconds, args.tasks, args.threads, args.connections, apis,
                      args.warmup)
    else:
        from pgwire.testing import TemporaryCluster

        with TemporaryCluster(ssl=False) as cluster:
            reports = run(cluster.dsn(), args.seconds, args.tasks, args.threads,
                          args.connections, apis, args.warmup)
    return 1 if any(report.problems for report in reports) else 0


if __name__ == "__main__":
    sys.exit(main())
