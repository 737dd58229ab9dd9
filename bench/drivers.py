"""Driver adapters: the same few operations spelled in each driver's own API.

Every adapter connects with TLS off (``ssl=False`` / ``sslmode=disable``),
except when the connection info says ``tls=True`` (the ``connect_tls``
workload): then each driver's equivalent of ``sslmode=require`` (encrypted,
the certificate not verified). Each uses the driver's idiomatic fast path:

* pgwire and asyncpg: ``fetchval`` / ``fetch`` / ``executemany`` with ``$n``
  parameters (named statements cached per connection, binary formats where
  the driver picks them).
* psycopg 3 (async and sync): one reused cursor, ``execute`` + ``fetchone`` /
  ``fetchall``, ``executemany`` (which psycopg pipelines itself) inside a
  transaction (as asyncpg's ``executemany`` is atomic); ``autocommit=True``
  so each other statement is its own implicit transaction, as with asyncpg.
  Defaults otherwise: ``%s`` parameters (psycopg picks text or binary per
  type), text-format results, ``prepare_threshold=5`` (server-side prepared
  from the 5th execution of a statement on).
* pg8000: the native API, ``Connection.run`` with ``:name`` parameters; it
  has no ``executemany``, so that workload runs a ``Connection.prepare``-d
  statement once per row inside ``START TRANSACTION`` / ``COMMIT``.

``copy_in`` (``copy_records``): pgwire (async and blocking) and asyncpg call
``copy_records_to_table`` (binary COPY); psycopg 3 opens
``cursor.copy("COPY ... FROM STDIN (FORMAT BINARY)")``, calls
``set_types`` and ``write_row`` per record; pg8000 has no record encoder, so
its adapter turns the records into COPY text (tab-separated lines, text
escaped) in chunks of 10,000 rows, generated while ``run("COPY ... FROM
STDIN", stream=...)`` sends them: the text building is timed, as it is the
client's work.

``select1_pool`` (``open_pool``): each driver's own pool, ``size``
connections, each call an acquire, one ``SELECT $1::int`` and a release:
``pgwire.create_pool`` / ``pgwire.sync.create_pool``, ``asyncpg.create_pool``
and psycopg_pool's ``AsyncConnectionPool`` / ``ConnectionPool`` (with
``autocommit=True`` connections, as above); pg8000 has no pool.

Each adapter only wraps calls; the timed loops live in ``worker.py``. Driver
modules are imported lazily so a missing driver only fails its own rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from workloads import (
    COPY_BINARY_SQL,
    COPY_COLUMNS,
    COPY_TABLE,
    COPY_TEXT_SQL,
    COPY_TYPES,
    EXECUTEMANY_SQL,
    SELECT1_SQL,
)

ConnInfo = dict[str, Any]
_A = TypeVar("_A", bound="AsyncClient")
_S = TypeVar("_S", bound="SyncClient")
Row = tuple[int, str, float, dt.datetime]


def _plain(info: ConnInfo) -> ConnInfo:
    """The connection info without the benchmark's own ``tls`` flag."""
    return {k: v for k, v in info.items() if k != "tls"}


def _asyncpg_ssl(info: ConnInfo) -> Any:
    """``ssl=`` of pgwire and asyncpg: ``"require"`` for TLS, else off."""
    return "require" if info.get("tls") else False


def _to_percent_s(sql: str, nparams: int) -> str:
    """``$1..$n`` -> ``%s`` (psycopg); highest number first so $10 is not hit by $1."""
    for n in range(nparams, 0, -1):
        sql = sql.replace(f"${n}", "%s")
    return sql


def _to_named(sql: str, names: Sequence[str]) -> str:
    """``$1..$n`` -> ``:name`` (pg8000 native)."""
    for n in range(len(names), 0, -1):
        sql = sql.replace(f"${n}", f":{names[n - 1]}")
    return sql


def find_pgwire_sync_connect() -> Callable[..., Any] | None:
    """pgwire's blocking ``connect`` (``pgwire.sync.connect`` or ``pgwire.connect_sync``), if any."""
    import pgwire

    try:
        from pgwire import sync as pgwire_sync
    except ImportError:
        pass
    else:
        connect = getattr(pgwire_sync, "connect", None)
        if callable(connect):
            return connect  # type: ignore[no-any-return]

    connect_sync = getattr(pgwire, "connect_sync", None)
    return connect_sync if callable(connect_sync) else None


# --------------------------------------------------------------------- async


class AsyncClient:
    """Base of the asyncio adapters: wraps one driver connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @classmethod
    async def open(cls: type[_A], info: ConnInfo) -> _A:
        raise NotImplementedError

    @classmethod
    async def open_pool(cls, info: ConnInfo, size: int) -> AsyncPool:
        raise NotImplementedError(f"{cls.__name__} has no connection pool")

    async def select1(self, i: int) -> Any:
        raise NotImplementedError

    async def fetch_all(self, sql: str) -> Sequence[Any]:
        raise NotImplementedError

    async def executemany(self, rows: list[Row]) -> None:
        raise NotImplementedError

    async def copy_records(self, records: list[Row]) -> None:
        raise NotImplementedError

    async def execute(self, sql: str) -> None:
        raise NotImplementedError

    async def scalar(self, sql: str) -> Any:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError


class AsyncPool:
    """A driver's own asyncio pool: ``select1`` is acquire, query, release."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    async def select1(self, i: int) -> Any:
        async with self._pool.acquire() as conn:
            return await conn.fetchval(SELECT1_SQL, i)

    async def close(self) -> None:
        await self._pool.close()


class _PsycopgAsyncPool(AsyncPool):
    async def select1(self, i: int) -> Any:
        async with self._pool.connection() as conn:
            cur = await conn.execute(_PSYCOPG_SELECT1, (i,))
            return (await cur.fetchone())[0]


class _AsyncpgStyle(AsyncClient):
    """pgwire and asyncpg share asyncpg's API."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self._fetchval = conn.fetchval
        self._fetch = conn.fetch

    async def select1(self, i: int) -> Any:
        return await self._fetchval(SELECT1_SQL, i)

    async def fetch_all(self, sql: str) -> Sequence[Any]:
        return await self._fetch(sql)  # type: ignore[no-any-return]

    async def executemany(self, rows: list[Row]) -> None:
        await self._conn.executemany(EXECUTEMANY_SQL, rows)

    async def copy_records(self, records: list[Row]) -> None:
        await self._conn.copy_records_to_table(
            COPY_TABLE, records=records, columns=list(COPY_COLUMNS)
        )

    async def execute(self, sql: str) -> None:
        await self._conn.execute(sql)

    async def scalar(self, sql: str) -> Any:
        return await self._fetchval(sql)

    async def close(self) -> None:
        await self._conn.close()


class PgwireAsync(_AsyncpgStyle):
    """``pgwire.connect`` (asyncpg-compatible API)."""

    @classmethod
    async def open(cls: type[_A], info: ConnInfo) -> _A:
        import pgwire

        return cls(await pgwire.connect(**_plain(info), ssl=_asyncpg_ssl(info)))

    @classmethod
    async def open_pool(cls, info: ConnInfo, size: int) -> AsyncPool:
        import pgwire

        return AsyncPool(await pgwire.create_pool(**info, ssl=False, min_size=size,
                                                  max_size=size))


class Asyncpg(_AsyncpgStyle):
    """``asyncpg.connect``."""

    @classmethod
    async def open(cls: type[_A], info: ConnInfo) -> _A:
        import asyncpg

        return cls(await asyncpg.connect(**_plain(info), ssl=_asyncpg_ssl(info)))

    @classmethod
    async def open_pool(cls, info: ConnInfo, size: int) -> AsyncPool:
        import asyncpg

        return AsyncPool(await asyncpg.create_pool(**info, ssl=False, min_size=size,
                                                   max_size=size))


def _psycopg_kwargs(info: ConnInfo) -> dict[str, Any]:
    kwargs = {
        "host": info["host"],
        "port": info["port"],
        "user": info["user"],
        "dbname": info["database"],
        "sslmode": "require" if info.get("tls") else "disable",
        "autocommit": True,
    }
    if info.get("password"):
        kwargs["password"] = info["password"]
    return kwargs


_PSYCOPG_SELECT1 = _to_percent_s(SELECT1_SQL, 1)
_PSYCOPG_EXECUTEMANY = _to_percent_s(EXECUTEMANY_SQL, 4)


class PsycopgAsync(AsyncClient):
    """``psycopg.AsyncConnection`` with one reused cursor."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self._cur = conn.cursor()

    @classmethod
    async def open(cls: type[_A], info: ConnInfo) -> _A:
        import psycopg

        return cls(await psycopg.AsyncConnection.connect(**_psycopg_kwargs(info)))

    @classmethod
    async def open_pool(cls, info: ConnInfo, size: int) -> AsyncPool:
        import psycopg_pool

        pool = psycopg_pool.AsyncConnectionPool(
            "", kwargs=_psycopg_kwargs(info), min_size=size, max_size=size, open=False)
        await pool.open(wait=True)
        return _PsycopgAsyncPool(pool)

    async def select1(self, i: int) -> Any:
        cur = self._cur
        await cur.execute(_PSYCOPG_SELECT1, (i,))
        row = await cur.fetchone()
        return row[0]

    async def fetch_all(self, sql: str) -> Sequence[Any]:
        cur = self._cur
        await cur.execute(sql)
        return await cur.fetchall()  # type: ignore[no-any-return]

    async def executemany(self, rows: list[Row]) -> None:
        async with self._conn.transaction():
            await self._cur.executemany(_PSYCOPG_EXECUTEMANY, rows)

    async def copy_records(self, records: list[Row]) -> None:
        async with self._cur.copy(COPY_BINARY_SQL) as copy:
            copy.set_types(list(COPY_TYPES))
            write_row = copy.write_row
            for record in records:
                await write_row(record)

    async def execute(self, sql: str) -> None:
        await self._cur.execute(sql)

    async def scalar(self, sql: str) -> Any:
        await self._cur.execute(sql)
        return (await self._cur.fetchone())[0]

    async def close(self) -> None:
        await self._conn.close()


# ---------------------------------------------------------------------- sync


class SyncClient:
    """Base of the blocking adapters: wraps one driver connection."""

    def __init__(self, conn: Any) -> None:
        self._conn = conn

    @classmethod
    def open(cls: type[_S], info: ConnInfo) -> _S:
        raise NotImplementedError

    @classmethod
    def open_pool(cls, info: ConnInfo, size: int) -> SyncPool:
        raise NotImplementedError(f"{cls.__name__} has no connection pool")

    def select1(self, i: int) -> Any:
        raise NotImplementedError

    def fetch_all(self, sql: str) -> Sequence[Any]:
        raise NotImplementedError

    def executemany(self, rows: list[Row]) -> None:
        raise NotImplementedError

    def copy_records(self, records: list[Row]) -> None:
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def scalar(self, sql: str) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class SyncPool:
    """A driver's own blocking pool, shared by threads: ``select1`` is
    acquire, query, release."""

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    def select1(self, i: int) -> Any:
        with self._pool.acquire() as conn:
            return conn.fetchval(SELECT1_SQL, i)

    def close(self) -> None:
        self._pool.close()


class _PsycopgSyncPool(SyncPool):
    def select1(self, i: int) -> Any:
        with self._pool.connection() as conn:
            return conn.execute(_PSYCOPG_SELECT1, (i,)).fetchone()[0]


class PgwireSync(SyncClient):
    """pgwire's blocking API: the async method names, blocking."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self._fetchval = conn.fetchval
        self._fetch = conn.fetch

    @classmethod
    def open(cls: type[_S], info: ConnInfo) -> _S:
        connect = find_pgwire_sync_connect()
        if connect is None:
            raise RuntimeError("this pgwire has no blocking API (pgwire.sync / connect_sync)")
        return cls(connect(**_plain(info), ssl=_asyncpg_ssl(info)))

    @classmethod
    def open_pool(cls, info: ConnInfo, size: int) -> SyncPool:
        import pgwire.sync

        return SyncPool(pgwire.sync.create_pool(**info, ssl=False, min_size=size,
                                                max_size=size))

    def select1(self, i: int) -> Any:
        return self._fetchval(SELECT1_SQL, i)

    def fetch_all(self, sql: str) -> Sequence[Any]:
        return self._fetch(sql)  # type: ignore[no-any-return]

    def executemany(self, rows: list[Row]) -> None:
        self._conn.executemany(EXECUTEMANY_SQL, rows)

    def copy_records(self, records: list[Row]) -> None:
        self._conn.copy_records_to_table(COPY_TABLE, records=records, columns=list(COPY_COLUMNS))

    def execute(self, sql: str) -> None:
        self._conn.execute(sql)

    def scalar(self, sql: str) -> Any:
        return self._fetchval(sql)

    def close(self) -> None:
        self._conn.close()


class PsycopgSync(SyncClient):
    """``psycopg.Connection`` with one reused cursor."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self._cur = conn.cursor()

    @classmethod
    def open(cls: type[_S], info: ConnInfo) -> _S:
        import psycopg

        return cls(psycopg.connect(**_psycopg_kwargs(info)))

    @classmethod
    def open_pool(cls, info: ConnInfo, size: int) -> SyncPool:
        import psycopg_pool

        pool = psycopg_pool.ConnectionPool(
            "", kwargs=_psycopg_kwargs(info), min_size=size, max_size=size, open=False)
        pool.open(wait=True)
        return _PsycopgSyncPool(pool)

    def select1(self, i: int) -> Any:
        cur = self._cur
        cur.execute(_PSYCOPG_SELECT1, (i,))
        return cur.fetchone()[0]

    def fetch_all(self, sql: str) -> Sequence[Any]:
        cur = self._cur
        cur.execute(sql)
        return cur.fetchall()  # type: ignore[no-any-return]

    def executemany(self, rows: list[Row]) -> None:
        with self._conn.transaction():
            self._cur.executemany(_PSYCOPG_EXECUTEMANY, rows)

    def copy_records(self, records: list[Row]) -> None:
        with self._cur.copy(COPY_BINARY_SQL) as copy:
            copy.set_types(list(COPY_TYPES))
            write_row = copy.write_row
            for record in records:
                write_row(record)

    def execute(self, sql: str) -> None:
        self._cur.execute(sql)

    def scalar(self, sql: str) -> Any:
        self._cur.execute(sql)
        return self._cur.fetchone()[0]

    def close(self) -> None:
        self._conn.close()


_PG8000_NAMES = ("a", "b", "c", "d")
_PG8000_SELECT1 = _to_named(SELECT1_SQL, ("x",))
_PG8000_EXECUTEMANY = _to_named(EXECUTEMANY_SQL, _PG8000_NAMES)
#: COPY text format: backslash, tab, newline and carriage return escaped in text values.
_COPY_TEXT_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_TEXT_CHUNK_ROWS = 10_000


def copy_text_chunks(records: Iterable[Row], encoding: str = "utf-8") -> Iterator[bytes]:
    """The records as COPY text (no NULLs in them), ~10,000 lines per chunk.

    Written for this table's (int, text, float8, timestamptz) columns: ``str``
    of the int, the text escaped, ``repr`` of the float (round-trips), ISO 8601
    of the timestamp with its offset.
    """
    escapes = _COPY_TEXT_ESCAPES
    lines: list[str] = []
    append = lines.append
    for a, b, c, d in records:
        append(f"{a}\t{b.translate(escapes)}\t{c!r}\t{d.isoformat()}\n")
        if len(lines) >= _COPY_TEXT_CHUNK_ROWS:
            yield "".join(lines).encode(encoding)
            lines.clear()
    if lines:
        yield "".join(lines).encode(encoding)


def _unverified_context() -> Any:
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


class Pg8000(SyncClient):
    """``pg8000.native.Connection`` (no TLS: ``ssl_context=None``; for ``tls``
    a context that encrypts without verifying, as ``sslmode=require``)."""

    def __init__(self, conn: Any) -> None:
        super().__init__(conn)
        self._run = conn.run
        self._insert: Any = None

    @classmethod
    def open(cls: type[_S], info: ConnInfo) -> _S:
        import pg8000.native

        where: dict[str, Any] = {"host": info["host"], "port": info["port"]}
        if str(info["host"]).startswith("/"):  # a socket directory, as libpq takes it
            where = {"unix_sock": f"{info['host']}/.s.PGSQL.{info['port']}"}
        return cls(
            pg8000.native.Connection(
                user=info["user"],
                database=info["database"],
                password=info.get("password"),
                ssl_context=_unverified_context() if info.get("tls") else None,
                **where,
            )
        )

    def select1(self, i: int) -> Any:
        return self._run(_PG8000_SELECT1, x=i)[0][0]

    def fetch_all(self, sql: str) -> Sequence[Any]:
        return self._run(sql)  # type: ignore[no-any-return]

    def executemany(self, rows: list[Row]) -> None:
        if self._insert is None:
            self._insert = self._conn.prepare(_PG8000_EXECUTEMANY)
        run = self._insert.run
        self._run("START TRANSACTION")
        try:
            for a, b, c, d in rows:
                run(a=a, b=b, c=c, d=d)
        except BaseException:
            self._run("ROLLBACK")
            raise
        self._run("COMMIT")

    def copy_records(self, records: list[Row]) -> None:
        self._run(COPY_TEXT_SQL, stream=copy_text_chunks(records))

    def execute(self, sql: str) -> None:
        self._run(sql)

    def scalar(self, sql: str) -> Any:
        return self._run(sql)[0][0]

    def close(self) -> None:
        if self._insert is not None:
            self._insert.close()
        self._conn.close()


#: Adapter per driver id; the orchestrator adds build variants (env) on top.
ASYNC_DRIVERS: dict[str, type[AsyncClient]] = {
    "pgwire_async": PgwireAsync,
    "asyncpg": Asyncpg,
    "psycopg_async": PsycopgAsync,
}
SYNC_DRIVERS: dict[str, type[SyncClient]] = {
    "pgwire_sync": PgwireSync,
    "psycopg_sync": PsycopgSync,
    "pg8000": Pg8000,
}
