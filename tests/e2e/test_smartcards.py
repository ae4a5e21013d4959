"""Seed 003's *Aanmaken gebruiker ZORG-ID Smartcard* in Chromium, with real cards on SoftHSM2: a
care worker proves who they are with their UZI card, makes a smartcard of a blank card with
`zorgsleutel card init`, logs in with it (acr high); their manager blocks it (the login is
refused, OCSP says revoked/certificateHold with and without a nonce, the CRL lists it),
unblocks it (good again) and deletes it (revoked for good). The relying party's side is
`openssl ocsp` and `openssl crl`; the card's key is checked with `pkcs11-tool`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from support import require_binary
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.smartcards.blankcard import make_blank_card
from zorgsleutel.smartcards.models import Smartcard

from .browsersession import logged_in
from .lookpages import at_both_widths

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ZORGSLEUTEL = str(Path(sys.executable).with_name("zorgsleutel"))
TRANSPORT, PIN = "87654321", "24682468"


def card_client(softhsm, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SOFTHSM2_CONF": str(softhsm.conf)}
    return subprocess.run(
        [ZORGSLEUTEL, "card", *args, "--module", softhsm.module],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def ocsp(tmp_path, server: str, certificate: Path, chain: dict, *, nonce: bool) -> str:
    """`openssl ocsp` as a relying party asks the portal's responder: its verdict."""
    result = subprocess.run(
        [
            "openssl", "ocsp", "-issuer", chain["issuing"], "-cert", certificate,
            "-url", server + "/smartcards/ocsp", "-CAfile", chain["root"],
            "-verify_other", chain["issuing"], *([] if nonce else ["-no_nonce"]),
        ],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert "Response verify OK" in result.stderr, result.stderr
    return result.stdout


def crl_text(server: str, chain: dict, tmp_path) -> str:
    der = urllib.request.urlopen(server + "/smartcards/ca.crl", timeout=10).read()
    (tmp_path / "ca.crl").write_bytes(der)
    result = subprocess.run(
        ["openssl", "crl", "-inform", "DER", "-in", tmp_path / "ca.crl", "-CAfile",
         chain["chain"], "-noout", "-text"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "verify OK" in result.stderr, result.stderr
    return result.stdout


def log_in_with_card(browser_page, softhsm, label: str, *, look: str = "") -> tuple:
    """A fresh browser on *Inloggen met smartcard*, the card client presenting the card."""
    page = browser_page()
    page.goto("/inloggen/smartcard")
    assert page.get_by_role("heading", level=1).inner_text() == "Inloggen met smartcard"
    if look:
        at_both_widths(page, look)
    code = page.locator("#card-code").inner_text()
    # The QR code is made only when asked for (smartcards/views.py), then shown on the page.
    qr = page.locator("details.qr-later img")
    assert qr.get_attribute("src") is None
    page.get_by_text("QR-code tonen").click()
    # Waited for through the image itself: the page's CSP allows no string evaluated as script.
    from playwright.sync_api import expect

    expect(qr).to_have_js_property("naturalWidth", 225)
    result = card_client(softhsm, "present", "--server", page.base_url, "--code", code,
                         "--token", label, "--pin", PIN)  # fmt: skip
    return page, result


def test_a_care_worker_makes_a_smartcard_logs_in_and_the_manager_blocks_it(
    browser_page,
    live_server,
    portal_ca,
    care,
    softhsm,
    uzi_trust_settings,
    tmp_path,
):
    require_binary("pkcs11-tool", "/usr/bin/pkcs11-tool")
    uzi = softhsm.make_card(
        label="UZI-pas Carla", ura=care.org.ura, uzi_number="900077001", name="Carla Zorg"
    )
    blank_label = "Lege smartcard Carla"
    serial = make_blank_card(softhsm.softhsm, label=blank_label, transport_pin=TRANSPORT)
    care.shipped(serial.upper())

    # Mijn Zorgsleutel → Smartcard aanmaken: first the UZI card, then the blank card.
    page = browser_page()
    logged_in(page, care.member, acr="low")
    page.goto("/mijn/smartcards")
    page.get_by_role("link", name="Smartcard aanmaken").first.click()
    page.check()
    assert "Laat eerst zien wie u bent, op een van twee manieren:" in page.content()
    at_both_widths(page, "worker-smartcard-proof")
    code = page.locator("#card-code").inner_text()
    shown = card_client(softhsm, "present", "--server", page.base_url, "--code", code,
                        "--token", uzi.token_label, "--pin", uzi.pin)  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    page.wait_for_url(re.compile(r".*/mijn/smartcards/aanmaken\?lid=\d+$"), timeout=10000)
    page.check()
    assert "U hebt met uw UZI-pas (900077001) laten zien wie u bent." in page.content()
    at_both_widths(page, "worker-smartcard-make")
    code = page.locator("#card-code").inner_text()
    made = card_client(softhsm, "init", "--server", page.base_url, "--code", code,
                       "--token", blank_label, "--transport-pin", TRANSPORT,
                       "--pin", PIN)  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert made.stdout.count("PUK") >= 1
    page.wait_for_url("**/mijn/smartcards", timeout=10000)
    page.check()
    assert "Uw smartcard is klaar. Voortaan kunt u ermee inloggen." in page.content()
    assert serial.upper() in page.content()
    card = Smartcard.objects.get()
    assert (card.route, card.uzi_number, card.state) == ("uzi", "900077001", "active")

    # The key is on the card, sensitive and never extractable; the certificate chains.
    objects = subprocess.run(
        ["pkcs11-tool", "--module", softhsm.module, "--token-label", blank_label,
         "--login", "--pin", PIN, "--list-objects", "--type", "privkey"],
        env={**os.environ, "SOFTHSM2_CONF": str(softhsm.conf)},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert "Access:     sensitive, always sensitive, never extractable, local" in objects.stdout
    chain = {}
    for name, certificate in portal_ca["certificates"].items():
        chain[name] = tmp_path / f"{name}.pem"
        chain[name].write_text(_pem(certificate))
    chain["chain"] = tmp_path / "chain.pem"
    chain["chain"].write_text(chain["issuing"].read_text() + chain["root"].read_text())
    leaf = tmp_path / "card.pem"
    leaf.write_text(_pem_der(bytes(card.certificate)))
    verified = subprocess.run(
        ["openssl", "verify", "-x509_strict", "-purpose", "sslclient", "-CAfile", chain["root"],
         "-untrusted", chain["issuing"], leaf],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert verified.stdout.strip() == f"{leaf}: OK", verified.stderr

    # Inloggen met smartcard.
    holder, result = log_in_with_card(browser_page, softhsm, blank_label, look="visitor-smartcard")
    assert result.returncode == 0, result.stderr
    holder.wait_for_url("**/mijn", timeout=10000)
    holder.check()
    login = AuditEvent.objects.filter(action="login.succeeded").latest("seq")
    assert (login.details["acr"], login.details["amr"]) == ("high", ["sc", "hwk", "pin"])
    server = live_server.url
    for nonce in (True, False):
        assert f"{leaf}: good" in ocsp(tmp_path, server, leaf, chain, nonce=nonce)

    # The manager blocks it: the login is refused, OCSP and the CRL say certificateHold.
    manager = browser_page()
    logged_in(manager, care.manager, acr="substantial")
    membership = care.member.memberships.get()
    manager.goto(f"/beheer/{care.org.public_id}/leden/{membership.pk}/smartcards")
    at_both_widths(manager, "manager-member-smartcards")
    manager.get_by_role("button", name="Blokkeren").click()
    manager.check()  # asks first, naming the card and its holder
    manager.get_by_role("button", name="Blokkeren").click()
    manager.check()
    assert f"Smartcard {card.card_serial} van Carla Zorg is geblokkeerd" in manager.content()
    refused_page, refused = log_in_with_card(browser_page, softhsm, blank_label)
    assert refused.returncode == 1
    assert "smartcard_blocked" in refused.stdout + refused.stderr
    refused_page.wait_for_selector("text=Deze smartcard is geblokkeerd.", timeout=10000)
    for nonce in (True, False):
        answer = ocsp(tmp_path, server, leaf, chain, nonce=nonce)
        assert f"{leaf}: revoked" in answer
        assert "Reason: certificateHold" in answer
    listed = crl_text(server, chain, tmp_path)
    assert f"Serial Number: {_openssl_serial(card.serial)}" in listed
    assert "Certificate Hold" in listed

    # Unblocked: logs in again, OCSP good.
    manager.get_by_role("button", name="Deblokkeren").click()
    manager.check()
    manager.get_by_role("button", name="Deblokkeren").click()
    manager.check()
    again, result = log_in_with_card(browser_page, softhsm, blank_label)
    assert result.returncode == 0, result.stderr
    again.wait_for_url("**/mijn", timeout=10000)
    assert f"{leaf}: good" in ocsp(tmp_path, server, leaf, chain, nonce=True)

    # Deleted: revoked for good.
    manager.get_by_role("button", name="Verwijderen").click()
    manager.check()
    manager.get_by_role("button", name="Verwijderen").click()
    manager.check()
    card.refresh_from_db()
    assert (card.state, card.revocation_reason) == ("revoked", "cessation_of_operation")
    answer = ocsp(tmp_path, server, leaf, chain, nonce=False)
    assert f"{leaf}: revoked" in answer and "Reason: cessationOfOperation" in answer
    _page, refused = log_in_with_card(browser_page, softhsm, blank_label)
    assert refused.returncode == 1
    assert "smartcard_revoked" in refused.stdout + refused.stderr


def _pem(certificate) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return certificate.public_bytes(Encoding.PEM).decode()


def _pem_der(der: bytes) -> str:
    from cryptography import x509

    return _pem(x509.load_der_x509_certificate(der))


def _openssl_serial(hex_serial: str) -> str:
    """A serial as `openssl crl -text` prints it: upper-case hex in whole bytes."""
    text = hex_serial.upper()
    return text if len(text) % 2 == 0 else "0" + text
