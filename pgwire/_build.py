"""Which build of pgwire's hot modules is loaded: compiled (Cython) or pure Python.

The modules in :data:`COMPILED_MODULES` are plain Python files that Cython
compiles as they are ("pure Python mode", the SQLAlchemy 2.1 way): static
types come from the ``.pxd`` file beside each ``.py`` and from a few
``cython.*`` decorators, which are no-ops when the module runs as Python.
``setup.py`` builds each of them into an extension module of the *same name*
placed beside its source (``wire.py`` -> ``wire.cpython-311-....so``), so one
source serves both builds and no import anywhere names a build.

Python's import system prefers an extension module to a ``.py`` file of the
same name, so a compiled build is picked up by plain imports.  This module,
imported first by ``pgwire/__init__.py``, decides once per process which
build every hot module comes from -- all compiled or all pure Python, never
a mix (the compiled modules call each other's C functions directly):

* ``PGWIRE_NO_EXTENSIONS=1`` (any value but ``""``/``0``): pure Python, even
  though extension modules exist;
* an extension module is missing (no compiler, ``pip install`` without
  Cython, a build that failed): pure Python;
* in a source checkout (a ``pyproject.toml`` beside the package), an
  extension module older than its ``.py`` or ``.pxd`` (or ``_bytes.pxd``,
  which every compiled module uses): the build is stale,
  so pure Python, with a :class:`RuntimeWarning` naming the rebuild command
  (``python setup.py build_ext --inplace``; ``scripts/setup.sh`` does it);
* a compiled module that fails to import (say, built for another
  interpreter): pure Python, with a warning.

Pure Python is then forced by a finder at the front of ``sys.meta_path``
that loads these module names from their ``.py`` files and declines every
other name.

Check what is loaded with ``pgwire.compiled`` (a bool) or, for the reason,
``pgwire._build.build_info()``; from a shell::

    python -c "import pgwire._build as b; print(b.build_info())"
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import Any

__all__ = ["COMPILED_MODULES", "build_info", "compiled"]

#: Modules compiled by setup.py, in import order (a module after those it
#: cimports).  setup.py reads this tuple from this file's source.
COMPILED_MODULES: tuple[str, ...] = (
    "pgwire.types.codec",
    "pgwire.types.numeric",
    "pgwire.types.strings",
    "pgwire.types.datetimes",
    "pgwire.types.uuids",
    "pgwire.types.jsons",
    "pgwire.types.arrays",
    "pgwire.types.record",
    "pgwire.types.network",
    "pgwire.types.bitstrings",
    "pgwire.types.geometry",
    "pgwire.types.system",
    "pgwire.types.ranges",
    "pgwire.types.composites",
    "pgwire.types.rows",
    "pgwire.protocol.wire",
    "pgwire.types.copyrows",
    "pgwire.protocol.messages",
    "pgwire.protocol.engine",
    "pgwire.protocol.operations",
)

_ENV = "PGWIRE_NO_EXTENSIONS"
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _source_path(name: str) -> str:
    return os.path.join(_PACKAGE_DIR, *name.split(".")[1:]) + ".py"


def _extension_path(name: str) -> str | None:
    base = _source_path(name)[: -len(".py")]
    for suffix in importlib.machinery.EXTENSION_SUFFIXES:
        if os.path.exists(base + suffix):
            return base + suffix
    return None


def _env_disabled() -> bool:
    return os.environ.get(_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _stale(name: str, extension: str) -> bool:
    """True if the module's .py or .pxd (or the _bytes.pxd it uses) changed after it was built."""
    built = os.path.getmtime(extension)
    source = _source_path(name)
    pxd = source[: -len(".py")] + ".pxd"
    paths = [source, pxd]
    if os.path.exists(pxd):
        with open(pxd, encoding="utf-8") as file:
            if "pgwire._bytes" in file.read():
                paths.append(os.path.join(_PACKAGE_DIR, "_bytes.pxd"))
    return any(os.path.exists(path) and os.path.getmtime(path) > built for path in paths)


class _PurePythonFinder(importlib.abc.MetaPathFinder):
    """Loads the compiled modules from their ``.py`` files, ignoring extensions."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in COMPILED_MODULES:
            return None
        return importlib.util.spec_from_file_location(fullname, _source_path(fullname))


def _choose() -> tuple[bool, str]:
    if _env_disabled():
        return False, f"{_ENV} is set"
    in_checkout = os.path.exists(os.path.join(os.path.dirname(_PACKAGE_DIR), "pyproject.toml"))
    for name in COMPILED_MODULES:
        extension = _extension_path(name)
        if extension is None:
            return False, f"no compiled extension for {name} (built without Cython or a compiler)"
        if in_checkout and _stale(name, extension):
            warnings.warn(
                f"pgwire: the compiled {name} is older than its source; using pure Python. "
                "Rebuild with `python setup.py build_ext --inplace` (scripts/setup.sh does it).",
                RuntimeWarning,
                stacklevel=4,
            )
            return False, f"stale compiled extension for {name}"
    # Import them now, before any other pgwire module holds a reference, so
    # a broken build can still give way to pure Python.
    for name in COMPILED_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            for loaded in COMPILED_MODULES:
                sys.modules.pop(loaded, None)
            warnings.warn(
                f"pgwire: the compiled {name} failed to import ({exc}); using pure Python.",
                RuntimeWarning,
                stacklevel=4,
            )
            return False, f"compiled {name} failed to import: {exc}"
        if not _is_extension(module):
            return False, f"{name} was imported before pgwire chose its build"
    return True, "compiled with Cython"


def _is_extension(module: ModuleType) -> bool:
    origin = getattr(module, "__file__", None) or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


compiled, _reason = _choose()
if not compiled:
    sys.meta_path.insert(0, _PurePythonFinder())


def build_info() -> dict[str, Any]:
    """What is loaded: ``compiled``, ``reason`` and each hot module's file."""
    modules = {}
    for name in COMPILED_MODULES:
        module = sys.modules.get(name)
        modules[name] = getattr(module, "__file__", None) if module is not None else None
    return {"compiled": compiled, "reason": _reason, "modules": modules}
