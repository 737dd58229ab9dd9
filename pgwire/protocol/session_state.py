"""Which session state a connection may have picked up, and the SQL that undoes it.

A pooled connection must reach its next user as a fresh session would: no
settings changed with SET, no LISTEN, no open cursor WITH HOLD, no SQL-level
prepared statement, no temporary table, no advisory lock.  Asking the server
on every release costs a round trip, and running a reset every time (as
asyncpg does) costs one too; pgwire instead watches what the session does
and resets only when something may have changed:

* **command tags** (CommandComplete, PostgreSQL docs, "Message Formats"):
  ``SET``, ``RESET``, ``LISTEN``, ``DECLARE CURSOR``, ``PREPARE``, ``DO``,
  ``LOAD``, ``DISCARD ...``, ``DEALLOCATE ALL`` -- the engine looks at each;
* **ParameterStatus** after startup: a reported setting changed (PostgreSQL
  docs, "Asynchronous Operations");
* **the statement text**, for what no tag shows: temporary objects
  (``CREATE TEMP TABLE``, ``SELECT ... INTO TEMP``, ``pg_temp.``),
  advisory locks and ``set_config()`` called inside a query.

The flags are bits of :attr:`Engine.session_state
<pgwire.protocol.engine.Engine.session_state>`.  What a function or a
procedure does inside the server is not visible to the client: state made
there is found only if its call says so in the text (``set_config``,
``pg_advisory_lock``); a pool's ``reset=`` callback covers the rest.
"""

from __future__ import annotations

import re

# Bits of Engine.session_state.
SETTINGS = 1  # SET, RESET, set_config(), a ParameterStatus
LISTENING = 2  # LISTEN
CURSORS = 4  # DECLARE CURSOR (WITH HOLD outlives the transaction)
PREPARED = 8  # SQL-level PREPARE
TEMPORARY = 16  # temporary tables, views, sequences
ADVISORY_LOCKS = 32  # pg_advisory_lock() and friends
UNKNOWN = 64  # DO, LOAD, DISCARD: anything may have changed
STATEMENTS_DROPPED = 128  # DEALLOCATE ALL / DISCARD ALL: the server forgot our statements

# Command tags (without the NUL) that change session state, by flag.
SESSION_TAGS: dict[bytes, int] = {
    b"SET\x00": SETTINGS,
    b"RESET\x00": SETTINGS,
    b"LISTEN\x00": LISTENING,
    b"DECLARE CURSOR\x00": CURSORS,
    b"PREPARE\x00": PREPARED,
    b"DO\x00": UNKNOWN,
    b"LOAD\x00": UNKNOWN,
    b"DISCARD TEMP\x00": TEMPORARY,
    b"DISCARD PLANS\x00": UNKNOWN,
    b"DISCARD SEQUENCES\x00": UNKNOWN,
    b"DISCARD ALL\x00": UNKNOWN | STATEMENTS_DROPPED,
    b"DEALLOCATE ALL\x00": STATEMENTS_DROPPED,
}
# First bytes of those tags: the engine looks a tag up only when it starts
# with one of these (most tags are SELECT/INSERT/UPDATE/... and cost one test).
SESSION_TAG_FIRST_BYTES = frozenset(tag[0] for tag in SESSION_TAGS)
LONGEST_SESSION_TAG = max(len(tag) for tag in SESSION_TAGS)

_TEXT_MARKERS = re.compile(
    r"\btemp(?:orary)?\b|pg_temp|(?P<lock>advisory)|(?P<settings>set_config)", re.IGNORECASE
)


def statement_flags(sql: str) -> int:
    """Flags for the session state ``sql`` may create that its tag does not show.

    Errs on the side of a reset: a column named ``temp`` costs one reset
    round trip, a missed temporary table would leak to the next user.
    """
    flags = 0
    for match in _TEXT_MARKERS.finditer(sql):
        if match.group("lock"):
            flags |= ADVISORY_LOCKS
        elif match.group("settings"):
            flags |= SETTINGS
        else:
            flags |= TEMPORARY
    return flags


def reset_statements(flags: int, parameters: dict[str, str]) -> list[str]:
    """The statements that undo the state ``flags`` name (outside a transaction).

    asyncpg's reset sequence (advisory locks, cursors, listening, settings)
    plus the role, temporary objects and SQL-level prepared statements, restricted to
    what the server supports (CockroachDB lacks most of it).
    """
    if not flags:
        return []
    if flags & UNKNOWN:
        flags |= SETTINGS | LISTENING | CURSORS | TEMPORARY | ADVISORY_LOCKS
    cockroach = "crdb_version" in parameters
    statements = []
    if flags & ADVISORY_LOCKS and not cockroach:
        statements.append("SELECT pg_advisory_unlock_all()")
    if flags & CURSORS:
        statements.append("CLOSE ALL")
    if flags & LISTENING and not cockroach:
        statements.append("UNLISTEN *")
    if flags & SETTINGS:
        # RESET ALL leaves the role and the session authorization alone (both
        # are GUC_NO_RESET_ALL in guc_tables.c), and a SET ROLE handed on to
        # the next user would be a privilege leak.  Resetting the session
        # authorization to the authenticated user is allowed to anyone.
        if not cockroach:
            statements.append("RESET SESSION AUTHORIZATION")
            statements.append("RESET ROLE")
        statements.append("RESET ALL")
    if flags & TEMPORARY and not cockroach:
        statements.append("DISCARD TEMP")
    if flags & PREPARED:
        # There is no "deallocate the SQL-level ones only": the connection
        # forgets its own cached statements too (they are prepared again).
        statements.append("DEALLOCATE ALL")
    return statements
