"""What a test does when something it needs is not on this machine.

Outside CI a missing server, binary or optional package skips the test; under
CI (``CI`` set to anything but an empty or false value) it fails, because
scripts/setup.sh and the ``test`` extra install everything the suite needs
and a skip there would hide a broken set-up.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def under_ci() -> bool:
    """True when the ``CI`` environment variable is set to a true value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing(what: str, reason: object) -> NoReturn:
    """Skip the calling test because *what* is unavailable, or fail under CI."""
    message = f"{what} not available: {reason}"
    if under_ci():
        pytest.fail(f"{message} (CI must run these tests: see scripts/setup.sh)", pytrace=False)
    pytest.skip(message)
