"""Where COPY data comes from and goes to: paths, file objects, iterables, callables.

The readers here run in the caller's thread (the blocking API) or, for files,
in an executor (the asyncio API, see :mod:`pgwire.api.flavours`); sources that
must be awaited (async iterables, objects with an async ``read``) are left to
the asyncio API.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterable, Callable, Iterable, Iterator
from typing import Any

from ..exceptions import InterfaceError
from ..types.copyrows import CHUNK_SIZE


def sync_source_chunks(source: Any) -> Iterator[bytes] | None:
    """Chunks of a COPY source that can be read without awaiting: a path, a
    file object with a plain ``read``, bytes, or an iterable of bytes.
    None for sources that need awaiting (async iterables, async ``read``)."""
    if is_path(source):
        return _file_chunks(source)
    read = getattr(source, "read", None)
    if read is not None:
        if inspect.iscoroutinefunction(read):
            return None
        return _reader_chunks(read)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return iter([bytes(source)])
    if isinstance(source, Iterable) and not isinstance(source, str):
        return (as_bytes(chunk) for chunk in source)
    if isinstance(source, AsyncIterable):
        return None
    raise InterfaceError(
        f"COPY source must be a path, a file object or an iterable of bytes, got {source!r}"
    )


def _file_chunks(path: Any) -> Iterator[bytes]:
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK_SIZE):
            yield chunk


def _reader_chunks(read: Callable[[int], Any]) -> Iterator[bytes]:
    while chunk := read(CHUNK_SIZE):
        yield as_bytes(chunk)


def as_bytes(chunk: Any) -> bytes:
    return chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)


def output_writer(output: Any) -> Callable[[bytes], Any] | None:
    """The write function of a COPY output (None for a path: open it first)."""
    if is_path(output):
        return None
    if hasattr(output, "write"):
        return output.write  # type: ignore[no-any-return]
    if callable(output):
        return output  # type: ignore[no-any-return]
    raise InterfaceError(
        f"COPY output must be a path, a file object or a callable, got {output!r}"
    )


def is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))
