"""libpq's configuration files: the connection service file and the password file.

* Service file (PostgreSQL docs, "The Connection Service File", section
  32.17): ``[name]`` sections of ``keyword=value`` lines; the user's file
  (``PGSERVICEFILE`` or ``~/.pg_service.conf``) is searched first, then
  ``pg_service.conf`` in ``PGSYSCONFDIR``.
* Password file (section 32.16, "The Password File"):
  ``hostname:port:database:username:password`` lines, ``*`` matching any
  value, ``\\:`` and ``\\\\`` escaping; on POSIX the file is ignored (with a
  warning) when group or others may read it, as libpq does.
"""

from __future__ import annotations

import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..exceptions import ClientConfigurationError
from .keywords import KEYWORDS, NOT_IN_SERVICE_FILE

# Where libpq looks for the system-wide service file when PGSYSCONFDIR is
# not set (Debian's libpq is built with this directory).
DEFAULT_SYSCONFDIR = "/etc/postgresql-common"


def home_directory() -> Path:
    """libpq's notion of the home directory: $HOME, else the password database."""
    return Path(_home())


def _home() -> str:
    return os.environ.get("HOME") or os.path.expanduser("~")


def service_file_candidates(servicefile: str | None) -> list[Path]:
    user_file = servicefile or os.environ.get("PGSERVICEFILE")
    candidates = [Path(user_file) if user_file else home_directory() / ".pg_service.conf"]
    sysconfdir = os.environ.get("PGSYSCONFDIR", DEFAULT_SYSCONFDIR)
    candidates.append(Path(sysconfdir) / "pg_service.conf")
    return candidates


def read_service(name: str, servicefile: str | None = None) -> dict[str, str]:
    """The keywords of service ``name``; refuse an unknown service."""
    for path in service_file_candidates(servicefile):
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except (OSError, UnicodeDecodeError) as exc:
            raise ClientConfigurationError(f'could not read service file "{path}": {exc}') from None
        found = _parse_service_file(text, path, name)
        if found is not None:
            return found
    raise ClientConfigurationError(f'definition of service "{name}" not found')


def _parse_service_file(text: str, path: Path, name: str) -> dict[str, str] | None:
    values: dict[str, str] | None = None
    in_section = False
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if values is not None:  # the section we wanted has ended
                return values
            in_section = line == f"[{name}]"
            if in_section:
                values = {}
            continue
        if not in_section:
            continue
        key, has_value, value = line.partition("=")
        key, value = key.strip(), value.strip()
        if not has_value:
            raise ClientConfigurationError(f'syntax error in service file "{path}", line {number}')
        if key in NOT_IN_SERVICE_FILE:
            raise ClientConfigurationError(
                f'nested "{key}" specifications not supported in service file "{path}", '
                f"line {number}"
            )
        if key not in KEYWORDS:
            raise ClientConfigurationError(
                f'invalid connection option "{key}" in service file "{path}", line {number}'
            )
        assert values is not None
        values.setdefault(key, value)  # the first definition wins, as in libpq
    return values


@dataclass(frozen=True)
class PasswordFile:
    """A password file to look up, and why it would be skipped."""

    path: Path
    #: Set when the file exists but is ignored (permissions, not a plain file).
    ignored_because: str | None = None


def password_file(passfile: str | None) -> PasswordFile:
    # Looked up on every connect: the path as a string first (one Path made,
    # not three), stat()ed directly.
    name = passfile or os.path.join(_home(), ".pgpass")
    path = Path(name)
    try:
        info = os.stat(name)
    except OSError:
        return PasswordFile(path, "it does not exist")
    if not stat.S_ISREG(info.st_mode):
        reason = f'password file "{path}" is not a plain file'
        warnings.warn(reason, stacklevel=4)
        return PasswordFile(path, reason)
    if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        reason = (
            f'password file "{path}" has group or world access; '
            "permissions should be u=rw (0600) or less"
        )
        warnings.warn(reason, stacklevel=4)
        return PasswordFile(path, reason)
    return PasswordFile(path)


def _split_fields(line: str) -> list[str]:
    fields: list[str] = []
    current: list[str] = []
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch == "\\" and i + 1 < n:
            current.append(line[i + 1])
            i += 2
            continue
        if ch == ":":
            fields.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    fields.append("".join(current))
    return fields


def _field_matches(pattern: str, value: str) -> bool:
    return pattern == "*" or pattern == value


def lookup_password(
    file: PasswordFile, host: str, port: str, database: str, user: str
) -> str | None:
    """The password of the first matching line, or None.

    ``host`` is empty for the default Unix socket (matched as ``localhost``).
    """
    if file.ignored_because is not None:
        return None
    try:
        text = file.path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    if not host:
        host = "localhost"  # libpq matches the default socket as localhost
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        fields = _split_fields(line)
        if len(fields) < 5:
            continue
        if (
            _field_matches(fields[0], host)
            and _field_matches(fields[1], port)
            and _field_matches(fields[2], database)
            and _field_matches(fields[3], user)
        ):
            return fields[4] or None
    return None
