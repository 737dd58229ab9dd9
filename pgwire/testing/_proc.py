"""Process plumbing for the throwaway test servers.

Finding the PostgreSQL and pgbouncer binaries, choosing the unprivileged OS
user that runs them when we are root, picking free loopback ports, spawning
server processes in their own process group (dying with their parent where
the platform allows it) and stopping everything still running when the
Python process exits or is terminated.
"""

from __future__ import annotations

import atexit
import ctypes
import errno
import fcntl
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

__all__ = [
    "BinaryNotFoundError",
    "ClusterError",
    "OSUser",
    "find_pgbouncer",
    "find_postgres_bindir",
    "free_port",
    "server_os_user",
]


class ClusterError(RuntimeError):
    """A throwaway server could not be set up, started or used."""


class BinaryNotFoundError(ClusterError):
    """The PostgreSQL server binaries or the pgbouncer binary are not installed."""


# --------------------------------------------------------------------------
# Finding binaries
# --------------------------------------------------------------------------


def version_output(binary: str | os.PathLike[str]) -> str | None:
    """What ``binary --version`` prints, or None when it cannot be run."""
    try:
        return subprocess.run(
            [os.fspath(binary), "--version"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            stdin=subprocess.DEVNULL,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _is_server_bindir(path: Path) -> bool:
    return _is_executable(path / "initdb") and _is_executable(path / "postgres")


def _version_key(path: str) -> tuple[int, ...]:
    match = re.search(r"/postgresql/([0-9.]+)/bin/?$", path)
    if not match:
        return (0,)
    return tuple(int(part) for part in match.group(1).split(".") if part)


def find_postgres_bindir() -> Path:
    """Return the directory holding the PostgreSQL server binaries.

    Searched in order: the ``PGWIRE_PGBIN`` environment variable, each
    ``PATH`` entry holding both ``initdb`` and ``postgres``, ``pg_config
    --bindir``, then ``/usr/lib/postgresql/*/bin`` newest version first.
    Raises :class:`BinaryNotFoundError` when none is found.
    """
    explicit = os.environ.get("PGWIRE_PGBIN")
    if explicit:
        path = Path(explicit)
        if _is_server_bindir(path):
            return path
        raise BinaryNotFoundError(
            f"PGWIRE_PGBIN={explicit!r} does not contain the initdb and postgres executables"
        )
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and _is_server_bindir(Path(entry)):
            # /usr/local/bin/postgres -> /usr/lib/postgresql/15/bin/postgres:
            # prefer the real directory, which also holds psql and friends.
            real = Path(entry, "postgres").resolve().parent
            return real if _is_server_bindir(real) else Path(entry)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run(
                [pg_config, "--bindir"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
                stdin=subprocess.DEVNULL,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and _is_server_bindir(Path(out)):
            return Path(out)
    candidates = sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")),
        key=_version_key,
        reverse=True,
    )
    for candidate in candidates:
        if _is_server_bindir(Path(candidate)):
            return Path(candidate)
    raise BinaryNotFoundError(
        "PostgreSQL server binaries (initdb, postgres) not found: set PGWIRE_PGBIN to "
        "their directory, put it on PATH, or install them (Debian/Ubuntu: "
        "`apt-get install postgresql`; or run scripts/setup.sh)"
    )


def find_pgbouncer() -> Path:
    """Return the pgbouncer executable.

    Searched in order: the ``PGWIRE_PGBOUNCER`` environment variable, ``PATH``,
    ``/usr/sbin/pgbouncer``, ``/usr/local/bin/pgbouncer``. Raises
    :class:`BinaryNotFoundError` when none is found.
    """
    explicit = os.environ.get("PGWIRE_PGBOUNCER")
    if explicit:
        path = Path(explicit)
        if _is_executable(path):
            return path
        raise BinaryNotFoundError(f"PGWIRE_PGBOUNCER={explicit!r} is not an executable file")
    found = shutil.which("pgbouncer")
    if found:
        return Path(found)
    for candidate in ("/usr/sbin/pgbouncer", "/usr/local/bin/pgbouncer", "/usr/bin/pgbouncer"):
        if _is_executable(Path(candidate)):
            return Path(candidate)
    raise BinaryNotFoundError(
        "pgbouncer not found: set PGWIRE_PGBOUNCER, put it on PATH, or install it "
        "(Debian/Ubuntu: `apt-get install pgbouncer`; or run scripts/setup.sh)"
    )


# --------------------------------------------------------------------------
# The unprivileged user that runs servers when we are root
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class OSUser:
    """An operating-system account that server processes run as."""

    name: str
    uid: int
    gid: int


DEDICATED_USER = "pgwire"
_os_user_lock = threading.Lock()
_os_user_cache: list[OSUser | None] = []


def _lookup(name: str) -> OSUser | None:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return None
    return OSUser(entry.pw_name, entry.pw_uid, entry.pw_gid)


def _create_dedicated_user() -> OSUser | None:
    useradd = shutil.which("useradd") or (
        "/usr/sbin/useradd" if _is_executable(Path("/usr/sbin/useradd")) else None
    )
    if useradd is None:
        return None
    nologin = "/usr/sbin/nologin" if Path("/usr/sbin/nologin").exists() else "/bin/false"
    # useradd itself is racy (concurrent calls can add the name twice):
    # serialise test processes (e.g. pytest-xdist workers) with a lock file.
    lock_dir = "/run/lock" if os.path.isdir("/run/lock") else tempfile.gettempdir()
    with open(os.path.join(lock_dir, "pgwire-useradd.lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        for _ in range(20):
            user = _lookup(DEDICATED_USER)
            if user is not None:
                return user
            subprocess.run(
                [
                    useradd,
                    "--system",
                    "--user-group",
                    "--no-create-home",
                    "--home-dir",
                    "/nonexistent",
                    "--shell",
                    nologin,
                    "--comment",
                    "pgwire throwaway test servers",
                    DEDICATED_USER,
                ],
                capture_output=True,
                stdin=subprocess.DEVNULL,
                timeout=60,
                check=False,
            )
            # On "cannot lock /etc/passwd" (someone else edits it), try again.
            user = _lookup(DEDICATED_USER)
            if user is not None:
                return user
            time.sleep(0.1)
    return None


def server_os_user() -> OSUser | None:
    """The OS user that server processes must run as, or None to run as ourselves.

    PostgreSQL and pgbouncer refuse to run as root. When the effective user is
    root, servers run as ``$PGWIRE_OS_USER`` if set, else as the dedicated
    system user ``pgwire`` (created with ``useradd`` on first use), else as
    ``nobody``.
    """
    if os.geteuid() != 0:
        return None
    with _os_user_lock:
        if _os_user_cache:
            return _os_user_cache[0]
        requested = os.environ.get("PGWIRE_OS_USER")
        if requested:
            user = _lookup(requested)
            if user is None or user.uid == 0:
                raise ClusterError(
                    f"PGWIRE_OS_USER={requested!r} is not an existing unprivileged user"
                )
        else:
            user = _lookup(DEDICATED_USER) or _create_dedicated_user() or _lookup("nobody")
            if user is None:
                raise ClusterError(
                    "running as root, but found no unprivileged user to run the servers as: "
                    f"create a user {DEDICATED_USER!r} or set PGWIRE_OS_USER"
                )
        _os_user_cache.append(user)
        return user


def chown_to(path: Path, user: OSUser | None) -> None:
    """Give ``path`` to ``user`` (no-op when servers run as ourselves)."""
    if user is not None:
        os.chown(path, user.uid, user.gid)


def traversable_by_others(path: Path) -> bool:
    """True when every ancestor of ``path`` can be entered by any user."""
    current = path.resolve()
    for directory in (current, *current.parents):
        try:
            mode = directory.stat().st_mode
        except OSError:
            return False
        if not mode & 0o001:
            return False
    return True


_OWNER_FILE = ".pgwire-owner"


def _process_identity(pid: int) -> str | None:
    """``pid:starttime`` of a live process (None if gone); guards against pid reuse."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return None
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return f"{pid}:?"
    if fields[0] == "Z":
        return None
    return f"{pid}:{fields[19]}"


def make_temp_dir(prefix: str, parent: str | None = None) -> Path:
    """A new temporary directory, tagged with our identity.

    Directories with the same prefix whose owner process no longer exists
    (a test run killed with SIGKILL cannot clean up) are removed first.
    """
    parent_dir = Path(parent or tempfile.gettempdir())
    try:
        candidates = list(parent_dir.glob(prefix + "*"))
    except OSError:
        candidates = []
    for candidate in candidates:
        try:
            owner = (candidate / _OWNER_FILE).read_text().strip()
            pid = int(owner.split(":", 1)[0])
        except (OSError, ValueError):
            continue
        if _process_identity(pid) not in (owner, f"{pid}:?"):
            shutil.rmtree(candidate, ignore_errors=True)
    base = Path(tempfile.mkdtemp(prefix=prefix, dir=parent_dir)).resolve()
    identity = _process_identity(os.getpid()) or f"{os.getpid()}:?"
    (base / _OWNER_FILE).write_text(identity + "\n")
    return base


# --------------------------------------------------------------------------
# Ports
# --------------------------------------------------------------------------


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago.

    Another process may take it before we use it: callers retry on a bind
    failure.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def accepts_tcp(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts a TCP connection on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


# --------------------------------------------------------------------------
# Spawning and killing
# --------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_prctl: Callable[..., int] | None = None
_prctl_resolved = False


def _get_prctl() -> Callable[..., int] | None:
    # Resolved in the parent: the child after fork must not load libraries.
    global _prctl, _prctl_resolved
    if not _prctl_resolved:
        _prctl_resolved = True
        if os.uname().sysname == "Linux":
            try:
                func = ctypes.CDLL(None, use_errno=True).prctl
                func.restype = ctypes.c_int
                func.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
                _prctl = func
            except (OSError, AttributeError):
                _prctl = None
    return _prctl


def _death_signal_preexec(sig: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` making the child receive ``sig`` when we die, if possible.

    Linux ties the parent-death signal to the *thread* that forked, so it is
    only used when spawning from the main thread (a worker thread ending would
    otherwise kill the server). It is set after the uid switch, which would
    clear it.
    """
    prctl = _get_prctl()
    if prctl is None or threading.current_thread() is not threading.main_thread():
        return None
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os.kill(os.getpid(), sig)

    return preexec


def server_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """Our environment without libpq/server variables that could interfere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"
    env.pop("LANG", None)
    if extra:
        env.update(extra)
    return env


def spawn(
    args: Sequence[str | os.PathLike[str]],
    *,
    user: OSUser | None,
    cwd: Path,
    output: IO[Any] | int,
    death_signal: int,
    env: Mapping[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start a long-running server process in its own session.

    It runs as ``user`` (when given), in its own process group (so a Ctrl-C
    in the terminal reaches only us and the group can be killed whole), with
    stdout and stderr going to ``output``, and gets ``death_signal`` if this
    process dies first (Linux, main thread only).
    """
    kwargs: dict[str, Any] = {}
    if user is not None:
        kwargs.update(user=user.uid, group=user.gid, extra_groups=[])
    preexec = _death_signal_preexec(death_signal)
    if preexec is not None:
        kwargs["preexec_fn"] = preexec
    return subprocess.Popen(
        [os.fspath(a) for a in args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=output,
        stderr=subprocess.STDOUT if output is not subprocess.DEVNULL else subprocess.DEVNULL,
        env=dict(env) if env is not None else server_env(),
        start_new_session=True,
        **kwargs,
    )


def run_as(
    args: Sequence[str | os.PathLike[str]],
    *,
    user: OSUser | None,
    cwd: Path,
    timeout: float = 120,
    env: Mapping[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a short command as ``user`` and capture its output (never raises on failure)."""
    kwargs: dict[str, Any] = {}
    if user is not None:
        kwargs.update(user=user.uid, group=user.gid, extra_groups=[])
    return subprocess.run(
        [os.fspath(a) for a in args],
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(env) if env is not None else server_env(),
        check=False,
        **kwargs,
    )


def _signal_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
    except OSError as exc:  # pragma: no cover - defensive
        if exc.errno not in (errno.ESRCH, errno.EPERM):
            raise


def terminate(
    proc: subprocess.Popen[bytes],
    signals: Sequence[tuple[int, float]],
) -> None:
    """Stop ``proc`` and its process group.

    Each ``(signal, seconds)`` pair is sent to the process in turn until it
    exits within the given time; then whatever is left of its process group
    is killed with SIGKILL.
    """
    pgid = proc.pid  # start_new_session makes the child a group leader
    for sig, wait in signals:
        if proc.poll() is not None:
            break
        try:
            proc.send_signal(sig)
        except ProcessLookupError:
            break
        try:
            proc.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    if proc.poll() is None:
        _signal_group(pgid, signal.SIGKILL)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - unkillable
            pass
    # Children (backends) can outlive a crashed or killed postmaster.
    _signal_group(pgid, signal.SIGKILL)


def group_alive(pgid: int) -> bool:
    """True when any process of process group ``pgid`` is still running."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_until(predicate: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a text file, or a note that it cannot be read."""
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(cannot read {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:])


# --------------------------------------------------------------------------
# Cleaning up at exit and on SIGTERM/SIGHUP
# --------------------------------------------------------------------------


class Stoppable(Protocol):
    """Anything with an idempotent ``stop()``."""

    def stop(self) -> None: ...


_active: dict[int, tuple[int, Stoppable]] = {}
_active_lock = threading.Lock()
_handlers_installed = False


def _cleanup_all() -> None:
    # A forked child (multiprocessing, a test that forks) inherits this
    # registry: each process stops only the servers it started itself.
    me = os.getpid()
    with _active_lock:
        items = [item for owner, item in _active.values() if owner == me]
    for item in reversed(items):
        try:
            item.stop()
        except Exception:  # noqa: BLE001 - best effort at exit
            pass


def _on_fatal_signal(signum: int, frame: object) -> None:
    _cleanup_all()
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def _install_handlers() -> None:
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    _handlers_installed = True
    for sig in (signal.SIGTERM, signal.SIGHUP):
        try:
            if signal.getsignal(sig) is signal.SIG_DFL:
                signal.signal(sig, _on_fatal_signal)
        except (ValueError, OSError):  # pragma: no cover - exotic embedding
            pass


def register(item: Stoppable) -> None:
    """Stop ``item`` at interpreter exit or on SIGTERM/SIGHUP unless unregistered first."""
    with _active_lock:
        _active[id(item)] = (os.getpid(), item)
    _install_handlers()


def unregister(item: Stoppable) -> None:
    """Forget ``item`` (it has been stopped)."""
    with _active_lock:
        _active.pop(id(item), None)


atexit.register(_cleanup_all)
