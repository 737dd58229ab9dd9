"""Server-less tests of connection-parameter parsing (PostgreSQL docs, "Connection Strings")."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest

from pgwire.conninfo import build_params, parse_dsn
from pgwire.exceptions import ClientConfigurationError, InterfaceError
from pgwire.testing._certs import generate_self_signed_cert


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PG* variable of the machine's leaks into a test."""
    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("host=db port=5433 dbname=app user=me",
         {"host": "db", "port": "5433", "dbname": "app", "user": "me"}),
        ("password='it\\'s' application_name = 'my app'",
         {"password": "it's", "application_name": "my app"}),
        (r"password='a\'b\\c' options=-c\ x=1", {"password": "a'b\\c", "options": "-c x=1"}),
        ("  host=a  ", {"host": "a"}),
        ("", {}),
    ],
)
def test_keyword_value_strings(dsn: str, expected: dict[str, str]) -> None:
    parsed = parse_dsn(dsn)
    for key, value in expected.items():
        assert parsed[key] == value


@pytest.mark.parametrize(
    ("dsn", "expected"),
    [
        ("postgresql://me:s%40cret@db:5433/app?sslmode=require",
         {"user": "me", "password": "s@cret", "host": "db", "port": "5433", "dbname": "app",
          "sslmode": "require"}),
        ("postgres://db", {"host": "db"}),
        ("postgresql://[::1]:5432/x", {"host": "::1", "port": "5432", "dbname": "x"}),
        ("postgresql://a:1,b:2/x", {"host": "a,b", "port": "1,2", "dbname": "x"}),
        ("postgresql:///app?host=/run/postgresql", {"dbname": "app", "host": "/run/postgresql"}),
        ("postgresql://me@/app", {"user": "me", "dbname": "app"}),
    ],
)
def test_uris(dsn: str, expected: dict[str, str]) -> None:
    assert parse_dsn(dsn) == expected


@pytest.mark.parametrize(
    ("dsn", "message"),
    [
        ("mysql://x", "invalid connection string scheme"),
        ("host", "missing \"=\" after \"host\""),
        ("password='open", "unterminated quoted string"),
    ],
)
def test_malformed_strings_are_refused(dsn: str, message: str) -> None:
    with pytest.raises(InterfaceError, match=message):
        parse_dsn(dsn)


@pytest.mark.parametrize("dsn", [b"host=db", 5432, ["host=db"], lambda: "host=db"])
def test_a_dsn_that_is_not_a_string_is_a_type_error(dsn: object) -> None:
    with pytest.raises(TypeError, match="dsn is expected to be a str"):
        build_params(dsn)  # type: ignore[arg-type]


def test_precedence_explicit_then_dsn_then_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PGHOST", "envhost")
    monkeypatch.setenv("PGUSER", "envuser")
    monkeypatch.setenv("PGDATABASE", "envdb")
    monkeypatch.setenv("PGPORT", "6000")
    params = build_params("host=dsnhost user=dsnuser", user="explicit")
    assert params.addresses == [("dsnhost", 6000)]
    assert params.user == "explicit"
    assert params.database == "envdb"


def test_database_defaults_to_the_user() -> None:
    params = build_params(host="h", user="alice")
    assert params.database == "alice"
    assert params.startup_parameters() == {
        "user": "alice", "database": "alice", "client_encoding": "UTF8"
    }


def test_several_hosts_and_ports() -> None:
    assert build_params("host=a,b,c port=1,2,3").addresses == [("a", 1), ("b", 2), ("c", 3)]
    assert build_params("host=a,b port=7").addresses == [("a", 7), ("b", 7)]
    assert build_params(host=["a", "b"], port=[1, 2]).addresses == [("a", 1), ("b", 2)]
    assert build_params("host=a,b port=,9").addresses == [("a", 5432), ("b", 9)]
    with pytest.raises(InterfaceError, match="could not match 2 port numbers to 3 hosts"):
        build_params("host=a,b,c port=1,2")


@pytest.mark.parametrize("port", ["0", "70000", "x"])
def test_bad_ports_are_refused(port: str) -> None:
    with pytest.raises(InterfaceError, match="port"):
        build_params(f"host=a port={port}")


def test_connect_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    assert build_params("host=a connect_timeout=7").connect_timeout == 7.0
    assert build_params("host=a connect_timeout=0").connect_timeout is None  # wait forever
    assert build_params("host=a connect_timeout=7", timeout=2).connect_timeout == 2
    monkeypatch.setenv("PGCONNECT_TIMEOUT", "3")
    assert build_params("host=a").connect_timeout == 3.0
    with pytest.raises(InterfaceError, match="connect_timeout"):
        build_params("host=a connect_timeout=soon")


def test_server_settings_and_startup_parameters() -> None:
    params = build_params("host=a user=u application_name=tool options='-c work_mem=64MB'",
                          server_settings={"search_path": "app", "jit": "off"})
    startup = params.startup_parameters()
    assert startup["application_name"] == "tool"
    assert startup["options"] == "-c work_mem=64MB"
    assert startup["search_path"] == "app" and startup["jit"] == "off"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty home directory: no ~/.postgresql/root.crt, no ~/.pgpass."""
    monkeypatch.setenv("HOME", os.fspath(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def root_certificate(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("certs")
    cert, key = directory / "root.crt", directory / "root.key"
    generate_self_signed_cert(cert, key)
    return cert


@pytest.mark.parametrize(
    ("ssl_argument", "dsn", "mode", "verifies"),
    [
        (None, "host=a", "prefer", False),
        (None, "host=a sslmode=disable", "disable", None),
        (None, "host=a sslmode=require", "require", False),
        (None, "host=a sslmode=verify-full sslrootcert=ROOT", "verify-full", True),
        (True, "host=a", "require", False),
        (False, "host=a sslmode=require", "disable", None),
        ("verify-ca", "host=a sslrootcert=ROOT", "verify-ca", True),
        # A root certificate that exists makes libpq verify in every mode.
        (None, "host=a sslmode=require sslrootcert=ROOT", "require", True),
    ],
)
def test_sslmode(
    home: Path, root_certificate: Path, ssl_argument: object, dsn: str, mode: str,
    verifies: bool | None,
) -> None:
    params = build_params(dsn.replace("ROOT", os.fspath(root_certificate)), ssl=ssl_argument)
    assert params.sslmode == mode
    if verifies is None:
        assert params.ssl_context is None
    else:
        assert params.ssl_context is not None
        assert (params.ssl_context.verify_mode == ssl.CERT_REQUIRED) is verifies
        # pgwire checks the host name itself, by libpq's rules.
        assert params.ssl_context.check_hostname is False
        assert params.tls.check_name is (mode == "verify-full")


@pytest.mark.parametrize("mode", ["verify-ca", "verify-full"])
def test_verifying_without_a_root_certificate_is_refused(home: Path, mode: str) -> None:
    with pytest.raises(ClientConfigurationError, match="root.crt.* does not exist"):
        build_params(f"host=a sslmode={mode}")


def test_default_root_certificate_is_read_from_the_home_directory(
    home: Path, root_certificate: Path
) -> None:
    (home / ".postgresql").mkdir()
    (home / ".postgresql" / "root.crt").write_bytes(root_certificate.read_bytes())
    params = build_params("host=a sslmode=verify-full")
    assert params.ssl_context is not None
    assert params.ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_sslrootcert_system(home: Path) -> None:
    params = build_params("host=a sslrootcert=system")
    assert params.sslmode == "verify-full"  # libpq's default with the system store
    with pytest.raises(ClientConfigurationError, match='weak sslmode "require"'):
        build_params("host=a sslrootcert=system sslmode=require")


def test_a_context_is_reused_until_its_files_change(home: Path, tmp_path: Path) -> None:
    root, key = tmp_path / "root.crt", tmp_path / "root.key"
    generate_self_signed_cert(root, key)
    dsn = f"host=a sslmode=verify-ca sslrootcert={root}"
    first = build_params(dsn).ssl_context
    assert first is not None and build_params(dsn).ssl_context is first
    # Other settings, another context.
    assert build_params(dsn + " ssl_min_protocol_version=TLSv1.3").ssl_context is not first
    assert build_params(f"host=a sslmode=require sslrootcert={root}").ssl_context is not first
    # A renewed root certificate is read again, as libpq reads it on every connect.
    generate_self_signed_cert(root, key)
    renewed = build_params(dsn).ssl_context
    assert renewed is not None and renewed is not first
    assert renewed.get_ca_certs(binary_form=True) != first.get_ca_certs(binary_form=True)
    assert build_params(dsn).ssl_context is renewed
    # A root certificate that appears in ~/.postgresql makes "require" verify at once.
    unverified = build_params("host=a sslmode=require").ssl_context
    assert unverified is not None and unverified.verify_mode == ssl.CERT_NONE
    (home / ".postgresql").mkdir()
    (home / ".postgresql" / "root.crt").write_bytes(root.read_bytes())
    verified = build_params("host=a sslmode=require").ssl_context
    assert verified is not None and verified.verify_mode == ssl.CERT_REQUIRED


def test_a_context_with_a_client_certificate_is_built_every_time(home: Path) -> None:
    directory = home / ".postgresql"
    directory.mkdir()
    generate_self_signed_cert(directory / "postgresql.crt", directory / "postgresql.key")
    first = build_params("host=a sslmode=require").ssl_context
    assert first is not None and build_params("host=a sslmode=require").ssl_context is not first
    # Without the certificate (sslcertmode=disable) the context is shared again.
    bare = build_params("host=a sslmode=require sslcertmode=disable").ssl_context
    assert build_params("host=a sslmode=require sslcertmode=disable").ssl_context is bare


def test_an_ssl_context_is_used_as_given() -> None:
    context = ssl.create_default_context()
    params = build_params("host=a", ssl=context)
    assert params.ssl_context is context and params.sslmode == "verify-full"
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    assert build_params("host=a", ssl=context).sslmode == "require"


@pytest.mark.parametrize("bad", ["sometimes", 3])
def test_bad_ssl_arguments_are_refused(bad: object) -> None:
    with pytest.raises(InterfaceError, match="ssl"):
        build_params("host=a", ssl=bad)
