"""The blocking API is generated from the asyncio API: the files are up to date, and
the transform (scripts/unasync.py) does what it says."""

from __future__ import annotations

import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

import pytest

import pgwire
import pgwire.sync

ROOT = Path(__file__).resolve().parents[3]


def _load_unasync() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


unasync = _load_unasync()


def test_generated_files_are_up_to_date() -> None:
    expected = unasync.generated_files()
    assert expected, "no asyncio sources found"
    stale = [
        str(path.relative_to(ROOT)) for path, text in expected.items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"stale generated files (run python scripts/unasync.py): {stale}"
    extra = [path.name for path in unasync.TARGET_DIR.glob("*.py") if path not in expected]
    assert not extra, f"files in pgwire/api/_sync with no asyncio source: {extra}"


SOURCE = '''"""Waits with ``async with conn.pipeline()``."""

from collections.abc import AsyncIterator, Iterator

from ..flavours import AsyncFlavour as flavour
from ...drivers.aio import AsyncioDriver


class Thing:
    async def __aenter__(self) -> "Thing":
        await self.start()
        return self

    async def rows(self) -> AsyncIterator[int]:
        async for row in self.source():
            yield row

    if True:  # ASYNC
        def __await__(self):
            return self.start().__await__()
    else:
        def open(self) -> None:
            self.start()

    def after(self, driver: AsyncioDriver) -> str:
        flavour.owner()
        return "use it inside 'async with conn.pipeline()'"
'''


def test_transform() -> None:
    out = unasync.convert(SOURCE, "pgwire/api/_async/thing.py")
    assert out.startswith("# Generated from pgwire/api/_async/thing.py")
    assert "async " not in out and "Async" not in out
    assert "def __enter__(self)" in out and "self.start()\n" in out
    assert "await" not in out
    assert "for row in self.source():" in out
    assert "from ..flavours import SyncFlavour as flavour" in out
    assert "from ...drivers.blocking import BlockingDriver" in out
    # The ASYNC block is gone; its else branch took its place, dedented.
    assert "__await__" not in out and "if True" not in out
    assert "\n    def open(self) -> None:\n        self.start()\n" in out
    # Iterator was imported twice once AsyncIterator became Iterator: once now.
    assert "from collections.abc import Iterator\n" in out
    assert "'with conn.pipeline()'" in out
    compile(out, "thing.py", "exec")


def test_async_blocks_without_else_leave_the_spacing() -> None:
    """The blank lines around a dropped block become one run, the longer of the two."""
    source = "class A:\n    x = 1\n\n    if True:  # ASYNC\n        y = 2\n\n\nclass B:\n    pass\n"
    assert unasync.drop_async_blocks(source) == "class A:\n    x = 1\n\n\nclass B:\n    pass\n"
    imports = "import a\n\nif True:  # ASYNC\n    import b\n\nT = 1\n"
    assert unasync.drop_async_blocks(imports) == "import a\n\nT = 1\n"


@pytest.mark.parametrize(
    ("async_class", "sync_class"),
    [
        (pgwire.Connection, pgwire.sync.Connection),
        (pgwire.PreparedStatement, pgwire.sync.PreparedStatement),
        (pgwire.Transaction, pgwire.sync.Transaction),
        (pgwire.Cursor, pgwire.sync.Cursor),
        (pgwire.Pipeline, pgwire.sync.Pipeline),
    ],
)
def test_every_coroutine_became_a_function(async_class: type, sync_class: type) -> None:
    for name, _ in inspect.getmembers(async_class, inspect.iscoroutinefunction):
        sync_name = unasync.NAMES.get(name, name)
        sync_member = getattr(sync_class, sync_name)
        assert callable(sync_member) and not inspect.iscoroutinefunction(sync_member), name
