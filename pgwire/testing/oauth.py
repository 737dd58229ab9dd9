"""A toy OAuth validator for PostgreSQL 18, and a cluster that authenticates with it.

PostgreSQL 18 accepts OAuth bearer tokens (SASL ``OAUTHBEARER``, pg_hba.conf
method ``oauth``) but leaves judging a token to a *validator module*, a
shared library named by ``oauth_validator_libraries``. ``oauth_validator.c``
next to this file is one for tests: the token ``good.<role>`` lets in
``<role>`` (authn_id ``<role>``, so ``SYSTEM_USER`` is ``oauth:<role>``)
and nothing else; every other token is refused. (Not ``good:<role>``: the
server refuses tokens that are not RFC 6750 ``b64token`` before asking the
validator, and a colon is not allowed in one.)

:func:`build_oauth_validator` compiles it with gcc against the server
headers of a PostgreSQL 18 build (``pg_config --includedir-server``).
:class:`OAuthCluster` is a :class:`~pgwire.testing.TemporaryCluster` of
PostgreSQL 18 that builds the module on start, loads it by absolute path
(which ``oauth_validator_libraries`` accepts, so the binaries' ``$libdir``
stays untouched), adds one ``oauth`` line to pg_hba.conf and creates the
login roles that may use it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from pgwire.testing import _proc
from pgwire.testing._proc import BinaryNotFoundError, ClusterError
from pgwire.testing.cluster import TemporaryCluster

__all__ = [
    "DEFAULT_ISSUER",
    "DEFAULT_SCOPE",
    "LIBRARY_NAME",
    "OAUTH_USER",
    "TOKEN_PREFIX",
    "VALIDATOR_SOURCE",
    "OAuthCluster",
    "ValidatorBuildError",
    "build_oauth_validator",
    "good_token",
]

#: The C source of the validator module.
VALIDATOR_SOURCE = Path(__file__).with_name("oauth_validator.c")
#: File name (without ``.so``) of the built module.
LIBRARY_NAME = "pgwire_oauth_validator"
#: A token is accepted when it is this prefix followed by the login role's name.
TOKEN_PREFIX = "good."
#: What :class:`OAuthCluster` puts in its pg_hba.conf line by default.
DEFAULT_ISSUER = "https://issuer.example.org"
DEFAULT_SCOPE = "openid pgwire"
#: The login role :class:`OAuthCluster` creates by default.
OAUTH_USER = "oauth_user"

#: The oldest server with OAuth validator modules.
_MIN_MAJOR = 18

# Server headers #include these system headers when the build that shipped
# them had GSSAPI or OpenSSL; a machine without krb5/OpenSSL development
# packages lacks them. The validator uses none of the types they declare
# (they only appear in struct Port, which it never touches), so declaring
# the types opaquely is enough to compile it.
_STUB_HEADERS: Mapping[str, Mapping[str, str]] = {
    "ENABLE_GSS": {
        "gssapi/gssapi.h": (
            "#include <stddef.h>\n"
            "typedef struct gss_buffer_desc_struct { size_t length; void *value; }"
            " gss_buffer_desc;\n"
            "typedef struct gss_cred_id_struct *gss_cred_id_t;\n"
            "typedef struct gss_ctx_id_struct *gss_ctx_id_t;\n"
            "typedef struct gss_name_struct *gss_name_t;\n"
        ),
        "gssapi/gssapi_ext.h": "",
    },
    "USE_OPENSSL": {
        "openssl/ssl.h": (
            "typedef struct ssl_st SSL;\n"
            "typedef struct ssl_ctx_st SSL_CTX;\n"
            "typedef struct x509_st X509;\n"
        ),
        "openssl/err.h": "",
    },
}


_HBA_KEYWORDS = frozenset({"all", "sameuser", "samerole", "samegroup", "replication"})


class ValidatorBuildError(ClusterError):
    """The validator module did not compile (gcc's output is in the message)."""


def _hba_name(name: str) -> str:
    """``name`` as a pg_hba.conf user field: quoted unless plain (and no keyword)."""
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name) and name not in _HBA_KEYWORDS:
        return name
    return f'"{name}"'


def good_token(role: str) -> str:
    """The bearer token the validator accepts for a login as ``role``."""
    return TOKEN_PREFIX + role


def _run(argv: list[str], timeout: float = 120.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def _include_dir(bindir: Path) -> Path:
    pg_config = bindir / "pg_config"
    if not (pg_config.is_file() and os.access(pg_config, os.X_OK)):
        raise BinaryNotFoundError(
            f"{pg_config} not found: the OAuth validator is compiled against the server "
            "headers that pg_config names (Debian: the postgresql-server-dev package "
            "of that major)"
        )
    result = _run([os.fspath(pg_config), "--includedir-server"], timeout=30)
    if result.returncode != 0 or not result.stdout.strip():
        raise BinaryNotFoundError(
            f"{pg_config} --includedir-server failed (exit {result.returncode}): "
            f"{result.stderr.strip()}"
        )
    include = Path(result.stdout.strip())
    if not (include / "libpq" / "oauth.h").is_file():
        if (include / "postgres.h").is_file():
            raise BinaryNotFoundError(
                f"{include} has no libpq/oauth.h: OAuth validator modules need "
                f"PostgreSQL {_MIN_MAJOR} or later"
            )
        raise BinaryNotFoundError(
            f"PostgreSQL server headers not found in {include} (pg_config "
            "--includedir-server of " + os.fspath(bindir) + "; Debian: install "
            "the postgresql-server-dev package of that major)"
        )
    return include


def _header_available(gcc: str, header: str) -> bool:
    result = subprocess.run(
        [gcc, "-E", "-x", "c", "-o", os.devnull, "-"],
        input=f"#include <{header}>\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode == 0


def _stub_include_dir(gcc: str, include: Path, out_dir: Path) -> Path | None:
    """A directory of stand-ins for the system headers the server headers need but lack."""
    try:
        config = (include / "pg_config.h").read_text(errors="replace")
    except OSError:
        return None
    stubs: dict[str, str] = {}
    for macro, headers in _STUB_HEADERS.items():
        if f"#define {macro} 1" not in config:
            continue
        first = next(iter(headers))
        if not _header_available(gcc, first):
            stubs.update(headers)
    if not stubs:
        return None
    stub_dir = out_dir / "stub-include"
    for name, text in stubs.items():
        path = stub_dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"/* Stand-in written by pgwire.testing.oauth */\n{text}")
    return stub_dir


def build_oauth_validator(bindir: Path, out_dir: Path) -> Path:
    """Compile :data:`VALIDATOR_SOURCE` for the PostgreSQL whose binaries are in ``bindir``.

    Uses ``gcc -shared -fPIC`` with the headers of ``bindir/pg_config
    --includedir-server`` (system headers those need but the machine lacks,
    GSSAPI's or OpenSSL's, are replaced by stand-ins in
    ``out_dir/stub-include``). Returns the path of
    ``out_dir/pgwire_oauth_validator.so`` (mode 0644), which
    ``oauth_validator_libraries`` may name as is, provided the server's OS
    user can reach ``out_dir``. Raises :class:`BinaryNotFoundError` when gcc,
    ``pg_config`` or the headers are missing (or too old), and
    :class:`ValidatorBuildError` when compiling fails.
    """
    bindir = Path(bindir)
    out_dir = Path(out_dir)
    gcc = shutil.which("gcc")
    if gcc is None:
        raise BinaryNotFoundError(
            "gcc not found on PATH: it is needed to compile the OAuth validator module "
            "(Debian: install gcc)"
        )
    if not VALIDATOR_SOURCE.is_file():
        raise BinaryNotFoundError(f"validator source {VALIDATOR_SOURCE} is missing")
    include = _include_dir(bindir)
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = [gcc, "-O2", "-Wall", "-shared", "-fPIC"]
    stubs = _stub_include_dir(gcc, include, out_dir)
    if stubs is not None:
        argv += ["-I", os.fspath(stubs)]
    target = out_dir / f"{LIBRARY_NAME}.so"
    partial = out_dir / f".{LIBRARY_NAME}.so.{os.getpid()}"
    argv += ["-I", os.fspath(include), "-o", os.fspath(partial), os.fspath(VALIDATOR_SOURCE)]
    try:
        result = _run(argv)
    except subprocess.TimeoutExpired as exc:
        raise ValidatorBuildError(f"gcc timed out compiling {VALIDATOR_SOURCE}") from exc
    if result.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        raise ValidatorBuildError(
            f"compiling {VALIDATOR_SOURCE} failed (exit {result.returncode}):\n"
            f"{' '.join(argv)}\n{result.stdout}{result.stderr}"
        )
    os.chmod(partial, 0o644)  # the server runs as another user when we are root
    os.replace(partial, target)
    return target


class OAuthCluster(TemporaryCluster):
    """A PostgreSQL 18 :class:`TemporaryCluster` whose ``users`` log in with OAuth.

    On :meth:`start` the validator is compiled (:func:`build_oauth_validator`)
    into a directory of its own that the server's OS user can read, removed
    again by :meth:`stop`; ``oauth_validator_libraries`` names it by absolute
    path, and pg_hba.conf gets, before the built-in lines::

        host all <users> 127.0.0.1/32 oauth issuer="<issuer>" scope="<scope>"

    (no ``validator`` option: with a single library the server uses it).
    Each of ``users`` is created ``LOGIN`` without a password; log in as one
    with the bearer token :func:`good_token` of its name. ``hba_line`` and
    ``validator_library`` say what was used. Other keyword arguments are
    :class:`TemporaryCluster`'s; ``version`` must be 18 or later.
    """

    def __init__(
        self,
        *,
        version: int = 18,
        users: Iterable[str] = (OAUTH_USER,),
        issuer: str = DEFAULT_ISSUER,
        scope: str = DEFAULT_SCOPE,
        bindir: str | os.PathLike[str] | None = None,
        extra_config: Mapping[str, str | int | bool] | None = None,
        extra_hba: Iterable[str] = (),
        ssl: bool = True,
        startup_timeout: float = 60.0,
    ) -> None:
        """Prepare (but do not start) the cluster; see the class docstring."""
        if isinstance(version, int) and not isinstance(version, bool) and version < _MIN_MAJOR:
            raise ValueError(f"OAuth validator modules need PostgreSQL {_MIN_MAJOR} or later")
        self.oauth_users = tuple(users)
        if not self.oauth_users:
            raise ValueError("OAuthCluster needs at least one OAuth user")
        for name in self.oauth_users:
            if not name or any(c in name for c in '",\n\r\0'):
                raise ValueError(f"role name {name!r} cannot go into pg_hba.conf as is")
        for value in (issuer, scope):
            if any(c in value for c in '"\n\r\0'):
                raise ValueError(f"{value!r} cannot go into pg_hba.conf as is")
        self.issuer = issuer
        self.scope = scope
        users_field = ",".join(map(_hba_name, self.oauth_users))
        self.hba_line = (
            f'host all {users_field} 127.0.0.1/32 oauth issuer="{issuer}" scope="{scope}"'
        )
        self.validator_library: Path | None = None
        self._build_dir: Path | None = None
        super().__init__(
            bindir=bindir,
            extra_config=extra_config,
            extra_hba=[self.hba_line, *extra_hba],
            ssl=ssl,
            startup_timeout=startup_timeout,
            version=version,
        )

    def start(self) -> OAuthCluster:
        """Build the validator, start the server, create the OAuth users."""
        if self._started:
            raise ClusterError("cluster already started")
        self._check_version(self.bindir)  # a wrong major fails as in TemporaryCluster
        _proc.register(self)  # stop() removes the build directory, also at exit
        try:
            # Where the server's OS user (not us, when we are root) can read the module.
            parent: str | None = None
            if _proc.server_os_user() is not None and not _proc.traversable_by_others(
                Path(tempfile.gettempdir())
            ):
                parent = "/tmp"
            self._build_dir = _proc.make_temp_dir("pgwire-oauth-", parent)
            os.chmod(self._build_dir, 0o755)
            self.validator_library = build_oauth_validator(self.bindir, self._build_dir)
            self._extra_config.setdefault(
                "oauth_validator_libraries", os.fspath(self.validator_library)
            )
            super().start()
            self.psql("".join(f'CREATE ROLE "{name}" LOGIN;\n' for name in self.oauth_users))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the server (see :meth:`TemporaryCluster.stop`) and delete the built module."""
        try:
            super().stop()
        finally:
            if self._build_dir is not None:
                shutil.rmtree(self._build_dir, ignore_errors=True)
                self._build_dir = None
