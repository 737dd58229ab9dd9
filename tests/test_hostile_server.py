"""A hostile server: a fake PostgreSQL on loopback that completes startup and
then answers a query with mutated messages (bit flips, truncations, wrong
and absurd lengths, unknown types, messages repeated or out of order,
random bytes).

Whatever it sends, the client ends with the query's result, a server error
the bytes happen to spell, or a ``ProtocolError`` / connection error --
never another exception type, never a hang, never a crash of the compiled
build.  The mutator is seeded: a failure names its case, and
``PGWIRE_HOSTILE_CASES=100000`` runs a long campaign (1,000 cases per API
run in CI, on each build).
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import pgwire

CASES = int(os.environ.get("PGWIRE_HOSTILE_CASES", "1000"))
SEED = int(os.environ.get("PGWIRE_HOSTILE_SEED", "20261203"))

# What a client may end with: its answer, or one of these (a server error the
# bytes happen to spell; InterfaceError for what the client refuses in step,
# such as a CopyBothResponse to a query).
ALLOWED = (pgwire.ProtocolError, pgwire.ConnectionDoesNotExistError, pgwire.PostgresError,
           pgwire.InterfaceError)


def _message(kind: bytes, body: bytes) -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


STARTUP_REPLY = (
    _message(b"R", struct.pack("!i", 0))
    + _message(b"S", b"server_version\x0015.0\x00")
    + _message(b"S", b"client_encoding\x00UTF8\x00")
    + _message(b"S", b"integer_datetimes\x00on\x00")
    + _message(b"K", struct.pack("!ii", 4242, 99))
    + _message(b"Z", b"I")
)

ROW_DESCRIPTION = _message(
    b"T", struct.pack("!h", 2)
    + b"a\x00" + struct.pack("!IhIhih", 0, 0, 23, 4, -1, 0)
    + b"b\x00" + struct.pack("!IhIhih", 0, 0, 25, -1, -1, 0))
DATA_ROW = _message(b"D", struct.pack("!h", 2) + struct.pack("!i", 2) + b"42"
                    + struct.pack("!i", 5) + b"hello")
ANSWER = [ROW_DESCRIPTION, DATA_ROW, DATA_ROW, _message(b"C", b"SELECT 2\x00"),
          _message(b"Z", b"I")]


def mutate(rng: random.Random) -> bytes:
    """The valid answer to ``SELECT``, damaged one way or several."""
    messages = list(ANSWER)
    for _ in range(rng.choice((1, 1, 2, 3))):
        choice = rng.randrange(9)
        index = rng.randrange(len(messages))
        data = bytearray(messages[index])
        if len(data) < 2:
            continue  # truncated away by an earlier mutation
        if choice == 0:  # flip bits
            for _ in range(rng.randint(1, 4)):
                position = rng.randrange(len(data))
                data[position] ^= 1 << rng.randrange(8)
        elif choice == 1:  # truncate
            data = data[:rng.randrange(len(data))]
        elif choice == 2:  # a wrong length
            data[1:5] = struct.pack("!i", rng.choice(
                (0, 3, 4, 5, len(data) - 2, len(data) + 7, 0x7FFFFFFF, -1,
                 rng.randrange(1 << 31))))
        elif choice == 3:  # an unknown message type
            data[0] = rng.choice(b"!#%&0789?@bjqruwxyz\x00\xff")
        elif choice == 4:  # repeat a message
            messages.insert(index, bytes(data))
        elif choice == 5:  # out of order
            other = rng.randrange(len(messages))
            messages[index], messages[other] = messages[other], messages[index]
        elif choice == 6:  # random bytes inside
            position = rng.randrange(len(data) + 1)
            data[position:position] = rng.randbytes(rng.randint(1, 12))
        elif choice == 7:  # a field count or value length gone wild
            if len(data) > 7:
                data[5:7] = struct.pack("!h", rng.choice((-1, 0, 3, 0x7FFF, -32768)))
        else:  # a message that does not belong here
            data = bytearray(rng.choice((
                _message(b"1", b""), _message(b"G", b"\x00\x00\x00"),
                _message(b"W", b"\x00\x00\x00"), _message(b"R", struct.pack("!i", 5)),
                _message(b"n", b""), _message(b"t", b"\x00\x00"))))
        if choice not in (4, 5):
            messages[index] = bytes(data)
    return b"".join(messages)


class HostileServer:
    """Loopback fake server: one connection per case, answers the first query
    with ``payloads[case]`` and closes (so a truncated answer ends in EOF)."""

    def __init__(self, payloads: list[bytes]) -> None:
        self.payloads = payloads
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.case = 0
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    @staticmethod
    def _read_exact(client: socket.socket, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = client.recv(size - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def _handle(self, client: socket.socket) -> None:
        try:
            with client:
                client.settimeout(10)
                while True:  # SSLRequest / GSSENCRequest first, maybe
                    (length,) = struct.unpack("!i", self._read_exact(client, 4))
                    body = self._read_exact(client, length - 4)
                    if body[:4] in (struct.pack("!i", 80877103), struct.pack("!i", 80877104)):
                        client.sendall(b"N")
                        continue
                    break
                client.sendall(STARTUP_REPLY)
                kind = self._read_exact(client, 1)
                (length,) = struct.unpack("!i", self._read_exact(client, 4))
                query = self._read_exact(client, length - 4)
                # The case number rides in the query text: "SELECT /*N*/".
                number = int(query.split(b"/*")[1].split(b"*/")[0]) if kind == b"Q" else 0
                client.sendall(self.payloads[number])
                client.shutdown(socket.SHUT_WR)
                try:
                    while client.recv(65536):
                        pass
                except OSError:
                    pass
        except (OSError, EOFError, ValueError, IndexError):
            pass

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    rng = random.Random(SEED)
    server = HostileServer([mutate(rng) for _ in range(CASES)])
    yield server
    server.close()


async def _one_case(api: Any, server: HostileServer, case: int) -> str:
    conn = await api.connect(host="127.0.0.1", port=server.port, user="x", database="x",
                             password="x", ssl="disable", statement_cache_size=0,
                             timeout=10)
    try:
        await conn.query_script(f"SELECT /*{case}*/ 1")
        outcome = "answered"
    except ALLOWED as exc:
        outcome = type(exc).__name__
    except Exception as exc:  # the defect this test is about
        raise AssertionError(f"case {case} (seed {SEED}): {type(exc).__name__}: {exc}\n"
                             f"payload: {server.payloads[case].hex()}") from exc
    finally:
        conn.terminate()
    return outcome


async def test_mutated_answers_end_in_a_clean_error(api: Any, hostile: HostileServer) -> None:
    outcomes: dict[str, int] = {}
    for case in range(CASES):
        try:
            outcome = await asyncio.wait_for(_one_case(api, hostile, case), 20)
        except asyncio.TimeoutError:
            raise AssertionError(f"case {case} (seed {SEED}) hung: "
                                 f"{hostile.payloads[case].hex()}") from None
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    print(f"\n[{api.name}] {CASES} hostile answers: {outcomes}")
    assert sum(outcomes.values()) == CASES
    assert outcomes.get("ProtocolError", 0) > CASES // 10  # the mutations did bite
