"""Beheer's actions that say what they do (issue 17, part 3): blocking or removing a person and a
role change that takes rights away ask first, on a page that names the person, the organisation
and the consequence, and change nothing; only the POST from that page (its field `bevestigd`,
its CSRF token) acts, writes its audit event and says what it did, naming the person and the
organisation, with their row marked on the list. A manager of another organisation is refused
alike on both steps. An invitation reads the same whether or not the address has an account.
"""

from __future__ import annotations

import re

import pytest
from django.db import transaction
from django.test import Client

from confirmpages import DANGER, confirmation, marked_rows, messages_of, page_text
from people import someone
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core.models import AuditEvent

pytestmark = pytest.mark.django_db

# action → (the page's title, its consequences, its button)
ASKED = {
    "block": (
        "Mira Medewerker blokkeren in Zorggroep Test?",
        [
            "Mira Medewerker (mira@zorggroep.nl) kan dan niets meer doen in Zorggroep Test: niet "
            "inloggen voor deze organisatie, en API-tokens en app-ID's werken daar niet meer.",
            "U kunt de persoon later weer deblokkeren, hier onder Beheer.",
        ],
        "Blokkeren",
    ),
    "delete": (
        "Mira Medewerker verwijderen uit Zorggroep Test?",
        [
            "Mira Medewerker (mira@zorggroep.nl) hoort dan niet meer bij Zorggroep Test en "
            "verliest de rol en applicatierollen daar.",
            "Dit kunt u niet ongedaan maken: om de persoon weer toe te laten, nodigt u hem of "
            "haar opnieuw uit.",
        ],
        "Verwijderen",
    ),
}
# action → (the message, its audit events: in the organisation's log, or the platform's (""),
# the membership's state afterwards: None when gone)
DONE = {
    "block": (
        "Mira Medewerker is geblokkeerd in Zorggroep Test.",
        [("member.blocked", "org")],
        "blocked",
    ),
    "delete": (  # her only organisation: the account ends too
        "Mira Medewerker is verwijderd uit Zorggroep Test.",
        [("member.deleted", "org"), ("account.anonymised", "")],
        None,
    ),
}


def state_of(membership: Membership) -> str | None:
    found = Membership.objects.filter(pk=membership.pk).first()
    return found.state if found else None


@pytest.fixture
def team(organisation, person):
    manager = person(organisation, "manager", email="bea@zorggroep.nl", name="Bea Beheerder")
    mira = person(organisation, "member", email="mira@zorggroep.nl", name="Mira Medewerker")
    return manager, mira.memberships.get()


@pytest.mark.parametrize("action", ["block", "delete"])
def test_blocking_or_removing_a_person_asks_first_and_names_them(
    client, organisation, team, login_as, action
):
    manager, membership = team
    login_as(client, manager)
    url = f"/beheer/{organisation.public_id}/leden/{membership.pk}/{action}"
    events = AuditEvent.objects.count()
    title, consequences, button = ASKED[action]
    # The list's link (GET), and a POST without the page's confirmation: both only ask.
    for asked in (client.get(url), client.post(url)):
        assert asked.status_code == 200
        assert confirmation(asked) == {
            "status": 200,
            "title": title,
            "consequences": consequences,
            "items": [],
            "warning": "",
            "button": (button, DANGER),
            "carries": {"bevestigd": "ja"},
            "csrf": True,
            "back": f"/beheer/{organisation.public_id}",
        }
    assert state_of(membership) == "active"
    assert AuditEvent.objects.count() == events  # nothing happened, nothing recorded

    done = client.post(url, {"bevestigd": "ja"}, follow=True)
    message, recorded, state = DONE[action]
    assert messages_of(done) == [message]
    assert state_of(membership) == state
    where = {"org": organisation.audit_ref, "": ""}
    assert [
        (e.action, e.organisation, e.target)
        for e in AuditEvent.objects.filter(seq__gt=events).order_by("seq")
    ] == [(event, where[log], membership.user.audit_ref) for event, log in recorded]
    # The row of the person it was about is marked on the list (none when they are gone).
    assert marked_rows(done) == ([] if state is None else [f"member-{membership.pk}"])


@pytest.mark.parametrize("action", ["block", "delete"])
def test_the_confirming_post_needs_the_csrf_token(organisation, team, login_as, action):
    manager, membership = team
    browser = Client(enforce_csrf_checks=True)
    login_as(browser, manager)
    url = f"/beheer/{organisation.public_id}/leden/{membership.pk}/{action}"
    page = browser.get(url)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert browser.post(url, {"bevestigd": "ja"}).status_code == 403  # no token: refused
    assert state_of(membership) == "active"
    answer = browser.post(url, {"bevestigd": "ja", "csrfmiddlewaretoken": token.group(1)})
    assert answer.status_code == 302
    assert state_of(membership) == DONE[action][2]


@pytest.mark.parametrize("action", ["block", "delete"])
def test_a_manager_of_another_organisation_is_refused_on_both_steps(
    client, organisation, other_organisation, team, person, login_as, action
):
    _manager, membership = team
    stranger = person(other_organisation, "manager", email="beheer@anderbedrijf.nl")
    login_as(client, stranger)
    url = f"/beheer/{organisation.public_id}/leden/{membership.pk}/{action}"
    for answer in (client.get(url), client.post(url), client.post(url, {"bevestigd": "ja"})):
        assert answer.status_code == 403
        assert "U mag dit niet doen." in page_text(answer)
    denied = AuditEvent.objects.filter(action="permission.denied").order_by("seq")
    permission = {"block": "members.block", "delete": "members.delete"}[action]
    assert [(e.details["reason"], e.details["action"]) for e in denied] == [
        ("forbidden", permission)
    ] * 3
    assert state_of(membership) == "active"


def test_a_manager_may_not_block_an_administrator_on_the_page_either(
    client, organisation, team, person, login_as
):
    """The page asks what the flow asks: a manager manages care workers only (seed 003)."""
    manager, _membership = team
    ada = person(organisation, "administrator", email="ada@zorggroep.nl", name="Ada Admin")
    login_as(client, manager)
    url = f"/beheer/{organisation.public_id}/leden/{ada.memberships.get().pk}/block"
    for answer in (client.get(url), client.post(url, {"bevestigd": "ja"})):
        assert answer.status_code == 403
        assert (
            "Alleen een portaaladministrator kan de rol portaaladministrator toekennen of "
            "iets doen bij iemand "
            "met die rol."
        ) in page_text(answer)
    denied = AuditEvent.objects.filter(action="permission.denied").order_by("seq")
    assert [e.details["reason"] for e in denied] == ["role_not_allowed"] * 2
    assert ada.memberships.get().state == "active"


def test_unblocking_acts_at_once_and_names_the_person(client, organisation, team, login_as):
    manager, membership = team
    Membership.objects.filter(pk=membership.pk).update(state="blocked")
    login_as(client, manager)
    url = f"/beheer/{organisation.public_id}/leden/{membership.pk}/unblock"
    done = client.post(url, follow=True)
    assert messages_of(done) == ["Mira Medewerker is gedeblokkeerd in Zorggroep Test."]
    assert state_of(membership) == "active"
    assert client.get(url).status_code == 405  # a GET never changes anything


# --- Role changes -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "before, after, asks",
    [
        ("manager", "member", True),
        ("administrator", "manager", True),
        ("administrator", "member", True),
        ("member", "manager", False),
        ("member", "administrator", False),
        ("manager", "administrator", False),
    ],
)
def test_a_role_change_asks_first_when_it_takes_rights_away(
    client, organisation, person, login_as, before, after, asks
):
    admin = person(organisation, "administrator", email="ada@zorggroep.nl", name="Ada Admin")
    person(organisation, "administrator", email="anton@zorggroep.nl")  # not the last one
    bea = person(organisation, before, email="bea@zorggroep.nl", name="Bea Beheerder")
    membership = bea.memberships.get()
    login_as(client, admin)
    answer = client.post(
        f"/beheer/{organisation.public_id}/leden/{membership.pk}/rol", {"role": after}
    )
    assert answer.status_code == (200 if asks else 302)
    assert Membership.objects.get(pk=membership.pk).role == (before if asks else after)


def test_taking_rights_away_names_the_person_and_what_they_lose(
    client, organisation, person, login_as
):
    admin = person(organisation, "administrator", email="ada@zorggroep.nl", name="Ada Admin")
    bea = person(organisation, "manager", email="bea@zorggroep.nl", name="Bea Beheerder")
    membership = bea.memberships.get()
    login_as(client, admin)
    url = f"/beheer/{organisation.public_id}/leden/{membership.pk}/rol"
    events = AuditEvent.objects.count()
    asked = client.post(url, {"role": "member"})
    assert confirmation(asked) == {
        "status": 200,
        "title": "De rol van Bea Beheerder wijzigen van beheerder in medewerker?",
        "consequences": ["Bea Beheerder kan dan in Zorggroep Test niet meer:"],
        "items": ["mensen beheren, met hun app-ID's en smartcards"],
        "warning": "",
        "button": ("Rol wijzigen", DANGER),
        "carries": {"role": "member", "bevestigd": "ja"},  # the choice travels on
        "csrf": True,
        "back": f"/beheer/{organisation.public_id}",
    }
    assert Membership.objects.get(pk=membership.pk).role == "manager"
    assert AuditEvent.objects.count() == events

    done = client.post(url, {"role": "member", "bevestigd": "ja"}, follow=True)
    assert messages_of(done) == ["Bea Beheerder heeft nu de rol medewerker in Zorggroep Test."]
    assert Membership.objects.get(pk=membership.pk).role == "member"
    event = AuditEvent.objects.get(seq__gt=events)
    assert (event.action, event.details["from"], event.details["to"]) == (
        "member.role_changed",
        "manager",
        "member",
    )
    assert marked_rows(done) == [f"member-{membership.pk}"]


def test_an_administrator_made_manager_loses_four_rights(client, organisation, person, login_as):
    admin = person(organisation, "administrator", email="ada@zorggroep.nl", name="Ada Admin")
    anton = person(organisation, "administrator", email="anton@zorggroep.nl", name="Anton Admin")
    login_as(client, admin)
    url = f"/beheer/{organisation.public_id}/leden/{anton.memberships.get().pk}/rol"
    assert confirmation(client.post(url, {"role": "manager"}))["items"] == [
        "beheerders en portaaladministrators aanstellen",
        "het auditlog lezen",
        "lege smartcards bestellen",
        "de applicaties van de organisatie registreren (single sign-on)",
    ]


def test_another_organisation_s_administrator_is_refused_a_role_change_on_both_steps(
    client, organisation, other_organisation, team, person, login_as
):
    manager, _membership = team
    stranger = person(other_organisation, "administrator", email="ada@anderbedrijf.nl")
    login_as(client, stranger)
    url = f"/beheer/{organisation.public_id}/leden/{manager.memberships.get().pk}/rol"
    for form in ({"role": "member"}, {"role": "member", "bevestigd": "ja"}):
        answer = client.post(url, form)
        assert answer.status_code == 403
        assert "U mag dit niet doen." in page_text(answer)
    denied = AuditEvent.objects.filter(action="permission.denied").order_by("seq")
    assert [(e.details["reason"], e.details["action"]) for e in denied] == [
        ("forbidden", "managers.appoint")
    ] * 2
    assert manager.memberships.get().role == "manager"


# --- Invitations (Tenancy) ----------------------------------------------------------------------


def test_an_invitation_reads_the_same_for_a_new_and_an_existing_address(
    client, organisation, other_organisation, team, login_as
):
    """Nothing tells the organisation that the address has an account elsewhere: the message,
    the redirect and the row on the list are the same, byte for byte (the account's own name,
    "Mira Elders", appears nowhere)."""
    manager, _membership = team
    login_as(client, manager)
    url = f"/beheer/{organisation.public_id}/nieuwe-gebruiker"
    form = {"name": "Nina Nieuw", "email": "nina@zorggroep.nl", "role": "member"}

    def invite() -> tuple:
        answer = client.post(url, form)
        shown = client.get(answer["Location"])
        text = shown.content.decode()
        row = re.search(r'<tr [^>]*data-email="nina@zorggroep.nl".*?</tr>', text, re.S).group(0)
        # Only the row's own number and its forms' CSRF tokens may differ.
        row = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", row)
        row = re.sub(r"(member-|leden/|role-)\d+", r"\1N", row)
        return answer.status_code, answer["Location"], messages_of(shown), row

    with transaction.atomic():  # the address has an account, of another organisation
        someone(other_organisation, "member", email="nina@zorggroep.nl", name="Mira Elders")
        existing = invite()
        transaction.set_rollback(True)
    new = invite()  # the same address, without an account
    assert existing == new
    assert new[2] == [
        "Nina Nieuw (nina@zorggroep.nl) is uitgenodigd voor Zorggroep Test en krijgt een "
        "e-mail met een link om te beginnen."
    ]
    assert "Mira Elders" not in str(existing)
