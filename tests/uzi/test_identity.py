"""Parsing the UZI fields: the real TEST card, every pas type, and what is refused."""

import json

import pytest
from asn1crypto import core
from cryptography.hazmat.primitives.asymmetric import ec

from zorgsleutel.uzi import UziError, parse_identity, pem
from zorgsleutel.uzi.professions import profession
from zorgsleutel.uzi.testca import issue_card_certificate

KEY = ec.generate_private_key(ec.SECP256R1()).public_key()


def card(uzi_test_ca, **options):
    options.setdefault("ura", "90000001")
    options.setdefault("uzi_number", "900000001")
    return issue_card_certificate(KEY, ca=uzi_test_ca.hierarchy.zorgverlener, **options)


def refused(data) -> str:
    with pytest.raises(UziError) as caught:
        parse_identity(data)
    return caught.value.code


def test_real_test_card_parses(real_card):
    who = parse_identity(real_card["Authenticiteit"])
    fields = (who.uzi_number, who.ura, who.pas_type, who.role)
    assert fields == ("900016528", "90000382", "Z", "01.000")
    assert who.profession == "Arts"
    assert who.agb is None  # 00000000: no AGB code
    assert who.ca_oid == "2.16.528.1.1007.99.217"
    assert who.version == "1"
    assert (who.given_name, who.surname) == ("Jan", "test-90014548")
    assert who.full_name == "Jan test-90014548" == who.common_name
    assert who.organisation_name == "Tést Zorginstelling 03"
    assert who.title == "Arts"
    assert who.not_before.year == 2017 and who.not_after.year == 2020
    assert len(who.fingerprint_sha256) == 64
    data = json.loads(json.dumps(who.as_dict()))
    assert data["uzi_number"] == "900016528" and data["pas_type_name"] == "Zorgverlenerpas"


def test_all_three_card_certificates_carry_the_same_identity(real_card):
    numbers = {parse_identity(data).uzi_number for data in real_card.values()}
    assert numbers == {"900016528"}


def test_der_and_text_pem_are_read_too(real_card, uzi_test_ca):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    certificate = x509.load_pem_x509_certificate(real_card["Authenticiteit"])
    der = certificate.public_bytes(serialization.Encoding.DER)
    assert parse_identity(der).uzi_number == "900016528"
    assert parse_identity(real_card["Authenticiteit"].decode()).uzi_number == "900016528"
    assert parse_identity(certificate).uzi_number == "900016528"


@pytest.mark.parametrize(
    ("pas_type", "name", "expected_name"),
    [
        ("N", "Anna de Vries", "Anna de Vries"),
        ("M", "Balie Huisartsenpost", "Balie Huisartsenpost"),
        ("S", "server.zorg.example", "server.zorg.example"),
    ],
)
def test_employee_and_server_passes_parse(uzi_test_ca, pas_type, name, expected_name):
    """The library reads every pas type; whether M and S may log in is the portal's decision."""
    who = parse_identity(card(uzi_test_ca, pas_type=pas_type, name=name))
    assert who.pas_type == pas_type
    assert who.role == "00.000" and who.profession is None
    assert who.full_name == expected_name


def test_roles_name_their_profession(uzi_test_ca):
    who = parse_identity(card(uzi_test_ca, role="30.000"))
    assert (who.role, who.profession, who.title) == ("30.000", "Verpleegkundige", "Verpleegkundige")
    assert profession("81.000") == "Physician assistant"
    assert profession("01.015") == "Arts"  # huisarts: a specialism of arts
    assert profession("77.000") is None


def test_agb_code_is_kept(uzi_test_ca):
    assert parse_identity(card(uzi_test_ca, agb="01234567")).agb == "01234567"


@pytest.mark.parametrize("data", [b"", b"   \n", b"\x00\x01garbage", "not a certificate"])
def test_unreadable_input_is_malformed(data):
    assert refused(data) == "malformed"


def test_pem_with_a_broken_body_is_malformed():
    broken = b"-----BEGIN CERTIFICATE-----\nTUlJQm9n\n-----END CERTIFICATE-----\n"
    assert refused(broken) == "malformed"


def test_a_ca_certificate_is_not_uzi(real_trust):
    assert refused(pem(real_trust.anchors[0]).encode()) == "not_uzi"


@pytest.mark.parametrize(
    "field",
    [
        "2.16.528.1.1007.99.217-1-900000001-Z-90000001-01.000",  # six fields
        "2.16.528.1.1007.99.217-1-900000001-X-90000001-01.000-00000000",  # pas type X
        "2.16.528.1.1007.99.217-1-900000001-Z-9000001-01.000-00000000",  # URA of 7 digits
        "2.16.528.1.1007.99.217-1-900000001-Z-90000001-1.000-00000000",  # role not NN.NNN
        "2.16.528.1.1007.99.217-1-900000001-Z-90000001-00.000-00000000",  # Z without a role
        "2.16.528.1.1007.99.217-1-900000001-N-90000001-01.000-00000000",  # N with a role
        "2.16.528.1.1007.99.217-1-900000001-Z-90000001-01.000-0000000A",  # AGB not digits
        "not.an.oid-1-900000001-Z-90000001-01.000-00000000",
        "2.16.528.1.1007.99.217-1-90000000A-Z-90000001-01.000-00000000",
    ],
)
def test_wrong_uzi_fields_are_refused(uzi_test_ca, field):
    assert refused(card(uzi_test_ca, uzi_field=field)) == "bad_uzi_field"


# --- What the UZI-register CPS rules out (§7.1): bad_uzi_field, with the reason in `detail` ------


def refused_field(data) -> str:
    """The detail of a bad_uzi_field refusal (it names what the CPS rules out)."""
    with pytest.raises(UziError) as caught:
        parse_identity(data)
    assert caught.value.code == "bad_uzi_field"
    return caught.value.detail


def test_the_cps_layout_parses(uzi_test_ca):
    """The control for the refusals below: the same builder, every field as the CPS says."""
    who = parse_identity(card(uzi_test_ca, uzi_number="900000001", ura="90000001"))
    assert (who.uzi_number, who.ura, who.version) == ("900000001", "90000001", "1")


@pytest.mark.parametrize("uzi_number", ["90000001", "9000000012", "1"])
def test_uzi_number_not_9_digits_is_refused(uzi_test_ca, uzi_number):
    # The subject's serialNumber carries the same number: only the length is wrong.
    detail = refused_field(card(uzi_test_ca, uzi_number=uzi_number))
    assert detail.startswith(f"field uzi_number '{uzi_number}' in ")


@pytest.mark.parametrize("version", ["2", "0", "01", "10"])
def test_unknown_layout_version_is_refused(uzi_test_ca, version):
    field = f"2.16.528.1.1007.99.217-{version}-900000001-Z-90000001-01.000-00000000"
    detail = refused_field(card(uzi_test_ca, uzi_field=field))
    assert detail.startswith(f"field version '{version}' in ")


@pytest.mark.parametrize(
    ("string_type", "name"),
    [(core.UTF8String, "UTF8String"), (core.PrintableString, "PrintableString")],
)
def test_other_name_that_is_not_an_ia5string_is_refused(uzi_test_ca, string_type, name):
    detail = refused_field(card(uzi_test_ca, uzi_field_type=string_type))
    assert detail == f"otherName 2.5.5.5 is a {name}, not an IA5String"


def test_subject_serial_number_must_match_the_uzi_number(uzi_test_ca):
    assert refused(card(uzi_test_ca, subject_serial="900000002")) == "malformed"


def test_error_carries_code_message_and_detail():
    from django.utils import translation

    with pytest.raises(UziError) as caught:
        parse_identity(b"")
    error = caught.value
    with translation.override("en"):
        message = "This is not a readable certificate."
        assert error.as_dict() == {"error": "malformed", "message": message}
        assert str(error) == "This is not a readable certificate. (empty input)"
    assert error.detail == "empty input"
