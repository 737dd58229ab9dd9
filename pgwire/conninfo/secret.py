"""Passwords that keep out of sight: a ``str`` whose ``repr()`` is a mask.

A password -- and a connection string, which may hold one -- travels from
``connect()`` down to the authentication exchange as a :class:`Secret`.  It
is a ``str`` in every respect that code relies on: it compares, hashes,
encodes, slices and formats (``str()``, ``%s``, f-strings) as the text it
holds, so what sends the password needs no change.  Only its ``repr()`` is
``'********'``.  Everything that shows objects by their ``repr()`` then
shows no password: the reprs of the dataclasses and containers holding it,
a debugger, and the local variables that error trackers (Sentry) and
``traceback.TracebackException(capture_locals=True)`` record from a
traceback -- the frames between ``connect()`` and the server keep the
password in their locals (a ``Host``, the ``Startup`` operation, the SCRAM
exchange).  It hides the text from view, not from memory.
"""

from __future__ import annotations

from typing import Any, overload

__all__ = ["MASK", "Secret", "mask_connect_arguments", "mask_password"]

#: What a :class:`Secret` shows instead of itself.
MASK = "********"


class Secret(str):
    """A ``str`` that does not show itself in ``repr()`` (see the module's docstring)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(MASK)


@overload
def mask_password(value: None) -> None: ...
@overload
def mask_password(value: str) -> str: ...
def mask_password(value: str | None) -> str | None:
    """``value`` as a :class:`Secret` (None stays None; a Secret is returned as is)."""
    if value is None or isinstance(value, Secret):
        return value
    # str.__str__: the text itself, even of a str subclass with another __str__.
    return Secret(str.__str__(value))


def _masked(value: Any) -> Any:
    return mask_password(value) if isinstance(value, str) else value


def mask_connect_arguments(
    args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """``connect()`` arguments kept for later (a pool's), with the DSN (a
    positional string or ``dsn=``) and ``password=`` masked."""
    return (
        tuple(_masked(arg) for arg in args),
        {key: _masked(value) if key in ("dsn", "password") else value
         for key, value in kwargs.items()},
    )
