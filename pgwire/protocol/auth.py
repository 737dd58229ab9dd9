"""Password authentication exchanges: MD5, SCRAM-SHA-256 and SCRAM-SHA-256-PLUS.

Pure computations over bytes, driven by the startup flow in ``protocol``.
SCRAM follows RFC 5802 and RFC 7677 as PostgreSQL applies them
(PostgreSQL docs, "SASL Authentication", section 55.3): the user name in the
client-first message is ignored by the server, so it is sent empty, and the
server's final signature is verified so a server that does not know the
password cannot pretend to.

The exchange keeps the password only as it was given (the connect flow
gives a ``str`` whose ``repr()`` is masked) and only until the client's
proof is computed; the password's bytes live in a function of their own.
A traceback through the exchange (a forged signature) thus shows no
password in its frames' locals.
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


def _salted_password(password: str, salt: bytes, iterations: int) -> bytes:
    """SaltedPassword := Hi(Normalize(password), salt, i) (RFC 5802, section 3)."""
    return hashlib.pbkdf2_hmac("sha256", saslprep(password).encode("utf-8"), salt, iterations)


# The server chooses the iteration count (RFC 5802, section 5.1; PostgreSQL's
# scram_iterations, 4096 by default, allows up to 2^31 - 1).  The client must
# compute them before it can answer, in the caller's thread or event loop
# and outside any timeout: 2^31 - 1 take about 17 minutes.  Ten million take
# about five seconds, far above what servers are configured with.
MAX_SCRAM_ITERATIONS = 10_000_000


class ScramSha256:
    """Client side of one SCRAM-SHA-256 exchange, with or without channel binding.

    ``channel_binding`` is the ``tls-server-end-point`` data (RFC 5929: the
    hash of the server's certificate) for SCRAM-SHA-256-PLUS, or None.
    ``client_supports_binding`` sends the GS2 flag ``y`` (RFC 5802, section
    6: the client could bind but the server did not offer it), which lets a
    server that does offer PLUS detect a downgrade.
    """

    mechanism = "SCRAM-SHA-256"
    plus_mechanism = "SCRAM-SHA-256-PLUS"

    def __init__(
        self,
        password: str,
        nonce: str | None = None,
        *,
        channel_binding: bytes | None = None,
        client_supports_binding: bool = False,
    ) -> None:
        # Kept as given until client_final(); forgotten then.
        self._password: str | None = password
        self._client_nonce = nonce or base64.b64encode(secrets.token_bytes(18)).decode("ascii")
        self._binding = channel_binding
        if channel_binding is not None:
            self._gs2_header = "p=tls-server-end-point,,"
        elif client_supports_binding:
            self._gs2_header = "y,,"
        else:
            self._gs2_header = "n,,"
        self._client_first_bare = f"n=,r={self._client_nonce}"
        self._auth_message = b""
        self._server_signature = b""

    @property
    def selected_mechanism(self) -> str:
        return self.plus_mechanism if self._binding is not None else self.mechanism

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
        if iterations > MAX_SCRAM_ITERATIONS:
            raise ProtocolError(
                f"the server asks for {iterations} SCRAM iterations, more than pgwire computes "
                f"({MAX_SCRAM_ITERATIONS}): hashing them would stall the client for minutes "
                "(PostgreSQL's default is 4096)"
            )
        if self._password is None:
            raise InterfaceError("this SCRAM exchange has already sent its proof")
        binding_input = self._gs2_header.encode("ascii") + (self._binding or b"")
        channel_binding = base64.b64encode(binding_input).decode("ascii")
        final_without_proof = f"c={channel_binding},r={nonce}"
        salted = _salted_password(self._password, salt, iterations)
        self._password = None  # only the signatures are needed from here on
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


# Signature algorithms of X.509 certificates (OID, DER-encoded) and the hash
# RFC 5929 section 4.1 says tls-server-end-point uses: the signature's own
# hash, except that MD5 and SHA-1 are replaced by SHA-256.
_SIGNATURE_HASHES = {
    "1.2.840.113549.1.1.4": "sha256",   # md5WithRSAEncryption
    "1.2.840.113549.1.1.5": "sha256",   # sha1WithRSAEncryption
    "1.2.840.113549.1.1.14": "sha224",  # sha224WithRSAEncryption
    "1.2.840.113549.1.1.11": "sha256",  # sha256WithRSAEncryption
    "1.2.840.113549.1.1.12": "sha384",  # sha384WithRSAEncryption
    "1.2.840.113549.1.1.13": "sha512",  # sha512WithRSAEncryption
    "1.2.840.10045.4.1": "sha256",      # ecdsa-with-SHA1
    "1.2.840.10045.4.3.1": "sha224",    # ecdsa-with-SHA224
    "1.2.840.10045.4.3.2": "sha256",    # ecdsa-with-SHA256
    "1.2.840.10045.4.3.3": "sha384",    # ecdsa-with-SHA384
    "1.2.840.10045.4.3.4": "sha512",    # ecdsa-with-SHA512
    "1.2.840.10040.4.3": "sha256",      # dsa-with-sha1
    "2.16.840.1.101.3.4.3.2": "sha256", # dsa-with-sha256
}


def _der_element(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of contents, end of contents) of the DER element at ``pos``."""
    if pos + 2 > len(data):
        raise ValueError("truncated DER")
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + length > len(data):
        raise ValueError("truncated DER")
    return tag, pos, pos + length


def _oid_text(body: bytes) -> str:
    parts = [body[0] // 40, body[0] % 40] if body[0] < 80 else [2, body[0] - 80]
    value = 0
    for byte in body[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(value)
            value = 0
    return ".".join(str(part) for part in parts)


def certificate_signature_hash(der: bytes) -> str:
    """The hash name tls-server-end-point uses for this certificate.

    Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm
    AlgorithmIdentifier, signature } (RFC 5280, section 4.1).
    """
    try:
        tag, start, end = _der_element(der, 0)
        if tag != 0x30:
            raise ValueError("not a SEQUENCE")
        _, _, tbs_end = _der_element(der, start)
        tag, alg_start, _ = _der_element(der, tbs_end)
        if tag != 0x30:
            raise ValueError("no AlgorithmIdentifier")
        tag, oid_start, oid_end = _der_element(der, alg_start)
        if tag != 0x06:
            raise ValueError("no algorithm OID")
        oid = _oid_text(der[oid_start:oid_end])
    except (ValueError, IndexError) as exc:
        raise InterfaceError(f"could not parse the server's certificate: {exc}") from None
    try:
        return _SIGNATURE_HASHES[oid]
    except KeyError:
        raise InterfaceError(
            f"channel binding: the server certificate's signature algorithm ({oid}) "
            "has no tls-server-end-point hash"
        ) from None


def tls_server_end_point(der: bytes) -> bytes:
    """RFC 5929 channel-binding data: the certificate hashed with its signature's hash."""
    return hashlib.new(certificate_signature_hash(der), der).digest()


class OAuthChallenge:
    """What a server asking for OAuth said it wants (PostgreSQL 18,
    "OAuth Authorization/Authentication"): the issuer whose tokens it
    accepts and the scope to ask for.  It is handed to the user's token
    provider."""

    __slots__ = ("issuer", "scope", "discovery_uri")

    def __init__(self, issuer: str, scope: str | None, discovery_uri: str) -> None:
        self.issuer = issuer
        self.scope = scope
        self.discovery_uri = discovery_uri

    def __repr__(self) -> str:
        return f"OAuthChallenge(issuer={self.issuer!r}, scope={self.scope!r})"


OAUTH_MECHANISM = "OAUTHBEARER"
_WELL_KNOWN = "/.well-known/"


def oauth_initial_response(token: str | None) -> bytes:
    """The OAUTHBEARER client response (RFC 7628, section 3.1): a GS2 header
    without channel binding, then ``auth=Bearer <token>`` between 0x01
    separators; an empty ``auth=`` asks the server what it wants."""
    auth = f"Bearer {token}" if token else ""
    if "\x01" in auth:
        raise InterfaceError("an OAuth token may not contain the byte 0x01")
    return b"n,,\x01auth=" + auth.encode("utf-8") + b"\x01\x01"


def parse_oauth_challenge(data: bytes) -> OAuthChallenge:
    """The server's error document (RFC 7628, section 3.2.2)."""
    import json

    try:
        document = json.loads(data.decode("utf-8"))
        discovery = document["openid-configuration"]
        scope = document.get("scope")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"malformed OAUTHBEARER challenge from the server: {exc!r}") from None
    if not isinstance(discovery, str) or (scope is not None and not isinstance(scope, str)):
        raise ProtocolError("malformed OAUTHBEARER challenge from the server")
    issuer = discovery.split(_WELL_KNOWN, 1)[0] if _WELL_KNOWN in discovery else discovery
    return OAuthChallenge(issuer, scope, discovery)
