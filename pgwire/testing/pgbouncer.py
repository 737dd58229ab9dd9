"""A throwaway pgbouncer in front of a :class:`~pgwire.testing.TemporaryCluster`.

Runs the real pgbouncer binary from its own temporary directory, listening
on a free loopback port (and a Unix socket), with a deliberately small pool
so that clients share server connections, and stops it again on
:meth:`PgBouncer.stop`.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from pgwire.testing import _proc
from pgwire.testing._client import build_uri, conninfo, run_psql
from pgwire.testing._proc import ClusterError, OSUser


class ProxiedCluster(Protocol):
    """What a pgbouncer needs of the :class:`~pgwire.testing.cluster.TemporaryCluster`
    it proxies to (a protocol, so this module does not import that one)."""

    host: str
    port: int
    os_user: OSUser | None
    passwords: dict[str, str | None]
    ssl_enabled: bool
    ssl_cert_file: Path | None
    ssl_key_file: Path | None

    @property
    def running(self) -> bool: ...

    def psql_path(self) -> Path: ...

__all__ = ["PgBouncer", "pgbouncer_version"]


def pgbouncer_version(binary: str | os.PathLike[str]) -> tuple[int, ...]:
    """The version of a pgbouncer binary, e.g. ``(1, 18, 0)`` (``(0,)`` if unknown)."""
    out = _proc.version_output(binary)
    if out is None:
        return (0,)
    match = re.search(r"PgBouncer\s+(\d+(?:\.\d+)*)", out, re.IGNORECASE)
    return tuple(int(p) for p in match.group(1).split(".")) if match else (0,)


def _ini_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


class PgBouncer:
    """A pgbouncer process proxying to a running :class:`TemporaryCluster`.

    Every database name is forwarded to the cluster (``* =`` entry). Users
    are listed with their plaintext passwords in the auth file, which
    pgbouncer uses to log in to the server; clients authenticate to
    pgbouncer with ``auth_type`` (``trust`` by default). The admin console is
    database ``pgbouncer`` for user ``postgres`` (see :meth:`admin`).
    """

    host = "127.0.0.1"

    def __init__(
        self,
        cluster: ProxiedCluster,
        *,
        pool_mode: str = "transaction",
        default_pool_size: int = 5,
        max_client_conn: int = 200,
        auth_type: str = "trust",
        ignore_startup_parameters: Iterable[str] = ("extra_float_digits", "options"),
        client_tls: bool | None = None,
        extra_config: Mapping[str, str | int | bool] | None = None,
        binary: str | os.PathLike[str] | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        """Prepare (but do not start) a pgbouncer for ``cluster``.

        ``client_tls`` (default: when the cluster has TLS) lets clients use
        TLS to pgbouncer (``client_tls_sslmode = allow``, with the cluster's
        certificate); ``extra_config`` adds ``[pgbouncer]`` settings.
        """
        self.cluster = cluster
        self.pool_mode = pool_mode
        self.default_pool_size = default_pool_size
        self.max_client_conn = max_client_conn
        self.auth_type = auth_type
        self.ignore_startup_parameters = list(ignore_startup_parameters)
        self.client_tls = cluster.ssl_enabled if client_tls is None else client_tls
        self._extra_config = dict(extra_config or {})
        self._binary = Path(binary) if binary is not None else None
        self.startup_timeout = startup_timeout
        self.port = 0
        self.version: tuple[int, ...] = (0,)
        self._base: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._started = False

    # ------------------------------------------------------------------ paths

    @property
    def binary(self) -> Path:
        """The pgbouncer executable in use."""
        if self._binary is None:
            self._binary = _proc.find_pgbouncer()
        return self._binary

    @property
    def base_dir(self) -> Path:
        """The temporary directory of this pgbouncer."""
        if self._base is None:
            raise ClusterError("pgbouncer not started")
        return self._base

    @property
    def unix_socket_dir(self) -> Path:
        """Directory of pgbouncer's Unix socket ``.s.PGSQL.<port>``."""
        return self.base_dir

    @property
    def config_path(self) -> Path:
        """The generated ``pgbouncer.ini``."""
        return self.base_dir / "pgbouncer.ini"

    @property
    def log_path(self) -> Path:
        """pgbouncer's log (its stderr)."""
        return self.base_dir / "pgbouncer.log"

    @property
    def pid(self) -> int | None:
        """Process id while running."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def running(self) -> bool:
        """True while pgbouncer runs."""
        return self.pid is not None

    # -------------------------------------------------------------- lifecycle

    def __enter__(self) -> PgBouncer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> PgBouncer:
        """Write the configuration, start pgbouncer and wait until it accepts connections."""
        if self._started:
            raise ClusterError("pgbouncer already started")
        if not self.cluster.running:
            raise ClusterError("the cluster is not running")
        self._started = True
        binary = self.binary
        self.version = pgbouncer_version(binary)
        _proc.register(self)
        try:
            user = self.cluster.os_user
            base = _proc.make_temp_dir("pgwire-bouncer-", "/tmp")
            self._base = base
            _proc.chown_to(base, user)
            self._write_auth_file()
            last_error = ""
            for _ in range(8):
                self.port = _proc.free_port(self.host)
                self._write_config()
                self._log = open(self.log_path, "ab")
                log_offset = self._log.tell()
                self._proc = _proc.spawn(
                    [binary, os.fspath(self.config_path)],
                    user=user,
                    cwd=base,
                    output=self._log,
                    death_signal=signal.SIGKILL,
                )
                outcome = self._wait_ready(log_offset)
                if outcome == "ready":
                    return self
                log = _proc.tail(self.log_path)
                self._kill()
                last_error = f"pgbouncer failed to start ({outcome}); log {self.log_path}:\n{log}"
                if outcome != "Address already in use":
                    break
            raise ClusterError(last_error)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop pgbouncer and delete its directory."""
        self._kill()
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
        _proc.unregister(self)

    def _kill(self) -> None:
        proc = self._proc
        self._proc = None
        if proc is not None:
            # Immediate shutdown: SIGTERM up to 1.22, SIGQUIT from 1.23 on.
            sig = signal.SIGQUIT if self.version >= (1, 23) else signal.SIGTERM
            _proc.terminate(proc, [(sig, 3.0)])
        if self._log is not None:
            self._log.close()
            self._log = None

    def _wait_ready(self, log_offset: int) -> str:
        # pgbouncer keeps running when it cannot bind the TCP port (it still
        # has its Unix socket), and whoever took the port accepts connections:
        # so read the log this attempt wrote, not just the port.
        proc = self._proc
        assert proc is not None
        started = time.monotonic()
        deadline = started + self.startup_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return f"exit code {proc.returncode}"
            try:
                with open(self.log_path, "rb") as fh:
                    fh.seek(log_offset)
                    log = fh.read().decode(errors="replace")
            except OSError:
                log = ""
            if f"cannot listen on {self.host}:{self.port}" in log:
                return "Address already in use"
            up = "process up" in log or f"listening on {self.host}:{self.port}" in log
            # (unknown log format: after a while, trust the port alone)
            if (up or time.monotonic() - started > 5) and _proc.accepts_tcp(self.host, self.port):
                return "ready"
            time.sleep(0.02)
        return f"not accepting connections after {self.startup_timeout} s"

    # ----------------------------------------------------------------- config

    def _write_auth_file(self) -> None:
        lines = []
        for user, password in self.cluster.passwords.items():
            quoted = (password or "").replace('"', '""')
            lines.append(f'"{user}" "{quoted}"')
        path = self.base_dir / "userlist.txt"
        path.write_text("\n".join(lines) + "\n")
        os.chmod(path, 0o600)
        _proc.chown_to(path, self.cluster.os_user)

    def _write_config(self) -> None:
        settings: dict[str, str | int | bool] = {
            "listen_addr": self.host,
            "listen_port": self.port,
            "unix_socket_dir": os.fspath(self.unix_socket_dir),
            "auth_type": self.auth_type,
            "auth_file": os.fspath(self.base_dir / "userlist.txt"),
            "admin_users": "postgres",
            "stats_users": "postgres",
            "pool_mode": self.pool_mode,
            "default_pool_size": self.default_pool_size,
            "max_client_conn": self.max_client_conn,
            "ignore_startup_parameters": ",".join(self.ignore_startup_parameters),
            "server_reset_query": "",
            "server_tls_sslmode": "disable",
            "pidfile": os.fspath(self.base_dir / "pgbouncer.pid"),
            "log_connections": 0,
            "log_disconnections": 0,
        }
        if self.client_tls:
            cert, key = self.cluster.ssl_cert_file, self.cluster.ssl_key_file
            if cert is None or key is None:
                raise ClusterError("client_tls needs a cluster with TLS enabled")
            settings.update(
                client_tls_sslmode="allow",
                client_tls_cert_file=os.fspath(cert),
                client_tls_key_file=os.fspath(key),
            )
        settings.update(self._extra_config)
        body = [
            "; Written by pgwire.testing.PgBouncer",
            "[databases]",
            f"* = host={self.cluster.host} port={self.cluster.port}",
            "",
            "[pgbouncer]",
            *(f"{name} = {_ini_value(value)}" for name, value in settings.items()),
        ]
        self.config_path.write_text("\n".join(body) + "\n")
        _proc.chown_to(self.config_path, self.cluster.os_user)

    # ------------------------------------------------------------ connecting

    def dsn(
        self,
        user: str = "postgres",
        database: str = "pgwire_test",
        password: str | None = None,
        *,
        unix_socket: bool = False,
        **params: str,
    ) -> str:
        """A ``postgresql://`` URI through pgbouncer (password defaults to the role's)."""

        host = os.fspath(self.unix_socket_dir) if unix_socket else self.host
        if password is None:
            password = self.cluster.passwords.get(user)
        return build_uri(host, self.port, user, database, password, params)

    def connect_kwargs(
        self,
        user: str = "postgres",
        database: str = "pgwire_test",
        password: str | None = None,
        *,
        unix_socket: bool = False,
    ) -> dict[str, Any]:
        """Keyword arguments for a connect call through pgbouncer."""
        return {
            "host": os.fspath(self.unix_socket_dir) if unix_socket else self.host,
            "port": self.port,
            "user": user,
            "database": database,
            "password": password if password is not None else self.cluster.passwords.get(user),
        }

    def psql(
        self,
        sql: str,
        user: str = "postgres",
        database: str = "pgwire_test",
        *,
        password: str | None = None,
        options: Mapping[str, str] | None = None,
    ) -> str:
        """Run ``sql`` with ``psql`` through pgbouncer over TCP."""

        info = conninfo(
            host=self.host, port=self.port, user=user, dbname=database, **dict(options or {})
        )
        if password is None:
            password = self.cluster.passwords.get(user)
        return run_psql(self.cluster.psql_path(), info, sql, password=password)

    def admin(self, command: str) -> str:
        """Run a command on the admin console (e.g. ``SHOW POOLS``) and return its output."""
        return self.psql(
            command, user="postgres", database="pgbouncer", options={"sslmode": "disable"}
        )

    def __repr__(self) -> str:
        state = f"port={self.port}" if self.running else "stopped"
        return f"<PgBouncer {state} pool_mode={self.pool_mode}>"
