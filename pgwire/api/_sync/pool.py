# Generated from pgwire/api/_async/pool.py by scripts/unasync.py: edit that file, not this one.
"""The blocking connection pool, with asyncpg's API: ``pgwire.sync.create_pool(...)``.

``with pool.acquire() as conn:`` lends a connection; leaving the
block gives it back.  What this pool does differently from asyncpg's:

* **Releasing sends nothing when nothing changed.**  The connection watches
  the session state its user may have changed (an open or failed
  transaction, SET/RESET, LISTEN, cursors, SQL-level PREPARE, temporary
  objects, advisory locks: see :mod:`pgwire.protocol.session_state`), and
  the release runs a reset (one round trip) only then, and only of what
  changed.  asyncpg resets on every release.
* **First come, first served.**  A released connection goes straight to
  the oldest waiter; a newcomer cannot take it first.  An acquire that
  times out or is cancelled gives back whatever it was handed meanwhile,
  so no connection is ever lost.
* **Health.**  A connection the server closed while idle is dropped at
  acquire (the caller gets another one, not an error); the pool refills to
  ``min_size`` in the background, retrying with backoff while the server is
  unreachable, so with several hosts and ``target_session_attrs`` it follows
  a failover by itself.
* Behind a pooler (pgbouncer, found at connect), a release only ends an
  open transaction: in transaction mode any other reset statement would run
  on another client's server connection.

A connection handed back cannot be used through the old reference (its
methods raise InterfaceError), nor can what it made (prepared statements,
cursors, transactions).  The blocking pool (``pgwire.sync.create_pool``) is
generated from this module and is safe to share between threads.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from types import TracebackType
from typing import Any

from ...conninfo.secret import mask_connect_arguments
from ...exceptions import InterfaceError
from ...types.record import Record
from ..flavours import SyncFlavour as flavour
from ..pooling import PoolStats, check_pool_arguments, check_timeout
from .connection import Connection, detach, is_detached, lease, runner_of
from .connection import connect as connect_connection
from .runner import Runner

__all__ = ["Pool", "PoolAcquireContext", "create_pool"]

log = logging.getLogger("pgwire.pool")

# How often idle connections are looked at (closed by the server? idle too long?).
HEALTH_INTERVAL = 5.0
# Retry delays of the background refill after a failed connection attempt.
FIRST_RETRY = 0.1
LAST_RETRY = 10.0
# The background refill gives up a connection attempt after this long
# (unless the connect arguments set a shorter timeout).
REFILL_TIMEOUT = 60.0
# Close(): how long to wait for connections to be released before saying so.
CLOSE_WARNING_SECONDS = 60.0
# Closing a connection the pool retires (Terminate), at most this long.
RETIRE_TIMEOUT = 5.0

_NEW, _OPENING, _OPEN, _CLOSING, _CLOSED = "new", "opening", "open", "closing", "closed"


class _OpenSlot:
    """Handed to a waiter instead of a connection: "open one, the place is yours"."""

    __slots__ = ()


class _PoolClosing:
    """Handed to the waiters when the pool closes."""

    __slots__ = ()


_OPEN_SLOT = _OpenSlot()
_POOL_CLOSING = _PoolClosing()


class _Holder:
    """One connection of the pool and what the pool knows about it."""

    __slots__ = ("connection", "runner", "generation", "idle_since", "behind_pooler",
                 "lent", "timeout")

    def __init__(self, connection: Connection, runner: Runner, generation: int,
                 behind_pooler: bool) -> None:
        self.connection = connection
        self.runner = runner
        self.generation = generation
        self.behind_pooler = behind_pooler
        self.idle_since = 0.0
        self.lent = False
        self.timeout: float | None = None  # the acquire's, the default for its release


class PoolAcquireContext:
    """What ``pool.acquire()`` returns, for ``with pool.acquire() as conn:``
    (the asyncio one can also be awaited for the connection)."""

    __slots__ = ("_pool", "_timeout", "_connection", "_done")

    def __init__(self, pool: Pool, timeout: float | None) -> None:
        self._pool = pool
        self._timeout = timeout
        self._connection: Connection | None = None
        self._done = False

    @property
    def pool(self) -> Pool:
        """The pool the connection comes from."""
        return self._pool

    @property
    def timeout(self) -> float | None:
        """The acquire's timeout, as given."""
        return self._timeout

    @property
    def connection(self) -> Connection | None:
        """The connection while the ``async with`` block runs, else None."""
        return self._connection

    @property
    def done(self) -> bool:
        """True once the block has ended and the connection was released."""
        return self._done

    def __enter__(self) -> Connection:
        if self._connection is not None:
            raise InterfaceError("a connection is already acquired by this context")
        self._connection = self._pool._acquire(self._timeout)
        return self._connection

    def __exit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        connection, self._connection = self._connection, None
        self._done = True
        if connection is not None:
            self._pool.release(connection)


class Pool:
    """A pool of connections (see the module docstring); made by :func:`create_pool`."""

    def __init__(
        self,
        *connect_args: Any,
        min_size: int,
        max_size: int,
        max_queries: int,
        max_inactive_connection_lifetime: float,
        connect: Callable[..., Any] | None = None,
        setup: Callable[[Connection], Any] | None = None,
        init: Callable[[Connection], Any] | None = None,
        reset: Callable[[Connection], Any] | None = None,
        connection_class: type[Connection] = Connection,
        record_class: type[Record] = Record,
        **connect_kwargs: Any,
    ) -> None:
        # Masked at once: kept for every new connection, shown in tracebacks.
        connect_args, connect_kwargs = mask_connect_arguments(connect_args, connect_kwargs)
        check_pool_arguments(
            min_size=min_size, max_size=max_size, max_queries=max_queries,
            max_inactive_connection_lifetime=max_inactive_connection_lifetime,
            connection_class=connection_class, connection_base=Connection,
            record_class=record_class,
        )
        if len(connect_args) > 1:
            raise TypeError("the pool takes one positional argument, the dsn")
        self._min_size = min_size
        self._max_size = max_size
        self._max_queries = max_queries
        self._lifetime = float(max_inactive_connection_lifetime)
        self._connect = connect if connect is not None else connect_connection
        self._connect_args = connect_args
        self._connect_kwargs = connect_kwargs
        self._setup = setup
        self._init = init
        self._reset = reset
        self._connection_class = connection_class
        self._record_class = record_class

        self._state = _NEW
        self._mutex = flavour.Mutex()
        self._idle: deque[_Holder] = deque()  # most recently released last
        self._waiters: deque[Any] = deque()
        self._holders: set[_Holder] = set()
        self._in_use: dict[Connection, _Holder] = {}
        self._size = 0  # open connections and places reserved for ones being opened
        self._lent = 0  # connections lent out or being released
        self._generation = 0
        self._wakeup: Any = None  # the housekeeper's (made on the loop or thread that opens)
        self._released: Any = None
        self._stopped: Any = None
        self._housekeeper: Any = None

        self._acquires = 0
        self._acquires_waited = 0
        self._acquire_wait = 0.0
        self._acquires_failed = 0
        self._resets = 0
        self._opened = 0
        self._closed = 0
        self._connect_failures = 0

    # -- opening -------------------------------------------------------------

    def _open(self) -> Pool:
        if self._state is _OPEN:
            return self
        if self._state is _OPENING:
            raise InterfaceError("the pool is being initialized in another task")
        if self._state is not _NEW:
            raise InterfaceError("the pool is closed")
        self._state = _OPENING
        self._wakeup = flavour.Wakeup()
        self._released = flavour.Wakeup()
        self._stopped = flavour.Wakeup()
        try:
            if self._min_size:
                # The first alone, so a wrong dsn fails fast with one error.
                self._size = self._min_size
                first = self._new_holder()
                self._idle.append(first)
                flavour.gather([self._open_idle] * (self._min_size - 1))
        except BaseException:
            self._state = _CLOSED
            self._stopped.set()
            for holder in list(self._holders):
                holder.runner.terminate()
            raise
        self._state = _OPEN
        self._housekeeper = flavour.background(self._housekeeping)
        return self

    def _open_idle(self) -> None:
        holder = self._new_holder()
        self._idle.append(holder)

    def __enter__(self) -> Pool:
        return self._open()

    def __exit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self.close()

    def _new_holder(self, remaining: float | None = None, *,
                          for_acquire: bool = True) -> _Holder:
        """Open a connection for a place already reserved in ``_size``,
        within ``remaining`` seconds if given (what is left of an acquire's
        timeout, or the background refill's bound).

        On failure the place is not given back here: the caller does that.
        """
        kwargs = self._connect_kwargs
        bounded = False
        if remaining is not None and self._connect is connect_connection:
            # The blocking flavour cannot interrupt a call from outside: the
            # connect itself is bounded.  (The asyncio one is also bounded by
            # flavour.within; the earlier deadline wins either way.)
            own = kwargs.get("timeout")
            if own is None or own > remaining:
                kwargs = {**kwargs, "timeout": max(remaining, 0.001)}
                bounded = True
        try:
            connection = self._connect(
                *self._connect_args, connection_class=self._connection_class,
                record_class=self._record_class, **kwargs,
            )
        except Exception as exc:
            if not (bounded and for_acquire and isinstance(exc, TimeoutError)):
                # (the acquire's deadline passing is the waiter's timeout,
                # not the server's failure; cancellations are not Exceptions)
                self._connect_failures += 1
                log.warning("pgwire.pool: connecting failed: %s", exc)
            raise
        if not isinstance(connection, self._connection_class):
            connection_close = getattr(connection, "terminate", None)
            if callable(connection_close):
                connection_close()
            self._connect_failures += 1
            raise InterfaceError(
                f"the pool's connect callback returned {type(connection).__qualname__}, "
                f"expected an instance of {self._connection_class.__qualname__}")
        runner = runner_of(connection)
        try:
            session = runner.session
            behind_pooler = session.pooler_detected is True
            if not behind_pooler and not session.use_named_statements:
                # Not answered yet, or not looked for at connect
                # (statement_cache_size=0): the pool needs to know now, to
                # choose how to reset.
                behind_pooler = runner.run(session.detect_pooler_flow(), remaining)
            if self._init is not None:
                self._init(connection)
        except BaseException:
            runner.terminate()
            raise
        holder = _Holder(connection, runner, self._generation, behind_pooler)
        with self._mutex:
            self._holders.add(holder)
            self._opened += 1
        return holder

    # -- acquiring -------------------------------------------------------------

    def acquire(self, *, timeout: float | None = None) -> PoolAcquireContext:
        """Lend a connection: ``with pool.acquire() as conn:``, or take
        one with :meth:`getconn` and give it back with :meth:`release`.

        ``timeout`` bounds the wait for a connection (a free one, or a new
        one being opened); it is also the default timeout of the release.
        """
        return PoolAcquireContext(self, check_timeout(timeout))

    def getconn(self, *, timeout: float | None = None) -> Connection:
        """A connection from the pool (psycopg_pool's name); give it back with
        :meth:`putconn` or :meth:`release`."""
        return self._acquire(check_timeout(timeout))

    def putconn(self, connection: Connection) -> None:
        """Give back a connection from :meth:`getconn` (psycopg_pool's name
        for :meth:`release`).

        :raises pgwire.InterfaceError: the connection is not from this pool.
        """
        self.release(connection)

    def _acquire(self, timeout: float | None) -> Connection:
        if self._state is not _OPEN:
            self._refuse()
        holder = self._take_idle()
        if holder is None or not self._healthy(holder):
            holder = self._acquire_slow(holder, timeout)
        handle = lease(holder.connection)
        holder.lent = True
        holder.timeout = timeout
        with self._mutex:
            self._in_use[handle] = holder
            self._lent += 1
            self._acquires += 1
        if self._setup is not None:
            try:
                self._setup(handle)
            except BaseException:
                # Unknown state: this connection is not given to anyone else.
                with self._mutex:
                    self._in_use.pop(handle, None)
                detach(handle)
                self._discard(holder, "its setup callback failed")
                raise
        return handle

    def _take_idle(self) -> _Holder | None:
        """The most recently released idle connection, unless someone waits already."""
        with self._mutex:
            if self._idle and not self._waiters:
                return self._idle.pop()
            return None

    def _healthy(self, holder: _Holder) -> bool:
        return holder.generation == self._generation and holder.runner.probe()

    def _acquire_slow(self, unhealthy: _Holder | None, timeout: float | None) -> _Holder:
        """Wait for a connection, or open one; drop the unusable ones met."""
        started = flavour.clock()
        waited = False
        try:
            while True:
                if unhealthy is not None:
                    self._drop(unhealthy)
                    unhealthy = None
                remaining = None if timeout is None else timeout - (flavour.clock() - started)
                value = self._claim()
                if not isinstance(value, (_Holder, _OpenSlot)):
                    waited = True
                    value = self._wait(value, remaining, timeout)
                    remaining = None if timeout is None else timeout - (flavour.clock() - started)
                if isinstance(value, _OpenSlot):
                    waited = True
                    try:
                        value = flavour.within(
                            remaining, partial(self._new_holder, remaining))
                    except BaseException as exc:
                        self._slot_freed()
                        if isinstance(exc, TimeoutError):
                            raise flavour.TimeoutError(
                                f"timed out after {timeout} s opening a connection for the pool"
                            ) from None
                        raise
                    holder: _Holder = value
                    return holder
                if self._healthy(value):
                    claimed: _Holder = value
                    return claimed
                unhealthy = value
        except BaseException:
            with self._mutex:
                self._acquires_failed += 1
            raise
        finally:
            if waited:
                with self._mutex:
                    self._acquires_waited += 1
                    self._acquire_wait += flavour.clock() - started

    def _claim(self) -> Any:
        """An idle connection, a place to open one, or a waiter queued in line."""
        with self._mutex:
            if self._state is not _OPEN:
                self._refuse()
            if not self._waiters:
                if self._idle:
                    return self._idle.pop()
                if self._size < self._max_size:
                    self._size += 1
                    return _OPEN_SLOT
            waiter = flavour.new_waiter()
            self._waiters.append(waiter)
            return waiter

    def _wait(self, waiter: Any, remaining: float | None, timeout: float | None) -> Any:
        try:
            value = waiter.wait(remaining)
        except BaseException as exc:
            with self._mutex:
                given, value = waiter.abandon()
                if not given:
                    try:
                        self._waiters.remove(waiter)
                    except ValueError:
                        pass
            if given:
                self._pass_on(value)  # handed over just as we gave up
            if isinstance(exc, TimeoutError):
                raise flavour.TimeoutError(
                    f"timed out after {timeout} s waiting for a connection from the pool"
                ) from None
            raise
        if value is _POOL_CLOSING:
            self._refuse()
        return value

    def _pass_on(self, value: Any) -> None:
        if isinstance(value, _Holder):
            self._put_back(value)
        elif isinstance(value, _OpenSlot):
            self._slot_freed()

    def _refuse(self) -> Any:
        if self._state is _CLOSING:
            raise InterfaceError("the pool is closing")
        if self._state is _CLOSED:
            raise InterfaceError("the pool is closed")
        if self._state is _OPENING:
            raise InterfaceError(
                "the pool is being initialized, but not yet ready: likely there is a race "
                "between creating a pool and using it")
        raise InterfaceError("the pool is not initialized (open it first: see create_pool)")

    # -- releasing -------------------------------------------------------------

    def release(self, connection: Connection, *, timeout: float | None = None) -> None:
        """Give a connection back.  Nothing is sent to the server unless its
        session state changed; then it is reset (see the module docstring).
        ``timeout`` defaults to the acquire's."""
        with self._mutex:
            holder = self._in_use.pop(connection, None)
        if holder is None:
            if isinstance(connection, Connection) and is_detached(connection):
                return  # released already
            raise InterfaceError(
                f"Pool.release() received invalid connection: {connection!r} is not a "
                "member of this pool")
        detach(connection)
        runner = holder.runner
        if (
            self._reset is None
            and runner.reusable_as_is()
            and holder.generation == self._generation
            and runner.runs < self._max_queries
        ):
            runner.listeners.clear()
            self._put_back(holder)
            return
        if timeout is None:
            timeout = holder.timeout
        else:
            timeout = check_timeout(timeout)
        flavour.shielded(partial(self._release_slow, holder, timeout))

    def _release_slow(self, holder: _Holder, timeout: float | None) -> None:
        runner = holder.runner
        if runner.is_closed():
            self._discard(holder, "closed while in use")
            return
        if holder.generation != self._generation or runner.runs >= self._max_queries:
            self._retire(holder)
            return
        try:
            sent = runner.reset(everything=False, behind_pooler=holder.behind_pooler,
                                      timeout=timeout)
            if self._reset is not None:
                sent = True
                handle = lease(holder.connection)
                try:
                    self._reset(handle)
                finally:
                    detach(handle)
                runner.engine.session_state = 0  # what the callback did is the baseline
        except BaseException:
            self._discard(holder, "resetting it failed")
            raise
        if sent:
            with self._mutex:
                self._resets += 1
        self._put_back(holder)

    def _put_back(self, holder: _Holder) -> None:
        """Hand a usable connection to the first waiter, else keep it idle."""
        retire = False
        with self._mutex:
            self._returned(holder)
            if self._state is not _OPEN:
                retire = True
            else:
                waiters = self._waiters
                while waiters:
                    if waiters.popleft().give(holder):
                        return
                holder.idle_since = flavour.clock()
                self._idle.append(holder)
                return
        if retire:
            holder.runner.terminate()  # the pool is closing: no waiting for anything
            self._forget(holder)

    def _returned(self, holder: _Holder) -> None:
        # Called with the mutex held.
        if holder.lent:
            holder.lent = False
            self._lent -= 1
            if self._state is _CLOSING and self._released is not None:
                self._released.set()

    def _discard(self, holder: _Holder, reason: str) -> None:
        """Drop a connection that cannot be reused, and give its place on."""
        log.info("pgwire.pool: connection pid=%s discarded: %s",
                 holder.runner.engine.backend_pid, reason)
        holder.runner.terminate()
        with self._mutex:
            self._returned(holder)
        self._forget(holder)

    def _drop(self, holder: _Holder) -> None:
        """A connection met at acquire that cannot be used: closed by the
        server, or expired by expire_connections()."""
        if holder.runner.is_closed():
            self._discard(holder, "closed by the server while idle")
        else:
            self._retire(holder)

    def _retire(self, holder: _Holder) -> None:
        """Close a healthy connection the pool no longer wants, politely."""
        with self._mutex:
            self._returned(holder)
        try:
            holder.connection.close(timeout=RETIRE_TIMEOUT)
        except BaseException:
            holder.runner.terminate()
            raise
        finally:
            self._forget(holder)

    def _forget(self, holder: _Holder) -> None:
        with self._mutex:
            if holder not in self._holders:
                return
            self._holders.discard(holder)
            self._closed += 1
        self._slot_freed()

    def _slot_freed(self) -> None:
        """A place in the pool became free: the first waiter opens a connection in it."""
        with self._mutex:
            waiters = self._waiters
            while waiters:
                if waiters.popleft().give(_OPEN_SLOT):
                    return
            self._size -= 1
            below_min = self._state is _OPEN and self._size < self._min_size
        if below_min and self._wakeup is not None:
            self._wakeup.set()

    # -- background work -------------------------------------------------------

    def _housekeeping(self) -> None:
        """Refill to min_size (with backoff while connecting fails), close
        connections idle for too long, drop the ones the server closed."""
        failures = 0
        while self._state is _OPEN:
            flavour.wait_wakeup(self._wakeup, self._next_check())
            self._wakeup.clear()
            if self._state is not _OPEN:
                break
            self._check_idle()
            while self._state is _OPEN and self._reserve_below_min():
                try:
                    # Bounded: a host that never answers must not stop the
                    # health checks (libpq's connect_timeout defaults to none).
                    holder = flavour.within(REFILL_TIMEOUT, partial(
                        self._new_holder, REFILL_TIMEOUT, for_acquire=False))
                except Exception:
                    self._slot_freed_quietly()
                    failures += 1
                    delay = min(FIRST_RETRY * 2 ** (failures - 1), LAST_RETRY)
                    flavour.wait_wakeup(self._stopped, delay)
                    break
                failures = 0
                self._put_back(holder)
            if failures:
                self._wakeup.set()  # try again (the delay was waited above)

    def _next_check(self) -> float:
        return HEALTH_INTERVAL if not self._lifetime else min(HEALTH_INTERVAL, self._lifetime)

    def _reserve_below_min(self) -> bool:
        with self._mutex:
            if self._size < self._min_size:
                self._size += 1
                return True
            return False

    def _slot_freed_quietly(self) -> None:
        """Give back a place reserved by the refill, without waking the refill again."""
        with self._mutex:
            waiters = self._waiters
            while waiters:
                if waiters.popleft().give(_OPEN_SLOT):
                    return
            self._size -= 1

    def _check_idle(self) -> None:
        now = flavour.clock()
        dead: list[_Holder] = []
        expired: list[_Holder] = []
        with self._mutex:
            keep: deque[_Holder] = deque()
            spare = len(self._holders) - self._min_size
            for holder in self._idle:  # oldest first
                # probe(): a blocking connection learns of a server-side close
                # only by reading (done here, so no acquire takes it meanwhile).
                if not holder.runner.probe():
                    dead.append(holder)
                elif holder.generation != self._generation:
                    expired.append(holder)
                elif self._lifetime and spare > 0 and now - holder.idle_since >= self._lifetime:
                    expired.append(holder)
                    spare -= 1
                else:
                    keep.append(holder)
            self._idle = keep
        for holder in dead:
            self._discard(holder, "closed by the server while idle")
        for holder in expired:
            try:
                self._retire(holder)
            except Exception:
                pass

    # -- closing ---------------------------------------------------------------

    def close(self) -> None:
        """Close gracefully: refuse new acquires, wait until every connection
        is released, then close them all.  On an error or a cancellation the
        pool is terminated instead."""
        if self._state in (_CLOSED, _NEW):
            self._state = _CLOSED
            return
        if self._state is _CLOSING:
            raise InterfaceError("the pool is closing in another task")
        self._state = _CLOSING
        self._fail_waiters()
        self._wakeup.set()
        try:
            warned = False
            while True:
                with self._mutex:
                    lent = self._lent
                if not lent:
                    break
                flavour.wait_wakeup(self._released,
                                          None if warned else CLOSE_WARNING_SECONDS)
                self._released.clear()
                with self._mutex:
                    lent = self._lent
                if lent and not warned:
                    warned = True
                    log.warning("pgwire.pool: Pool.close() is waiting for %d connection(s) to "
                                "be released; release them, or call terminate()", lent)
            with self._mutex:
                idle, self._idle = list(self._idle), deque()
            flavour.gather([partial(self._retire, holder) for holder in idle])
        except BaseException:
            self.terminate()
            raise
        finally:
            self._state = _CLOSED
            self._stopped.set()

    def terminate(self) -> None:
        """Close every connection at once, lent or idle, without waiting."""
        if self._state is _CLOSED:
            return
        self._state = _CLOSED
        self._fail_waiters()
        with self._mutex:
            holders = list(self._holders)
            self._idle.clear()
        for holder in holders:
            holder.runner.terminate()
            self._forget(holder)
        if self._wakeup is not None:
            self._wakeup.set()
            self._stopped.set()
            self._released.set()

    def _fail_waiters(self) -> None:
        with self._mutex:
            waiters, self._waiters = self._waiters, deque()
            for waiter in waiters:
                waiter.give(_POOL_CLOSING)

    def expire_connections(self) -> None:
        """Replace every connection: idle ones are closed now, lent ones when
        released; new ones are opened with the current connect arguments."""
        with self._mutex:
            self._generation += 1
            idle, self._idle = list(self._idle), deque()
        flavour.gather([partial(self._retire, holder) for holder in idle])

    def set_connect_args(self, dsn: str | None = None, **connect_kwargs: Any) -> None:
        """Connect with these arguments from now on (existing connections stay
        until they expire: see :meth:`expire_connections`)."""
        self._connect_args = (dsn,)
        self._connect_kwargs = connect_kwargs

    # -- information -----------------------------------------------------------

    def is_closing(self) -> bool:
        """Is the pool closing or closed (:meth:`close`, :meth:`terminate`)?"""
        return self._state in (_CLOSING, _CLOSED)

    def get_size(self) -> int:
        """The number of open connections (idle or in use)."""
        return len(self._holders)

    def get_min_size(self) -> int:
        """The number of connections the pool keeps open (``min_size``)."""
        return self._min_size

    def get_init_size(self) -> int:
        """The number of connections opened when the pool starts (``min_size``)."""
        return self._min_size

    def get_max_size(self) -> int:
        """The most connections the pool opens at once (``max_size``)."""
        return self._max_size

    def get_idle_size(self) -> int:
        """The number of open connections waiting in the pool, not lent out."""
        return len(self._idle)

    def get_stats(self) -> PoolStats:
        """A :class:`~pgwire.PoolStats` snapshot: sizes now, counters since creation."""
        with self._mutex:
            return PoolStats(
                size=len(self._holders), idle=len(self._idle), in_use=self._lent,
                waiting=len(self._waiters), min_size=self._min_size, max_size=self._max_size,
                acquires=self._acquires, acquires_waited=self._acquires_waited,
                acquire_wait_seconds=self._acquire_wait, acquires_failed=self._acquires_failed,
                resets=self._resets, connections_opened=self._opened,
                connections_closed=self._closed, connect_failures=self._connect_failures,
            )

    def __repr__(self) -> str:
        return (f"<{type(self).__module__}.{type(self).__qualname__} {self._state} "
                f"size={len(self._holders)} idle={len(self._idle)} max={self._max_size}>")

    # -- queries on a connection of the pool -------------------------------------

    def execute(self, query: str, *args: Any, timeout: float | None = None) -> str:
        """Run :meth:`Connection.execute` on a connection acquired for the
        call and released after it.

        The wait for a connection has no time limit: ``timeout`` is the
        query's.  The same goes for the other query methods of the pool.

        :raises pgwire.InterfaceError: the pool is not open (not yet, or no
            longer).
        """
        with self.acquire() as connection:
            return connection.execute(query, *args, timeout=timeout)

    def executemany(self, command: str, args: Iterable[Sequence[Any]], *,
                          timeout: float | None = None) -> None:
        """Run :meth:`Connection.executemany` on a connection acquired for the
        call (see :meth:`execute`)."""
        with self.acquire() as connection:
            connection.executemany(command, args, timeout=timeout)

    def fetch(self, query: str, *args: Any, timeout: float | None = None,
                    record_class: type[Record] | None = None) -> list[Record]:
        """Run :meth:`Connection.fetch` on a connection acquired for the
        call (see :meth:`execute`)."""
        with self.acquire() as connection:
            return connection.fetch(query, *args, timeout=timeout,
                                          record_class=record_class)

    def fetchrow(self, query: str, *args: Any, timeout: float | None = None,
                       record_class: type[Record] | None = None) -> Record | None:
        """Run :meth:`Connection.fetchrow` on a connection acquired for the
        call (see :meth:`execute`)."""
        with self.acquire() as connection:
            return connection.fetchrow(query, *args, timeout=timeout,
                                             record_class=record_class)

    def fetchval(self, query: str, *args: Any, column: int | str = 0,
                       timeout: float | None = None) -> Any:
        """Run :meth:`Connection.fetchval` on a connection acquired for the
        call (see :meth:`execute`)."""
        with self.acquire() as connection:
            return connection.fetchval(query, *args, column=column, timeout=timeout)

    def fetchmany(self, query: str, args: Iterable[Sequence[Any]], *,
                        timeout: float | None = None,
                        record_class: type[Record] | None = None) -> list[Record]:
        """Run :meth:`Connection.fetchmany` on a connection acquired for the
        call (see :meth:`execute`)."""
        with self.acquire() as connection:
            return connection.fetchmany(query, args, timeout=timeout,
                                              record_class=record_class)

    def copy_records_to_table(
        self, table_name: str, *, records: Iterable[Sequence[Any]] | Iterable[Sequence[Any]],
        columns: Sequence[str] | None = None, schema_name: str | None = None,
        timeout: float | None = None, where: str | None = None,
    ) -> str:
        """Run :meth:`Connection.copy_records_to_table` on a connection
        acquired for the call (see :meth:`execute`)."""
        with self.acquire() as connection:
            return connection.copy_records_to_table(
                table_name, records=records, columns=columns, schema_name=schema_name,
                timeout=timeout, where=where)

    def copy_to_table(self, table_name: str, *, source: Any,
                            columns: Sequence[str] | None = None,
                            schema_name: str | None = None, timeout: float | None = None,
                            where: str | None = None, **options: Any) -> str:
        """Run :meth:`Connection.copy_to_table` on a connection acquired for the
        call (see :meth:`execute`)."""
        with self.acquire() as connection:
            return connection.copy_to_table(
                table_name, source=source, columns=columns, schema_name=schema_name,
                timeout=timeout, where=where, **options)

    def copy_from_table(self, table_name: str, *, output: Any,
                              columns: Sequence[str] | None = None,
                              schema_name: str | None = None, timeout: float | None = None,
                              **options: Any) -> str:
        """Run :meth:`Connection.copy_from_table` on a connection acquired for the
        call (see :meth:`execute`)."""
        with self.acquire() as connection:
            return connection.copy_from_table(
                table_name, output=output, columns=columns, schema_name=schema_name,
                timeout=timeout, **options)

    def copy_from_query(self, query: str, *args: Any, output: Any,
                              timeout: float | None = None, **options: Any) -> str:
        """Run :meth:`Connection.copy_from_query` on a connection acquired for the
        call (see :meth:`execute`)."""
        with self.acquire() as connection:
            return connection.copy_from_query(query, *args, output=output,
                                                    timeout=timeout, **options)


def create_pool(
    dsn: str | None = None,
    *,
    min_size: int = 10,
    max_size: int = 10,
    max_queries: int = 50000,
    max_inactive_connection_lifetime: float = 300.0,
    connect: Callable[..., Any] | None = None,
    setup: Callable[[Connection], Any] | None = None,
    init: Callable[[Connection], Any] | None = None,
    reset: Callable[[Connection], Any] | None = None,
    loop: Any = None,
    connection_class: type[Connection] = Connection,
    record_class: type[Record] = Record,
    **connect_kwargs: Any,
) -> Pool:
    """A connection pool, with asyncpg's arguments and meaning.

    ``create_pool(...)`` (or ``with create_pool(...) as pool``)
    opens ``min_size`` connections; up to ``max_size`` are opened on demand.
    A connection is closed after ``max_queries`` queries, and idle ones
    beyond ``min_size`` after ``max_inactive_connection_lifetime`` seconds
    (0: never).  ``connect`` replaces :func:`pgwire.connect` (same
    arguments); ``init(conn)`` runs once per new connection, ``setup(conn)``
    at each acquire; ``reset(conn)`` runs at each release, after pgwire's own
    reset of what changed.  The other keyword arguments go to ``connect``.
    ``loop`` is accepted for asyncpg's sake and not used.
    """
    (dsn,), connect_kwargs = mask_connect_arguments((dsn,), connect_kwargs)
    pool = Pool(
        *(() if dsn is None else (dsn,)),
        min_size=min_size, max_size=max_size, max_queries=max_queries,
        max_inactive_connection_lifetime=max_inactive_connection_lifetime,
        connect=connect, setup=setup, init=init, reset=reset,
        connection_class=connection_class, record_class=record_class, **connect_kwargs,
    )
    return pool._open()
