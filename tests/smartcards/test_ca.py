"""The smartcard CA in a PKCS#11 token and the certificate a card holds (docs/smartcards.md)."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from smartcards.conftest import PIN, labels
from support import require_binary
from zorgsleutel.smartcards import command, profile
from zorgsleutel.smartcards.tokenkey import KeyStaysInToken

HOLDER = profile.Holder(
    name="Mila Medewerker",
    public_id="5f0c6a52-1d7e-4b8e-9a51-3c2f1e0d9b11",
    organisation="Demozorg",
    ura="90000001",
    uzi_number="900012345",
)


def _csr(key=None) -> x509.CertificateSigningRequest:
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "card")])
    return x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())


def _pem(path, *certificates) -> str:
    path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates))
    return str(path)


def test_the_keys_are_made_on_the_token_and_never_leave_it(ca):
    from pkcs11 import Attribute, ObjectClass

    keys = list(ca.session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY}))
    assert sorted(k[Attribute.LABEL] for k in keys) == ["issuing", "root"]
    for key in keys:
        assert (key[Attribute.SENSITIVE], key[Attribute.EXTRACTABLE]) == (True, False)
        assert key[Attribute.NEVER_EXTRACTABLE] is True
    with pytest.raises(KeyStaysInToken, match=r"^the private key cannot leave its token$"):
        ca.key("issuing").private_numbers()
    with pytest.raises(KeyStaysInToken, match=r"^the token key signs ECDSA with SHA-256 only$"):
        ca.key("issuing").sign(b"x", ec.ECDSA(hashes.SHA384()))


def test_a_card_certificate_follows_the_profile_and_passes_openssl_strict(ca, tmp_path):
    openssl = require_binary("openssl")
    card = profile.issue(ca, _csr(), HOLDER)
    root, issuing = ca.certificates["root"], ca.certificates["issuing"]
    verified = subprocess.run(
        [
            *(openssl, "verify", "-x509_strict", "-purpose", "sslclient"),
            *("-CAfile", _pem(tmp_path / "root.pem", root)),
            *("-untrusted", _pem(tmp_path / "issuing.pem", issuing)),
            _pem(tmp_path / "card.pem", card),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.stdout.strip().endswith("card.pem: OK"), verified.stderr
    assert card.subject.rfc4514_string() == (
        "UID=UZI-900012345,2.5.4.5=5f0c6a52-1d7e-4b8e-9a51-3c2f1e0d9b11,"
        "CN=Mila Medewerker,2.5.4.97=URA-90000001,O=Demozorg,C=NL"
    )
    assert card.not_valid_after_utc - card.not_valid_before_utc == timedelta(days=1095)
    assert card.serial_number.bit_length() >= 64
    usage = card.extensions.get_extension_for_class(x509.KeyUsage)
    assert (usage.critical, usage.value.digital_signature, usage.value.content_commitment) == (
        True,
        True,
        False,
    )
    assert list(card.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [
        ExtendedKeyUsageOID.CLIENT_AUTH
    ]
    assert [
        p.policy_identifier.dotted_string
        for p in card.extensions.get_extension_for_class(x509.CertificatePolicies).value
    ] == ["2.999.7.1.1"]
    access = card.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert [(a.access_method._name, a.access_location.value) for a in access] == [
        ("OCSP", "https://portal.test/smartcards/ocsp"),
        ("caIssuers", "https://portal.test/smartcards/ca.cer"),
    ]
    (point,) = card.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert [n.value for n in point.full_name] == ["https://portal.test/smartcards/ca.crl"]


def test_a_business_customers_card_names_its_kvk_number(ca):
    holder = profile.Holder(
        name="Gijs Gebruiker", public_id="p-1", organisation="Demobedrijf BV", kvk="87654321"
    )
    card = profile.issue(ca, _csr(), holder)
    assert card.subject.rfc4514_string() == (
        "2.5.4.5=p-1,CN=Gijs Gebruiker,2.5.4.97=NTRNL-87654321,O=Demobedrijf BV,C=NL"
    )


def test_a_request_not_signed_by_its_key_or_not_p256_is_refused(ca):
    good = _csr()
    other = _csr()
    # The body of one request with the signature of another: not signed by its key.
    forged = x509.load_der_x509_csr(
        _swap_signature(good.public_bytes(serialization.Encoding.DER), other.signature)
    )
    with pytest.raises(profile.ProfileError, match=r"^the request is not signed by its key$"):
        profile.issue(ca, forged, HOLDER)
    with pytest.raises(profile.ProfileError, match=r"^a card key is ECDSA P-256$"):
        profile.issue(ca, _csr(ec.generate_private_key(ec.SECP384R1())), HOLDER)


def _swap_signature(der: bytes, signature: bytes) -> bytes:
    from asn1crypto import csr

    request = csr.CertificationRequest.load(der)
    request["signature"] = signature
    return request.dump(force=True)


def test_the_command_makes_the_ca_once_and_shows_it_with_the_pin(softhsm, tmp_path, capsys):
    label = f"command CA {next(labels)}"
    common = ["--dir", str(tmp_path / "ca"), "--softhsm-dir", str(softhsm.softhsm.directory)]
    common += ["--token", label, "--pin", PIN]
    assert command.main(["init", *common]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed[::2]] == ["root", "issuing"]
    assert printed[0] == "root     CN=Zorgsleutel Smartcard Root CA,O=Zorgsleutel,C=NL"
    assert command.main(["show", *common]) == 0
    assert capsys.readouterr().out.splitlines() == printed
    assert command.main(["init", *common]) == 1
    assert f"token {label!r} exists: a CA is made once" in capsys.readouterr().err
    wrong = [*common[:-1], "000000"]
    assert command.main(["show", *wrong]) == 1
    assert f"wrong PIN for token {label!r}" in capsys.readouterr().err
    assert (tmp_path / "ca" / "root.pem").is_file()
    started = datetime.now(UTC)
    root = x509.load_pem_x509_certificate((tmp_path / "ca" / "root.pem").read_bytes())
    assert root.not_valid_before_utc < started


def test_key_usage_sets_exactly_the_named_bits_and_refuses_a_misspelt_one():
    from zorgsleutel.uzi.certificates import key_usage

    usage = key_usage("key_cert_sign", "crl_sign")
    assert (usage.digital_signature, usage.key_cert_sign, usage.crl_sign) == (False, True, True)
    with pytest.raises(ValueError, match=r"^no key usage digital_signatur$"):
        key_usage("digital_signatur")
