"""What differs between the asyncio API and the blocking API -- all of it, in one place.

The API modules are written once, as asyncio code (``pgwire/api/_async``);
the blocking modules (``pgwire/api/_sync``) are generated from them by
``scripts/unasync.py``, which removes ``async``/``await`` and renames
``AsyncFlavour`` to ``SyncFlavour`` (and ``AsyncioDriver`` to
``BlockingDriver``, ``AsyncPending`` to ``SyncPending``...).  The few things
that are not the same text minus ``await`` are the two classes here, with
the same members:

=====================  ====================================  ==================================
member                 asyncio                               blocking
=====================  ====================================  ==================================
``Lock``               FIFO lock of tasks, with a timeout    ``threading.Lock``, with a timeout
                       (``try_acquire`` takes it if free)
``owner()``            the current task                      the current thread
``start_recovery``     cancel then drain, in a task          cancel now; returns the drain
``wait_recovery(r)``   awaits the task (shielded)            runs the drain (the next call)
``call_listener``      runs a coroutine's result as a task   calls the function
``check_listener``     any callable                          refuses coroutine functions
``new_pending()``      an ``asyncio.Future``                 a :class:`PendingResult`
``copy_chunks(src)``   files read in an executor; async      files and iterables read here;
                       iterables and ``read`` coroutines     async sources refused
``record_chunks``      async iterables of records too        iterables of records
``Mutex``              nothing to exclude (one loop)         ``threading.Lock``
``new_waiter()``       a :class:`_TaskWaiter` (a future)     a :class:`_ThreadWaiter` (an event)
``Wakeup``             ``asyncio.Event``                     ``threading.Event``
``wait_wakeup(e, t)``  waits for the event or ``t`` seconds  the same, blocking
``background(f)``      runs ``f()`` as a task                runs ``f()`` in a daemon thread
``shielded(f)``        ``f()`` as a task, awaited shielded   calls ``f()``
``gather(fs)``         runs the ``f()`` concurrently         calls each in turn
``within(t, f)``       ``f()`` cancelled after ``t`` seconds calls ``f()`` (it has its timeout)
=====================  ====================================  ==================================
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator, Sequence
from typing import Any, Generic, TypeVar

from ..exceptions import InterfaceError
from ..types.copyrows import CHUNK_SIZE, RecordEncoder, encoded_chunks
from .copy_sources import as_bytes, sync_source_chunks
from .listeners import call_logged, log

T = TypeVar("T")

if sys.version_info >= (3, 11):
    _AsyncTimeoutError = TimeoutError
else:  # asyncio's own class before 3.11: raise one that both names catch

    class _AsyncTimeoutError(asyncio.TimeoutError, TimeoutError):
        pass


class PendingResult(Generic[T]):
    """The result of a statement queued in a blocking pipeline.

    ``result()`` gives the value (or raises the statement's error) once the
    pipeline has synced; before that it raises InterfaceError.
    """

    __slots__ = ("_done", "_ok", "_value")

    def __init__(self) -> None:
        self._done = False
        self._ok = False
        self._value: Any = None

    def done(self) -> bool:
        """Has the statement's outcome arrived (the pipeline synced)?"""
        return self._done

    def result(self) -> T:
        """The statement's value.

        :raises pgwire.InterfaceError: the pipeline has not synced yet.
        :raises Exception: the statement's own error (a
            :class:`~pgwire.PostgresError`, or
            :class:`~pgwire.PipelineAbortedError` after an earlier failure).
        """
        if not self._done:
            raise InterfaceError("the pipeline has not synced yet: call sync() or leave the block")
        if not self._ok:
            raise self._value
        return self._value  # type: ignore[no-any-return]

    def exception(self) -> BaseException | None:
        """The statement's error, or None when it succeeded.

        :raises pgwire.InterfaceError: the pipeline has not synced yet.
        """
        if not self._done:
            raise InterfaceError("the pipeline has not synced yet: call sync() or leave the block")
        return None if self._ok else self._value

    def set_result(self, value: T) -> None:
        """Settle with ``value`` (for the pipeline; ignored once settled)."""
        if not self._done:
            self._done, self._ok, self._value = True, True, value

    def set_exception(self, exc: BaseException) -> None:
        """Settle with the error ``exc`` (for the pipeline; ignored once settled)."""
        if not self._done:
            self._done, self._ok, self._value = True, False, exc

    def cancel(self) -> bool:
        """Nothing to do: the statement was never sent, its result never comes
        (``done()`` stays False), as for a cancelled future."""
        return False


AsyncPending = asyncio.Future
SyncPending = PendingResult


class _TaskLock:
    """A lock of asyncio tasks, granted in the order they asked, with a timeout."""

    __slots__ = ("_locked", "_waiters")

    def __init__(self) -> None:
        self._locked = False
        self._waiters: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._locked

    def try_acquire(self) -> bool:
        """Take the lock if it is free, without waiting (no coroutine to run)."""
        if self._locked:
            return False
        self._locked = True
        return True

    async def acquire(self, timeout: float | None = None) -> None:
        if not self._locked:
            # Unlocked means nobody is waiting: a release hands the lock
            # straight to a live waiter (only given-up ones may remain).
            self._locked = True
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        handle = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.release()  # granted just as we gave up: pass it on
            else:
                try:
                    self._waiters.remove(waiter)
                except ValueError:
                    pass
            raise
        finally:
            if handle is not None:
                handle.cancel()

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release of an unlocked lock")
        # Hand the lock straight to the next waiter: no task can take it
        # in between, so the order is first come, first served.
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
        self._locked = False


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(_AsyncTimeoutError())


class _ThreadLock:
    """``threading.Lock`` with the interface of :class:`_TaskLock`."""

    __slots__ = ("_lock", "locked", "release", "try_acquire")

    def __init__(self) -> None:
        lock = self._lock = threading.Lock()
        # The lock's own methods, not wrappers: taken and released on every
        # query, where a Python frame each is measurable.
        self.locked: Callable[[], bool] = lock.locked
        self.release: Callable[[], None] = lock.release
        self.try_acquire: Callable[[], bool] = functools.partial(lock.acquire, False)

    def acquire(self, timeout: float | None = None) -> None:
        if not self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            raise TimeoutError()


class _NoMutex:
    """The asyncio pool's critical sections never await: nothing to exclude."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: Any) -> None:
        return None


class _TaskWaiter:
    """A task waiting for a value another task hands it (a pool connection).

    ``give`` and ``abandon`` are called with the pool's mutex held (none on
    asyncio), so a value is either taken by the waiter or given back by
    ``abandon``: never both, never lost.
    """

    __slots__ = ("_future",)

    def __init__(self) -> None:
        self._future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    def give(self, value: Any) -> bool:
        if self._future.done():
            return False
        self._future.set_result(value)
        return True

    async def wait(self, timeout: float | None) -> Any:
        """The value given; TimeoutError after ``timeout`` seconds."""
        future = self._future
        handle = None
        if timeout is not None:
            handle = asyncio.get_running_loop().call_later(max(timeout, 0), _expire_any, future)
        try:
            return await future
        finally:
            if handle is not None:
                handle.cancel()

    def abandon(self) -> tuple[bool, Any]:
        """Stop waiting; ``(True, value)`` when a value was given all the same."""
        future = self._future
        if future.done() and not future.cancelled() and future.exception() is None:
            return True, future.result()
        future.cancel()
        return False, None


def _expire_any(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(_AsyncTimeoutError())


class _ThreadWaiter:
    """A thread waiting for a value another thread hands it (see :class:`_TaskWaiter`)."""

    __slots__ = ("_event", "_open", "_value")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._open = True
        self._value: Any = None

    def give(self, value: Any) -> bool:
        if not self._open:
            return False
        self._open = False
        self._value = value
        self._event.set()
        return True

    def wait(self, timeout: float | None) -> Any:
        if not self._event.wait(None if timeout is None else max(timeout, 0)):
            raise TimeoutError()
        return self._value

    def abandon(self) -> tuple[bool, Any]:
        if self._open:
            self._open = False
            return False, None
        return True, self._value


# Background tasks are kept referenced until they end (see _listener_tasks).
_background_tasks: set[asyncio.Task[Any]] = set()


def _background_done(task: asyncio.Task[Any]) -> None:
    _background_tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("pgwire: a background task failed", exc_info=task.exception())


# Listener tasks are kept referenced until they end (asyncio keeps only
# weak references to tasks).
_listener_tasks: set[asyncio.Task[Any]] = set()


def _listener_done(task: asyncio.Task[Any]) -> None:
    _listener_tasks.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.error("pgwire: a listener callback raised an exception", exc_info=task.exception())


class AsyncFlavour:
    """The asyncio side (see the module docstring)."""

    Lock = _TaskLock
    TimeoutError = _AsyncTimeoutError
    Mutex = _NoMutex
    Wakeup = asyncio.Event

    @staticmethod
    def new_waiter() -> _TaskWaiter:
        return _TaskWaiter()

    @staticmethod
    def clock() -> float:
        return time.monotonic()

    @staticmethod
    async def wait_wakeup(event: asyncio.Event, timeout: float | None) -> None:
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    @staticmethod
    def background(run: Callable[[], Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(run())
        _background_tasks.add(task)
        task.add_done_callback(_background_done)
        return task

    @staticmethod
    async def shielded(run: Callable[[], Any]) -> Any:
        """Run ``run()`` to its end even if the caller is cancelled meanwhile."""
        task = asyncio.get_running_loop().create_task(run())
        _background_tasks.add(task)
        task.add_done_callback(_background_tasks.discard)
        return await asyncio.shield(task)

    @staticmethod
    async def gather(runs: Sequence[Callable[[], Any]]) -> None:
        """Run the calls concurrently; wait for all, then raise the first error."""
        results = await asyncio.gather(*(run() for run in runs), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    @staticmethod
    async def within(timeout: float | None, run: Callable[[], Any]) -> Any:
        if timeout is None:
            return await run()
        try:
            return await asyncio.wait_for(run(), max(timeout, 0))
        except asyncio.TimeoutError:
            raise _AsyncTimeoutError() from None

    @staticmethod
    def owner() -> Any:
        return asyncio.current_task()

    @staticmethod
    def start_recovery(cancel: Callable[[], Any], drain: Callable[[], Any]) -> asyncio.Task[None]:
        async def recover() -> None:
            if await cancel():
                await drain()

        return asyncio.get_running_loop().create_task(recover())

    @staticmethod
    async def wait_recovery(task: asyncio.Task[None], deadline: float | None) -> None:
        if deadline is None:
            await asyncio.shield(task)
            return
        remaining = max(deadline - asyncio.get_running_loop().time(), 0)
        # The task goes on if the caller's time runs out (shielded).
        try:
            await asyncio.wait_for(asyncio.shield(task), remaining)
        except asyncio.TimeoutError:  # not the built-in one before Python 3.11
            raise TimeoutError() from None

    @staticmethod
    def call_listener(callback: Callable[..., Any], *args: Any) -> None:
        """Run a listener; a coroutine function's result runs as a task."""
        result = call_logged(callback, *args)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            _listener_tasks.add(task)
            task.add_done_callback(_listener_done)

    @staticmethod
    def check_listener(callback: Callable[..., Any]) -> None:
        pass

    @staticmethod
    def new_pending() -> asyncio.Future[Any]:
        return asyncio.get_running_loop().create_future()

    @staticmethod
    def settle(pending: asyncio.Future[Any], ok: bool, value: Any) -> None:
        if pending.done():
            return
        if ok:
            pending.set_result(value)
        else:
            pending.set_exception(value)
            # sync() raises the batch's error itself: an unawaited future
            # must not log "exception was never retrieved" on top of that.
            pending.exception()

    @staticmethod
    def copy_chunks(source: Any) -> Iterator[bytes] | AsyncIterator[bytes]:
        """The data of a COPY source, as the copy-in flow reads it."""
        chunks = sync_source_chunks(source)
        if chunks is not None:
            if isinstance(source, (bytes, bytearray, memoryview)) or (
                isinstance(source, Iterable) and not hasattr(source, "read")
            ):
                return chunks  # in memory already: nothing blocks
            return _in_executor(chunks)  # a file: reading it may block
        return _async_chunks(source)

    @staticmethod
    def record_chunks(records: Any, encoder: RecordEncoder) -> Iterator[bytes] | AsyncIterator[bytes]:
        if isinstance(records, AsyncIterable):
            return _async_record_chunks(records, encoder)
        return encoded_chunks(records, encoder)


class SyncFlavour:
    """The blocking side (see the module docstring)."""

    Lock = _ThreadLock
    TimeoutError = TimeoutError
    Mutex = threading.Lock
    Wakeup = threading.Event

    @staticmethod
    def new_waiter() -> _ThreadWaiter:
        return _ThreadWaiter()

    @staticmethod
    def clock() -> float:
        return time.monotonic()

    @staticmethod
    def wait_wakeup(event: threading.Event, timeout: float | None) -> None:
        event.wait(timeout)

    @staticmethod
    def background(run: Callable[[], Any]) -> threading.Thread:
        def logged() -> None:
            try:
                run()
            except BaseException:  # noqa: BLE001 - a daemon thread has nobody to tell
                log.error("pgwire: a background thread failed", exc_info=True)

        thread = threading.Thread(target=logged, name="pgwire-background", daemon=True)
        thread.start()
        return thread

    @staticmethod
    def shielded(run: Callable[[], Any]) -> Any:
        return run()

    @staticmethod
    def gather(runs: Sequence[Callable[[], Any]]) -> None:
        for run in runs:
            run()

    @staticmethod
    def within(timeout: float | None, run: Callable[[], Any]) -> Any:
        return run()

    @staticmethod
    def owner() -> Any:
        return threading.get_ident()

    @staticmethod
    def start_recovery(cancel: Callable[[], Any],
                       drain: Callable[[], Any]) -> Callable[[], Any] | None:
        # The cancel now; the drain waits for the next call (wait_recovery).
        return drain if cancel() else None

    @staticmethod
    def wait_recovery(drain: Callable[[float | None], Any], deadline: float | None) -> None:
        drain(deadline)

    @staticmethod
    def call_listener(callback: Callable[..., Any], *args: Any) -> None:
        call_logged(callback, *args)

    @staticmethod
    def check_listener(callback: Callable[..., Any]) -> None:
        if inspect.iscoroutinefunction(callback):
            raise InterfaceError("a blocking connection cannot run a coroutine function listener")

    @staticmethod
    def new_pending() -> PendingResult[Any]:
        return PendingResult()

    @staticmethod
    def settle(pending: PendingResult[Any], ok: bool, value: Any) -> None:
        if ok:
            pending.set_result(value)
        else:
            pending.set_exception(value)

    @staticmethod
    def copy_chunks(source: Any) -> Iterator[bytes]:
        chunks = sync_source_chunks(source)
        if chunks is None:
            raise InterfaceError("the blocking API cannot read an asynchronous COPY source")
        return chunks

    @staticmethod
    def record_chunks(records: Any, encoder: RecordEncoder) -> Iterator[bytes]:
        if isinstance(records, AsyncIterable):
            raise InterfaceError("the blocking API cannot read an asynchronous iterable of records")
        return encoded_chunks(records, encoder)


async def _in_executor(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    try:
        while chunk := await loop.run_in_executor(None, next, chunks, b""):
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


async def _async_chunks(source: Any) -> AsyncIterator[bytes]:
    read = getattr(source, "read", None)
    if read is not None:
        while chunk := await read(CHUNK_SIZE):
            yield as_bytes(chunk)
        return
    async for chunk in source:
        yield as_bytes(chunk)


async def _async_record_chunks(
    records: AsyncIterable[Sequence[Any]], encoder: RecordEncoder
) -> AsyncIterator[bytes]:
    async for record in records:
        chunk = encoder.add(record)
        if chunk:
            yield chunk
    yield encoder.finish()
