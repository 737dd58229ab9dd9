"""Every built-in decoder fed arbitrary bytes: a value or an ordinary exception, nothing worse.

What arrives in a DataRow is the server's to choose; a hostile or broken
server (or proxy) may send anything.  For every type with a binary
decoder, and for every text decoder, hypothesis feeds arbitrary bytes
(and, for binary, bytes that start with plausible headers: array
dimensions, a range's flags, a numeric's digit count, a huge length
prefix).  The decoder returns a value or raises an ``Exception`` that the
connection turns into a ``DataError`` (``engine.decode_failure``), keeping
the connection in step.  What must never happen, on either build:
``MemoryError`` (a length from the network allocated before its bytes
exist), ``SystemError`` (a C-level error in the compiled build),
``RecursionError``, a hang (hypothesis' deadline), or a crash of the
process.  pgoutput's own fuzzing is in test_pgoutput.py.
"""

from __future__ import annotations

import os
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pgwire.exceptions import DataError
from pgwire.protocol.engine import decode_failure
from pgwire.types import default_registry, oids

OIDS = sorted({value for name in dir(oids) if name.isupper()
               and isinstance(value := getattr(oids, name), int) and value > 0})
BINARY = [oid for oid in OIDS if default_registry.binary_decoder(oid) is not None]
FORBIDDEN = (MemoryError, SystemError, RecursionError)

# Prefixes that steer the bytes into a decoder's deeper paths: array headers
# (ndim, flags, element oid, then dims), huge counts and lengths.
_int32 = st.integers(-(2**31), 2**31 - 1).map(lambda n: struct.pack("!i", n))
_int16 = st.integers(-(2**15), 2**15 - 1).map(lambda n: struct.pack("!h", n))
PAYLOADS = st.one_of(
    st.binary(max_size=64),
    st.tuples(_int32, _int32, _int32, st.lists(_int32, max_size=6),
              st.binary(max_size=32)).map(lambda t: b"".join([t[0], t[1], t[2], *t[3], t[4]])),
    st.tuples(_int16, _int16, _int16, _int16, st.binary(max_size=24)).map(b"".join),
    st.tuples(st.binary(min_size=1, max_size=1), _int32, st.binary(max_size=24)).map(b"".join),
    st.just(b"\x7f\xff\xff\xff" * 4),
)

# A few dozen cases per type in CI; PGWIRE_FUZZ_EXAMPLES=5000 for a long run.
FUZZ = settings(max_examples=int(os.environ.get("PGWIRE_FUZZ_EXAMPLES", "40")),
                deadline=2000, database=None,
                suppress_health_check=[HealthCheck.too_slow])


def _survive(call: Any) -> None:
    try:
        call()
    except FORBIDDEN:
        raise
    except Exception as exc:  # what the connection reports: a DataError, in step
        assert isinstance(decode_failure(exc), Exception)


@pytest.mark.parametrize("oid", BINARY, ids=lambda oid: default_registry.type_name(oid) or str(oid))
@FUZZ
@given(data=PAYLOADS)
def test_binary_decoder_survives_arbitrary_bytes(oid: int, data: bytes) -> None:
    codec = default_registry.binary_decoder(oid)
    assert codec is not None
    # In the middle of a larger buffer too, as the row decoder calls it.
    framed = b"\xaa" * 3 + data + b"\xbb" * 3
    _survive(lambda: codec.decode(data, 0, len(data)))
    _survive(lambda: codec.decode(framed, 3, len(data)))


@pytest.mark.parametrize("oid", OIDS, ids=lambda oid: default_registry.type_name(oid) or str(oid))
@FUZZ
@given(data=st.one_of(st.binary(max_size=48), st.text(max_size=48).map(str.encode)))
def test_text_decoder_survives_arbitrary_bytes(oid: int, data: bytes) -> None:
    _survive(lambda: default_registry.decode_text(oid, data))


def test_the_fuzzing_reaches_the_decoders() -> None:
    # Must be able to fail: a truncated int4 and a malformed array are refused.
    codec = default_registry.binary_decoder(oids.INT4)
    assert codec is not None
    with pytest.raises(Exception):  # noqa: B017 - any ordinary exception is the contract
        codec.decode(b"\x00\x01", 0, 2)
    array = default_registry.binary_decoder(oids.INT4_ARRAY)
    assert array is not None
    huge = struct.pack("!iiiii", 1, 0, oids.INT4, 2**31 - 1, 1)  # 2**31-1 elements claimed
    with pytest.raises(Exception) as caught:  # noqa: B017
        array.decode(huge, 0, len(huge))
    assert not isinstance(caught.value, MemoryError)
    assert isinstance(decode_failure(ValueError("x")), DataError)
    assert len(BINARY) > 80
