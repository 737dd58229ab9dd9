"""Password authentication exchanges: MD5 and SCRAM-SHA-256.

Pure computations over bytes, driven by the startup flow in ``protocol``.
SCRAM follows RFC 5802 and RFC 7677 as PostgreSQL applies them
(PostgreSQL docs, "SASL Authentication", section 55.3): the user name in the
client-first message is ignored by the server, so it is sent empty, and the
server's final signature is verified so a server that does not know the
password cannot pretend to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import stringprep
import unicodedata

from ..exceptions import InterfaceError, ProtocolError


def md5_password(user: str, password: str, salt: bytes) -> bytes:
    """The response to AuthenticationMD5Password: 'md5' + md5(md5(pw+user)+salt)."""
    inner = hashlib.md5(password.encode("utf-8") + user.encode("utf-8")).hexdigest()
    outer = hashlib.md5(inner.encode("ascii") + salt).hexdigest()
    return b"md5" + outer.encode("ascii")


def saslprep(password: str) -> str:
    """Normalise a password as SASLprep (RFC 4013) would.

    PostgreSQL uses the raw password when it is not valid SASLprep input
    (for example when it contains prohibited characters), so do the same
    instead of failing.
    """
    mapped = "".join(
        " " if stringprep.in_table_c12(ch) else ch
        for ch in password
        if not stringprep.in_table_b1(ch)
    )
    normalized = unicodedata.normalize("NFKC", mapped)
    if not normalized:
        return password
    prohibited = (
        stringprep.in_table_c12,
        stringprep.in_table_c21_c22,
        stringprep.in_table_c3,
        stringprep.in_table_c4,
        stringprep.in_table_c5,
        stringprep.in_table_c6,
        stringprep.in_table_c7,
        stringprep.in_table_c8,
        stringprep.in_table_c9,
    )
    for ch in normalized:
        if any(check(ch) for check in prohibited):
            return password
    has_randalcat = any(stringprep.in_table_d1(ch) for ch in normalized)
    if has_randalcat:
        if any(stringprep.in_table_d2(ch) for ch in normalized):
            return password
        if not (stringprep.in_table_d1(normalized[0]) and stringprep.in_table_d1(normalized[-1])):
            return password
    return normalized


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


class ScramSha256:
    """Client side of one SCRAM-SHA-256 exchange (without channel binding)."""

    mechanism = "SCRAM-SHA-256"

    def __init__(self, password: str, nonce: str | None = None) -> None:
        self._password = saslprep(password).encode("utf-8")
        self._client_nonce = nonce or base64.b64encode(secrets.token_bytes(18)).decode("ascii")
        self._gs2_header = "n,,"
        self._client_first_bare = f"n=,r={self._client_nonce}"
        self._auth_message = b""
        self._server_signature = b""

    def client_first(self) -> bytes:
        return (self._gs2_header + self._client_first_bare).encode("ascii")

    def client_final(self, server_first: bytes) -> bytes:
        try:
            text = server_first.decode("utf-8")
            attrs = dict(part.split("=", 1) for part in text.split(","))
            nonce = attrs["r"]
            salt = base64.b64decode(attrs["s"], validate=True)
            iterations = int(attrs["i"])
        except (ValueError, KeyError, UnicodeDecodeError) as exc:
            raise ProtocolError(f"malformed SCRAM server-first message: {exc}") from None
        if not nonce.startswith(self._client_nonce) or len(nonce) <= len(self._client_nonce):
            raise ProtocolError("SCRAM server nonce does not extend the client nonce")
        if iterations < 1:
            raise ProtocolError("SCRAM iteration count must be positive")
        channel_binding = base64.b64encode(self._gs2_header.encode("ascii")).decode("ascii")
        final_without_proof = f"c={channel_binding},r={nonce}"
        salted = hashlib.pbkdf2_hmac("sha256", self._password, salt, iterations)
        client_key = _hmac(salted, b"Client Key")
        stored_key = hashlib.sha256(client_key).digest()
        self._auth_message = ",".join(
            (self._client_first_bare, text, final_without_proof)
        ).encode("utf-8")
        client_signature = _hmac(stored_key, self._auth_message)
        proof = bytes(a ^ b for a, b in zip(client_key, client_signature))
        server_key = _hmac(salted, b"Server Key")
        self._server_signature = _hmac(server_key, self._auth_message)
        return f"{final_without_proof},p={base64.b64encode(proof).decode('ascii')}".encode("ascii")

    def verify_server_final(self, server_final: bytes) -> None:
        try:
            attrs = dict(part.split("=", 1) for part in server_final.decode("utf-8").split(","))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ProtocolError(f"malformed SCRAM server-final message: {exc}") from None
        if "e" in attrs:
            raise InterfaceError(f"SCRAM authentication failed: {attrs['e']}")
        try:
            signature = base64.b64decode(attrs["v"], validate=True)
        except (KeyError, ValueError):
            raise ProtocolError("SCRAM server-final message has no valid signature") from None
        if not self._server_signature or not hmac.compare_digest(
            signature, self._server_signature
        ):
            raise InterfaceError(
                "SCRAM server signature does not match: the server did not prove it knows the password"
            )
