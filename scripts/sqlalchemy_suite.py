#!/usr/bin/env python
"""Run SQLAlchemy's dialect compliance suite against postgresql+pgwire.

Starts a throwaway PostgreSQL (pgwire.testing.TemporaryCluster), creates
the schemas the suite expects, then runs ``tests_sqlalchemy/`` once per
dialect: ``postgresql+pgwire`` (blocking API) and ``postgresql+pgwire_async``
(asyncio API).  Arguments are passed to pytest (``-k``, ``-x``...).
``--dialects=sync`` or ``--dialects=async`` runs one of the two.  Exits
non-zero if any run fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pgwire.testing import TemporaryCluster  # noqa: E402

DIALECTS = {"sync": "postgresql+pgwire", "async": "postgresql+pgwire_async"}


def main(argv: list[str]) -> int:
    chosen = list(DIALECTS)
    args = []
    for arg in argv:
        if arg.startswith("--dialects="):
            chosen = arg.split("=", 1)[1].split(",")
            unknown = set(chosen) - set(DIALECTS)
            if unknown:
                print(f"unknown dialect(s) {sorted(unknown)}: use sync, async", file=sys.stderr)
                return 2
        else:
            args.append(arg)
    # Two-phase tests need prepared transactions; the suite's reflection
    # tests use two extra schemas.
    cluster = TemporaryCluster(ssl=False, extra_config={"max_prepared_transactions": 10})
    cluster.start()
    try:
        dsn = cluster.dsn()
        import pgwire.sync

        with pgwire.sync.connect(dsn) as conn:
            conn.execute("CREATE SCHEMA IF NOT EXISTS test_schema")
            conn.execute("CREATE SCHEMA IF NOT EXISTS test_schema_2")
        failed = []
        for name in chosen:
            url = dsn.replace("postgresql://", DIALECTS[name] + "://", 1)
            print(f"== SQLAlchemy compliance suite: {DIALECTS[name]}", flush=True)
            status = subprocess.call(
                [sys.executable, "-m", "pytest", "--dburi", url, *args],
                cwd=ROOT / "tests_sqlalchemy",
                env={**os.environ, "PYTHONPATH": os.pathsep.join(
                    filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))},
            )
            if status != 0:
                failed.append(f"{DIALECTS[name]} (exit {status})")
        if failed:
            print("SQLAlchemy suite FAILED: " + ", ".join(failed))
            return 1
        return 0
    finally:
        cluster.stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
