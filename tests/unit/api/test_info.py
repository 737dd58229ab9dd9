"""ServerVersion as asyncpg reports it, from the server_version parameter."""

from __future__ import annotations

import pytest

from pgwire.api.info import ServerVersion, parse_server_version


@pytest.mark.parametrize("text, expected", [
    ("15.18 (Debian 15.18-0+deb12u1)", (15, 0, 18, "final", 0)),
    ("17.2", (17, 0, 2, "final", 0)),
    ("10.0", (10, 0, 0, "final", 0)),
    ("9.6.24", (9, 6, 24, "final", 0)),
    ("17beta1", (17, 0, 0, "beta", 1)),
    ("18devel", (18, 0, 0, "devel", 0)),
    ("16rc1", (16, 0, 0, "candidate", 1)),
    ("nonsense", (0, 0, 0, "final", 0)),
])
def test_server_versions(text: str, expected: tuple[object, ...]) -> None:
    version = parse_server_version(text)
    assert version == expected and isinstance(version, ServerVersion)
    assert version[:2] == expected[:2]
