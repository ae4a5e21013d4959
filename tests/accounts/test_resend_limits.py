"""Nieuwe activatielink sturen mails the person each time (security review: 8 resends gave 9
mails). policies.RATE_LIMITS["invitation.resend"] = "3/h/membership,30/h/user": three resends
an hour for one membership, thirty an hour for one actor. Over a limit nothing is mailed, the
manager reads when to try again, and the window's first refusal is audited.

The mails are counted where they wait to be sent: the outbox (messaging.models.OutboxMail).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client

from zorgsleutel.accounts.api.auth import issue_token
from zorgsleutel.accounts.flows import members
from zorgsleutel.core import clock
from zorgsleutel.core.errors import RateLimited
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]


@pytest.fixture
def hour():
    """The portal's clock at the start of a fixed window of an hour: the next full hour."""
    start = (clock.now() + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
    with clock.frozen(start):
        yield start


def _resend(actor, membership) -> str:
    try:
        members.resend_activation(actor=actor, membership=membership)
    except RateLimited as error:
        return error.code
    return "sent"


def test_eight_resends_mail_the_person_three_more_times(organisation, person, hour):
    manager = person(organisation, "manager")
    invited = members.invite_member(
        actor=manager, organisation=organisation, name="Rens", email="rens@zorggroep.nl"
    )
    results = [_resend(manager, invited) for _ in range(8)]
    assert results == ["sent"] * 3 + ["resend_rate_limited"] * 5
    # The invitation and three resends: four mails, not nine.
    assert OutboxMail.objects.filter(to="rens@zorggroep.nl").count() == 4
    assert AuditEvent.objects.filter(action="member.activation_resent").count() == 3
    refused = AuditEvent.objects.filter(action="ratelimit.refused")
    assert refused.count() == 1  # the window's first refusal; the next four only repeat it
    event = refused.get()
    assert event.details == {"action": "invitation.resend", "limits": ["membership"]}
    assert (event.actor, event.outcome) == (manager.audit_ref, "denied")
    # The next hour the manager may resend again.
    clock.advance(timedelta(hours=1))
    assert _resend(manager, invited) == "sent"
    assert OutboxMail.objects.filter(to="rens@zorggroep.nl").count() == 5


def test_another_organisations_resends_are_not_slowed(
    organisation, other_organisation, person, hour
):
    """Per membership, never per person: one organisation using up its budget for an address
    tells another nothing and takes nothing from it."""
    manager = person(organisation, "manager")
    other_manager = person(other_organisation, "manager", email="beheer@anderbedrijf.nl")
    ours = members.invite_member(
        actor=manager, organisation=organisation, name="Rens", email="rens@zorggroep.nl"
    )
    theirs = members.invite_member(
        actor=other_manager, organisation=other_organisation, name="Rens", email="rens@zorggroep.nl"
    )
    assert [_resend(manager, ours) for _ in range(4)] == ["sent"] * 3 + ["resend_rate_limited"]
    assert [_resend(other_manager, theirs) for _ in range(3)] == ["sent"] * 3
    assert OutboxMail.objects.filter(to="rens@zorggroep.nl").count() == 2 + 3 + 3


def test_one_manager_resends_thirty_links_an_hour(organisation, person, hour):
    manager = person(organisation, "manager")
    invited = [
        members.invite_member(
            actor=manager, organisation=organisation, name="Lid", email=f"lid{n}@zorggroep.nl"
        )
        for n in range(11)
    ]
    results = [_resend(manager, membership) for membership in invited for _ in range(3)]
    assert results == ["sent"] * 30 + ["resend_rate_limited"] * 3
    assert OutboxMail.objects.filter(to="lid10@zorggroep.nl").count() == 1  # its invitation only
    assert OutboxMail.objects.count() == 11 + 30
    event = AuditEvent.objects.get(action="ratelimit.refused")
    assert event.details == {"action": "invitation.resend", "limits": ["user"]}
    # Another manager of the organisation is not slowed by this one (a member whose three
    # refused resends counted against its own budget too would be: a fresh one).
    colleague = person(organisation, "manager")
    fresh = members.invite_member(
        actor=colleague, organisation=organisation, name="Lid", email="lid11@zorggroep.nl"
    )
    assert _resend(colleague, fresh) == "sent"


def test_the_page_and_the_api_say_when_to_try_again(organisation, person, login_as, hour):
    manager = person(organisation, "manager")
    invited = members.invite_member(
        actor=manager, organisation=organisation, name="Rens", email="rens@zorggroep.nl"
    )
    page = Client()
    login_as(page, manager)
    url = f"/beheer/{organisation.public_id}/leden/{invited.pk}/resend"
    answers = [page.post(url, follow=True) for _ in range(3)]
    sent = "Er is een nieuwe activatielink gestuurd naar Rens (rens@zorggroep.nl)."
    assert all(sent in a.content.decode() for a in answers)
    refused = page.post(url, follow=True).content.decode()
    assert (
        "Er is te vaak een nieuwe link verstuurd. Probeer het over 60 minuten opnieuw." in refused
    )
    token = issue_token(organisation=organisation, user=manager, name="HR-koppeling")
    api = Client(headers={"X-Zorgsleutel-Token": token})
    answer = api.post(
        f"/api/v1/organisations/{organisation.public_id}/members/{invited.pk}/resend-activation"
    )
    assert answer.status_code == 429
    assert answer["Retry-After"] == "3600"
    assert answer.json()["error"] == "resend_rate_limited"
    assert OutboxMail.objects.filter(to="rens@zorggroep.nl").count() == 4
