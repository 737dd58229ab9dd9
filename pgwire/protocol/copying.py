"""COPY operations: copy-in and copy-out sub-protocols over a simple Query.

PostgreSQL docs, "COPY Operations" (section 55.2.6): after Query('COPY ...
FROM STDIN') the server answers CopyInResponse and the client sends
CopyData messages, then CopyDone (or CopyFail to abort); after
Query('COPY ... TO STDOUT') the server answers CopyOutResponse, CopyData
messages and CopyDone.  Either way CommandComplete and ReadyForQuery follow,
or ErrorResponse and ReadyForQuery.  When the server fails during copy-in it
reports the error at once and ignores the CopyData still in flight, so a
sender can stop as soon as the operation is done.

These operations only track the exchange; the driver sends the data and
hands received data to a sink, since both involve waiting.
"""

from __future__ import annotations

from collections.abc import Callable

from ..exceptions import ProtocolError, exception_from_fields
from . import wire
from .engine import Engine, Operation, parse_fields
from .wire import BodyReader


def _copy_response(body: bytes) -> tuple[int, list[int]]:
    """Overall format and per-column formats of a Copy{In,Out}Response."""
    reader = BodyReader(body)
    overall = reader.byte()
    count = reader.int16()
    formats = [reader.int16() for _ in range(count)]
    if not reader.at_end():
        raise ProtocolError("trailing bytes in COPY response")
    return overall, formats


class CopyIn(Operation):
    """``COPY ... FROM STDIN``: wait for CopyInResponse, then take data."""

    __slots__ = ("sql", "ready", "on_ready", "format", "status", "_abort_reason", "ended")

    def __init__(self, sql: str) -> None:
        super().__init__()
        self.sql = sql
        self.ready = False
        # Called once when the server is ready for data (or has failed).
        self.on_ready: Callable[[], None] | None = None
        self.format = 0
        self.status: str | None = None
        self._abort_reason: str | None = None
        # CopyDone or CopyFail has been sent.
        self.ended = False

    def abort(self, engine: Engine, reason: str) -> None:
        """Give the COPY up: CopyFail now if the server waits for data, or as
        soon as it does (the caller may not be there to answer by then)."""
        if self.ended or self.done:
            return
        if self.ready:
            self.ended = True
            engine.queue(wire.copy_fail(reason[:1000]))
        else:
            self._abort_reason = reason

    def end(self) -> bytes:
        """The CopyDone message, marking the data as complete."""
        self.ended = True
        return wire.COPY_DONE_MESSAGE

    def messages(self) -> bytes:
        return wire.query(self.sql)

    def _signal(self) -> None:
        callback, self.on_ready = self.on_ready, None
        if callback is not None:
            callback()

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == wire.COPY_IN_RESPONSE:
            if self.ready:
                raise ProtocolError("second CopyInResponse in one COPY")
            self.format, _ = _copy_response(body)
            self.ready = True
            if self._abort_reason is not None:
                self.ended = True
                engine.queue(wire.copy_fail(self._abort_reason[:1000]))
            self._signal()
            return False
        if kind == wire.COMMAND_COMPLETE:
            self.status = BodyReader(body).cstring()
            return False
        if kind == wire.ERROR_RESPONSE:
            self._set_error(exception_from_fields(parse_fields(body)))
            return False
        if kind == wire.READY_FOR_QUERY:
            self._ready(body)
            self._signal()
            return True
        if kind == wire.COPY_OUT_RESPONSE:
            raise ProtocolError("the server started COPY TO where COPY FROM was sent")
        raise ProtocolError(f"unexpected message {chr(kind)!r} during COPY FROM STDIN")


class CopyOut(Operation):
    """``COPY ... TO STDOUT``: hand every CopyData body to ``sink``."""

    __slots__ = ("sql", "sink", "format", "status", "started")

    def __init__(self, sql: str, sink: Callable[[bytes], None]) -> None:
        super().__init__()
        self.sql = sql
        self.sink = sink
        self.format = 0
        self.status: str | None = None
        self.started = False

    def messages(self) -> bytes:
        return wire.query(self.sql)

    def abandon(self) -> None:
        self.sink = _discard

    def handle(self, engine: Engine, kind: int, body: bytes) -> bool:
        if kind == wire.COPY_DATA:
            if not self.started:
                raise ProtocolError("CopyData before CopyOutResponse")
            if self.error is None:
                try:
                    self.sink(body)
                except Exception as exc:  # the sink failed: keep reading to stay in step
                    self._set_error(exc)
            return False
        if kind == wire.COPY_OUT_RESPONSE:
            self.format, _ = _copy_response(body)
            self.started = True
            return False
        if kind == wire.COPY_DONE:
            return False
        if kind == wire.COMMAND_COMPLETE:
            self.status = BodyReader(body).cstring()
            return False
        if kind == wire.ERROR_RESPONSE:
            self._set_error(exception_from_fields(parse_fields(body)))
            return False
        if kind == wire.READY_FOR_QUERY:
            return self._ready(body)
        if kind == wire.COPY_IN_RESPONSE:
            # The statement reads instead of writing: end it cleanly.
            engine.queue(wire.copy_fail("COPY FROM STDIN is not allowed here"))
            return False
        raise ProtocolError(f"unexpected message {chr(kind)!r} during COPY TO STDOUT")


def _discard(data: bytes) -> None:
    return None
