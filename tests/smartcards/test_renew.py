"""Renewing a smartcard: in the last 60 days of its certificate, from a login with that very
card, a new key on the same card; the old certificate is superseded at once."""

from datetime import timedelta

import pytest

from smartcardwork import issue_card, new_key, page_code, present, send_csr
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.smartcards.models import Smartcard

pytestmark = pytest.mark.django_db(transaction=True)
THREE_YEARS = timedelta(days=3 * 365)


def logged_in_with(client, key, certificate):
    shown = page_code(client.get("/inloggen/smartcard"))
    assert present(shown["code"], key, certificate).status_code == 200
    assert client.get(shown["status"]).json()["status"] == "ok"


def test_a_card_near_its_end_is_renewed_on_the_same_card(client, portal_ca, care):
    issued = clock.now() - THREE_YEARS + timedelta(days=59)
    key, certificate, old = issue_card(care, now=issued)
    logged_in_with(client, key, certificate)
    mine = client.get("/mijn/smartcards").content.decode()
    assert f"/mijn/smartcards/{old.public_id}/vernieuwen" in mine
    shown = page_code(client.get(f"/mijn/smartcards/{old.public_id}/vernieuwen"))
    answer = send_csr(shown["code"], new_key(), card_serial=old.card_serial)
    assert answer.status_code == 200, answer.content
    old.refresh_from_db()
    assert (old.state, old.revocation_reason) == ("revoked", "superseded")
    new = Smartcard.objects.get(state="active")
    assert (new.renews, new.card_serial, new.user) == (old, old.card_serial, care.member)
    assert new.not_after > old.not_after + timedelta(days=3 * 365 - 60)
    event = AuditEvent.objects.get(action="smartcard.renewed")
    assert (event.details["serial"], event.details["renews"]) == (new.serial, old.serial)
    outcome = client.get(shown["status"]).json()
    assert outcome == {"status": "ok", "next": "/inloggen/smartcard"}


@pytest.mark.parametrize(
    "days_left, card_serial, code",
    [
        (61, None, "page"),  # too early: the page refuses
        (59, "ANDERE-KAART", "csr_other_card"),
    ],
)
def test_a_renewal_that_does_not_fit_changes_nothing(
    client, portal_ca, care, days_left, card_serial, code
):
    key, certificate, old = issue_card(
        care, now=clock.now() - THREE_YEARS + timedelta(days=days_left)
    )
    logged_in_with(client, key, certificate)
    page = client.get(f"/mijn/smartcards/{old.public_id}/vernieuwen", follow=True)
    if code == "page":
        assert (
            "Een smartcard kunt u vernieuwen in de laatste 60 dagen van het certificaat"
            in page.content.decode()
        )
    else:
        shown = page_code(page)
        answer = send_csr(shown["code"], new_key(), card_serial=card_serial)
        assert answer.json()["error"] == code
    old.refresh_from_db()
    assert old.state == "active"
    assert Smartcard.objects.count() == 1


def test_a_password_session_renews_nothing(client, login_as, portal_ca, care):
    _key, _certificate, old = issue_card(care, now=clock.now() - THREE_YEARS + timedelta(days=10))
    login_as(client, care.member, acr="low")
    page = client.get(f"/mijn/smartcards/{old.public_id}/vernieuwen", follow=True)
    assert "Een smartcard kunt u vernieuwen in de laatste 60 dagen" in page.content.decode()
