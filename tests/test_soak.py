"""The soak test (``scripts/soak.py``) in its short CI form, both APIs.

2,000 asyncio tasks, then 200 threads, on a pool of 20 connections for 15 s
each (5 s warm-up, then the 10 s whose memory growth is measured), with
mixed queries, transactions, timeouts, cancellations and server errors.
The script's checks decide: no unexpected error, RSS growth under 10 %,
statement caches and listener registries within their bounds.  It runs in
a process of its own, so its memory is its own.  The long form (60 s) is
``python scripts/soak.py`` (README).  It runs with the compiled build only,
to keep CI short: the pure-Python build runs the same drivers and pool
through the rest of the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import pgwire
from pgwire.testing import TemporaryCluster

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "soak.py"


@pytest.mark.skipif(not getattr(pgwire, "compiled", False),
                    reason="the soak runs with the compiled build (see the docstring)")
def test_soak(cluster: TemporaryCluster) -> None:
    command = [sys.executable, str(SCRIPT), "--dsn", cluster.dsn(), "--seconds", "15",
               "--warmup", "5", "--tasks", "2000", "--threads", "200", "--connections", "20"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONHASHSEED": "0"})
    print(done.stdout, done.stderr, sep="\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "unexpected errors: 0" in done.stdout
    assert done.stdout.count("unexpected errors: 0") == 2
