"""How long each mailed link works, written out (policies.*_LINK_TTL): the link is made by its
real flow at a frozen moment, works a minute before its lifetime ends and is refused a minute
after; the mail says the same lifetime.

    activation (a new account)          72 hours
    invitation (an existing account)    72 hours, the same as activation
    password reset                      60 minutes
    "Dit was ik niet"                   14 days
    organisation validation             14 days
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import translation

from applicants import approved_application
from zorgsleutel.accounts.flows import linknotice, members
from zorgsleutel.core import clock
from zorgsleutel.core.errors import NotFound
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.organisations.flows import validation

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _opens(client, path: str, at: datetime) -> int:
    with clock.frozen(at):
        return client.get(path).status_code


def test_an_activation_link_works_for_72_hours(client, organisation, person, mailed_link):
    manager = person(organisation, "manager")
    with clock.frozen(START):
        members.invite_member(
            actor=manager, organisation=organisation, name="Nina", email="nina@zorggroep.nl"
        )
    link = mailed_link("nina@zorggroep.nl")
    assert link.startswith("/activeren/")
    mail = OutboxMail.objects.get(to="nina@zorggroep.nl")
    assert "72 uur" in mail.body_text
    assert _opens(client, link, START + timedelta(hours=71, minutes=59)) == 200
    assert _opens(client, link, START + timedelta(hours=72, minutes=1)) == 404


def test_an_invitation_link_works_for_72_hours(
    client, organisation, other_organisation, person, mailed_link
):
    """An existing account's invitation: the same lifetime as an activation link, so the list
    never tells whether the address had an account."""
    manager = person(organisation, "manager")
    person(other_organisation, "member", email="elders@zorggroep.nl")
    with clock.frozen(START):
        members.invite_member(
            actor=manager, organisation=organisation, name="Els", email="elders@zorggroep.nl"
        )
    link = mailed_link("elders@zorggroep.nl")
    assert link.startswith("/uitnodiging/")
    mail = OutboxMail.objects.get(to="elders@zorggroep.nl")
    assert "De uitnodigingslink is 72 uur geldig." in mail.body_text
    with clock.frozen(START + timedelta(hours=71, minutes=59)):
        opened = client.get(link)
    assert opened.status_code == 302 and opened["Location"] == "/inloggen"  # log in to accept
    assert _opens(client, link, START + timedelta(hours=72, minutes=1)) == 404


@pytest.mark.django_db(transaction=True)  # the worker mails the link
def test_a_password_reset_link_works_for_60_minutes(
    client, organisation, person, mailed_link, run_worker
):
    person(organisation, "member", email="lid@zorggroep.nl")
    with clock.frozen(START):
        client.post("/wachtwoord-vergeten", {"email": "lid@zorggroep.nl"})
        run_worker()
    link = mailed_link("lid@zorggroep.nl")
    assert link.startswith("/wachtwoord-herstellen/")
    assert (
        "De herstellink is 1 uur geldig" in OutboxMail.objects.get(to="lid@zorggroep.nl").body_text
    )
    assert _opens(client, link, START + timedelta(minutes=59)) == 200
    assert _opens(client, link, START + timedelta(minutes=61)) == 404


def test_a_dit_was_ik_niet_link_works_for_14_days(client, organisation, person, mailed_link):
    member = person(organisation, "member", email="lid@zorggroep.nl")
    with clock.frozen(START):
        linknotice.notify_authenticator_linked(
            person=member, means="app", name="Telefoon van Lid", linked_at=START
        )
    link = mailed_link("lid@zorggroep.nl")
    assert link.startswith("/dit-was-ik-niet/")
    assert "De link is 336 uur geldig" in OutboxMail.objects.get(to="lid@zorggroep.nl").body_text
    assert _opens(client, link, START + timedelta(days=13, hours=23, minutes=59)) == 200
    assert _opens(client, link, START + timedelta(days=14, minutes=1)) == 404


def test_an_organisation_validation_link_works_for_14_days(client):
    with clock.frozen(START):
        application, url = approved_application()
    token = url.rsplit("/", 1)[1]
    mail = OutboxMail.objects.get(template="application_approved")
    assert "De validatielink is persoonlijk, werkt één keer en is 336 uur geldig." in mail.body_text
    with clock.frozen(START + timedelta(days=13, hours=23, minutes=59)):
        assert validation.open_validation(token=token) == application
    with (
        clock.frozen(START + timedelta(days=14, minutes=1)),
        translation.override("en"),
        pytest.raises(NotFound) as refused,
    ):
        validation.open_validation(token=token)
    assert (refused.value.code, str(refused.value.message)) == (
        "link_invalid",
        "This validation link is not valid (any more). It can be used once and expires after "
        "336 hours. Ask us for a new link.",
    )
    assert _opens(client, "/organisatie/valideren/" + token, START + timedelta(days=15)) == 404
