"""Server-less tests of the statement strategy (DESIGN.md, "Statement strategy").

The session's flows run against a scripted backend (``scripted_backend``),
which records every write: these tests pin what pgwire sends -- named
statements cached per connection and reused in one round trip, evicted
statements closed with the protocol Close riding on the next request, the
unnamed statement in one write behind a pooler or with
``statement_cache_size=0``, a stale plan dropped and retried only outside a
transaction.  The same behaviour is tested against real servers and a real
pgbouncer in tests/test_statements.py and tests/test_pgbouncer.py.
"""

from __future__ import annotations

import pytest

from pgwire.exceptions import DataError, InvalidCachedStatementError
from pgwire.flows.statements import Session
from pgwire.types import default_registry, oids

from .scripted_backend import ScriptedBackend, Statement, drive, ready_engine

ECHO_INT = "SELECT $1::int AS n"
ECHO_TEXT = "SELECT $1::text AS t"
TOUCH = "UPDATE t SET x = $1"


def backend() -> ScriptedBackend:
    return ScriptedBackend({
        ECHO_INT: Statement([oids.INT4], [("n", oids.INT4)]),
        ECHO_TEXT: Statement([oids.TEXT], [("t", oids.TEXT)]),
        TOUCH: Statement([oids.INT4], []),
        **{f"SELECT $1::int AS c{i}": Statement([oids.INT4], [(f"c{i}", oids.INT4)])
           for i in range(5)},
    })


def session(cache_size: int = 100) -> Session:
    return Session(ready_engine(), default_registry.copy(), statement_cache_size=cache_size)


def kinds(write: list[tuple[str, str]]) -> str:
    return "".join(kind for kind, _ in write)


def run(s: Session, server: ScriptedBackend, sql: str, *args: object) -> list[tuple[object, ...]]:
    result = drive(s.execute_flow(sql, args), s.engine, server)
    return [tuple(row) for row in result.rows]


def test_cached_named_statement_runs_in_one_round_trip() -> None:
    s, server = session(), backend()
    assert run(s, server, ECHO_INT, 1) == [(1,)]
    # First use: prepared and described, then run.
    assert [kinds(w) for w in server.writes] == ["PDS", "BES"]
    name = server.writes[0][0][1]
    assert name.startswith("__pgwire_")
    for value in (2, 3, 4):
        assert run(s, server, ECHO_INT, value) == [(value,)]
    # Steady state: one write (Bind, Execute, Sync) of the same statement.
    assert [kinds(w) for w in server.writes[2:]] == ["BES"] * 3
    assert {w[0][1] for w in server.writes[1:]} == {name}
    assert s.cache.get(ECHO_INT) is not None and s.cache.get(ECHO_INT).name == name


def test_eviction_closes_the_statement_with_the_next_request() -> None:
    s, server = session(cache_size=2), backend()
    names = []
    for i in range(3):
        run(s, server, f"SELECT $1::int AS c{i}", i)
        names.append(s.cache.get(f"SELECT $1::int AS c{i}").name)
    assert len(s.cache) == 2
    # c0 was evicted when c2 was cached: never a round trip of its own...
    assert all(kinds(w) != "CS" for w in server.writes)
    # ...its Close rode along with the next request, c2's first run.
    assert [kinds(w) for w in server.writes[-2:]] == ["PDS", "BECS"]
    assert ("C", "S" + names[0]) in server.writes[-1]
    assert set(server.prepared) == {names[1], names[2]}


def test_a_bad_argument_sends_nothing_and_loses_no_close() -> None:
    s, server = session(cache_size=1), backend()
    run(s, server, ECHO_INT, 1)
    evicted = s.cache.get(ECHO_INT).name
    writes = len(server.writes)
    with pytest.raises(DataError, match=r"\$1"):
        # Described (evicting ECHO_INT), then an int for text: refused before
        # the Bind is sent.
        run(s, server, ECHO_TEXT, 12)
    assert [kinds(w) for w in server.writes[writes:]] == ["PDS"]
    assert evicted in server.prepared  # the Close is still to come...
    run(s, server, ECHO_TEXT, "y")
    assert ("C", "S" + evicted) in server.writes[-1]  # ...with the next request
    assert evicted not in server.prepared


def test_behind_a_pooler_every_statement_is_unnamed_and_one_write() -> None:
    s, server = session(), backend()
    s.note_pooler(True)
    for value in (1, 2, 3):
        assert run(s, server, ECHO_INT, value) == [(value,)]
    assert server.writes[0] and kinds(server.writes[0]) == "PDS"  # described once
    for write in server.writes[1:]:
        # Parse, Bind, Describe(portal), Execute, Sync: nothing a pooler could
        # route to another server between two halves.
        assert kinds(write) == "PBDES"
        assert all(name == "" for kind, name in write if kind in "PB")
    assert set(server.prepared) == {""}


def test_without_a_cache_the_first_use_is_one_round_trip() -> None:
    s, server = session(cache_size=0), backend()
    assert run(s, server, ECHO_INT, 5) == [(5,)]
    assert [kinds(w) for w in server.writes] == ["PDBES"]
    assert run(s, server, ECHO_INT, 6) == [(6,)]
    assert kinds(server.writes[-1]) == "PBDES"
    assert set(server.prepared) == {""}


def test_a_stale_plan_is_dropped_and_retried_when_idle() -> None:
    s, server = session(), backend()
    run(s, server, ECHO_INT, 1)
    old = s.cache.get(ECHO_INT).name
    server.stale.add(ECHO_INT)
    writes = len(server.writes)
    assert run(s, server, ECHO_INT, 2) == [(2,)]  # no error reaches the caller
    retry = server.writes[writes:]
    # The failed run, the statement prepared again (the stale one closed
    # on the way, in the same write), the run that succeeds.
    assert [kinds(w) for w in retry] == ["BES", "PDCS", "BES"]
    assert ("C", "S" + old) in retry[1]
    assert s.cache.get(ECHO_INT).name != old


def test_a_stale_plan_in_a_transaction_is_raised_and_dropped() -> None:
    s, server = session(), backend()
    run(s, server, ECHO_INT, 1)
    drive(s.simple_query_flow("BEGIN"), s.engine, server)
    server.stale.add(ECHO_INT)
    with pytest.raises(InvalidCachedStatementError, match="retry the transaction"):
        run(s, server, ECHO_INT, 2)
    assert s.cache.get(ECHO_INT) is None
    drive(s.simple_query_flow("ROLLBACK"), s.engine, server)
    assert run(s, server, ECHO_INT, 3) == [(3,)]


def test_statement_names_differ_between_connections() -> None:
    first, second = session(), session()
    server = backend()
    run(first, server, ECHO_INT, 1)
    run(second, server, ECHO_INT, 1)  # would be "already exists" on a shared server
    assert first.cache.get(ECHO_INT).name != second.cache.get(ECHO_INT).name


def test_executemany_parses_once_and_syncs_once() -> None:
    s, server = session(cache_size=0), backend()
    drive(s.executemany_flow(TOUCH, [(i,) for i in range(4)]), s.engine, server)
    described, batch = server.writes
    assert kinds(described) == "PDS"
    assert kinds(batch) == "P" + "BDE" * 4 + "S"
