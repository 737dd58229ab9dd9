"""TLS settings: the ``ssl*`` keywords turned into one ``ssl.SSLContext``.

libpq's rules (PostgreSQL docs, "SSL Support", section 32.19, and "Parameter
Key Words"):

* a root certificate file (``sslrootcert``, default
  ``~/.postgresql/root.crt``) that exists makes every mode verify the chain;
  ``verify-ca`` and ``verify-full`` refuse to start without one;
  ``sslrootcert=system`` uses the system's trusted roots and requires
  ``verify-full``;
* a client certificate and key default to ``~/.postgresql/postgresql.crt``
  and ``.key`` and are sent when they exist;
* ``verify-full`` checks the server's name against the certificate's
  subjectAltName entries (the Common Name only when there are none) -- done
  here, by :func:`check_server_name`, because libpq's rules differ from
  Python's (``hostaddr``, ``sslsni=0``, the Common Name fallback);
* ALPN ``postgresql`` is offered on every TLS connection (required by
  ``sslnegotiation=direct``, PostgreSQL 17).

libpq builds its SSL context on every connection attempt, reading the files
again. Building one costs 0.1-0.3 ms with OpenSSL 3 (several with the
system's roots), a good part of a TCP connect's client CPU, so contexts are
reused instead, keyed by the settings and by the identity (inode, size,
modification and change times) of every file they were built from: a
renewed root certificate or CRL makes the next connection build a new one.
Contexts with a client certificate, a key log file or a CRL directory are
built every time (the key's checks and password, a file held open, CRLs read
at verification time).
"""

from __future__ import annotations

import ipaddress
import os
import ssl as ssl_module
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..exceptions import ClientConfigurationError, UnsupportedClientFeatureError
from .files import home_directory

ALPN_PROTOCOL = "postgresql"

_TLS_VERSIONS = {
    "TLSv1": ssl_module.TLSVersion.TLSv1,
    "TLSv1.1": ssl_module.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl_module.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl_module.TLSVersion.TLSv1_3,
}
_SSL_MODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")


@dataclass(frozen=True)
class TLSSettings:
    sslmode: str
    #: "postgres" (SSLRequest first) or "direct" (TLS at once, PostgreSQL 17).
    negotiation: str = "postgres"
    #: None when TLS is never attempted.
    context: ssl_module.SSLContext | None = None
    #: verify-full: check the server's name after the handshake (ours, not ssl's).
    check_name: bool = False
    #: Send the host name as SNI (sslsni=1 and not an IP address).
    sni: bool = True
    #: The context came from the user (asyncpg's ``ssl=SSLContext``): it does
    #: its own host name check, with the host name as SNI.
    user_context: bool = False

    @property
    def required(self) -> bool:
        return self.sslmode in ("require", "verify-ca", "verify-full")

    def server_hostname(self, host: str) -> str | None:
        """The name sent as SNI (and checked by a user's context)."""
        if self.user_context:
            return host
        if not self.sni or _is_ip_address(host):
            return None
        return host


def _is_ip_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def tls_settings(
    get: Callable[[str], str | None], is_set: Callable[[str], bool], ssl: Any
) -> TLSSettings:
    """The TLS settings from the keywords (``get``: the value or libpq's
    default; ``is_set``: given by the user) and asyncpg's ``ssl`` argument."""
    negotiation = get("sslnegotiation")
    if negotiation not in ("postgres", "direct"):
        raise ClientConfigurationError(f'invalid sslnegotiation value: "{negotiation}"')
    if isinstance(ssl, ssl_module.SSLContext):
        ssl.set_alpn_protocols([ALPN_PROTOCOL])
        given_mode = "verify-full" if ssl.check_hostname else "require"
        return TLSSettings(given_mode, negotiation, ssl, user_context=True)
    rootcert = get("sslrootcert")
    if ssl is True:
        mode: str | None = "require"
    elif ssl is False:
        mode = "disable"
    elif isinstance(ssl, str):
        mode = ssl
    elif ssl is None:
        mode = None
    else:
        raise ClientConfigurationError(
            f"invalid ssl argument {ssl!r}: expected an SSLContext, a bool or an sslmode"
        )
    if mode is None:
        mode = get("sslmode") or "prefer"
        # libpq: sslrootcert=system makes verify-full the default mode.
        if rootcert == "system" and not is_set("sslmode"):
            mode = "verify-full"
    if mode not in _SSL_MODES:
        raise ClientConfigurationError(f'invalid sslmode value: "{mode}"')
    if negotiation == "direct" and mode not in ("require", "verify-ca", "verify-full"):
        raise ClientConfigurationError(
            f'weak sslmode "{mode}" may not be used with sslnegotiation=direct '
            '(use "require", "verify-ca", or "verify-full")'
        )
    if rootcert == "system" and mode != "verify-full":
        raise ClientConfigurationError(
            f'weak sslmode "{mode}" may not be used with sslrootcert=system (use "verify-full")'
        )
    sni = _flag(get, "sslsni")
    certmode = get("sslcertmode")
    if certmode not in ("disable", "allow", "require"):
        raise ClientConfigurationError(f'invalid sslcertmode value: "{certmode}"')
    if certmode == "require":
        raise UnsupportedClientFeatureError(
            'sslcertmode value "require" is not supported by pgwire: Python\'s ssl module '
            "cannot tell whether the server asked for a client certificate"
        )
    minimum = _tls_version(get, "ssl_min_protocol_version")
    maximum = _tls_version(get, "ssl_max_protocol_version")
    if minimum is not None and maximum is not None and minimum > maximum:
        raise ClientConfigurationError("invalid SSL protocol version range")
    if get("sslcompression") not in ("0", "1"):
        raise ClientConfigurationError(f'invalid sslcompression value: "{get("sslcompression")}"')
    if mode == "disable":
        return TLSSettings(mode, negotiation, None, sni=sni)

    key = _context_key(get, rootcert, mode, minimum, maximum, certmode)
    context = None if key is None else _contexts.get(key)
    if context is None:
        context = _new_context(get, rootcert, mode, minimum, maximum, certmode)
        if key is not None:
            _contexts.put(key, context)
    return TLSSettings(mode, negotiation, context, check_name=mode == "verify-full", sni=sni)


def _new_context(
    get: Callable[[str], str | None], rootcert: str | None, mode: str,
    minimum: ssl_module.TLSVersion | None, maximum: ssl_module.TLSVersion | None,
    certmode: str | None,
) -> ssl_module.SSLContext:
    context = ssl_module.SSLContext(ssl_module.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.set_alpn_protocols([ALPN_PROTOCOL])
    if minimum is not None:
        context.minimum_version = minimum
    if maximum is not None:
        context.maximum_version = maximum
    verify = _load_root_certificates(context, get, rootcert, mode)
    context.verify_mode = ssl_module.CERT_REQUIRED if verify else ssl_module.CERT_NONE
    if verify:
        _load_revocation_lists(context, get)
    if certmode != "disable":
        _load_client_certificate(context, get)
    keylog = get("sslkeylogfile")
    if keylog:
        context.keylog_filename = keylog
    return context


class _ContextCache:
    """The last few contexts built, by :func:`_context_key` (thread-safe)."""

    SIZE = 16

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._contexts: OrderedDict[tuple[Any, ...], ssl_module.SSLContext] = OrderedDict()

    def get(self, key: tuple[Any, ...]) -> ssl_module.SSLContext | None:
        with self._lock:
            context = self._contexts.get(key)
            if context is not None:
                self._contexts.move_to_end(key)
            return context

    def put(self, key: tuple[Any, ...], context: ssl_module.SSLContext) -> None:
        with self._lock:
            self._contexts[key] = context
            while len(self._contexts) > self.SIZE:
                self._contexts.popitem(last=False)


_contexts = _ContextCache()


def _file_identity(path: str | os.PathLike[str] | None) -> tuple[Any, ...] | None:
    """What tells a file's versions apart; None when there is none."""
    if not path:
        return None
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return None
    return (os.fspath(path), info.st_dev, info.st_ino, info.st_size,
            info.st_mtime_ns, info.st_ctime_ns)


def _context_key(
    get: Callable[[str], str | None], rootcert: str | None, mode: str,
    minimum: ssl_module.TLSVersion | None, maximum: ssl_module.TLSVersion | None,
    certmode: str | None,
) -> tuple[Any, ...] | None:
    """Everything the context built by :func:`_new_context` depends on, or
    None when it is to be built anew (see the module's docstring)."""
    if get("sslkeylogfile") or get("sslcrldir"):
        return None
    if certmode != "disable" and os.path.exists(
            get("sslcert") or _postgresql_dir() / "postgresql.crt"):
        return None
    if rootcert == "system":
        paths = ssl_module.get_default_verify_paths()
        roots: Any = ("system", _file_identity(paths.cafile), _file_identity(paths.capath))
    else:
        roots = (rootcert, _file_identity(rootcert or _postgresql_dir() / "root.crt"))
    crl = get("sslcrl")
    return (mode, minimum, maximum, certmode, roots, crl,
            _file_identity(crl or _postgresql_dir() / "root.crl"))


def _flag(get: Callable[[str], str | None], name: str) -> bool:
    value = get(name)
    if value not in ("0", "1"):
        raise ClientConfigurationError(f'invalid {name} value: "{value}"')
    return value == "1"


def _tls_version(get: Callable[[str], str | None], name: str) -> ssl_module.TLSVersion | None:
    value = get(name)
    if not value:
        return None
    if value not in _TLS_VERSIONS:
        raise ClientConfigurationError(f'invalid {name} value: "{value}"')
    return _TLS_VERSIONS[value]


def _postgresql_dir() -> Path:
    return home_directory() / ".postgresql"


def _load_root_certificates(
    context: ssl_module.SSLContext, get: Callable[[str], str | None], rootcert: str | None,
    mode: str,
) -> bool:
    """Load the trusted roots; True when the server's chain is to be verified."""
    if rootcert == "system":
        context.load_default_certs()
        return True
    path = Path(rootcert) if rootcert else _postgresql_dir() / "root.crt"
    if path.exists():
        try:
            context.load_verify_locations(cafile=os.fspath(path))
        except (ssl_module.SSLError, OSError) as exc:
            raise ClientConfigurationError(
                f'could not read root certificate file "{path}": {exc}'
            ) from None
        return True
    if mode in ("verify-ca", "verify-full"):
        raise ClientConfigurationError(
            f'root certificate file "{path}" does not exist\n'
            "Either provide the file, use the system's trusted roots with sslrootcert=system, "
            "or change sslmode to disable server certificate verification."
        )
    return False


def _load_revocation_lists(context: ssl_module.SSLContext, get: Callable[[str], str | None]) -> None:
    crl = get("sslcrl") or (
        None if get("sslcrldir") else os.fspath(_postgresql_dir() / "root.crl")
    )
    crldir = get("sslcrldir")
    loaded = False
    if crl and Path(crl).exists():
        try:
            context.load_verify_locations(cafile=crl)
        except (ssl_module.SSLError, OSError) as exc:
            raise ClientConfigurationError(f'could not read SSL CRL file "{crl}": {exc}') from None
        loaded = True
    # libpq skips a CRL file that does not exist, named or not.
    if crldir:
        try:
            context.load_verify_locations(capath=crldir)
        except (ssl_module.SSLError, OSError) as exc:
            raise ClientConfigurationError(
                f'could not read SSL CRL directory "{crldir}": {exc}'
            ) from None
        loaded = True
    if loaded:
        context.verify_flags |= ssl_module.VERIFY_CRL_CHECK_LEAF


def _load_client_certificate(context: ssl_module.SSLContext, get: Callable[[str], str | None]) -> None:
    cert = Path(get("sslcert") or _postgresql_dir() / "postgresql.crt")
    if not cert.exists():
        if get("sslcert"):
            # libpq only sends a certificate it can read; a missing one
            # named by the user is an error in the server's answer instead.
            return
        return
    key = Path(get("sslkey") or _postgresql_dir() / "postgresql.key")
    if not key.exists():
        raise ClientConfigurationError(f'certificate present, but not private key file "{key}"')
    _check_key_permissions(key)
    password = get("sslpassword")
    try:
        context.load_cert_chain(
            os.fspath(cert), os.fspath(key), password=(password or "").encode("utf-8")
        )
    except ssl_module.SSLError as exc:
        raise ClientConfigurationError(
            f'could not load client certificate "{cert}" or private key "{key}": {exc}'
        ) from None


def _check_key_permissions(key: Path) -> None:
    if os.name != "posix":
        return
    info = key.stat()
    if not stat.S_ISREG(info.st_mode):
        raise ClientConfigurationError(f'private key file "{key}" is not a regular file')
    if info.st_uid == os.geteuid():
        too_open = info.st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    else:  # owned by root: group may read it
        too_open = info.st_mode & (stat.S_IWGRP | stat.S_IXGRP | stat.S_IRWXO)
    if too_open:
        raise ClientConfigurationError(
            f'private key file "{key}" has group or world access; file must have permissions '
            "u=rw (0600) or less if owned by the current user, or permissions u=rw,g=r (0640) "
            "or less if owned by root"
        )


def check_server_name(certificate: dict[str, Any], host: str) -> str | None:
    """verify-full: why the certificate does not name ``host`` (libpq's
    rules), or None when it does."""
    names: list[str] = []
    addresses: list[str] = []
    for kind, value in certificate.get("subjectAltName", ()):
        if kind == "DNS":
            names.append(value)
        elif kind == "IP Address":
            addresses.append(value)
    host_is_ip = _is_ip_address(host)
    if host_is_ip:
        wanted = ipaddress.ip_address(host)
        if any(_same_address(a, wanted) for a in addresses):
            return None
    elif any(_name_matches(n, host) for n in names):
        return None
    if not names and not addresses:
        # No subjectAltName of a usable kind: libpq falls back to the Common Name.
        for rdn in certificate.get("subject", ()):
            for key, value in rdn:
                if key == "commonName":
                    names.append(value)
                    if (host_is_ip and value == host) or (not host_is_ip and _name_matches(value, host)):
                        return None
    shown = names + addresses
    if not shown:
        return "could not get server's host name from server certificate"
    if len(shown) == 1:
        return f'server certificate for "{shown[0]}" does not match host name "{host}"'
    return (
        f'server certificate for "{shown[0]}" (and {len(shown) - 1} other name'
        f'{"s" if len(shown) > 2 else ""}) does not match host name "{host}"'
    )


def _same_address(text: str, wanted: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(text.strip()) == wanted
    except ValueError:
        return False


def _name_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower().rstrip("."), host.lower().rstrip(".")
    if pattern.startswith("*."):
        # A wildcard stands for exactly one leftmost label.
        first, dot, rest = host.partition(".")
        return bool(dot) and bool(first) and rest == pattern[2:]
    return pattern == host
