"""Shared pytest fixtures: one throwaway PostgreSQL (and pgbouncer) per test session.

``cluster`` starts a :class:`pgwire.testing.TemporaryCluster` the first time
a test asks for it; ``pgbouncer`` starts a real pgbouncer (transaction
pooling) in front of it, also only when asked for. Missing server or
pgbouncer binaries skip the tests that need them, except under CI (``CI``
set), where they fail: scripts/setup.sh installs both.

Other PostgreSQL major versions (14-18) and a hot standby are there for the
tests that ask, started on first use and at most once per session:
``postgres_server(major)`` (or ``versioned_cluster``, parametrised
indirectly with major versions) and ``standby`` (whose ``standby.primary``
is a server of its own, not ``cluster``). Tests using them are marked
``postgres_versions`` or ``standby``, so ``-m "not postgres_versions"``
leaves them out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from missing import missing

from pgwire.testing import (
    BinaryNotFoundError,
    ClusterError,
    PgBouncer,
    StandbyCluster,
    TemporaryCluster,
    find_pgbouncer,
)
from pgwire.testing.oauth import OAuthCluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[TemporaryCluster]:
    """The session's PostgreSQL server (see pgwire.testing.TemporaryCluster)."""
    server = TemporaryCluster()
    try:
        server.start()
    except BinaryNotFoundError as exc:
        missing("PostgreSQL server", exc)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["asyncio", "uvloop"])
def loop_factory(request: pytest.FixtureRequest) -> Any:
    """What makes a new event loop: asyncio's own, then uvloop's."""
    if request.param == "asyncio":
        import asyncio

        return asyncio.new_event_loop
    try:
        import uvloop
    except ImportError as exc:
        missing("uvloop", exc)
    return uvloop.new_event_loop


@pytest.fixture(scope="session")
def pgbouncer(cluster: TemporaryCluster) -> Iterator[PgBouncer]:
    """A pgbouncer in transaction pooling mode (pool size 5) in front of ``cluster``."""
    try:
        find_pgbouncer()
    except BinaryNotFoundError as exc:
        missing("pgbouncer", exc)
    bouncer = cluster.start_pgbouncer(pool_mode="transaction")
    try:
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture(scope="session")
def dsn(cluster: TemporaryCluster) -> str:
    """``postgresql://`` URI for the superuser ``postgres`` on database ``pgwire_test``."""
    return cluster.dsn()


@pytest.fixture
def connect_kwargs(cluster: TemporaryCluster) -> dict[str, Any]:
    """host/port/user/database/password for the superuser on ``pgwire_test`` (a fresh dict)."""
    return cluster.connect_kwargs()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Callable[[int], TemporaryCluster]]:
    """``postgres_server(major)``: a server of PostgreSQL ``major`` (14-18), started on first use.

    Each version starts at most once per session (a failed start is not
    tried again) and is separate from ``cluster``, even when of the same
    major. Binaries missing (scripts/setup.sh unpacks them) skip the test,
    or fail it under CI.
    """
    started: dict[int, TemporaryCluster] = {}
    failed: dict[int, BaseException] = {}

    def get(major: int) -> TemporaryCluster:
        if major not in started and major not in failed:
            server = TemporaryCluster(version=major)
            try:
                server.start()
            except Exception as exc:
                failed[major] = exc
                if not isinstance(exc, BinaryNotFoundError):
                    raise
            else:
                started[major] = server
        if major in started:
            return started[major]
        exc = failed[major]
        if isinstance(exc, BinaryNotFoundError):
            missing(f"PostgreSQL {major}", exc)  # outside the except: no chained traceback
        raise ClusterError(f"PostgreSQL {major} failed to start earlier: {exc}")

    try:
        yield get
    finally:
        for server in reversed(list(started.values())):
            server.stop()


@pytest.fixture
def versioned_cluster(
    request: pytest.FixtureRequest, postgres_server: Callable[[int], TemporaryCluster]
) -> TemporaryCluster:
    """The server of the major version this test is parametrised with, indirectly.

    ``@pytest.mark.parametrize("versioned_cluster", [14, 18], indirect=True)``;
    see ``postgres_server``.
    """
    major = getattr(request, "param", None)
    if not isinstance(major, int):
        pytest.fail(
            "versioned_cluster needs a major version: parametrize it with indirect=True",
            pytrace=False,
        )
    return postgres_server(major)


@pytest.fixture(scope="session")
def standby() -> Iterator[StandbyCluster]:
    """A hot standby streaming from a primary of its own (``standby.primary``).

    Apart from ``cluster``, so that what tests do to the pair (writes on the
    primary, promoting another standby of it) disturbs nobody else. Do not
    promote this one: start another with ``standby.primary.start_standby()``.
    """
    primary = TemporaryCluster()
    try:
        primary.start()
    except BinaryNotFoundError as exc:
        missing("PostgreSQL server", exc)
    try:
        yield primary.start_standby()
    finally:
        primary.stop()  # and its standbys


@pytest.fixture(scope="session")
def oauth_cluster() -> Iterator[OAuthCluster]:
    """A PostgreSQL 18 server where ``oauth_user`` logs in with OAuth (SASL OAUTHBEARER).

    A :class:`pgwire.testing.oauth.OAuthCluster`: the toy validator module
    (compiled with gcc on first use) accepts the bearer token
    ``good.oauth_user`` (``pgwire.testing.oauth.good_token("oauth_user")``)
    and refuses every other; pg_hba.conf has ``host all oauth_user
    127.0.0.1/32 oauth issuer="https://issuer.example.org" scope="openid
    pgwire"`` (``oauth_cluster.hba_line``). Missing PostgreSQL 18 binaries,
    server headers or gcc skip the test, or fail it under CI. Tests using
    it are marked ``postgres_versions``.
    """
    server = OAuthCluster(version=18)
    try:
        server.start()
    except BinaryNotFoundError as exc:
        missing("PostgreSQL 18 with an OAuth validator", exc)
    try:
        yield server
    finally:
        server.stop()


# ===========================================================================
# Connection fixtures: every test runs once per API.
#
# A test that uses ``api``, ``conn`` or ``make_conn`` (directly or through
# another fixture) runs twice: ``[async]`` on the asyncio API
# (``pgwire.connect``) and ``[sync]`` on the blocking API
# (``pgwire.connect_sync``).  Tests are written once, against the awaitable
# interface: for ``sync`` the connection is wrapped in an adapter
# (``SyncConnection``) whose blocking calls run in worker threads.  A method
# that is a coroutine function on the asyncio class (``fetch``, ``execute``,
# ``copy_*``, ``close``...) becomes one that runs the blocking method of the
# same name in a thread; ``prepare``, ``transaction`` and ``cursor`` return
# adapters of the blocking objects (``async with conn.transaction():`` runs
# the blocking ``Transaction.__enter__/__exit__``).  Concurrent awaits
# (``asyncio.gather``, ``ensure_future``) thus become threads sharing one
# blocking connection.  Everything else (``_session``, ``_runner``,
# ``get_server_pid()``, ``is_closed()``, ``is_in_transaction()``,
# ``get_settings()``, ``type_registry``, ``terminate()``...) passes straight
# through.  ``api.unwrap(obj)`` gives the blocking object behind an adapter.
#
# Tests about asyncio itself (task cancellation, the order in which tasks
# queue, a closed connection noticed while idle) are marked
# ``@pytest.mark.async_only``; tests of the blocking API alone are in
# test_sync.py (``@pytest.mark.sync_only`` or plain synchronous tests).
# ===========================================================================

import asyncio  # noqa: E402
import concurrent.futures  # noqa: E402
import functools  # noqa: E402
import inspect  # noqa: E402
from collections.abc import AsyncIterator, Awaitable, Callable  # noqa: E402
from types import TracebackType  # noqa: E402

import pgwire  # noqa: E402
import pgwire.sync  # noqa: E402

API_NAMES = ("async", "sync")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "async_only: run only with the asyncio API (asyncio-specific behaviour)"
    )
    config.addinivalue_line("markers", "sync_only: run only with the blocking API")
    config.addinivalue_line(
        "markers", "postgres_versions: starts servers of other PostgreSQL major versions"
    )
    config.addinivalue_line("markers", "standby: starts a primary and a hot standby")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise every test that needs ``api`` over the APIs its markers allow."""
    if "api" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        argnames = mark.args[0]
        if isinstance(argnames, str):
            argnames = argnames.split(",")
        if "api" in (name.strip() for name in argnames):
            return  # the test chooses its APIs itself
    if metafunc.definition.get_closest_marker("async_only"):
        names: tuple[str, ...] = ("async",)
    elif metafunc.definition.get_closest_marker("sync_only"):
        names = ("sync",)
    else:
        names = API_NAMES
    metafunc.parametrize("api", names, indirect=True)


# The blocking calls run in a pool of their own: asyncio's default executor
# has only min(32, cpus + 4) threads, too few when many blocked calls wait
# for each other (20 clients queued in front of a 5-connection pgbouncer,
# or 50 calls queued on one connection's lock), which would deadlock.
# Threads are started on demand.
_WORKERS = concurrent.futures.ThreadPoolExecutor(max_workers=64,
                                                 thread_name_prefix="pgwire-sync-test")


async def in_thread(func: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
    """Run a blocking call in a worker thread and wait for it."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_WORKERS, functools.partial(func, *args, **kwargs))


def _coroutine_methods(cls: type) -> frozenset[str]:
    """The public methods of an asyncio API class that are coroutine functions."""
    return frozenset(name for name in dir(cls)
                     if not name.startswith("_")
                     and inspect.iscoroutinefunction(getattr(cls, name)))


class _Adapter:
    """Wraps a blocking object.  Where the asyncio API's class (``_async_class``)
    has a coroutine method, the wrapped object's method of that name becomes a
    coroutine run in a worker thread; every other attribute is the wrapped
    object's own."""

    _async_class: type = object
    _blocking: frozenset[str] = frozenset()

    def __init_subclass__(cls) -> None:
        cls._blocking = _coroutine_methods(cls._async_class) | cls._blocking

    def __init__(self, target: Any) -> None:
        object.__setattr__(self, "_target", target)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if name in self._blocking:
            return functools.partial(in_thread, attr)
        return attr

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._target, name, value)

    def __repr__(self) -> str:
        return repr(self._target)


class SyncPreparedStatement(_Adapter):
    _async_class = pgwire.PreparedStatement

    def cursor(self, *args: Any, **kwargs: Any) -> SyncCursorFactory:
        return SyncCursorFactory(functools.partial(self._target.cursor, *args, **kwargs))


class SyncTransaction(_Adapter):
    """``async with`` runs the blocking ``with`` protocol (``__enter__``/``__exit__``)."""

    _async_class = pgwire.Transaction

    async def __aenter__(self) -> SyncTransaction:
        await in_thread(self._target.__enter__)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> bool | None:
        return await in_thread(self._target.__exit__, exc_type, exc, tb)


class SyncCursor(_Adapter):
    _async_class = pgwire.Cursor


class SyncCursorFactory:
    """``conn.cursor(...)``: awaited, an open cursor; iterated (``async for``), its rows."""

    def __init__(self, open_cursor: Callable[[], Any]) -> None:
        self._open_cursor = open_cursor

    async def _open(self) -> SyncCursor:
        return SyncCursor(await in_thread(self._open_cursor))

    def __await__(self) -> Any:
        return self._open().__await__()

    async def __aiter__(self) -> AsyncIterator[Any]:
        rows = iter(await in_thread(self._open_cursor))
        end = object()
        while (row := await in_thread(next, rows, end)) is not end:
            yield row


class SyncReplicationStream(_Adapter):
    """A ``pgwire.sync.ReplicationStream``: ``async for`` runs ``next`` in a
    worker thread, ``async with`` the blocking ``with``."""

    _async_class = pgwire.ReplicationStream

    def __aiter__(self) -> SyncReplicationStream:
        return self

    async def __anext__(self) -> Any:
        end = object()
        item = await in_thread(next, self._target, end)
        if item is end:
            raise StopAsyncIteration
        return item

    async def __aenter__(self) -> SyncReplicationStream:
        await in_thread(self._target.__enter__)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await in_thread(self._target.__exit__, exc_type, exc, tb)


class SyncConnection(_Adapter):
    """A ``pgwire.sync.Connection`` with the asyncio connection's awaitable interface."""

    _async_class = pgwire.Connection
    _blocking = frozenset({"process_notifications"})

    def logical_replication(self, *args: Any, **kwargs: Any) -> SyncReplicationStream:
        return SyncReplicationStream(self._target.logical_replication(*args, **kwargs))

    def start_replication(self, *args: Any, **kwargs: Any) -> SyncReplicationStream:
        return SyncReplicationStream(self._target.start_replication(*args, **kwargs))

    def physical_replication(self, *args: Any, **kwargs: Any) -> SyncReplicationStream:
        return SyncReplicationStream(self._target.physical_replication(*args, **kwargs))

    async def prepare(self, query: str, **kwargs: Any) -> SyncPreparedStatement:
        return SyncPreparedStatement(await in_thread(self._target.prepare, query, **kwargs))

    def transaction(self, **kwargs: Any) -> SyncTransaction:
        return SyncTransaction(self._target.transaction(**kwargs))

    def cursor(self, query: str, *args: Any, **kwargs: Any) -> SyncCursorFactory:
        return SyncCursorFactory(functools.partial(self._target.cursor, query, *args, **kwargs))


class SyncAcquireContext:
    """``pool.acquire()`` of a blocking pool: ``async with`` runs ``with``; awaited,
    a connection (``getconn``)."""

    def __init__(self, pool: Any, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._context: Any = None

    async def __aenter__(self) -> SyncConnection:
        self._context = self._pool.acquire(timeout=self._timeout)
        return SyncConnection(await in_thread(self._context.__enter__))

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await in_thread(self._context.__exit__, exc_type, exc, tb)

    def __await__(self) -> Any:
        async def get() -> SyncConnection:
            return SyncConnection(await in_thread(self._pool.getconn, timeout=self._timeout))
        return get().__await__()


class SyncPool(_Adapter):
    """A ``pgwire.sync.Pool`` with the asyncio pool's awaitable interface."""

    _async_class = pgwire.Pool

    def acquire(self, *, timeout: float | None = None) -> SyncAcquireContext:
        return SyncAcquireContext(self._target, timeout)

    async def getconn(self, *, timeout: float | None = None) -> SyncConnection:
        return SyncConnection(await in_thread(self._target.getconn, timeout=timeout))

    async def release(self, connection: Any, **kwargs: Any) -> None:
        await in_thread(self._target.release, Api.unwrap(connection), **kwargs)

    async def putconn(self, connection: Any) -> None:
        await in_thread(self._target.putconn, Api.unwrap(connection))

    async def __aenter__(self) -> SyncPool:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await in_thread(self._target.close)


def _sync_callback(callback: Any) -> Any:
    """A pool callback (``init``, ``setup``, ``reset``, ``connect``) written as a
    coroutine function, for a blocking pool: called in the pool's thread, it
    runs the coroutine on the test's loop with the connection adapted."""
    if callback is None:
        return None
    loop = asyncio.get_running_loop()

    def call(*args: Any, **kwargs: Any) -> Any:
        wrapped = [SyncConnection(a) if isinstance(a, pgwire.sync.Connection) else a
                   for a in args]
        result = asyncio.run_coroutine_threadsafe(callback(*wrapped, **kwargs), loop).result()
        return Api.unwrap(result)

    return call


async def _create_sync_pool(*args: Any, **kwargs: Any) -> SyncPool:
    for name in ("init", "setup", "reset"):
        kwargs[name] = _sync_callback(kwargs.get(name))
    return SyncPool(await in_thread(pgwire.sync.create_pool, *args, **kwargs))


async def _create_async_pool(*args: Any, **kwargs: Any) -> Any:
    return await pgwire.create_pool(*args, **kwargs)


class Api:
    """One of the two APIs, as the tests see it (the ``api`` fixture)."""

    def __init__(self, name: str, connect: Callable[..., Awaitable[Any]],
                 module: Any, notices_close_while_idle: bool,
                 create_pool: Callable[..., Awaitable[Any]]) -> None:
        self.name = name
        self.connect = connect  # ``await api.connect(dsn, **kwargs)``: a connection
        # ``await api.create_pool(dsn, **kwargs)``: an open pool; callbacks
        # are written as coroutine functions for both APIs.
        self.create_pool = create_pool
        self.Pool: type = module.Pool
        self.Connection: type = module.Connection  # for connection_class=
        self.Transaction: type = module.Transaction
        self.PreparedStatement: type = module.PreparedStatement
        # The asyncio connection reads whenever the server sends (a FATAL
        # message, EOF) and is_closed() turns True by itself; a blocking one
        # reads only inside a call, so it notices at the next call.
        self.notices_close_while_idle = notices_close_while_idle

    @staticmethod
    def unwrap(obj: Any) -> Any:
        """The API's own object behind an adapter (the object itself for async)."""
        return obj._target if isinstance(obj, _Adapter) else obj

    def __repr__(self) -> str:
        return f"<Api {self.name}>"


async def _connect_sync(*args: Any, **kwargs: Any) -> SyncConnection:
    return SyncConnection(await in_thread(pgwire.connect_sync, *args, **kwargs))


APIS = {
    "async": Api("async", pgwire.connect, pgwire, notices_close_while_idle=True,
                 create_pool=_create_async_pool),
    "sync": Api("sync", _connect_sync, pgwire.sync, notices_close_while_idle=False,
                create_pool=_create_sync_pool),
}


@pytest.fixture
def api(request: pytest.FixtureRequest) -> Api:
    """The API under test: ``async`` or ``sync`` (see ``pytest_generate_tests``)."""
    return APIS[request.param]


@pytest.fixture
async def conn(api: Api, cluster: TemporaryCluster) -> AsyncIterator[Any]:
    """A fresh superuser connection to ``pgwire_test`` (TCP, no SSL), of the API under test."""
    connection = await api.connect(**cluster.connect_kwargs(), ssl="disable")
    try:
        yield connection
    finally:
        if not connection.is_closed():
            try:
                await asyncio.wait_for(connection.close(), 10)
            except (TimeoutError, asyncio.TimeoutError):
                connection.terminate()


@pytest.fixture
async def make_conn(api: Api, cluster: TemporaryCluster) -> AsyncIterator[Any]:
    """A factory for more connections: ``await make_conn(**overrides)``; all closed at the end."""
    opened: list[Any] = []

    async def factory(**overrides: Any) -> Any:
        kwargs = {**cluster.connect_kwargs(), "ssl": "disable", **overrides}
        connection = await api.connect(**kwargs)
        opened.append(connection)
        return connection

    yield factory
    for connection in opened:
        if not connection.is_closed():
            connection.terminate()
