"""The codec interface: one PostgreSQL type's values to Python objects and back.

A :class:`Codec` converts values of one type in the binary format:
``decode(data, pos, n)`` reads the ``n`` bytes at ``pos`` of ``data`` (a
DataRow buffer, decoded in place, without a copy) and ``encode(value)``
returns the bytes of one parameter; calling the codec with ``bytes``
decodes all of them.  The compiled row decoder (:mod:`pgwire.types.rows`)
calls ``decode`` as a C method, so a codec compiled with Cython -- the
built-in ones, and the composite, enum and range codecs -- is as fast as any
other; a codec written in Python (a subclass overriding ``decode``, or a
:class:`FunctionCodec` around plain functions) works the same way, at
Python speed.

Each type family has its module (:mod:`~pgwire.types.numeric`,
:mod:`~pgwire.types.strings`, :mod:`~pgwire.types.datetimes`,
:mod:`~pgwire.types.uuids`, :mod:`~pgwire.types.jsons`,
:mod:`~pgwire.types.arrays`): its binary codecs, its text parsers and
formatters, and a ``TYPES`` table of :class:`TypeSpec` entries that the
registry installs.  Adding a type is one entry there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

# A binary decoder: decoder(data) is the value of data; an encoder the reverse.
Decoder = Callable[[bytes], Any]
Encoder = Callable[[Any], bytes]
TextParser = Callable[[str], Any]
TextFormatter = Callable[[Any], str]
InPlaceDecoder = Callable[[bytes, int, int], Any]


class Codec:
    """Binary conversions of one PostgreSQL type (see the module docstring).

    ``atomic``: the values hold no reference to other objects (ints,
    strings, decimals, dates...), so a row of them cannot be part of a
    reference cycle and the garbage collector need not track it.
    ``in_place``: a plain function ``(data, pos, n) -> value`` doing what
    ``decode`` does, which the pure Python row decoder calls directly;
    ``encode_function``: a plain function doing what ``encode`` does, which
    parameter encoding calls directly.
    """

    def __init__(self, atomic: bool = False, in_place: InPlaceDecoder | None = None,
                 encode_function: Encoder | None = None) -> None:
        self.atomic = atomic
        self.in_place = in_place
        self.encode_function = encode_function

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        """The value in the ``n`` bytes at ``pos`` of ``data``."""
        raise NotImplementedError(f"{type(self).__name__} has no binary decoder")

    def encode(self, value: Any) -> bytes:
        """The binary form of ``value``, or TypeError/ValueError/OverflowError."""
        raise NotImplementedError(f"{type(self).__name__} has no binary encoder")

    def __call__(self, data: bytes) -> Any:
        return self.decode(data, 0, len(data))

    def decoder_function(self) -> InPlaceDecoder:
        """What the pure Python row decoder calls: ``in_place``, else ``decode``."""
        return self.in_place if self.in_place is not None else self.decode

    def encoder_function(self) -> Encoder:
        """What parameter encoding calls: ``encode_function``, else ``encode``."""
        return self.encode_function if self.encode_function is not None else self.encode


class FunctionCodec(Codec):
    """A codec made of two plain functions: ``decoder(bytes)`` and ``encoder(value)``."""

    def __init__(self, decoder: Decoder | None, encoder: Encoder | None = None) -> None:
        super().__init__()
        self.decoder = decoder
        self.encoder = encoder

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        """``decoder`` called with the ``n`` bytes at ``pos`` of ``data``.

        :raises NotImplementedError: the codec has no decoder.
        """
        if self.decoder is None:
            raise NotImplementedError("no binary decoder was given")
        if pos == 0 and n == len(data):
            return self.decoder(data)
        return self.decoder(data[pos : pos + n])

    def encode(self, value: Any) -> bytes:
        """``encoder(value)``: the binary form of ``value``.

        :raises NotImplementedError: the codec has no encoder.
        """
        if self.encoder is None:
            raise NotImplementedError("no binary encoder was given")
        return self.encoder(value)


def decode_utf8(data: bytes, pos: int = 0, n: int = -1) -> str:
    if n < 0:
        n = len(data) - pos
    return data[pos : pos + n].decode("utf-8")


class Utf8Codec(Codec):
    """Text as ``str``: what a value in text format is when its type has no parser."""

    def __init__(self) -> None:
        super().__init__(True, decode_utf8)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return data[pos : pos + n].decode("utf-8")

    def encode(self, value: Any) -> bytes:
        if not isinstance(value, str):
            raise TypeError(f"expected str, got {type_label(value)}")
        return value.encode("utf-8")


UTF8 = Utf8Codec()


class TextCodec(Codec):
    """Values in text format, parsed by ``parser(str)``."""

    def __init__(self, parser: TextParser) -> None:
        super().__init__()
        self.parser = parser

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return self.parser(data[pos : pos + n].decode("utf-8"))


class TypeSpec(NamedTuple):
    """One built-in type of a family module's ``TYPES``."""

    oid: int
    name: str
    array_oid: int  # 0: no array type
    codec: Codec | None  # binary format; None: text only
    parse: TextParser | None  # text format to value; None: str
    format: TextFormatter | None = None  # value to text; None: the generic text forms


def type_label(value: object) -> str:
    return type(value).__qualname__


def shown_value(value: object) -> str:
    """``repr(value)`` cut to 60 characters, for an error message about a bad value."""
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def malformed(type_name: str, n: int) -> ValueError:
    return ValueError(f"malformed {type_name} value: {n} bytes")
