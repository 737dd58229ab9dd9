"""Exceptions raised by the type codecs.

Encoders raise the built-in ``TypeError`` (wrong Python type), ``ValueError``
(a value PostgreSQL would reject) and ``OverflowError`` (out of the type's
range).  Decoders raise :class:`UnrepresentableValueError` when a value the
server sent is valid in PostgreSQL but has no Python equivalent (a timestamp in
year 20000, a ``time`` of ``24:00:00``...).
"""

from __future__ import annotations


class UnrepresentableValueError(ValueError):
    """A PostgreSQL value that the Python type of its codec cannot hold."""

    def __init__(self, type_name: str, detail: str) -> None:
        super().__init__(f"{type_name} value cannot be represented in Python: {detail}")
        self.type_name = type_name
