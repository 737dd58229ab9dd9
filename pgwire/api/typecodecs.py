"""asyncpg's codec methods, once for both APIs: what they do to a connection's registry.

``set_type_codec``, ``reset_type_codec`` and ``set_builtin_type_codec``
first find the type by name (:func:`pgwire.flows.introspection.type_lookup_flow`:
one catalog query, which also describes the type); the functions here then
change the connection's :class:`~pgwire.types.TypeRegistry`, with asyncpg's
rules:

* ``format='text'``: the encoder returns ``str``, the decoder gets ``str``;
  the type then travels in text format both ways.  A text codec for ``json``
  or ``jsonb`` in ``pg_catalog`` replaces pgwire's JSON decoding.
* ``format='binary'``: the encoder returns ``bytes`` in the type's binary
  format, the decoder gets them.
* ``format='tuple'``: for interval ``(months, days, microseconds)``, date
  ``(days since 2000-01-01,)``, timestamp and timestamptz ``(microseconds
  since 2000-01-01,)``, time ``(microseconds,)``, timetz ``(microseconds,
  zone offset in seconds west of UTC)`` and any composite type (the
  attribute values, decoded); composite types accept only this format.
* Domains cannot get codecs of their own (PostgreSQL reports their base
  type in results): set the codec on the base type.

Arrays, ranges and composites built from a type follow its new codec.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from ..exceptions import InterfaceError, UnsupportedClientFeatureError
from ..types import FunctionCodec, TypeRegistry, default_registry, oids
from ..types.composites import CompositeCodec, HstoreCodec, format_hstore, parse_hstore
from ..types.record import Record

FORMATS = ("text", "binary", "tuple")

_I32 = struct.Struct("!i")
_I64 = struct.Struct("!q")
_INTERVAL = struct.Struct("!qii")
_TIMETZ = struct.Struct("!qi")

# (decode bytes -> tuple, encode tuple -> bytes) of the scalar types with a
# tuple format (asyncpg's layouts).
_TUPLE_FORMATS: dict[int, tuple[Callable[[bytes], tuple[Any, ...]],
                                Callable[[Any], bytes]]] = {
    oids.INTERVAL: (
        lambda data: (lambda us, days, months: (months, days, us))(*_INTERVAL.unpack(data)),
        lambda value: _INTERVAL.pack(value[2], value[1], value[0]),
    ),
    oids.DATE: (lambda data: _I32.unpack(data), lambda value: _I32.pack(value[0])),
    oids.TIMESTAMP: (lambda data: _I64.unpack(data), lambda value: _I64.pack(value[0])),
    oids.TIMESTAMPTZ: (lambda data: _I64.unpack(data), lambda value: _I64.pack(value[0])),
    oids.TIME: (lambda data: _I64.unpack(data), lambda value: _I64.pack(value[0])),
    oids.TIMETZ: (lambda data: _TIMETZ.unpack(data), lambda value: _TIMETZ.pack(*value)),
}

# Names set_builtin_type_codec accepts besides pg_type names.
_CODEC_ALIASES = {
    "int": oids.INT4, "integer": oids.INT4, "smallint": oids.INT2, "bigint": oids.INT8,
    "float": oids.FLOAT8, "double precision": oids.FLOAT8, "real": oids.FLOAT4,
    "boolean": oids.BOOL, "string": oids.TEXT, "character varying": oids.VARCHAR,
    "decimal": oids.NUMERIC, "char": oids.BPCHAR,
}

_HSTORE = "pg_contrib.hstore"


def check_format(format: str | None, *, allow_none: bool = False) -> None:
    if format is None and allow_none:
        return
    if format not in FORMATS:
        raise InterfaceError(f"invalid format {format!r}: expected 'text', 'binary' or 'tuple'")


def unknown_type(typename: str, schema: str) -> ValueError:
    return ValueError(f"unknown type: {schema}.{typename}")


def set_type_codec(registry: TypeRegistry, oid: int, typename: str, schema: str, *,
                   encoder: Callable[[Any], Any], decoder: Callable[[Any], Any],
                   format: str) -> None:
    check_format(format)
    kind = registry.type_kind(oid)
    qualified = f"{schema}.{typename}"
    if kind == "domain":
        raise UnsupportedClientFeatureError(
            f"custom codecs on domain types are not supported ({qualified}): "
            "set the codec on the base type; PostgreSQL reports a domain's base type in results"
        )
    if kind == "composite":
        if format != "tuple":
            raise UnsupportedClientFeatureError(
                f"only tuple-format codecs can be used on composite types ({qualified}): "
                "use set_type_codec(..., format='tuple')"
            )
        _set_composite_tuple_codec(registry, oid, encoder, decoder)
        return
    if kind not in ("scalar", "range", "multirange") and format == "tuple":
        raise InterfaceError(f"cannot use a tuple-format codec on {qualified} (a {kind} type)")
    if format == "text":
        registry.register_binary(oid, None, None)  # text both ways
        registry.register_text(oid, _returning_str(encoder, qualified), decoder)
    elif format == "binary":
        registry.register_text(oid, None, None)
        registry.register_binary(oid, _returning_bytes(encoder, qualified), decoder)
    else:
        layout = _TUPLE_FORMATS.get(oid)
        if layout is None:
            raise UnsupportedClientFeatureError(
                f"{qualified} has no tuple format (interval, date, timestamp, timestamptz, "
                "time, timetz and composite types have one)"
            )
        unpack, pack = layout
        registry.register_binary(oid, lambda value: pack(encoder(value)),
                                 lambda data: decoder(unpack(data)))


def _returning_str(encoder: Callable[[Any], Any], qualified: str) -> Callable[[Any], str]:
    def encode(value: Any) -> str:
        text = encoder(value)
        if not isinstance(text, str):
            raise TypeError(f"the text encoder of {qualified} returned "
                            f"{type(text).__qualname__}, expected str")
        return text

    return encode


def _returning_bytes(encoder: Callable[[Any], Any], qualified: str) -> Callable[[Any], bytes]:
    def encode(value: Any) -> bytes:
        data = encoder(value)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"the binary encoder of {qualified} returned "
                            f"{type(data).__qualname__}, expected bytes")
        return bytes(data)

    return encode


def _set_composite_tuple_codec(registry: TypeRegistry, oid: int, encoder: Callable[[Any], Any],
                               decoder: Callable[[Any], Any]) -> None:
    registry.reset(oid, default_registry)  # the composite codec built from the catalog
    composite = registry.binary_decoder(oid)
    if not isinstance(composite, CompositeCodec):
        raise UnsupportedClientFeatureError(
            f"{registry.type_name(oid)}: an attribute type has no binary codec, "
            "so the composite has no tuple format"
        )

    def decode(data: bytes) -> Any:
        record: Record = composite.decode(data, 0, len(data))
        return decoder(tuple(record.values()))

    def encode(value: Any) -> bytes:
        return composite.encode(tuple(encoder(value)))

    registry.register_binary(oid, encode, FunctionCodec(decode))


def reset_type_codec(registry: TypeRegistry, oid: int) -> None:
    registry.reset(oid, default_registry)


def set_builtin_type_codec(registry: TypeRegistry, oid: int, typename: str, schema: str, *,
                           codec_name: str, format: str | None) -> None:
    check_format(format, allow_none=True)
    if format == "tuple":
        raise InterfaceError("set_builtin_type_codec takes format None, 'text' or 'binary'")
    qualified = f"{schema}.{typename}"
    kind = registry.type_kind(oid)
    if kind not in ("scalar",):
        raise InterfaceError(f"cannot alias non-scalar type {qualified}")
    binary = format in (None, "binary")
    text = format in (None, "text")
    if codec_name == _HSTORE:
        codec = HstoreCodec()
        registry.register_binary(oid, codec.encode if binary else None,
                                 codec if binary else None)
        registry.register_text(oid, format_hstore if text else None,
                               parse_hstore if text else None)
        return
    target = _CODEC_ALIASES.get(codec_name.lower())
    if target is None:
        name = codec_name.lower().removeprefix("pg_catalog.")
        target = next((o for o, n in oids.TYPE_NAMES.items() if n.strip('"') == name), None)
    if target is None:
        raise InterfaceError(f"unknown builtin codec {codec_name!r} for {qualified}")
    registry.alias(oid, target, binary=binary, text=text)
