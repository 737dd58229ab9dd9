"""What both connection pools share: argument checks and the statistics they report.

The pools themselves (:mod:`pgwire.api._async.pool`, and the blocking one
generated from it) differ only in how they wait; this module holds what
does not wait at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..types.record import Record


@dataclass(frozen=True)
class PoolStats:
    """A snapshot of a pool (``pool.get_stats()``); counters run from the pool's creation."""

    #: connections open (idle or in use)
    size: int
    #: connections waiting in the pool
    idle: int
    #: connections held by users
    in_use: int
    #: acquires waiting for a connection
    waiting: int
    min_size: int
    max_size: int
    #: acquires that returned a connection
    acquires: int
    #: of those, how many had to wait (for a release or a new connection)
    acquires_waited: int
    #: total seconds spent waiting by those
    acquire_wait_seconds: float
    #: acquires that gave up (timeout) or were cancelled while waiting
    acquires_failed: int
    #: releases that needed a reset round trip (the rest sent nothing)
    resets: int
    connections_opened: int
    connections_closed: int
    #: connection attempts that failed (at acquire or in the background)
    connect_failures: int


def check_pool_arguments(
    *, min_size: Any, max_size: Any, max_queries: Any,
    max_inactive_connection_lifetime: Any, connection_class: Any, connection_base: type,
    record_class: Any,
) -> None:
    """Refuse what asyncpg refuses, with the same exception types."""
    for name, value in (("min_size", min_size), ("max_size", max_size),
                        ("max_queries", max_queries)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"{name} is expected to be an int, got {value!r}")
    if max_size <= 0:
        raise ValueError("max_size is expected to be greater than zero")
    if min_size < 0:
        raise ValueError("min_size is expected to be greater or equal to zero")
    if min_size > max_size:
        raise ValueError("min_size is greater than max_size")
    if max_queries <= 0:
        raise ValueError("max_queries is expected to be greater than zero")
    lifetime = max_inactive_connection_lifetime
    if not isinstance(lifetime, (int, float)) or isinstance(lifetime, bool):
        raise TypeError(
            f"max_inactive_connection_lifetime is expected to be a number, got {lifetime!r}")
    if lifetime < 0:
        raise ValueError(
            "max_inactive_connection_lifetime is expected to be greater or equal to zero")
    if not (isinstance(connection_class, type) and issubclass(connection_class, connection_base)):
        raise TypeError(
            f"connection_class is expected to be a subclass of "
            f"{connection_base.__module__}.{connection_base.__qualname__}, "
            f"got {connection_class!r}")
    if not (isinstance(record_class, type) and issubclass(record_class, Record)):
        raise TypeError(
            f"record_class is expected to be a subclass of pgwire.Record, got {record_class!r}")


def check_timeout(timeout: Any, name: str = "timeout") -> float | None:
    """A timeout argument: None or a non-negative number (ValueError naming it otherwise)."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise ValueError(f"{name} is expected to be a number of seconds or None, got {timeout!r}")
    if timeout < 0:
        raise ValueError(f"{name} is expected to be greater or equal to zero, got {timeout!r}")
    return float(timeout)
