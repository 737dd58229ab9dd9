"""Self-signed TLS certificates for the throwaway test servers.

The certificate names ``localhost`` and ``127.0.0.1`` (subjectAltName) and is
its own issuer, so clients can verify it (``sslmode=verify-full``) by using
the certificate file itself as the root certificate. Made with the
``openssl`` command when present, else with the ``cryptography`` package.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import shutil
import subprocess
from pathlib import Path
from typing import Literal

__all__ = ["CertBackend", "generate_self_signed_cert"]

CertBackend = Literal["auto", "openssl", "cryptography"]


def _with_openssl(openssl: str, cert: Path, key: Path) -> bool:
    result = subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-sha256",
            "-nodes",
            "-days",
            "3650",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            os.fspath(key),
            "-out",
            os.fspath(cert),
        ],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    return result.returncode == 0 and cert.exists() and key.exists()


def _with_cryptography(cert: Path, key: Path) -> bool:
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        return False
    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private_key, hashes.SHA256())
    )
    key_pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key_pem)
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    return True


def generate_self_signed_cert(
    cert: Path, key: Path, backend: CertBackend = "auto"
) -> Literal["openssl", "cryptography"] | None:
    """Write a self-signed certificate and its unencrypted private key (mode 0600).

    Returns the backend that made them, or None when neither the ``openssl``
    command nor the ``cryptography`` package is available.
    """
    if backend in ("auto", "openssl"):
        openssl = shutil.which("openssl")
        if openssl and _with_openssl(openssl, cert, key):
            os.chmod(key, 0o600)
            return "openssl"
        if backend == "openssl":
            return None
    if _with_cryptography(cert, key):
        os.chmod(key, 0o600)
        return "cryptography"
    return None
