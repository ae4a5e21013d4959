"""What the smartcard CA says about its certificates: the CRL and OCSP answers (RFC 5280, 6960).

A block puts a card certificate on hold (certificateHold), an unblock takes it off the list, a
deletion revokes it for good (cessationOfOperation) and a card reported lost with keyCompromise.
`crl` signs the list with the issuing CA's key, through the token; `ocsp_answer` answers one
request, signed by the process's delegated responder (smartcards/responder.py, its DER written by
ocspder.py), echoing its nonce, `unknown` for a serial the CA never issued and `unauthorized`
for another CA's certificate.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from zorgsleutel import policies
from zorgsleutel.smartcards import ocspder
from zorgsleutel.smartcards.ca import ISSUING, SmartcardCa

if TYPE_CHECKING:
    from zorgsleutel.smartcards.responder import Responder

GOOD = "good"


@dataclass(frozen=True)
class Revoked:
    """A certificate on the list: on hold (a block) or revoked for good."""

    serial: int
    revoked_at: datetime
    reason: x509.ReasonFlags


def crl(ca: SmartcardCa, revoked: Iterable[Revoked], *, number: int, now: datetime) -> bytes:
    """The CRL (DER) with these entries, numbered `number` (it only grows)."""
    issuer = ca.certificates[ISSUING]
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now)
        .next_update(now + policies.SMARTCARD_CRL_NEXT_UPDATE)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),
            critical=False,
        )
    )
    for entry in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.revoked_at)
            .add_extension(x509.CRLReason(entry.reason), critical=False)
            .build()
        )
    signed = builder.sign(ca.key(ISSUING), hashes.SHA256())
    return signed.public_bytes(serialization.Encoding.DER)


def _unsuccessful(status: ocsp.OCSPResponseStatus) -> bytes:
    return ocsp.OCSPResponseBuilder.build_unsuccessful(status).public_bytes(
        serialization.Encoding.DER
    )


def ours(responder: Responder, request: ocsp.OCSPRequest) -> bool:
    """Whether the request asks about a certificate of the responder's issuing CA (by its
    name and key, in a CertID hash the responder answers)."""
    return responder.answers_for(
        request.hash_algorithm.name, request.issuer_name_hash, request.issuer_key_hash
    )


@functools.lru_cache(maxsize=8)
def issuer_hashes(issuer: x509.Certificate, algorithm: type) -> tuple[bytes, bytes]:
    """The issuer's name and key hashes as a CertID carries them (RFC 6960 4.1.1), made once
    per certificate and hash algorithm: the responder compares them for every request."""
    name = hashes.Hash(algorithm())
    name.update(issuer.subject.public_bytes())
    key = hashes.Hash(algorithm())
    key.update(
        issuer.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
    )
    return name.finalize(), key.finalize()


def ocsp_answer(
    responder: Responder,
    request_der: bytes,
    status_of: Callable[[int], str | Revoked | None],
    *,
    now: datetime,
) -> bytes:
    """The signed answer (DER) to one OCSP request, by `responder` (smartcards/responder.py).
    `status_of(serial)`: GOOD, a Revoked entry, or None for a serial the CA never issued."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        nonce = nonce_of(request)
    except ValueError:
        return _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
    if not ours(responder, request):
        return _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)
    return signed(responder, request, status_of(request.serial_number), nonce=nonce, now=now)


def signed(
    responder: Responder,
    request: ocsp.OCSPRequest,
    found: str | Revoked | None,
    *,
    nonce: bytes | None,
    now: datetime,
) -> bytes:
    """The answer about the request's certificate, whose state is `found` (see ocsp_answer),
    valid from `now` (whole seconds) for policies.SMARTCARD_OCSP_NEXT_UPDATE."""
    if found is None:
        cert_status = ocspder.UNKNOWN
    elif isinstance(found, Revoked):
        cert_status = ocspder.revoked(found.revoked_at, found.reason.name)
    else:
        cert_status = ocspder.GOOD
    cert_id = ocspder.CertId(
        request.hash_algorithm.name,
        request.issuer_name_hash,
        request.issuer_key_hash,
        request.serial_number,
    )
    return ocspder.answer(
        responder.signer,
        cert_id,
        cert_status,
        this_update=now,
        next_update=now + policies.SMARTCARD_OCSP_NEXT_UPDATE,
        nonce=nonce,
    )


def nonce_of(request: ocsp.OCSPRequest) -> bytes | None:
    """The request's nonce, or None; ValueError for a malformed extension."""
    try:
        return request.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce
    except x509.ExtensionNotFound:
        return None
