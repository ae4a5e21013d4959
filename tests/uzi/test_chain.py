"""Chain verdicts: the real TEST chain in and out of its validity, and every refusal code."""

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from zorgsleutel import uzi
from zorgsleutel.uzi import testca
from zorgsleutel.uzi.certificates import load_certificate
from zorgsleutel.uzi.trust import TrustStore

IN_2019 = datetime(2019, 6, 1, tzinfo=UTC)
KEY = ec.generate_private_key(ec.SECP256R1()).public_key()


def card(ca, **options):
    options.setdefault("ura", "90000001")
    options.setdefault("uzi_number", "900000001")
    return testca.issue_card_certificate(KEY, ca=ca.zorgverlener, **options)


def refusal(certificates, trust, at=None, **options) -> uzi.UziError:
    with pytest.raises(uzi.UziError) as caught:
        uzi.verify_presentation(certificates, at=at or datetime.now(UTC), trust=trust, **options)
    return caught.value


def test_real_test_card_is_valid_in_2019(real_card, real_trust):
    identity, leaf = uzi.verify_presentation(
        [real_card["Authenticiteit"]], at=IN_2019, trust=real_trust
    )
    assert identity.uzi_number == "900016528"
    assert identity.fingerprint_sha256 == uzi.fingerprint(leaf)
    chain = uzi.verify_chain(leaf, [], trust=real_trust, at=IN_2019)
    assert [c.subject.rfc4514_string().split(",")[0] for c in chain] == [
        "CN=Jan test-90014548",
        "CN=TEST UZI-register Zorgverlener CA G3",
        "CN=TEST Zorg CSP Level 2 Persoon CA G3",
        "CN=TEST Zorg CSP Root CA G3",
    ]


def test_real_test_card_is_expired_today(real_card, real_trust):
    error = refusal([real_card["Authenticiteit"]], real_trust)
    assert error.code == "expired"
    assert "2020-07-12" in error.detail


def test_real_test_card_is_not_valid_before_its_start(real_card, real_trust):
    error = refusal([real_card["Authenticiteit"]], real_trust, at=datetime(2017, 1, 1, tzinfo=UTC))
    assert error.code == "not_yet_valid"


@pytest.mark.parametrize("name", ["Handtekening", "Vertrouwelijkheidcertificaat"])
def test_signing_and_encryption_certificates_are_refused_for_authentication(
    real_card, real_trust, name
):
    assert refusal([real_card[name]], real_trust, at=IN_2019).code == "key_usage"


def test_card_sent_intermediates_help_but_never_decide(real_card, real_trust):
    """Only the root in the trust dir: the path builds from the card's CAs, yet the issuing CA
    is not one the portal holds itself, so the certificate is untrusted."""
    only_root = TrustStore.from_certificates(list(real_trust.anchors))
    sent = [uzi.pem(c) for c in real_trust.intermediates]
    error = refusal([real_card["Authenticiteit"], *sent], only_root, at=IN_2019)
    assert error.code == "untrusted"
    assert "not in the trust store" in error.detail


def test_certificate_of_another_root_is_untrusted(uzi_test_ca):
    other = testca.TestHierarchy.generate(prefix="Elsewhere")
    certificates = [card(other), *other.ca_certificates]
    error = refusal(certificates, uzi_test_ca.trust)
    assert error.code == "untrusted"
    assert "Elsewhere" in error.detail


def test_empty_trust_store_trusts_nothing(uzi_test_ca, tmp_path):
    error = refusal([card(uzi_test_ca.hierarchy)], TrustStore.from_dir(tmp_path / "missing"))
    assert error.code == "untrusted"


def test_test_card_of_the_development_ca_is_valid(uzi_test_ca):
    identity, _ = uzi.verify_presentation(
        [card(uzi_test_ca.hierarchy)], at=datetime.now(UTC), trust=uzi_test_ca.trust
    )
    assert identity.ura == "90000001"


def test_forged_signature_is_refused(uzi_test_ca):
    """Same issuer name, signed by another key."""
    impostor = testca.TestHierarchy.generate().zorgverlener.key
    forger = testca.CertificateAuthority(uzi_test_ca.hierarchy.zorgverlener.certificate, impostor)
    forged = testca.issue_card_certificate(KEY, ca=forger, ura="90000001", uzi_number="900000001")
    assert refusal([forged], uzi_test_ca.trust).code == "signature"


def test_expired_card_of_the_development_ca(uzi_test_ca):
    start = datetime.now(UTC) - timedelta(days=400)
    old = card(uzi_test_ca.hierarchy, not_before=start, valid_days=30)
    assert refusal([old], uzi_test_ca.trust).code == "expired"


def test_unknown_policy_is_refused_and_the_list_is_settable(uzi_test_ca):
    certificate = card(uzi_test_ca.hierarchy, policy_oid="1.3.6.1.4.1.99999.1")
    assert refusal([certificate], uzi_test_ca.trust).code == "policy"
    identity, _ = uzi.verify_presentation(
        [certificate],
        at=datetime.now(UTC),
        trust=uzi_test_ca.trust,
        policy_oids=["1.3.6.1.4.1.99999"],
    )
    assert identity.uzi_number == "900000001"


def test_test_policy_is_refused_where_only_production_is_accepted(real_card, real_trust):
    only_production = [uzi.DEFAULT_POLICY_OIDS[0]]
    error = refusal(
        [real_card["Authenticiteit"]], real_trust, at=IN_2019, policy_oids=only_production
    )
    assert error.code == "policy"


def test_signing_usage_from_the_test_ca_is_refused(uzi_test_ca):
    signing = card(uzi_test_ca.hierarchy, usage="signing")
    assert refusal([signing], uzi_test_ca.trust).code == "key_usage"


def test_employee_and_server_passes_validate(uzi_test_ca):
    """The library accepts every pas type from a trusted CA; the portal refuses M and S."""
    for pas_type in ("N", "M", "S"):
        identity, _ = uzi.verify_presentation(
            [card(uzi_test_ca.hierarchy, pas_type=pas_type, name="Medewerker Balie")],
            at=datetime.now(UTC),
            trust=uzi_test_ca.trust,
        )
        assert identity.pas_type == pas_type


def test_non_uzi_certificate_is_refused_before_the_chain(real_trust):
    ca = uzi.pem(real_trust.intermediates[0])
    assert refusal([ca], real_trust, at=IN_2019).code == "not_uzi"


def test_trust_dir_reads_pem_bundles_and_der(uzi_test_ca, tmp_path):
    from cryptography.hazmat.primitives import serialization

    hierarchy = uzi_test_ca.hierarchy
    (tmp_path / "bundle.pem").write_text("".join(uzi.pem(c) for c in hierarchy.ca_certificates[1:]))
    (tmp_path / "issuing.cer").write_bytes(
        hierarchy.zorgverlener.certificate.public_bytes(serialization.Encoding.DER)
    )
    store = TrustStore.from_dir(tmp_path)
    assert len(store.anchors) == 1 and len(store.intermediates) == 2
    uzi.verify_presentation([card(hierarchy)], at=datetime.now(UTC), trust=store)


def test_unreadable_file_in_the_trust_dir_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not a certificate")
    with pytest.raises(ValueError, match=r"notes\.txt"):
        TrustStore.from_dir(tmp_path)


def test_from_settings_reads_the_portal_settings(uzi_trust_settings, settings):
    settings.UZI_POLICY_OIDS = ["1.3.6.1.4.1.99999"]
    settings.UZI_CHECK_CRL = False
    validator = uzi.from_settings()
    assert validator.policy_oids == ("1.3.6.1.4.1.99999",)
    certificate = card(uzi_trust_settings.hierarchy)
    with pytest.raises(uzi.UziError) as caught:
        validator.verify([certificate], at=datetime.now(UTC))
    assert caught.value.code == "policy"
    settings.UZI_POLICY_OIDS = []
    _, leaf = uzi.from_settings().verify([certificate], at=datetime.now(UTC))
    assert load_certificate(uzi.pem(leaf)) == certificate


def test_naive_time_is_taken_as_utc(real_card, real_trust):
    identity, _ = uzi.verify_presentation(
        [real_card["Authenticiteit"]], at=datetime(2019, 6, 1), trust=real_trust
    )
    assert identity.uzi_number == "900016528"


def test_expired_intermediate_ca_is_named(uzi_test_ca):
    hierarchy = uzi_test_ca.hierarchy
    old = testca.issue_ca(
        "Zorgsleutel DEV Old Zorgverlener CA",
        issuer=hierarchy.persoon,
        not_before=datetime.now(UTC) - timedelta(days=3 * 365),
        days=365,
        path_length=0,
    )
    certificate = testca.issue_card_certificate(KEY, ca=old, ura="90000001", uzi_number="900000001")
    trust = TrustStore.from_certificates([*hierarchy.ca_certificates, old.certificate])
    error = refusal([certificate], trust)
    assert error.code == "expired"
    assert "Old Zorgverlener CA" in error.detail
