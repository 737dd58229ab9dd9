"""pgwire's benchmark: the same workloads against pgwire, its peers and pgbench.

Usage (from the project root)::

    python bench/run.py                      # everything, 3 repetitions
    python bench/run.py --quick              # 1 s runs, 1 repetition
    python bench/run.py --workloads select1,fetch_large --repeat 5 --json out.json

It starts its own throwaway PostgreSQL (``pgwire.testing.TemporaryCluster``;
every driver connects with TLS disabled except in ``connect_tls``), then for each
workload and each repetition runs every client once in turn (A B C A B C
...), each in a fresh worker process (``bench/worker.py``). The table gives,
per workload and client, the median over the repetitions of the throughput
and of the client CPU time per query or row, the spread of the throughput
(max - min over median), and throughput ratios: to asyncpg, to psycopg 3
sync (sync clients), to pg8000 (pure-Python pgwire) and to pgbench (the
``select1`` workloads). A ratio above 1 means faster than the reference.

The pgwire measured is the one in this working tree (its root goes first on
the workers' ``PYTHONPATH``). When ``pgwire.compiled`` is true, pgwire is
measured twice: as built, and pure Python (``PGWIRE_NO_EXTENSIONS=1`` in
that worker's environment). See ``bench/README.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
sys.path.insert(0, str(ROOT))  # this working tree's pgwire, not an installed one

from workloads import (  # noqa: E402
    COPY_CREATE,
    DRIVERS_WITHOUT_POOL,
    DRIVERS_WITHOUT_SHARING,
    EXECUTEMANY_CREATE,
    MULTI_CONNECTIONS,
    PGBENCH_SCRIPT,
    TYPED_CREATE,
    WORKLOADS,
)

from pgwire.testing import TemporaryCluster  # noqa: E402

WORKER = BENCH_DIR / "worker.py"
ASYNC_DRIVER_IDS = ("pgwire_async", "asyncpg", "psycopg_async")
SYNC_DRIVER_IDS = ("pgwire_sync", "psycopg_sync", "pg8000")
PGBENCH_JOBS = {1: 1, MULTI_CONNECTIONS: 2}  # -c -> -j
# -> pgbench -c (for select1_pool: what 10 held connections can do, the pool's ceiling)
SELECT1_WORKLOADS = {"select1": 1, "select1_10conn": MULTI_CONNECTIONS,
                     "select1_pool": MULTI_CONNECTIONS}


@dataclass(frozen=True)
class Client:
    """One row group of the table: a driver (or pgbench) in one configuration."""

    key: str
    label: str
    #: "async", "sync" or "pgbench".
    kind: str
    #: Adapter name in ``drivers.py`` (None for pgbench).
    driver: str | None = None
    env: tuple[tuple[str, str], ...] = ()
    #: True for pgwire rows running pure Python (compared with pg8000).
    pure_pgwire: bool = False


@dataclass
class Run:
    """One measurement (one worker process or one pgbench run)."""

    units: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        return self.units / self.wall if self.wall > 0 else 0.0


@dataclass
class Summary:
    """The medians of one (workload, client)."""

    throughput: float
    cpu_us: float
    spread: float
    runs: int
    errors: list[str]


# ------------------------------------------------------------ environment


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_revision() -> str:
    return _git_revision_of(ROOT)


def _git_revision_of(root: Path) -> str:
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" (uncommitted changes)" if dirty else "")


def _worker_env(extra: tuple[tuple[str, str], ...] = ()) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PGWIRE_NO_EXTENSIONS", None)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.update(extra)
    return env


def _probe(info: dict[str, Any], extra_env: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    spec = {"conninfo": info, "async_drivers": list(ASYNC_DRIVER_IDS)}
    proc = subprocess.run(
        [sys.executable, str(WORKER), "--probe", json.dumps(spec)],
        capture_output=True,
        text=True,
        env=_worker_env(extra_env),
        timeout=120,
    )
    if proc.returncode != 0:
        raise SystemExit(f"worker probe failed:\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _build_label(compiled: Any) -> str:
    if not compiled:
        return "pure Python"
    return "compiled" if compiled is True else f"compiled: {compiled}"


# ----------------------------------------------------------------- running


def run_worker(
    client: Client,
    workload: str,
    duration: float,
    info: dict[str, Any],
    pg_type_rows: int,
    use_uvloop: bool,
) -> Run:
    """One worker process for (client, workload)."""
    spec = {
        "driver": client.driver,
        "workload": workload,
        "duration": duration,
        "conninfo": info,
        "pg_type_rows": pg_type_rows,
        "uvloop": use_uvloop,
    }
    try:
        proc = subprocess.run(
            [sys.executable, str(WORKER), json.dumps(spec)],
            capture_output=True,
            text=True,
            env=_worker_env(client.env),
            timeout=duration * 5 + 120,
        )
    except subprocess.TimeoutExpired:
        return Run(error="timed out")
    if proc.returncode != 0:
        lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
        return Run(error=lines[-1] if lines else f"exit code {proc.returncode}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    extra = {k: out[k] for k in ("loop", "pgwire_compiled", "calls") if k in out}
    return Run(units=out["units"], wall=out["wall"], cpu=out["cpu"], extra=extra)


def run_pgbench(
    pgbench: Path, script: Path, connections: int, duration: float, info: dict[str, Any]
) -> Run:
    """pgbench -M prepared on the select1 script; CPU from the child's rusage."""
    seconds = max(1, round(duration))
    cmd = [
        str(pgbench),
        "-n",
        "-M",
        "prepared",
        "-f",
        str(script),
        "-c",
        str(connections),
        "-j",
        str(PGBENCH_JOBS[connections]),
        "-T",
        str(seconds),
        "-h",
        str(info["host"]),
        "-p",
        str(info["port"]),
        "-U",
        info["user"],
        info["database"],
    ]
    env = dict(os.environ, PGSSLMODE="disable")
    if info.get("password"):
        env["PGPASSWORD"] = info["password"]
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read(), err.read()
    if proc.returncode != 0:
        lines = errors.strip().splitlines() or [f"exit code {proc.returncode}"]
        return Run(error=lines[-1])
    processed = re.search(r"number of transactions actually processed: (\d+)", text)
    tps = re.search(r"tps = ([\d.]+) \(without initial connection time\)", text)
    if not processed or not tps:
        return Run(error="could not parse pgbench output")
    units = int(processed.group(1))
    # Report pgbench's own tps: wall is derived so that units / wall == tps.
    return Run(units=units, wall=units / float(tps.group(1)), cpu=usage.ru_utime + usage.ru_stime)


# ------------------------------------------------------------------ report


def summarize(runs: list[Run]) -> Summary | None:
    good = [r for r in runs if r.error is None and r.units > 0]
    errors = [r.error for r in runs if r.error is not None]
    if not good:
        return Summary(0.0, 0.0, 0.0, 0, errors) if errors else None
    rates = [r.throughput for r in good]
    median = statistics.median(rates)
    return Summary(
        throughput=median,
        cpu_us=statistics.median(r.cpu / r.units * 1e6 for r in good),
        spread=(max(rates) - min(rates)) / median if median else 0.0,
        runs=len(good),
        errors=errors,
    )


def _ratio(a: Summary | None, b: Summary | None) -> str:
    if a is None or b is None or not a.runs or not b.runs or not b.throughput:
        return ""
    return f"{a.throughput / b.throughput:.2f}"


def render_table(
    clients: list[Client], workloads: list[str], results: dict[tuple[str, str], list[Run]]
) -> str:
    """The results as a Markdown table."""
    head = (
        "| workload | client | throughput | spread | client CPU | vs asyncpg "
        "| vs psycopg sync | vs pg8000 | vs pgbench |"
    )
    lines = [head, "|" + "---|" * 9]
    for workload in workloads:
        unit = WORKLOADS[workload].unit
        per_second = WORKLOADS[workload].per_second
        summaries = {c.key: summarize(results.get((workload, c.key), [])) for c in clients}
        pgbench_key = (
            f"pgbench_c{SELECT1_WORKLOADS[workload]}" if workload in SELECT1_WORKLOADS else None
        )
        for client in clients:
            s = summaries[client.key]
            if s is None:
                continue
            if not s.runs:
                lines.append(f"| {workload} | {client.label} | error: {s.errors[0]} |||||||")
                continue
            vs_psycopg = _ratio(s, summaries.get("psycopg_sync")) if client.kind == "sync" else ""
            vs_pg8000 = _ratio(s, summaries.get("pg8000")) if client.pure_pgwire else ""
            vs_pgbench = (
                _ratio(s, summaries.get(pgbench_key))
                if pgbench_key and client.key != pgbench_key
                else ""
            )
            note = f" ({len(s.errors)} failed)" if s.errors else ""
            lines.append(
                f"| {workload} | {client.label}{note} | {s.throughput:,.0f} {per_second} "
                f"| {s.spread:.0%} | {s.cpu_us:,.2f} µs/{unit} | {_ratio(s, summaries.get('asyncpg'))} "
                f"| {vs_psycopg} | {vs_pg8000} | {vs_pgbench} |"
            )
    return "\n".join(lines)


# -------------------------------------------------------------------- main


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Benchmark pgwire against asyncpg, psycopg 3, pg8000 and pgbench.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1 s runs and 1 repetition (unless --duration/--repeat say otherwise)",
    )
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"comma-separated subset of: {', '.join(WORKLOADS)}",
    )
    parser.add_argument(
        "--drivers",
        default=None,
        help="comma-separated subset of: "
        f"{', '.join(ASYNC_DRIVER_IDS + SYNC_DRIVER_IDS)}, pgbench "
        "(default: all available)",
    )
    parser.add_argument(
        "--repeat", type=int, default=None, help="repetitions; the median is reported (default 3)"
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="seconds of timed work per run (default 2)"
    )
    parser.add_argument(
        "--loop",
        choices=("auto", "uvloop", "asyncio"),
        default="auto",
        help="event loop of the async drivers; auto: uvloop when installed "
        "and every async driver runs on it, else asyncio for all",
    )
    parser.add_argument(
        "--unix-socket",
        action="store_true",
        help="connect over the Unix socket instead of TCP 127.0.0.1",
    )
    parser.add_argument(
        "--json", metavar="FILE", help="also write every run and the summary as JSON"
    )
    parser.add_argument(
        "--baseline",
        metavar="DIR",
        help="also measure the pgwire of another checkout (built in place), in the same run:"
        " before/after figures of a change",
    )
    args = parser.parse_args(argv)
    if args.baseline is not None:
        args.baseline = str(Path(args.baseline).resolve())
        if not (Path(args.baseline) / "pgwire" / "__init__.py").is_file():
            parser.error(f"--baseline {args.baseline}: no pgwire package there")
    args.repeat = args.repeat or (1 if args.quick else 3)
    args.duration = args.duration or (1.0 if args.quick else 2.0)
    args.workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = set(args.workloads) - set(WORKLOADS)
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
    if args.unix_socket and "connect_tls" in args.workloads:
        # TLS is for TCP: libpq and the drivers do not encrypt a Unix socket.
        args.workloads.remove("connect_tls")
        print("connect_tls left out: no TLS over the Unix socket", file=sys.stderr)
    if args.drivers is not None:
        args.drivers = {d.strip() for d in args.drivers.split(",") if d.strip()}
        unknown = args.drivers - set(ASYNC_DRIVER_IDS + SYNC_DRIVER_IDS + ("pgbench",))
        if unknown:
            parser.error(f"unknown driver(s): {', '.join(sorted(unknown))}")
    return args


def choose_clients(
    args: argparse.Namespace,
    probe: dict[str, Any],
    pure_probe: dict[str, Any] | None,
    pgbench: Path | None,
) -> list[Client]:
    """The clients to run, in table order."""
    wanted = args.drivers
    compiled = probe.get("pgwire_compiled")
    build = _build_label(compiled)
    pure_env = (("PGWIRE_NO_EXTENSIONS", "1"),)
    versions = {d: _version(d) for d in ("asyncpg", "psycopg", "pg8000")}
    psycopg_impl = probe.get("psycopg_impl", "?")

    candidates: list[Client] = []
    for kind, driver_id in [("async", d) for d in ASYNC_DRIVER_IDS] + [
        ("sync", d) for d in SYNC_DRIVER_IDS
    ]:
        if wanted is not None and driver_id not in wanted:
            continue
        if driver_id.startswith("pgwire"):
            if kind == "sync" and not probe.get("pgwire_sync"):
                print(
                    "pgwire sync: no pgwire.sync.connect / pgwire.connect_sync here; skipped",
                    file=sys.stderr,
                )
                continue
            candidates.append(
                Client(
                    driver_id, f"pgwire {kind} ({build})", kind, driver_id, pure_pgwire=not compiled
                )
            )
            if compiled and pure_probe is not None:
                candidates.append(
                    Client(
                        f"{driver_id}_pure",
                        f"pgwire {kind} (pure Python)",
                        kind,
                        driver_id,
                        env=pure_env,
                        pure_pgwire=True,
                    )
                )
            if args.baseline is not None:
                # The other checkout goes first on the worker's path; both
                # of its builds, as for this tree.
                base_env = (("PYTHONPATH", args.baseline),)
                revision = _git_revision_of(Path(args.baseline))
                candidates.append(Client(f"{driver_id}_base", f"pgwire {kind} (baseline "
                                         f"{revision}, as built)", kind, driver_id,
                                         env=base_env))
                candidates.append(Client(f"{driver_id}_base_pure", f"pgwire {kind} (baseline "
                                         f"{revision}, pure Python)", kind, driver_id,
                                         env=base_env + pure_env, pure_pgwire=True))
            continue
        dist = "psycopg" if driver_id.startswith("psycopg") else driver_id
        if versions[dist] is None:
            print(f"{driver_id}: {dist} is not installed; skipped", file=sys.stderr)
            continue
        label = {
            "asyncpg": f"asyncpg {versions['asyncpg']}",
            "psycopg_async": f"psycopg {versions['psycopg']} async ({psycopg_impl})",
            "psycopg_sync": f"psycopg {versions['psycopg']} sync ({psycopg_impl})",
            "pg8000": f"pg8000 {versions['pg8000']} (native)",
        }[driver_id]
        candidates.append(Client(driver_id, label, kind, driver_id))
    if pgbench is not None and (wanted is None or "pgbench" in wanted):
        for conns, jobs in PGBENCH_JOBS.items():
            candidates.append(Client(f"pgbench_c{conns}", f"pgbench -c{conns} -j{jobs}", "pgbench"))
    return candidates


def choose_loop(
    args: argparse.Namespace,
    probes: list[dict[str, Any]],
    async_ids: set[str | None],
) -> tuple[bool, str]:
    """Whether the async drivers run on uvloop, and a note saying why."""
    version = probes[0].get("uvloop")
    if not version:
        return False, "asyncio (default loop); uvloop is not installed"
    if args.loop == "asyncio":
        return False, "asyncio (default loop), as asked"
    failing = {
        name: error
        for probe in probes
        for name, error in (probe.get("uvloop_errors") or {}).items()
        if error and name in async_ids
    }
    if failing and args.loop == "auto":
        return False, (
            f"asyncio (default loop) for all async drivers: uvloop {version} is installed "
            "but failed with " + "; ".join(f"{k}: {v}" for k, v in failing.items())
        )
    note = f"uvloop {version} for all async drivers"
    if failing:
        note += " (failing on it: " + ", ".join(failing) + ")"
    return True, note


def describe_environment(
    args: argparse.Namespace,
    cluster: TemporaryCluster,
    probe: dict[str, Any],
    pgbench: Path | None,
    loop_note: str,
) -> dict[str, Any]:
    """Date, machine, versions and settings: the header of the report."""
    loadavg = Path("/proc/loadavg")
    pgbench_version = (
        subprocess.run([str(pgbench), "--version"], capture_output=True, text=True).stdout.strip()
        if pgbench
        else "not found"
    )
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs, {_cpu_model()}",
        "load_average_at_start": " ".join(loadavg.read_text().split()[:3])
        if loadavg.exists()
        else "n/a",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "postgresql": f"{cluster.psql('SHOW server_version')} "
        "(TemporaryCluster: fsync off; TLS used by connect_tls only)",
        "pgbench": pgbench_version,
        "transport": "Unix socket" if args.unix_socket else "TCP 127.0.0.1",
        "pgwire": f"{_build_label(probe.get('pgwire_compiled'))}, "
        f"git {_git_revision()}, from {Path(probe['pgwire_file']).parent}",
        "event_loop": loop_note,
        "psycopg": f"impl {probe.get('psycopg_impl')}, libpq {probe.get('libpq')}, "
        "defaults (text results, %s auto-format params, prepare_threshold=5), autocommit",
        "runs": f"{args.repeat} repetition(s) x {args.duration:g} s per client and workload, "
        "interleaved; medians",
    }


def run_all(
    args: argparse.Namespace,
    clients: list[Client],
    info: dict[str, Any],
    pg_type_rows: int,
    use_uvloop: bool,
    pgbench: Path | None,
    script: Path,
) -> dict[tuple[str, str], list[Run]]:
    """Every run: per workload, per repetition, each client once in turn."""
    results: dict[tuple[str, str], list[Run]] = {}
    for workload in args.workloads:
        wl = WORKLOADS[workload]
        for rep in range(args.repeat):
            for client in clients:
                if workload == "select1_pool" and client.driver in DRIVERS_WITHOUT_POOL:
                    continue
                if workload == "select1_shared" and client.driver in DRIVERS_WITHOUT_SHARING:
                    continue
                if client.kind == "pgbench":
                    conns = int(client.key.removeprefix("pgbench_c"))
                    if pgbench is None or SELECT1_WORKLOADS.get(workload) != conns:
                        continue
                    run = run_pgbench(pgbench, script, conns, args.duration, info)
                else:
                    run = run_worker(
                        client, workload, args.duration, info, pg_type_rows, use_uvloop
                    )
                results.setdefault((workload, client.key), []).append(run)
                shown = run.error or (
                    f"{run.throughput:,.0f} {wl.per_second}, "
                    f"{run.cpu / run.units * 1e6:,.2f} µs CPU/{wl.unit}"
                )
                print(
                    f"[{workload} {rep + 1}/{args.repeat}] {client.label}: {shown}",
                    file=sys.stderr,
                    flush=True,
                )
    return results


def write_json(
    path: str,
    args: argparse.Namespace,
    environment: dict[str, Any],
    clients: list[Client],
    results: dict[tuple[str, str], list[Run]],
    table: str,
) -> None:
    """Every run, the summaries and the table, as JSON."""
    payload = {
        "environment": environment,
        "settings": {
            "repeat": args.repeat,
            "duration": args.duration,
            "workloads": args.workloads,
            "unix_socket": args.unix_socket,
        },
        "clients": [{"key": c.key, "label": c.label, "kind": c.kind} for c in clients],
        "runs": [
            {
                "workload": w,
                "client": k,
                "units": r.units,
                "wall": r.wall,
                "cpu": r.cpu,
                "throughput": r.throughput,
                "error": r.error,
                **r.extra,
            }
            for (w, k), runs in results.items()
            for r in runs
        ],
        "summary": [
            {"workload": w, "client": k, **vars(s)}
            for (w, k), runs in results.items()
            if (s := summarize(runs)) is not None
        ],
        "table": table,
    }
    Path(path).write_text(json.dumps(payload, indent=2, default=str) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Start a cluster, run everything, print the report."""
    args = parse_args(argv)
    started = time.monotonic()
    # TLS is on in the server for connect_tls; every other workload's clients
    # turn it off (sslmode=disable), so they all pay the same transport.
    with TemporaryCluster(ssl=True) as cluster:
        cluster.psql(EXECUTEMANY_CREATE, database=cluster.database)
        cluster.psql(COPY_CREATE, database=cluster.database)
        cluster.psql(TYPED_CREATE, database=cluster.database)
        # After the CREATE TABLEs: every table adds a row type to pg_type.
        pg_type_rows = int(cluster.psql("SELECT count(*) FROM pg_type", database=cluster.database))
        info = cluster.connect_kwargs(unix_socket=args.unix_socket)

        probe = _probe(info)
        pure_probe = None
        if probe.get("pgwire_compiled"):
            pure_probe = _probe(info, (("PGWIRE_NO_EXTENSIONS", "1"),))
            if pure_probe.get("pgwire_compiled"):
                print(
                    "PGWIRE_NO_EXTENSIONS=1 did not give a pure-Python pgwire; "
                    "measuring the compiled build only",
                    file=sys.stderr,
                )
                pure_probe = None
        pgbench_path = cluster.bindir / "pgbench"
        pgbench = pgbench_path if pgbench_path.is_file() else None
        if pgbench is None:
            print(f"no pgbench in {cluster.bindir}; pgbench rows skipped", file=sys.stderr)

        clients = choose_clients(args, probe, pure_probe, pgbench)
        use_uvloop, loop_note = choose_loop(
            args,
            [p for p in (probe, pure_probe) if p is not None],
            {c.driver for c in clients if c.kind == "async"},
        )
        environment = describe_environment(args, cluster, probe, pgbench, loop_note)
        for key, value in environment.items():
            print(f"{key:>22}: {value}", flush=True)
        print(flush=True)

        script = Path(cluster.base_dir) / "select1.pgbench"
        script.write_text(PGBENCH_SCRIPT)
        results = run_all(args, clients, info, pg_type_rows, use_uvloop, pgbench, script)

    table = render_table(clients, args.workloads, results)
    print(table)
    print()
    print(
        "throughput and client CPU: medians over the repetitions; spread: (max - min) / median "
        "of the throughput; ratios: throughput / the reference's throughput (> 1 is faster); "
        "vs pgbench: select1 against pgbench -c1, select1_10conn and select1_pool against -c10."
    )
    print(f"total time: {time.monotonic() - started:.0f} s", file=sys.stderr)
    if args.json:
        write_json(args.json, args, environment, clients, results, table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
