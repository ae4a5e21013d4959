"""What a test CA publishes about revocation: CRLs and OCSP answers (tests of revocation.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from zorgsleutel.uzi.testca import CertificateAuthority


def issue_crl(
    ca: CertificateAuthority,
    revoked: dict[int, datetime] | None = None,
    *,
    at: datetime | None = None,
    next_update: timedelta = timedelta(days=1),
) -> x509.CertificateRevocationList:
    """A CRL of `ca` listing `revoked` {serial number: revocation time}."""
    at = at or datetime.now(UTC) - timedelta(minutes=1)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.certificate.subject)
        .last_update(at)
        .next_update(at + next_update)
    )
    for serial, when in (revoked or {}).items():
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    return builder.sign(ca.key, hashes.SHA256())


def ocsp_response(
    request_der: bytes,
    *,
    ca: CertificateAuthority,
    certificates: dict[int, x509.Certificate],
    revoked: dict[int, datetime] | None = None,
) -> bytes:
    """An OCSP answer signed by `ca` for a request about one of `certificates` (by serial)."""
    request = ocsp.load_der_ocsp_request(request_der)
    certificate = certificates.get(request.serial_number)
    if certificate is None:
        return ocsp.OCSPResponseBuilder.build_unsuccessful(
            ocsp.OCSPResponseStatus.UNAUTHORIZED
        ).public_bytes(serialization.Encoding.DER)
    now = datetime.now(UTC) - timedelta(minutes=1)
    when = (revoked or {}).get(request.serial_number)
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=certificate,
            issuer=ca.certificate,
            algorithm=hashes.SHA1(),  # noqa: S303 (CertID per RFC 6960)
            cert_status=ocsp.OCSPCertStatus.REVOKED if when else ocsp.OCSPCertStatus.GOOD,
            this_update=now,
            next_update=now + timedelta(hours=1),
            revocation_time=when,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, ca.certificate)
        .sign(ca.key, hashes.SHA256())
    )
    return response.public_bytes(serialization.Encoding.DER)
