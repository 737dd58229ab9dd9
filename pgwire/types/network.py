"""Network addresses: inet, cidr, macaddr, macaddr8.

* ``inet`` -> ``ipaddress.IPv4Address``/``IPv6Address`` for a host address
  (full-length netmask), else ``IPv4Interface``/``IPv6Interface``
  (``'10.1.2.3/24'``); ``cidr`` -> ``IPv4Network``/``IPv6Network``: the
  values asyncpg gives.  Parameters take any ``ipaddress`` address,
  interface or network, or a ``str``; a ``cidr`` parameter with bits set
  right of its mask is refused (``ValueError``), as the server would.
* ``macaddr``/``macaddr8`` <-> ``str`` in the server's output form
  (``'08:00:2b:01:02:03'``); parameters take any input form the server does.

Binary format (``network_send`` in PostgreSQL's ``utils/adt/network.c``): a
family byte (2: IPv4, 3: IPv6), the netmask length, an is-cidr byte, the
address length, then the address bytes.  Compiled by Cython (pure Python
mode, types in ``network.pxd``).
"""

from __future__ import annotations

import ipaddress
from typing import Any

from . import oids
from .codec import Codec, TypeSpec
from .codec import malformed as _malformed
from .codec import type_label as _type_label

try:
    import cython
except ModuleNotFoundError:  # pure Python without Cython installed
    from .. import _cython_shim as cython  # type: ignore[no-redef]

if not cython.compiled:

    def gc_is_tracked(obj: object) -> bool:
        """Compiled: PyObject_GC_IsTracked (see the .pxd); pure Python never untracks."""
        return False

    def gc_untrack(obj: object) -> None:
        """Compiled: PyObject_GC_UnTrack."""


_FAMILY_INET = 2  # PGSQL_AF_INET
_FAMILY_INET6 = 3  # PGSQL_AF_INET6

_Address = (ipaddress.IPv4Address, ipaddress.IPv6Address)
_Interface = (ipaddress.IPv4Interface, ipaddress.IPv6Interface)
_Network = (ipaddress.IPv4Network, ipaddress.IPv6Network)


def decode_inet(data: bytes, pos: int = 0, n: int = -1) -> Any:
    if n < 0:
        n = len(data) - pos
    if n != 8 and n != 20:
        raise _malformed("inet", n)
    family = data[pos]
    bits = data[pos + 1]
    size = data[pos + 3]
    if size != n - 4 or family not in (_FAMILY_INET, _FAMILY_INET6):
        raise ValueError("malformed inet value: bad family or address length")
    address = data[pos + 4 : pos + n]
    if data[pos + 2]:  # a cidr value read through inet (cidr is binary-compatible)
        return _network(address, bits, family)
    if family == _FAMILY_INET:
        if bits == 32:
            return ipaddress.IPv4Address(address)
        return ipaddress.IPv4Interface((address, bits))
    if bits == 128:
        return ipaddress.IPv6Address(address)
    return ipaddress.IPv6Interface((address, bits))


def _network(address: bytes, bits: int, family: int) -> Any:
    if family == _FAMILY_INET:
        return ipaddress.IPv4Network((address, bits))
    return ipaddress.IPv6Network((address, bits))


def decode_cidr(data: bytes, pos: int = 0, n: int = -1) -> Any:
    if n < 0:
        n = len(data) - pos
    if n != 8 and n != 20 or data[pos + 3] != n - 4:
        raise _malformed("cidr", n)
    return _network(data[pos + 4 : pos + n], data[pos + 1], data[pos])


def _pack(address: Any, bits: int, is_cidr: int) -> bytes:
    packed: bytes = address.packed
    family = _FAMILY_INET if len(packed) == 4 else _FAMILY_INET6
    return bytes((family, bits, is_cidr, len(packed))) + packed


def encode_inet(value: Any) -> bytes:
    # Interfaces first: IPv4Interface is a subclass of IPv4Address.
    if isinstance(value, _Interface):
        return _pack(value.ip, value.network.prefixlen, 0)
    if isinstance(value, _Address):
        return _pack(value, value.max_prefixlen, 0)
    if isinstance(value, _Network):
        return _pack(value.network_address, value.prefixlen, 0)
    if isinstance(value, str):
        try:
            interface = ipaddress.ip_interface(value.strip())
        except ValueError:
            raise ValueError(f"invalid inet value {value!r}") from None
        return _pack(interface.ip, interface.network.prefixlen, 0)
    raise TypeError(f"inet expects an ipaddress address, interface or network, or str, "
                    f"got {_type_label(value)}")


def encode_cidr(value: Any) -> bytes:
    if isinstance(value, _Network):
        return _pack(value.network_address, value.prefixlen, 1)
    if isinstance(value, _Interface):  # (a subclass of the address classes)
        value = str(value)
    elif isinstance(value, _Address):
        return _pack(value, value.max_prefixlen, 1)
    if isinstance(value, str):
        try:
            network = ipaddress.ip_network(value.strip(), strict=True)
        except ValueError as exc:
            raise ValueError(f"invalid cidr value {value!r}: {exc}") from None
        return _pack(network.network_address, network.prefixlen, 1)
    raise TypeError(f"cidr expects an ipaddress network or address, or str, "
                    f"got {_type_label(value)}")


def parse_inet(text: str) -> Any:
    interface = ipaddress.ip_interface(text)
    if "/" not in text:
        return interface.ip
    return interface


def parse_cidr(text: str) -> Any:
    return ipaddress.ip_network(text)


def format_network(value: Any) -> str:
    if isinstance(value, (*_Address, *_Interface, *_Network)):
        return str(value)
    if isinstance(value, str):
        return value
    raise TypeError(f"expected an ipaddress value or str, got {_type_label(value)}")


# -- MAC addresses ----------------------------------------------------------------


def _mac_text(data: bytes, pos: int, n: int) -> str:
    return ":".join([f"{b:02x}" for b in data[pos : pos + n]])


def decode_macaddr(data: bytes, pos: int = 0, n: int = -1) -> str:
    if n < 0:
        n = len(data) - pos
    if n != 6:
        raise _malformed("macaddr", n)
    return _mac_text(data, pos, n)


def decode_macaddr8(data: bytes, pos: int = 0, n: int = -1) -> str:
    if n < 0:
        n = len(data) - pos
    if n != 8:
        raise _malformed("macaddr8", n)
    return _mac_text(data, pos, n)


def _mac_bytes(value: Any, type_name: str) -> bytes:
    if not isinstance(value, str):
        raise TypeError(f"{type_name} expects str, got {_type_label(value)}")
    text = value.strip()
    groups = None
    for separator in ":-":
        if separator in text and "." not in text:
            parts = text.split(separator)
            # '08:00:2b:01:02:03' (one or two digits per byte, as macaddr_in
            # reads it) or '08002b:010203', '0800-2b01-0203'
            if len(parts) in (6, 8) and all(1 <= len(p) <= 2 for p in parts):
                groups = parts
            break
    try:
        if groups is not None:
            result = bytes(int(p, 16) for p in groups)
        else:
            digits = text.replace(":", "").replace("-", "").replace(".", "")
            if len(digits) not in (12, 16) or not all(c in "0123456789abcdefABCDEF"
                                                      for c in digits):
                raise ValueError
            result = bytes.fromhex(digits)
    except ValueError:
        raise ValueError(f"invalid {type_name} value {value!r}") from None
    return result


def encode_macaddr(value: Any) -> bytes:
    data = _mac_bytes(value, "macaddr")
    if len(data) != 6:
        raise ValueError(f"invalid macaddr value {value!r}: 6 bytes expected")
    return data


def encode_macaddr8(value: Any) -> bytes:
    data = _mac_bytes(value, "macaddr8")
    if len(data) == 6:  # a 48-bit address, stored as EUI-64 as macaddr8_in does
        data = data[:3] + b"\xff\xfe" + data[3:]
    return data


# -- codecs -------------------------------------------------------------------------


def _untracked(value: Any) -> Any:
    # ipaddress objects hold only ints and each other, never a cycle: keep
    # them out of the garbage collector's lists (rows.py does so for records).
    if gc_is_tracked(value):
        gc_untrack(value)
    return value


class InetCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_inet, encode_inet)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return _untracked(decode_inet(data, pos, n))

    def encode(self, value: Any) -> bytes:
        return encode_inet(value)


class CidrCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_cidr, encode_cidr)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return _untracked(decode_cidr(data, pos, n))

    def encode(self, value: Any) -> bytes:
        return encode_cidr(value)


class MacaddrCodec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_macaddr, encode_macaddr)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_macaddr(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_macaddr(value)


class Macaddr8Codec(Codec):
    def __init__(self) -> None:
        super().__init__(True, decode_macaddr8, encode_macaddr8)

    def decode(self, data: bytes, pos: int, n: int) -> Any:
        return decode_macaddr8(data, pos, n)

    def encode(self, value: Any) -> bytes:
        return encode_macaddr8(value)


TYPES = (
    TypeSpec(oids.INET, "inet", oids.INET_ARRAY, InetCodec(), parse_inet, format_network),
    TypeSpec(oids.CIDR, "cidr", oids.CIDR_ARRAY, CidrCodec(), parse_cidr, format_network),
    TypeSpec(oids.MACADDR, "macaddr", oids.MACADDR_ARRAY, MacaddrCodec(), None),
    TypeSpec(oids.MACADDR8, "macaddr8", oids.MACADDR8_ARRAY, Macaddr8Codec(), None),
)
