"""The DER of one signed OCSP answer, written from its parts (RFC 6960 4.2.1).

cryptography's `OCSPResponseBuilder` makes the same bytes (tests/smartcards/test_ocspder.py
compares them byte for byte) but costs about 190 µs an answer beyond the signature: more than
half of what an answer with a nonce may cost to reach the responder's goal (docs/benchmarks.md,
OCSP). An answer here is one response about one certificate, by a responder named by its key
hash, with at most the nonce as an extension, signed with ECDSA P-256 and SHA-256, carrying the
responder's certificate: the only answers smartcards/status.py gives.

    der = ocspder.answer(responder, cert_id, status, this_update=…, next_update=…, nonce=…)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

# Object identifiers, DER-encoded with their tag and length.
_SHA1 = bytes.fromhex("06052b0e03021a")  # 1.3.14.3.2.26
_SHA256 = bytes.fromhex("0609608648016503040201")  # 2.16.840.1.101.3.4.2.1
_SHA384 = bytes.fromhex("0609608648016503040202")  # 2.16.840.1.101.3.4.2.2
_SHA512 = bytes.fromhex("0609608648016503040203")  # 2.16.840.1.101.3.4.2.3
_NULL = b"\x05\x00"
_ECDSA_SHA256 = bytes.fromhex("300a06082a8648ce3d040302")  # AlgorithmIdentifier, no parameters
_BASIC = bytes.fromhex("06092b0601050507300101")  # id-pkix-ocsp-basic
_NONCE = bytes.fromhex("06092b0601050507300102")  # id-pkix-ocsp-nonce
_SUCCESSFUL = b"\x0a\x01\x00"  # OCSPResponseStatus successful
# The CertID hashes answered, by cryptography's names; responder.py knows the issuer's hashes.
CERT_ID_HASHES = {
    "sha1": hashes.SHA1,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
_CERT_ID_OIDS = {"sha1": _SHA1, "sha256": _SHA256, "sha384": _SHA384, "sha512": _SHA512}
_SIGNATURE = ec.ECDSA(hashes.SHA256())


def _tlv(tag: int, content: bytes) -> bytes:
    """Tag, DER length, content; an answer's parts are under 64 KiB."""
    n = len(content)
    if n < 0x80:
        return bytes((tag, n)) + content
    if n < 0x100:
        return bytes((tag, 0x81, n)) + content
    if n < 0x10000:
        return bytes((tag, 0x82, n >> 8, n & 0xFF)) + content
    raise ValueError("an OCSP answer's part is larger than 64 KiB")


def _integer(value: int) -> bytes:
    """A non-negative INTEGER, with the leading zero octet its top bit asks for."""
    return _tlv(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


@functools.lru_cache(maxsize=16)
def _time(moment: datetime) -> bytes:
    """GeneralizedTime in UTC, whole seconds (RFC 5280 4.1.2.5.2); an answer's times change
    once a second, so the last few are kept."""
    return _tlv(0x18, moment.strftime("%Y%m%d%H%M%SZ").encode())


@dataclass(frozen=True)
class CertId:
    """The certificate asked about, as the request named it."""

    algorithm: str  # a CERT_ID_HASHES name
    issuer_name_hash: bytes
    issuer_key_hash: bytes
    serial: int

    def der(self) -> bytes:
        return _tlv(
            0x30,
            _tlv(0x30, _CERT_ID_OIDS[self.algorithm] + _NULL)
            + _tlv(0x04, self.issuer_name_hash)
            + _tlv(0x04, self.issuer_key_hash)
            + _integer(self.serial),
        )


@dataclass(frozen=True)
class Signer:
    """The responder: its key, the SHA-1 hash of its public key (ResponderID byKey) and the DER
    of its certificate, which the answer carries. What is the same in each of its answers is
    encoded once."""

    key: ec.EllipticCurvePrivateKey
    key_hash: bytes
    certificate_der: bytes
    responder_id: bytes = field(init=False, repr=False)
    after_signature: bytes = field(init=False, repr=False)

    def __post_init__(self):
        object.__setattr__(self, "responder_id", _tlv(0xA2, _tlv(0x04, self.key_hash)))
        certs = _tlv(0xA0, _tlv(0x30, self.certificate_der))
        object.__setattr__(self, "after_signature", certs)


GOOD, UNKNOWN = b"\x80\x00", b"\x82\x00"  # certStatus [0] / [2] IMPLICIT NULL

# CRLReason's ENUMERATED values (RFC 5280 5.3.1), by cryptography's ReasonFlags names.
REASON_CODES = {
    "unspecified": 0,
    "key_compromise": 1,
    "ca_compromise": 2,
    "affiliation_changed": 3,
    "superseded": 4,
    "cessation_of_operation": 5,
    "certificate_hold": 6,
    "remove_from_crl": 8,
    "privilege_withdrawn": 9,
    "aa_compromise": 10,
}


def revoked(at: datetime, reason: str) -> bytes:
    """certStatus revoked [1]: the time and the reason (a REASON_CODES name)."""
    return _tlv(0xA1, _time(at) + _tlv(0xA0, _tlv(0x0A, bytes((REASON_CODES[reason],)))))


def answer(
    signer: Signer,
    cert_id: CertId,
    cert_status: bytes,
    *,
    this_update: datetime,
    next_update: datetime,
    nonce: bytes | None = None,
) -> bytes:
    """The OCSPResponse (successful, a BasicOCSPResponse) about one certificate, signed now.
    `cert_status`: GOOD, UNKNOWN or `revoked(...)`; producedAt is `this_update`."""
    single = _tlv(
        0x30,
        cert_id.der() + cert_status + _time(this_update) + _tlv(0xA0, _time(next_update)),
    )
    extensions = b""
    if nonce is not None:
        extension = _tlv(0x30, _NONCE + _tlv(0x04, _tlv(0x04, nonce)))
        extensions = _tlv(0xA1, _tlv(0x30, extension))
    data = _tlv(0x30, signer.responder_id + _time(this_update) + _tlv(0x30, single) + extensions)
    signature = signer.key.sign(data, _SIGNATURE)
    basic = _tlv(
        0x30,
        data + _ECDSA_SHA256 + _tlv(0x03, b"\x00" + signature) + signer.after_signature,
    )
    return _tlv(0x30, _SUCCESSFUL + _tlv(0xA0, _tlv(0x30, _BASIC + _tlv(0x04, basic))))
