"""Smartcards: actions that say what they do (issue 17, part 3). Beheer's Blokkeren, Deblokkeren
and Verwijderen of a member's smartcard, and the holder's Kwijt melden, ask first on a page that
names the card and its holder and changes nothing; only the page's POST acts, writes its audit
event and names the card. Another organisation is refused alike on both steps."""

from __future__ import annotations

import pytest

from confirmpages import DANGER, PRIMARY, confirmation, marked_rows, messages_of, page_text
from smartcardwork import issue_card
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.smartcards.models import Smartcard

pytestmark = pytest.mark.django_db

# action → (state before, title, consequence, button, message, state after, audit event)
BEHEER = {
    "block": (
        "active",
        "Smartcard KAART-0042 van Carla Zorg blokkeren?",
        "Niemand kan dan nog met deze kaart inloggen, totdat u hem deblokkeert.",
        ("Blokkeren", DANGER),
        "Smartcard KAART-0042 van Carla Zorg is geblokkeerd voor Zorggroep Kaart: hij werkt pas "
        "weer als u hem deblokkeert.",
        "blocked",
        "smartcard.blocked",
    ),
    "unblock": (
        "blocked",
        "Smartcard KAART-0042 van Carla Zorg deblokkeren?",
        "Wie de kaart heeft, kan er dan weer mee inloggen met de pincode. Deblokkeer hem alleen "
        "als u weet dat Carla Zorg hem heeft.",
        ("Deblokkeren", PRIMARY),
        "Smartcard KAART-0042 van Carla Zorg werkt weer.",
        "active",
        "smartcard.unblocked",
    ),
    "delete": (
        "active",
        "Smartcard KAART-0042 van Carla Zorg verwijderen?",
        "Het certificaat wordt dan definitief ingetrokken: de kaart werkt nooit meer. Carla Zorg "
        "kan een nieuwe smartcard aanmaken.",
        ("Verwijderen", DANGER),
        "Smartcard KAART-0042 van Carla Zorg is verwijderd: het certificaat is definitief "
        "ingetrokken.",
        "revoked",
        "smartcard.deleted",
    ),
}


@pytest.fixture
def card(portal_ca, care):
    _key, _pem, card = issue_card(care)
    Smartcard.objects.filter(pk=card.pk).update(card_serial="KAART-0042")
    card.refresh_from_db()
    return card


def _url(care, card) -> str:
    membership = card.user.memberships.get(organisation=care.org)
    return f"/beheer/{care.org.public_id}/leden/{membership.pk}/smartcards"


@pytest.mark.parametrize("action", ["block", "unblock", "delete"])
def test_beheer_asks_before_it_changes_a_smartcard(client, login_as, care, card, action):
    before, title, consequence, button, message, after, event = BEHEER[action]
    Smartcard.objects.filter(pk=card.pk).update(state=before)
    login_as(client, care.manager)
    url = _url(care, card)
    events = AuditEvent.objects.count()
    asked = client.post(url, {"action": action, "card": card.public_id})
    assert confirmation(asked) == {
        "status": 200,
        "title": title,
        "consequences": [consequence],
        "items": [],
        "warning": "",
        "button": button,
        "carries": {"action": action, "card": card.public_id, "bevestigd": "ja"},
        "csrf": True,
        "back": url,
    }
    assert Smartcard.objects.get(pk=card.pk).state == before
    assert AuditEvent.objects.count() == events

    done = client.post(
        url, {"action": action, "card": card.public_id, "bevestigd": "ja"}, follow=True
    )
    assert messages_of(done) == [message]
    assert Smartcard.objects.get(pk=card.pk).state == after
    assert [
        (e.action, e.organisation, e.target)
        for e in AuditEvent.objects.filter(seq__gt=events).order_by("seq")
    ] == [(event, care.org.audit_ref, card.audit_ref)]
    # The card's row is marked; a deleted card leaves the list.
    assert marked_rows(done) == ([] if after == "revoked" else [f"card-{card.public_id}"])


def test_another_organisation_s_administrator_is_refused_on_both_steps(
    client, login_as, care, card
):
    login_as(client, care.other_admin)
    url = _url(care, card)
    for form in (
        {"action": "block", "card": card.public_id},
        {"action": "block", "card": card.public_id, "bevestigd": "ja"},
    ):
        answer = client.post(url, form)
        assert answer.status_code == 403
        assert "U mag dit niet doen." in page_text(answer)
    denied = AuditEvent.objects.filter(action="permission.denied").order_by("seq")
    assert [(e.details["reason"], e.details["action"]) for e in denied] == [
        ("forbidden", "members.view")
    ] * 2
    assert Smartcard.objects.get(pk=card.pk).state == "active"


def test_the_holder_is_asked_before_reporting_the_card_lost(client, login_as, care, card):
    login_as(client, care.member, acr="high")
    url = f"/mijn/smartcards/{card.public_id}/kwijt"
    events = AuditEvent.objects.count()
    for asked in (client.get(url), client.post(url)):  # the page's button POSTs without it
        assert confirmation(asked) == {
            "status": 200,
            "title": "Smartcard KAART-0042 als kwijt melden?",
            "consequences": [
                "De kaart wordt meteen en definitief ingetrokken: niemand kan er nog mee "
                "inloggen, ook u niet als u hem terugvindt. Daarna kunt u een nieuwe aanmaken."
            ],
            "items": [],
            "warning": "",
            "button": ("Kwijt melden", DANGER),
            "carries": {"bevestigd": "ja"},
            "csrf": True,
            "back": "/mijn/smartcards",
        }
    assert Smartcard.objects.get(pk=card.pk).state == "active"
    assert AuditEvent.objects.count() == events

    done = client.post(url, {"bevestigd": "ja"}, follow=True)
    assert messages_of(done) == [
        "Uw smartcard KAART-0042 is ingetrokken: niemand kan hem nog gebruiken. U kunt een "
        "nieuwe aanmaken."
    ]
    assert Smartcard.objects.get(pk=card.pk).state == "revoked"
    assert [e.action for e in AuditEvent.objects.filter(seq__gt=events)] == [
        "smartcard.reported_lost"
    ]
