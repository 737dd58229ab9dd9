# What mypy sees for ``import cython`` in pgwire's compiled modules: the names
# pgwire uses, typed as its pure-Python stand-in types them (Cython itself
# ships no annotations, and its decorators would make functions untyped).
from typing import Any

from pgwire._cython_shim import Py_ssize_t as Py_ssize_t
from pgwire._cython_shim import bint as bint
from pgwire._cython_shim import cast as cast
from pgwire._cython_shim import cdivision as cdivision
from pgwire._cython_shim import compiled as compiled
from pgwire._cython_shim import locals as locals
from pgwire._cython_shim import longlong as longlong

char: Any

def declare(type_: Any, value: Any = ...) -> Any: ...
