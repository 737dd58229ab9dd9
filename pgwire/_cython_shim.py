"""Stand-in for the ``cython`` module when Cython is not installed.

The compiled modules (see :mod:`pgwire._build`) start with::

    try:
        import cython
    except ModuleNotFoundError:
        from pgwire import _cython_shim as cython

The Cython compiler only recognises the literal ``import cython``; when the
module runs as plain Python without Cython, this shim supplies the few names
they use: ``cython.compiled`` is False and the decorators change nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])

compiled = False


def _keep(fn: F) -> F:
    return fn


def locals(**types: Any) -> Callable[[F], F]:  # noqa: A001 - Cython's name
    """``@cython.locals(name=type, ...)``: types for the compiler only."""
    return _keep


def cdivision(enabled: bool) -> Callable[[F], F]:
    """``@cython.cdivision(True)``: C division for the compiler only."""
    return _keep


def cast(type_: Any, value: Any, typecheck: bool = False) -> Any:
    """``cython.cast(T, v)``: returns ``v`` unchanged."""
    return value


# C types named in @cython.locals.
Py_ssize_t = int
bint = bool
longlong = int
