"""End to end through the portal: a smartcard made with `zorgsleutel card init`, 59 days before
its certificate ends, is renewed with `zorgsleutel card renew` from a login with that card (a new
key on the same card, the old one deleted); whatever is refused leaves the old key working."""

from __future__ import annotations

import os
import re
import subprocess
from datetime import timedelta
from types import SimpleNamespace

import pytest
from cryptography.hazmat.primitives import serialization

from smartcardwork import page_code
from support import require_binary
from zorgsleutel.authn import sessions
from zorgsleutel.clients import card as card_client
from zorgsleutel.clients import cardrenew
from zorgsleutel.core import clock
from zorgsleutel.smartcards.models import Smartcard

PIN = "13572468"

# The card's answers reach the waiting page after their commit; the live server needs them too.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def every_thread(monkeypatch):
    """`clock.frozen()` for every thread: the live server answers the card client in threads of
    its own, and each thread has its own frozen moment otherwise."""
    monkeypatch.setattr(clock, "_state", SimpleNamespace(fixed=None))


@pytest.fixture
def smartcard(client, login_as, live_server, portal_ca, care, blank_card, capsys):
    """The member's smartcard, made with `card init` on a blank card through the portal."""
    care.shipped(blank_card.serial.upper())
    login_as(client, care.admin)
    membership = care.member.memberships.get()
    beheer = f"/beheer/{care.org.public_id}/leden/{membership.pk}/smartcards"
    assert client.post(beheer, {"action": "confirm_identity", "seen": "yes"}).status_code == 302
    login_as(client, care.member, acr="low")
    shown = page_code(client.get("/mijn/smartcards/aanmaken"))
    made = run(
        "init", "--code", shown["code"], "--server", live_server.url, *card_options(blank_card),
        "--transport-pin", blank_card.transport_pin, "--pin", PIN,
    )  # fmt: skip
    assert made == 0, capsys.readouterr().err
    capsys.readouterr()
    client.logout()
    return Smartcard.objects.get()


def test_a_smartcard_near_its_end_gets_a_new_key_and_certificate_on_the_same_card(
    client, live_server, blank_card, smartcard, every_thread, capsys
):
    old = smartcard
    (old_key,) = objects_on(blank_card)["Private Key Object; EC"]
    with clock.frozen(old.not_after - timedelta(days=59)):
        log_in_with_card(client, live_server, blank_card, capsys)
        assert client.session[sessions.AUTHENTICATOR] == old.public_id
        mine = client.get("/mijn/smartcards").content.decode()
        assert f'href="/mijn/smartcards/{old.public_id}/vernieuwen"' in mine
        shown = page_code(client.get(f"/mijn/smartcards/{old.public_id}/vernieuwen"))

        renewed = run(
            "renew", "--code", shown["code"], "--server", live_server.url,
            *card_options(blank_card), "--pin", PIN, "--language", "nl",
        )  # fmt: skip
        out = capsys.readouterr()
        assert renewed == 0, out.err
        assert out.out == (  # in Dutch, the portal's words too (Accept-Language)
            "testserver vraagt uw smartcard te vernieuwen: uw smartcard vernieuwen\n"
            f"  kaart {blank_card.label!r}, serienummer {blank_card.serial}\n"
            "Uw smartcard is vernieuwd. Ga verder in uw browser.\n"
        )
        outcome = client.get(shown["status"]).json()
        assert outcome == {"status": "ok", "next": "/inloggen/smartcard"}

        old.refresh_from_db()
        assert (old.state, old.revocation_reason) == ("revoked", "superseded")
        new = Smartcard.objects.get(state="active")
        assert (new.renews, new.user, new.card_serial) == (old, old.user, old.card_serial)

        # One key on the card: a new one, sensitive, never extractable, beside the new certificate.
        objects = objects_on(blank_card)
        (key,) = objects["Private Key Object; EC"]
        assert key["ID"] != old_key["ID"]
        assert key["Access"] == "sensitive, always sensitive, never extractable, local"
        (public,) = objects["Public Key Object; EC  EC_POINT 256 bits"]
        assert public["ID"] == key["ID"]
        certificates = objects["Certificate Object; type = X.509 cert"]
        assert sorted((c["label"], c["ID"]) for c in certificates) == [
            ("Zorgsleutel Smartcard CA", "63612d31"),  # ca-1
            ("Zorgsleutel Smartcard Root CA", "63612d32"),  # ca-2
            ("Zorgsleutel authenticatie", key["ID"]),
        ]
        with card_client.Card(blank_card.module, blank_card.label, PIN) as opened:
            on_card, _ = opened.authentication()
        assert on_card.public_bytes(serialization.Encoding.DER) == bytes(new.certificate)

        # The renewed card logs its holder in.
        client.logout()
        log_in_with_card(client, live_server, blank_card, capsys)
        assert client.session[sessions.AUTHENTICATOR] == new.public_id


def test_a_refused_renewal_deletes_the_new_key_and_the_card_works_as_before(
    client, live_server, blank_card, smartcard, every_thread, capsys, monkeypatch
):
    """The portal refuses the card's request (the holder took longer than the code lives, 10
    minutes, at the PIN prompt): the new key goes again, the old key and certificate stay."""
    monkeypatch.delenv("ZS_CARD_PIN", raising=False)
    before = objects_on(blank_card)
    with clock.frozen(smartcard.not_after - timedelta(days=59)):
        log_in_with_card(client, live_server, blank_card, capsys)
        shown = page_code(client.get(f"/mijn/smartcards/{smartcard.public_id}/vernieuwen"))

        def slow_holder(prompt: str) -> str:
            assert prompt == f"PIN of card {blank_card.label!r}: "
            clock.advance(timedelta(minutes=11))
            return PIN

        with pytest.raises(card_client.Refused) as refused:
            cardrenew.renew(
                None,
                code=shown["code"],
                server=live_server.url,
                module=blank_card.module,
                token=blank_card.label,
                ask=slow_holder,
            )
        assert refused.value.code == "unknown_challenge"
        assert capsys.readouterr().out.endswith(
            "The card keeps its current key and certificate: it works as before.\n"
        )
        assert objects_on(blank_card) == before
        smartcard.refresh_from_db()
        assert (smartcard.state, Smartcard.objects.count()) == ("active", 1)

        client.logout()
        log_in_with_card(client, live_server, blank_card, capsys)
        assert client.session[sessions.AUTHENTICATOR] == smartcard.public_id


def test_a_wrong_pin_or_a_blank_card_changes_nothing(
    client, live_server, softhsm, blank_card, smartcard, every_thread, capsys
):
    from zorgsleutel.smartcards.blankcard import make_blank_card

    make_blank_card(softhsm.softhsm, label="another blank card", transport_pin="55667788")
    before = objects_on(blank_card)
    with clock.frozen(smartcard.not_after - timedelta(days=59)):
        log_in_with_card(client, live_server, blank_card, capsys)
        shown = page_code(client.get(f"/mijn/smartcards/{smartcard.public_id}/vernieuwen"))
        renewed = run(
            "renew", "--code", shown["code"], "--server", live_server.url,
            *card_options(blank_card), "--pin", "97531864",
        )  # fmt: skip
        assert (renewed, capsys.readouterr().err) == (
            2,
            "error: Wrong card PIN; nothing was changed\n",
        )
        renewed = run(
            "renew", "--code", shown["code"], "--server", live_server.url,
            "--module", blank_card.module, "--token", "another blank card", "--pin", PIN,
        )  # fmt: skip
        assert (renewed, capsys.readouterr().err) == (
            2,
            "error: this card is not a smartcard (make one with `zorgsleutel card init`)\n",
        )
        assert objects_on(blank_card) == before
        assert client.get(shown["status"]).json() == {"status": "waiting"}
        assert Smartcard.objects.get().state == "active"


def test_a_card_not_near_its_end_and_a_code_of_another_purpose_change_nothing(
    client, live_server, blank_card, smartcard, capsys
):
    before = objects_on(blank_card)
    log_in_with_card(client, live_server, blank_card, capsys)
    page = client.get(f"/mijn/smartcards/{smartcard.public_id}/vernieuwen", follow=True)
    html = page.content.decode()
    assert "Een smartcard kunt u vernieuwen in de laatste 60 dagen van het certificaat" in html
    assert 'id="card-code"' not in html

    client.logout()
    login = page_code(client.get("/inloggen/smartcard"))
    renewed = run(
        "renew", "--code", login["code"], "--server", live_server.url, *card_options(blank_card),
        "--pin", PIN,
    )  # fmt: skip
    code = login["code"]
    assert (renewed, capsys.readouterr().err) == (
        2,
        f"error: code {code} is not for renewing a smartcard but for: log in to Zorgsleutel "
        "(answer it with `zorgsleutel card present`)\n",
    )
    assert objects_on(blank_card) == before
    # The same code still logs in with the card as it was.
    presented = run(
        "present", "--code", code, "--server", live_server.url, *card_options(blank_card),
        "--pin", PIN,
    )  # fmt: skip
    assert presented == 0, capsys.readouterr().err
    assert client.get(login["status"]).json() == {"status": "ok", "next": "/mijn"}
    assert client.session[sessions.AUTHENTICATOR] == smartcard.public_id


# --- Helpers --------------------------------------------------------------------------------------


def run(*argv: str) -> int:
    return card_client.main(list(argv))


def card_options(blank_card) -> list[str]:
    return ["--module", blank_card.module, "--token", blank_card.label]


def log_in_with_card(client, live_server, blank_card, capsys) -> None:
    login = page_code(client.get("/inloggen/smartcard"))
    presented = run(
        "present", "--code", login["code"], "--server", live_server.url, *card_options(blank_card),
        "--pin", PIN,
    )  # fmt: skip
    assert presented == 0, capsys.readouterr().err
    capsys.readouterr()
    assert client.get(login["status"]).json() == {"status": "ok", "next": "/mijn"}
    assert client.session[sessions.MEANS] == "smartcard"


def objects_on(blank_card) -> dict[str, list[dict[str, str]]]:
    """`pkcs11-tool --list-objects` with the PIN: each kind of object, the fields of each."""
    listing = subprocess.run(
        [
            require_binary("pkcs11-tool"), "--module", blank_card.module,
            "--token-label", blank_card.label, "--list-objects", "--login", "--pin", PIN,
        ],
        env={**os.environ, "SOFTHSM2_CONF": str(blank_card.conf)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip
    found: dict[str, list[dict[str, str]]] = {}
    for block in re.split(r"\n(?=\S)", listing.strip()):
        head, *lines = block.splitlines()
        fields = dict(line.strip().split(":", 1) for line in lines if ":" in line)
        found.setdefault(head.strip(), []).append({k: v.strip() for k, v in fields.items()})
    return found
