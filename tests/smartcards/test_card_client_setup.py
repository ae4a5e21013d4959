"""The card work of `zorgsleutel card init` on a blank SoftHSM2 card (clients/cardsetup.py): the
PINs and PUK, the key the card makes, the CSR it signs, the certificates it keeps, and `card
present` finding them as on a UZI card."""

from __future__ import annotations

import os
import re
import subprocess

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AttributeOID

from smartcards.cardclient import SoftwareCa
from support import require_binary
from zorgsleutel import cardprotocol as proto
from zorgsleutel.clients import card as client
from zorgsleutel.clients import cardsetup
from zorgsleutel.clients.card import ClientError
from zorgsleutel.smartcards import profile

PIN = "13572468"
CHALLENGE = "q3Zb1x-Tn_wRkA0yXc8uP2sLmE5vHoJ7iDgFbCeA9Ks"  # as the portal sends it: base64url


def _token(blank_card):
    return cardsetup.find_token(cardsetup.library(blank_card.module), blank_card.label)


def _pkcs11_tool(blank_card, *args: str) -> str:
    tool = require_binary("pkcs11-tool")
    result = subprocess.run(
        [tool, "--module", blank_card.module, "--token-label", blank_card.label, *args],
        env={**os.environ, "SOFTHSM2_CONF": str(blank_card.conf)},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def _opens(token, pin: str, *, so: bool = False) -> bool:
    from pkcs11 import exceptions as errors

    try:
        token.open(rw=True, **({"so_pin": pin} if so else {"user_pin": pin})).close()
    except errors.PinIncorrect:
        return False
    return True


def test_a_blank_card_becomes_a_smartcard(blank_card):
    token = _token(blank_card)
    assert cardsetup.state(token) == "blank"
    cardsetup.check_blank(token, transport_pin="11223344")
    puk = cardsetup.set_pins(token, transport_pin="11223344", pin=PIN)

    assert re.fullmatch(r"[0-9]{8}", puk)
    assert _opens(token, PIN)
    assert _opens(token, puk, so=True)
    assert not _opens(token, "11223344")
    assert not _opens(token, "11223344", so=True)

    request = cardsetup.make_request(token, pin=PIN, challenge=CHALLENGE)
    csr = request.csr
    assert csr.is_signature_valid
    password = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD)
    assert password.value == b"q3Zb1x-Tn_wRkA0yXc8uP2sLmE5vHoJ7iDgFbCeA9Ks"
    assert request.serial == blank_card.serial
    assert cardsetup.state(token) == "started"
    parsed = subprocess.run(
        ["openssl", "asn1parse", "-inform", "DER"],
        input=csr.public_bytes(serialization.Encoding.DER),
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert ":challengePassword\n" in parsed
    assert "UTF8STRING        :q3Zb1x-Tn_wRkA0yXc8uP2sLmE5vHoJ7iDgFbCeA9Ks\n" in parsed

    # The CSR's key is the card's: what the card signs verifies with it.
    objects = _pkcs11_tool(blank_card, "--list-objects", "--login", "--pin", PIN)
    private_block = objects[objects.index("Private Key Object; EC") :]
    assert "Usage:      sign\n" in private_block
    assert "Access:     sensitive, always sensitive, never extractable, local\n" in private_block
    assert f"ID:         {request.key_id.hex()}\n" in private_block

    ca = SoftwareCa()
    leaf = ca.issue(csr.public_key())
    cardsetup.store_certificates(
        token, pin=PIN, key_id=request.key_id, certificates=[leaf, ca.issuing, ca.root]
    )
    assert cardsetup.state(token) == "smartcard"
    public_view = _pkcs11_tool(blank_card, "--list-objects")  # without the PIN, as a UZI card
    assert public_view.count("Certificate Object; type = X.509 cert") == 3
    assert "Private Key Object" not in public_view

    message = proto.message(challenge_id="c1", challenge=b"\x07" * 32, host="portal.test")
    with client.Card(blank_card.module, blank_card.label, PIN) as opened:
        certificate, signature, algorithm = opened.sign(message)
        cas = opened.ca_certificates()
    assert certificate == leaf
    assert set(cas) == {ca.issuing, ca.root}  # in the order the card lists them
    assert algorithm == "ecdsa-sha256"
    csr.public_key().verify(signature, message, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):
        csr.public_key().verify(signature, message + b"!", ec.ECDSA(hashes.SHA256()))


def test_the_profiles_certificate_is_the_cards_authentication_certificate(blank_card, ca):
    """The smartcard CA's real card certificate (smartcards/profile.py) is what `present` uses."""
    token = _token(blank_card)
    cardsetup.set_pins(token, transport_pin="11223344", pin=PIN)
    request = cardsetup.make_request(token, pin=PIN, challenge=CHALLENGE)
    holder = profile.Holder(
        name="Mila Medewerker", public_id="p-1", organisation="Demozorg", ura="90000001"
    )
    leaf = profile.issue(ca, request.csr, holder)
    chain = [leaf, ca.certificates["issuing"], ca.certificates["root"]]
    cardsetup.store_certificates(token, pin=PIN, key_id=request.key_id, certificates=chain)

    with client.Card(blank_card.module, blank_card.label, PIN) as opened:
        certificate, _ = opened.authentication()
        assert set(opened.ca_certificates()) == set(chain[1:])
    assert certificate == leaf


def test_a_started_card_gets_a_new_key_and_the_old_one_goes(blank_card):
    token = _token(blank_card)
    cardsetup.set_pins(token, transport_pin="11223344", pin=PIN)
    first = cardsetup.make_request(token, pin=PIN, challenge=CHALLENGE)
    second = cardsetup.make_request(token, pin=PIN, challenge="another")

    assert second.csr.public_key() != first.csr.public_key()
    objects = _pkcs11_tool(blank_card, "--list-objects", "--login", "--pin", PIN)
    assert objects.count("Private Key Object; EC") == 1
    assert objects.count("Public Key Object; EC") == 1
    assert f"ID:         {second.key_id.hex()}\n" in objects
    assert first.key_id.hex() not in objects


def test_certificates_not_for_the_cards_key_are_not_written(blank_card):
    token = _token(blank_card)
    cardsetup.set_pins(token, transport_pin="11223344", pin=PIN)
    request = cardsetup.make_request(token, pin=PIN, challenge=CHALLENGE)
    ca = SoftwareCa()
    other = ca.issue(ec.generate_private_key(ec.SECP256R1()).public_key())

    with pytest.raises(ClientError) as refused:
        cardsetup.store_certificates(
            token, pin=PIN, key_id=request.key_id, certificates=[other, ca.issuing, ca.root]
        )
    assert str(refused.value) == (
        "the portal's certificate is not for this card's key; nothing written"
    )
    with pytest.raises(ClientError) as refused:  # a CA certificate first
        cardsetup.store_certificates(
            token, pin=PIN, key_id=request.key_id, certificates=[ca.issuing, ca.root]
        )
    assert str(refused.value) == (
        "the portal's certificate is not for this card's key; nothing written"
    )
    assert cardsetup.state(token) == "started"


def test_a_card_with_objects_is_not_blank(blank_card):
    from pkcs11 import Attribute, ObjectClass

    token = _token(blank_card)
    with token.open(rw=True, user_pin="11223344") as session:
        session.create_object(
            {
                Attribute.CLASS: ObjectClass.DATA,
                Attribute.TOKEN: True,
                Attribute.PRIVATE: True,
                Attribute.LABEL: "hidden",
                Attribute.VALUE: b"x",
            }
        )
    assert cardsetup.state(token) == "blank"  # nothing visible without the transport code
    with pytest.raises(ClientError) as refused:
        cardsetup.check_blank(token, transport_pin="11223344")
    assert str(refused.value) == "this card is not blank: it holds objects; nothing was changed"


@pytest.mark.parametrize(
    ("pin", "message"),
    [
        ("12345", "the PIN must be 6 to 8 digits long; nothing was changed"),
        ("123456789", "the PIN must be 6 to 8 digits long; nothing was changed"),
        ("", "the PIN must be 6 to 8 digits long; nothing was changed"),
        ("12345a", "the PIN may contain digits only; nothing was changed"),
        ("1234 56", "the PIN may contain digits only; nothing was changed"),
        ("١٢٣٤٥٦", "the PIN may contain digits only; nothing was changed"),  # Arabic-Indic
    ],
)
def test_pins_are_6_to_8_digits(pin, message):
    with pytest.raises(ClientError) as refused:
        cardsetup.check_pin(pin)
    assert str(refused.value) == message


@pytest.mark.parametrize("pin", ["123456", "1234567", "12345678"])
def test_pins_of_6_to_8_digits_pass(pin):
    assert cardsetup.check_pin(pin) == pin
