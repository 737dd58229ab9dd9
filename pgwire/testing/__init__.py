"""Throwaway PostgreSQL servers (and pgbouncers) for pgwire's tests and for yours.

``TemporaryCluster`` runs initdb into a temporary directory and starts a
server with logical replication, TLS and one role per authentication method;
``TemporaryCluster.start_pgbouncer`` puts a real pgbouncer in front of it.
Both clean up after themselves, also at exit and on SIGTERM. Run
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
from pgwire.testing.cluster import (
    AUTH_METHODS,
    SUPERUSER,
    TEST_DATABASE,
    PsqlError,
    TemporaryCluster,
)
from pgwire.testing.pgbouncer import PgBouncer, pgbouncer_version

__all__ = [
    "AUTH_METHODS",
    "SUPERUSER",
    "TEST_DATABASE",
    "BinaryNotFoundError",
    "ClusterError",
    "OSUser",
    "PgBouncer",
    "PsqlError",
    "TemporaryCluster",
    "find_pgbouncer",
    "find_postgres_bindir",
    "free_port",
    "generate_self_signed_cert",
    "main",
    "pgbouncer_version",
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
    args = parser.parse_args(argv)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    with TemporaryCluster(ssl=not args.no_ssl) as cluster:
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
        print()
        print("Press Ctrl-C to stop and delete it.", flush=True)
        try:
            while not stop.wait(3600):
                pass
        except KeyboardInterrupt:
            print()
    return 0
