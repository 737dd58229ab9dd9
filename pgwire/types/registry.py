"""The type registry: which codec handles which type OID, in which format.

A :class:`TypeRegistry` maps type OIDs to binary codecs (see
:mod:`pgwire.types.codec`) and to text parsers/formatters.  It is filled from
the ``TYPES`` of each type family's module (:data:`FAMILIES`);
``default_registry`` holds the built-in codecs, and each connection works on
``default_registry.copy()``, so what a connection registers does not leak to
others.

The layers above ask ``binary_decoder(oid)`` / ``binary_encoder(oid)`` once
per column or parameter and keep what they get: a :class:`Codec` (callable
with the value's bytes; the row decoder calls its ``decode`` in C) and an
encoder function; ``None`` means "use the text format", and then
``text_decoder`` / ``encode_text`` apply.  A type without a text parser
decodes to ``str``, never to an exception.

Derived types -- arrays, ranges, multiranges, domains and composites -- get
codecs built from the codecs of the types they are made of, and are rebuilt
whenever one of those changes (registering a codec, ``set_json_decoder``...),
so ``int4[]`` always follows ``int4``, a composite its attribute types, and
``jsonb[]`` uses the current JSON functions.  A derived type has a binary
codec only when all its parts have one; otherwise it travels as text.  A
codec the user registered directly for an OID is left alone.

Types the registry does not know (user types, extension types, composites)
are described by :class:`TypeInfo` rows from the server's catalog
(:mod:`pgwire.flows.introspection` runs the query) and added with
:meth:`TypeRegistry.add_types`; :meth:`TypeRegistry.forget_types` drops them
again (``reload_schema_state()``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

from . import (
    bitstrings,
    datetimes,
    geometry,
    jsons,
    network,
    numeric,
    oids,
    strings,
    system,
    uuids,
)
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
from .composites import (
    AnonymousRecordCodec,
    CompositeCodec,
    HstoreCodec,
    format_hstore,
    make_composite_formatter,
    make_composite_parser,
    parse_anonymous_record,
    parse_hstore,
)
from .ranges import (
    MultirangeCodec,
    RangeCodec,
    format_multirange_text,
    format_range_text,
    parse_multirange_text,
    parse_range_text,
)

# The families whose TYPES every registry starts with (jsons is built per
# registry, around its JSON functions).
FAMILIES = (numeric, strings, datetimes, uuids, network, bitstrings, geometry, system)

# Built-in ranges and multiranges: (range, subtype, multirange).
BUILTIN_RANGES = (
    (oids.INT4RANGE, oids.INT4, oids.INT4MULTIRANGE),
    (oids.INT8RANGE, oids.INT8, oids.INT8MULTIRANGE),
    (oids.NUMRANGE, oids.NUMERIC, oids.NUMMULTIRANGE),
    (oids.TSRANGE, oids.TIMESTAMP, oids.TSMULTIRANGE),
    (oids.TSTZRANGE, oids.TIMESTAMPTZ, oids.TSTZMULTIRANGE),
    (oids.DATERANGE, oids.DATE, oids.DATEMULTIRANGE),
)

_VECTORS = frozenset(vector for vector, _ in system.VECTOR_TYPES)

# Subtypes whose Python values order as the server orders them, so a range
# with lower > upper can be refused before it is sent (text, enums and money
# order by collation, sort order or locale: the server decides for them).
_ORDERED_SUBTYPES = frozenset((
    oids.INT2, oids.INT4, oids.INT8, oids.OID, oids.FLOAT4, oids.FLOAT8, oids.NUMERIC,
    oids.DATE, oids.TIME, oids.TIMESTAMP, oids.TIMESTAMPTZ, oids.INTERVAL,
))

# The element delimiter of array literals, where it is not ','.
_DELIMITERS = {oids.BOX: ";"}

# Kinds, as get_attributes() reports them (asyncpg's names).
SCALAR, ARRAY, COMPOSITE, RANGE, MULTIRANGE, DOMAIN = (
    "scalar", "array", "composite", "range", "multirange", "domain"
)


class TypeInfo(NamedTuple):
    """One type as the catalog describes it (a row of the introspection query)."""

    oid: int
    name: str  # pg_type.typname
    schema: str
    kind: str  # pg_type.typtype: b(ase), c(omposite), d(omain), e(num), r(ange), m(ultirange), p
    element: int = 0  # arrays: the element type
    base: int = 0  # domains: the base type; ranges: the subtype; multiranges: the range
    delimiter: str = ","
    attribute_names: tuple[str, ...] = ()
    attribute_types: tuple[int, ...] = ()


class _Derived(NamedTuple):
    kind: str  # ARRAY, RANGE, MULTIRANGE, DOMAIN, COMPOSITE
    parts: tuple[int, ...]  # the OIDs its codecs are built from
    names: tuple[str, ...] = ()  # composite attribute names


class TypeRegistry:
    """Codecs by type OID; see the module docstring."""

    __slots__ = (
        "_decoders",
        "_encoders",
        "_parsers",
        "_formatters",
        "_names",
        "_schemas",
        "_kinds",
        "_array_elements",
        "_derived",
        "_introspected",
        "_infos",
        "_custom_binary",
        "_custom_text",
        "_json_loads",
        "_json_dumps",
        "_tuple_valued",
        "_delimiters",
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
        self._schemas: dict[int, str] = {}  # OIDs outside pg_catalog
        self._kinds: dict[int, str] = {}  # kinds other than scalar
        self._array_elements: dict[int, int] = {}
        self._derived: dict[int, _Derived] = {}
        self._introspected: set[int] = set()
        self._infos: dict[int, TypeInfo] = {}  # the catalog rows of introspected types
        # OIDs whose codecs the user set: never rebuilt from element/JSON changes.
        self._custom_binary: set[int] = set()
        self._custom_text: set[int] = set()
        self._json_loads: Callable[[str], Any] = json.loads
        self._json_dumps: Callable[[Any], Any] = json.dumps
        # Types whose Python values are tuples: in their arrays, only lists
        # are dimensions.
        self._tuple_valued: set[int] = {
            oids.POINT, oids.LINE, oids.LSEG, oids.BOX, oids.CIRCLE, oids.TID,
            oids.PG_SNAPSHOT, oids.TXID_SNAPSHOT, oids.RECORD,
        }
        self._delimiters: dict[int, str] = dict(_DELIMITERS)
        for family in FAMILIES:
            for spec in family.TYPES:
                self._install(spec)
        for spec in jsons.json_types(self._json_loads, self._json_dumps):
            self._install(spec)
        self._install_record()
        for range_oid, subtype, multirange_oid in BUILTIN_RANGES:
            self._derived[range_oid] = _Derived(RANGE, (subtype,))
            self._derived[multirange_oid] = _Derived(MULTIRANGE, (range_oid,))
            self._kinds[range_oid] = RANGE
            self._kinds[multirange_oid] = MULTIRANGE
            self._tuple_valued.add(range_oid)
        for vector, element in system.VECTOR_TYPES:
            self._derived[vector] = _Derived(ARRAY, (element,))
        for array_oid, element in oids.ARRAY_ELEMENTS.items():
            self._add_array(array_oid, element)
        self._build_all(list(self._derived))

    def copy(self) -> TypeRegistry:
        """An independent registry with the same codecs (codecs are shared, not copied)."""
        new = TypeRegistry.__new__(TypeRegistry)
        new.version = 0
        new._decoders = dict(self._decoders)
        new._encoders = dict(self._encoders)
        new._parsers = dict(self._parsers)
        new._formatters = dict(self._formatters)
        new._names = dict(self._names)
        new._schemas = dict(self._schemas)
        new._kinds = dict(self._kinds)
        new._array_elements = dict(self._array_elements)
        new._derived = dict(self._derived)
        new._introspected = set(self._introspected)
        new._infos = dict(self._infos)
        new._custom_binary = set(self._custom_binary)
        new._custom_text = set(self._custom_text)
        new._json_loads = self._json_loads
        new._json_dumps = self._json_dumps
        new._tuple_valued = set(self._tuple_valued)
        new._delimiters = dict(self._delimiters)
        if oids.RECORD not in new._custom_binary:
            new._install_record()  # its codec looks fields up in its own registry
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

    def text_parser(self, oid: int) -> TextParser | None:
        """The text-format parser of ``oid``; None: values are ``str``."""
        return self._parsers.get(oid)

    def decode_text(self, oid: int, data: bytes) -> Any:
        """Decode one text-format value: parsed for known types, else ``str``."""
        text = data.decode("utf-8")
        parser = self._parsers.get(oid)
        return text if parser is None else parser(text)

    def text_formatter(self, oid: int) -> TextFormatter:
        """The function giving the text form of a parameter of type ``oid``."""
        return self._formatters.get(oid, t.format_untyped_value if oid == 0 else t.format_value)

    def encode_text(self, oid: int, value: Any) -> bytes:
        """Encode one parameter in text format (see :func:`pgwire.types.textformat.format_value`)."""
        text = self.text_formatter(oid)(value)
        if "\x00" in text:
            name = self._names.get(oid, f"type {oid}")
            raise ValueError(f"{name} parameter cannot contain NUL (\\x00) characters in text form")
        return text.encode("utf-8")

    def type_name(self, oid: int) -> str | None:
        """The SQL name of ``oid`` ('int4', 'int4[]'...), if the registry knows it."""
        return self._names.get(oid)

    def knows(self, oid: int) -> bool:
        """Is ``oid`` a type this registry has described (built-in or looked up)?"""
        return oid in self._names

    def type_schema(self, oid: int) -> str:
        """The schema of type ``oid``: its :class:`TypeInfo`'s when
        :meth:`add_types` described it (types looked up on the server), else
        ``pg_catalog``."""
        return self._schemas.get(oid, "pg_catalog")

    def type_kind(self, oid: int) -> str:
        """scalar, array, composite, range, multirange or domain (asyncpg's kinds)."""
        return self._kinds.get(oid, ARRAY if oid in self._array_elements else SCALAR)

    def array_element(self, oid: int) -> int | None:
        """The element OID if ``oid`` is a known array type."""
        return self._array_elements.get(oid)

    def parts_of(self, oid: int) -> tuple[int, ...]:
        """The types a derived type is made of (element, subtype, attributes...)."""
        derived = self._derived.get(oid)
        return derived.parts if derived is not None else ()

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
        Types built from ``oid`` (its arrays, ranges, composites with such
        an attribute) are rebuilt on the new codec; ``array_oid`` declares
        an array for a type the registry did not know.
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
        self._rebuild_dependents(oid)

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
        self._rebuild_dependents(oid)

    def reset(self, oid: int, defaults: TypeRegistry) -> None:
        """Give ``oid`` back the codecs of ``defaults`` (or derive them again)."""
        self.version += 1
        self._custom_binary.discard(oid)
        self._custom_text.discard(oid)
        if oid in self._derived:
            self._build(oid)
        elif oid in self._infos:
            self._add_type(self._infos[oid])
        elif oid == oids.RECORD:
            self._install_record()
        else:
            for mine, theirs in ((self._decoders, defaults._decoders),
                                 (self._encoders, defaults._encoders),
                                 (self._parsers, defaults._parsers),
                                 (self._formatters, defaults._formatters)):
                self._set(mine, oid, theirs.get(oid))
        self._rebuild_dependents(oid)

    def alias(self, oid: int, target: int, *, binary: bool = True, text: bool = True) -> None:
        """Exchange values of ``oid`` as those of ``target`` (set_builtin_type_codec)."""
        self.version += 1
        if binary:
            self._set(self._decoders, oid, self._decoders.get(target))
            self._set(self._encoders, oid, self._encoders.get(target))
        else:
            self._set(self._decoders, oid, None)
            self._set(self._encoders, oid, None)
        if text:
            self._set(self._parsers, oid, self._parsers.get(target))
            self._set(self._formatters, oid, self._formatters.get(target))
        else:
            self._set(self._parsers, oid, None)
            self._set(self._formatters, oid, None)
        self._custom_binary.add(oid)
        self._custom_text.add(oid)
        self._rebuild_dependents(oid)

    def register_array(self, array_oid: int, element_oid: int, *, name: str | None = None) -> None:
        """Declare ``array_oid`` as an array of ``element_oid`` and derive its codecs."""
        self.version += 1
        self._add_array(array_oid, element_oid)
        if name is not None:
            self._names[array_oid] = name
        elif element_oid in self._names:
            self._names[array_oid] = self._names[element_oid] + "[]"
        self._build_all([array_oid])

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

    # -- types from the catalog (introspection) ------------------------------------

    def add_types(self, infos: Iterable[TypeInfo]) -> None:
        """Describe types the registry did not know, from catalog rows, and build their codecs.

        Rows may come in any order; a type whose parts are missing from both
        the registry and the rows is kept as text.
        """
        new: list[int] = []
        for info in infos:
            if info.oid in self._names and info.oid not in self._introspected:
                continue  # a built-in type: keep its codecs
            self.version += 1
            new.append(info.oid)
            self._add_type(info)
        # Array names need their element's name, known once all rows are in.
        for oid in new:
            element = self._array_elements.get(oid)
            if element is not None and element in self._names:
                self._names[oid] = self._names[element] + "[]"
        self._build_all([oid for oid in new if oid in self._derived])

    def _add_type(self, info: TypeInfo) -> None:
        oid = info.oid
        self._introspected.add(oid)
        self._infos[oid] = info
        self._schemas[oid] = info.schema
        self._names[oid] = info.name
        kind = info.kind
        if info.element:
            self._add_array(oid, info.element, info.delimiter)
        elif kind == "c":
            self._kinds[oid] = COMPOSITE
            self._derived[oid] = _Derived(COMPOSITE, tuple(info.attribute_types),
                                          tuple(info.attribute_names))
            self._tuple_valued.add(oid)
        elif kind == "d":
            self._kinds[oid] = DOMAIN
            self._derived[oid] = _Derived(DOMAIN, (info.base,))
        elif kind == "r":
            self._kinds[oid] = RANGE
            self._derived[oid] = _Derived(RANGE, (info.base,))
            self._tuple_valued.add(oid)
        elif kind == "m":
            self._kinds[oid] = MULTIRANGE
            self._derived[oid] = _Derived(MULTIRANGE, (info.base,))
        elif kind == "e" or info.name == "citext":
            # An enum's binary form is its label; citext's is its text.
            self._set_scalar(oid, strings.TextTypeCodec(info.name), None, None)
        elif info.name == "hstore":
            self._set_scalar(oid, HstoreCodec(), parse_hstore, format_hstore)
        # Other base and pseudo types: str in text format.

    def forget_types(self) -> None:
        """Drop every type added by :meth:`add_types` (they are looked up again on use)."""
        if not self._introspected:
            return
        self.version += 1
        for oid in self._introspected:
            for table in (self._names, self._schemas, self._kinds, self._array_elements,
                          self._derived):
                table.pop(oid, None)
            self._infos.pop(oid, None)
            self._tuple_valued.discard(oid)
            if oid not in self._custom_binary:
                self._decoders.pop(oid, None)
                self._encoders.pop(oid, None)
            if oid not in self._custom_text:
                self._parsers.pop(oid, None)
                self._formatters.pop(oid, None)
        self._introspected.clear()

    # -- internals -----------------------------------------------------------------

    @staticmethod
    def _set(table: dict[int, Any], oid: int, codec: Any) -> None:
        if codec is None:
            table.pop(oid, None)
        else:
            table[oid] = codec

    def _set_scalar(self, oid: int, codec: Codec | None, parse: TextParser | None,
                    format: TextFormatter | None) -> None:
        if oid not in self._custom_binary:
            self._set(self._decoders, oid, codec)
            self._set(self._encoders, oid, None if codec is None else codec.encoder_function())
        if oid not in self._custom_text:
            self._set(self._parsers, oid, parse)
            self._set(self._formatters, oid, format)

    def _install(self, spec: TypeSpec) -> None:
        """Take a family's type: its codecs, name and array type."""
        self._set_scalar(spec.oid, spec.codec, spec.parse, spec.format)
        self._names[spec.oid] = spec.name
        if spec.array_oid:
            self._add_array(spec.array_oid, spec.oid)
            self._names.setdefault(spec.array_oid, spec.name + "[]")

    def _install_record(self) -> None:
        codec = AnonymousRecordCodec(self._decoders.get, self._names.get)
        self._set_scalar(oids.RECORD, codec, parse_anonymous_record, None)
        self._encoders.pop(oids.RECORD, None)  # the server cannot read anonymous records

    def _install_json(self) -> None:
        for spec in jsons.json_types(self._json_loads, self._json_dumps):
            self._install(spec)
            self._rebuild_dependents(spec.oid)

    def _add_array(self, array_oid: int, element: int, delimiter: str | None = None) -> None:
        self._array_elements[array_oid] = element
        if delimiter is not None and delimiter != ",":
            self._delimiters[element] = delimiter
        self._derived[array_oid] = _Derived(ARRAY, (element,))

    def _dependents(self, oid: int) -> list[int]:
        return [derived for derived, how in self._derived.items() if oid in how.parts]

    def _rebuild_dependents(self, oid: int) -> None:
        """Rebuild every type built from ``oid``, then those built from them."""
        self._build_all(self._dependents(oid))

    def _build_all(self, targets: Sequence[int]) -> None:
        """Build ``targets`` and what depends on them, parts before wholes."""
        done: set[int] = set()
        pending = list(targets)
        while pending:
            oid = pending.pop()
            if oid in done:
                continue
            done.add(oid)
            self._build_with_parts(oid, done)
            pending.extend(self._dependents(oid))

    def _build_with_parts(self, oid: int, done: set[int]) -> None:
        derived = self._derived.get(oid)
        if derived is None:
            return
        for part in derived.parts:
            if part in self._derived and part not in done:
                done.add(part)
                self._build_with_parts(part, done)
        self._build(oid)

    def _build(self, oid: int) -> None:
        derived = self._derived[oid]
        kind = derived.kind
        name = self._names.get(oid, f"type {oid}")
        binary = oid not in self._custom_binary
        text = oid not in self._custom_text
        if kind == ARRAY:
            self._build_array(oid, derived.parts[0], name, binary, text)
            if oid in _VECTORS:
                # int2vector_recv wants lower bound 0, so parameters go as
                # text ('1 2'); values still decode from binary.
                self._encoders.pop(oid, None)
                if text:
                    self._parsers[oid] = system.parse_vector
                    self._formatters[oid] = system.format_vector
        elif kind == DOMAIN:
            base = derived.parts[0]
            # A domain's values are its base type's: tuples, lists...
            if base in self._tuple_valued:
                self._tuple_valued.add(oid)
            if binary:
                self._set(self._decoders, oid, self._decoders.get(base))
                self._set(self._encoders, oid, self._encoders.get(base))
            if text:
                self._set(self._parsers, oid, self._parsers.get(base))
                self._set(self._formatters, oid, self._formatters.get(base))
        elif kind == RANGE:
            self._build_range(oid, derived.parts[0], name, binary, text)
        elif kind == MULTIRANGE:
            self._build_multirange(oid, derived.parts[0], name, binary, text)
        elif kind == COMPOSITE:
            self._build_composite(oid, derived, name, binary, text)

    def _build_array(self, array_oid: int, element: int, name: str, binary: bool,
                     text: bool) -> None:
        # Items of these are elements, never dimensions: their values are
        # lists themselves (json: any JSON value).
        base = element
        while self._kinds.get(base) == DOMAIN:  # a domain's values are its base type's
            base = self._derived[base].parts[0]
        flat = base in (oids.JSON, oids.JSONB) or base in _VECTORS or (
            self._kinds.get(base) == MULTIRANGE)
        tuple_elements = element in self._tuple_valued
        delimiter = self._delimiters.get(element, ",")
        if binary:
            decoder = self._decoders.get(element)
            encoder = self._encoders.get(element)
            self._set(
                self._decoders, array_oid, None if decoder is None else ArrayCodec(decoder)
            )
            self._set(
                self._encoders,
                array_oid,
                None if encoder is None else make_array_encoder(
                    encoder, element, name, flat=flat, tuple_elements=tuple_elements),
            )
        if text:
            # Elements of unknown types parse as str, so any array is a list.
            self._parsers[array_oid] = make_array_parser(self._parsers.get(element), delimiter)
            formatter = self._formatters.get(element)
            if formatter is None and (flat or tuple_elements):
                formatter = t.format_value
            self._set(
                self._formatters,
                array_oid,
                None if formatter is None else make_array_formatter(
                    formatter, delimiter, flat=flat, tuple_elements=tuple_elements),
            )

    def _build_range(self, oid: int, subtype: int, name: str, binary: bool,
                     text: bool) -> None:
        if binary:
            decoder = self._decoders.get(subtype)
            encoder = self._encoders.get(subtype)
            codec = None if decoder is None else RangeCodec(
                decoder, encoder, name, check_order=subtype in _ORDERED_SUBTYPES)
            self._set(self._decoders, oid, codec)
            self._set(self._encoders, oid,
                      None if codec is None or encoder is None else codec.encode)
        if text:
            parse_subtype = self._parsers.get(subtype)
            format_subtype = self._formatters.get(subtype, t.format_value)

            def parse_range(value: str) -> Any:
                return parse_range_text(value, parse_subtype)

            check_order = subtype in _ORDERED_SUBTYPES

            def format_range(value: Any) -> str:
                return format_range_text(value, format_subtype, name, check_order)

            self._parsers[oid] = parse_range
            self._formatters[oid] = format_range

    def _build_multirange(self, oid: int, range_oid: int, name: str, binary: bool,
                          text: bool) -> None:
        range_derived = self._derived.get(range_oid)
        subtype = range_derived.parts[0] if range_derived is not None else 0
        if binary:
            range_codec = self._decoders.get(range_oid)
            if isinstance(range_codec, RangeCodec):
                codec = MultirangeCodec(range_codec, name)
                self._decoders[oid] = codec
                self._set(self._encoders, oid,
                          codec.encode if range_oid in self._encoders else None)
            else:
                self._set(self._decoders, oid, None)
                self._set(self._encoders, oid, None)
        if text:
            parse_subtype = self._parsers.get(subtype)
            format_subtype = self._formatters.get(subtype, t.format_value)

            def parse_multirange(value: str) -> Any:
                return parse_multirange_text(value, parse_subtype)

            def format_multirange(value: Any) -> str:
                return format_multirange_text(value, format_subtype, name)

            self._parsers[oid] = parse_multirange
            self._formatters[oid] = format_multirange

    def _build_composite(self, oid: int, derived: _Derived, name: str, binary: bool,
                         text: bool) -> None:
        parts = derived.parts
        decoders = [self._decoders.get(part) for part in parts]
        encoders = [self._encoders.get(part) for part in parts]
        codec = CompositeCodec(name, derived.names, parts,
                               [d if d is not None else UTF8 for d in decoders], encoders)
        if binary:
            complete = all(d is not None for d in decoders)
            self._set(self._decoders, oid, codec if complete else None)
            self._set(self._encoders, oid,
                      codec.encode if all(e is not None for e in encoders) else None)
        if text:
            self._parsers[oid] = make_composite_parser(
                derived.names, [self._parsers.get(part) for part in parts])
            self._formatters[oid] = make_composite_formatter(
                codec, [self._formatters.get(part, t.format_value) for part in parts])


default_registry = TypeRegistry()
