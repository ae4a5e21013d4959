"""The OCSP responder: a key in the process's memory, certified by the issuing CA as a delegated
responder for two days, certified anew after one; every certification in the platform's log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID

from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.smartcards import responder

AT = datetime(2026, 12, 7, 12, 0, 30, 250_000, tzinfo=UTC)


def test_a_responder_is_a_delegated_short_lived_ocsp_signer(ca):
    made = responder.certify(ca, AT)
    certificate = made.certificate
    certificate.verify_directly_issued_by(ca.certificates["issuing"])
    extensions = certificate.extensions
    assert (
        certificate.subject.rfc4514_string(),
        certificate.not_valid_before_utc,
        certificate.not_valid_after_utc,
        list(extensions.get_extension_for_class(x509.ExtendedKeyUsage).value),
        extensions.get_extension_for_class(x509.ExtendedKeyUsage).critical,
        extensions.get_extension_for_class(x509.BasicConstraints).value.ca,
        extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature,
        made.renew_after,
        made.issuer,
    ) == (
        "CN=Zorgsleutel Smartcard OCSP,O=Zorgsleutel,C=NL",
        datetime(2026, 12, 7, 11, 55, 30, tzinfo=UTC),  # five minutes early, whole seconds
        datetime(2026, 12, 9, 11, 55, 30, tzinfo=UTC),  # SMARTCARD_RESPONDER_VALIDITY: 2 days
        [ExtendedKeyUsageOID.OCSP_SIGNING],
        True,
        False,
        True,
        datetime(2026, 12, 8, 11, 55, 30, tzinfo=UTC),  # SMARTCARD_RESPONDER_RENEWAL: 1 day
        ca.certificates["issuing"],
    )
    assert extensions.get_extension_for_class(x509.OCSPNoCheck)
    # The key signs what the certificate names; the answer names it by this key hash.
    assert made.signer.key.public_key() == certificate.public_key()
    assert made.signer.key_hash == (
        extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    )


def test_each_responder_has_its_own_key(ca):
    first, second = responder.certify(ca, AT), responder.certify(ca, AT)
    assert first.certificate.public_key() != second.certificate.public_key()
    assert first.certificate.serial_number != second.certificate.serial_number


def _certified() -> list[dict]:
    return [
        event.details
        for event in AuditEvent.objects.filter(action="smartcard.responder_certified").order_by(
            "pk"
        )
    ]


@pytest.mark.django_db
def test_the_process_certifies_once_then_again_after_a_day_each_in_the_log(portal_ca):
    with clock.frozen(AT):
        first = responder.current()
        assert responder.current() is first
    with clock.frozen(datetime(2026, 12, 8, 11, 55, 29, tzinfo=UTC)):
        assert responder.current() is first  # a second before its renewal time
    with clock.frozen(datetime(2026, 12, 8, 11, 55, 30, tzinfo=UTC)):
        second = responder.current()
    assert second is not first
    certificates = [first.certificate, second.certificate]
    assert _certified() == [
        {
            "serial": format(certificate.serial_number, "x"),
            "fingerprint": certificate.fingerprint(hashes.SHA256()).hex(),
            "not_after": certificate.not_valid_after_utc.isoformat(),
        }
        for certificate in certificates
    ]
    assert [c.not_valid_after_utc for c in certificates] == [
        datetime(2026, 12, 9, 11, 55, 30, tzinfo=UTC),
        datetime(2026, 12, 10, 11, 50, 30, tzinfo=UTC),
    ]
    event = AuditEvent.objects.filter(action="smartcard.responder_certified").first()
    assert (event.organisation, event.actor) == ("", "system")  # the platform log, no person


@pytest.mark.django_db
def test_a_ca_opened_anew_certifies_a_new_responder(portal_ca):
    from zorgsleutel.smartcards import runtime

    first = responder.current()
    runtime.reset()  # other settings, or a session the token dropped
    assert responder.current() is not first
    assert len(_certified()) == 2
