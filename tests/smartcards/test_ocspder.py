"""ocspder writes the same bytes as cryptography's OCSPResponseBuilder, for every shape of answer
the responder gives: both CertID hashes, serials at every DER length boundary, good, unknown and
revoked with each reason, with and without a nonce. The builder's own signature is put into
ours (ECDSA signatures are random), so the whole DER must be equal, byte for byte."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from zorgsleutel.smartcards import ocspder

NOW = datetime(2026, 12, 7, 16, 45, 3, tzinfo=UTC)
KEY = ec.generate_private_key(ec.SECP256R1())
NAME = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Responder")])
RESPONDER = (
    x509.CertificateBuilder()
    .subject_name(NAME)
    .issuer_name(NAME)
    .public_key(KEY.public_key())
    .serial_number(7)
    .not_valid_before(NOW)
    .not_valid_after(NOW + timedelta(days=2))
    .sign(KEY, hashes.SHA256())
)


class _Replayed:
    """A key that 'signs' with a signature made before: the builder's."""

    def __init__(self, signature: bytes):
        self.signature = signature

    def sign(self, data: bytes, algorithm) -> bytes:
        return self.signature


def _built(algorithm, serial, state, reason, nonce) -> tuple[ocsp.OCSPResponse, datetime]:
    """The builder's answer and its thisUpdate. The builder writes the time of signing as
    producedAt, ours thisUpdate: the answer is made again when a second turned in between."""
    while True:
        now = datetime.now(UTC).replace(microsecond=0)
        built = _builder(algorithm, serial, state, reason, nonce, now)
        if built.produced_at_utc == now:
            return built, now


def _builder(algorithm, serial, state, reason, nonce, now):
    size = algorithm.digest_size
    builder = (
        ocsp.OCSPResponseBuilder()
        .add_response_by_hash(
            issuer_name_hash=b"n" * size,
            issuer_key_hash=b"k" * size,
            serial_number=serial,
            algorithm=algorithm,
            cert_status=state,
            this_update=now,
            next_update=now + timedelta(hours=1),
            revocation_time=NOW - timedelta(days=3) if reason else None,
            revocation_reason=reason,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, RESPONDER)
        .certificates([RESPONDER])
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.sign(KEY, hashes.SHA256())


STATES = [
    (ocsp.OCSPCertStatus.GOOD, None, ocspder.GOOD),
    (ocsp.OCSPCertStatus.UNKNOWN, None, ocspder.UNKNOWN),
    *[
        (
            ocsp.OCSPCertStatus.REVOKED,
            reason,
            ocspder.revoked(NOW - timedelta(days=3), reason.name),
        )
        for reason in x509.ReasonFlags
    ],
]


@pytest.mark.parametrize(
    "algorithm",
    [hashes.SHA1(), hashes.SHA256(), hashes.SHA384(), hashes.SHA512()],  # noqa: S303 (RFC 5019)
    ids=["sha1", "sha256", "sha384", "sha512"],
)
@pytest.mark.parametrize("serial", [1, 127, 128, 255, 256, 2**63, 2**159 - 1])
@pytest.mark.parametrize("nonce", [None, b"0123456789abcdef", bytes(range(32)), b"x" * 200])
def test_the_same_bytes_as_cryptography_builds(algorithm, serial, nonce):
    for state, reason, cert_status in STATES:
        expected, now = _built(algorithm, serial, state, reason, nonce)
        signer = ocspder.Signer(
            _Replayed(expected.signature),
            expected.responder_key_hash,
            RESPONDER.public_bytes(serialization.Encoding.DER),
        )
        cert_id = ocspder.CertId(
            algorithm.name, b"n" * algorithm.digest_size, b"k" * algorithm.digest_size, serial
        )
        ours = ocspder.answer(
            signer,
            cert_id,
            cert_status,
            this_update=now,
            next_update=now + timedelta(hours=1),
            nonce=nonce,
        )
        assert ours == expected.public_bytes(serialization.Encoding.DER), (state, reason)


def test_a_signed_answer_verifies_with_the_responders_key():
    signer = ocspder.Signer(
        KEY,
        b"h" * 20,
        RESPONDER.public_bytes(serialization.Encoding.DER),
    )
    der = ocspder.answer(
        signer,
        ocspder.CertId("sha1", b"n" * 20, b"k" * 20, 42),
        ocspder.revoked(NOW, "key_compromise"),
        this_update=NOW,
        next_update=NOW + timedelta(hours=1),
        nonce=b"nonce",
    )
    read = ocsp.load_der_ocsp_response(der)
    KEY.public_key().verify(read.signature, read.tbs_response_bytes, ec.ECDSA(hashes.SHA256()))
    assert (
        read.serial_number,
        read.certificate_status,
        read.revocation_reason,
        read.revocation_time_utc,
        read.produced_at_utc,
        read.next_update_utc,
        read.responder_key_hash,
        read.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce,
        read.certificates,
    ) == (
        42,
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.key_compromise,
        datetime(2026, 12, 7, 16, 45, 3, tzinfo=UTC),
        datetime(2026, 12, 7, 16, 45, 3, tzinfo=UTC),
        datetime(2026, 12, 7, 17, 45, 3, tzinfo=UTC),
        b"h" * 20,
        b"nonce",
        [RESPONDER],
    )
