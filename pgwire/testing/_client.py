"""Talking to a throwaway server from outside: connection strings, URIs and psql.

Used by :mod:`pgwire.testing.cluster` and :mod:`pgwire.testing.pgbouncer`
alike (and by tests): nothing here starts or stops a server.
"""

from __future__ import annotations

import os
import subprocess
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from pgwire.testing import _proc
from pgwire.testing._proc import ClusterError


class PsqlError(ClusterError):
    """A ``psql`` command run by :meth:`TemporaryCluster.psql` failed."""

    def __init__(self, message: str, returncode: int, stdout: str, stderr: str) -> None:
        super().__init__(message)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def _conninfo_value(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def conninfo(**params: str | int | None) -> str:
    """A libpq ``key=value`` connection string from keyword arguments (None skipped)."""
    return " ".join(
        f"{key}={_conninfo_value(str(value))}" for key, value in params.items() if value is not None
    )


def build_uri(
    host: str,
    port: int,
    user: str,
    database: str,
    password: str | None,
    params: Mapping[str, str],
) -> str:
    """A ``postgresql://`` URI; a host starting with ``/`` goes in the query string."""
    userinfo = urllib.parse.quote(user, safe="")
    if password is not None:
        userinfo += ":" + urllib.parse.quote(password, safe="")
    query: dict[str, str] = {}
    if host.startswith("/"):
        netloc = f"{userinfo}@"
        query.update(host=host, port=str(port))
    else:
        netloc = f"{userinfo}@{host}:{port}"
    query.update(params)
    uri = f"postgresql://{netloc}/{urllib.parse.quote(database, safe='')}"
    if query:
        uri += "?" + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
    return uri


def run_psql(
    psql: Path, info: str, sql: str, *, password: str | None = None, timeout: float = 120
) -> str:
    """Run ``sql`` with ``psql`` against the libpq connection string ``info``."""
    env = _proc.server_env({"PGCONNECT_TIMEOUT": "10"})
    env.pop("LC_ALL", None)
    if password is not None:
        env["PGPASSWORD"] = password
    result = subprocess.run(
        [
            os.fspath(psql),
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-d",
            info,
            "-f",
            "-",
        ],
        input=sql,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise PsqlError(
            f"psql failed (exit {result.returncode}): {result.stderr.strip()}",
            result.returncode,
            result.stdout,
            result.stderr,
        )
    out = result.stdout
    return out[:-1] if out.endswith("\n") else out
