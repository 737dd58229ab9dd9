"""The asyncio driver on each event loop it supports: asyncio's own and uvloop.

The driver receives through ``asyncio.BufferedProtocol`` into one buffer
shared by the connections of a thread (``pgwire.drivers.aio``): each loop
must call ``buffer_updated`` right after filling it.  These tests run
connections of every kind (TCP, TLS, Unix socket) side by side on one loop,
each receiving results of many reads, messages split across reads and
interleaved with the others', and check every byte arrived where it
belongs.  Plain synchronous tests: each runs its own loop (``loop_factory``, conftest.py).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Coroutine
from typing import Any

import pgwire

ROWS = 20_000


def run_on(factory: Callable[[], asyncio.AbstractEventLoop],
           main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    loop = factory()
    try:
        return loop.run_until_complete(asyncio.wait_for(main(), 120))
    finally:
        loop.close()


def _expected_digest(tag: str) -> str:
    digest = hashlib.sha256()
    for i in range(ROWS):
        digest.update(f"{tag}-{i}-{'x' * (i % 300)}".encode())
    return digest.hexdigest()


QUERY = "SELECT $1::text || '-' || i || '-' || repeat('x', i % 300) FROM generate_series(0, $2::int - 1) i"


async def _digest_of_rows(conn: Any, tag: str) -> str:
    digest = hashlib.sha256()
    for row in await conn.fetch(QUERY, tag, ROWS):
        digest.update(row[0].encode())
    return digest.hexdigest()


def test_connections_of_every_kind_side_by_side(loop_factory: Any, cluster: Any) -> None:
    """TCP, TLS and Unix-socket connections receive large results at the same
    time on one loop; each gets exactly its own rows."""
    kinds = {
        "tcp": dict(cluster.connect_kwargs(), ssl="disable"),
        "tls": dict(cluster.connect_kwargs(), ssl="require"),
        "unix": dict(cluster.connect_kwargs(unix_socket=True)),
    }

    async def main() -> list[str]:
        conns = {kind: await pgwire.connect(**kwargs) for kind, kwargs in kinds.items()}
        try:
            assert await conns["tls"].fetchval("SELECT ssl FROM pg_stat_ssl "
                                               "WHERE pid = pg_backend_pid()") is True
            jobs = [_digest_of_rows(conn, f"{kind}{n}")
                    for n in range(2) for kind, conn in conns.items()]
            digests = await asyncio.gather(*jobs)
            # Each connection still in step: a short query answers right.
            for kind, conn in conns.items():
                assert await conn.fetchval("SELECT $1::text", kind) == kind
            return digests
        finally:
            for conn in conns.values():
                await conn.close()

    got = run_on(loop_factory, main)
    tags = [f"{kind}{n}" for n in range(2) for kind in kinds]
    assert got == [_expected_digest(tag) for tag in tags]


def test_copy_out_and_notifications_side_by_side(loop_factory: Any, cluster: Any) -> None:
    """A COPY TO streaming out, notifications arriving on a second connection
    and a query on a third, on one loop."""

    async def main() -> tuple[bytes, list[str], int]:
        kwargs = dict(cluster.connect_kwargs(), ssl="disable")
        copier, listener, other = [await pgwire.connect(**kwargs) for _ in range(3)]
        try:
            received: list[str] = []
            await listener.add_listener("loops", lambda *args: received.append(args[-1]))
            chunks: list[bytes] = []

            async def sink(chunk: bytes) -> None:
                chunks.append(bytes(chunk))

            async def notify() -> None:
                for i in range(50):
                    await other.execute(f"NOTIFY loops, '{i}'")

            await asyncio.gather(
                copier.copy_from_query(
                    "SELECT i, repeat('y', i % 100) FROM generate_series(1, 50000) i",
                    output=sink),
                notify(),
            )
            for _ in range(200):
                if len(received) == 50:
                    break
                await asyncio.sleep(0.05)
            total = await listener.fetchval("SELECT count(*) FROM generate_series(1, 1000)")
            return b"".join(chunks), received, total
        finally:
            for conn in (copier, listener, other):
                await conn.close()

    data, received, total = run_on(loop_factory, main)
    expected = b"".join(f"{i}\t{'y' * (i % 100)}\n".encode() for i in range(1, 50001))
    assert data == expected
    assert received == [str(i) for i in range(50)]
    assert total == 1000
