"""Every public name of pgwire has a docstring (the API reference is built from them).

Public means: the names in ``__all__`` of ``pgwire``, ``pgwire.sync``,
``pgwire.dbapi``, ``pgwire.replication`` and ``pgwire.types``, and the
methods and properties those classes define (not ``_private`` ones).
Exception classes are left out: one per SQLSTATE, documented together.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import pgwire
import pgwire.dbapi
import pgwire.replication
import pgwire.sync
import pgwire.types

MODULES = (pgwire, pgwire.sync, pgwire.dbapi, pgwire.replication, pgwire.types)


def _public_objects() -> Iterator[tuple[str, Any]]:
    seen: set[int] = set()
    for module in MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.ismodule(obj) or id(obj) in seen:
                continue
            if isinstance(obj, type) and issubclass(obj, BaseException):
                continue
            if not (inspect.isclass(obj) or inspect.isroutine(obj)):
                continue  # constants
            seen.add(id(obj))
            yield f"{module.__name__}.{name}", obj


def _members(cls: type) -> Iterator[tuple[str, Any]]:
    for attr, value in vars(cls).items():
        if attr.startswith("_") or isinstance(value, type):
            continue
        if isinstance(value, property):
            yield attr, value.fget
        elif isinstance(value, (staticmethod, classmethod)):
            yield attr, value.__func__
        elif inspect.isroutine(value):
            yield attr, value


def test_every_public_name_and_member_has_a_docstring() -> None:
    missing = []
    for qualname, obj in _public_objects():
        if not inspect.getdoc(obj):
            missing.append(qualname)
        if inspect.isclass(obj):
            for attr, member in _members(obj):
                if not (getattr(member, "__doc__", None) or "").strip():
                    missing.append(f"{qualname}.{attr}")
    assert not missing, "no docstring: " + ", ".join(missing)


def test_the_walk_sees_the_api() -> None:
    # The test above must be able to fail: it walks the real classes.
    names = dict(_public_objects())
    assert {"pgwire.connect", "pgwire.Connection", "pgwire.sync.Connection",
            "pgwire.dbapi.Cursor", "pgwire.Pool"} <= set(names)
    members = dict(_members(pgwire.Connection))
    assert {"fetch", "fetchrow", "execute", "is_closed", "transaction"} <= set(members)
