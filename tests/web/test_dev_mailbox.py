"""The dev mailbox: mails and SMS newest first, masked numbers, DEBUG only."""

from __future__ import annotations

import re

import pytest

from zorgsleutel.messaging import outbox


@pytest.fixture
def debug(settings):
    settings.DEBUG = True


@pytest.mark.django_db
def test_lists_mails_and_sms_newest_first_with_masked_numbers(client, debug, vault_service):
    sent = vault_service.enrol(phone="0612345678", locale="nl")
    outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={})
    response = client.get("/dev/mailbox.json")
    assert response.status_code == 200
    messages = response.json()["messages"]
    mail = next(m for m in messages if m["kind"] == "mail")
    sms = next(m for m in messages if m["kind"] == "sms" and m["to"] == sent.hint)
    assert set(mail) >= {"kind", "to", "subject", "body", "links", "sent_at"}
    assert mail["to"] == "anna@demozorg.nl" and mail["subject"] == "Zorgsleutel-testbericht"
    assert sms["to"] == "06 •• •• •• 78" and "12345678" not in response.content.decode()
    assert messages.index(mail) < messages.index(sms)  # newest first
    page = client.get("/dev/mailbox").content.decode()
    assert "anna@demozorg.nl" in page and "06 •• •• •• 78" in page


@pytest.mark.django_db
def test_links_in_mails_are_listed(client, debug, settings):
    from zorgsleutel.devtools.mailbox import LINK

    assert LINK.findall("Open https://portal.example.nl/activeren/abc?x=1 nu.") == [
        "https://portal.example.nl/activeren/abc?x=1"
    ]


@pytest.mark.django_db
def test_gone_when_debug_is_off(client, settings):
    settings.DEBUG = False
    assert client.get("/dev/mailbox").status_code == 404
    assert client.get("/dev/mailbox.json").status_code == 404


NOTICE = (
    "De sms-codes en e-mails hieronder zijn voor de demopersonen, niet voor u: de demo-accounts "
    "die make run toonde, elk met een eigen demo-telefoonnummer. Gebruik ze om het portaal uit "
    "te proberen als een van die personen: log in met een demo-account en de sms-code, activeer "
    "een account of stel een nieuw wachtwoord in met de link uit de e-mail, of open de "
    "validatielink van de demo-aanvraag. Met de ontwikkelinstellingen verlaat niets hiervan deze "
    "computer."
)


@pytest.mark.django_db
def test_the_mailbox_first_says_whose_messages_these_are(client, debug, vault_service):
    """A newcomer opens the mailbox to ten demo SMS codes: the page says first that they are
    the demo people's, and what they are for."""
    outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={})
    page = client.get("/dev/mailbox").content.decode()
    first = (
        r'<h1>Ontwikkelpostvak</h1>\s*<div class="utrecht-alert utrecht-alert--info" role="status">'
    )
    assert re.search(first, page)  # first thing under the heading, an info alert
    assert page.index(NOTICE) < page.index("<table") < page.index("anna@demozorg.nl")
