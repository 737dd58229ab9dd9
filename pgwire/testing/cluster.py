"""A throwaway PostgreSQL cluster for tests.

:class:`TemporaryCluster` runs ``initdb`` into a fresh temporary directory,
starts ``postgres`` on a Unix socket in that directory and on a free
loopback TCP port, with logical replication, TLS (self-signed certificate)
and one login role per authentication method, and removes everything again
on :meth:`TemporaryCluster.stop` (also at interpreter exit or on SIGTERM).
``TemporaryCluster(version=16)`` runs another major version (see
:mod:`pgwire.testing._versions`); :meth:`TemporaryCluster.start_standby`
adds a :class:`StandbyCluster`, a hot standby streaming from it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pgwire.testing import _proc, _versions
from pgwire.testing._certs import generate_self_signed_cert
from pgwire.testing._client import PsqlError, build_uri, conninfo, run_psql
from pgwire.testing._proc import BinaryNotFoundError, ClusterError, OSUser

if TYPE_CHECKING:
    from pgwire.testing.pgbouncer import PgBouncer

__all__ = [
    "AUTH_METHODS",
    "PsqlError",
    "SUPERUSER",
    "TEST_DATABASE",
    "StandbyCluster",
    "TemporaryCluster",
]

#: Login role name -> pg_hba.conf authentication method.
AUTH_METHODS: Mapping[str, str] = {
    "trust_user": "trust",
    "password_user": "password",
    "md5_user": "md5",
    "scram_user": "scram-sha-256",
}
SUPERUSER = "postgres"
REPLICATION_USER = "repl_user"
TEST_DATABASE = "pgwire_test"

#: Settings every cluster gets (``extra_config`` adds to or overrides them).
BASE_CONFIG: Mapping[str, str | int | bool] = {
    "listen_addresses": "127.0.0.1",
    "max_connections": 200,
    "wal_level": "logical",
    "max_wal_senders": 10,
    "max_replication_slots": 10,
    "fsync": False,
    "synchronous_commit": False,
    "full_page_writes": False,
    "log_min_messages": "warning",
    "log_destination": "stderr",
    "logging_collector": False,
}

_BIND_FAILURES = (
    "could not create any TCP/IP sockets",
    "could not create listen socket",
    "Address already in use",
)


def _conf_value(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("'", "''") + "'"


class TemporaryCluster:
    """A PostgreSQL server in a temporary directory, for tests.

    Use as a context manager or call :meth:`start` and :meth:`stop`. After
    start:

    * ``host`` (``"127.0.0.1"``) and ``port``: the TCP listener;
      ``unix_socket_dir``: the Unix socket directory (same port number).
    * ``passwords``: role name -> password (None for password-less roles):
      ``postgres`` (superuser, trust), ``trust_user``, ``password_user``
      (cleartext ``password`` method), ``md5_user`` (stored as MD5),
      ``scram_user`` (SCRAM-SHA-256), ``repl_user`` (REPLICATION, trust).
    * database ``pgwire_test`` where every role may create tables.
    * ``ssl_enabled``; ``ssl_cert_file`` doubles as the root certificate
      that verifies the server (names ``localhost`` and ``127.0.0.1``).
    * ``server_version`` (e.g. ``150018``), ``major`` (``15``), ``bindir``,
      ``datadir``, ``base_dir``, ``log_path``.
    * ``version``: the major version asked for (None: the default server).
    """

    host = "127.0.0.1"
    superuser = SUPERUSER
    database = TEST_DATABASE

    def __init__(
        self,
        *,
        bindir: str | os.PathLike[str] | None = None,
        extra_config: Mapping[str, str | int | bool] | None = None,
        extra_hba: Iterable[str] = (),
        ssl: bool = True,
        startup_timeout: float = 60.0,
        version: int | None = None,
    ) -> None:
        """Prepare (but do not start) a cluster.

        ``bindir`` overrides the binary search of
        :func:`~pgwire.testing.find_postgres_bindir`; ``extra_config`` adds
        ``postgresql.conf`` settings; ``extra_hba`` adds ``pg_hba.conf``
        lines (placed before the built-in ones); ``ssl=False`` runs without
        TLS. ``version`` (a major version such as 14 or 18) takes the
        binaries of :func:`~pgwire.testing.postgresql_bindir` instead
        (:meth:`start` raises :class:`BinaryNotFoundError` if there are
        none); with ``bindir`` too, that directory is used. Either way
        :meth:`start` first checks that ``postgres`` is of that major.
        """
        if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
            raise TypeError(f"version must be a major version number, not {version!r}")
        self.version = version
        self._bindir_arg = Path(bindir) if bindir is not None else None
        self._extra_config = dict(extra_config or {})
        self._extra_hba = list(extra_hba)
        self._want_ssl = ssl
        self.startup_timeout = startup_timeout
        self.passwords: dict[str, str | None] = {
            SUPERUSER: None,
            "trust_user": None,
            "password_user": "pw-password-" + secrets.token_hex(8),
            "md5_user": "pw-md5-" + secrets.token_hex(8),
            "scram_user": "pw-scram-" + secrets.token_hex(8),
            REPLICATION_USER: None,
        }
        self.port = 0
        self.server_version = 0
        self.ssl_enabled = False
        self.ssl_cert_file: Path | None = None
        self.ssl_key_file: Path | None = None
        self.os_user: OSUser | None = None
        self._bindir: Path | None = None
        self._base: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._pgbouncers: list[PgBouncer] = []
        self._standbys: list[StandbyCluster] = []
        self._started = False

    # ------------------------------------------------------------------ paths

    @property
    def bindir(self) -> Path:
        """Directory of the server binaries in use."""
        if self._bindir is None:
            if self._bindir_arg is not None:
                self._bindir = self._bindir_arg
            elif self.version is not None:
                found = _versions.postgresql_bindir(self.version)
                if found is None:
                    raise BinaryNotFoundError(_versions.missing_message(self.version))
                self._bindir = found
            else:
                self._bindir = _proc.find_postgres_bindir()
        return self._bindir

    @property
    def major(self) -> int:
        """The server's major version (``server_version // 10000``; 0 before start)."""
        return self.server_version // 10000

    @property
    def base_dir(self) -> Path:
        """The temporary directory holding everything of this cluster."""
        if self._base is None:
            raise ClusterError("cluster not started")
        return self._base

    @property
    def datadir(self) -> Path:
        """The data directory (``PGDATA``)."""
        return self.base_dir / "data"

    @property
    def unix_socket_dir(self) -> Path:
        """Directory of the server's Unix socket ``.s.PGSQL.<port>``."""
        return self.base_dir

    @property
    def log_path(self) -> Path:
        """The server log file."""
        return self.base_dir / "postgresql.log"

    @property
    def pid(self) -> int | None:
        """Process id of the postmaster while running."""
        return self._proc.pid if self._proc is not None and self._proc.poll() is None else None

    @property
    def running(self) -> bool:
        """True while the postmaster runs."""
        return self.pid is not None

    # -------------------------------------------------------------- lifecycle

    def __enter__(self) -> TemporaryCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> TemporaryCluster:
        """initdb, start the server and create the test roles and database."""
        if self._started:
            raise ClusterError("cluster already started")
        self._started = True
        bindir = self.bindir
        self._check_version(bindir)
        _proc.register(self)
        try:
            self.os_user = _proc.server_os_user()
            # A cache the server user cannot reach is copied where it can.
            self._bindir = bindir = _versions.runnable_bindir(bindir, self.os_user)
            self._base = self._make_base_dir()
            self._initdb(bindir)
            self._setup_ssl()
            self._write_hba()
            self._write_config()
            self._launch(new_port=True)
            self._create_roles()
            self.server_version = int(self.psql("SHOW server_version_num"))
        except BaseException:
            self.stop()
            raise
        return self

    def _check_version(self, bindir: Path) -> None:
        # Before initdb: a wrong directory (PGWIRE_PGBIN_16 naming a 15) fails fast.
        if self.version is None:
            return
        found = _versions.bindir_major(os.fspath(bindir))
        if found != self.version:
            raise ClusterError(
                f"asked for PostgreSQL {self.version}, but {bindir}/postgres is "
                + (f"PostgreSQL {found}" if found is not None else "of an unknown version")
            )

    def stop(self) -> None:
        """Stop the server and any pgbouncer started for it; delete the directory.

        Standbys started with :meth:`start_standby` stop first, unless they
        were promoted (they are servers of their own then).
        """
        for bouncer in reversed(self._pgbouncers):
            try:
                bouncer.stop()
            except Exception:  # noqa: BLE001 - keep cleaning up
                pass
        self._pgbouncers.clear()
        for standby in reversed(self._standbys):
            if not standby.promoted:
                try:
                    standby.stop()
                except Exception:  # noqa: BLE001 - keep cleaning up
                    pass
        self._standbys.clear()
        self._kill_server(fast=False)
        if self._base is not None:
            shutil.rmtree(self._base, ignore_errors=True)
        _proc.unregister(self)

    def restart(self) -> None:
        """Stop the server (fast shutdown) and start it again on the same port.

        Every connection is dropped; data, roles and settings stay.
        """
        self._kill_server(fast=True)
        self._launch(new_port=False)

    def reload(self) -> None:
        """Make the server re-read ``postgresql.conf`` and ``pg_hba.conf`` (SIGHUP)."""
        if self._proc is None or self._proc.poll() is not None:
            raise ClusterError("server not running")
        self._proc.send_signal(signal.SIGHUP)
        time.sleep(0.2)  # the postmaster reloads asynchronously

    def _kill_server(self, *, fast: bool) -> None:
        proc = self._proc
        self._proc = None
        if proc is not None:
            if fast:
                steps = [(signal.SIGINT, 30.0), (signal.SIGQUIT, 5.0)]
            else:
                steps = [(signal.SIGQUIT, 10.0)]
            _proc.terminate(proc, steps)
        if self._log is not None:
            self._log.close()
            self._log = None

    # ---------------------------------------------------------------- helpers

    def _make_base_dir(self) -> Path:
        parent: str | None = None
        if self.os_user is not None and not _proc.traversable_by_others(
            Path(tempfile.gettempdir())
        ):
            parent = "/tmp"
        base = _proc.make_temp_dir("pgwire-", parent)
        # Unix socket paths are limited to about 107 bytes.
        if len(os.fspath(base)) > 80:
            shutil.rmtree(base, ignore_errors=True)
            base = _proc.make_temp_dir("pgwire-", "/tmp")
        _proc.chown_to(base, self.os_user)
        return base

    def _initdb(self, bindir: Path) -> None:
        result = _proc.run_as(
            [
                bindir / "initdb",
                "-D",
                self.datadir,
                "-U",
                SUPERUSER,
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            user=self.os_user,
            cwd=self.base_dir,
        )
        if result.returncode != 0:
            raise ClusterError(
                f"initdb failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
            )

    def _setup_ssl(self) -> None:
        if not self._want_ssl:
            return
        cert = self.base_dir / "server.crt"
        key = self.base_dir / "server.key"
        if generate_self_signed_cert(cert, key) is None:
            return
        self._use_certificate(cert, key)

    def _use_certificate(self, cert: Path, key: Path) -> None:
        """Serve TLS with ``cert`` and ``key``, owned by the server's user."""
        for path in (cert, key):
            _proc.chown_to(path, self.os_user)
        os.chmod(key, 0o600)
        os.chmod(cert, 0o644)
        self.ssl_cert_file = cert
        self.ssl_key_file = key
        self.ssl_enabled = True

    def _write_hba(self) -> None:
        lines = ["# Written by pgwire.testing.TemporaryCluster", *self._extra_hba]
        lines += ["local all postgres trust", "host all postgres 127.0.0.1/32 trust"]
        for user, method in AUTH_METHODS.items():
            lines.append(f"local all {user} {method}")
            lines.append(f"host all {user} 127.0.0.1/32 {method}")
        for user in (REPLICATION_USER, SUPERUSER):
            lines.append(f"local replication {user} trust")
            lines.append(f"host replication {user} 127.0.0.1/32 trust")
        # Logical replication (replication=database) matches normal database lines.
        lines.append(f"local all {REPLICATION_USER} trust")
        lines.append(f"host all {REPLICATION_USER} 127.0.0.1/32 trust")
        self._write_owned(self.datadir / "pg_hba.conf", "\n".join(lines) + "\n")

    def _write_config(self) -> None:
        settings: dict[str, str | int | bool] = dict(BASE_CONFIG)
        settings["unix_socket_directories"] = os.fspath(self.unix_socket_dir)
        settings["ssl"] = self.ssl_enabled
        if self.ssl_enabled:
            assert self.ssl_cert_file is not None and self.ssl_key_file is not None
            settings["ssl_cert_file"] = os.fspath(self.ssl_cert_file)
            settings["ssl_key_file"] = os.fspath(self.ssl_key_file)
        settings.update(self._extra_config)
        body = "".join(f"{name} = {_conf_value(value)}\n" for name, value in settings.items())
        conf = self.datadir / "postgresql.conf"
        with open(conf, "a") as fh:  # keeps the owner initdb gave it
            fh.write("\n# Added by pgwire.testing.TemporaryCluster\n" + body)

    def _write_owned(self, path: Path, text: str) -> None:
        path.write_text(text)
        _proc.chown_to(path, self.os_user)

    def _launch(self, *, new_port: bool) -> None:
        attempts = 8 if new_port else 1
        last_error = ""
        for _ in range(attempts):
            if new_port:
                self.port = _proc.free_port(self.host)
            if self._log is None:
                self._log = open(self.log_path, "ab")
            self._proc = _proc.spawn(
                [self.bindir / "postgres", "-D", self.datadir, "-p", str(self.port)],
                user=self.os_user,
                cwd=self.base_dir,
                output=self._log,
                death_signal=signal.SIGQUIT,
            )
            outcome = self._wait_ready()
            if outcome == "ready":
                return
            log = _proc.tail(self.log_path)
            self._kill_server(fast=False)
            last_error = f"PostgreSQL failed to start ({outcome}); log {self.log_path}:\n{log}"
            if not (new_port and any(text in log for text in _BIND_FAILURES)):
                break
        raise ClusterError(last_error)

    #: postmaster.pid states meaning "accepts connections" (a hot standby's is
    #: "standby").
    _ready_states: tuple[str, ...] = ("ready",)

    def _wait_ready(self) -> str:
        pidfile = self.datadir / "postmaster.pid"
        proc = self._proc
        assert proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return f"exit code {proc.returncode}"
            try:
                lines = pidfile.read_text().splitlines()
            except OSError:
                lines = []
            if len(lines) >= 8 and lines[0].strip() == str(proc.pid):
                if lines[7].strip() in self._ready_states:
                    return "ready"
            time.sleep(0.02)
        return f"not ready after {self.startup_timeout} s"

    def _create_roles(self) -> None:
        pw = self.passwords
        sql = f"""
SET password_encryption = 'md5';
CREATE ROLE md5_user LOGIN PASSWORD '{pw["md5_user"]}';
SET password_encryption = 'scram-sha-256';
CREATE ROLE scram_user LOGIN PASSWORD '{pw["scram_user"]}';
CREATE ROLE password_user LOGIN PASSWORD '{pw["password_user"]}';
CREATE ROLE trust_user LOGIN;
CREATE ROLE {REPLICATION_USER} LOGIN REPLICATION;
CREATE DATABASE {TEST_DATABASE} OWNER {SUPERUSER};
\\connect {TEST_DATABASE}
GRANT ALL ON SCHEMA public TO PUBLIC;
"""
        self.psql(sql)

    # ------------------------------------------------------------ connecting

    def _password_for(self, user: str, password: str | None) -> str | None:
        return password if password is not None else self.passwords.get(user)

    def dsn(
        self,
        user: str = SUPERUSER,
        database: str = TEST_DATABASE,
        password: str | None = None,
        *,
        unix_socket: bool = False,
        **params: str,
    ) -> str:
        """A ``postgresql://`` URI for ``user`` on ``database``.

        The password defaults to the role's own (``passwords[user]``);
        ``unix_socket=True`` points at the socket directory instead of TCP;
        ``params`` go into the query string (e.g. ``sslmode="require"``).
        """
        host = os.fspath(self.unix_socket_dir) if unix_socket else self.host
        return build_uri(
            host, self.port, user, database, self._password_for(user, password), params
        )

    def connect_kwargs(
        self,
        user: str = SUPERUSER,
        database: str = TEST_DATABASE,
        password: str | None = None,
        *,
        unix_socket: bool = False,
    ) -> dict[str, Any]:
        """Keyword arguments for a connect call: host, port, user, database, password."""
        return {
            "host": os.fspath(self.unix_socket_dir) if unix_socket else self.host,
            "port": self.port,
            "user": user,
            "database": database,
            "password": self._password_for(user, password),
        }

    def psql_path(self) -> Path:
        """The ``psql`` client: from the server's bindir, else from ``PATH``."""
        candidate = self.bindir / "psql"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
        found = shutil.which("psql")
        if found is None:
            raise _proc.BinaryNotFoundError("psql not found next to the server nor on PATH")
        return Path(found)

    def psql(
        self,
        sql: str,
        user: str = SUPERUSER,
        database: str = "postgres",
        *,
        password: str | None = None,
        tcp: bool = False,
        port: int | None = None,
        options: Mapping[str, str] | None = None,
        timeout: float = 120,
    ) -> str:
        """Run ``sql`` (statements and psql meta-commands) through ``psql``.

        Connects over the Unix socket (``tcp=True``: over TCP) as ``user`` to
        ``database``; ``options`` are extra libpq parameters (e.g. sslmode).
        Returns the unaligned, tuples-only output without its final newline;
        stops at the first error and raises :class:`PsqlError`.
        """
        info = conninfo(
            host=self.host if tcp else os.fspath(self.unix_socket_dir),
            port=port if port is not None else self.port,
            user=user,
            dbname=database,
            **dict(options or {}),
        )
        return run_psql(
            self.psql_path(),
            info,
            sql,
            password=self._password_for(user, password),
            timeout=timeout,
        )

    # ------------------------------------------------------------- pgbouncer

    def start_pgbouncer(self, **kwargs: Any) -> PgBouncer:
        """Start a pgbouncer in front of this cluster; stopped with the cluster.

        Keyword arguments go to :class:`~pgwire.testing.PgBouncer`
        (``pool_mode="transaction"``, ``default_pool_size=5``, ...).
        """
        from pgwire.testing.pgbouncer import PgBouncer

        bouncer = PgBouncer(self, **kwargs)
        bouncer.start()
        self._pgbouncers.append(bouncer)
        return bouncer

    # --------------------------------------------------------------- standby

    def start_standby(self, **kwargs: Any) -> StandbyCluster:
        """Start a hot standby of this (running) cluster; stopped with the cluster.

        Keyword arguments go to :class:`StandbyCluster` (``name``,
        ``slot``, ``extra_config``, ``startup_timeout``).
        """
        standby = StandbyCluster(self, **kwargs)
        standby.start()
        self._standbys.append(standby)
        return standby

    def _forget_standby(self, standby: StandbyCluster) -> None:
        if standby in self._standbys:
            self._standbys.remove(standby)

    def __repr__(self) -> str:
        state = f"port={self.port}" if self.running else "stopped"
        return f"<{type(self).__name__} {state} base={self._base}>"


class StandbyCluster(TemporaryCluster):
    """A hot standby of a running :class:`TemporaryCluster` (its ``primary``).

    :meth:`start` takes a base backup of the primary with ``pg_basebackup``
    (as ``repl_user``, through a physical replication slot unless
    ``slot=False``, so the primary keeps the WAL the standby has not
    received), writes ``standby.signal`` and ``primary_conninfo`` and starts
    it on a port of its own; it returns once the standby accepts read-only
    connections and ``pg_is_in_recovery()`` is true. The roles, passwords,
    databases and TLS certificate are the primary's (``dsn()``,
    ``connect_kwargs()``, ``passwords``, ``ssl_cert_file`` work as there).
    :meth:`promote` turns it into a primary; :meth:`stop` drops its slot on
    the primary. Usually made with :meth:`TemporaryCluster.start_standby`.
    """

    _ready_states = ("ready", "standby")

    def __init__(
        self,
        primary: TemporaryCluster,
        *,
        name: str | None = None,
        slot: bool = True,
        extra_config: Mapping[str, str | int | bool] | None = None,
        startup_timeout: float | None = None,
    ) -> None:
        """Prepare a standby of ``primary``.

        ``name`` is its ``application_name`` on the primary (and its slot's
        name; letters, digits and ``_``); ``extra_config`` adds settings to
        the standby only.
        """
        super().__init__(
            bindir=primary.bindir,
            extra_config=extra_config,
            ssl=primary.ssl_enabled,
            startup_timeout=primary.startup_timeout if startup_timeout is None else startup_timeout,
            version=primary.version,
        )
        self.primary = primary
        self.name = name or f"pgwire_standby_{secrets.token_hex(4)}"
        if not all(c.isalnum() or c == "_" for c in self.name) or not self.name.isascii():
            raise ValueError(f"standby name must be letters, digits and _: {self.name!r}")
        self.slot_name: str | None = self.name.lower() if slot else None
        self.promoted = False
        self._slot_created = False

    def start(self) -> StandbyCluster:
        """Base backup of the primary, then start as a hot standby."""
        if self._started:
            raise ClusterError("cluster already started")
        primary = self.primary
        if not primary.running:
            raise ClusterError("the primary is not running")
        wal_level = primary.psql("SHOW wal_level")
        if wal_level not in ("replica", "logical"):
            raise ClusterError(f"the primary runs with wal_level={wal_level}: no standby possible")
        self._started = True
        _proc.register(self)
        try:
            self.os_user = primary.os_user
            self._bindir = primary.bindir
            self.passwords = dict(primary.passwords)
            self._base = self._make_base_dir()
            self._base_backup()
            self._copy_ssl()
            self._write_standby_config()
            self._launch(new_port=True)
            if self.psql("SELECT pg_is_in_recovery()") != "t":
                raise ClusterError(f"the standby is not in recovery; log {self.log_path}")
            self.server_version = int(self.psql("SHOW server_version_num"))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop the standby (immediately), delete its directory, drop its slot."""
        super().stop()
        self._drop_slot()
        self.primary._forget_standby(self)

    def promote(self, timeout: float = 60.0) -> None:
        """Make the standby a primary of its own; returns once it accepts writes.

        The primary keeps running (and no longer keeps WAL for it); stopping
        the primary no longer stops this server.
        """
        if self.promoted:
            return
        seconds = max(1, int(timeout))
        if self.psql(f"SELECT pg_promote(true, {seconds})", timeout=timeout + 30) != "t":
            raise ClusterError(f"promotion did not finish within {seconds} s; log {self.log_path}")
        if not _proc.wait_until(lambda: self.psql("SELECT pg_is_in_recovery()") == "f", timeout):
            raise ClusterError(f"still in recovery after promotion; log {self.log_path}")
        self.promoted = True
        self._drop_slot()
        self.primary._forget_standby(self)

    def wait_for_replay(self, timeout: float = 30.0) -> None:
        """Wait until the standby has replayed all WAL the primary had written when called."""
        # The insert position, not pg_current_wal_lsn() (the write position):
        # with synchronous_commit off a commit may not be written yet.
        lsn = self.primary.psql(
            "SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() "
            "ELSE pg_current_wal_insert_lsn() END"
        )
        query = f"SELECT coalesce(pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn, false)"
        if not _proc.wait_until(lambda: self.psql(query) == "t", timeout, interval=0.05):
            raise ClusterError(f"standby did not replay up to {lsn} within {timeout} s")

    # ---------------------------------------------------------------- helpers

    def _base_backup(self) -> None:
        primary = self.primary
        args: list[str | os.PathLike[str]] = [
            self.bindir / "pg_basebackup",
            "--pgdata",
            self.datadir,
            "--host",
            os.fspath(primary.unix_socket_dir),
            "--port",
            str(primary.port),
            "--username",
            REPLICATION_USER,
            "--no-password",
            "--wal-method=stream",
            "--checkpoint=fast",
            "--no-sync",
        ]
        if self.slot_name is not None:
            args += ["--create-slot", "--slot", self.slot_name]
        # The slot may exist even if the copy fails: stop() drops it if so.
        self._slot_created = self.slot_name is not None
        result = _proc.run_as(
            args, user=self.os_user, cwd=self.base_dir, timeout=max(120.0, self.startup_timeout)
        )
        if result.returncode != 0:
            raise ClusterError(
                f"pg_basebackup failed (exit {result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )

    def _copy_ssl(self) -> None:
        # The primary's certificate, in a copy of our own: the primary's
        # directory may go away (or be rewritten) while the standby runs.
        self.ssl_enabled = False
        primary = self.primary
        if not (primary.ssl_enabled and primary.ssl_cert_file and primary.ssl_key_file):
            return
        cert = self.base_dir / "server.crt"
        key = self.base_dir / "server.key"
        shutil.copyfile(primary.ssl_cert_file, cert)
        shutil.copyfile(primary.ssl_key_file, key)
        self._use_certificate(cert, key)

    def _write_standby_config(self) -> None:
        primary = self.primary
        primary_conninfo = conninfo(
            host=os.fspath(primary.unix_socket_dir),
            port=primary.port,
            user=REPLICATION_USER,
            application_name=self.name,
        )
        settings: dict[str, str | int | bool] = {
            # The copied postgresql.conf still names the primary's directory.
            "unix_socket_directories": os.fspath(self.unix_socket_dir),
            "ssl": self.ssl_enabled,
            "hot_standby": True,
            "primary_conninfo": primary_conninfo,
            # Reconnect quickly after the primary restarts (default 5 s).
            "wal_retrieve_retry_interval": "200ms",
        }
        if self.slot_name is not None:
            settings["primary_slot_name"] = self.slot_name
        if self.ssl_enabled:
            assert self.ssl_cert_file is not None and self.ssl_key_file is not None
            settings["ssl_cert_file"] = os.fspath(self.ssl_cert_file)
            settings["ssl_key_file"] = os.fspath(self.ssl_key_file)
        settings.update(self._extra_config)
        body = "".join(f"{name} = {_conf_value(value)}\n" for name, value in settings.items())
        # postgresql.auto.conf is read last, so these win over the primary's
        # postgresql.conf lines copied by the base backup.
        with open(self.datadir / "postgresql.auto.conf", "a") as fh:
            fh.write("\n# Added by pgwire.testing.StandbyCluster\n" + body)
        self._write_owned(self.datadir / "standby.signal", "")

    def _drop_slot(self, timeout: float = 10.0) -> None:
        # The slot would otherwise make the primary keep WAL forever. The
        # primary's walsender lets go of it a moment after the standby went.
        if not self._slot_created or self.slot_name is None:
            return
        primary = self.primary
        if not primary.running:
            self._slot_created = False
            return
        sql = (
            "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
            f"WHERE slot_name = '{self.slot_name}' AND NOT active;\n"
            f"SELECT count(*) FROM pg_replication_slots WHERE slot_name = '{self.slot_name}'"
        )

        def dropped() -> bool:
            try:
                return primary.psql(sql, timeout=timeout).splitlines()[-1:] == ["0"]
            except (ClusterError, subprocess.SubprocessError):
                return not primary.running

        _proc.wait_until(dropped, timeout, interval=0.05)
        self._slot_created = False
