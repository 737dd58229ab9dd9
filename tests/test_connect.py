"""Connecting to a real server: authentication methods, DSNs, SSL, settings, failures.

Every test talks to the session's throwaway PostgreSQL (``cluster`` fixture).
Each login role uses one authentication method (see
``pgwire.testing.cluster.AUTH_METHODS``), both over TCP and over the Unix
socket; failures must raise the documented exception classes, promptly.
Every test runs once per API: ``api.connect`` is ``pgwire.connect`` or
``pgwire.connect_sync`` (conftest.py).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from delay_proxy import DelayProxy, best_of

import pgwire
from pgwire.drivers.sockets import numeric_endpoints
from pgwire.testing.cluster import conninfo

PASSWORD_USERS = ["password_user", "md5_user", "scram_user"]
ALL_USERS = ["trust_user", *PASSWORD_USERS]
TRANSPORTS = [pytest.param(False, id="tcp"), pytest.param(True, id="unix")]
# asyncio.TimeoutError is TimeoutError from Python 3.11 on; a blocking call raises TimeoutError.
TIMEOUT_ERRORS = (TimeoutError, asyncio.TimeoutError)


@pytest.fixture(autouse=True)
def _no_password_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Passwords must come from the test, never from the environment of the run."""
    for name in ("PGPASSWORD", "PGPASSFILE", "PGSSLMODE", "PGSERVICE", "PGSERVICEFILE"):
        monkeypatch.delenv(name, raising=False)


async def _whoami(conn: Any) -> tuple[str, str]:
    row = await conn.fetchrow("SELECT current_user, current_database()")
    assert row is not None
    return row[0], row[1]


# ---------------------------------------------------------------------------
# Authentication


@pytest.mark.parametrize("unix_socket", TRANSPORTS)
@pytest.mark.parametrize("user", ALL_USERS)
async def test_connect_with_right_password(
    api: Any, cluster: Any, user: str, unix_socket: bool
) -> None:
    kwargs = cluster.connect_kwargs(user=user, unix_socket=unix_socket)
    conn = await api.connect(**kwargs, ssl="disable")
    try:
        assert await _whoami(conn) == (user, cluster.database)
        assert await conn.fetchval("SELECT $1::int + 1", 41) == 42
        assert not conn.is_closed()
    finally:
        await conn.close()
    assert conn.is_closed()


@pytest.mark.parametrize("unix_socket", TRANSPORTS)
@pytest.mark.parametrize("user", PASSWORD_USERS)
async def test_wrong_password_raises_invalid_password(
    api: Any, cluster: Any, user: str, unix_socket: bool
) -> None:
    kwargs = cluster.connect_kwargs(user=user, unix_socket=unix_socket)
    kwargs["password"] = "definitely-not-" + str(kwargs["password"])
    with pytest.raises(pgwire.InvalidPasswordError) as info:
        await asyncio.wait_for(api.connect(**kwargs, ssl="disable"), 10)
    exc = info.value
    assert exc.sqlstate == "28P01"
    assert isinstance(exc, pgwire.OperationalError)
    assert user in str(exc)
    assert str(kwargs["password"]) not in str(exc)


@pytest.mark.parametrize("unix_socket", TRANSPORTS)
@pytest.mark.parametrize("user", PASSWORD_USERS)
async def test_missing_password_raises_interface_error(
    api: Any, cluster: Any, user: str, unix_socket: bool
) -> None:
    kwargs = cluster.connect_kwargs(user=user, unix_socket=unix_socket)
    kwargs["password"] = None
    with pytest.raises(pgwire.InterfaceError) as info:
        await asyncio.wait_for(api.connect(**kwargs, ssl="disable"), 10)
    assert "password" in str(info.value).lower()
    # A client-side problem, not a server error dressed up as one.
    assert not isinstance(info.value, pgwire.PostgresError)


async def test_trust_user_ignores_a_given_password(api: Any, cluster: Any) -> None:
    kwargs = cluster.connect_kwargs(user="trust_user", password="whatever")
    conn = await api.connect(**kwargs, ssl="disable")
    try:
        assert (await _whoami(conn))[0] == "trust_user"
    finally:
        await conn.close()


async def test_scram_password_over_ssl(api: Any, cluster: Any) -> None:
    kwargs = cluster.connect_kwargs(user="scram_user")
    conn = await api.connect(**kwargs, ssl="require")
    try:
        assert (await _whoami(conn))[0] == "scram_user"
        assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    finally:
        await conn.close()


async def test_unknown_role_is_rejected(api: Any, cluster: Any) -> None:
    kwargs = cluster.connect_kwargs(user="no_such_role_pgwire")
    kwargs["password"] = "x"
    # No pg_hba.conf line matches this role: the server refuses the connection.
    with pytest.raises(pgwire.InvalidAuthorizationSpecificationError) as info:
        await asyncio.wait_for(api.connect(**kwargs, ssl="disable"), 10)
    assert info.value.sqlstate == "28000"


# ---------------------------------------------------------------------------
# DSN forms


@pytest.mark.parametrize("unix_socket", TRANSPORTS)
@pytest.mark.parametrize("user", ["trust_user", "scram_user", "md5_user"])
async def test_uri_dsn(api: Any, cluster: Any, user: str, unix_socket: bool) -> None:
    dsn = cluster.dsn(user=user, unix_socket=unix_socket, sslmode="disable")
    assert dsn.startswith("postgresql://")
    conn = await api.connect(dsn)
    try:
        assert await _whoami(conn) == (user, cluster.database)
    finally:
        await conn.close()


@pytest.mark.parametrize("unix_socket", TRANSPORTS)
async def test_keyword_value_dsn(api: Any, cluster: Any, unix_socket: bool) -> None:
    host = os.fspath(cluster.unix_socket_dir) if unix_socket else cluster.host
    dsn = conninfo(
        host=host,
        port=cluster.port,
        user="scram_user",
        password=cluster.passwords["scram_user"],
        dbname=cluster.database,
        sslmode="disable",
        application_name="kv dsn app",
    )
    conn = await api.connect(dsn)
    try:
        assert await _whoami(conn) == ("scram_user", cluster.database)
        assert await conn.fetchval("SHOW application_name") == "kv dsn app"
    finally:
        await conn.close()


async def test_postgres_scheme_alias(api: Any, cluster: Any) -> None:
    dsn = cluster.dsn(user="trust_user", sslmode="disable").replace("postgresql://", "postgres://")
    conn = await api.connect(dsn)
    try:
        assert (await _whoami(conn))[0] == "trust_user"
    finally:
        await conn.close()


async def test_keyword_arguments_override_the_dsn(api: Any, cluster: Any) -> None:
    dsn = cluster.dsn(user="trust_user", database="no_such_database_pgwire", sslmode="disable")
    conn = await api.connect(dsn, database=cluster.database, user="md5_user",
                             password=cluster.passwords["md5_user"])
    try:
        assert await _whoami(conn) == ("md5_user", cluster.database)
    finally:
        await conn.close()


async def test_uri_application_name_parameter(api: Any, cluster: Any) -> None:
    dsn = cluster.dsn(sslmode="disable", application_name="uri-app")
    conn = await api.connect(dsn)
    try:
        assert await conn.fetchval("SHOW application_name") == "uri-app"
    finally:
        await conn.close()


async def test_environment_variables_as_defaults(
    api: Any, cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PGHOST", cluster.host)
    monkeypatch.setenv("PGPORT", str(cluster.port))
    monkeypatch.setenv("PGUSER", "scram_user")
    monkeypatch.setenv("PGPASSWORD", cluster.passwords["scram_user"])
    monkeypatch.setenv("PGDATABASE", cluster.database)
    monkeypatch.setenv("PGSSLMODE", "disable")
    conn = await api.connect()
    try:
        assert await _whoami(conn) == ("scram_user", cluster.database)
        assert await conn.fetchval(SSL_QUERY) is False
    finally:
        await conn.close()


async def test_several_hosts_first_unreachable(api: Any, cluster: Any) -> None:
    conn = await api.connect(
        host=[cluster.host, cluster.host],
        port=[_closed_port(), cluster.port],
        user="trust_user",
        database=cluster.database,
        ssl="disable",
        timeout=5,
    )
    try:
        assert (await _whoami(conn))[0] == "trust_user"
    finally:
        await conn.close()


async def test_invalid_dsn_scheme_raises_interface_error(api: Any) -> None:
    with pytest.raises(pgwire.InterfaceError):
        await api.connect("mysql://user@localhost/db")


# ---------------------------------------------------------------------------
# SSL


SSL_QUERY = "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"


async def test_ssl_require_encrypts(api: Any, cluster: Any) -> None:
    assert cluster.ssl_enabled
    conn = await api.connect(**cluster.connect_kwargs(), ssl="require")
    try:
        assert await conn.fetchval(SSL_QUERY) is True
        assert await conn.fetchval("SELECT $1::text", "over tls") == "over tls"
    finally:
        await conn.close()


async def test_ssl_disable_does_not_encrypt(api: Any, cluster: Any) -> None:
    conn = await api.connect(**cluster.connect_kwargs(), ssl="disable")
    try:
        assert await conn.fetchval(SSL_QUERY) is False
    finally:
        await conn.close()


async def test_ssl_true_and_sslmode_in_dsn(api: Any, cluster: Any) -> None:
    conn = await api.connect(**cluster.connect_kwargs(), ssl=True)
    try:
        assert await conn.fetchval(SSL_QUERY) is True
    finally:
        await conn.close()
    conn = await api.connect(cluster.dsn(sslmode="require"))
    try:
        assert await conn.fetchval(SSL_QUERY) is True
    finally:
        await conn.close()


async def test_ssl_verify_full_with_cluster_certificate(api: Any, cluster: Any) -> None:
    dsn = cluster.dsn(sslmode="verify-full", sslrootcert=os.fspath(cluster.ssl_cert_file))
    conn = await api.connect(dsn)
    try:
        assert await conn.fetchval(SSL_QUERY) is True
    finally:
        await conn.close()


async def test_ssl_on_unix_socket_is_not_attempted(api: Any, cluster: Any) -> None:
    # libpq never negotiates SSL over a Unix socket; "prefer" must just work.
    conn = await api.connect(**cluster.connect_kwargs(unix_socket=True), ssl="prefer")
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()


async def test_invalid_ssl_mode_raises_interface_error(api: Any, cluster: Any) -> None:
    with pytest.raises(pgwire.InterfaceError):
        await api.connect(**cluster.connect_kwargs(), ssl="sometimes")


# ---------------------------------------------------------------------------
# Server information


async def test_server_settings_application_name(make_conn: Any) -> None:
    conn = await make_conn(server_settings={"application_name": "pgwire-tests app"})
    assert await conn.fetchval("SHOW application_name") == "pgwire-tests app"
    assert conn.get_settings().application_name == "pgwire-tests app"


async def test_server_settings_arbitrary_guc(make_conn: Any) -> None:
    conn = await make_conn(server_settings={"search_path": "pg_catalog", "work_mem": "8MB"})
    assert await conn.fetchval("SHOW work_mem") == "8MB"
    assert await conn.fetchval("SHOW search_path") == "pg_catalog"


async def test_get_server_version(conn: Any, cluster: Any) -> None:
    version = conn.get_server_version()
    num = int(await conn.fetchval("SHOW server_version_num"))
    assert num == cluster.server_version
    # asyncpg's form: 15.18 is (15, 0, 18), so version[:2] ignores bugfix releases.
    assert version.major == num // 10000
    assert version.minor == 0
    assert version.micro == num % 10000
    assert version.releaselevel == "final"
    assert version >= (10, 0)
    assert isinstance(version, tuple)


async def test_get_server_pid(conn: Any) -> None:
    pid = conn.get_server_pid()
    assert isinstance(pid, int) and pid > 0
    assert pid == await conn.fetchval("SELECT pg_backend_pid()")


async def test_two_connections_have_different_pids(make_conn: Any) -> None:
    a = await make_conn()
    b = await make_conn()
    assert a.get_server_pid() != b.get_server_pid()


async def test_get_settings(conn: Any) -> None:
    settings = conn.get_settings()
    assert settings.server_encoding == "UTF8"
    assert settings.client_encoding == "UTF8"
    assert settings.server_version == await conn.fetchval("SHOW server_version")
    assert settings.integer_datetimes == "on"
    assert "TimeZone" in settings
    with pytest.raises(AttributeError):
        _ = settings.no_such_setting


async def test_close_is_idempotent_and_marks_closed(api: Any, cluster: Any) -> None:
    conn = await api.connect(**cluster.connect_kwargs(), ssl="disable")
    pid = conn.get_server_pid()
    assert not conn.is_closed()
    await conn.close()
    assert conn.is_closed()
    await conn.close()  # a second close is a no-op
    assert conn.is_closed()
    # The server saw a graceful Terminate: the backend goes away.
    other = await api.connect(**cluster.connect_kwargs(), ssl="disable")
    try:
        for _ in range(100):
            alive = await other.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE pid = $1", pid
            )
            if alive == 0:
                break
            await asyncio.sleep(0.05)
        assert alive == 0
    finally:
        await other.close()


async def test_connection_class_subclass(api: Any, cluster: Any) -> None:
    class MyConnection(api.Connection):  # type: ignore[name-defined]
        marker = "mine"

    conn = await api.connect(**cluster.connect_kwargs(), ssl="disable",
                             connection_class=MyConnection)
    try:
        assert isinstance(api.unwrap(conn), MyConnection)
        assert conn.marker == "mine"
        assert await conn.fetchval("SELECT 7") == 7
    finally:
        await conn.close()


# ---------------------------------------------------------------------------
# Failures


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_closed_port_raises_os_error_promptly(api: Any) -> None:
    port = _closed_port()
    started = time.monotonic()
    with pytest.raises(ConnectionRefusedError) as caught:
        await asyncio.wait_for(
            api.connect(host="127.0.0.1", port=port, user="postgres", database="x",
                        ssl="disable", timeout=10),
            10,
        )
    assert time.monotonic() - started < 3
    assert str(caught.value).endswith(
        f'connection to server at "127.0.0.1", port {port} failed: Connection refused')


async def test_missing_unix_socket_raises_os_error(api: Any, tmp_path: Any) -> None:
    with pytest.raises(OSError):
        await asyncio.wait_for(
            api.connect(host=os.fspath(tmp_path), port=5432, user="postgres", database="x"),
            10,
        )


def test_numeric_endpoints_parse_addresses_and_leave_names_alone() -> None:
    [v4] = numeric_endpoints("127.0.0.1", 5432)
    assert (v4.family, v4.address) == (socket.AF_INET, ("127.0.0.1", 5432))
    [v6] = numeric_endpoints("::1", 6432)
    assert v6.family == socket.AF_INET6 and v6.address[:2] == ("::1", 6432)
    for name in ("localhost", "db.example.invalid", "127.0.0.1.", "", "ex\u00e4mple"):
        assert numeric_endpoints(name, 5432) is None, name


async def test_numeric_host_is_not_sent_to_the_resolver_thread(
    cluster: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # asyncio's getaddrinfo always runs in a worker thread; an address needs no lookup.
    loop = asyncio.get_running_loop()
    looked_up: list[str] = []

    async def refuse(host: str, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "no resolver in this test")

    monkeypatch.setattr(loop, "getaddrinfo", refuse)
    # Nor is the socket's connect: uvloop's sock_connect resolves the
    # address again, on its thread pool.
    monkeypatch.setattr(loop, "sock_connect", refuse)
    target = {**cluster.connect_kwargs(), "ssl": "disable"}
    conn = await pgwire.connect(**{**target, "host": "127.0.0.1"})
    try:
        assert await conn.fetchval("SELECT 1") == 1
    finally:
        await conn.close()
    assert looked_up == []
    with pytest.raises(OSError):
        await pgwire.connect(**{**target, "host": "localhost"})
    assert looked_up == ["localhost"]


class SilentServer:
    """A loopback TCP server that accepts connections and never says a word."""

    def __init__(self) -> None:
        self.port = 0
        self.readers: list[asyncio.StreamReader] = []
        self.writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.readers.append(reader)
        self.writers.append(writer)


@pytest.fixture
async def silent_server() -> AsyncIterator[SilentServer]:
    silent = SilentServer()
    server = await asyncio.start_server(silent.handle, "127.0.0.1", 0)
    silent.port = server.sockets[0].getsockname()[1]
    try:
        yield silent
    finally:
        server.close()
        for writer in silent.writers:
            writer.close()
        await server.wait_closed()


@pytest.mark.parametrize("ssl", ["disable", "prefer"])
async def test_connect_timeout_against_silent_server(
    api: Any, silent_server: SilentServer, ssl: str
) -> None:
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await asyncio.wait_for(
            api.connect(host="127.0.0.1", port=silent_server.port, user="postgres",
                        database="x", password="x", ssl=ssl, timeout=0.5),
            10,
        )
    elapsed = time.monotonic() - started
    assert 0.4 <= elapsed < 2.5
    # The abandoned socket was closed, not leaked: the server reads EOF.
    assert len(silent_server.readers) == 1
    sent = await asyncio.wait_for(silent_server.readers[0].read(), 2)
    assert sent  # the SSLRequest or StartupMessage, then EOF


async def test_connect_timeout_from_dsn(api: Any, silent_server: SilentServer) -> None:
    # libpq semantics: connect_timeout in the connection string applies when
    # the caller does not pass timeout= explicitly.
    port = silent_server.port
    dsn = f"postgresql://postgres@127.0.0.1:{port}/x?sslmode=disable&connect_timeout=1"
    task = asyncio.ensure_future(api.connect(dsn))
    done, _ = await asyncio.wait({task}, timeout=2.5)
    if not done:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert task in done, "connect_timeout=1 from the DSN was not applied"
    assert isinstance(task.exception(), TIMEOUT_ERRORS)


async def test_unknown_keyword_argument_raises_type_error(api: Any, cluster: Any) -> None:
    with pytest.raises(TypeError, match="no_such_option"):
        await api.connect(**cluster.connect_kwargs(), no_such_option=1)


@pytest.mark.parametrize("bad", [dict, tuple, object(), "Record", None])
async def test_bad_record_class_raises_interface_error(api: Any, cluster: Any, bad: Any) -> None:
    with pytest.raises(pgwire.InterfaceError, match="record_class"):
        await api.connect(**cluster.connect_kwargs(), ssl="disable", record_class=bad)


async def test_database_that_does_not_exist(api: Any, cluster: Any) -> None:
    kwargs = cluster.connect_kwargs(database="no_such_database_pgwire")
    with pytest.raises(pgwire.InvalidCatalogNameError) as info:
        await asyncio.wait_for(api.connect(**kwargs, ssl="disable"), 10)
    assert info.value.sqlstate == "3D000"
    assert "no_such_database_pgwire" in str(info.value)


async def test_negative_statement_cache_size_is_rejected(api: Any, cluster: Any) -> None:
    with pytest.raises(pgwire.InterfaceError):
        await api.connect(**cluster.connect_kwargs(), ssl="disable", statement_cache_size=-1)


async def test_invalid_server_setting_is_reported(api: Any, cluster: Any) -> None:
    with pytest.raises(pgwire.PostgresError) as info:
        await asyncio.wait_for(
            api.connect(**cluster.connect_kwargs(), ssl="disable",
                        server_settings={"no_such_guc_pgwire": "1"}),
            10,
        )
    assert "no_such_guc_pgwire" in str(info.value)


async def test_many_connections_in_parallel(api: Any, cluster: Any) -> None:
    kwargs = cluster.connect_kwargs(user="scram_user")
    conns = await asyncio.gather(
        *(api.connect(**kwargs, ssl="disable") for _ in range(10))
    )
    try:
        pids = {c.get_server_pid() for c in conns}
        assert len(pids) == 10
        values = await asyncio.gather(*(c.fetchval("SELECT $1::int", i)
                                        for i, c in enumerate(conns)))
        assert values == list(range(10))
    finally:
        await asyncio.gather(*(c.close() for c in conns))


async def test_connect_takes_one_round_trip_the_probe_rides_with_the_first_query(
    api: Any, cluster: Any
) -> None:
    """A trust login is one round trip (startup, then the server's answer):
    the pooler probe is not a round trip of its own but goes out with the
    first request.  Through a proxy adding 50 ms each way, compared with the
    round trip measured on the same connection (wide margins: the server's
    fork and a loaded machine fit in them)."""
    with DelayProxy(cluster.host, cluster.port, delay=0.05) as proxy:
        kwargs = {**cluster.connect_kwargs(), "ssl": "disable", "host": proxy.host,
                  "port": proxy.port}
        opened: list[Any] = []
        connect_times: list[float] = []
        first_query_times: list[float] = []
        try:
            for attempt in range(3):
                started = time.monotonic()
                conn = await api.connect(**kwargs)
                opened.append(conn)
                connected = time.monotonic()
                # A new statement: prepared (the probe rides along), then run.
                assert await conn.fetchval("SELECT $1::int + 1", attempt) == attempt + 1
                connect_times.append(connected - started)
                first_query_times.append(time.monotonic() - connected)
            conn = opened[-1]
            assert conn._session.pooler_detected is False

            async def one(attempt: int) -> None:
                assert await conn.fetchval("SELECT $1::int + 1", attempt) == attempt + 1

            rtt = await best_of(3, one)
            assert rtt >= 0.1
            assert min(connect_times) < 1.6 * rtt, (connect_times, rtt)
            # Prepare and execute: two round trips, not three.
            assert min(first_query_times) < 2.6 * rtt, (first_query_times, rtt)
        finally:
            for conn in opened:
                conn.terminate()
