"""The portal shell in a real browser: Dutch home page, English switch, the dev mailbox."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_home_page_in_dutch_then_english(page):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "nl"
    assert page.get_by_role("heading", level=1).inner_text() == "Welkom bij Zorgsleutel"
    page.get_by_role("button", name="English").click()
    page.wait_for_url("**/")
    page.check()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome to Zorgsleutel"
    page.get_by_role("button", name="Nederlands").click()
    page.check()
    assert page.get_by_role("heading", level=1).inner_text() == "Welkom bij Zorgsleutel"


def test_dev_mailbox_shows_a_mail_sent_by_a_test_action(page, run_worker, vault_service):
    call_command("mail", "send-test", "anna@demozorg.nl")
    run_worker()
    sent = vault_service.enrol(phone="06 3333 4455")
    page.goto("/dev/mailbox")
    rows = page.locator("tr.entry")
    assert rows.count() >= 2
    mail = page.locator("tr.entry-mail").first
    assert "anna@demozorg.nl" in mail.inner_text()
    assert "Zorgsleutel-testbericht" in mail.inner_text()
    sms = page.locator("tr.entry-sms", has_text=sent.hint).first
    assert "06 •• •• •• 55" in sms.inner_text() and "33334455" not in page.content()


def test_keyboard_users_can_skip_to_the_content(page):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Naar de inhoud")
    assert skip.evaluate("element => element === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_url("**/#main", timeout=5000)  # the jump is not always done when Enter returns
    assert page.url.endswith("#main")
