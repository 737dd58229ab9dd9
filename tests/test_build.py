"""Which build is loaded (compiled or pure Python), and the switch between them.

scripts/test.sh runs the whole suite twice: as built, then with
``PGWIRE_NO_EXTENSIONS=1``.  Under CI the first run must really be the
compiled build, so that a build that failed silently (and left pure Python)
fails here instead of passing unnoticed.
"""

from __future__ import annotations

import ast
import importlib.machinery
import os
import subprocess
import sys
from pathlib import Path

import pytest

import pgwire
from pgwire import _build

ROOT = Path(__file__).resolve().parent.parent


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def _is_extension(path: str | None) -> bool:
    return bool(path) and str(path).endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def test_compiled_flag_matches_the_loaded_modules() -> None:
    info = _build.build_info()
    assert info["compiled"] is pgwire.compiled
    for name, path in info["modules"].items():
        assert path is not None, f"{name} is not imported"
        assert _is_extension(path) is pgwire.compiled, (name, path)
        assert sys.modules[name].__file__ == path


def test_environment_variable_forces_pure_python() -> None:
    if _env_flag("PGWIRE_NO_EXTENSIONS"):
        assert pgwire.compiled is False
        assert "PGWIRE_NO_EXTENSIONS" in _build.build_info()["reason"]


@pytest.mark.skipif(
    not _env_flag("CI") or _env_flag("PGWIRE_NO_EXTENSIONS"),
    reason="only the compiled run under CI requires the compiled build",
)
def test_ci_runs_the_compiled_build() -> None:
    assert pgwire.compiled, (
        "CI must test the compiled build, but pure Python is loaded: "
        f"{_build.build_info()['reason']} (see scripts/setup.sh)"
    )


def test_pure_python_is_loaded_even_beside_extensions() -> None:
    """PGWIRE_NO_EXTENSIONS=1 loads every hot module from its .py file."""
    code = (
        "import pgwire, pgwire._build as b, sys\n"
        "assert not pgwire.compiled, b.build_info()\n"
        "for name in b.COMPILED_MODULES:\n"
        "    assert sys.modules[name].__file__.endswith('.py'), sys.modules[name].__file__\n"
        "import pgwire.protocol.wire as w\n"
        "assert w.MessageReader.__module__ == 'pgwire.protocol.wire'\n"
    )
    env = dict(os.environ, PGWIRE_NO_EXTENSIONS="1", PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def test_pure_python_runs_without_cython() -> None:
    """Without Cython installed, the modules take cython.* from pgwire._cython_shim."""
    code = (
        "import sys\n"
        "sys.modules['cython'] = None  # as if Cython were not installed\n"
        "import struct, pgwire, pgwire._build as b\n"
        "for name in b.COMPILED_MODULES:\n"
        "    shim = getattr(sys.modules[name], 'cython', None)  # None: uses no cython.*\n"
        "    assert shim is None or shim.__name__ == 'pgwire._cython_shim', name\n"
        "from pgwire.types.rows import RowDecoder\n"
        "from pgwire.types import numeric\n"
        "from pgwire.protocol import wire\n"
        "row = RowDecoder([numeric.Int4Codec(), numeric.NumericCodec()], {'a': 0, 'b': 1})\n"
        "n = numeric.encode_numeric(__import__('decimal').Decimal('1.50'))\n"
        "body = struct.pack('!hi', 2, 4) + struct.pack('!i', 7) + struct.pack('!i', len(n)) + n\n"
        "assert tuple(row(body)) == (7, __import__('decimal').Decimal('1.50'))\n"
        "assert wire.bind('', 's', [1], [b'x'], [1]).startswith(b'B')\n"
    )
    env = dict(os.environ, PGWIRE_NO_EXTENSIONS="1", PYTHONPATH=str(ROOT))
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=ROOT)


def test_setup_py_compiles_the_listed_modules() -> None:
    """setup.py reads COMPILED_MODULES from _build.py; each has its source and .pxd."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    assert any(
        isinstance(node, ast.FunctionDef) and node.name == "compiled_modules" for node in tree.body
    )
    for name in _build.COMPILED_MODULES:
        base = ROOT.joinpath(*name.split("."))
        assert base.with_suffix(".py").is_file(), name
        assert base.with_suffix(".pxd").is_file(), name
