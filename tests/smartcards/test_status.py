"""The CRL and OCSP answers of the smartcard CA, read back by openssl as a relying party would."""

from __future__ import annotations

import os
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from support import require_binary
from zorgsleutel.smartcards import profile, responder, status

# The CA's certificates start 5 minutes before the test made them: answers are made now.
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _now():
    """NOW is each test's own moment: the CA the `ca` fixture makes is valid from 5 minutes
    before the test, and a suite that reaches this file later than that after collecting it
    would otherwise ask openssl about answers made before the CA existed."""
    global NOW
    NOW = datetime.now(UTC).replace(microsecond=0)


HOLDER = profile.Holder(name="Mila Medewerker", public_id="p-1", organisation="Demozorg", ura="1")


def _card(ca) -> x509.Certificate:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "card")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    return profile.issue(ca, csr, HOLDER, now=NOW)


def _openssl_hex(serial: int) -> str:
    """A serial as `openssl crl -text` prints it: upper-case hex in whole bytes."""
    digits = f"{serial:X}"
    return digits.rjust(len(digits) + len(digits) % 2, "0")


def _write(path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def _pem(*certificates) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)


def _request(card, issuer, *, nonce: bytes | None = b"0123456789abcdef") -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(card, issuer, hashes.SHA1())  # noqa: S303 (RFC 5019's CertID)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _openssl_reads(ca, card, answer: bytes, tmp_path) -> str:
    """`openssl ocsp` as the client: verifies the answer against the chain, prints the status."""
    openssl = require_binary("openssl")
    chain = _write(
        tmp_path / "chain.pem", _pem(ca.certificates["root"], ca.certificates["issuing"])
    )
    result = subprocess.run(
        [
            *(openssl, "ocsp", "-respin", _write(tmp_path / "answer.der", answer)),
            *(
                "-CAfile",
                chain,
                "-issuer",
                _write(tmp_path / "issuing.pem", _pem(ca.certificates["issuing"])),
            ),
            *("-cert", _write(tmp_path / "card.pem", _pem(card)), "-no_nonce"),
            "-attime",
            str(int((NOW + timedelta(minutes=1)).timestamp())),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    return (result.stdout + result.stderr).replace(str(tmp_path) + "/", "")


def test_a_good_card_with_a_nonce(ca, tmp_path):
    card = _card(ca)
    signer = responder.certify(ca, NOW)
    answer = status.ocsp_answer(
        signer, _request(card, ca.certificates["issuing"]), lambda serial: status.GOOD, now=NOW
    )
    read = ocsp.load_der_ocsp_response(answer)
    assert (read.response_status, read.certificate_status) == (
        ocsp.OCSPResponseStatus.SUCCESSFUL,
        ocsp.OCSPCertStatus.GOOD,
    )
    assert read.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce == (
        b"0123456789abcdef"
    )
    assert read.next_update_utc - read.this_update_utc == timedelta(hours=1)
    assert read.certificates == [signer.certificate]
    printed = _openssl_reads(ca, card, answer, tmp_path)
    assert "Response verify OK" in printed and "card.pem: good" in printed


def test_a_blocked_card_is_on_hold_and_a_lost_one_revoked(ca, tmp_path):
    card = _card(ca)
    held = status.Revoked(card.serial_number, NOW, x509.ReasonFlags.certificate_hold)
    answer = status.ocsp_answer(
        responder.certify(ca, NOW),
        _request(card, ca.certificates["issuing"], nonce=None),
        lambda s: held,
        now=NOW,
    )
    read = ocsp.load_der_ocsp_response(answer)
    assert (read.certificate_status, read.revocation_reason) == (
        ocsp.OCSPCertStatus.REVOKED,
        x509.ReasonFlags.certificate_hold,
    )
    with pytest.raises(x509.ExtensionNotFound):
        read.extensions.get_extension_for_class(x509.OCSPNonce)
    printed = _openssl_reads(ca, card, answer, tmp_path)
    assert "card.pem: revoked" in printed and "Reason: certificateHold" in printed


def test_a_serial_we_never_issued_is_unknown_and_another_ca_unauthorized(ca, tmp_path):
    card = _card(ca)
    answer = status.ocsp_answer(
        responder.certify(ca, NOW),
        _request(card, ca.certificates["issuing"]),
        lambda serial: None,
        now=NOW,
    )
    assert ocsp.load_der_ocsp_response(answer).certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    elsewhere = status.ocsp_answer(
        responder.certify(ca, NOW),
        _request(card, ca.certificates["root"]),
        lambda serial: status.GOOD,
        now=NOW,
    )
    assert ocsp.load_der_ocsp_response(elsewhere).response_status == (
        ocsp.OCSPResponseStatus.UNAUTHORIZED
    )
    garbage = status.ocsp_answer(
        responder.certify(ca, NOW), b"no request", lambda serial: status.GOOD, now=NOW
    )
    assert ocsp.load_der_ocsp_response(garbage).response_status == (
        ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    )


def test_the_crl_lists_held_and_revoked_cards_and_verifies(ca, tmp_path):
    openssl = require_binary("openssl")
    held, lost = _card(ca), _card(ca)
    der = status.crl(
        ca,
        [
            status.Revoked(held.serial_number, NOW, x509.ReasonFlags.certificate_hold),
            status.Revoked(lost.serial_number, NOW, x509.ReasonFlags.key_compromise),
        ],
        number=7,
        now=NOW,
    )
    listed = x509.load_der_x509_crl(der)
    assert listed.next_update_utc - listed.last_update_utc == timedelta(hours=24)
    assert listed.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7
    assert listed.is_signature_valid(ca.certificates["issuing"].public_key())
    chain = _write(
        tmp_path / "chain.pem", _pem(ca.certificates["root"], ca.certificates["issuing"])
    )
    read = subprocess.run(
        [
            *(openssl, "crl", "-inform", "DER", "-in", _write(tmp_path / "ca.crl", der)),
            *("-CAfile", chain, "-text", "-noout"),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert "verify OK" in read.stderr + read.stdout
    text = read.stdout
    assert f"Serial Number: {_openssl_hex(held.serial_number)}" in text
    assert f"Serial Number: {_openssl_hex(lost.serial_number)}" in text
    assert "Certificate Hold" in text and "Key Compromise" in text
