"""The type registry: which codec handles which type OID, in which format.

A :class:`TypeRegistry` maps type OIDs to binary codecs (see
:mod:`pgwire.types.codec`) and to text parsers/formatters.  It is filled from
the ``TYPES`` of each type family's module (:mod:`~pgwire.types.numeric`,
:mod:`~pgwire.types.strings`, :mod:`~pgwire.types.datetimes`,
:mod:`~pgwire.types.uuids`, :mod:`~pgwire.types.jsons`); ``default_registry``
holds the built-in codecs, and each connection works on
``default_registry.copy()``, so what a connection registers does not leak to
others.

The layers above ask ``binary_decoder(oid)`` / ``binary_encoder(oid)`` once
per column or parameter and keep what they get: a :class:`Codec` (callable
with the value's bytes; the row decoder calls its ``decode`` in C) and an
encoder function; ``None`` means "use the text format", and then
``text_decoder`` / ``encode_text`` apply.  A type without a text parser
decodes to ``str``, never to an exception.

Array codecs are derived from their element's codecs whenever either changes
(registering an element codec, ``set_json_decoder``...), so ``int4[]`` always
follows ``int4`` and ``jsonb[]`` always uses the current JSON functions.  A
codec registered directly for an array OID is the user's and is left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from . import datetimes, jsons, numeric, oids, strings, uuids
from . import textformat as t
from .arrays import ArrayCodec, make_array_encoder, make_array_formatter, make_array_parser
from .codec import (
    UTF8,
    Codec,
    Decoder,
    Encoder,
    FunctionCodec,
    TextCodec,
    TextFormatter,
    TextParser,
    TypeSpec,
)

# The families whose TYPES every registry starts with (jsons is built per
# registry, around its JSON functions).
FAMILIES = (numeric, strings, datetimes, uuids)


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
        self._decoders: dict[int, Codec] = {}
        self._encoders: dict[int, Encoder] = {}
        self._parsers: dict[int, TextParser] = {}
        self._formatters: dict[int, TextFormatter] = {}
        self._names: dict[int, str] = dict(oids.TYPE_NAMES)
        self._array_elements: dict[int, int] = {}
        # OIDs whose codecs the user set: never rebuilt from element/JSON changes.
        self._custom_binary: set[int] = set()
        self._custom_text: set[int] = set()
        self._json_loads: Callable[[str], Any] = json.loads
        self._json_dumps: Callable[[Any], Any] = json.dumps
        for family in FAMILIES:
            for spec in family.TYPES:
                self._install(spec)
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

    def binary_decoder(self, oid: int) -> Codec | None:
        """The binary codec that decodes ``oid``, or None to request the text format.

        It is callable with a value's bytes; the row decoder calls its ``decode``.
        """
        return self._decoders.get(oid)

    def binary_encoder(self, oid: int) -> Encoder | None:
        """The binary encoder of ``oid``, or None to send the value as text."""
        return self._encoders.get(oid)

    def text_decoder(self, oid: int) -> Codec:
        """The codec of values of ``oid`` in text format (plain UTF-8 ``str`` if unknown)."""
        parser = self._parsers.get(oid)
        return UTF8 if parser is None else TextCodec(parser)

    def decode_text(self, oid: int, data: bytes) -> Any:
        """Decode one text-format value: parsed for known types, else ``str``."""
        text = data.decode("utf-8")
        parser = self._parsers.get(oid)
        return text if parser is None else parser(text)

    def encode_text(self, oid: int, value: Any) -> bytes:
        """Encode one parameter in text format (see :func:`pgwire.types.textformat.format_value`)."""
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
        decoder: Decoder | Codec | None,
        *,
        name: str | None = None,
        array_oid: int | None = None,
    ) -> None:
        """Use these binary codecs for ``oid``; None removes that direction (text is used).

        ``decoder`` is a :class:`~pgwire.types.codec.Codec` (compiled codecs
        decode rows in C) or a function of the value's bytes.  Works for
        array OIDs too (the codec then replaces the derived array codec).
        If ``oid`` is the element type of known arrays, their codecs are
        rebuilt on the new element codec; ``array_oid`` declares such an
        array for a type the registry did not know (an enum, a composite...).
        """
        self.version += 1
        self._set(self._encoders, oid, encoder)
        if decoder is not None and not isinstance(decoder, Codec):
            decoder = FunctionCodec(decoder)
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
        the generic text forms of :func:`pgwire.types.textformat.format_value`.
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

    def _install(self, spec: TypeSpec) -> None:
        """Take a family's type: its codecs, name and array type."""
        oid = spec.oid
        if oid not in self._custom_binary:
            codec = spec.codec
            self._set(self._decoders, oid, codec)
            self._set(self._encoders, oid, None if codec is None else codec.encoder_function())
        if oid not in self._custom_text:
            self._set(self._parsers, oid, spec.parse)
            self._set(self._formatters, oid, spec.format)
        self._names[oid] = spec.name
        if spec.array_oid:
            self._array_elements[spec.array_oid] = oid
            self._names.setdefault(spec.array_oid, spec.name + "[]")

    def _install_json(self) -> None:
        for spec in jsons.json_types(self._json_loads, self._json_dumps):
            self._install(spec)
            self._refresh_arrays_of(spec.oid)

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
                self._decoders, array_oid, None if decoder is None else ArrayCodec(decoder)
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
