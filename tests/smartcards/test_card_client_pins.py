"""`zorgsleutel card unblock-pin`, and the PINs `card init` asks, through the client's entry point:
in process with --puk/--pin, and in a real terminal for what is typed (asked twice, no echo).

SoftHSM never locks a PIN: these test the client's handling, and that nothing changes."""

from __future__ import annotations

import re

import pytest

from smartcards.cardclient import portal, run_in_terminal  # noqa: F401 (portal: a fixture)
from zorgsleutel.clients import card as client
from zorgsleutel.clients import cardsetup

PIN = "13572468"
NEW_PIN = "24681357"


@pytest.fixture
def smartcard_pins(blank_card):
    """A blank card with the holder's PIN set; returns its PUK."""
    token = cardsetup.find_token(cardsetup.library(blank_card.module), blank_card.label)
    return cardsetup.set_pins(token, transport_pin="11223344", pin=PIN)


def _opens(blank_card, pin: str) -> bool:
    """Whether the PIN opens the card, as a new process sees it (SoftHSM caches a token's PIN:
    after another process changed it, this one reads it again)."""
    from pkcs11 import exceptions as errors

    lib = cardsetup.library(blank_card.module)
    lib.reinitialize()
    token = cardsetup.find_token(lib, blank_card.label)
    try:
        token.open(rw=True, user_pin=pin).close()
    except errors.PinIncorrect:
        return False
    return True


def unblock(blank_card, *options: str) -> list[str]:
    return ["unblock-pin", "--module", blank_card.module, "--token", blank_card.label, *options]


def test_the_puk_sets_a_new_pin(blank_card, smartcard_pins, capsys):
    assert client.main(unblock(blank_card, "--puk", smartcard_pins, "--pin", NEW_PIN)) == 0
    assert capsys.readouterr().out == f"Card '{blank_card.label}' has its new PIN.\n"
    assert _opens(blank_card, NEW_PIN)
    assert not _opens(blank_card, PIN)


@pytest.mark.parametrize(
    ("puk", "pin", "message"),
    [
        ("00000000", NEW_PIN, "error: Wrong PUK; nothing was changed\n"),
        (None, "12345", "error: the PIN must be 6 to 8 digits long; nothing was changed\n"),
        (None, "123456789", "error: the PIN must be 6 to 8 digits long; nothing was changed\n"),
        (None, "1234ab", "error: the PIN may contain digits only; nothing was changed\n"),
    ],
)
def test_a_wrong_puk_or_a_pin_not_allowed_changes_nothing(
    blank_card, smartcard_pins, capsys, puk, pin, message
):
    assert client.main(unblock(blank_card, "--puk", puk or smartcard_pins, "--pin", pin)) == 2
    assert capsys.readouterr().err == message
    assert _opens(blank_card, PIN)
    assert not _opens(blank_card, pin)


def test_a_new_pin_is_typed_twice_without_echo(blank_card, smartcard_pins):
    code, screen = run_in_terminal(
        unblock(blank_card),
        [
            (f"PUK of card '{blank_card.label}': ", smartcard_pins),
            ("New PIN for the card (6 to 8 digits): ", NEW_PIN),
            ("The new PIN again: ", NEW_PIN),
        ],
        conf=blank_card.conf,
    )
    assert (code, screen) == (
        0,
        f"PUK of card '{blank_card.label}': \n"
        "New PIN for the card (6 to 8 digits): \n"
        "The new PIN again: \n"
        f"Card '{blank_card.label}' has its new PIN.\n",
    )
    assert _opens(blank_card, NEW_PIN)


def test_two_pins_that_differ_change_nothing(blank_card, smartcard_pins):
    code, screen = run_in_terminal(
        unblock(blank_card),
        [
            (f"PUK of card '{blank_card.label}': ", smartcard_pins),
            ("New PIN for the card (6 to 8 digits): ", NEW_PIN),
            ("The new PIN again: ", "24681358"),
        ],
        conf=blank_card.conf,
    )
    assert code == 2
    assert screen.endswith("error: the two PINs differ; nothing was changed\n")
    assert _opens(blank_card, PIN)


def test_a_wrong_puk_typed_is_refused_before_the_new_pin(blank_card, smartcard_pins):
    code, screen = run_in_terminal(
        unblock(blank_card),
        [(f"PUK of card '{blank_card.label}': ", "87654321")],
        conf=blank_card.conf,
    )
    assert (code, screen) == (
        2,
        f"PUK of card '{blank_card.label}': \nerror: Wrong PUK; nothing was changed\n",
    )
    assert _opens(blank_card, PIN)


def init_args(portal, blank_card) -> list[str]:  # noqa: F811
    code = portal.open_challenge()
    return [
        *("init", "--code", code, "--server", portal.url),
        *("--module", blank_card.module, "--token", blank_card.label),
    ]


def test_init_asks_the_transport_code_and_the_new_pin_twice(portal, blank_card):  # noqa: F811
    code, screen = run_in_terminal(
        init_args(portal, blank_card),
        [
            ("Transport code of the card: ", "11223344"),
            ("New PIN for the card (6 to 8 digits): ", PIN),
            ("The new PIN again: ", PIN),
        ],
        conf=blank_card.conf,
    )
    assert code == 0, screen
    puk = re.search(r"^Your PUK: ([0-9]{8})$", screen, re.MULTILINE).group(1)
    assert screen.endswith(
        "Transport code of the card: \n"
        "New PIN for the card (6 to 8 digits): \n"
        "The new PIN again: \n"
        f"Your PUK: {puk}\n"
        "Keep this PUK safe, apart from the card: it sets a new PIN when you forget yours "
        "(zorgsleutel card unblock-pin). It is shown only this once.\n"
        "Uw smartcard is klaar.\n"
    )
    assert "11223344" not in screen and PIN not in screen  # typed without echo
    assert _opens(blank_card, PIN)


def test_init_with_two_pins_that_differ_changes_nothing(portal, blank_card):  # noqa: F811
    code, screen = run_in_terminal(
        init_args(portal, blank_card),
        [
            ("Transport code of the card: ", "11223344"),
            ("New PIN for the card (6 to 8 digits): ", PIN),
            ("The new PIN again: ", "13572469"),
        ],
        conf=blank_card.conf,
    )
    assert code == 2
    assert screen.endswith("error: the two PINs differ; nothing was changed\n")
    token = cardsetup.find_token(cardsetup.library(blank_card.module), blank_card.label)
    cardsetup.check_blank(token, transport_pin="11223344")  # still blank: the transport code opens
    assert portal.received == []
