"""Seed 000 in a real browser, section by section, reading mails and SMS from the dev mailbox.

*Een nieuwe gebruiker aanmaken* (with an expired link and a resend), *Uw mobiele telefoonnummer
instellen*, *Inloggen met SMS-code*, *Mobiel telefoonnummer opnieuw instellen / Wachtwoord
vergeten*.
"""

from __future__ import annotations

import re

import pytest

from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core import clock
from zorgsleutel.organisations.models import Organisation

from .lookpages import at_both_widths

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "Beheerder-wachtwoord-2026"


def _unique_number(last_two: str) -> str:
    import os

    return f"06 5{int.from_bytes(os.urandom(3)) % 100_000:05d}{last_two}"


@pytest.fixture
def business(vault_service):
    """Seed 000's portal: a business customer with a manager whose phone is set."""
    organisation = Organisation.objects.create(
        name="HollandZorg Zakelijk", kind=Organisation.BUSINESS, kvk_number="87654321"
    )
    manager = User.objects.create(
        email="beheerder@hollandzorg-zakelijk.nl", name="Bea Beheer", state=User.ACTIVE
    )
    manager.set_password(PASSWORD)
    sent = vault_service.enrol(phone=_unique_number("11"))
    body = next(m["body"] for m in vault_service.dev_sms() if m["to"] == sent.hint)
    vault_service.verify(challenge=sent.challenge, code=re.search(r"\d{6}", body).group(0))
    manager.phone_enrolment = sent.enrolment
    manager.save()
    Membership.objects.create(user=manager, organisation=organisation, role="manager")
    return organisation


class Mailbox:
    """Reads the dev mailbox in its own tab, as a developer reads their phone and inbox."""

    def __init__(self, page):
        self.tab = page.context.new_page()
        self.base = page.base_url

    def link_for(self, email: str) -> str:
        self.tab.goto(self.base + "/dev/mailbox")
        row = self.tab.locator("tr.entry-mail", has_text=email).first
        return row.locator("ul.links a").first.get_attribute("href")

    def code_for(self, hint: str) -> str:
        self.tab.goto(self.base + "/dev/mailbox")
        text = self.tab.locator("tr.entry-sms", has_text=hint).first.inner_text()
        return re.search(r"\b(\d{6})\b", text).group(1)


def _log_in(page, mailbox, email, password, hint, *, look: str = ""):
    page.goto("/inloggen")
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(password)
    page.get_by_role("button", name="Inloggen").click()
    page.check()
    assert hint in page.content()
    if look:
        at_both_widths(page, look)
    page.get_by_label("Sms-code").fill(mailbox.code_for(hint))
    page.get_by_role("button", name="Controleren").click()
    page.check()
    assert page.get_by_role("heading", level=1).inner_text() == "Mijn Zorgsleutel"


def _set_password_and_phone(page, mailbox, link, password, number, *, look: str = ""):
    page.goto(link)
    if look:
        at_both_widths(page, look)
    page.get_by_label("Nieuw wachtwoord", exact=True).fill(password)
    page.get_by_label("Nieuw wachtwoord (herhalen)").fill(password)
    page.get_by_label("Mobiel telefoonnummer").fill(number)
    page.get_by_role("button", name="Bevestigen").click()
    page.check()
    hint = f"06 •• •• •• {number[-2:]}"
    assert hint in page.content()
    if look:
        at_both_widths(page, f"{look}-code")
    page.get_by_label("Sms-code").fill(mailbox.code_for(hint))
    page.get_by_role("button", name="Controleren").click()
    page.check()  # saved, and logged in by that code: no second SMS to log in


def _log_out(page):
    page.get_by_role("button", name="Uitloggen").click()
    page.check()


def test_een_nieuwe_gebruiker_aanmaken_and_uw_telefoonnummer_instellen(
    page, browser_page, business
):
    mailbox = Mailbox(page)
    _log_in(page, mailbox, "beheerder@hollandzorg-zakelijk.nl", PASSWORD, "06 •• •• •• 11")

    # 1. Beheer → Nieuwe gebruiker, business e-mail, a role, save.
    page.get_by_role("link", name="Beheer").click()
    page.check()
    page.get_by_role("link", name="Nieuwe gebruiker").click()
    page.check()
    page.get_by_label("Naam").fill("Gert Gebruiker")
    page.get_by_label("Zakelijk e-mailadres").fill("gert@gmail.com")
    page.get_by_role("button", name="Opslaan").click()
    page.check()
    assert "zakelijk e-mailadres" in page.locator(".utrecht-form-field-error-message").inner_text()
    page.get_by_label("Zakelijk e-mailadres").fill("gert@hollandzorg-zakelijk.nl")
    page.get_by_role("button", name="Opslaan").click()
    page.check()
    row = page.locator("tr.member", has_text="gert@hollandzorg-zakelijk.nl")
    assert "uitgenodigd" in row.inner_text()

    # 2-3. The activation mail; the link expires; the manager sends a new one.
    first_link = mailbox.link_for("gert@hollandzorg-zakelijk.nl")
    LinkToken.objects.update(expires_at=clock.now().replace(year=2020))
    page.reload()
    row = page.locator("tr.member", has_text="gert@hollandzorg-zakelijk.nl")
    assert "link verlopen" in row.inner_text()
    row.get_by_role("button", name="Nieuwe activatielink sturen").click()
    page.check()
    assert "nieuwe activatielink" in page.locator(".messages").inner_text().lower()
    new_link = mailbox.link_for("gert@hollandzorg-zakelijk.nl")
    assert new_link != first_link

    # 4-7. The user opens the link, sets password and phone, confirms with the SMS code.
    user_page = browser_page()
    number = _unique_number("22")
    _set_password_and_phone(
        user_page,
        mailbox,
        new_link,
        "Gebruiker-wachtwoord-2026",
        number,
        look="new-user-activation",
    )
    assert user_page.get_by_role("heading", level=1).inner_text() == "Mijn Zorgsleutel"
    assert (
        "Voortaan logt u in met uw wachtwoord en een sms-code"
        in user_page.locator(".messages").inner_text()
    )
    page.reload()
    assert (
        "actief" in page.locator("tr.member", has_text="gert@hollandzorg-zakelijk.nl").inner_text()
    )

    # Inloggen met SMS-code: the new user logs out, then in again.
    _log_out(user_page)
    _log_in(
        user_page,
        mailbox,
        "gert@hollandzorg-zakelijk.nl",
        "Gebruiker-wachtwoord-2026",
        f"06 •• •• •• {number[-2:]}",
        look="worker-login-code",
    )


def test_wachtwoord_vergeten_then_log_in_on_the_new_number(page, business, run_worker):
    mailbox = Mailbox(page)
    page.goto("/inloggen")
    page.get_by_role("link", name="Wachtwoord vergeten").click()
    page.check()
    page.get_by_label("E-mailadres").fill("beheerder@hollandzorg-zakelijk.nl")
    page.get_by_role("button", name="Versturen").click()
    page.check()
    assert page.get_by_role("heading", level=1).inner_text() == "Controleer uw e-mail"
    run_worker()  # as `make run`'s worker does: looks the address up, mails the link
    link = mailbox.link_for("beheerder@hollandzorg-zakelijk.nl")
    number = _unique_number("33")
    _set_password_and_phone(
        page, mailbox, link, "Nieuw-beheer-wachtwoord-2026", number, look="visitor-reset"
    )
    assert page.get_by_role("heading", level=1).inner_text() == "Mijn Zorgsleutel"
    assert "op uw nieuwe nummer" in page.locator(".messages").inner_text()
    _log_out(page)
    _log_in(
        page,
        mailbox,
        "beheerder@hollandzorg-zakelijk.nl",
        "Nieuw-beheer-wachtwoord-2026",
        "06 •• •• •• 33",
    )
