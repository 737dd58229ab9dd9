"""COPY against a real server, on both APIs: records in, files and streams in and out.

``copy_records_to_table`` (binary COPY, or text COPY when a column's type
has no binary encoder), ``copy_to_table`` (paths, file objects, iterables of
bytes and, on the asyncio API, async iterables and async ``read``),
``copy_from_table`` and ``copy_from_query`` (paths, file objects, callables;
async callables on the asyncio API).  Failure paths: a source that raises, a
cancelled task, server errors in the middle of the data, records that cannot
be encoded, an output that raises, a timeout while a large result streams.
After each failure nothing is inserted and the connection answers the next
query with its own result.

Every test runs once per API (see conftest.py: the blocking API's COPY
methods run in worker threads through the adapter), so sources and outputs
used by both APIs are plain iterables, files and callables; async sources
and outputs are tested on the asyncio API.
"""

from __future__ import annotations

import asyncio
import csv
import enum
import functools
import io
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import pgwire

TIMEOUT_ERRORS = (TimeoutError, asyncio.TimeoutError)


@pytest.fixture
async def table(conn: Any) -> AsyncIterator[str]:
    """A unique table name, dropped after the test (the test creates the table)."""
    name = f"copy_{secrets.token_hex(5)}"
    yield name
    if not conn.is_closed():
        if conn.is_in_transaction():
            await conn.execute("ROLLBACK")
        await conn.execute(f"DROP TABLE IF EXISTS {name}")


class Boom(Exception):
    """Raised by test sources and outputs."""


# ---------------------------------------------------------------------------
# copy_records_to_table


async def test_records_from_list_and_generator(api: Any, conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")
    status = await conn.copy_records_to_table(table,
                                              records=[(1, "one"), (2, None), (3, "three")])
    assert status == "COPY 3"
    status = await conn.copy_records_to_table(table,
                                              records=((i, f"g{i}") for i in range(10, 1010)))
    assert status == "COPY 1000"
    # Any sequence works as a record; an empty iterable copies nothing.
    status = await conn.copy_records_to_table(table,
                                              records=iter([[2000, "list"]]))
    assert status == "COPY 1"
    assert await conn.copy_records_to_table(table, records=[]) == "COPY 0"
    assert await conn.fetch(f"SELECT a, b FROM {table} WHERE a < 10 ORDER BY a") == [
        (1, "one"), (2, None), (3, "three")]
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 1004
    assert await conn.fetchval(f"SELECT b FROM {table} WHERE a = 1009") == "g1009"


@pytest.mark.async_only  # async iterables are the asyncio API's
async def test_records_from_async_generator(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")

    async def records() -> AsyncIterator[tuple[int, str]]:
        for i in range(30_000):  # more than one 512 KiB chunk
            if i % 5000 == 0:
                await asyncio.sleep(0)
            yield (i, "x" * 20)

    status = await conn.copy_records_to_table(table, records=records())
    assert status == "COPY 30000"
    assert await conn.fetchrow(f"SELECT count(*), sum(a) FROM {table}") == (
        30_000, sum(range(30_000)))


@functools.lru_cache(maxsize=1)
def _big_rows(count: int) -> tuple[tuple[Any, ...], ...]:
    """The rows of the round-trip test, built once for both APIs."""
    return tuple(_big_row(i) for i in range(count))


def _big_row(i: int) -> tuple[Any, ...]:
    base = datetime(2024, 2, 29, 12, 0, tzinfo=timezone.utc)
    return (
        i,
        None if i % 7 == 0 else f"row {i} \t\\ \u00e9\n'\"",
        None if i % 11 == 0 else i * 0.5 - 1e6 + 0.125,
        None if i % 13 == 0 else base + timedelta(seconds=i * 37, microseconds=i % 1_000_000),
    )


async def test_200k_rows_round_trip(api: Any, conn: Any, table: str) -> None:
    await conn.execute(
        f"CREATE TABLE {table} (i int, t text, f float8, ts timestamptz)")
    count = 200_000
    expected = _big_rows(count)
    # An iterator: streamed, its size unknown.
    status = await conn.copy_records_to_table(table, records=iter(expected))
    assert status == f"COPY {count}"
    stats = await conn.fetchrow(
        f"SELECT count(*), count(t), count(f), count(ts), sum(i), min(ts), max(ts) FROM {table}")
    assert tuple(stats) == (
        count,
        sum(1 for r in expected if r[1] is not None),
        sum(1 for r in expected if r[2] is not None),
        sum(1 for r in expected if r[3] is not None),
        sum(range(count)),
        min(r[3] for r in expected if r[3] is not None),
        max(r[3] for r in expected if r[3] is not None),
    )
    # Every value, exactly (a sample spread over the whole table, in order).
    rows = await conn.fetch(f"SELECT i, t, f, ts FROM {table} WHERE i % 97 = 0 OR i > $1 "
                            "ORDER BY i", count - 300)
    wanted = [r for r in expected if r[0] % 97 == 0 or r[0] > count - 300]
    assert [tuple(r) for r in rows] == wanted


async def test_columns_subset_and_order(api: Any, conn: Any, table: str) -> None:
    await conn.execute(
        f"CREATE TABLE {table} (a int, b text, c int DEFAULT 7, d text DEFAULT 'dflt')")
    status = await conn.copy_records_to_table(table,
                                              records=[("x", 1), ("y", 2)], columns=["b", "a"])
    assert status == "COPY 2"
    assert await conn.fetch(f"SELECT a, b, c, d FROM {table} ORDER BY a") == [
        (1, "x", 7, "dflt"), (2, "y", 7, "dflt")]
    # The same table through another column list: each list is looked up on its own.
    await conn.copy_records_to_table(table,
                                     records=[("z", 30)], columns=("d", "c"))
    assert await conn.fetchrow(f"SELECT a, b, c, d FROM {table} WHERE c = 30") == (
        None, None, 30, "z")
    with pytest.raises(pgwire.InterfaceError, match="nope"):
        await conn.copy_records_to_table(table,
                                         records=[(1,)], columns=["nope"])
    assert await conn.fetchval("SELECT 'usable'") == "usable"


async def test_schema_name_and_names_needing_quotes(api: Any, conn: Any) -> None:
    schema = f'Copy "Schema" {secrets.token_hex(3)}'
    quoted_schema = '"' + schema.replace('"', '""') + '"'
    await conn.execute(f"CREATE SCHEMA {quoted_schema}")
    try:
        await conn.execute(
            f'CREATE TABLE {quoted_schema}."Odd Table" ("Mixed Col" int, "x""y" text)')
        status = await conn.copy_records_to_table("Odd Table",
                                                  records=[(1, "a"), (2, "b")], schema_name=schema)
        assert status == "COPY 2"
        status = await conn.copy_records_to_table(
            "Odd Table", records=[("c",)], schema_name=schema, columns=['x"y'])
        assert status == "COPY 1"
        assert await conn.fetch(
            f'SELECT "Mixed Col", "x""y" FROM {quoted_schema}."Odd Table" ORDER BY 2') == [
            (1, "a"), (2, "b"), (None, "c")]
        out = io.BytesIO()
        await conn.copy_from_table("Odd Table", schema_name=schema,
                                   output=out, columns=['x"y'], format="csv")
        assert out.getvalue() == b"a\nb\nc\n"
        # Without the schema the table is not found (it is not on the search_path).
        with pytest.raises(pgwire.UndefinedTableError):
            await conn.copy_records_to_table("Odd Table", records=[(3, "d")])
    finally:
        await conn.execute(f"DROP SCHEMA {quoted_schema} CASCADE")


async def test_where_filters_rows(api: Any, conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")
    status = await conn.copy_records_to_table(
        table, records=[(i, str(i)) for i in range(100)], where="a % 10 = 0")
    assert status == "COPY 10"
    assert [r[0] for r in await conn.fetch(f"SELECT a FROM {table} ORDER BY a")] == list(
        range(0, 100, 10))
    status = await conn.copy_to_table(table,
                                      source=b"1,keep\n2,drop\n3,keep\n", format="csv",
                                      where="b = 'keep'")
    assert status == "COPY 2"
    assert await conn.fetchval(f"SELECT count(*) FROM {table} WHERE b = 'keep'") == 2


class Mood(enum.Enum):
    happy = "happy"


async def test_types_without_binary_codec_use_text_copy(api: Any, conn: Any, table: str) -> None:
    mood = f"mood_{secrets.token_hex(3)}"
    await conn.execute(f"CREATE TYPE {mood} AS ENUM ('sad', 'happy', 'it''s \\ ok')")
    try:
        await conn.execute(
            f"CREATE TABLE {table} (id int, price money, m {mood}, note text, p point)")
        records = [
            (1, "1.5", "sad", "tab\there", (1, 2)),
            (2, "2", "it's \\ ok", "back\\slash\nnew line\r\u00e9", None),
            (3, None, None, None, (-1.5, 0)),
            (4, "3.25", "happy", "\\N", (3, 4)),  # a string, not NULL
        ]
        status = await conn.copy_records_to_table(table, records=records)
        assert status == "COPY 4"
        rows = await conn.fetch(
            f"SELECT id, price::text, m::text, note, p::text FROM {table} ORDER BY id")
        assert [tuple(r) for r in rows] == [
            (1, "$1.50", "sad", "tab\there", "(1,2)"),
            (2, "$2.00", "it's \\ ok", "back\\slash\nnew line\r\u00e9", None),
            (3, None, None, None, "(-1.5,0)"),
            (4, "$3.25", "happy", "\\N", "(3,4)"),
        ]
        # A value the server rejects fails the whole COPY.
        with pytest.raises(pgwire.DataError):
            await conn.copy_records_to_table(table,
                                             records=[(5, "1", "sad", "", None),
                                             (6, "not money", "sad", "", None)])
        assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 4
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}; DROP TYPE {mood}")


async def test_source_raising_mid_copy(api: Any, conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")

    def records() -> Iterator[tuple[int, str]]:
        for i in range(100_000):  # several chunks are sent before the failure
            yield (i, "some text")
        raise Boom("the source failed")

    with pytest.raises(Boom, match="the source failed"):
        await conn.copy_records_to_table(table, records=records())
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT $1::int", 5) == 5
    assert not conn.is_in_transaction()

    def chunks() -> Iterator[bytes]:
        yield b"1\tone\n" * 100_000
        raise Boom("the byte source failed")

    with pytest.raises(Boom, match="the byte source failed"):
        await conn.copy_to_table(table, source=chunks())
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT $1::text", "next") == "next"


@pytest.mark.async_only  # async iterables
async def test_async_source_raising_mid_copy(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")

    async def records() -> AsyncIterator[tuple[int, str]]:
        for i in range(60_000):
            if i % 10_000 == 0:
                await asyncio.sleep(0)
            yield (i, "text")
        raise Boom("the async source failed")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"1\tone\n" * 100_000
        await asyncio.sleep(0)
        raise Boom("the async byte source failed")

    with pytest.raises(Boom, match="the async source failed"):
        await conn.copy_records_to_table(table, records=records())
    with pytest.raises(Boom, match="the async byte source failed"):
        await conn.copy_to_table(table, source=chunks())
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT 'usable'") == "usable"


@pytest.mark.async_only  # task cancellation
async def test_task_cancelled_mid_copy(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")
    halfway = asyncio.Event()

    async def records() -> AsyncIterator[tuple[int, str]]:
        for i in range(200_000):
            if i == 100_000:  # a few chunks are on the server already
                halfway.set()
                await asyncio.sleep(30)
            yield (i, "payload")

    task = asyncio.ensure_future(conn.copy_records_to_table(table, records=records()))
    await asyncio.wait_for(halfway.wait(), 10)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT $1::int", 11) == 11
    assert time.monotonic() - started < 2
    assert not conn.is_closed()


@pytest.mark.async_only  # asyncio.wait_for cancellation / an async source
async def test_timeout_while_async_source_stalls(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int)")

    async def records() -> AsyncIterator[tuple[int]]:
        for i in range(100_000):
            if i == 50_000:
                await asyncio.sleep(30)
            yield (i,)

    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.copy_records_to_table(table, records=records(), timeout=0.3)
    assert time.monotonic() - started < 2
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT 'ok'") == "ok"


_PROMPT_BUG = (
    "BUG: on the asyncio API a server error during copy_records_to_table is noticed only "
    "after the whole (sync) iterable is consumed: Connection._copy_in never yields to the "
    "event loop while it encodes and writes chunks (driver.drain() returns at once when "
    "the transport is not paused), so data_received never runs and op.done stays False; "
    "an endless generator never returns"
)


@pytest.mark.parametrize("api", [
    "async",
    "sync",
], indirect=True)
async def test_server_error_mid_records_copy_is_prompt(api: Any, conn: Any, table: str) -> None:
    """The server rejects an early row (duplicate key) while the client still has a
    lot to send: the error must surface without the rest of the source being read."""
    await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, b text)")
    limit = 200_000  # ~8 chunks of 512 KiB: far more than the server needs to fail
    consumed = 0

    def records() -> Iterator[tuple[int, str]]:
        nonlocal consumed
        for i in range(10 * limit):
            consumed += 1
            if consumed > limit:
                raise Boom(f"the whole source was read ({consumed} records)")
            yield (5 if i == 10 else i, "x")

    started = time.monotonic()
    with pytest.raises(pgwire.UniqueViolationError):
        await conn.copy_records_to_table(table, records=records())
    print(f"records read before the error surfaced: {consumed}")
    assert consumed < limit
    assert time.monotonic() - started < 3
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT $1::int", 3) == 3


async def test_server_error_mid_text_copy_is_prompt(api: Any, conn: Any, table: str) -> None:
    """Bad data early in a text COPY from an endless byte source: the server's
    error ends the COPY, and the source is not read to the end."""
    await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, b text)")
    consumed = 0

    def lines() -> Iterator[bytes]:
        nonlocal consumed
        yield b"1\tone\n2\ttwo\nthree\tbad\n"
        chunk = b"".join(b"%d\tx\n" % k for k in range(100, 200)) * 100  # ~500 KiB
        while True:
            consumed += 1
            if consumed > 20:
                raise Boom(f"the whole source was read ({consumed} chunks)")
            time.sleep(0.002)  # a source slower than the network (a file, a socket)
            yield chunk

    started = time.monotonic()
    with pytest.raises(pgwire.InvalidTextRepresentationError) as info:
        await conn.copy_to_table(table, source=lines())
    assert isinstance(info.value, pgwire.DataError)
    assert consumed < 20
    assert time.monotonic() - started < 3
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT $1::int", 3) == 3


async def test_server_error_in_text_copy(api: Any, conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, b text)")
    with pytest.raises(pgwire.InvalidTextRepresentationError) as info:
        await conn.copy_to_table(table,
                                 source=b"1\tone\nnot-a-number\ttwo\n3\tthree\n")
    assert "not-a-number" in str(info.value)
    with pytest.raises(pgwire.UniqueViolationError):
        await conn.copy_to_table(table, source=[b"1\ta\n", b"1\tb\n"])
    with pytest.raises(pgwire.BadCopyFileFormatError):
        await conn.copy_to_table(table, source=b"1\ta\textra\n")
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.copy_to_table(table, source=b"1\ta\n") == "COPY 1"


async def test_wrong_field_count_is_data_error(api: Any, conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")

    def records(bad: tuple[Any, ...], at: int) -> Iterator[tuple[Any, ...]]:
        for i in range(60_000):  # the bad record comes after a chunk went out
            yield bad if i == at else (i, "ok")

    with pytest.raises(pgwire.DataError, match="record 50001"):
        await conn.copy_records_to_table(table,
                                         records=records((1,), 50_000))
    with pytest.raises(pgwire.DataError):
        await conn.copy_records_to_table(table,
                                         records=records((1, "a", "extra"), 0))
    with pytest.raises(pgwire.DataError, match="'a'"):
        await conn.copy_records_to_table(table,
                                         records=records(("not an int", "b"), 40_000))
    with pytest.raises(pgwire.DataError):
        await conn.copy_records_to_table(table,
                                         records=[(2**31, "too big for int4")])
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0
    assert await conn.fetchval("SELECT 'fine'") == "fine"
    assert await conn.copy_records_to_table(table,
                                            records=[(1, "a")]) == "COPY 1"


@pytest.mark.parametrize("change", ["alter-type", "recreate"])
async def test_records_after_the_table_changed(api: Any, conn: Any, table: str,
                                               change: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int4, b int8)")
    await conn.copy_records_to_table(table, records=[(1, 2)])
    if change == "alter-type":
        await conn.execute(
            f"ALTER TABLE {table} ALTER COLUMN a TYPE float4, ALTER COLUMN b TYPE float8")
    else:
        await conn.execute(f"DROP TABLE {table}; CREATE TABLE {table} (a float4, b float8)")
    try:
        await conn.copy_records_to_table(table, records=[(7, 8)])
    except pgwire.PostgresError:
        pass  # refusing is acceptable; storing wrong values is not
    assert [tuple(r) for r in await conn.fetch(f"SELECT a, b FROM {table} WHERE a > 5 "
                                               "OR a < 1")] in ([], [(7.0, 8.0)])


async def test_encoding_option(api: Any, conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text)")
    status = await conn.copy_to_table(table,
                                      source=b"1\tcaf\xe9\n", encoding="LATIN1")
    assert status == "COPY 1"
    assert await conn.fetchval(f"SELECT b FROM {table}") == "caf\u00e9"
    out = io.BytesIO()
    await conn.copy_from_table(table, output=out, encoding="LATIN1")
    assert out.getvalue() == b"1\tcaf\xe9\n"


async def test_concurrent_copy_and_queries(api: Any, conn: Any, table: str) -> None:
    """COPY waits its turn like any operation; queries queued behind it run after it."""
    await conn.execute(f"CREATE TABLE {table} (a int)")
    results = await asyncio.gather(
        conn.copy_records_to_table(table,
                                   records=[(i,) for i in range(50_000)]),
        *(conn.fetchval("SELECT $1::int", i) for i in range(10)),
        conn.copy_records_to_table(table, records=[(-1,)]),
    )
    assert results[0] == "COPY 50000"
    assert results[1:11] == list(range(10))
    assert results[11] == "COPY 1"
    assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 50_001


# ---------------------------------------------------------------------------
# copy_to_table

CSV_DATA = (
    "id;name;note\n"
    "1;'semi;colon';NIL\n"
    "2;'it''s';''\n"
    "3;plain;'NIL'\n"
)
CSV_ROWS = [(1, "semi;colon", None), (2, "it's", ""), (3, "plain", "NIL")]
CSV_OPTIONS = {"format": "csv", "header": True, "delimiter": ";", "null": "NIL", "quote": "'"}


class AsyncReader:
    """A file-like object whose ``read`` is a coroutine."""

    def __init__(self, data: bytes) -> None:
        self._file = io.BytesIO(data)
        self.reads = 0

    async def read(self, size: int = -1) -> bytes:
        self.reads += 1
        await asyncio.sleep(0)
        return self._file.read(size)


@pytest.mark.parametrize("source_kind", ["path", "str-path", "binary-file", "text-file",
                                         "bytes", "iterable", "async-iterable", "async-read"])
async def test_copy_to_table_sources_with_csv_options(api: Any, conn: Any, table: str,
                                                      tmp_path: Path, source_kind: str) -> None:
    if api.name == "sync" and source_kind.startswith("async"):
        pytest.skip("async sources are the asyncio API's")
    await conn.execute(f"CREATE TABLE {table} (id int, name text, note text)")
    data = CSV_DATA.encode()
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    source: Any
    if source_kind == "path":
        source = path
    elif source_kind == "str-path":
        source = str(path)
    elif source_kind == "binary-file":
        source = open(path, "rb")  # noqa: SIM115 - closed below
    elif source_kind == "text-file":
        source = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
    elif source_kind == "bytes":
        source = data
    elif source_kind == "iterable":
        # Chunk boundaries anywhere, even inside a quoted field.
        source = [data[i:i + 5] for i in range(0, len(data), 5)]
    elif source_kind == "async-iterable":
        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(data), 7):
                await asyncio.sleep(0)
                yield data[i:i + 7]
        source = chunks()
    else:
        source = AsyncReader(data)
    try:
        status = await conn.copy_to_table(table, source=source,
                                          **CSV_OPTIONS)
    finally:
        if hasattr(source, "close") and not isinstance(source, AsyncReader):
            source.close()
    assert status == "COPY 3"
    assert [tuple(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY id")] == CSV_ROWS


async def test_copy_to_table_columns_and_more_options(api: Any, conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b text, c text DEFAULT 'd')")
    # Text format with a custom delimiter and NULL marker, into a column subset.
    status = await conn.copy_to_table(table, columns=["b", "a"],
                                      source=b"x|1\n-|2\n", delimiter="|", null="-")
    assert status == "COPY 2"
    # CSV with FORCE_NULL / FORCE_NOT_NULL and a custom escape.
    status = await conn.copy_to_table(table, columns=["a", "b", "c"], format="csv",
                                      escape="\\", force_null=["b"], force_not_null=["c"],
                                      source=b'3,"",\n4,"q\\"uote",z\n')
    assert status == "COPY 2"
    assert [tuple(r) for r in await conn.fetch(f"SELECT a, b, c FROM {table} ORDER BY a")] == [
        (1, "x", "d"), (2, None, "d"), (3, None, ""), (4, 'q"uote', "z")]
    with pytest.raises(pgwire.InterfaceError):
        await conn.copy_to_table(table, source=b"", format="xml")
    with pytest.raises(pgwire.InterfaceError):
        await conn.copy_to_table(table, source=12345)
    assert await conn.fetchval("SELECT 1") == 1


# ---------------------------------------------------------------------------
# copy_from_table / copy_from_query


async def _fill(conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (id int, name text, note text)")
    await conn.execute(
        f"INSERT INTO {table} VALUES (1, 'semi;colon', NULL), (2, 'it''s', ''), "
        "(3, 'multi\nline', 'x')")


@pytest.mark.parametrize("output_kind", ["path", "str-path", "bytesio", "file", "callable",
                                         "async-callable", "async-write"])
async def test_copy_from_table_outputs(api: Any, conn: Any, table: str, tmp_path: Path,
                                       output_kind: str) -> None:
    if api.name == "sync" and output_kind.startswith("async"):
        pytest.skip("async outputs are the asyncio API's")
    await _fill(conn, table)
    path = tmp_path / "out.csv"
    received: list[bytes] = []
    output: Any
    if output_kind == "path":
        output = path
    elif output_kind == "str-path":
        output = str(path)
    elif output_kind == "bytesio":
        output = io.BytesIO()
    elif output_kind == "file":
        output = open(path, "wb")  # noqa: SIM115 - closed below
    elif output_kind == "callable":
        output = received.append
    elif output_kind == "async-callable":
        async def output(data: bytes) -> None:
            await asyncio.sleep(0)
            received.append(data)
    else:
        class Writer:
            async def write(self, data: bytes) -> None:
                await asyncio.sleep(0)
                received.append(data)
        output = Writer()
    status = await conn.copy_from_table(table, output=output,
                                        format="csv", header=True, null="NIL", delimiter=";")
    assert status == "COPY 3"
    if output_kind == "file":
        output.close()
    if output_kind in ("path", "str-path", "file"):
        data = path.read_bytes()
    elif output_kind == "bytesio":
        data = output.getvalue()
    else:
        data = b"".join(received)
    # Fields holding the delimiter or a newline are quoted; NULL is the NULL
    # string, unquoted; an empty string is empty.
    assert data.decode() == (
        "id;name;note\n"
        '1;"semi;colon";NIL\n'
        "2;it's;\n"
        '3;"multi\nline";x\n'
    )
    # Parsed back, it is the table.
    parsed = list(csv.reader(io.StringIO(data.decode()), delimiter=";"))
    assert parsed == [["id", "name", "note"], ["1", "semi;colon", "NIL"], ["2", "it's", ""],
                      ["3", "multi\nline", "x"]]


async def test_copy_from_table_columns_and_text_format(api: Any, conn: Any, table: str) -> None:
    await _fill(conn, table)
    out = io.BytesIO()
    status = await conn.copy_from_table(table, output=out,
                                        columns=["note", "id"])
    assert status == "COPY 3"
    assert out.getvalue() == b"\\N\t1\n\t2\nx\t3\n"
    out = io.BytesIO()
    await conn.copy_from_table(table, output=out, format="csv",
                               force_quote=True, columns=["id", "name"])
    assert out.getvalue() == b'"1","semi;colon"\n"2","it\'s"\n"3","multi\nline"\n'


async def test_copy_from_query_with_arguments(api: Any, conn: Any) -> None:
    out = io.BytesIO()
    tricky = "it's \"quoted\" $2 \\ back\\slash; DROP TABLE x; --"
    status = await conn.copy_from_query(
        "SELECT $1::text AS a, '$1 stays' AS lit, $2::int + 1 AS n, "
        "E'$2 it\\'s' AS esc, $3::date AS d, $4::text AS nothing /* $1 */",
        tricky, 41, datetime(2024, 5, 6).date(), None,
                                        output=out, format="csv")
    assert status == "COPY 1"
    row = next(csv.reader(io.StringIO(out.getvalue().decode())))
    assert row == [tricky, "$1 stays", "42", "$2 it's", "2024-05-06", ""]
    # The same argument used twice.
    out = io.BytesIO()
    await conn.copy_from_query("SELECT g FROM generate_series($1::int, $1::int + 2) g", 10,
                               output=out)
    assert out.getvalue() == b"10\n11\n12\n"
    # Without arguments the query goes as it is: the server finds no value for $1.
    with pytest.raises(pgwire.UndefinedParameterError):
        await conn.copy_from_query("SELECT $1::int", output=io.BytesIO())
    with pytest.raises(pgwire.InterfaceError):
        await conn.copy_from_query("SELECT $1::int", 1, 2,
                                   output=io.BytesIO())
    with pytest.raises(pgwire.DataError):
        await conn.copy_from_query("SELECT $1::int", "x",
                                   output=io.BytesIO())
    assert await conn.fetchval("SELECT $1::text", "usable") == "usable"


async def test_copy_from_query_server_error(api: Any, conn: Any) -> None:
    out = io.BytesIO()
    with pytest.raises(pgwire.DivisionByZeroError):
        await conn.copy_from_query("SELECT 1 / (g - 50000) FROM generate_series(1, 100000) g",
                                   output=out)
    with pytest.raises(pgwire.PostgresSyntaxError):
        await conn.copy_from_query("SELEC 1", output=out)
    assert await conn.fetchval("SELECT 2") == 2


@pytest.mark.parametrize("where", ["first", "middle"])
async def test_output_callable_raising(api: Any, conn: Any, where: str) -> None:
    calls = 0

    def output(data: bytes) -> None:
        nonlocal calls
        calls += 1
        if where == "first" or calls == 1000:
            raise Boom("the output failed")

    with pytest.raises(Boom, match="the output failed"):
        await conn.copy_from_query("SELECT g, 'row' FROM generate_series(1, 20000) g",
                                   output=output)
    assert await conn.fetchval("SELECT $1::int", 77) == 77
    assert not conn.is_closed()
    out = io.BytesIO()
    assert await conn.copy_from_query("SELECT 1", output=out) == "COPY 1"
    assert out.getvalue() == b"1\n"


@pytest.mark.async_only  # an async output
async def test_async_output_raising(conn: Any) -> None:
    async def output(data: bytes) -> None:
        await asyncio.sleep(0)
        raise Boom("async output failed")

    with pytest.raises(Boom):
        await conn.copy_from_query("SELECT generate_series(1, 50000)", output=output)
    assert await conn.fetchval("SELECT 'ok'") == "ok"


async def test_timeout_before_copy_data_flows(api: Any, conn: Any) -> None:
    # generate_series in FROM is materialised before the first row goes out:
    # the deadline passes while the server works, and the COPY is cancelled.
    out = io.BytesIO()
    started = time.monotonic()
    with pytest.raises(TIMEOUT_ERRORS):
        await conn.copy_from_query("SELECT g, 'text' FROM generate_series(1, 20000000) g",
                                   output=out, timeout=0.3)
    assert await conn.fetchval("SELECT $1::text", "after") == "after"
    assert time.monotonic() - started < 2
    assert not conn.is_closed()


class SlowSink:
    """An output a little slower than the server, so data never stops arriving."""

    def __init__(self) -> None:
        self.calls = 0

    def write(self, data: bytes) -> None:
        self.calls += 1
        if self.calls % 500 == 0:
            time.sleep(0.001)


_SYNC_TIMEOUT_BUG = (
    "BUG: the blocking API's timeout is not enforced while the server keeps sending: "
    "BlockingDriver._receive raises TimeoutError only when its readiness wait finds "
    "nothing to read (it waits with a timeout of 0 once the deadline has passed), so a "
    "steady stream of data runs to completion and the call returns late, successfully"
)
_ASYNC_SINK_BUG = (
    "BUG: on the asyncio API, a timeout or cancellation while COPY TO data streams "
    "leaves the connection stuck: _CopySink.feed keeps queueing CopyData after "
    "deliver() was cancelled and calls transport.pause_reading() once 32 chunks wait, "
    "and nothing resumes reading, so the recovery (cancel request + wait_idle) never "
    "sees ReadyForQuery, gives up after 30 s and terminates the connection"
)


@pytest.mark.parametrize("api", [
    "async",
    "sync",
], indirect=True)
async def test_timeout_while_copy_data_streams(api: Any, conn: Any) -> None:
    # generate_series in the select list streams rows at once, so the
    # deadline passes while data flows.
    sink = SlowSink()
    started = time.monotonic()
    try:
        with pytest.raises(TIMEOUT_ERRORS):
            await conn.copy_from_query("SELECT generate_series(1, 150000), 'some text'",
                                       output=sink, timeout=0.3)
        elapsed = time.monotonic() - started
        assert sink.calls > 0  # the data was flowing when the time ran out
        assert elapsed < 1.2
        assert await asyncio.wait_for(conn.fetchval("SELECT $1::text", "after"), 1.0) == "after"
    except BaseException:
        conn.terminate()  # do not wait out a stuck recovery in the fixture
        raise
    assert time.monotonic() - started < 2
    assert not conn.is_closed()


async def test_copy_methods_validate_arguments(api: Any, conn: Any, table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int)")
    with pytest.raises(pgwire.InterfaceError):
        await conn.copy_from_table(table, output=12345)
    with pytest.raises(pgwire.UndefinedTableError):
        await conn.copy_from_table("no_such_table_here", output=io.BytesIO())
    with pytest.raises(pgwire.UndefinedTableError):
        await conn.copy_records_to_table("no_such_table_here", records=[])
    assert await conn.fetchval("SELECT 3") == 3


async def test_copy_from_query_ending_in_line_comment(api: Any, conn: Any) -> None:
    out = io.BytesIO()
    status = await conn.copy_from_query("SELECT 1 AS one -- the answer", output=out)
    assert status == "COPY 1"
    assert out.getvalue() == b"1\n"


async def test_records_columns_given_as_str_is_rejected(api: Any, conn: Any,
                                                        table: str) -> None:
    await conn.execute(f"CREATE TABLE {table} (a int, b int)")
    with pytest.raises(pgwire.InterfaceError):
        await conn.copy_to_table(table, source=b"1\t2\n", columns="ab")
    with pytest.raises(pgwire.InterfaceError):
        await conn.copy_records_to_table(table, records=[(1, 2)],
                                         columns="ab")


async def test_copy_to_stdout_through_a_query_is_refused(conn: Any) -> None:
    # Its rows arrive as COPY data, which a query cannot return: an error
    # that names the right method, not an empty result; the connection
    # stays in step (the COPY runs to its end).
    for call in (lambda: conn.fetch("COPY (SELECT g FROM generate_series(1, 50000) g) TO STDOUT"),
                 lambda: conn.execute("COPY (SELECT 1) TO STDOUT"),
                 lambda: conn.fetchval("COPY (SELECT 1) TO STDOUT (FORMAT binary)"),
                 lambda: conn.execute("SELECT 1; COPY (SELECT 1) TO STDOUT; SELECT 2")):
        with pytest.raises(pgwire.InterfaceError, match="copy_from_query"):
            await call()
        assert await conn.fetchval("SELECT 41 + 1") == 42
        assert not conn.is_in_transaction()
    async with conn.transaction():
        with pytest.raises(pgwire.InterfaceError, match="copy_from_query"):
            await conn.fetch("COPY (SELECT 1) TO STDOUT")
        assert await conn.fetchval("SELECT 7") == 7  # the transaction was not failed
