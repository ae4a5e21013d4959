"""Checking a card's signature with the public key of its certificate (docs/card-protocol.md)."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

# The card protocol's algorithms (cardprotocol.SIGNATURE_ALGORITHMS), by key type.
RSA_PKCS1_SHA256 = "rsa-pkcs1-sha256"
ECDSA_SHA256 = "ecdsa-sha256"
ALGORITHMS = (RSA_PKCS1_SHA256, ECDSA_SHA256)


def algorithm_for(certificate: x509.Certificate) -> str | None:
    """The protocol algorithm that matches the certificate's key, or None for other keys."""
    key = certificate.public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return RSA_PKCS1_SHA256
    if isinstance(key, ec.EllipticCurvePublicKey):
        return ECDSA_SHA256
    return None


def verify_signature(
    certificate: x509.Certificate, message: bytes, signature: bytes, algorithm: str
) -> bool:
    """True when `signature` over `message` verifies with the certificate's key.

    False for a wrong signature, an unknown algorithm, or an algorithm that does not fit the key
    (an RSA certificate never verifies an "ecdsa-sha256" answer); it never raises for those.
    """
    key = certificate.public_key()
    try:
        if algorithm == RSA_PKCS1_SHA256 and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
            return True
        if algorithm == ECDSA_SHA256 and isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, message, ec.ECDSA(hashes.SHA256()))
            return True
    except (InvalidSignature, UnsupportedAlgorithm, ValueError):
        return False
    return False
