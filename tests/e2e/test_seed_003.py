"""Seed 003 in a real browser, step by step: *Stap 2 Aanvraagformulier invullen* → the mail with
the application → the operator approves → the mail with the confirmation → *Stap 5 Organisatie
valideren* with a SoftHSM2 test UZI card through the card client → app enrolment → *Stap 6* log
in as administrator with the app by QR, landing on *Aan de slag* → appoint a beheerder from there
→ the beheerder activates, links the app, logs in, and blocks, unblocks and deletes a member. The
step plan above the pages follows the application: its current step is read on the way.

Mails and SMS codes are read from the dev mailbox; the card client runs as its own process
(`zorgsleutel card present`) against a PKCS#11 token; the "phone" is the reference app client
reading QR codes from screenshots.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from applicants import approved_application
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.clients import app as phone
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.organisations.models import Application, Organisation

from .browsersession import logged_in
from .lookpages import at_both_widths
from .test_app import _screenshot
from .test_seed_000 import Mailbox, _set_password_and_phone, _unique_number

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

URA, UZI = "90000382", "900016528"
ZORGSLEUTEL = str(Path(sys.executable).with_name("zorgsleutel"))


@pytest.fixture
def uzi_card(softhsm, uzi_trust_settings):
    """Jan's UZI-zorgverlenerspas (pas type Z, URA 90000382) on a SoftHSM2 token."""
    return softhsm.make_card(label="UZI-pas Jan", ura=URA, uzi_number=UZI, name="Jan Arts")


@pytest.fixture
def operator(db):
    return User.objects.create(
        email="operator@zorgsleutel.test", name="Olga Operator", state=User.ACTIVE, is_operator=True
    )


def present_card(card, server: str, code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **card.env, "ZS_CARD_PIN": card.pin}
    return subprocess.run(
        [
            *(ZORGSLEUTEL, "card", "present", "--server", server, "--code", code),
            *("--module", card.module, "--token", card.token_label),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_register_validate_and_manage_a_care_provider(
    page, browser_page, operator, uzi_card, tmp_path
):
    mailbox = Mailbox(page)

    # Stap 1 Voorbereiding, then Stap 2 Aanvraagformulier invullen.
    page.goto("/")
    page.get_by_role("link", name="Organisatie aanmelden").first.click()
    page.check()
    assert "Lees eerst het stappenplan volledig door" in page.content()
    page.get_by_role("link", name="Stap 2: Aanvraagformulier invullen").click()
    page.check()
    assert page.get_by_role("heading", level=1).inner_text() == "Stap 2 Aanvraagformulier invullen"
    fields = {
        "Naam van de organisatie": "Huisartsenpraktijk De Linde",
        "KvK-nummer": "12345678",
        "URA (UZI-register abonneenummer)": "9000038",  # one digit short, first
        "Straat en huisnummer": "Lindelaan 1",
        "Postcode": "3511 AB",
        "Plaats": "Utrecht",
        "Uw naam": "Jan Arts",
        "Uw zakelijk e-mailadres": "jan@delinde.nl",
        "Uw UZI-nummer": UZI,
    }
    for label, value in fields.items():
        page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Aanvraag indienen").click()
    page.check()
    assert (
        "URA bestaat uit 8 cijfers"
        in page.locator(".utrecht-form-field-error-message").inner_text()
    )
    page.get_by_label("URA (UZI-register abonneenummer)", exact=True).fill(URA)
    page.get_by_role("checkbox").check()
    page.get_by_role("button", name="Aanvraag indienen").click()
    page.check()
    assert "U ontvangt een e-mail met de aanvraag" in page.content()
    at_both_widths(page, "visitor-applied")
    # Submitted: step 2 is done, and the applicant installs the app while the operator reviews.
    current = page.locator(".zs-steps [aria-current=step]").text_content()
    assert " ".join(current.split()) == ("Stap 3 Zorgsleutel-app installeren (huidige stap)")
    mailbox.tab.goto(page.base_url + "/dev/mailbox")
    application_mail = mailbox.tab.locator("tr.entry-mail", has_text="jan@delinde.nl").first
    assert URA in application_mail.inner_text()

    # The operator approves in the Operatorconsole.
    console = browser_page()
    logged_in(console, operator, acr="substantial")  # operators log in with the app
    console.goto("/operator/")
    console.get_by_role("link", name="Huisartsenpraktijk De Linde").click()
    console.check()
    console.get_by_role("button", name="Goedkeuren").click()
    console.check()  # the console asks first, naming the organisation
    assert (
        "De aanvraag van Huisartsenpraktijk De Linde goedkeuren?"
        in console.get_by_role("heading", level=1).inner_text()
    )
    assert Application.objects.get().state == Application.SUBMITTED
    console.get_by_role("button", name="Goedkeuren").click()
    console.check()
    assert Application.objects.get().state == Application.APPROVED

    # The confirmation mail; Stap 5 Organisatie valideren with the UZI card.
    page.goto(mailbox.link_for("jan@delinde.nl"))
    page.check()
    assert "Stap 5 Organisatie valideren" in page.get_by_role("heading", level=1).inner_text()
    at_both_widths(page, "visitor-validate")
    assert "Stap 5" in page.locator(".zs-steps [aria-current=step]").text_content()
    code = page.locator("#card-code").inner_text()
    result = present_card(uzi_card, page.base_url, code)
    assert result.returncode == 0, result.stderr
    page.wait_for_url("**/app", timeout=5000)  # by itself, once the card has answered
    page.check()
    waits_on = page.locator("[data-status-url]").get_attribute("data-status-url")
    assert waits_on.startswith("/wachten/en_")  # the enrolment's challenge, like every QR code

    # Link the app (Stap 4's app, scanned from the screen) and go to Stap 6.
    state = phone.State(tmp_path / "jan.json")
    phone.enrol(
        _screenshot(page, tmp_path, "enrol"),
        state=state,
        pin="123456",
        yes=True,
        name="Telefoon van Jan",
        out=io.StringIO(),
    )
    page.wait_for_url("**/organisatie/gevalideerd", timeout=5000)
    page.check()
    assert "Stap 6" in page.get_by_role("heading", level=1).inner_text()
    organisation = Organisation.objects.get(ura=URA)
    assert organisation.state == "validated"

    # Stap 6: log in as administrator with the app by scanning the QR code; a new
    # administrator lands on Aan de slag.
    page.get_by_role("link", name="Inloggen met de Zorgsleutel-app").first.click()
    page.check()
    phone.login(
        _screenshot(page, tmp_path, "login"), state=state, pin="123456", yes=True, out=io.StringIO()
    )
    page.wait_for_url("**/aan-de-slag", timeout=5000)
    page.check()
    assert page.get_by_role("heading", level=1).inner_text() == "Aan de slag"

    # Appoint a beheerder: from Aan de slag to Nieuwe gebruiker, the role beheerder chosen.
    worker = User.objects.create(email="wim@delinde.nl", name="Wim Werker", state=User.ACTIVE)
    Membership.objects.create(user=worker, organisation=organisation, role="member")
    page.locator("#next-manager").get_by_role("link", name="Wijs een beheerder aan").click()
    page.check()
    assert page.get_by_label("Rol").input_value() == "manager"
    page.get_by_label("Naam").fill("Bea Beheer")
    page.get_by_label("Zakelijk e-mailadres").fill("bea@delinde.nl")
    page.get_by_role("button", name="Opslaan").click()
    page.check()
    assert Membership.objects.get(user__email="bea@delinde.nl").role == "manager"

    # The beheerder activates (password, phone, SMS code): logged in by that code, at the SMS
    # level, they must link the app first.
    bea = browser_page()
    number = _unique_number("33")
    _set_password_and_phone(
        bea, mailbox, mailbox.link_for("bea@delinde.nl"), "Beheerder-wachtwoord-2026", number
    )
    bea.wait_for_url("**/mijn/app-koppelen", timeout=5000)
    bea.check()
    bea_phone = phone.State(tmp_path / "bea.json")
    phone.enrol(
        _screenshot(bea, tmp_path, "bea-enrol"),
        state=bea_phone,
        pin="654321",
        yes=True,
        name="Telefoon van Bea",
        out=io.StringIO(),
    )
    bea.wait_for_url("**/inloggen/app", timeout=5000)
    phone.login(
        _screenshot(bea, tmp_path, "bea-login"),
        state=bea_phone,
        pin="654321",
        yes=True,
        out=io.StringIO(),
    )
    bea.wait_for_url("**/mijn", timeout=5000)

    # The beheerder blocks, unblocks and deletes a member.
    bea.get_by_role("link", name="Beheer").click()
    bea.check()
    row = bea.locator("tr.member", has_text="wim@delinde.nl")
    row.get_by_role("link", name="Blokkeren").click()
    bea.check()  # asks first, naming the person
    bea.get_by_role("button", name="Blokkeren").click()
    bea.check()
    assert Membership.objects.get(user=worker).state == "blocked"  # the account stays the person's
    assert User.objects.get(pk=worker.pk).state == User.ACTIVE
    bea.locator("tr.member", has_text="wim@delinde.nl").get_by_role(
        "button", name="Deblokkeren"
    ).click()
    bea.check()
    assert Membership.objects.get(user=worker).state == "active"
    bea.locator("tr.member", has_text="wim@delinde.nl").get_by_role(
        "link", name="Verwijderen"
    ).click()
    bea.check()
    bea.get_by_role("button", name="Verwijderen").click()
    bea.check()
    assert not Membership.objects.filter(user=worker).exists()
    # A beheerder manages care workers, not the administrator (the flows refuse it too).
    jan_row = bea.locator("tr.member", has_text="jan@delinde.nl")
    assert jan_row.get_by_role("link", name="Blokkeren").count() == 0


def test_validate_through_nginx_with_a_tls_client_certificate(
    chromium,
    live_server,
    nginx_proxy,
    settings,
    monkeypatch,
    uzi_test_ca,
    uzi_trust_settings,
    tmp_path,
):
    """Stap 5 the other way: the browser presents the UZI card's certificate to nginx on the
    UZI host (a page naming the purpose, its button POSTs); the portal trusts the header only
    from the proxy, and answers only when this browser comes back with the one-time value (its
    form sends itself) and verifies the chain itself."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from proxy.nginx import trust_test_origins
    from proxy.pki import client_identity
    from zorgsleutel.uzi import testca

    from .conftest import AccessiblePage

    proxy = nginx_proxy(live_server.url)
    settings.DEBUG = True
    settings.SITE_URL = proxy.portal_url
    settings.UZI_TLS_URL = proxy.uzi_url
    settings.UZI_TRUSTED_PROXIES = ["127.0.0.1"]
    trust_test_origins(proxy, settings, monkeypatch)  # the test's ports in the Origin
    application, link = approved_application(
        organisation_name="Apotheek De Brug", applicant_email="jan@debrug.nl"
    )

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    certificate = testca.issue_card_certificate(
        key.public_key(), ca=uzi_test_ca.hierarchy.zorgverlener, ura=URA, uzi_number=UZI
    )
    card = client_identity(tmp_path, "uzi-card", certificate, key)
    context = chromium.new_context(
        locale="nl-NL",
        ignore_https_errors=True,  # the test server CA; see DEPENDENCY-NOTES
        client_certificates=proxy.playwright_client_certificates(card),
    )
    try:
        page = AccessiblePage(context.new_page(), proxy.portal_url)
        response = page.goto(link)
        assert response.status == 200  # a 503 would be Playwright's own proxy
        assert link.startswith(proxy.portal_url)
        page.get_by_role("link", name="Valideren met mijn UZI-pas in deze browser").click()
        # On the UZI host: what presenting the card does, then the button (a GET never answers).
        page.wait_for_url(proxy.uzi_url + "/uzi/tls/**")
        assert "Apotheek De Brug (URA" in page.locator("#tls-purpose").inner_text()
        page.check()
        page.get_by_role("button", name="Mijn UZI-pas aanbieden").click()
        # The TLS handshake with a client certificate goes through Playwright's own proxy, then
        # the page polls for the verdict: under a full suite's load 10 s was sometimes too short
        # (no error on the server side in those runs).
        page.wait_for_url("**/app", timeout=30000)
        page.check()
        assert page.url.startswith(proxy.portal_url)
    finally:
        context.close()
    application.refresh_from_db()
    assert application.state == Application.VALIDATED
    validated = AuditEvent.objects.get(action="organisation.validated")
    assert validated.details["means"] == "tls"
