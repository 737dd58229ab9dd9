"""Server-less tests of the authentication policy: require_auth, channel
binding (SCRAM-SHA-256-PLUS, RFC 5929 tls-server-end-point) and OAUTHBEARER."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import subprocess
from pathlib import Path

import pytest

from pgwire.exceptions import InterfaceError, ProtocolError
from pgwire.protocol import Engine, EngineState, Startup
from pgwire.protocol.auth import certificate_signature_hash, tls_server_end_point
from pgwire.protocol.operations import AuthPolicy
from pgwire.testing._certs import generate_self_signed_cert

ALL = frozenset({"password", "md5", "scram-sha-256", "gss", "sspi", "oauth", "none"})


def msg(kind: bytes, body: bytes = b"") -> bytes:
    return kind + struct.pack("!i", len(body) + 4) + body


def auth(code: int, extra: bytes = b"") -> bytes:
    return msg(b"R", struct.pack("!i", code) + extra)


def ready() -> bytes:
    return msg(b"Z", b"I")


def error(code: str, message: str) -> bytes:
    body = b"SFATAL\0C" + code.encode() + b"\0M" + message.encode() + b"\0\0"
    return msg(b"E", body)


def sasl_initial(data: bytes) -> tuple[str, bytes]:
    body = data[5:]
    mechanism, _, rest = body.partition(b"\0")
    (length,) = struct.unpack("!i", rest[:4])
    return mechanism.decode(), rest[4 : 4 + length]


def start(policy: AuthPolicy, password: str | None = "pw") -> tuple[Engine, Startup]:
    engine = Engine()
    op = Startup({"user": "u", "database": "d"}, password, policy=policy)
    engine.send(op)
    engine.data_to_send()
    return engine, op


@pytest.mark.parametrize(
    ("allowed", "request_code", "extra", "refused"),
    [
        ({"scram-sha-256"}, 3, b"", "cleartext password"),
        ({"scram-sha-256"}, 5, b"salt", "hashed password"),
        ({"password", "md5"}, 10, b"SCRAM-SHA-256\0\0", "SASL authentication"),
        (ALL - {"none"}, 0, b"", "did not complete authentication"),
        ({"scram-sha-256"}, 7, b"", "GSSAPI"),
    ],
)
def test_require_auth_refuses_before_sending_anything(
    allowed: set[str], request_code: int, extra: bytes, refused: str
) -> None:
    engine, op = start(AuthPolicy(frozenset(allowed), "the requirement"))
    engine.receive_data(auth(request_code, extra))
    assert isinstance(op.error, InterfaceError)
    assert 'requirement "the requirement" failed' in str(op.error)
    assert refused in str(op.error)
    assert engine.data_to_send() == b""  # no password went out
    assert engine.state is EngineState.CLOSED


def test_require_auth_none_allows_trust() -> None:
    engine, op = start(AuthPolicy(frozenset({"none"}), "none"))
    engine.receive_data(auth(0) + ready())
    assert op.done and op.error is None


@pytest.mark.parametrize("request_code", [0, 3, 5])
def test_channel_binding_required_refuses_methods_without_it(request_code: int) -> None:
    engine, op = start(AuthPolicy(channel_binding="require", tls_end_point=lambda: b"x" * 32))
    engine.receive_data(auth(request_code, b"salt" if request_code == 5 else b""))
    assert isinstance(op.error, InterfaceError)
    assert "channel binding" in str(op.error)
    assert engine.data_to_send() == b""


def test_channel_binding_required_but_not_offered() -> None:
    engine, op = start(AuthPolicy(channel_binding="require", tls_end_point=lambda: b"x" * 32))
    engine.receive_data(auth(10, b"SCRAM-SHA-256\0\0"))
    assert isinstance(op.error, InterfaceError)
    assert "did not offer" in str(op.error)


@pytest.mark.parametrize(
    ("binding", "tls", "offered", "mechanism", "gs2"),
    [
        ("prefer", True, b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0", "SCRAM-SHA-256-PLUS",
         b"p=tls-server-end-point,,"),
        ("prefer", True, b"SCRAM-SHA-256\0\0", "SCRAM-SHA-256", b"y,,"),
        ("prefer", False, b"SCRAM-SHA-256\0\0", "SCRAM-SHA-256", b"n,,"),
        ("disable", True, b"SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0", "SCRAM-SHA-256", b"n,,"),
    ],
)
def test_scram_mechanism_and_gs2_flag(
    binding: str, tls: bool, offered: bytes, mechanism: str, gs2: bytes
) -> None:
    end_point = b"\x01" * 32
    engine, op = start(AuthPolicy(channel_binding=binding,
                                  tls_end_point=(lambda: end_point) if tls else None))
    engine.receive_data(auth(10, offered))
    chosen, client_first = sasl_initial(engine.data_to_send())
    assert chosen == mechanism
    assert client_first.startswith(gs2)
    # The client-final message carries the GS2 header and the binding data.
    nonce = client_first.split(b"r=", 1)[1].decode()
    salt = base64.b64encode(b"salt").decode()
    engine.receive_data(auth(11, f"r={nonce}SERVER,s={salt},i=4096".encode()))
    client_final = engine.data_to_send()[5:].decode()
    binding_field = client_final.split(",", 1)[0]
    expected = gs2 + (end_point if mechanism.endswith("PLUS") else b"")
    assert binding_field == "c=" + base64.b64encode(expected).decode()
    assert op.channel_bound is mechanism.endswith("PLUS")


def test_tls_server_end_point_hashes_with_the_signature_hash(tmp_path: Path) -> None:
    cert, key = tmp_path / "c.crt", tmp_path / "c.key"
    if generate_self_signed_cert(cert, key) is None:
        pytest.skip("no openssl or cryptography to make a certificate")
    der = subprocess.run(
        ["openssl", "x509", "-in", str(cert), "-outform", "DER"], capture_output=True, check=True
    ).stdout
    assert certificate_signature_hash(der) == "sha256"  # ecdsa-with-SHA256
    assert tls_server_end_point(der) == hashlib.sha256(der).digest()
    with pytest.raises(InterfaceError, match="could not parse"):
        certificate_signature_hash(der[:20])


CHALLENGE = json.dumps({
    "status": "invalid_token",
    "openid-configuration": "https://issuer.example.org/.well-known/openid-configuration",
    "scope": "openid pgwire",
}).encode()


def test_oauth_discovery_then_challenge() -> None:
    engine, op = start(AuthPolicy(oauth_enabled=True), password=None)
    engine.receive_data(auth(10, b"OAUTHBEARER\0\0"))
    mechanism, data = sasl_initial(engine.data_to_send())
    assert (mechanism, data) == ("OAUTHBEARER", b"n,,\x01auth=\x01\x01")
    engine.receive_data(auth(11, CHALLENGE))
    assert engine.data_to_send() == b"p\x00\x00\x00\x05\x01"  # a lone 0x01
    engine.receive_data(error("28000", "OAuth bearer authentication failed"))
    assert op.error is not None and op.oauth_challenge is not None
    assert op.oauth_challenge.issuer == "https://issuer.example.org"
    assert op.oauth_challenge.scope == "openid pgwire"


def test_oauth_token_is_sent_as_bearer() -> None:
    engine, op = start(AuthPolicy(oauth_token="tok-123"), password=None)
    engine.receive_data(auth(10, b"OAUTHBEARER\0\0"))
    assert sasl_initial(engine.data_to_send())[1] == b"n,,\x01auth=Bearer tok-123\x01\x01"
    engine.receive_data(auth(0) + ready())
    assert op.done and op.error is None and op.auth_method == "oauth"


def test_oauth_without_a_token_provider_is_refused_clearly() -> None:
    engine, op = start(AuthPolicy(), password=None)
    engine.receive_data(auth(10, b"OAUTHBEARER\0\0"))
    assert isinstance(op.error, InterfaceError) and "oauth_token" in str(op.error)


def test_oauth_malformed_challenge_is_a_protocol_error() -> None:
    engine, op = start(AuthPolicy(oauth_enabled=True), password=None)
    engine.receive_data(auth(10, b"OAUTHBEARER\0\0"))
    engine.receive_data(auth(11, b"{not json"))
    assert isinstance(op.error, ProtocolError)
    assert engine.state is EngineState.CLOSED


@pytest.mark.parametrize("iterations", ["0", "10000001", "2147483647"])
def test_scram_iteration_count_out_of_bounds_is_refused(iterations: str) -> None:
    """A server (or a proxy) cannot make the client hash for minutes."""
    from pgwire.protocol.auth import ScramSha256

    exchange = ScramSha256("secret", nonce="abc")
    salt = base64.b64encode(b"salt").decode()
    with pytest.raises(ProtocolError, match="iteration"):
        exchange.client_final(f"r=abcdef,s={salt},i={iterations}".encode())


def test_scram_usual_iteration_count_is_computed() -> None:
    from pgwire.protocol.auth import MAX_SCRAM_ITERATIONS, ScramSha256

    exchange = ScramSha256("secret", nonce="abc")
    salt = base64.b64encode(b"salt").decode()
    final = exchange.client_final(f"r=abcdef,s={salt},i=4096".encode())
    assert final.startswith(b"c=biws,r=abcdef,p=")
    assert MAX_SCRAM_ITERATIONS >= 1_000_000
