"""A cancellation storm: many interruptions at random points, then a check that the
connection is in step.

asyncio: each round starts a query of random length (a short sleep, a big
result, a quick select) carrying a token, then cancels its task or lets a
``timeout=`` expire after a random delay (sometimes before anything could
be sent, sometimes mid-result, sometimes after the answer).  Blocking API:
the same with ``timeout=`` and with an exception raised from a signal
handler in the middle of the call (what Ctrl-C does).  After each round the
next query carries a fresh token and must get that token back: a stale
answer is *out of step*; no answer within 10 s is *hung*.  A closed
connection is allowed (it is replaced) but counted.  Out-of-step and hung
must be 0.  Counts are printed with the test's output.

``PGWIRE_STORM_ROUNDS`` sets the rounds (CI: 1000 asyncio, 300 blocking);
``PGWIRE_STORM_SEED`` the seed (printed, to replay a failure).
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
from collections import Counter
from typing import Any

import pytest

import pgwire
from pgwire.testing import TemporaryCluster

SEED = int(os.environ.get("PGWIRE_STORM_SEED", str(random.randrange(2**32))))
QUERIES = [
    ("SELECT $1::int, pg_sleep(0.002)", 1),
    ("SELECT $1::int, pg_sleep(0.02)", 1),
    ("SELECT $1::int FROM generate_series(1, 20000)", 20000),
    ("SELECT $1::int", 1),
    ("SELECT $1::int, repeat('x', 2000) FROM generate_series(1, 500)", 500),
]


def _rounds(default: int) -> int:
    return int(os.environ.get("PGWIRE_STORM_ROUNDS", str(default)))


def _report(capsys: pytest.CaptureFixture[str], name: str, counts: Counter[str]) -> None:
    with capsys.disabled():
        print(f"\n{name} (seed {SEED}): " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


async def test_asyncio_cancellation_storm(cluster: TemporaryCluster,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    rng = random.Random(SEED)
    kwargs = {**cluster.connect_kwargs(), "ssl": "disable"}
    conn = await pgwire.connect(**kwargs)
    counts: Counter[str] = Counter()
    token = 0
    try:
        for _ in range(_rounds(1000)):
            token += 1
            query, rows = rng.choice(QUERIES)
            delay = rng.choice([0, 0, rng.uniform(0, 0.002), rng.uniform(0, 0.03)])
            if rng.random() < 0.5:
                task = asyncio.ensure_future(conn.fetch(query, token))
                await asyncio.sleep(delay)
                task.cancel()
                try:
                    result = await task
                except asyncio.CancelledError:
                    counts["cancelled"] += 1
                except pgwire.InterfaceError:
                    counts["interface error"] += 1
                else:
                    assert len(result) == rows and result[0][0] == token, "a stale answer"
                    counts["finished first"] += 1
            else:
                try:
                    result = await conn.fetch(query, token, timeout=max(delay, 0.0005))
                except TimeoutError:
                    counts["timed out"] += 1
                else:
                    assert len(result) == rows and result[0][0] == token, "a stale answer"
                    counts["finished first"] += 1
            token += 1
            try:
                answer = await asyncio.wait_for(conn.fetchval("SELECT $1::int", token), 10)
            except (asyncio.TimeoutError, TimeoutError):
                counts["hung"] += 1
                conn.terminate()
                conn = await pgwire.connect(**kwargs)
                continue
            except (pgwire.PostgresConnectionError, pgwire.InterfaceError):
                counts["closed"] += 1
                conn = await pgwire.connect(**kwargs)
                continue
            if answer != token:
                counts["out of step"] += 1
                conn.terminate()
                conn = await pgwire.connect(**kwargs)
            else:
                counts["usable"] += 1
    finally:
        _report(capsys, "asyncio storm", counts)
        conn.terminate()
    assert counts["out of step"] == 0 and counts["hung"] == 0, counts
    assert counts["cancelled"] + counts["timed out"] > 0, counts  # the storm happened


class _Interrupt(BaseException):
    """Stands for KeyboardInterrupt, raised from a signal handler mid-call."""


def test_blocking_interruption_storm(cluster: TemporaryCluster,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals are delivered to the main thread only")
    rng = random.Random(SEED)
    kwargs = {**cluster.connect_kwargs(), "ssl": "disable"}
    conn = pgwire.connect_sync(**kwargs)
    counts: Counter[str] = Counter()

    def interrupt(signum: int, frame: Any) -> None:
        raise _Interrupt

    previous = signal.signal(signal.SIGUSR1, interrupt)
    token = 0
    try:
        for _ in range(_rounds(300)):
            token += 1
            query, rows = rng.choice(QUERIES)
            delay = rng.choice([rng.uniform(0, 0.002), rng.uniform(0, 0.03)])
            timer = None
            try:
                if rng.random() < 0.5:
                    timer = threading.Timer(delay, os.kill, (os.getpid(), signal.SIGUSR1))
                    timer.start()
                    result = conn.fetch(query, token)
                else:
                    result = conn.fetch(query, token, timeout=max(delay, 0.0005))
            except _Interrupt:
                counts["interrupted"] += 1
            except TimeoutError:
                counts["timed out"] += 1
            else:
                assert len(result) == rows and result[0][0] == token, "a stale answer"
                counts["finished first"] += 1
            finally:
                if timer is not None:
                    timer.cancel()
                    timer.join()
            token += 1
            started = time.monotonic()
            try:
                # A late signal (the timer fired after the call ended) may
                # land here: it is no hang; run the check again.
                while True:
                    try:
                        answer = conn.fetchval("SELECT $1::int", token, timeout=10)
                        break
                    except _Interrupt:
                        counts["late signal"] += 1
            except TimeoutError:
                counts["hung"] += 1
                conn.terminate()
                conn = pgwire.connect_sync(**kwargs)
                continue
            except (pgwire.PostgresConnectionError, pgwire.InterfaceError):
                counts["closed"] += 1
                conn = pgwire.connect_sync(**kwargs)
                continue
            if time.monotonic() - started > 10:
                counts["hung"] += 1
            if answer != token:
                counts["out of step"] += 1
                conn.terminate()
                conn = pgwire.connect_sync(**kwargs)
            else:
                counts["usable"] += 1
    finally:
        signal.signal(signal.SIGUSR1, previous)
        _report(capsys, "blocking storm", counts)
        conn.terminate()
    assert counts["out of step"] == 0 and counts["hung"] == 0, counts
    assert counts["interrupted"] + counts["timed out"] > 0, counts
