"""Build hook for pgwire's optional compiled modules (the metadata is in pyproject.toml).

The hot modules listed in ``pgwire/_build.py`` (``COMPILED_MODULES``) are
ordinary ``.py`` files; with Cython (pure Python mode) they are compiled into
extension modules of the same name, next to their source, using the types
declared in the ``.pxd`` file beside each one.  See ``pgwire/_build.py`` for
how the build is chosen at import time.

The extensions are optional: without Cython, without a C compiler, or if
compiling fails, the build goes on and pgwire runs as pure Python.

Environment variables:

* ``PGWIRE_NO_EXTENSIONS=1``: do not compile anything.
* ``PGWIRE_REQUIRE_EXTENSIONS=1``: fail the build if anything cannot be
  compiled (CI uses it, so a broken build is not silently pure Python).

A source checkout is compiled in place with::

    python setup.py build_ext --inplace

``pip install -e .`` does the same (``scripts/setup.sh`` runs both as needed);
``pip install --no-build-isolation .`` builds with the Cython already installed.
"""

from __future__ import annotations

import ast
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = Path(__file__).resolve().parent

# Compiler directives for every module.  Annotations are documentation only:
# types come from the .pxd files, so a ``x: int`` never turns into a C type
# (or into an isinstance check) behind the reader's back.
DIRECTIVES = {
    "language_level": 3,
    "annotation_typing": False,
    "embedsignature": True,
    # "if cython.compiled: return ..." leaves the pure Python code after it.
    "warn.unreachable": False,
}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


def compiled_modules() -> list[str]:
    """``COMPILED_MODULES`` from pgwire/_build.py, read without importing pgwire."""
    source = (ROOT / "pgwire" / "_build.py").read_text(encoding="utf-8")
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "COMPILED_MODULES" for t in targets):
                assert node.value is not None
                return list(ast.literal_eval(node.value))
    raise RuntimeError("COMPILED_MODULES not found in pgwire/_build.py")


def _say(message: str) -> None:
    print(f"pgwire setup.py: {message}", file=sys.stderr)


class OptionalBuildExt(build_ext):
    """Cythonize, then compile each module; any failure means pure Python."""

    def finalize_options(self) -> None:
        super().finalize_options()
        if self.parallel is None and (os.cpu_count() or 1) > 1:
            self.parallel = os.cpu_count()

    def run(self) -> None:
        if not self.extensions:
            return
        try:
            from Cython.Build import cythonize
        except ImportError:
            self._give_up("Cython is not installed")
            return
        try:
            cythonized = cythonize(
                self.extensions,
                compiler_directives=DIRECTIVES,
                include_path=[str(ROOT)],
                nthreads=self.parallel or 0,
                quiet=True,
            )
        except Exception as exc:
            self._give_up(f"cythonize failed: {exc}")
            return
        # Keep setuptools' Extension objects (finalize_options prepared
        # them); only their sources change, from .py to the generated .c.
        sources = {ext.name: ext.sources for ext in cythonized}
        for ext in self.extensions:
            ext.sources = sources[ext.name]
        try:
            super().run()
        except Exception as exc:
            self._give_up(f"compiling failed: {exc}")

    def build_extension(self, ext: Extension) -> None:
        try:
            super().build_extension(ext)
        except Exception as exc:
            self._give_up(f"compiling {ext.name} failed: {exc}")

    def _give_up(self, why: str) -> None:
        if _flag("PGWIRE_REQUIRE_EXTENSIONS"):
            raise RuntimeError(f"{why} (PGWIRE_REQUIRE_EXTENSIONS is set)")
        _say(f"{why}; pgwire will run as pure Python")


def extensions() -> list[Extension]:
    if _flag("PGWIRE_NO_EXTENSIONS"):
        _say("PGWIRE_NO_EXTENSIONS is set: not compiling")
        return []
    if sys.implementation.name != "cpython":
        return []
    return [
        Extension(name, [name.replace(".", "/") + ".py"], extra_compile_args=["-g0"])
        for name in compiled_modules()
    ]


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalBuildExt})
