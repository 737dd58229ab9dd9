"""Connecting: the checks that follow startup (pooler detection).

Written once as sans-I/O flows, driven by both drivers.
"""

from __future__ import annotations

from .statements import Flow, Session


def detect_pooler_flow(session: Session) -> Flow[bool]:
    """True when a connection pooler sits between us and the server.

    A pooler answers the startup itself: the BackendKeyData it sends is its
    own, so the process id there differs from the server's
    ``pg_backend_pid()``.  Newer pgbouncers also report ``pgbouncer.*``
    parameters.
    """
    engine = session.engine
    if any(name.startswith("pgbouncer") for name in engine.parameters):
        return True
    if engine.backend_pid is None:
        return True
    op = yield from session.simple_query_flow("SELECT pg_backend_pid()")
    try:
        server_pid = int(op.results[0].rows[0][0])
    except (IndexError, TypeError, ValueError):
        return True
    return server_pid != engine.backend_pid
