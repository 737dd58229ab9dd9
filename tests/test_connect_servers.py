"""Connecting to real servers of several kinds: a hot standby, PostgreSQL 17 and 18.

What needs more than the session's PostgreSQL 15: ``target_session_attrs``
and ``load_balance_hosts`` against a real primary/standby pair (compared
with libpq through psycopg), direct TLS (``sslnegotiation=direct``,
PostgreSQL 17+) and protocol 3.2 with its longer cancel keys (PostgreSQL
18).  The servers come from ``pgwire.testing`` (see tests/conftest.py).
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest

import pgwire

psycopg = pytest.importorskip("psycopg")

pytestmark = pytest.mark.standby


def _pair(standby: Any) -> tuple[str, str]:
    """host=... port=... fragments for the primary and the standby."""
    return (
        f"127.0.0.1:{standby.primary.port}",
        f"127.0.0.1:{standby.port}",
    )


def _conninfo(order: list[str], attrs: str, extra: str = "") -> str:
    hosts = ",".join(h.split(":")[0] for h in order)
    ports = ",".join(h.split(":")[1] for h in order)
    return (f"host={hosts} port={ports} user=trust_user dbname=pgwire_test sslmode=disable "
            f"target_session_attrs={attrs} {extra}")


def _landed_libpq(conninfo: str) -> int | str:
    try:
        with psycopg.connect(conninfo, autocommit=True) as conn:
            row = conn.execute("SELECT inet_server_port()").fetchone()
            assert row is not None
            return int(row[0])
    except psycopg.Error:
        return "refused"


def _landed_pgwire(conninfo: str) -> int | str:
    try:
        conn = pgwire.connect_sync(conninfo)
    except pgwire.TargetServerAttributeNotMatched:
        return "refused"
    try:
        return int(conn.fetchval("SELECT inet_server_port()"))
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("order", "attrs"),
    [
        (["standby", "primary"], "read-write"),
        (["standby", "primary"], "primary"),
        (["primary", "standby"], "read-only"),
        (["primary", "standby"], "standby"),
        (["primary", "standby"], "prefer-standby"),
        (["primary"], "prefer-standby"),
        (["primary"], "standby"),
        (["standby"], "read-write"),
        (["standby"], "any"),
        (["primary", "standby"], "any"),
    ],
)
def test_target_session_attrs_like_libpq(standby: Any, order: list[str], attrs: str) -> None:
    primary_host, standby_host = _pair(standby)
    hosts = [primary_host if name == "primary" else standby_host for name in order]
    conninfo = _conninfo(hosts, attrs)
    expected = _landed_libpq(conninfo)
    assert _landed_pgwire(conninfo) == expected
    if attrs in ("read-write", "primary") and expected != "refused":
        assert expected == standby.primary.port
    if attrs in ("read-only", "standby", "prefer-standby") and "standby" in order:
        assert expected == standby.port


def test_no_host_matches_names_every_host(standby: Any) -> None:
    _, standby_host = _pair(standby)
    with pytest.raises(pgwire.TargetServerAttributeNotMatched) as caught:
        pgwire.connect_sync(_conninfo([standby_host, standby_host], "primary"))
    message = str(caught.value)
    assert message.count("server is in hot standby mode") == 2
    assert str(standby.port) in message


async def test_async_target_session_attrs_and_load_balancing(standby: Any) -> None:
    primary_host, standby_host = _pair(standby)
    seen = set()
    for _ in range(30):
        conn = await pgwire.connect(
            _conninfo([primary_host, standby_host], "any", "load_balance_hosts=random")
        )
        try:
            seen.add(await conn.fetchval("SELECT inet_server_port()"))
        finally:
            await conn.close()
        if len(seen) == 2:
            break
    # 30 tries that always land on the same of two hosts: 2 ** -29.
    assert seen == {standby.primary.port, standby.port}
    conn = await pgwire.connect(_conninfo([standby_host, primary_host], "read-write"))
    try:
        assert await conn.fetchval("SELECT pg_is_in_recovery()") is False
    finally:
        await conn.close()


@pytest.mark.postgres_versions
@pytest.mark.parametrize("versioned_cluster", [17, 18], indirect=True)
@pytest.mark.parametrize("api_name", ["async", "sync"])
async def test_direct_tls(versioned_cluster: Any, cluster: Any, api_name: str) -> None:
    conninfo = versioned_cluster.dsn(
        user="scram_user", sslmode="verify-full", sslnegotiation="direct",
        sslrootcert=os.fspath(versioned_cluster.ssl_cert_file),
    ).replace("127.0.0.1", "localhost")
    conn: Any
    if api_name == "async":
        conn = await pgwire.connect(conninfo)
        ssl_in_use = await conn.fetchval(
            "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        await conn.close()
    else:
        conn = pgwire.connect_sync(conninfo)
        ssl_in_use = conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        conn.close()
    assert ssl_in_use is True
    # A PostgreSQL 15 server does not speak TLS first: refused, not hung.
    with pytest.raises((pgwire.InterfaceError, OSError)):
        pgwire.connect_sync(conninfo.replace(str(versioned_cluster.port), str(cluster.port)),
                            timeout=10)


@pytest.mark.postgres_versions
@pytest.mark.parametrize("versioned_cluster", [18], indirect=True)
async def test_protocol_3_2_and_its_cancel_keys(versioned_cluster: Any) -> None:
    dsn = versioned_cluster.dsn(sslmode="require", max_protocol_version="3.2")
    conn = await pgwire.connect(dsn)
    try:
        assert conn.get_protocol_version() == (3, 2)
        # Protocol 3.2 cancel keys are longer than 4 bytes; a cancel sent
        # over TLS with them must reach the server.
        assert len(conn._runner.engine.backend_secret) > 4
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await conn.execute("SELECT pg_sleep(30)", timeout=1)
        assert time.monotonic() - started < 15
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
    conn = await pgwire.connect(versioned_cluster.dsn(min_protocol_version="3.2"))
    try:
        assert conn.get_protocol_version() == (3, 2)
    finally:
        await conn.close()
    conn = await pgwire.connect(versioned_cluster.dsn())
    try:
        assert conn.get_protocol_version() == (3, 0)  # libpq 18's default
    finally:
        await conn.close()


@pytest.mark.parametrize("versioned_cluster", [14], indirect=True)
@pytest.mark.postgres_versions
def test_protocol_3_2_refused_by_an_older_server(versioned_cluster: Any) -> None:
    with pytest.raises(pgwire.InterfaceError, match="min_protocol_version"):
        pgwire.connect_sync(versioned_cluster.dsn(min_protocol_version="3.2"))
    conn = pgwire.connect_sync(versioned_cluster.dsn(max_protocol_version="latest"))
    try:
        assert conn.get_protocol_version() == (3, 0)
    finally:
        conn.close()


# -- OAuth (PostgreSQL 18, OAUTHBEARER) ------------------------------------------


def _oauth_dsn(oauth_cluster: Any, **params: str) -> str:
    return oauth_cluster.dsn(user="oauth_user", password="", sslmode="disable", **params)


@pytest.mark.postgres_versions
async def test_oauth_token_provider_gets_the_servers_issuer_and_scope(oauth_cluster: Any) -> None:
    from pgwire.testing.oauth import DEFAULT_ISSUER, DEFAULT_SCOPE, good_token

    seen: list[Any] = []

    async def provider(challenge: Any) -> str:
        seen.append(challenge)
        return good_token("oauth_user")

    conn = await pgwire.connect(_oauth_dsn(oauth_cluster), oauth_token=provider)
    try:
        assert await conn.fetchval("SELECT system_user") == "oauth:oauth_user"
    finally:
        await conn.close()
    assert [(c.issuer, c.scope) for c in seen] == [(DEFAULT_ISSUER, DEFAULT_SCOPE)]

    # The blocking API, a plain function, and a token given as it is.
    sync_conn = pgwire.connect_sync(_oauth_dsn(oauth_cluster),
                                    oauth_token=lambda challenge: good_token("oauth_user"))
    try:
        assert sync_conn.fetchval("SELECT current_user") == "oauth_user"
    finally:
        sync_conn.close()
    sync_conn = pgwire.connect_sync(_oauth_dsn(oauth_cluster), oauth_token=good_token("oauth_user"))
    sync_conn.close()


@pytest.mark.postgres_versions
def test_oauth_refusals(oauth_cluster: Any) -> None:
    from pgwire.testing.oauth import good_token

    with pytest.raises(pgwire.InterfaceError, match="oauth_token"):
        pgwire.connect_sync(_oauth_dsn(oauth_cluster))
    with pytest.raises(pgwire.PostgresError, match="OAuth bearer authentication failed"):
        pgwire.connect_sync(_oauth_dsn(oauth_cluster), oauth_token=good_token("postgres"))
    with pytest.raises(pgwire.PostgresError, match="OAuth bearer authentication failed"):
        pgwire.connect_sync(_oauth_dsn(oauth_cluster), oauth_token=lambda c: "bad")
    # A server naming another issuer than the configured one gets no token.
    called = []
    with pytest.raises(pgwire.InterfaceError, match="oauth_issuer"):
        pgwire.connect_sync(_oauth_dsn(oauth_cluster, oauth_issuer="https://other.example"),
                            oauth_token=lambda c: called.append(c) or "x")
    assert called == []
    with pytest.raises(pgwire.InterfaceError, match="requested OAuth"):
        pgwire.connect_sync(_oauth_dsn(oauth_cluster, require_auth="scram-sha-256"),
                            oauth_token=good_token("oauth_user"))
