"""User code type-checks against pgwire as installed: ``mypy --strict`` on a sample.

Two installations are checked, as users have them: the editable install
the test suite runs from (``scripts/setup.sh`` makes it a path entry, which
type checkers follow), and a wheel built from this checkout and installed
into a fresh virtual environment (which proves ``py.typed`` ships).  Each
check also feeds mypy a deliberate mistake and expects pgwire's own
annotations to catch it, so a pgwire mypy cannot see fails the test instead
of passing it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import textwrap
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = textwrap.dedent('''
    """A small application written against pgwire's public API."""

    from __future__ import annotations

    import asyncio
    import datetime

    import pgwire
    import pgwire.sync
    from pgwire import dbapi
    from pgwire.exceptions import UniqueViolationError


    async def report(dsn: str) -> list[tuple[int, str]]:
        conn: pgwire.Connection = await pgwire.connect(dsn, command_timeout=10)
        try:
            rows: list[pgwire.Record] = await conn.fetch("SELECT 1 AS id, 'a' AS name")
            one: pgwire.Record | None = await conn.fetchrow("SELECT $1::int", 1)
            status: str = await conn.execute("SELECT 1")
            stmt: pgwire.PreparedStatement = await conn.prepare("SELECT $1::int")
            print(one, status, await stmt.fetchval(2))
            async with conn.transaction(isolation="serializable"):
                try:
                    await conn.execute("INSERT INTO t VALUES ($1)", 1)
                except UniqueViolationError as exc:
                    print(exc.sqlstate, exc.detail)
            async with conn.pipeline() as pipe:
                pending = pipe.fetchval("SELECT now()")
            print(await pending)
            return [(int(r["id"]), str(r["name"])) for r in rows]
        finally:
            await conn.close()


    async def pooled(dsn: str) -> int:
        async with pgwire.create_pool(dsn, min_size=1, max_size=2) as pool:
            async with pool.acquire() as conn:
                value = await conn.fetchval("SELECT 1")
            return int(value)


    def blocking(dsn: str) -> datetime.datetime:
        with pgwire.sync.connect(dsn) as conn:
            when = conn.fetchval("SELECT now()")
            assert isinstance(when, datetime.datetime)
            return when


    def with_dbapi(dsn: str) -> object:
        conn: dbapi.Connection = dbapi.connect(dsn)
        with conn.cursor() as cur:
            cur.execute("SELECT %s::int", (1,))
            row = cur.fetchone()
        conn.commit()
        return row


    if __name__ == "__main__":
        asyncio.run(report("postgresql://localhost/db"))
''')

# Each line is wrong against pgwire's annotations.
MISTAKES = textwrap.dedent('''
    import pgwire
    import pgwire.sync


    async def wrong(conn: pgwire.Connection) -> None:
        await conn.fetch(42)
        name: int = conn.get_server_version()
        conn.no_such_method()


    def wrong_sync(conn: pgwire.sync.Connection) -> None:
        conn.fetchval(b"SELECT 1")
''')


def _mypy(where: Path, python: str | None = None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental",
               "--cache-dir", os.devnull, "sample.py", "mistakes.py"]
    if python is not None:
        command[4:4] = ["--python-executable", python]
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "MYPYPATH")}
    # From a directory outside the checkout: pgwire must come from the install.
    return subprocess.run(command, cwd=where, env=env, capture_output=True, text=True,
                          timeout=600)


def _check(result: subprocess.CompletedProcess[str]) -> None:
    report = result.stdout + result.stderr
    sample_errors = [line for line in report.splitlines() if line.startswith("sample.py")]
    assert not sample_errors, report
    assert "Cannot find implementation or library stub" not in report, report
    assert 'mistakes.py:7: error: Argument 1 to "fetch" of "Connection" has incompatible ' \
        'type "int"; expected "str"' in report, report
    assert 'mistakes.py:8: error: Incompatible types in assignment' in report, report
    assert 'mistakes.py:9: error: "Connection" has no attribute "no_such_method"' in report, \
        report
    assert 'mistakes.py:13: error: Argument 1 to "fetchval" of "Connection" has ' \
        'incompatible type "bytes"; expected "str"' in report, report


def _write_samples(where: Path) -> None:
    (where / "sample.py").write_text(SAMPLE)
    (where / "mistakes.py").write_text(MISTAKES)


def test_user_code_against_the_editable_install(tmp_path: Path) -> None:
    _write_samples(tmp_path)
    _check(_mypy(tmp_path))


@pytest.mark.skipif(os.environ.get("PGWIRE_NO_EXTENSIONS") == "1",
                    reason="packaging is checked once, on the compiled build's run")
def test_user_code_against_an_installed_wheel(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    # The pure-Python wheel: what is checked is the package's files and
    # py.typed, not the compiler (and it builds in seconds).
    env = {**os.environ, "PGWIRE_NO_EXTENSIONS": "1"}
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(wheels), str(ROOT)], check=True, env=env, timeout=600,
                   capture_output=True)
    (wheel,) = wheels.glob("pgwire-*.whl")
    environment = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(environment)
    python = environment / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q",
                    "--target", purelib, str(wheel)], check=True, timeout=600,
                   capture_output=True)
    assert (Path(purelib) / "pgwire" / "py.typed").is_file()
    _write_samples(tmp_path)
    _check(_mypy(tmp_path, python=str(python)))
    assert sysconfig.get_paths()["purelib"] != purelib
    shutil.rmtree(environment)
