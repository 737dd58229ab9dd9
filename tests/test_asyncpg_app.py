"""An application written for asyncpg runs on pgwire with only its import changed.

tests/data/asyncpg_app.py uses asyncpg's documented API (connect, pool,
prepared statements, cursors, transactions, COPY, listeners, codecs).  It
runs twice against the same server: on asyncpg itself, and with ``import
asyncpg`` replaced by ``import pgwire as asyncpg``.  The two reports must
be equal, so the test fails when pgwire differs from asyncpg anywhere the
application looks.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from pgwire.testing import TemporaryCluster

APP = Path(__file__).parent / "data" / "asyncpg_app.py"


def _load(source: str, name: str) -> ModuleType:
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, str(APP), "exec"), module.__dict__)  # noqa: S102
    return module


def _run(module: ModuleType, dsn: str) -> Any:
    return asyncio.run(module.run(dsn))


def test_an_asyncpg_application_runs_unchanged(cluster: TemporaryCluster) -> None:
    source = APP.read_text()
    assert source.count("import asyncpg\n") == 1 and "pgwire" not in source.split('"""', 2)[2]
    dsn = cluster.dsn()
    expected = _run(_load(source, "app_on_asyncpg"), dsn)
    ported = source.replace("import asyncpg\n", "import pgwire as asyncpg\n")
    got = _run(_load(ported, "app_on_pgwire"), dsn)
    assert got == expected
    # And what the application saw is what it should (not two equal failures).
    assert expected["item3"] == (3, 30) and expected["check"] == "23514"
    assert expected["unique"] == ("23505", "app_items_name_key")
    assert expected["qty"][0] == ("item1", 5)
    assert expected["attrs_row"] == {"colour": "red", "tags": ["a"]}
    assert expected["cursor"] == ([f"item{i}" for i in range(1, 6)], [1, 2], [4, 5])
    assert expected["copy_out"] == "item3\nitem4\nitem5\n"
    assert expected["notify"] == ("app_events", "restocked")
    assert expected["pool"] == ({"red"}, 25, 4)
    assert sys.modules.get("app_on_pgwire") is None
