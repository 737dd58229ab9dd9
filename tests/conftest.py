"""Shared pytest fixtures: one throwaway PostgreSQL (and pgbouncer) per test session.

``cluster`` starts a :class:`pgwire.testing.TemporaryCluster` the first time
a test asks for it; ``pgbouncer`` starts a real pgbouncer (transaction
pooling) in front of it, also only when asked for. Missing server or
pgbouncer binaries skip the tests that need them, except under CI (``CI``
set), where they fail: scripts/setup.sh installs both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, NoReturn

import pytest

from pgwire.testing import BinaryNotFoundError, PgBouncer, TemporaryCluster, find_pgbouncer


def _missing(what: str, exc: BaseException) -> NoReturn:
    message = f"{what} not available: {exc}"
    if os.environ.get("CI", "").lower() not in ("", "0", "false", "no"):
        pytest.fail(f"{message} (CI must run these tests: see scripts/setup.sh)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def cluster() -> Iterator[TemporaryCluster]:
    """The session's PostgreSQL server (see pgwire.testing.TemporaryCluster)."""
    server = TemporaryCluster()
    try:
        server.start()
    except BinaryNotFoundError as exc:
        _missing("PostgreSQL server", exc)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def pgbouncer(cluster: TemporaryCluster) -> Iterator[PgBouncer]:
    """A pgbouncer in transaction pooling mode (pool size 5) in front of ``cluster``."""
    try:
        find_pgbouncer()
    except BinaryNotFoundError as exc:
        _missing("pgbouncer", exc)
    bouncer = cluster.start_pgbouncer(pool_mode="transaction")
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture(scope="session")
def dsn(cluster: TemporaryCluster) -> str:
    """``postgresql://`` URI for the superuser ``postgres`` on database ``pgwire_test``."""
    return cluster.dsn()


@pytest.fixture
def connect_kwargs(cluster: TemporaryCluster) -> dict[str, Any]:
    """host/port/user/database/password for the superuser on ``pgwire_test`` (a fresh dict)."""
    return cluster.connect_kwargs()


# ===========================================================================
# Connection fixtures (async connections etc.) — added by the lead below.
# ===========================================================================

import pgwire  # noqa: E402


@pytest.fixture
async def conn(cluster: TemporaryCluster) -> Any:
    """A fresh superuser connection to ``pgwire_test`` (TCP, no SSL)."""
    connection = await pgwire.connect(**cluster.connect_kwargs(), ssl="disable")
    try:
        yield connection
    finally:
        if not connection.is_closed():
            await connection.close()


@pytest.fixture
async def make_conn(cluster: TemporaryCluster) -> Any:
    """A factory for more connections: ``await make_conn(**overrides)``; all closed at the end."""
    opened: list[pgwire.Connection] = []

    async def factory(**overrides: Any) -> pgwire.Connection:
        kwargs = {**cluster.connect_kwargs(), "ssl": "disable", **overrides}
        connection = await pgwire.connect(**kwargs)
        opened.append(connection)
        return connection

    yield factory
    for connection in opened:
        if not connection.is_closed():
            connection.terminate()
