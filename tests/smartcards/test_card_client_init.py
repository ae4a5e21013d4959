"""`zorgsleutel card init` through the client's entry point, against a stand-in portal over real
HTTP (smartcards/cardclient.py), on blank SoftHSM2 cards; and `smartcard-ca blank-card`."""

from __future__ import annotations

import re

import pytest
from cryptography.x509.oid import AttributeOID

from smartcards.cardclient import portal  # noqa: F401 (a fixture)
from zorgsleutel import cardprotocol as proto
from zorgsleutel.clients import card as client
from zorgsleutel.clients import cardsetup
from zorgsleutel.smartcards import command

PIN = "13572468"
KEEP_SAFE = (
    "Keep this PUK safe, apart from the card: it sets a new PIN when you forget yours "
    "(zorgsleutel card unblock-pin). It is shown only this once.\n"
)
AGAIN = (
    "The card keeps its PIN. With a new code from the portal, run `zorgsleutel card init` "
    "again: it asks the card's PIN instead of the transport code.\n"
)


def init(portal, blank_card, code: str, *options: str) -> int:  # noqa: F811
    return client.main(
        [
            *("init", "--code", code, "--server", portal.url),
            *("--module", blank_card.module, "--token", blank_card.label),
            *options,
        ]
    )


def _token(blank_card):
    return cardsetup.find_token(cardsetup.library(blank_card.module), blank_card.label)


def _still_blank(blank_card) -> bool:
    """The transport code still opens the card as SO and as user, and nothing is on it."""
    token = _token(blank_card)
    cardsetup.check_blank(token, transport_pin="11223344")
    with token.open(rw=True, so_pin="11223344"):
        pass
    return cardsetup.state(token) == "blank"


def test_init_makes_a_smartcard_and_prints_the_puk_once(portal, blank_card, capsys):  # noqa: F811
    code = portal.open_challenge()
    assert init(portal, blank_card, code, "--transport-pin", "11223344", "--pin", PIN) == 0

    out = capsys.readouterr().out
    puk = re.search(r"^Your PUK: ([0-9]{8})$", out, re.MULTILINE).group(1)
    assert out == (
        f"127.0.0.1:{portal.port} asks to make a smartcard: "
        "Smartcard aanmaken voor Mila Medewerker (Demozorg)\n"
        f"  card '{blank_card.label}', serial {blank_card.serial}\n"
        f"Your PUK: {puk}\n" + KEEP_SAFE + "Uw smartcard is klaar.\n"
    )
    assert out.count(puk) == 1
    ((challenge_id, csr, serial),) = portal.received
    assert challenge_id == portal.challenges[code]["id"]
    assert serial == blank_card.serial
    password = csr.attributes.get_attribute_for_oid(AttributeOID.CHALLENGE_PASSWORD).value
    assert password.decode() == portal.challenges[code]["challenge"]

    with client.Card(blank_card.module, blank_card.label, PIN) as opened:
        certificate, _ = opened.authentication()
        chain = opened.ca_certificates()
    assert certificate.public_key() == csr.public_key()
    assert set(chain) == {portal.ca.issuing, portal.ca.root}  # in the order the card lists them

    # The PUK printed is the card's: it sets a new PIN.
    unblock = ["unblock-pin", "--module", blank_card.module, "--token", blank_card.label]
    assert client.main([*unblock, "--puk", puk, "--pin", "24681357"]) == 0
    with client.Card(blank_card.module, blank_card.label, "24681357") as opened:
        assert opened.authentication()[0] == certificate


def test_a_refused_card_is_made_again_with_its_pin(portal, blank_card, capsys):  # noqa: F811
    portal.refuse = (
        403,
        {"error": "wrong_organisation", "message": "Deze kaart is van een andere organisatie."},
    )
    first = portal.open_challenge()
    assert init(portal, blank_card, first, "--transport-pin", "11223344", "--pin", PIN) == 1
    captured = capsys.readouterr()
    assert (
        captured.err == "refused: wrong_organisation: Deze kaart is van een andere organisatie.\n"
    )
    assert captured.out.endswith(KEEP_SAFE + AGAIN)
    assert cardsetup.state(_token(blank_card)) == "started"

    portal.refuse = None
    second = portal.open_challenge()
    assert init(portal, blank_card, second, "--pin", PIN) == 0
    out = capsys.readouterr().out
    assert out == (
        f"127.0.0.1:{portal.port} asks to make a smartcard: "
        "Smartcard aanmaken voor Mila Medewerker (Demozorg)\n"
        f"  card '{blank_card.label}', serial {blank_card.serial}\n"
        "This card has a key but no certificate (an earlier attempt): a new key.\n"
        "Uw smartcard is klaar.\n"
    )
    (_, refused_csr, _), (_, accepted_csr, _) = portal.received
    assert accepted_csr.public_key() != refused_csr.public_key()
    with client.Card(blank_card.module, blank_card.label, PIN) as opened:
        assert opened.authentication()[0].public_key() == accepted_csr.public_key()


def test_a_smartcard_is_not_made_again(portal, blank_card, capsys):  # noqa: F811
    code = portal.open_challenge()
    assert init(portal, blank_card, code, "--transport-pin", "11223344", "--pin", PIN) == 0
    capsys.readouterr()

    again = portal.open_challenge()
    assert init(portal, blank_card, again, "--pin", PIN) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "error: this card is already a smartcard\n")
    assert len(portal.received) == 1


def test_a_code_for_something_else_is_refused(portal, blank_card, capsys):  # noqa: F811
    code = portal.open_challenge(
        purpose="organisation_validation",
        description="Huisartsenpraktijk De Linde (URA 90000001) valideren",
    )
    assert init(portal, blank_card, code, "--transport-pin", "11223344", "--pin", PIN) == 2
    assert capsys.readouterr().err == (
        f"error: code {proto.format_code(code)} is not for making a smartcard but for: "
        "Huisartsenpraktijk De Linde (URA 90000001) valideren "
        "(answer it with `zorgsleutel card present`)\n"
    )
    assert _still_blank(blank_card)


def test_an_unknown_code_is_the_portals_refusal(portal, blank_card, capsys):  # noqa: F811
    assert init(portal, blank_card, "K7QM2XDA", "--transport-pin", "11223344") == 1
    assert capsys.readouterr().err == "refused: unknown_challenge: Unknown or expired code.\n"
    assert _still_blank(blank_card)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ("--transport-pin", "44332211", "--pin", PIN),
            "error: Wrong transport code; nothing was changed\n",
        ),
        (
            ("--transport-pin", "11223344", "--pin", "12345"),
            "error: the PIN must be 6 to 8 digits long; nothing was changed\n",
        ),
        (
            ("--transport-pin", "11223344", "--pin", "123456789"),
            "error: the PIN must be 6 to 8 digits long; nothing was changed\n",
        ),
        (
            ("--transport-pin", "11223344", "--pin", "12ab56"),
            "error: the PIN may contain digits only; nothing was changed\n",
        ),
        (
            ("--transport-pin", "11223344", "--pin", "11223344"),
            "error: choose a PIN other than the transport code; nothing was changed\n",
        ),
    ],
)
def test_a_wrong_code_or_a_pin_not_allowed_changes_nothing(
    portal,  # noqa: F811
    blank_card,
    capsys,
    options,
    message,
):
    code = portal.open_challenge()
    assert init(portal, blank_card, code, *options) == 2
    assert capsys.readouterr().err == message
    assert _still_blank(blank_card)
    assert portal.received == []


def test_the_transport_code_from_the_environment(portal, blank_card, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ZS_CARD_TRANSPORT_PIN", "11223344")
    assert init(portal, blank_card, portal.open_challenge(), "--pin", PIN) == 0
    assert "Your PUK: " in capsys.readouterr().out


def test_a_wrong_pin_on_a_started_card_changes_nothing(portal, blank_card, capsys):  # noqa: F811
    token = _token(blank_card)
    cardsetup.set_pins(token, transport_pin="11223344", pin=PIN)
    request = cardsetup.make_request(token, pin=PIN, challenge="earlier")

    assert init(portal, blank_card, portal.open_challenge(), "--pin", "86427531") == 2
    assert capsys.readouterr().err == "error: Wrong card PIN\n"
    from pkcs11 import Attribute

    with token.open(user_pin=PIN) as session:
        keys = [item[Attribute.ID] for item in session.get_objects()]
    assert keys == [request.key_id, request.key_id]  # the public and the private key, as they were
    assert portal.received == []


# --- smartcard-ca blank-card ----------------------------------------------------------------------


def test_the_blank_card_command_makes_a_blank_card(softhsm, capsys):
    directory = str(softhsm.softhsm.directory)
    assert (
        command.main(
            [
                "blank-card",
                "--label",
                "Demo blank",
                "--transport-pin",
                "55667788",
                "--softhsm-dir",
                directory,
            ]
        )
        == 0
    )
    serial = capsys.readouterr().out
    token = cardsetup.find_token(cardsetup.library(softhsm.module), "Demo blank")
    assert serial == proto.token_serial(token.serial) + "\n"
    assert re.fullmatch(r"[0-9a-f]{16}\n", serial)
    cardsetup.check_blank(token, transport_pin="55667788")
    with token.open(rw=True, so_pin="55667788"):
        pass

    assert command.main(["blank-card", "--label", "Demo blank", "--softhsm-dir", directory]) == 1
    assert capsys.readouterr().err == "error: token 'Demo blank' exists: choose another --label\n"
    assert command.main(["blank-card", "--softhsm-dir", directory]) == 2
    assert capsys.readouterr().err == "error: give the blank card's label with --label\n"


def test_the_blank_card_command_makes_a_transport_code(softhsm, capsys):
    directory = str(softhsm.softhsm.directory)
    assert command.main(["blank-card", "--label", "Demo blank 2", "--softhsm-dir", directory]) == 0
    serial, code = re.fullmatch(
        r"([0-9a-f]{16})\ntransport code ([0-9]{8})\n", capsys.readouterr().out
    ).groups()
    token = cardsetup.find_token(cardsetup.library(softhsm.module), "Demo blank 2")
    assert proto.token_serial(token.serial) == serial
    cardsetup.check_blank(token, transport_pin=code)
