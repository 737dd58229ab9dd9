"""Connection parameters: what to connect to and how, decided before any I/O.

:func:`build_params` combines, in libpq's order of precedence, keyword
arguments, the connection string (URI or ``key=value``), the service file,
the ``PG*`` environment variables and libpq's defaults (PostgreSQL docs,
"Parameter Key Words", section 32.1.2), checks every value and produces one
immutable :class:`ConnectParams`.  A value pgwire cannot honour is refused
here, with the keyword's name, rather than ignored.

The password, wherever it comes from, is kept as a
:class:`~pgwire.conninfo.secret.Secret` (a ``str`` whose ``repr()`` is
masked), and so is the connection string: neither shows in the reprs of
the parameters nor in the locals of a traceback's frames.
"""

from __future__ import annotations

import getpass
import ipaddress
import os
import ssl as ssl_module
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import ClientConfigurationError, UnsupportedClientFeatureError
from .files import PasswordFile, lookup_password, password_file, read_service
from .keywords import KEYWORDS, STARTUP_ENVIRONMENT
from .secret import mask_password
from .strings import check_keyword, parse_conninfo
from .tls import TLSSettings, tls_settings

SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
TARGET_SESSION_ATTRS = ("any", "read-write", "read-only", "primary", "standby", "prefer-standby")
AUTH_METHODS = ("password", "md5", "gss", "sspi", "scram-sha-256", "oauth", "none")

#: asyncpg's default for ``timeout``: give up on an unresponsive server after
#: a minute (libpq, without ``connect_timeout``, waits for ever).
DEFAULT_CONNECT_TIMEOUT = 60.0

#: Protocol versions by their conninfo spelling (PostgreSQL docs,
#: "Protocol versions"); "latest" is the newest pgwire speaks.
PROTOCOL_VERSIONS = {"3.0": (3 << 16) | 0, "3.2": (3 << 16) | 2}
PROTOCOL_LATEST = PROTOCOL_VERSIONS["3.2"]

_TRUE = ("1", "true", "on", "yes")
_FALSE = ("0", "false", "off", "no")


@dataclass(frozen=True)
class Host:
    """One entry of the host list."""

    #: A host name, an IP address or a Unix-socket directory.
    host: str
    #: A numeric address to connect to instead of resolving ``host``.
    hostaddr: str | None
    port: int
    #: A :class:`~pgwire.conninfo.secret.Secret` (its repr() is masked).
    password: str | None = field(repr=False)
    #: The password file the password came from (for error messages).
    password_file: str | None = None

    @property
    def is_unix_socket(self) -> bool:
        return self.hostaddr is None and (self.host.startswith("/") or self.host.startswith("@"))

    @property
    def label(self) -> str:
        """How errors name this host: ``host:port`` or the socket's path."""
        if self.is_unix_socket:
            return f'socket "{self.host}/.s.PGSQL.{self.port}"'
        name = self.host if self.hostaddr is None else f"{self.host} ({self.hostaddr})"
        return f'"{name}", port {self.port}'


@dataclass(frozen=True)
class AuthRequirement:
    """``require_auth``: the methods the server may ask for (libpq 16 semantics)."""

    allowed: frozenset[str] = frozenset(AUTH_METHODS)
    #: The spelling the user gave, for error messages.
    text: str = ""

    def allows(self, method: str) -> bool:
        return method in self.allowed


@dataclass(frozen=True)
class SocketOptions:
    """TCP options of every attempt (keepalives, ``tcp_user_timeout``)."""

    keepalives: bool = True
    keepalives_idle: int | None = None
    keepalives_interval: int | None = None
    keepalives_count: int | None = None
    #: Milliseconds; None leaves the system default.
    tcp_user_timeout: int | None = None


@dataclass(frozen=True)
class ConnectParams:
    """Everything needed to open one connection, checked."""

    hosts: tuple[Host, ...]
    user: str
    database: str
    #: The StartupMessage parameters besides ``user`` and ``database``.
    startup: dict[str, str]
    tls: TLSSettings
    connect_timeout: float | None = DEFAULT_CONNECT_TIMEOUT
    target_session_attrs: str = "any"
    load_balance_hosts: bool = False
    require_auth: AuthRequirement = field(default_factory=AuthRequirement)
    channel_binding: str = "prefer"
    min_protocol_version: int = PROTOCOL_VERSIONS["3.0"]
    max_protocol_version: int = PROTOCOL_VERSIONS["3.0"]
    socket: SocketOptions = field(default_factory=SocketOptions)
    #: Why the password file was not used, when it was not (error messages).
    password_file_note: str | None = None
    #: ``replication`` as sent ("database", "true") or None.
    replication: str | None = None
    #: OAuth (PostgreSQL 18): a bearer token, or a function of the server's
    #: OAuthChallenge that returns one (may be a coroutine function).
    oauth_token: Any = field(default=None, repr=False)
    #: ``oauth_issuer``: the issuer the server must name, when given.
    oauth_issuer: str | None = None

    @property
    def addresses(self) -> list[tuple[str, int]]:
        return [(host.hostaddr or host.host, host.port) for host in self.hosts]

    @property
    def password(self) -> str | None:
        return self.hosts[0].password if self.hosts else None

    @property
    def sslmode(self) -> str:
        return self.tls.sslmode

    @property
    def ssl_context(self) -> ssl_module.SSLContext | None:
        return self.tls.context

    def startup_parameters(self) -> dict[str, str]:
        """The StartupMessage parameters: only what was asked for (pgbouncer
        refuses parameters it does not know)."""
        params = {"user": self.user, "database": self.database, "client_encoding": "UTF8"}
        if self.replication is not None:
            params["replication"] = self.replication
        params.update(self.startup)
        return params


def parse_dsn(dsn: str) -> dict[str, str]:
    """Split a DSN into libpq keywords (``host``, ``port``, ``dbname``, ...)."""
    return parse_conninfo(dsn)


def default_host() -> str:
    """The Unix-socket directory of a local server, else ``localhost``."""
    for directory in ("/run/postgresql", "/var/run/postgresql", "/tmp"):
        if os.path.exists(os.path.join(directory, ".s.PGSQL.5432")):
            return directory
    return "localhost"


def build_params(
    dsn: str | None = None,
    *,
    host: str | list[str] | tuple[str, ...] | None = None,
    port: int | str | list[int] | list[str] | tuple[int, ...] | None = None,
    user: str | None = None,
    password: str | None = None,
    database: str | None = None,
    passfile: str | os.PathLike[str] | None = None,
    ssl: Any = None,
    direct_tls: bool | None = None,
    server_settings: Mapping[str, str] | None = None,
    target_session_attrs: str | None = None,
    timeout: float | None = None,
    oauth_token: Any = None,
    environ: Mapping[str, str] | None = None,
    **keywords: Any,
) -> ConnectParams:
    """Combine keyword arguments, the DSN, the service file, the environment
    and the defaults, in that order of precedence; check every value.

    ``keywords`` are libpq keywords (``sslmode="require"``,
    ``application_name=...``); the named arguments keep their asyncpg
    meaning (``host``/``port`` may be lists, ``ssl`` a mode, a bool or an
    ``ssl.SSLContext``, ``timeout`` in seconds).
    """
    # The password and the DSN (which may hold one) are masked at once: an
    # error raised below has this frame in its traceback.
    password = None if password is None else mask_password(str(password))
    env = _environment(os.environ if environ is None else environ)
    if dsn is not None and not isinstance(dsn, str):
        raise TypeError(f"dsn is expected to be a str, got {type(dsn).__qualname__}")
    dsn = None if dsn is None else mask_password(dsn)
    values: dict[str, str] = _parse_dsn(dsn) if dsn else {}

    explicit: dict[str, str] = {}
    for name, value in keywords.items():
        check_keyword(name)
        if value is not None:
            explicit[name] = _keyword_text(value)
    if host is not None:
        explicit["host"] = ",".join(host) if isinstance(host, (list, tuple)) else str(host)
    if port is not None:
        explicit["port"] = (
            ",".join(str(p) for p in port) if isinstance(port, (list, tuple)) else str(port)
        )
    if password is not None:
        explicit["password"] = password
    for name, value in (("user", user), ("dbname", database),
                        ("target_session_attrs", target_session_attrs)):
        if value is not None:
            explicit[name] = str(value)
    if passfile is not None:
        explicit["passfile"] = os.fspath(passfile)
    if direct_tls is not None:
        explicit["sslnegotiation"] = "direct" if direct_tls else "postgres"
    values.update(explicit)

    service = values.get("service") or env.get("PGSERVICE")
    if service:
        for name, value in read_service(service, values.get("servicefile")).items():
            values.setdefault(name, mask_password(value) if name == "password" else value)

    def get(name: str) -> str | None:
        if name in values:
            return values[name]
        keyword = KEYWORDS[name]
        if keyword.env is not None and keyword.env in env:
            return env[keyword.env]
        return keyword.default

    user_name = get("user") or _os_user()
    database_name = get("dbname") or user_name

    def is_set(name: str) -> bool:
        keyword = KEYWORDS[name]
        return name in values or (keyword.env is not None and keyword.env in env)

    tls = tls_settings(get, is_set, ssl)
    passfile_value = get("passfile")
    pwfile = password_file(passfile_value) if get("password") is None else None
    hosts = _host_list(get, database_name, user_name, pwfile)

    return ConnectParams(
        hosts=tuple(hosts),
        user=user_name,
        database=database_name,
        startup=_startup(get, env, server_settings),
        tls=tls,
        connect_timeout=_connect_timeout(get("connect_timeout"), timeout),
        target_session_attrs=_choice(get, "target_session_attrs", TARGET_SESSION_ATTRS),
        load_balance_hosts=_choice(get, "load_balance_hosts", ("disable", "random")) == "random",
        require_auth=_require_auth(get("require_auth")),
        channel_binding=_channel_binding(get, tls),
        min_protocol_version=_protocol_version(get, "min_protocol_version", "3.0"),
        max_protocol_version=_max_protocol_version(get),
        socket=_socket_options(get),
        password_file_note=(
            None if pwfile is None
            else pwfile.ignored_because if pwfile.ignored_because != "it does not exist"
            else None
        ),
        replication=_replication(get("replication")),
        oauth_token=_oauth_token(oauth_token),
        oauth_issuer=get("oauth_issuer") or None,
    )


# The environment variables build_params reads.  They are found by one pass
# over the environment's names (a set intersection): a lookup per name
# costs a KeyError for each of the forty that are usually not set, several
# times the pass over a typical environment.
_ENVIRONMENT_NAMES = frozenset(
    {keyword.env for keyword in KEYWORDS.values() if keyword.env is not None}
    | set(STARTUP_ENVIRONMENT) | {"PGSERVICE"}
)


# The same names as os.environ stores them on POSIX (its _data: bytes keys
# and values, in the file system encoding): intersected there, only the
# variables found are decoded, not every name of the environment.
_ENVIRONMENT_KEYS = (
    {os.fsencode(name): name for name in _ENVIRONMENT_NAMES} if os.name == "posix" else {}
)


def _environment(env: Mapping[str, str]) -> dict[str, str]:
    """The variables of the environment that build_params reads, ``PGPASSWORD``
    masked (the copy is a local of build_params, whose frame may be in a
    traceback)."""
    copy = {}
    data = getattr(env, "_data", None) if env is os.environ and _ENVIRONMENT_KEYS else None
    if type(data) is dict:
        for key in _ENVIRONMENT_KEYS.keys() & data.keys():
            value = data.get(key)  # unset meanwhile by another thread: None
            if isinstance(value, bytes):
                copy[_ENVIRONMENT_KEYS[key]] = os.fsdecode(value)
    else:
        for name in _ENVIRONMENT_NAMES.intersection(env):
            value = env.get(name)
            if value is not None:
                copy[name] = value
    if "PGPASSWORD" in copy:
        copy["PGPASSWORD"] = mask_password(copy["PGPASSWORD"])
    return copy


def _parse_dsn(dsn: str) -> dict[str, str]:
    """``parse_conninfo(dsn)``, the password masked.

    A malformed DSN is refused by an exception raised here, outside the
    parser: the parser's frames, whose locals hold the pieces of the DSN
    (the password among them), are then in no traceback, and neither is
    the parser's exception as ``__context__``.
    """
    problem: str | None = None
    try:
        values = parse_conninfo(dsn)
    except ClientConfigurationError as exc:
        problem = str(exc)
    if problem is not None:
        raise ClientConfigurationError(problem)
    if "password" in values:
        values["password"] = mask_password(values["password"])
    return values


def _oauth_token(token: Any) -> Any:
    if token is None or callable(token):
        return token
    if isinstance(token, str) and token:
        return token
    raise ClientConfigurationError(
        "invalid oauth_token: expected a token (str) or a function that returns one"
    )


def _keyword_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, os.PathLike):
        return str(os.fspath(value))
    return str(value)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        raise ClientConfigurationError(
            "could not determine the user name: give user= (or set PGUSER)"
        ) from None


def _integer(get: Any, name: str, *, minimum: int | None = None) -> int | None:
    text = get(name)
    if text is None or text == "":
        return None
    try:
        value = int(text.strip())
    except ValueError:
        raise ClientConfigurationError(
            f'invalid integer value "{text}" for connection option "{name}"'
        ) from None
    if minimum is not None and value < minimum:
        raise ClientConfigurationError(f'invalid value "{text}" for connection option "{name}"')
    return value


def _choice(get: Any, name: str, choices: tuple[str, ...]) -> str:
    value = get(name)
    if value not in choices:
        raise ClientConfigurationError(f'invalid {name} value: "{value}"')
    return str(value)


def _host_list(
    get: Any, database: str, user: str, pwfile: PasswordFile | None
) -> list[Host]:
    raw_hosts = get("host")
    raw_addrs = get("hostaddr")
    host_items = raw_hosts.split(",") if raw_hosts else []
    addr_items = raw_addrs.split(",") if raw_addrs else []
    if host_items and addr_items and len(host_items) != len(addr_items):
        raise ClientConfigurationError(
            f"could not match {len(host_items)} host names to {len(addr_items)} hostaddr values"
        )
    count = max(len(host_items), len(addr_items), 1)
    raw_port = get("port") or ""
    port_items = raw_port.split(",")
    if len(port_items) == 1:
        port_items = port_items * count
    elif len(port_items) != count:
        raise ClientConfigurationError(
            f"could not match {len(port_items)} port numbers to {count} hosts"
        )
    password = mask_password(get("password"))
    hosts = []
    for i in range(count):
        name = host_items[i].strip() if host_items else ""
        addr = addr_items[i].strip() if addr_items else ""
        port_text = port_items[i].strip() or "5432"
        try:
            port = int(port_text)
        except ValueError:
            raise ClientConfigurationError(f'invalid port number: "{port_text}"') from None
        if not 0 < port < 65536:
            raise ClientConfigurationError(f'invalid port number: "{port_text}"')
        if addr:
            _check_numeric_address(addr)
        host_name = name or (addr if addr else default_host())
        host_password, source = password, None
        if host_password is None and pwfile is not None:
            # libpq matches the host name, else the hostaddr; the default
            # socket matches as "localhost".
            match_host = name or addr
            host_password = mask_password(
                lookup_password(pwfile, match_host, port_text, database, user))
            if host_password is not None:
                source = os.fspath(pwfile.path)
        hosts.append(Host(host_name, addr or None, port, host_password, source))
    return hosts


def _check_numeric_address(addr: str) -> None:
    try:
        ipaddress.ip_address(addr)
    except ValueError:
        raise ClientConfigurationError(f'could not parse network address "{addr}"') from None


def _startup(
    get: Any, env: Mapping[str, str], server_settings: Mapping[str, str] | None
) -> dict[str, str]:
    startup: dict[str, str] = {}
    for variable, parameter in STARTUP_ENVIRONMENT.items():
        if env.get(variable):
            startup[parameter] = env[variable]
    application_name = get("application_name") or get("fallback_application_name")
    if application_name:
        startup["application_name"] = application_name
    options = get("options")
    if options:
        startup["options"] = options
    encoding = get("client_encoding")
    if encoding and encoding.upper().replace("-", "") not in ("UTF8", "UNICODE", "AUTO"):
        raise UnsupportedClientFeatureError(
            f'client_encoding "{encoding}" is not supported: pgwire exchanges text as UTF8'
        )
    if get("gssencmode") not in ("disable", "prefer", "require"):
        raise ClientConfigurationError(f'invalid gssencmode value: "{get("gssencmode")}"')
    if get("gssencmode") == "require":
        raise UnsupportedClientFeatureError(
            'gssencmode value "require" invalid: pgwire has no GSSAPI support'
        )
    if get("requirepeer"):
        raise UnsupportedClientFeatureError("requirepeer is not supported by pgwire")
    if get("gssdelegation") not in ("0", "1"):
        raise ClientConfigurationError(f'invalid gssdelegation value: "{get("gssdelegation")}"')
    if server_settings:
        for key, value in server_settings.items():
            startup[str(key)] = str(value)
    return startup


def _connect_timeout(text: str | None, timeout: float | None) -> float | None:
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise ClientConfigurationError(
                f"invalid timeout {timeout!r}: expected a number of seconds"
            )
        if timeout <= 0:
            raise ClientConfigurationError(f"invalid timeout {timeout!r}: must be positive")
        return float(timeout)
    if text is None or text.strip() == "":
        return DEFAULT_CONNECT_TIMEOUT
    try:
        seconds = int(text.strip())
    except ValueError:
        raise ClientConfigurationError(
            f'invalid integer value "{text}" for connection option "connect_timeout"'
        ) from None
    if seconds <= 0:
        return None  # libpq: zero or less waits for ever
    return float(max(seconds, 2))  # libpq rounds 1 up to 2 seconds


def _require_auth(text: str | None) -> AuthRequirement:
    if not text:
        return AuthRequirement()
    items = [item.strip() for item in text.split(",")]
    negated = [item.startswith("!") for item in items]
    if any(negated) and not all(negated):
        raise ClientConfigurationError(
            f'negative require_auth method "{next(i for i in items if i.startswith("!"))}" '
            "cannot be mixed with non-negative methods"
        )
    names = [item[1:] if item.startswith("!") else item for item in items]
    for name in names:
        if name not in AUTH_METHODS:
            raise ClientConfigurationError(f'invalid require_auth value: "{name}"')
    if len(set(names)) != len(names):
        raise ClientConfigurationError(f'require_auth method "{names[0]}" is specified more than once')
    if all(negated):
        allowed = frozenset(AUTH_METHODS) - set(names)
    else:
        allowed = frozenset(names)
    return AuthRequirement(allowed, text)


def _channel_binding(get: Any, tls: TLSSettings) -> str:
    value = _choice(get, "channel_binding", ("disable", "prefer", "require"))
    if value == "require" and tls.sslmode == "disable":
        raise ClientConfigurationError(
            'channel_binding "require" needs TLS, but sslmode is "disable"'
        )
    return value


def _protocol_version(get: Any, name: str, default: str) -> int:
    text = get(name) or default
    if text == "latest":
        return PROTOCOL_LATEST
    if text not in PROTOCOL_VERSIONS:
        raise ClientConfigurationError(f'invalid {name} value: "{text}"')
    return PROTOCOL_VERSIONS[text]


def _max_protocol_version(get: Any) -> int:
    minimum = _protocol_version(get, "min_protocol_version", "3.0")
    if get("max_protocol_version"):
        maximum = _protocol_version(get, "max_protocol_version", "3.0")
    else:
        # libpq 18: 3.0 unless the minimum asks for more.
        maximum = PROTOCOL_LATEST if minimum > PROTOCOL_VERSIONS["3.0"] else PROTOCOL_VERSIONS["3.0"]
    if maximum < minimum:
        raise ClientConfigurationError(
            "min_protocol_version is greater than max_protocol_version"
        )
    return maximum


def _socket_options(get: Any) -> SocketOptions:
    keepalives = _integer(get, "keepalives")
    return SocketOptions(
        keepalives=keepalives != 0,
        keepalives_idle=_integer(get, "keepalives_idle", minimum=0),
        keepalives_interval=_integer(get, "keepalives_interval", minimum=0),
        keepalives_count=_integer(get, "keepalives_count", minimum=0),
        tcp_user_timeout=_integer(get, "tcp_user_timeout", minimum=0),
    )


def _replication(text: str | None) -> str | None:
    if text is None:
        return None
    lowered = text.lower()
    if lowered == "database":
        return "database"
    if lowered in _TRUE:
        return "true"
    if lowered in _FALSE:
        return None
    raise ClientConfigurationError(f'invalid replication value: "{text}"')
