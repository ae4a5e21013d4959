"""End to end through the portal: a care worker's blank SoftHSM2 card becomes their smartcard with
`zorgsleutel card init` against the portal's card API on a live server, and logs them in with
`zorgsleutel card present`."""

from __future__ import annotations

import os
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from smartcardwork import page_code
from support import require_binary
from zorgsleutel.authn import sessions
from zorgsleutel.clients import card as card_client
from zorgsleutel.smartcards.models import Smartcard

PIN = "13572468"

# The card's answers reach the waiting page after their commit; the live server needs them too.
pytestmark = pytest.mark.django_db(transaction=True)


def card_options(blank_card) -> list[str]:
    return ["--module", blank_card.module, "--token", blank_card.label]


def test_a_blank_card_becomes_a_smartcard_through_the_portal_and_logs_in(
    client, login_as, live_server, portal_ca, care, blank_card, capsys, tmp_path
):
    care.shipped(blank_card.serial.upper())
    login_as(client, care.admin)
    membership = care.member.memberships.get()
    beheer = f"/beheer/{care.org.public_id}/leden/{membership.pk}/smartcards"
    assert client.post(beheer, {"action": "confirm_identity", "seen": "yes"}).status_code == 302
    login_as(client, care.member, acr="low")
    shown = page_code(client.get("/mijn/smartcards/aanmaken"))

    made = client_main(
        "init", "--code", shown["code"], "--server", live_server.url, *card_options(blank_card),
        "--transport-pin", "11223344", "--pin", PIN,
    )  # fmt: skip
    out = capsys.readouterr()
    assert made == 0, out.err
    assert "asks to make a smartcard: " in out.out
    assert client.get(shown["status"]).json() == {"status": "ok", "next": "/mijn/smartcards"}

    issued = Smartcard.objects.get()
    assert (issued.user, issued.organisation, issued.state, issued.card_serial) == (
        care.member,
        care.org,
        "active",
        blank_card.serial.upper(),
    )
    with card_client.Card(blank_card.module, blank_card.label, PIN) as opened:
        certificate, _ = opened.authentication()
        chain = opened.ca_certificates()
    assert certificate.public_bytes(serialization.Encoding.DER) == bytes(issued.certificate)
    assert certificate.fingerprint(hashes.SHA256()).hex() == issued.fingerprint
    subjects = sorted(c.subject.rfc4514_string() for c in chain)
    assert subjects == [
        "CN=Zorgsleutel Smartcard CA,O=Zorgsleutel,C=NL",
        "CN=Zorgsleutel Smartcard Root CA,O=Zorgsleutel,C=NL",
    ]

    # The certificate on the card passes openssl's strict check against the chain on the card.
    (root,) = [c for c in chain if c.subject == c.issuer]
    (issuing,) = [c for c in chain if c.subject != c.issuer]
    for name, item in (("leaf", certificate), ("issuing", issuing), ("root", root)):
        (tmp_path / f"{name}.pem").write_bytes(item.public_bytes(serialization.Encoding.PEM))
    verified = subprocess.run(
        [
            *("openssl", "verify", "-x509_strict", "-purpose", "sslclient"),
            *("-CAfile", tmp_path / "root.pem", "-untrusted", tmp_path / "issuing.pem"),
            tmp_path / "leaf.pem",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert verified.stdout.strip() == f"{tmp_path / 'leaf.pem'}: OK"

    # Its key is on the card, sensitive and never extractable.
    objects = subprocess.run(
        [
            require_binary("pkcs11-tool"), "--module", blank_card.module,
            "--token-label", blank_card.label, "--list-objects", "--login", "--pin", PIN,
        ],
        env={**os.environ, "SOFTHSM2_CONF": str(blank_card.conf)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout  # fmt: skip
    private = objects[objects.index("Private Key Object; EC") :]
    assert "Access:     sensitive, always sensitive, never extractable, local\n" in private

    # The holder logs in with it, through the card client, as with a UZI card.
    client.logout()
    login = page_code(client.get("/inloggen/smartcard"))
    presented = client_main(
        "present", "--code", login["code"], "--server", live_server.url, *card_options(blank_card),
        "--pin", PIN,
    )  # fmt: skip
    assert presented == 0, capsys.readouterr().err
    assert client.get(login["status"]).json() == {"status": "ok", "next": "/mijn"}
    session = client.session
    assert (session[sessions.ACR], session[sessions.AMR], session[sessions.MEANS]) == (
        "high",
        ["sc", "hwk", "pin"],
        "smartcard",
    )
    assert session[sessions.AUTHENTICATOR] == issued.public_id
    assert x509.load_der_x509_certificate(bytes(issued.certificate)) == certificate


def client_main(*argv: str) -> int:
    return card_client.main(list(argv))
