"""Bootstraps SQLAlchemy's pytest plugin for its dialect compliance suite.

The ``postgresql+pgwire`` entry points come with pgwire's installation;
registering them here too lets the suite run from a source checkout.
"""

import pytest
from sqlalchemy.dialects import registry

registry.register("postgresql.pgwire", "pgwire.sqlalchemy", "PGDialect_pgwire")
registry.register("postgresql.pgwire_async", "pgwire.sqlalchemy", "PGDialectAsync_pgwire")

pytest.register_assert_rewrite("sqlalchemy.testing.assertions")

from sqlalchemy.testing.plugin.pytestplugin import *  # noqa: E402,F403
