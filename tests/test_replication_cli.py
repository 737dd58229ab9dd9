"""``python -m pgwire.replication`` against the real server, as a user runs it."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from pgwire.testing import TemporaryCluster

ROOT = Path(__file__).resolve().parent.parent


def _cli(cluster: TemporaryCluster, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pgwire.replication", "-d", cluster.dsn(), *args],
        capture_output=True, text=True, timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)}, stdin=subprocess.DEVNULL)


@pytest.fixture
def names(cluster: TemporaryCluster) -> Any:
    tag = secrets.token_hex(4)
    table, publication, slot = f"cli_{tag}", f"clipub_{tag}", f"clislot_{tag}"
    cluster.psql(f"CREATE TABLE {table} (id int PRIMARY KEY, v text, n numeric, "
                 f"t timestamptz, big text); CREATE PUBLICATION {publication} FOR TABLE {table}",
                 database=cluster.database)
    yield table, publication, slot
    cluster.psql("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                 f"WHERE slot_name = '{slot}' AND NOT active", database=cluster.database)


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _current_lsn(cluster: TemporaryCluster) -> str:
    return cluster.psql("SELECT pg_current_wal_insert_lsn()", database=cluster.database).strip()


def test_create_stream_and_resume(cluster: TemporaryCluster, names: Any) -> None:
    table, publication, slot = names
    made = _cli(cluster, "--slot", slot, "--create-slot")
    assert made.returncode == 0, made.stderr
    assert _cli(cluster, "--slot", slot, "--create-slot").returncode == 1  # exists
    assert _cli(cluster, "--slot", slot, "--create-slot", "--if-not-exists").returncode == 0
    big = "".join(secrets.token_hex(16) for _ in range(500))
    cluster.psql(f"INSERT INTO {table} VALUES (1, 'a', 1.50, '2024-01-02 03:04:05+00', "
                 f"'{big}'); UPDATE {table} SET v = 'b' WHERE id = 1; "
                 f"DELETE FROM {table} WHERE id = 1", database=cluster.database)
    end = _current_lsn(cluster)
    run = _cli(cluster, "--slot", slot, "--publication", publication, "--start",
               "--endpos", end)
    assert run.returncode == 0, run.stderr
    lines = _lines(run.stdout)
    assert [line["action"] for line in lines] == [
        "begin", "insert", "commit", "begin", "update", "commit", "begin", "delete", "commit"]
    insert, update, delete = lines[1], lines[4], lines[7]
    assert insert["columns"] == {"id": 1, "v": "a", "n": "1.50",
                                 "t": "2024-01-02T03:04:05+00:00", "big": big}
    assert (insert["schema"], insert["table"]) == ("public", table)
    assert update["unchanged_toast"] == ["big"] and "big" not in update["columns"]
    assert delete["key"] == {"id": 1}
    assert lines[0]["xid"] == insert["xid"] == lines[2]["xid"]
    # Confirmed as written: a second run starts after it.
    cluster.psql(f"INSERT INTO {table} VALUES (2, 'c')", database=cluster.database)
    again = _cli(cluster, "--slot", slot, "--publication", publication, "--start",
                 "--endpos", _current_lsn(cluster))
    assert [(line["action"], line.get("columns", {}).get("id"))
            for line in _lines(again.stdout)] == [("begin", None), ("insert", 2),
                                                  ("commit", None)]
    dropped = _cli(cluster, "--slot", slot, "--drop-slot")
    assert dropped.returncode == 0, dropped.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_cleanly(cluster: TemporaryCluster, names: Any, sig: int,
                                      tmp_path: Path) -> None:
    table, publication, slot = names
    assert _cli(cluster, "--slot", slot, "--create-slot").returncode == 0
    out = tmp_path / "changes.jsonl"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pgwire.replication", "-d", cluster.dsn(), "--slot", slot,
         "--publication", publication, "--start", "-f", str(out), "--progress-interval", "0"],
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=subprocess.DEVNULL,
        # A shell without job control starts background jobs with SIGINT
        # ignored, and Python keeps an ignored SIGINT ignored: give the CLI
        # the default disposition, as an interactive terminal would.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        cluster.psql(f"INSERT INTO {table} VALUES (1, 'a')", database=cluster.database)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not out.exists()
                                               or "commit" not in out.read_text()):
            time.sleep(0.1)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopping" in err
    assert [line["action"] for line in _lines(out.read_text())] == ["begin", "insert", "commit"]
    # What was written was confirmed: the slot stands past that commit.
    commit_end = _lines(out.read_text())[-1]["end_lsn"]
    position = cluster.psql(
        f"SELECT confirmed_flush_lsn >= '{commit_end}' FROM pg_replication_slots "
        f"WHERE slot_name = '{slot}'", database=cluster.database).strip()
    assert position == "t"


def test_bad_usage_is_refused(cluster: TemporaryCluster) -> None:
    nothing = _cli(cluster, "--slot", "x")
    assert nothing.returncode == 2 and "nothing to do" in nothing.stderr
    no_pub = _cli(cluster, "--slot", "x", "--start")
    assert no_pub.returncode == 2 and "--publication" in no_pub.stderr
    missing = _cli(cluster, "--slot", "no_such_slot", "--publication", "p", "--start")
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    unreachable = subprocess.run(
        [sys.executable, "-m", "pgwire.replication", "-d", "host=127.0.0.1 port=1",
         "--slot", "x", "--drop-slot"], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert unreachable.returncode == 1 and "could not connect" in unreachable.stderr


def test_endpos_ends_an_idle_stream(cluster: TemporaryCluster, names: Any) -> None:
    """Nothing to stream up to --endpos: the server's position passing it ends the run."""
    _, publication, slot = names
    assert _cli(cluster, "--slot", slot, "--create-slot").returncode == 0
    cluster.psql("SELECT txid_current()", database=cluster.database)  # WAL, no change
    started = time.monotonic()
    run = _cli(cluster, "--slot", slot, "--publication", publication, "--start",
               "--endpos", _current_lsn(cluster), "-s", "0.5")
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert time.monotonic() - started < 30
    bad = _cli(cluster, "--slot", slot, "--start", "--publication", publication,
               "--endpos", "soon")
    assert bad.returncode == 2 and "--endpos" in bad.stderr
