"""The type registry: which codec handles which type OID, in which format.

A :class:`TypeRegistry` maps type OIDs to binary decoders/encoders (see
:mod:`pgwire.types.binary`) and to text parsers/formatters (see
:mod:`pgwire.types.text`).  ``default_registry`` holds the built-in codecs;
each connection works on ``default_registry.copy()``, so what a connection
registers does not leak to others.

The engine asks ``binary_decoder(oid)`` / ``binary_encoder(oid)`` once per
column or parameter and keeps the callable; ``None`` means "use the text
format", and then ``decode_text`` / ``encode_text`` apply.  A type without a
text parser decodes to ``str``, never to an exception.

Array codecs are derived from their element's codecs whenever either changes
(registering an element codec, ``set_json_decoder``...), so ``int4[]`` always
follows ``int4`` and ``jsonb[]`` always uses the current JSON functions.  A
codec registered directly for an array OID is the user's and is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from . import binary as b
from . import oids
from . import text as t
from .arrays import (
    make_array_decoder,
    make_array_encoder,
    make_array_formatter,
    make_array_parser,
)
from .binary import Decoder, Encoder
from .text import TextFormatter, TextParser

_BUILTIN_BINARY: dict[int, tuple[Encoder, Decoder]] = {
    oids.BOOL: (b.encode_bool, b.decode_bool),
    oids.INT2: (b.encode_int2, b.decode_int2),
    oids.INT4: (b.encode_int4, b.decode_int4),
    oids.INT8: (b.encode_int8, b.decode_int8),
    oids.OID: (b.encode_oid, b.decode_oid),
    oids.FLOAT4: (b.encode_float4, b.decode_float4),
    oids.FLOAT8: (b.encode_float8, b.decode_float8),
    oids.NUMERIC: (b.encode_numeric, b.decode_numeric),
    oids.TEXT: (b.make_text_encoder("text"), b.decode_text),
    oids.VARCHAR: (b.make_text_encoder("varchar"), b.decode_text),
    oids.BPCHAR: (b.make_text_encoder("bpchar"), b.decode_text),
    oids.NAME: (b.make_text_encoder("name"), b.decode_text),
    oids.CHAR: (b.encode_char, b.decode_char),
    oids.BYTEA: (b.encode_bytea, b.decode_bytea),
    oids.DATE: (b.encode_date, b.decode_date),
    oids.TIME: (b.encode_time, b.decode_time),
    oids.TIMETZ: (b.encode_timetz, b.decode_timetz),
    oids.TIMESTAMP: (b.encode_timestamp, b.decode_timestamp),
    oids.TIMESTAMPTZ: (b.encode_timestamptz, b.decode_timestamptz),
    oids.INTERVAL: (b.encode_interval, b.decode_interval),
    oids.UUID: (b.encode_uuid, b.decode_uuid),
    # json and jsonb are built per registry around its JSON functions.
}


def _str_identity(text: str) -> str:
    return text


_BUILTIN_PARSERS: dict[int, TextParser] = {
    oids.BOOL: t.parse_bool,
    oids.INT2: int,
    oids.INT4: int,
    oids.INT8: int,
    oids.OID: int,
    oids.FLOAT4: t.parse_float4,
    oids.FLOAT8: float,
    oids.NUMERIC: Decimal,
    oids.TEXT: _str_identity,
    oids.VARCHAR: _str_identity,
    oids.BPCHAR: _str_identity,
    oids.NAME: _str_identity,
    oids.CHAR: t.parse_char,
    oids.BYTEA: t.parse_bytea,
    oids.DATE: t.parse_date,
    oids.TIME: t.parse_time,
    oids.TIMETZ: t.parse_timetz,
    oids.TIMESTAMP: t.parse_timestamp,
    oids.TIMESTAMPTZ: t.parse_timestamptz,
    oids.INTERVAL: t.parse_interval,
    oids.UUID: t.parse_uuid,
}

_JSON_TYPES = (oids.JSON, oids.JSONB)


def _decode_utf8(data: bytes) -> str:
    return data.decode("utf-8")


class TypeRegistry:
    """Codecs by type OID; see the module docstring."""

    __slots__ = (
        "_decoders",
        "_encoders",
        "_parsers",
        "_formatters",
        "_names",
        "_array_elements",
        "_custom_binary",
        "_custom_text",
        "_json_loads",
        "_json_dumps",
        "version",
    )

    def __init__(self) -> None:
        # Bumped on every change, so users of codecs they looked up earlier
        # (cached statements) can tell that they must look again.
        self.version = 0
        self._decoders: dict[int, Decoder] = {}
        self._encoders: dict[int, Encoder] = {}
        for oid, (encoder, decoder) in _BUILTIN_BINARY.items():
            self._encoders[oid] = encoder
            self._decoders[oid] = decoder
        self._parsers: dict[int, TextParser] = dict(_BUILTIN_PARSERS)
        self._formatters: dict[int, TextFormatter] = {oids.CHAR: t.format_char}
        self._names: dict[int, str] = dict(oids.TYPE_NAMES)
        self._array_elements: dict[int, int] = dict(oids.ARRAY_ELEMENTS)
        # OIDs whose codecs the user set: never rebuilt from element/JSON changes.
        self._custom_binary: set[int] = set()
        self._custom_text: set[int] = set()
        self._json_loads: Callable[[str], Any] = json.loads
        self._json_dumps: Callable[[Any], Any] = json.dumps
        self._install_json()
        for array_oid in self._array_elements:
            self._build_array(array_oid)

    def copy(self) -> TypeRegistry:
        """An independent registry with the same codecs (codecs are shared, not copied)."""
        new = TypeRegistry.__new__(TypeRegistry)
        new.version = 0
        new._decoders = dict(self._decoders)
        new._encoders = dict(self._encoders)
        new._parsers = dict(self._parsers)
        new._formatters = dict(self._formatters)
        new._names = dict(self._names)
        new._array_elements = dict(self._array_elements)
        new._custom_binary = set(self._custom_binary)
        new._custom_text = set(self._custom_text)
        new._json_loads = self._json_loads
        new._json_dumps = self._json_dumps
        return new

    # -- lookups (the engine's side) ------------------------------------------

    def binary_decoder(self, oid: int) -> Decoder | None:
        """The binary decoder of ``oid``, or None to request the text format."""
        return self._decoders.get(oid)

    def binary_encoder(self, oid: int) -> Encoder | None:
        """The binary encoder of ``oid``, or None to send the value as text."""
        return self._encoders.get(oid)

    def text_decoder(self, oid: int) -> Callable[[bytes], Any]:
        """A decoder for values of ``oid`` in text format; plain UTF-8 ``str`` if unknown."""
        parser = self._parsers.get(oid)
        if parser is None:
            return _decode_utf8

        def decode(data: bytes) -> Any:
            return parser(data.decode("utf-8"))

        return decode

    def decode_text(self, oid: int, data: bytes) -> Any:
        """Decode one text-format value: parsed for known types, else ``str``."""
        text = data.decode("utf-8")
        parser = self._parsers.get(oid)
        return text if parser is None else parser(text)

    def encode_text(self, oid: int, value: Any) -> bytes:
        """Encode one parameter in text format (see :func:`pgwire.types.text.format_value`)."""
        formatter = self._formatters.get(
            oid, t.format_untyped_value if oid == 0 else t.format_value
        )
        text = formatter(value)
        if "\x00" in text:
            name = self._names.get(oid, f"type {oid}")
            raise ValueError(f"{name} parameter cannot contain NUL (\\x00) characters in text form")
        return text.encode("utf-8")

    def type_name(self, oid: int) -> str | None:
        """The SQL name of ``oid`` ('int4', 'int4[]'...), if the registry knows it."""
        return self._names.get(oid)

    def array_element(self, oid: int) -> int | None:
        """The element OID if ``oid`` is a known array type."""
        return self._array_elements.get(oid)

    # -- customization (the user's side) -----------------------------------------

    def register_binary(
        self,
        oid: int,
        encoder: Encoder | None,
        decoder: Decoder | None,
        *,
        name: str | None = None,
        array_oid: int | None = None,
    ) -> None:
        """Use these binary codecs for ``oid``; None removes that direction (text is used).

        Works for array OIDs too (the codec then replaces the derived array
        codec).  If ``oid`` is the element type of known arrays, their codecs
        are rebuilt on the new element codec; ``array_oid`` declares such an
        array for a type the registry did not know (an enum, a composite...).
        """
        self.version += 1
        self._set(self._encoders, oid, encoder)
        self._set(self._decoders, oid, decoder)
        self._custom_binary.add(oid)
        if name is not None:
            self._names[oid] = name
        if array_oid is not None:
            self.register_array(array_oid, oid)
        else:
            self._refresh_arrays_of(oid)

    def register_text(
        self,
        oid: int,
        encoder: TextFormatter | None,
        decoder: TextParser | None,
        *,
        name: str | None = None,
    ) -> None:
        """Use these text-format functions (str in, str out) for ``oid``.

        A None decoder makes values come back as ``str``; a None encoder uses
        the generic text forms of :func:`pgwire.types.text.format_value`.
        """
        self.version += 1
        self._set(self._formatters, oid, encoder)
        self._set(self._parsers, oid, decoder)
        self._custom_text.add(oid)
        if name is not None:
            self._names[oid] = name
        self._refresh_arrays_of(oid)

    def register_array(self, array_oid: int, element_oid: int, *, name: str | None = None) -> None:
        """Declare ``array_oid`` as an array of ``element_oid`` and derive its codecs."""
        self.version += 1
        self._array_elements[array_oid] = element_oid
        if name is not None:
            self._names[array_oid] = name
        elif array_oid not in self._names and element_oid in self._names:
            self._names[array_oid] = self._names[element_oid] + "[]"
        self._build_array(array_oid)

    def set_json_decoder(self, fn: Callable[[str], Any]) -> None:
        """Parse json and jsonb values (and their arrays) with ``fn`` instead of ``json.loads``."""
        self.version += 1
        self._json_loads = fn
        self._install_json()

    def set_json_encoder(self, fn: Callable[[Any], str | bytes]) -> None:
        """Serialize json/jsonb parameters with ``fn`` instead of ``json.dumps``.

        ``fn`` may return str or UTF-8 bytes.  A ``str`` parameter is never
        passed to ``fn``: it is taken as JSON text already.
        """
        self.version += 1
        self._json_dumps = fn
        self._install_json()

    # -- internals -----------------------------------------------------------------

    @staticmethod
    def _set(table: dict[int, Any], oid: int, codec: Any) -> None:
        if codec is None:
            table.pop(oid, None)
        else:
            table[oid] = codec

    def _install_json(self) -> None:
        loads = self._json_loads
        dumps = self._json_dumps
        if oids.JSON not in self._custom_binary:
            self._decoders[oids.JSON] = b.make_json_decoder(loads)
            self._encoders[oids.JSON] = b.make_json_encoder(dumps)
        if oids.JSONB not in self._custom_binary:
            self._decoders[oids.JSONB] = b.make_jsonb_decoder(loads)
            self._encoders[oids.JSONB] = b.make_jsonb_encoder(dumps)
        for oid in _JSON_TYPES:
            if oid not in self._custom_text:
                self._parsers[oid] = loads
                self._formatters[oid] = t.make_json_formatter(dumps, self._names[oid])
        for oid in _JSON_TYPES:
            self._refresh_arrays_of(oid)

    def _refresh_arrays_of(self, element_oid: int) -> None:
        for array_oid, element in self._array_elements.items():
            if element == element_oid:
                self._build_array(array_oid)

    def _build_array(self, array_oid: int) -> None:
        element = self._array_elements[array_oid]
        if array_oid not in self._custom_binary:
            decoder = self._decoders.get(element)
            encoder = self._encoders.get(element)
            name = self._names.get(array_oid, f"type {array_oid}")
            self._set(
                self._decoders, array_oid, None if decoder is None else make_array_decoder(decoder)
            )
            self._set(
                self._encoders,
                array_oid,
                None if encoder is None else make_array_encoder(encoder, element, name),
            )
        if array_oid not in self._custom_text:
            # Elements of unknown types parse as str, so any array is a list.
            self._parsers[array_oid] = make_array_parser(self._parsers.get(element))
            formatter = self._formatters.get(element)
            self._set(
                self._formatters,
                array_oid,
                None if formatter is None else make_array_formatter(formatter),
            )


default_registry = TypeRegistry()
