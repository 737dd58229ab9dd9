# Generated from pgwire/api/_async/runner.py by scripts/unasync.py: edit that file, not this one.
"""Runs flows on one connection: in turn, in order, with timeouts and recovery.

Every API object of a connection (the connection itself, its prepared
statements, cursors, transactions and pipelines) runs its conversations
through the connection's :class:`Runner`: operations issued concurrently
wait their turn in order instead of failing with "another operation is in
progress" (on the asyncio API, statements the connection knows go out at
their turn without waiting for the answers before theirs: concurrent calls
share round trips, see :meth:`Runner._run_sharing`); a timeout covers the
whole call, the time spent queued included; and after a timeout or an
interruption (a cancelled task, a KeyboardInterrupt) with the server still
working, the runner asks the server to cancel the statement and lets its
answer drain before the next operation runs, so no later call can receive
a stale result.  If the server
does not answer, the connection is closed: it is either usable or closed,
never out of step.
"""

from __future__ import annotations

from typing import Any, TypeVar

from ...conninfo.params import ConnectParams
from ...drivers.blocking import BlockingDriver
from ...exceptions import ConnectionDoesNotExistError, InterfaceError, PostgresMessage
from ...flows.connect import cancel_flow, drain_flow, events_flow, terminate_flow
from ...flows.requests import Flow
from ...flows.statements import Session
from ...protocol.engine import TransactionStatus
from ..flavours import SyncFlavour as flavour
from ..listeners import Listeners, LoggedQuery
from ..transactions import TransactionBlocks

T = TypeVar("T")

# How long to wait for the server to answer after a cancel request before
# giving the connection up.
RECOVERY_SECONDS = 30.0

_IN_TRANSACTION = (TransactionStatus.IN_TRANSACTION, TransactionStatus.IN_ERROR)


class Runner:
    """The flows of one connection, run one after the other (see the module docstring)."""

    def __init__(self, driver: BlockingDriver, session: Session, params: ConnectParams,
                 command_timeout: float | None) -> None:
        self.driver = driver
        self.session = session
        self.engine = session.engine
        self.params = params
        self.command_timeout = command_timeout
        self.closing = False
        self.transactions = TransactionBlocks()
        self.listeners = Listeners(flavour.call_listener)
        self._lock = flavour.Lock()
        self._recovery: Any = None
        self._recovery_deadline: float | None = None
        self._pipeline_owner: Any = None
        self._stream: Any = None  # a replication stream holds the connection
        # Bumped each time a pool takes the connection back: objects made
        # for an earlier holder (statements, cursors...) refuse to run.
        self.generation = 0
        self.runs = 0  # flows run so far (a pool's max_queries)
        self.query_loggers: list[Any] = []  # asyncpg's add_query_logger()
        driver.on_events = self.listeners.dispatch
        driver.on_lost = self.listeners.terminated
        # What startup reported is the baseline a pool resets to.
        self.engine.session_state = 0

    # -- state ---------------------------------------------------------------

    def is_closed(self) -> bool:
        return self.closing or self.driver.is_closed()

    def check_open(self) -> None:
        if self.closing or self.driver.is_closed():
            raise ConnectionDoesNotExistError("the connection is closed") from self.engine.close_error

    def in_transaction(self) -> bool:
        return self.engine.transaction_status in _IN_TRANSACTION

    def settle_listeners(self) -> None:
        """Once no transaction is open, LISTEN/UNLISTEN again what a
        transaction block changed (see ``Listeners.settle_statement``)."""
        if self.listeners.unsettled and not self.in_transaction() and not self.is_closed():
            statement = self.listeners.settle_statement()
            if statement is not None:
                self.run(self.session.simple_query_flow(statement))

    def check_generation(self, generation: int) -> None:
        """Refuse objects of an earlier pool holder (see :attr:`generation`)."""
        if generation != self.generation:
            raise InterfaceError(
                "the connection this belongs to has been released back to the pool"
            )

    def reusable_as_is(self) -> bool:
        """True when the next user may have the connection without a round trip:
        open, idle, nothing queued or recovering, no transaction, and no
        session state changed (see :mod:`pgwire.protocol.session_state`)."""
        return (
            not self.closing
            and self._recovery is None
            and not self._lock.locked()
            and self.engine.session_state == 0
            and self.engine.transaction_status is TransactionStatus.IDLE
            and not self.driver.busy
            and not self.driver.is_closed()
        )

    def probe(self) -> bool:
        """Take in what the server sent while idle (a blocking connection reads
        only inside calls); True when the connection is still open."""
        if not self.is_closed() and not self._lock.locked():
            self.driver.probe()
        return not self.is_closed()

    def reset(self, *, everything: bool, behind_pooler: bool,
                    timeout: float | None) -> bool:
        """Forget the listeners and transaction blocks of the last user and undo
        the session state it left (see ``Session.reset_flow``); return whether
        that took a round trip."""
        self.listeners.clear()
        self.transactions = TransactionBlocks()
        return self.run(self.session.reset_flow(everything=everything,
                                               behind_pooler=behind_pooler), timeout)

    def timeout(self, timeout: float | None) -> float | None:
        """The timeout of a call: its own, else the connection's command_timeout."""
        if timeout is None:
            return self.command_timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            # At the call, naming it: not a TypeError from deep inside.
            raise ValueError(
                f"invalid timeout value: expected a number of seconds or None, got {timeout!r}")
        return timeout

    # -- running -------------------------------------------------------------

    def run(self, flow: Flow[T], timeout: float | None = None, *,
                  query: str | None = None, args: Any = ()) -> T:
        """Run ``flow`` in its turn, honouring the timeout.
        ``query`` (and its ``args``) is what the query loggers are told about."""
        if query is not None and self.query_loggers:
            return self._run_logged(flow, timeout, query, args)
        self.runs += 1
        if self.session.pooler_detected is None:
            flow = self.session.with_pooler_probe(flow)
        try:
            if self._stream is not None:
                raise InterfaceError(
                    "the connection is streaming replication: stop the stream "
                    "(stream.stop(), or leave its block) before running anything else"
                )
            if self._pipeline_owner is not None and self._pipeline_owner == flavour.owner():
                raise InterfaceError(
                    "the connection is in pipeline mode: queue statements on the pipeline object"
                )
            if timeout is not None or self.command_timeout is not None:
                timeout = self.timeout(timeout)
            deadline = None
            if timeout is not None:
                if timeout <= 0:
                    # Nothing is sent: a statement sent with no time to wait
                    # might run, or might be cancelled.
                    raise flavour.TimeoutError(f"timed out: timeout={timeout} s")
                deadline = self.driver.deadline(timeout)
            # _take_turn, without a call of its own when the lock is free.
            if not self._lock.try_acquire():
                self._take_turn(deadline, timeout)
            elif self._recovery is not None or self.closing or self.driver.is_closed():
                self._take_turn(deadline, timeout, acquired=True)
            try:
                return self._run_alone(flow, deadline, timeout, query)
            finally:
                self._lock.release()
        finally:
            flow.close()

    def _take_turn(self, deadline: float | None, timeout: float | None,
                         acquired: bool = False) -> None:
        """Wait for the connection: the lock (in the order asked; ``acquired``:
        taken already), then the end of any recovery; return with the lock
        held and the connection open."""
        if not acquired and not self._lock.try_acquire():
            try:
                self._lock.acquire(self._seconds_left(deadline))
            except TimeoutError:
                raise flavour.TimeoutError(
                    f"timed out after {timeout} s waiting for the connection"
                ) from None
        try:
            if self._recovery is not None:
                self._wait_recovery(deadline, timeout)
            self.check_open()
        except BaseException:
            self._lock.release()
            raise

    def _seconds_left(self, deadline: float | None) -> float | None:
        now = self.driver.deadline(0.0)
        return None if deadline is None or now is None else max(deadline - now, 0.0)

    def _run_alone(
        self, flow: Flow[T], deadline: float | None, timeout: float | None,
        query: str | None, first: Any = None,
    ) -> T:
        """Run ``flow`` (started already when ``first`` is its first request)
        with the connection to itself: the lock held, nothing else in flight."""
        try:
            return self.driver.run_flow(flow, deadline, first)
        except TimeoutError as exc:
            self.interrupted()
            if exc.args:
                raise
            raise flavour.TimeoutError(f"the query timed out after {timeout} s") from None
        except BaseException as exc:
            self.interrupted()
            if query is not None and isinstance(exc, PostgresMessage) \
                    and exc.query is None:
                exc.query = query  # the caller's query, for the error's reader
            raise

    def _quiet(self, deadline: float | None, timeout: float | None) -> None:
        """With the lock held: wait until nothing sent before is in flight
        (statements of other callers that shared round trips) and no recovery runs."""
        while True:
            if self._recovery is not None:
                self._wait_recovery(deadline, timeout)
            elif self.driver.busy and not self.driver.is_closed():
                try:
                    self.driver.until_idle(deadline)
                except TimeoutError:
                    raise flavour.TimeoutError(
                        f"timed out after {timeout} s waiting for the connection"
                    ) from None
            else:
                break
        self.check_open()

    def _run_logged(self, flow: Flow[T], timeout: float | None, query: str,
                          args: Any) -> T:
        started = flavour.clock()
        failure: BaseException | None = None
        try:
            return self.run(flow, timeout)
        except BaseException as exc:
            failure = exc
            if isinstance(exc, PostgresMessage) and exc.query is None:
                exc.query = query
            raise
        finally:
            record = LoggedQuery(query, args, timeout, flavour.clock() - started, failure,
                                 self.session.address, self.params)
            for logger in list(self.query_loggers):
                flavour.call_listener(logger, record)

    def run_in_pipeline(self, flow: Flow[T], timeout: float | None = None) -> T:
        """Run a flow of the pipeline that holds the connection (no lock to take)."""
        self.check_open()
        timeout = self.timeout(timeout)
        deadline = None if timeout is None else self.driver.deadline(timeout)
        try:
            return self.driver.run_flow(flow, deadline)
        except TimeoutError as exc:
            self.interrupted()
            if exc.args:
                raise
            raise flavour.TimeoutError(f"the pipeline timed out after {timeout} s") from None
        except BaseException:
            self.interrupted()
            raise

    def interrupted(self) -> None:
        """A flow was given up (timeout, cancellation, an error) with the lock held:
        if the server is still working for it, cancel and drain before the next."""
        if self.driver.busy and self._recovery is None:
            self.engine.abandon_pending()  # nobody reads those rows: skip decoding
            self._start_recovery()

    def _start_recovery(self) -> None:
        # The cancel goes out now (the server stops working for nobody); the
        # drain runs in a task (asyncio) or at the next call (blocking), so
        # the caller gets its timeout on time even from a server that
        # stopped answering.
        self._recovery_deadline = self.driver.deadline(RECOVERY_SECONDS)
        self._recovery = flavour.start_recovery(self._cancel, self._drain)

    def _wait_recovery(self, deadline: float | None, timeout: float | None) -> None:
        """Wait for the drain of an interrupted call, within the caller's deadline.

        When the caller's time runs out first, the drain goes on (a task) or
        resumes at the next call (blocking): the connection stays usable.
        """
        try:
            flavour.wait_recovery(self._recovery, deadline)
        except TimeoutError:
            raise flavour.TimeoutError(
                f"timed out after {timeout} s waiting for the connection to finish "
                "recovering from an interrupted call") from None

    def _cancel(self) -> bool:
        """Ask the server to stop the statement; False (connection closed) if that fails."""
        try:
            self._cancel_request()
            return True
        except BaseException:
            self.terminate()
            self._recovery = None
            return False

    def _drain(self, deadline: float | None = None) -> None:
        """Read what the given-up flow left coming, up to the next ReadyForQuery.

        Within RECOVERY_SECONDS of the interruption; ``deadline`` (a
        caller's, blocking API) may end the wait sooner, leaving the rest
        of the drain for the next call.
        """
        limit = self._recovery_deadline
        caller_first = deadline is not None and (limit is None or deadline < limit)
        try:
            self.driver.run_flow(drain_flow(self.engine),
                                       deadline if caller_first else limit)
        except TimeoutError:
            if caller_first and not self.driver.is_closed():
                raise  # the caller's time is up, not the recovery's: resume later
            self.terminate()
        except BaseException:
            # No answer (or a second interrupt): the connection is out of
            # step with the server, so it is closed rather than reused.
            self.terminate()
        self._recovery = None

    def _cancel_request(self) -> None:
        engine = self.engine
        target = self.session.cancel_target
        if engine.backend_pid is None or engine.backend_secret is None or target is None:
            return
        side = self.driver.spawn()
        try:
            side.run_flow(cancel_flow(target, engine.backend_pid, engine.backend_secret))
        finally:
            side.abort()

    def wait_for_events(self, timeout: float | None) -> None:
        """Wait up to ``timeout`` seconds (None: until one arrives) for a
        notification or notice, delivered to the listeners."""
        if self._stream is not None:
            raise InterfaceError("the connection is streaming replication: "
                                 "it delivers no notifications meanwhile")
        try:
            if timeout is None:
                self._lock.acquire()
            else:
                self._lock.acquire(max(timeout, 0))
        except TimeoutError:
            return
        try:
            deadline = self.driver.deadline(timeout)
            try:
                self._quiet(deadline, timeout)
            except TimeoutError:
                return
            self.driver.run_flow(events_flow(), deadline)
        finally:
            self._lock.release()

    def _hold(self) -> None:
        """Take the connection for a while (a stream, a pipeline): after the
        operations queued before, and after any recovery; open, or nothing held."""
        self._lock.acquire()
        try:
            self._quiet(None, None)
        except BaseException:
            self._lock.release()
            raise

    # -- replication streams ---------------------------------------------------

    def begin_stream(self, stream: Any) -> None:
        """Hold the connection for a replication stream (after the
        operations queued before it); other calls are refused meanwhile."""
        if self._stream is not None:
            raise InterfaceError("a replication stream is already running on this connection")
        self._hold()
        self._stream = stream

    def run_stream(self, flow: Flow[T], timeout: float | None = None) -> T:
        """Run a flow of the stream that holds the connection (``timeout``:
        TimeoutError after so many seconds).  The stream decides what an
        interruption means."""
        self.check_open()
        try:
            return self.driver.run_flow(
                flow, None if timeout is None else self.driver.deadline(timeout))
        finally:
            flow.close()

    def end_stream(self) -> None:
        if self._stream is not None:
            self._stream = None
            self._lock.release()

    # -- pipelines -------------------------------------------------------------

    def enter_pipeline(self) -> None:
        if self._pipeline_owner is not None and self._pipeline_owner == flavour.owner():
            raise InterfaceError("a pipeline is already open on this connection")
        self._hold()
        self._pipeline_owner = flavour.owner()

    def exit_pipeline(self) -> None:
        self._pipeline_owner = None
        self._lock.release()

    # -- closing -------------------------------------------------------------

    def close(self, timeout: float | None) -> None:
        """Close gracefully: wait for queued operations, send Terminate."""
        if self.is_closed():
            return
        if self._stream is not None:
            # A stream still running holds the connection: nothing can be
            # said in order any more, so the connection is closed at once.
            self.terminate()
            return
        self.closing = True
        try:
            deadline = self.driver.deadline(timeout)
            self._lock.acquire(timeout)
            try:
                while self._recovery is not None or (self.driver.busy
                                                     and not self.driver.is_closed()):
                    if self._recovery is not None:
                        flavour.wait_recovery(self._recovery, deadline)
                    else:  # statements that shared round trips, still in flight
                        self.driver.until_idle(deadline)
                if not self.driver.is_closed():
                    self.driver.run_flow(terminate_flow(self.engine), deadline)
            finally:
                self._lock.release()
        except BaseException:
            self.terminate()
            raise

    def terminate(self) -> None:
        """Close the connection at once, without waiting for anything."""
        self.closing = True
        self.driver.abort()
