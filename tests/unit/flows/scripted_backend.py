"""A scripted backend for server-less flow tests: it answers the extended protocol.

It reads the frontend messages a flow's operations send and answers as the
PostgreSQL docs ("Extended Query", section 54.2.3) say a server does: named
statements live until closed, creating one twice is an error, Bind needs an
existing statement, an error makes the server skip everything up to Sync,
Sync reports the transaction status.  What a statement means is scripted
by the test (``statements``: SQL -> parameter type OIDs and result columns;
rows echo the parameters).  It records every write, so a test can check
what the client sent and how many round trips it took -- the client's
decisions, not the server's answers, are what these tests pin.
"""

from __future__ import annotations

import struct
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

from pgwire.protocol import Engine, EngineState, Operation, TransactionStatus


def message(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def _cstring(data: bytes, pos: int) -> tuple[str, int]:
    end = data.index(b"\x00", pos)
    return data[pos:end].decode(), end + 1


@dataclass
class Statement:
    params: list[int]
    columns: list[tuple[str, int]]  # (name, type OID); rows echo the parameters


@dataclass
class ScriptedBackend:
    statements: dict[str, Statement]
    prepared: dict[str, tuple[str, list[int]]] = field(default_factory=dict)
    writes: list[list[tuple[str, str]]] = field(default_factory=list)
    # SQL whose next Execute of a named statement fails as after DDL.
    stale: set[str] = field(default_factory=set)
    in_transaction: bool = False
    failed: bool = False

    def answer(self, data: bytes) -> bytes:
        """The backend's reply to one write of frontend messages."""
        out = bytearray()
        sent: list[tuple[str, str]] = []
        self.writes.append(sent)
        skipping = False
        portals: dict[str, tuple[str, list[bytes | None]]] = {}
        pos = 0
        while pos < len(data):
            kind = chr(data[pos])
            length = struct.unpack_from("!i", data, pos + 1)[0]
            body = data[pos + 5 : pos + 1 + length]
            pos += 1 + length
            detail = self._detail(kind, body)
            sent.append((kind, detail))
            if kind == "S":
                skipping = False
                status = b"E" if self.failed else b"T" if self.in_transaction else b"I"
                out += message(b"Z", status)
                continue
            if skipping:
                continue
            error = self._handle(kind, body, portals, out)
            if error is not None:
                sqlstate, text, routine = error
                out += message(b"E", b"SERROR\x00C" + sqlstate.encode() + b"\x00M"
                               + text.encode() + b"\x00R" + routine.encode() + b"\x00\x00")
                if self.in_transaction:
                    self.failed = True
                skipping = True
        return bytes(out)

    @staticmethod
    def _detail(kind: str, body: bytes) -> str:
        if kind in "PBC" and body:
            if kind == "C":
                return body[:1].decode() + _cstring(body, 1)[0]
            name, after = _cstring(body, 0)
            if kind == "B":
                return _cstring(body, after)[0]  # the statement bound
            return name
        if kind == "Q":
            return _cstring(body, 0)[0]
        return ""

    def _handle(self, kind: str, body: bytes, portals: dict[str, Any],
                out: bytearray) -> tuple[str, str, str] | None:
        if kind == "Q":
            sql = _cstring(body, 0)[0]
            self.in_transaction = sql.upper().startswith("BEGIN") or (
                self.in_transaction and not sql.upper().startswith(("COMMIT", "ROLLBACK")))
            if sql.upper().startswith(("COMMIT", "ROLLBACK")):
                self.failed = False
            out += message(b"C", sql.split()[0].upper().encode() + b"\x00")
            out += message(b"Z", b"T" if self.in_transaction else b"I")
            return None
        if kind == "P":
            name, after = _cstring(body, 0)
            sql, after = _cstring(body, after)
            if sql not in self.statements:
                return "42601", f"syntax error in {sql!r}", "scanner_yyerror"
            if name and name in self.prepared:
                return ("42P05", f'prepared statement "{name}" already exists',
                        "StorePreparedStatement")
            self.prepared[name] = (sql, self.statements[sql].params)
            out += message(b"1")
            return None
        if kind == "B":
            portal, after = _cstring(body, 0)
            name, after = _cstring(body, after)
            if name not in self.prepared:
                return "26000", f'prepared statement "{name}" does not exist', "FetchPreparedStatement"
            nformats = struct.unpack_from("!h", body, after)[0]
            after += 2 + 2 * nformats
            count = struct.unpack_from("!h", body, after)[0]
            after += 2
            values: list[bytes | None] = []
            for _ in range(count):
                size = struct.unpack_from("!i", body, after)[0]
                after += 4
                values.append(None if size < 0 else body[after : after + size])
                after += max(size, 0)
            portals[portal] = (name, values)
            out += message(b"2")
            return None
        if kind == "D":
            target = chr(body[0])
            name = _cstring(body, 1)[0]
            if target == "S":
                if name not in self.prepared:
                    return ("26000", f'prepared statement "{name}" does not exist',
                            "FetchPreparedStatement")
                sql, params = self.prepared[name]
                out += message(b"t", struct.pack("!h", len(params))
                               + b"".join(struct.pack("!I", oid) for oid in params))
            else:
                sql = self.prepared[portals[name][0]][0]
            out += self._row_description(self.statements[sql])
            return None
        if kind == "E":
            portal = _cstring(body, 0)[0]
            name, values = portals[portal]
            sql = self.prepared[name][0]
            if name and sql in self.stale:
                self.stale.discard(sql)
                # As the server says it after DDL (the routine names the cause).
                return "0A000", "cached plan must not change result type", "RevalidateCachedQuery"
            statement = self.statements[sql]
            if statement.columns:
                out += message(b"D", struct.pack("!h", len(values)) + b"".join(
                    struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
                    for v in values))
                out += message(b"C", b"SELECT 1\x00")
            else:
                out += message(b"C", b"UPDATE 0\x00")
            return None
        if kind == "C":
            if chr(body[0]) == "S":
                self.prepared.pop(_cstring(body, 1)[0], None)
            out += message(b"3")
            return None
        raise AssertionError(f"the scripted backend does not know message {kind!r}")

    @staticmethod
    def _row_description(statement: Statement) -> bytes:
        if not statement.columns:
            return message(b"n")
        body = struct.pack("!h", len(statement.columns))
        for name, oid in statement.columns:
            body += name.encode() + b"\x00" + struct.pack("!ihihih", 0, 0, oid, -1, -1, 0)
        return message(b"T", body)


def ready_engine() -> Engine:
    engine = Engine()
    engine.state = EngineState.READY
    engine.transaction_status = TransactionStatus.IDLE
    return engine


def drive(flow: Generator[Any, Any, Any], engine: Engine, backend: ScriptedBackend) -> Any:
    """Run a flow of operations against the backend: one write and one reply each."""
    try:
        request = next(flow)
        while True:
            assert isinstance(request, Operation), request
            engine.send(request)
            completed = engine.receive_data(backend.answer(engine.data_to_send()))
            assert completed == [request]
            request = flow.send(request)
    except StopIteration as stop:
        return stop.value
