"""``python -m pgwire.testing``: start a throwaway PostgreSQL server and wait for Ctrl-C."""

from pgwire.testing import main

raise SystemExit(main())
