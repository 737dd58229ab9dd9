"""``Record``: one result row, usable as a tuple and as a read-only mapping.

Compatible with asyncpg's ``Record``.  A row holds its values in one tuple
and shares one column-name -> index dict with every other row of its result
set, so no dict is built per row.

How the engine builds rows::

    mapping = RecordMapping(column_names)        # once per RowDescription
    row = record_class._make(mapping, values)    # per DataRow; values is a tuple

``_make`` is a classmethod that works for every subclass: a ``record_class``
given to ``connect()`` may add methods and attributes but must not rely on
``__new__`` or ``__init__`` running (``_make`` bypasses both), just as asyncpg
requires.  ``mapping`` may also be a plain ``dict[str, int]``; it then
cannot represent duplicate column names in ``keys()``, ``items()`` and
``repr()``.

Behaviour, as in asyncpg:

- ``r[0]``, ``r[-1]``: by position (``IndexError`` when out of range);
  ``r["id"]``: by column name (``KeyError`` when unknown); ``r[1:3]``: a tuple.
- ``len(r)``; ``iter(r)`` and ``values()`` give the values; ``keys()`` the
  names; ``items()`` ``(name, value)`` pairs; ``get(name, default=None)``
  looks up by name only.
- ``name in r`` tests column names, not values.
- Duplicate column names (``SELECT 1 AS a, 2 AS a``): ``r["a"]`` is the
  *last* such column; ``keys()``, ``items()`` and ``repr()`` list them all.
- A record equals another record or a tuple with equal values (names are
  not compared), orders like a tuple, and hashes like the tuple of its
  values.
- ``repr(r)`` is ``<Record id=1 name='x'>``.

Unlike asyncpg's, records pickle (subclasses too, if importable), keeping
column names and values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import lru_cache
from operator import itemgetter
from typing import Any, TypeVar

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

__all__ = ["Record", "RecordMapping", "recast", "record_values"]

_R = TypeVar("_R", bound="Record")


class RecordMapping(dict[str, int]):
    """Column name -> index for one result set, plus every name in column order.

    Build it once per RowDescription and pass it to ``Record._make`` for
    each row.  A name used by several columns maps to the last of them.
    """

    __slots__ = ("names",)

    names: tuple[str, ...]

    def __init__(self, names: Iterable[str]) -> None:
        names = tuple(names)
        # Later duplicates overwrite earlier ones: last column wins, as in asyncpg.
        super().__init__((name, index) for index, name in enumerate(names))
        self.names = names

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.names,))


@lru_cache(maxsize=256)
def _shared_mapping(names: tuple[str, ...]) -> RecordMapping:
    # Rows unpickled together share one mapping again, as they did before.
    return RecordMapping(names)


def _restore(cls: type[_R], names: tuple[str, ...] | dict[str, int], values: tuple[Any, ...]) -> _R:
    mapping = names if isinstance(names, dict) else _shared_mapping(names)
    return cls._make(mapping, values)


def _other_values(other: object) -> tuple[Any, ...] | None:
    if isinstance(other, Record):
        return other._values
    if isinstance(other, tuple):
        return other
    return None


class Record:
    """A result row: a tuple of values plus a shared name -> index mapping.

    Create rows with ``Record._make(mapping, values)``; see the module
    docstring for the full behaviour.
    """

    # Compiled, this is an extension type whose two fields are declared in
    # record.pxd (there, ``_values`` must be a tuple and both are read-only
    # from Python).
    __slots__ = ("_mapping", "_values")

    _mapping: Mapping[str, int]
    _values: tuple[Any, ...]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Not __new__: an extension type cannot define it, and _make never
        # calls __init__.
        raise TypeError(f"cannot create {type(self).__name__} instances directly; use _make()")

    @classmethod
    @cython.locals(record="Record")
    def _make(cls: type[_R], mapping: Mapping[str, int], values: tuple[Any, ...]) -> _R:
        """Return a ``cls`` row over ``values`` (a tuple), sharing ``mapping``."""
        record = Record.__new__(cls)
        record._mapping = mapping
        record._values = values
        return record

    # -- sequence and mapping access -------------------------------------

    # (No typing overloads here: Cython would compile them into the class,
    # unused, and the C compiler warn about them.)
    def __getitem__(self, key: Any) -> Any:  # an int, a column name or a slice
        if key.__class__ is str:
            try:
                return self._values[self._mapping[key]]
            except KeyError:
                raise KeyError(key) from None
        try:
            return self._values[key]  # int, negative int, slice
        except IndexError:
            raise IndexError("record index out of range") from None
        except TypeError:
            pass  # not a position: try it as a name (str subclasses, ...)
        try:
            return self._values[self._mapping[key]]
        except (KeyError, TypeError):
            raise KeyError(key) from None

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __contains__(self, name: object) -> bool:
        return name in self._mapping

    def get(self, name: str, default: Any = None) -> Any:
        """Return the value of column ``name``, or ``default`` if there is none."""
        try:
            return self._values[self._mapping[name]]
        except (KeyError, TypeError):
            return default

    def keys(self) -> Iterator[str]:
        """Iterate over the column names, in column order."""
        return iter(self._names())

    def values(self) -> Iterator[Any]:
        """Iterate over the values, in column order."""
        return iter(self._values)

    def items(self) -> Iterator[tuple[str, Any]]:
        """Iterate over ``(name, value)`` pairs, in column order."""
        mapping = self._mapping
        if isinstance(mapping, RecordMapping):
            return zip(mapping.names, self._values, strict=False)
        values = self._values
        return ((name, values[index]) for name, index in _by_index(mapping))

    def _names(self) -> tuple[str, ...]:
        mapping = self._mapping
        if isinstance(mapping, RecordMapping):
            return mapping.names
        return tuple(name for name, _ in _by_index(mapping))

    # -- comparison -------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        values = _other_values(other)
        if values is None:
            return NotImplemented
        return self._values == values

    def __ne__(self, other: object) -> bool:
        values = _other_values(other)
        if values is None:
            return NotImplemented
        return self._values != values

    def __lt__(self, other: object) -> bool:
        values = _other_values(other)
        if values is None:
            return NotImplemented
        return self._values < values

    def __le__(self, other: object) -> bool:
        values = _other_values(other)
        if values is None:
            return NotImplemented
        return self._values <= values

    def __gt__(self, other: object) -> bool:
        values = _other_values(other)
        if values is None:
            return NotImplemented
        return self._values > values

    def __ge__(self, other: object) -> bool:
        values = _other_values(other)
        if values is None:
            return NotImplemented
        return self._values >= values

    def __hash__(self) -> int:
        # Equal to a tuple of the same values, so it must hash like one.
        return hash(self._values)

    # -- representation and pickling --------------------------------------

    def __repr__(self) -> str:
        if not self._values:
            return f"<{type(self).__name__}>"
        fields = " ".join(f"{name}={value!r}" for name, value in self.items())
        return f"<{type(self).__name__} {fields}>"

    def __reduce__(self) -> tuple[Any, ...]:
        mapping = self._mapping
        names: tuple[str, ...] | dict[str, int]
        if isinstance(mapping, RecordMapping):
            names = mapping.names
        else:
            names = dict(mapping)
        return (_restore, (type(self), names, self._values))


def record_values(record: Record) -> tuple[Any, ...]:
    """The values of ``record`` as the tuple it holds (no copy)."""
    return record._values


def recast(record: Record, record_class: type[_R]) -> _R:
    """The same row as a ``record_class`` (a Record subclass), values shared."""
    return record_class._make(record._mapping, record._values)


def _by_index(mapping: Mapping[str, int]) -> list[tuple[str, int]]:
    return sorted(mapping.items(), key=itemgetter(1))
