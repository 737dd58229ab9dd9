"""pgwire connects exactly like libpq: the same inputs, side by side.

Each case is a connection string plus an environment and the files libpq
reads (service file, password file, ~/.postgresql/root.crt), on PostgreSQL
15 and 18.  psycopg 3
(whose binary wheel bundles libpq) connects with the very same inputs as the
reference; the test then checks that both land on the same server,
database, user, TLS state and settings -- or that both refuse.  A dedicated
server with TLS and a few roles is started for this module.
"""

from __future__ import annotations

import os
import socket
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from missing import missing

import pgwire
from pgwire.testing import TemporaryCluster, postgresql_bindir
from pgwire.testing._certs import generate_self_signed_cert

psycopg = pytest.importorskip("psycopg")

PASSWORD = "s3cret:with\\colon"
FACTS_SQL = (
    "SELECT current_user, current_database(), inet_server_port(),"
    " current_setting('application_name'),"
    " coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false),"
    " current_setting('TimeZone'), current_setting('DateStyle'),"
    " current_setting('work_mem'), current_setting('search_path'),"
    " current_setting('default_transaction_read_only')"
)


@dataclass
class Server:
    cluster: TemporaryCluster
    wrong_root: Path

    def fill(self, text: str, home: Path) -> str:
        return (
            text.replace("{port}", str(self.cluster.port))
            .replace("{socket}", os.fspath(self.cluster.unix_socket_dir))
            .replace("{socket_uri}", os.fspath(self.cluster.unix_socket_dir).replace("/", "%2F"))
            .replace("{root}", os.fspath(self.cluster.ssl_cert_file))
            .replace("{wrong_root}", os.fspath(self.wrong_root))
            .replace("{home}", os.fspath(home))
            .replace("{closed_port}", str(_closed_port()))
        )


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module", params=[None, 18], ids=["pg15", "pg18"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    """The session's Debian PostgreSQL (15), then PostgreSQL 18."""
    version = request.param
    if version is not None and postgresql_bindir(version) is None:
        missing(f"PostgreSQL {version}", "its binaries are not unpacked (scripts/setup.sh)")
    cluster = TemporaryCluster(version=version, extra_hba=[
        "host all pass_user 127.0.0.1/32 scram-sha-256",
        "local all pass_user scram-sha-256",
        "hostssl all ssl_only_user 127.0.0.1/32 trust",
        "host all ssl_only_user 127.0.0.1/32 reject",
        "hostnossl all nossl_user 127.0.0.1/32 trust",
        "host all nossl_user 127.0.0.1/32 reject",
    ])
    cluster.start()
    try:
        if not cluster.ssl_enabled:
            pytest.skip("the test server has no TLS certificate (no openssl, no cryptography)")
        conn = pgwire.connect_sync(**cluster.connect_kwargs(user="postgres"), ssl="disable")
        try:
            conn.execute("SET password_encryption = 'scram-sha-256'")
            conn.execute(f"CREATE ROLE pass_user LOGIN PASSWORD '{PASSWORD}'")
            conn.execute("CREATE ROLE ssl_only_user LOGIN")
            conn.execute("CREATE ROLE nossl_user LOGIN")
            conn.execute("CREATE DATABASE other_db")
        finally:
            conn.close()
        directory = tmp_path_factory.mktemp("wrong-ca")
        wrong_root = directory / "wrong.crt"
        generate_self_signed_cert(wrong_root, directory / "wrong.key")
        yield Server(cluster, wrong_root)
    finally:
        cluster.stop()


@dataclass
class Case:
    id: str
    conninfo: str
    env: dict[str, str] = field(default_factory=dict)
    #: Files written before connecting: path (relative to HOME) -> (text, mode).
    files: dict[str, tuple[str, int]] = field(default_factory=dict)


T = "host=127.0.0.1 port={port} dbname=pgwire_test "
TU = T + "user=trust_user "
V = "host=localhost port={port} dbname=pgwire_test user=trust_user "
SERVICE = (
    "# a comment\n[svc]\nhost=127.0.0.1\nport={port}\nuser=trust_user\ndbname=pgwire_test\n"
    "application_name=from-service\n\n[other]\nhost=nowhere.invalid\n"
)
PGPASS_LINE = "127.0.0.1:{port}:pgwire_test:pass_user:s3cret\\:with\\\\colon\n"

CASES = [
    # -- keywords and URIs ---------------------------------------------------
    Case("kv-basic", TU + "sslmode=disable"),
    Case("uri-basic", "postgresql://trust_user@127.0.0.1:{port}/pgwire_test?sslmode=disable"),
    Case("uri-postgres-scheme", "postgres://trust_user@127.0.0.1:{port}/pgwire_test"),
    Case("uri-percent-decoding",
         "postgresql://trust_user@127.0.0.1:{port}/pgwire_test?application_name=a%20b%2Fc"),
    Case("uri-socket-percent-host", "postgresql://trust_user@{socket_uri}:{port}/pgwire_test"),
    Case("uri-host-query-parameter",
         "postgresql:///pgwire_test?host={socket}&port={port}&user=trust_user"),
    Case("uri-ssl-true", "postgresql://trust_user@127.0.0.1:{port}/pgwire_test?ssl=true"),
    Case("unix-socket", "host={socket} port={port} dbname=pgwire_test user=trust_user"),
    Case("unknown-keyword", TU + "dbnmae=x"),
    Case("unknown-uri-parameter", "postgresql://127.0.0.1:{port}/pgwire_test?dbnmae=x"),
    Case("uri-parameter-without-value", "postgresql://127.0.0.1:{port}/pgwire_test?sslmode"),
    Case("missing-equals", TU + "sslmode"),
    Case("unterminated-quote", TU + "application_name='open"),
    Case("quoted-value", TU + "application_name='it\\'s mine'"),
    Case("bad-port", T + "user=trust_user port=abc"),
    Case("port-out-of-range", "host=127.0.0.1 port=70000 user=trust_user"),
    Case("bad-sslmode", TU + "sslmode=sometimes"),
    Case("wrong-database", "host=127.0.0.1 port={port} user=trust_user dbname=no_such_db"),
    Case("other-database", "host=127.0.0.1 port={port} user=trust_user dbname=other_db"),
    # -- hosts ---------------------------------------------------------------
    Case("first-host-unreachable",
         "host=127.0.0.1,127.0.0.1 port={closed_port},{port} dbname=pgwire_test user=trust_user"),
    Case("all-hosts-unreachable",
         "host=127.0.0.1,127.0.0.1 port={closed_port},{closed_port} user=trust_user"),
    Case("ports-do-not-match-hosts", "host=a,b,c port=1,2 user=trust_user"),
    Case("one-port-for-two-hosts", "host=127.0.0.1,127.0.0.1 port={port} " + "dbname=pgwire_test user=trust_user"),
    Case("unresolvable-then-good",
         "host=nowhere.invalid,127.0.0.1 port={port} dbname=pgwire_test user=trust_user"),
    Case("localhost-every-address", V + "sslmode=disable"),
    Case("ipv6-only-fails", "host=::1 port={port} dbname=pgwire_test user=trust_user"),
    Case("hostaddr-with-host", "host=example.invalid hostaddr=127.0.0.1 port={port} "
         "dbname=pgwire_test user=trust_user sslmode=disable"),
    Case("hostaddr-alone", "hostaddr=127.0.0.1 port={port} dbname=pgwire_test user=trust_user"),
    Case("bad-hostaddr", "hostaddr=not-an-ip port={port} user=trust_user"),
    Case("hostaddr-count-mismatch", "host=a,b hostaddr=127.0.0.1 port={port} user=trust_user"),
    Case("load-balance-random",
         "host=127.0.0.1,127.0.0.1 port={port} dbname=pgwire_test user=trust_user "
         "load_balance_hosts=random"),
    Case("bad-load-balance", TU + "load_balance_hosts=sometimes"),
    Case("connect-timeout", TU + "connect_timeout=5"),
    Case("bad-connect-timeout", TU + "connect_timeout=soon"),
    Case("keepalives-off", TU + "keepalives=0"),
    Case("keepalive-settings", TU + "keepalives_idle=30 keepalives_interval=5 keepalives_count=3 "
         "tcp_user_timeout=10000"),
    Case("bad-keepalives-idle", TU + "keepalives_idle=soon"),
    # -- environment ---------------------------------------------------------
    Case("environment-defaults", "",
         {"PGHOST": "127.0.0.1", "PGPORT": "{port}", "PGUSER": "trust_user",
          "PGDATABASE": "pgwire_test"}),
    Case("conninfo-beats-environment", TU, {"PGDATABASE": "other_db", "PGUSER": "nobody"}),
    Case("pgappname", TU, {"PGAPPNAME": "from-env"}),
    Case("application-name-beats-pgappname", TU + "application_name=mine", {"PGAPPNAME": "env"}),
    Case("fallback-application-name", TU + "fallback_application_name=fallback"),
    Case("pgoptions", TU, {"PGOPTIONS": "-c work_mem=7MB"}),
    Case("options", TU + "options='-c search_path=pg_catalog -c work_mem=9MB'"),
    Case("pgtz-and-pgdatestyle", TU, {"PGTZ": "Asia/Tokyo", "PGDATESTYLE": "SQL, DMY"}),
    Case("pgsslmode-require", TU, {"PGSSLMODE": "require"}),
    Case("pgsslmode-disable", TU, {"PGSSLMODE": "disable"}),
    Case("pgconnect-timeout-bad", TU, {"PGCONNECT_TIMEOUT": "soon"}),
    Case("pgtarget-session-attrs", TU, {"PGTARGETSESSIONATTRS": "read-only"}),
    # -- TLS -----------------------------------------------------------------
    Case("sslmode-disable", TU + "sslmode=disable"),
    Case("sslmode-allow", TU + "sslmode=allow"),
    Case("sslmode-prefer", TU + "sslmode=prefer"),
    Case("sslmode-require", TU + "sslmode=require"),
    Case("verify-ca", TU + "sslmode=verify-ca sslrootcert={root}"),
    Case("verify-full-localhost", V + "sslmode=verify-full sslrootcert={root}"),
    Case("verify-full-ip", TU + "sslmode=verify-full sslrootcert={root}"),
    Case("verify-full-wrong-root", V + "sslmode=verify-full sslrootcert={wrong_root}"),
    Case("verify-full-no-root-file", V + "sslmode=verify-full"),
    Case("verify-full-name-mismatch", "host=wrong.example hostaddr=127.0.0.1 port={port} "
         "dbname=pgwire_test user=trust_user sslmode=verify-full sslrootcert={root}"),
    Case("verify-full-hostaddr-checks-host", "host=localhost hostaddr=127.0.0.1 port={port} "
         "dbname=pgwire_test user=trust_user sslmode=verify-full sslrootcert={root}"),
    Case("verify-full-without-sni", V + "sslmode=verify-full sslrootcert={root} sslsni=0"),
    Case("home-root-certificate", V + "sslmode=verify-full",
         files={".postgresql/root.crt": ("@{root}", 0o644)}),
    Case("require-verifies-with-home-root", V + "sslmode=require",
         files={".postgresql/root.crt": ("@{wrong_root}", 0o644)}),
    Case("prefer-falls-back-on-bad-root", V + "sslmode=prefer",
         files={".postgresql/root.crt": ("@{wrong_root}", 0o644)}),
    Case("pgsslrootcert", V + "sslmode=verify-full", {"PGSSLROOTCERT": "{root}"}),
    Case("sslrootcert-system-weak-mode", V + "sslrootcert=system sslmode=require"),
    Case("sslrootcert-system-self-signed", V + "sslrootcert=system"),
    Case("ssl-only-user-allow", T + "user=ssl_only_user sslmode=allow"),
    Case("ssl-only-user-disable", T + "user=ssl_only_user sslmode=disable"),
    Case("nossl-user-prefer", T + "user=nossl_user sslmode=prefer"),
    Case("nossl-user-require", T + "user=nossl_user sslmode=require"),
    Case("tls13-minimum", TU + "sslmode=require ssl_min_protocol_version=TLSv1.3"),
    Case("tls12-maximum", TU + "sslmode=require ssl_max_protocol_version=TLSv1.2"),
    Case("bad-tls-version", TU + "sslmode=require ssl_min_protocol_version=TLSv9"),
    Case("sslcertmode-disable", TU + "sslmode=require sslcertmode=disable"),
    Case("missing-crl-is-ignored", V + "sslmode=verify-full sslrootcert={root} sslcrl=/nonexistent"),
    Case("direct-ssl-weak-mode", TU + "sslnegotiation=direct sslmode=prefer"),
    Case("bad-sslnegotiation", TU + "sslnegotiation=sometimes"),
    # -- authentication ------------------------------------------------------
    Case("scram-password", T + "user=pass_user password='s3cret:with\\\\colon' sslmode=disable"),
    Case("scram-no-password", T + "user=pass_user sslmode=disable"),
    Case("scram-wrong-password", T + "user=pass_user password=wrong sslmode=disable"),
    Case("pgpassword", T + "user=pass_user sslmode=disable", {"PGPASSWORD": PASSWORD}),
    Case("pgpass-file", T + "user=pass_user sslmode=disable", files={".pgpass": (PGPASS_LINE, 0o600)}),
    Case("pgpass-wildcards", T + "user=pass_user",
         files={".pgpass": ("# comment\n*:*:*:pass_user:s3cret\\:with\\\\colon\n", 0o600)}),
    Case("pgpass-no-match", T + "user=pass_user",
         files={".pgpass": ("otherhost:*:*:pass_user:x\n", 0o600)}),
    Case("pgpass-world-readable", T + "user=pass_user", files={".pgpass": (PGPASS_LINE, 0o644)}),
    Case("passfile-keyword", T + "user=pass_user passfile={home}/elsewhere",
         files={"elsewhere": (PGPASS_LINE, 0o600)}),
    Case("pgpassfile-env", T + "user=pass_user", {"PGPASSFILE": "{home}/elsewhere"},
         files={"elsewhere": (PGPASS_LINE, 0o600)}),
    Case("pgpass-unix-socket-localhost", "host={socket} port={port} dbname=pgwire_test user=pass_user",
         files={".pgpass": ("localhost:*:*:pass_user:s3cret\\:with\\\\colon\n", 0o600)}),
    Case("pgpass-unix-socket-path", "host={socket} port={port} dbname=pgwire_test user=pass_user",
         files={".pgpass": ("{socket}:*:*:pass_user:s3cret\\:with\\\\colon\n", 0o600)}),
    Case("channel-binding-require", T + "user=pass_user sslmode=require channel_binding=require",
         {"PGPASSWORD": PASSWORD}),
    Case("channel-binding-require-without-tls",
         T + "user=pass_user sslmode=disable channel_binding=require", {"PGPASSWORD": PASSWORD}),
    Case("channel-binding-require-trust", TU + "sslmode=require channel_binding=require"),
    Case("channel-binding-disable", T + "user=pass_user sslmode=require channel_binding=disable",
         {"PGPASSWORD": PASSWORD}),
    Case("bad-channel-binding", TU + "channel_binding=sometimes"),
    Case("require-auth-scram", T + "user=pass_user require_auth=scram-sha-256",
         {"PGPASSWORD": PASSWORD}),
    Case("require-auth-md5-refused", T + "user=pass_user require_auth=md5", {"PGPASSWORD": PASSWORD}),
    Case("require-auth-not-scram", T + "user=pass_user require_auth=!scram-sha-256",
         {"PGPASSWORD": PASSWORD}),
    Case("require-auth-none-trust", TU + "require_auth=none"),
    Case("require-auth-none-scram", T + "user=pass_user require_auth=none", {"PGPASSWORD": PASSWORD}),
    Case("require-auth-list", T + "user=pass_user require_auth=password,scram-sha-256",
         {"PGPASSWORD": PASSWORD}),
    Case("require-auth-mixed", TU + "require_auth=password,!md5"),
    Case("require-auth-unknown", TU + "require_auth=kerberos"),
    # -- sessions and protocol ---------------------------------------------
    Case("target-read-write", TU + "target_session_attrs=read-write"),
    Case("target-read-only-on-primary", TU + "target_session_attrs=read-only"),
    Case("target-read-only-by-default-transaction",
         TU + "target_session_attrs=read-only options='-c default_transaction_read_only=on'"),
    Case("target-read-write-refused-by-setting",
         TU + "target_session_attrs=read-write options='-c default_transaction_read_only=on'"),
    Case("target-primary", TU + "target_session_attrs=primary"),
    Case("target-standby-on-primary", TU + "target_session_attrs=standby"),
    Case("target-prefer-standby-falls-back", TU + "target_session_attrs=prefer-standby"),
    Case("bad-target-session-attrs", TU + "target_session_attrs=sometimes"),
    Case("max-protocol-latest", TU + "max_protocol_version=latest"),
    Case("max-protocol-3.2", TU + "max_protocol_version=3.2"),
    Case("min-protocol-3.2", TU + "min_protocol_version=3.2"),
    Case("pgmaxprotocolversion", TU, {"PGMAXPROTOCOLVERSION": "latest"}),
    Case("bad-min-protocol", TU + "min_protocol_version=2.0"),
    Case("min-above-max-protocol", TU + "min_protocol_version=3.2 max_protocol_version=3.0"),
    Case("gssencmode-disable", TU + "gssencmode=disable"),
    # -- service files -------------------------------------------------------
    Case("service-file", "service=svc", {"PGSERVICEFILE": "{home}/services"},
         files={"services": (SERVICE, 0o644)}),
    Case("pgservice-env", "", {"PGSERVICE": "svc", "PGSERVICEFILE": "{home}/services"},
         files={"services": (SERVICE, 0o644)}),
    Case("home-service-file", "service=svc", files={".pg_service.conf": (SERVICE, 0o644)}),
    Case("conninfo-beats-service", "service=svc dbname=other_db application_name=mine",
         {"PGSERVICEFILE": "{home}/services"}, files={"services": (SERVICE, 0o644)}),
    Case("service-beats-environment", "service=svc", {"PGSERVICEFILE": "{home}/services",
         "PGAPPNAME": "from-env", "PGDATABASE": "other_db"}, files={"services": (SERVICE, 0o644)}),
    Case("sysconfdir-service-file", "service=svc", {"PGSYSCONFDIR": "{home}/etc"},
         files={"etc/pg_service.conf": (SERVICE, 0o644)}),
    Case("unknown-service", "service=nope", {"PGSERVICEFILE": "{home}/services"},
         files={"services": (SERVICE, 0o644)}),
    Case("service-with-unknown-keyword", "service=svc", {"PGSERVICEFILE": "{home}/services"},
         files={"services": ("[svc]\nhost=127.0.0.1\ndbnmae=x\n", 0o644)}),
    Case("service-syntax-error", "service=svc", {"PGSERVICEFILE": "{home}/services"},
         files={"services": ("[svc]\nhost 127.0.0.1\n", 0o644)}),
    Case("nested-service", "service=svc", {"PGSERVICEFILE": "{home}/services"},
         files={"services": ("[svc]\nservice=other\n", 0o644)}),
]

# Where libpq and pgwire knowingly differ (see docs/connecting.md): pgwire
# refuses what it cannot honour instead of going on without it.
KNOWN_DIFFERENCES: dict[str, str] = {}


@pytest.fixture
def inputs(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> str:
    case: Case = request.param
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", os.fspath(home))
    # Keep the machine's system-wide service file out of the way.
    monkeypatch.setenv("PGSYSCONFDIR", os.fspath(home / "no-etc"))
    for key, value in case.env.items():
        monkeypatch.setenv(key, server.fill(value, home))
    for relative, (text, mode) in case.files.items():
        path = home / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if text.startswith("@"):
            path.write_bytes(Path(server.fill(text[1:], home)).read_bytes())
        else:
            path.write_text(server.fill(text, home))
        path.chmod(mode)
        assert stat.S_IMODE(path.stat().st_mode) == mode
    return server.fill(case.conninfo, home)


def _libpq_outcome(conninfo: str) -> tuple[str, Any]:
    try:
        conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=10)
    except Exception as exc:  # noqa: BLE001 -- any refusal is the outcome
        return "refused", str(exc)
    try:
        row = conn.execute(FACTS_SQL).fetchone()
        # PQfullProtocolVersion: 30000 for 3.0, 30002 for 3.2.
        protocol = conn.pgconn.full_protocol_version
    finally:
        conn.close()
    assert row is not None
    return "connected", (*row, protocol)


def _pgwire_outcome(conninfo: str) -> tuple[str, Any]:
    try:
        conn = pgwire.connect_sync(conninfo, timeout=10)
    except (pgwire.InterfaceError, pgwire.PostgresError, OSError) as exc:
        return "refused", f"{type(exc).__name__}: {exc}"
    try:
        row = conn.fetchrow(FACTS_SQL)
        major, minor = conn.get_protocol_version()
    finally:
        conn.close()
    assert row is not None
    return "connected", (*row, major * 10000 + minor)


@pytest.mark.parametrize("inputs", CASES, ids=[c.id for c in CASES], indirect=True)
def test_pgwire_does_what_libpq_does(inputs: str, request: pytest.FixtureRequest) -> None:
    case_id = request.node.callspec.id
    if case_id in KNOWN_DIFFERENCES:
        pytest.xfail(KNOWN_DIFFERENCES[case_id])
    libpq = _libpq_outcome(inputs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a password file ignored, as libpq warns too
        ours = _pgwire_outcome(inputs)
    assert ours[0] == libpq[0], f"libpq: {libpq[1]}\npgwire: {ours[1]}"
    if libpq[0] == "connected":
        assert ours[1] == libpq[1]


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 60
