"""Connection parameters: DSN parsing, environment defaults and validation.

Accepts ``postgresql://`` / ``postgres://`` URIs and libpq ``key=value``
strings (PostgreSQL docs, "Connection Strings", section 34.1.1), keyword
arguments that override them, and the ``PG*`` environment variables as
fallbacks.  Produces one immutable :class:`ConnectParams`.
"""

from __future__ import annotations

import getpass
import os
import ssl as ssl_module
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ..exceptions import InterfaceError

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

_URI_SCHEMES = ("postgresql", "postgres")

# asyncpg's default: give up on an unresponsive server after a minute.
DEFAULT_CONNECT_TIMEOUT = 60.0


@dataclass(frozen=True)
class ConnectParams:
    """Everything needed to open one connection."""

    addresses: list[tuple[str, int]]
    user: str
    database: str
    password: str | None
    sslmode: str
    ssl_context: ssl_module.SSLContext | None
    server_settings: dict[str, str] = field(default_factory=dict)
    connect_timeout: float | None = None

    def startup_parameters(self) -> dict[str, str]:
        """The StartupMessage parameters: only what is needed (pgbouncer
        refuses parameters it does not know)."""
        params = {"user": self.user, "database": self.database, "client_encoding": "UTF8"}
        params.update(self.server_settings)
        return params


def _parse_keyword_dsn(dsn: str) -> dict[str, str]:
    """Parse ``key=value key2='quoted value'`` as libpq does."""
    result: dict[str, str] = {}
    i = 0
    n = len(dsn)
    while i < n:
        while i < n and dsn[i].isspace():
            i += 1
        if i >= n:
            break
        eq = dsn.find("=", i)
        if eq < 0:
            raise InterfaceError(f"invalid connection string: missing '=' after {dsn[i:]!r}")
        key = dsn[i:eq].strip()
        i = eq + 1
        while i < n and dsn[i].isspace():
            i += 1
        value_chars: list[str] = []
        if i < n and dsn[i] == "'":
            i += 1
            while True:
                if i >= n:
                    raise InterfaceError("invalid connection string: unterminated quoted value")
                ch = dsn[i]
                if ch == "\\" and i + 1 < n:
                    value_chars.append(dsn[i + 1])
                    i += 2
                elif ch == "'":
                    i += 1
                    break
                else:
                    value_chars.append(ch)
                    i += 1
        else:
            while i < n and not dsn[i].isspace():
                if dsn[i] == "\\" and i + 1 < n:
                    value_chars.append(dsn[i + 1])
                    i += 2
                else:
                    value_chars.append(dsn[i])
                    i += 1
        result[key] = "".join(value_chars)
    return result


def _parse_uri(dsn: str) -> dict[str, str]:
    parts = urlsplit(dsn)
    result: dict[str, str] = {}
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, netloc = netloc.rpartition("@")
        user, sep, password = userinfo.partition(":")
        if user:
            result["user"] = unquote(user)
        if sep:
            result["password"] = unquote(password)
    hosts: list[str] = []
    ports: list[str] = []
    for item in netloc.split(",") if netloc else []:
        if item.startswith("["):  # IPv6 literal
            host, _, rest = item[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else ""
        else:
            host, _, port = item.partition(":")
        hosts.append(unquote(host))
        ports.append(port)
    if any(hosts):
        result["host"] = ",".join(hosts)
    if any(ports):
        result["port"] = ",".join(ports)
    path = parts.path.lstrip("/")
    if path:
        result["dbname"] = unquote(path)
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        result[key] = value
    return result


def parse_dsn(dsn: str) -> dict[str, str]:
    """Split a DSN into libpq keywords (``host``, ``port``, ``dbname``, ...)."""
    scheme = dsn.split("://", 1)[0] if "://" in dsn else ""
    if scheme in _URI_SCHEMES:
        return _parse_uri(dsn)
    if scheme:
        raise InterfaceError(f"invalid DSN scheme {scheme!r}: expected postgresql://")
    return _parse_keyword_dsn(dsn)


def _default_host() -> str:
    for directory in ("/run/postgresql", "/var/run/postgresql", "/tmp"):
        if os.path.exists(os.path.join(directory, ".s.PGSQL.5432")):
            return directory
    return "localhost"


def build_params(
    dsn: str | None = None,
    *,
    host: str | list[str] | None = None,
    port: int | str | list[int] | None = None,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
    ssl: Any = None,
    server_settings: dict[str, str] | None = None,
    timeout: float | None = None,
) -> ConnectParams:
    """Combine explicit arguments, the DSN and the environment, in that order."""
    options = parse_dsn(dsn) if dsn else {}
    env = os.environ

    def pick(explicit: Any, key: str, env_key: str) -> Any:
        if explicit is not None:
            return explicit
        if key in options:
            return options[key]
        return env.get(env_key)

    raw_host = pick(host, "host", "PGHOST")
    raw_port = pick(port, "port", "PGPORT")
    hosts: list[str]
    if raw_host is None or raw_host == "":
        hosts = [_default_host()]
    elif isinstance(raw_host, (list, tuple)):
        hosts = list(raw_host)
    else:
        hosts = str(raw_host).split(",")
    if raw_port is None or raw_port == "":
        ports = [5432]
    elif isinstance(raw_port, (list, tuple)):
        ports = [int(p) for p in raw_port]
    else:
        try:
            ports = [int(p) if p else 5432 for p in str(raw_port).split(",")]
        except ValueError:
            raise InterfaceError(f"invalid port {raw_port!r}: expected an integer") from None
    if len(ports) == 1:
        ports = ports * len(hosts)
    if len(ports) != len(hosts):
        raise InterfaceError(
            f"could not match {len(ports)} port numbers to {len(hosts)} hosts"
        )
    for p in ports:
        if not 0 < p < 65536:
            raise InterfaceError(f"invalid port {p}: must be between 1 and 65535")

    user_value = pick(user, "user", "PGUSER") or getpass.getuser()
    database_value = pick(database, "dbname", "PGDATABASE") or options.get("database") or user_value
    password_value = pick(password, "password", "PGPASSWORD")

    settings: dict[str, str] = {}
    if "application_name" in options:
        settings["application_name"] = options["application_name"]
    if "options" in options:
        settings["options"] = options["options"]
    if server_settings:
        for key, value in server_settings.items():
            settings[str(key)] = str(value)

    sslmode, context = _ssl_settings(ssl, options.get("sslmode") or env.get("PGSSLMODE"), options)

    connect_timeout = timeout
    if connect_timeout is None:
        raw_timeout = options.get("connect_timeout") or env.get("PGCONNECT_TIMEOUT")
        if raw_timeout:
            try:
                connect_timeout = float(raw_timeout)
            except ValueError:
                raise InterfaceError(f"invalid connect_timeout {raw_timeout!r}") from None
            # libpq: zero (or less) means wait forever.
            if connect_timeout <= 0:
                connect_timeout = None
        else:
            connect_timeout = DEFAULT_CONNECT_TIMEOUT

    return ConnectParams(
        addresses=list(zip(hosts, ports)),
        user=str(user_value),
        database=str(database_value),
        password=None if password_value is None else str(password_value),
        sslmode=sslmode,
        ssl_context=context,
        server_settings=settings,
        connect_timeout=connect_timeout,
    )


def _ssl_settings(
    ssl: Any, dsn_mode: str | None, options: dict[str, str]
) -> tuple[str, ssl_module.SSLContext | None]:
    if isinstance(ssl, ssl_module.SSLContext):
        return "require", ssl
    if ssl is True:
        mode = "require"
    elif ssl is False:
        mode = "disable"
    elif isinstance(ssl, str):
        mode = ssl
    elif ssl is None:
        mode = dsn_mode or "prefer"
    else:
        raise InterfaceError(f"invalid ssl argument {ssl!r}: expected an SSLContext, bool or sslmode")
    if mode not in SSL_MODES:
        raise InterfaceError(f"invalid sslmode {mode!r}: expected one of {', '.join(SSL_MODES)}")
    if mode == "disable":
        return mode, None
    if mode in ("verify-ca", "verify-full"):
        context = ssl_module.create_default_context(cafile=options.get("sslrootcert"))
        context.check_hostname = mode == "verify-full"
    else:
        # libpq's require/prefer encrypt without checking the certificate.
        context = ssl_module.SSLContext(ssl_module.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl_module.CERT_NONE
    if options.get("sslcert"):
        context.load_cert_chain(options["sslcert"], options.get("sslkey"))
    return mode, context
