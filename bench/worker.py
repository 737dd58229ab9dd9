"""One measurement: one driver, one workload, in a process of its own.

``run.py`` starts ``python bench/worker.py '<json spec>'`` once per
(repetition, workload, driver), so drivers never share a process (no import
or GC interference, and per-run environment such as
``PGWIRE_NO_EXTENSIONS=1``). The spec holds ``driver``, ``workload``,
``duration`` (seconds), ``conninfo`` (host/port/user/database/password),
``pg_type_rows`` and ``uvloop``. ``worker.py --probe '<json spec>'`` instead
reports pgwire's build and APIs and which async drivers work on uvloop.
The worker prints one JSON object on its
last stdout line: ``units`` (queries or rows done in the timed part),
``calls``, ``wall`` and ``cpu`` seconds, and a little metadata.

Timing: connections are opened and warmed up (a few queries, or one call of
the workload's operation; ``fetch_large``/``fetch_typed`` are not warmed up: one statement
preparation is nothing next to 200,000 rows) before the clock starts. The
timed part then repeats the operation until ``duration`` has passed (at
least once). Wall time is ``time.perf_counter()``; client CPU is
``time.process_time()`` of this process (all its threads), taken around
the same span. For ``executemany`` and ``copy_in`` the ``TRUNCATE`` before
each call and the ``count(*)`` after it (every call must have inserted all
its rows) are outside both; their rows are built once per worker, before
the clock starts, and one call with their first 100 rows warms up.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Coroutine, Sequence
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

import drivers
from workloads import (
    COPY_COUNT_SQL,
    COPY_ROWS,
    COPY_TRUNCATE_SQL,
    COUNT_SQL,
    EXECUTEMANY_ROWS,
    FETCH_WORKLOADS,
    MULTI_CONNECTIONS,
    PG_TYPE_SQL,
    TRUNCATE_SQL,
    copy_records,
    executemany_rows,
)

WARMUP_QUERIES = 20
T = TypeVar("T")


@dataclass
class Measurement:
    """What one timed run did."""

    units: int
    calls: int
    wall: float
    cpu: float


def _check(got: Any, want: Any, what: str) -> None:
    if got != want:
        raise AssertionError(f"{what}: expected {want!r}, got {got!r}")


#: The bulk-insert workloads: (rows, TRUNCATE, count(*)) for each.
BULK_WORKLOADS = {
    "executemany": (executemany_rows, TRUNCATE_SQL, COUNT_SQL),
    "copy_in": (copy_records, COPY_TRUNCATE_SQL, COPY_COUNT_SQL),
}
BULK_ROWS = {"executemany": EXECUTEMANY_ROWS, "copy_in": COPY_ROWS}
WARMUP_ROWS = 100


# --------------------------------------------------------------------- async


async def _async_select1_loop(client: drivers.AsyncClient | drivers.AsyncPool, base: int,
                              deadline: float) -> int:
    clock = time.perf_counter
    select1 = client.select1
    n = 0
    while True:
        arg = base + n
        value = await select1(arg)
        if value != arg:
            _check(value, arg, "SELECT $1::int")
        n += 1
        if clock() >= deadline:
            return n


async def _measure_async_pool(pool: drivers.AsyncPool, duration: float) -> Measurement:
    """``select1_pool``: MULTI_CONNECTIONS tasks sharing the pool."""
    for i in range(WARMUP_QUERIES):
        values = await asyncio.gather(*(pool.select1(i + k) for k in range(MULTI_CONNECTIONS)))
        _check(values, [i + k for k in range(MULTI_CONNECTIONS)], "warm-up")
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    deadline = t0 + duration
    counts = await asyncio.gather(
        *(_async_select1_loop(pool, k * 10_000_000, deadline) for k in range(MULTI_CONNECTIONS))
    )
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    calls = sum(counts)
    return Measurement(calls, calls, t1 - t0, cpu1 - cpu0)


async def measure_async(
    cls: type[drivers.AsyncClient],
    workload: str,
    duration: float,
    info: drivers.ConnInfo,
    pg_type_rows: int,
) -> Measurement:
    """Run ``workload`` with an asyncio driver."""
    if workload in ("connect", "connect_tls"):
        info = {**info, "tls": workload == "connect_tls"}
        await (await cls.open(info)).close()  # warm-up: imports, first resolution
        calls = 0
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        deadline = t0 + duration
        while True:
            client = await cls.open(info)
            await client.close()
            calls += 1
            if time.perf_counter() >= deadline:
                break
        t1 = time.perf_counter()
        return Measurement(calls, calls, t1 - t0, time.process_time() - cpu0)
    if workload == "select1_pool":
        pool = await cls.open_pool(info, MULTI_CONNECTIONS)
        try:
            return await _measure_async_pool(pool, duration)
        finally:
            await pool.close()
    nconn = MULTI_CONNECTIONS if workload == "select1_10conn" else 1
    clients = [await cls.open(info) for _ in range(nconn)]
    try:
        for client in clients:
            for i in range(WARMUP_QUERIES):
                _check(await client.select1(i), i, "warm-up")
        client = clients[0]
        if workload in ("select1", "select1_10conn", "select1_shared"):
            loopers = [client] * MULTI_CONNECTIONS if workload == "select1_shared" else clients
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            deadline = t0 + duration
            counts = await asyncio.gather(
                *(_async_select1_loop(c, k * 10_000_000, deadline) for k, c in enumerate(loopers))
            )
            t1 = time.perf_counter()
            cpu1 = time.process_time()
            calls = sum(counts)
            return Measurement(calls, calls, t1 - t0, cpu1 - cpu0)
        if workload in FETCH_WORKLOADS or workload == "pg_type":
            sql, want = FETCH_WORKLOADS.get(workload, (PG_TYPE_SQL, pg_type_rows))
            fetch_all = client.fetch_all
            if workload == "pg_type":
                _check(len(await fetch_all(sql)), want, "warm-up rows")
            calls = rows = 0
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            deadline = t0 + duration
            while True:
                result = await fetch_all(sql)
                rows += len(result)
                calls += 1
                if time.perf_counter() >= deadline:
                    break
            t1 = time.perf_counter()
            cpu1 = time.process_time()
            del result
            _check(rows, calls * want, "rows fetched")
            units = rows if workload in FETCH_WORKLOADS else calls
            return Measurement(units, calls, t1 - t0, cpu1 - cpu0)
        if workload in BULK_WORKLOADS:
            make_rows, truncate_sql, count_sql = BULK_WORKLOADS[workload]
            want = BULK_ROWS[workload]
            data = make_rows()
            _check(len(data), want, "rows built")
            insert = client.executemany if workload == "executemany" else client.copy_records
            await client.execute(truncate_sql)
            await insert(data[:WARMUP_ROWS])
            _check(await client.scalar(count_sql), WARMUP_ROWS, "warm-up rows inserted")
            calls = 0
            wall = cpu = 0.0
            while True:
                await client.execute(truncate_sql)
                cpu0 = time.process_time()
                t0 = time.perf_counter()
                await insert(data)
                t1 = time.perf_counter()
                cpu += time.process_time() - cpu0
                wall += t1 - t0
                calls += 1
                _check(await client.scalar(count_sql), want, "rows inserted")
                if wall >= duration:
                    break
            return Measurement(calls * want, calls, wall, cpu)
        raise ValueError(f"unknown workload {workload!r}")
    finally:
        for c in clients:
            await c.close()


# ---------------------------------------------------------------------- sync


def _sync_select1_loop(
    client: drivers.SyncClient | drivers.SyncPool, base: int, deadline: float,
    counts: list[int], slot: int,
) -> None:
    clock = time.perf_counter
    select1 = client.select1
    n = 0
    while True:
        arg = base + n
        value = select1(arg)
        if value != arg:
            _check(value, arg, "SELECT $1::int")
        n += 1
        if clock() >= deadline:
            counts[slot] = n
            return


def _threaded_select1(
    clients: Sequence[drivers.SyncClient | drivers.SyncPool], duration: float
) -> Measurement:
    """One thread per entry of ``clients``, each looping ``select1``; total throughput."""
    nconn = len(clients)
    counts = [0] * nconn
    errors: list[BaseException] = []
    start = threading.Barrier(nconn + 1)
    deadline_box: list[float] = []

    def thread_main(slot: int) -> None:
        start.wait()
        try:
            _sync_select1_loop(
                clients[slot], slot * 10_000_000, deadline_box[0], counts, slot
            )
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    threads = [threading.Thread(target=thread_main, args=(k,)) for k in range(nconn)]
    for t in threads:
        t.start()
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    deadline_box.append(t0 + duration)
    start.wait()
    for t in threads:
        t.join()
    t1 = time.perf_counter()
    cpu1 = time.process_time()
    if errors:
        raise errors[0]
    calls = sum(counts)
    return Measurement(calls, calls, t1 - t0, cpu1 - cpu0)


def measure_sync(
    cls: type[drivers.SyncClient],
    workload: str,
    duration: float,
    info: drivers.ConnInfo,
    pg_type_rows: int,
) -> Measurement:
    """Run ``workload`` with a blocking driver (threads for several connections)."""
    if workload in ("connect", "connect_tls"):
        info = {**info, "tls": workload == "connect_tls"}
        cls.open(info).close()  # warm-up: imports, first resolution
        calls = 0
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        deadline = t0 + duration
        while True:
            cls.open(info).close()
            calls += 1
            if time.perf_counter() >= deadline:
                break
        t1 = time.perf_counter()
        return Measurement(calls, calls, t1 - t0, time.process_time() - cpu0)
    if workload == "select1_pool":
        pool = cls.open_pool(info, MULTI_CONNECTIONS)
        try:
            for i in range(WARMUP_QUERIES):
                _check(pool.select1(i), i, "warm-up")
            return _threaded_select1([pool] * MULTI_CONNECTIONS, duration)
        finally:
            pool.close()
    nconn = MULTI_CONNECTIONS if workload == "select1_10conn" else 1
    clients = [cls.open(info) for _ in range(nconn)]
    try:
        for client in clients:
            for i in range(WARMUP_QUERIES):
                _check(client.select1(i), i, "warm-up")
        client = clients[0]
        if workload == "select1":
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            counts = [0]
            _sync_select1_loop(client, 0, t0 + duration, counts, 0)
            t1 = time.perf_counter()
            cpu1 = time.process_time()
            return Measurement(counts[0], counts[0], t1 - t0, cpu1 - cpu0)
        if workload == "select1_10conn":
            return _threaded_select1(clients, duration)
        if workload == "select1_shared":
            return _threaded_select1([client] * MULTI_CONNECTIONS, duration)
        if workload in FETCH_WORKLOADS or workload == "pg_type":
            sql, want = FETCH_WORKLOADS.get(workload, (PG_TYPE_SQL, pg_type_rows))
            fetch_all = client.fetch_all
            if workload == "pg_type":
                _check(len(fetch_all(sql)), want, "warm-up rows")
            calls = rows = 0
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            deadline = t0 + duration
            while True:
                result = fetch_all(sql)
                rows += len(result)
                calls += 1
                if time.perf_counter() >= deadline:
                    break
            t1 = time.perf_counter()
            cpu1 = time.process_time()
            del result
            _check(rows, calls * want, "rows fetched")
            units = rows if workload in FETCH_WORKLOADS else calls
            return Measurement(units, calls, t1 - t0, cpu1 - cpu0)
        if workload in BULK_WORKLOADS:
            make_rows, truncate_sql, count_sql = BULK_WORKLOADS[workload]
            want = BULK_ROWS[workload]
            data = make_rows()
            _check(len(data), want, "rows built")
            insert = client.executemany if workload == "executemany" else client.copy_records
            client.execute(truncate_sql)
            insert(data[:WARMUP_ROWS])
            _check(client.scalar(count_sql), WARMUP_ROWS, "warm-up rows inserted")
            calls = 0
            wall = cpu = 0.0
            while True:
                client.execute(truncate_sql)
                cpu0 = time.process_time()
                t0 = time.perf_counter()
                insert(data)
                t1 = time.perf_counter()
                cpu += time.process_time() - cpu0
                wall += t1 - t0
                calls += 1
                _check(client.scalar(count_sql), want, "rows inserted")
                if wall >= duration:
                    break
            return Measurement(calls * want, calls, wall, cpu)
        raise ValueError(f"unknown workload {workload!r}")
    finally:
        for c in clients:
            c.close()


# ---------------------------------------------------------------------- main


def _run_on(loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on a given loop (``asyncio.Runner`` is Python 3.11+)."""
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _run_async(coro: Coroutine[Any, Any, Measurement], use_uvloop: bool) -> tuple[Measurement, str]:
    if use_uvloop:
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return _run_on(uvloop.new_event_loop(), coro), f"uvloop {uvloop.__version__}"
    return asyncio.run(coro), "asyncio"


async def _probe_async(names: list[str], info: drivers.ConnInfo) -> dict[str, str | None]:
    errors: dict[str, str | None] = {}
    logged: list[str] = []  # what the loop's exception handler saw: often the real cause

    def on_loop_error(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        where = context.get("handle") or context.get("message", "")
        logged.append(f"{type(exc).__name__ if exc else 'error'} in {where}")

    asyncio.get_running_loop().set_exception_handler(on_loop_error)
    for name in names:
        logged.clear()
        try:
            client = await drivers.ASYNC_DRIVERS[name].open(info)
            try:
                _check(await client.select1(7), 7, "probe")
            finally:
                await client.close()
            errors[name] = None
        except Exception as exc:  # reported, not raised: the probe only looks
            errors[name] = f"{type(exc).__name__}: {exc}" + (
                f" (event loop reported: {'; '.join(logged)})" if logged else ""
            )
    return errors


def probe(spec: dict[str, Any]) -> dict[str, Any]:
    """What this environment offers: pgwire's build and APIs, and which async drivers run on uvloop."""
    import pgwire

    out: dict[str, Any] = {
        "pgwire_file": pgwire.__file__,
        "pgwire_compiled": getattr(pgwire, "compiled", None),
        "pgwire_sync": drivers.find_pgwire_sync_connect() is not None,
    }
    try:
        import uvloop
    except ImportError:
        out["uvloop"] = None
    else:
        out["uvloop"] = uvloop.__version__
        out["uvloop_errors"] = _run_on(
            uvloop.new_event_loop(), _probe_async(spec["async_drivers"], spec["conninfo"])
        )
    try:
        import psycopg
    except ImportError:
        pass
    else:
        out["psycopg_impl"] = psycopg.pq.__impl__
        out["libpq"] = psycopg.pq.version()
    return out


def main(argv: list[str]) -> int:
    """Run the spec given as the only argument; print the result as JSON."""
    if len(argv) == 3 and argv[1] == "--probe":
        print(json.dumps(probe(json.loads(argv[2])), default=str))
        return 0
    spec = json.loads(argv[1])
    driver: str = spec["driver"]
    workload: str = spec["workload"]
    args = (workload, float(spec["duration"]), spec["conninfo"], int(spec["pg_type_rows"]))
    loop = None
    if driver in drivers.ASYNC_DRIVERS:
        measurement, loop = _run_async(
            measure_async(drivers.ASYNC_DRIVERS[driver], *args), bool(spec.get("uvloop", True))
        )
    elif driver in drivers.SYNC_DRIVERS:
        measurement = measure_sync(drivers.SYNC_DRIVERS[driver], *args)
    else:
        raise SystemExit(f"unknown driver {driver!r}")
    out: dict[str, Any] = asdict(measurement)
    out["loop"] = loop
    if driver.startswith("pgwire"):
        import pgwire

        out["pgwire_compiled"] = getattr(pgwire, "compiled", None)
    print(json.dumps(out, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
