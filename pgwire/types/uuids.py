"""UUIDs: ``uuid`` <-> ``uuid.UUID`` (the encoder also accepts a ``str``).

Binary codec, text parser and the ``TYPES`` the registry installs; compiled
by Cython (pure Python mode, types in ``uuids.pxd``).
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from . import oids
from .codec import Codec, TypeSpec
from .codec import malformed as _malformed
from .codec import type_label as _type_label


def decode_uuid(data: bytes, pos: int = 0, n: int = -1) -> UUID:
    if n < 0:
        n = len(data) - pos
    if n != 16:
        raise _malformed("uuid", n)
    return UUID(bytes=data[pos : pos + 16])


def encode_uuid(value: Any) -> bytes:
    if isinstance(value, UUID):
        return value.bytes
    if isinstance(value, str):
        try:
            return UUID(value).bytes
        except ValueError:
            raise ValueError(f"uuid: invalid UUID string {value!r}") from None
    raise TypeError(f"uuid expects uuid.UUID or str, got {_type_label(value)}")


def parse_uuid(text: str) -> UUID:
    return UUID(text)


class UUIDCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_uuid, encode_uuid)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_uuid(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_uuid(value)


TYPES = (TypeSpec(oids.UUID, "uuid", oids.UUID_ARRAY, UUIDCodec(), parse_uuid),)
