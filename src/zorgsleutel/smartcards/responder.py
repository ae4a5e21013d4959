"""The OCSP responder's signing key: made in this process's memory, never written anywhere, and
certified by the issuing CA through the token for a short time (docs/smartcards.md, "Status").

    signer = responder.current()          # certified at first use, and again before it expires
    der = ocspder.answer(signer.signer, …)

Signing every answer with a nonce through the token cost 100–250 µs in SoftHSM2 alone (and an
HSM's round trip in production), more than the whole answer may cost (docs/benchmarks.md, OCSP).
RFC 6960 4.2.2.2 lets the CA delegate its answers to a responder it certifies for
OCSPSigning; with id-pkix-ocsp-nocheck such a certificate cannot be revoked, so it lives briefly
(4.2.2.2.1): policies.SMARTCARD_RESPONDER_VALIDITY, certified anew after
SMARTCARD_RESPONDER_RENEWAL. Someone who reads this process's memory can sign answers until then;
that same someone could sign through the token's open session while the process runs. Every
certification is an audit event (`smartcard.responder_certified`, the platform's log).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import transaction

from zorgsleutel import policies
from zorgsleutel.core import audit, clock
from zorgsleutel.smartcards import ocspder, runtime, status
from zorgsleutel.smartcards.ca import ISSUING, SmartcardCa, responder_certificate


@dataclass(frozen=True)
class Responder:
    signer: ocspder.Signer
    certificate: x509.Certificate
    issuer: x509.Certificate  # the issuing CA's certificate, which certified it
    renew_after: datetime
    # The issuer's name and key hashes a CertID carries (RFC 6960 4.1.1), by hash algorithm:
    # a request is about one of our cards only when it names our issuer by them.
    issuer_hashes: dict[str, tuple[bytes, bytes]]

    def answers_for(self, algorithm: str, name_hash: bytes, key_hash: bytes) -> bool:
        return self.issuer_hashes.get(algorithm) == (name_hash, key_hash)


def _issuer_hashes(issuer: x509.Certificate) -> dict[str, tuple[bytes, bytes]]:
    return {
        name: status.issuer_hashes(issuer, algorithm)
        for name, algorithm in ocspder.CERT_ID_HASHES.items()
    }


def certify(ca: SmartcardCa, now: datetime) -> Responder:
    """A new responder: a P-256 key in memory, its certificate signed by `ca`'s issuing key."""
    key = ec.generate_private_key(ec.SECP256R1())
    start = now.replace(microsecond=0) - timedelta(minutes=5)  # the relying parties' clocks
    certificate = responder_certificate(
        key.public_key(),
        issuer=ca.certificates[ISSUING],
        signer=ca.key(ISSUING),
        now=start,
        validity=policies.SMARTCARD_RESPONDER_VALIDITY,
    )
    # ResponderID byKey (RFC 6960 4.2.1) is the SHA-1 of the public key: the certificate's SKI.
    key_hash = certificate.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    return Responder(
        ocspder.Signer(
            key, key_hash.value.digest, certificate.public_bytes(serialization.Encoding.DER)
        ),
        certificate,
        ca.certificates[ISSUING],
        renew_after=start + policies.SMARTCARD_RESPONDER_RENEWAL,
        issuer_hashes=_issuer_hashes(ca.certificates[ISSUING]),
    )


def _of(ca: SmartcardCa) -> Responder:
    held = ca.responder
    if isinstance(held, Responder) and clock.now() < held.renew_after:
        return held
    made = certify(ca, clock.now())
    certificate = made.certificate
    with transaction.atomic():
        audit.record(
            "smartcard.responder_certified",
            details={
                "serial": format(certificate.serial_number, "x"),
                "fingerprint": certificate.fingerprint(hashes.SHA256()).hex(),
                "not_after": certificate.not_valid_after_utc.isoformat(),
            },
        )
    ca.responder = made  # used only once its event is written
    return made


def current() -> Responder:
    """This process's responder, certified at first use and again after its renewal time.
    ServiceUnavailable while the CA cannot be opened (it certifies through the token). Call it
    outside a transaction that may roll back: the certification's event would go with it."""
    return runtime.with_ca(_of)
