"""``python -m pgwire.replication``: see :mod:`pgwire.replication.cli`."""

import sys

from .cli import main

sys.exit(main())
