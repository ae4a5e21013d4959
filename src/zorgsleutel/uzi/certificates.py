"""Reading certificates as they arrive: PEM (one or a bundle) or DER, as bytes or text; and the
key usage that the certificate builders (the UZI test CA, the smartcard CA) write."""

from __future__ import annotations

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from zorgsleutel.uzi.errors import MALFORMED, UziError

PEM_MARKER = b"-----BEGIN CERTIFICATE-----"


def load_certificates(data: bytes | str) -> list[x509.Certificate]:
    """Every certificate in `data`: a PEM bundle, or one DER certificate. UziError `malformed`."""
    raw = data.encode("ascii", "replace") if isinstance(data, str) else bytes(data)
    if not raw.strip():
        raise UziError(MALFORMED, detail="empty input")
    try:
        if PEM_MARKER in raw:
            certificates = x509.load_pem_x509_certificates(raw)
        else:
            certificates = [x509.load_der_x509_certificate(raw)]
    except ValueError as exc:
        raise UziError(MALFORMED, detail=f"cannot decode the certificate: {exc}") from None
    if not certificates:
        raise UziError(MALFORMED, detail="no certificate found")
    return certificates


def load_certificate(data: bytes | str | x509.Certificate) -> x509.Certificate:
    """One certificate (the first of a bundle)."""
    if isinstance(data, x509.Certificate):
        return data
    return load_certificates(data)[0]


def load_chain(items: list[bytes | str | x509.Certificate]) -> list[x509.Certificate]:
    """A presented chain, leaf first: each item one certificate (PEM or DER) or a PEM bundle."""
    chain: list[x509.Certificate] = []
    for item in items:
        if isinstance(item, x509.Certificate):
            chain.append(item)
        else:
            chain.extend(load_certificates(item))
    if not chain:
        raise UziError(MALFORMED, detail="no certificate presented")
    return chain


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 of the DER encoding, lowercase hex."""
    return hashlib.sha256(der(certificate)).hexdigest()


KEY_USAGES = (
    "digital_signature",
    "content_commitment",
    "key_encipherment",
    "data_encipherment",
    "key_agreement",
    "key_cert_sign",
    "crl_sign",
    "encipher_only",
    "decipher_only",
)


def key_usage(*chosen: str) -> x509.KeyUsage:
    """A keyUsage with exactly the `chosen` bits (cryptography's names) set."""
    unknown = set(chosen) - set(KEY_USAGES)
    if unknown:
        raise ValueError(f"no key usage {', '.join(sorted(unknown))}")
    return x509.KeyUsage(**{name: name in chosen for name in KEY_USAGES})
