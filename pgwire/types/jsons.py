"""JSON: ``json``/``jsonb`` <-> Python objects, through replaceable functions.

``json.loads``/``json.dumps`` by default; a registry swaps them with
``set_json_decoder``/``set_json_encoder`` and builds its codecs around the
functions it has (:func:`json_types`), so no lookup happens per value.
**A ``str`` parameter is taken as already-serialized JSON text** and sent
as-is (so ``'{"a": 1}'`` is an object and the JSON string "hello" must be
passed as ``'"hello"'``); anything else goes through the encoder function,
which may return ``str`` or ``bytes``.  Compiled by Cython (pure Python
mode, types in ``jsons.pxd``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import oids
from .codec import Codec, Encoder, TextFormatter, TypeSpec
from .codec import type_label as _type_label

# The functions are built around the JSON callables so that a registry can
# swap them (set_json_decoder / set_json_encoder) without a lookup per value.

JSONB_VERSION = 1


def json_text(value: Any, dumps: Callable[[Any], Any], type_name: str) -> bytes:
    """Serialize a json/jsonb parameter: a str is taken as JSON text already."""
    if isinstance(value, str):
        return value.encode("utf-8")
    text = dumps(value)
    if isinstance(text, str):
        return text.encode("utf-8")
    if isinstance(text, (bytes, bytearray)):  # e.g. orjson.dumps
        return bytes(text)
    raise TypeError(
        f"{type_name} encoder function returned {_type_label(text)}, expected str or bytes"
    )


def make_json_encoder(dumps: Callable[[Any], Any]) -> Encoder:
    def encode_json(value: Any) -> bytes:
        return json_text(value, dumps, "json")

    return encode_json


_JSONB_PREFIX = bytes((JSONB_VERSION,))


def make_jsonb_encoder(dumps: Callable[[Any], Any]) -> Encoder:
    def encode_jsonb(value: Any) -> bytes:
        return _JSONB_PREFIX + json_text(value, dumps, "jsonb")

    return encode_jsonb


def make_json_formatter(dumps: Callable[[Any], Any], type_name: str) -> TextFormatter:
    """Text form of a json/jsonb parameter: a str is JSON text already."""

    def format_json(value: Any) -> str:
        if isinstance(value, str):
            return value
        text = dumps(value)
        if isinstance(text, str):
            return text
        if isinstance(text, (bytes, bytearray)):  # e.g. orjson.dumps
            return bytes(text).decode("utf-8")
        raise TypeError(
            f"{type_name} encoder function returned {type(text).__qualname__},"
            " expected str or bytes"
        )

    return format_json


class JsonCodec(Codec):
    """json: the text of the value, parsed by ``loads``."""

    def __init__(self, loads: Callable[[str], Any], dumps: Callable[[Any], Any]) -> None:
        encoder = make_json_encoder(dumps)
        super().__init__(False, None, encoder)
        self.loads = loads
        self.encoder = encoder

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return self.loads(data[pos : pos + n].decode("utf-8"))

    def encode(self, value: Any) -> bytes:
        return self.encoder(value)


class JsonbCodec(Codec):
    """jsonb: a version byte, then the text of the value, parsed by ``loads``."""

    def __init__(self, loads: Callable[[str], Any], dumps: Callable[[Any], Any]) -> None:
        encoder = make_jsonb_encoder(dumps)
        super().__init__(False, None, encoder)
        self.loads = loads
        self.encoder = encoder

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        if n < 1:
            raise ValueError("malformed jsonb value: 0 bytes")
        if data[pos] != JSONB_VERSION:
            raise ValueError(f"unsupported jsonb binary format version {data[pos]}")
        return self.loads(data[pos + 1 : pos + n].decode("utf-8"))

    def encode(self, value: Any) -> bytes:
        return self.encoder(value)


def json_types(loads: Callable[[str], Any], dumps: Callable[[Any], Any]) -> tuple[TypeSpec, ...]:
    """The json and jsonb types of a registry whose JSON functions are these."""
    return (
        TypeSpec(oids.JSON, "json", oids.JSON_ARRAY, JsonCodec(loads, dumps), loads,
                 make_json_formatter(dumps, "json")),
        TypeSpec(oids.JSONB, "jsonb", oids.JSONB_ARRAY, JsonbCodec(loads, dumps), loads,
                 make_json_formatter(dumps, "jsonb")),
    )
