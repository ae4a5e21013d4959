"""Tenancy: nothing one organisation does reaches a person's standing in another (finding 1 of
the tenancy review, each attack performed and shown failing; docs/accounts.md, "Tenancy").

The attacker is the manager of a business customer, *Ander Bedrijf BV*; the victims are the
people of a care provider, *Zorggroep Test*, and an operator.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client

from people import PASSWORD
from zorgsleutel.accounts.api.auth import issue_token
from zorgsleutel.accounts.flows import members, memberships
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core.errors import NotFound, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.people import personevents

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]


@pytest.fixture
def victim(organisation, person):
    return person(organisation, "member", email="medewerker@zorggroep.nl", name="Echte Naam")


@pytest.fixture
def attacker(other_organisation, person):
    return person(other_organisation, "manager", email="beheer@anderbedrijf.nl")


@pytest.fixture
def operator(db):
    return User.objects.create(
        email="operator@zorgsleutel.test", name="Operator", state=User.ACTIVE, is_operator=True
    )


@pytest.fixture
def api(other_organisation, attacker):
    token = issue_token(organisation=other_organisation, user=attacker, name="aanval")
    client = Client(headers={"X-Zorgsleutel-Token": token})
    base = f"/api/v1/organisations/{other_organisation.public_id}/members"

    class Api:
        def post(self, path="", body=None):
            return client.post(base + path, json.dumps(body or {}), content_type="application/json")

        def get(self, **params):
            return client.get(base, params)

        def delete(self, path):
            return client.delete(base + path)

    return Api()


def _invite(api, email: str, name: str = "Getypte Naam"):
    return api.post(body={"name": name, "email": email})


def test_inviting_an_existing_account_answers_as_for_a_new_address(api, victim):
    existing = _invite(api, "Medewerker@Zorggroep.nl")
    new = _invite(api, "nieuw@zorggroep.nl")
    assert existing.status_code == new.status_code == 201
    seen, fresh = existing.json(), new.json()
    assert (
        set(seen)
        == set(fresh)
        == {
            "id",
            "name",
            "email",
            "role",
            "application_roles",
            "state",
        }
    )
    assert {k: v for k, v in seen.items() if k != "id"} == {
        "name": "Getypte Naam",
        "email": "medewerker@zorggroep.nl",
        "role": "member",
        "application_roles": [],
        "state": "invited",
    }
    assert {k: v for k, v in fresh.items() if k not in ("id", "email")} == {
        "name": "Getypte Naam",
        "role": "member",
        "application_roles": [],
        "state": "invited",
    }
    # The list shows only what the attacker typed, never the person's real name.
    items = {i["email"]: i for i in api.get().json()["items"]}
    assert items["medewerker@zorggroep.nl"]["name"] == "Getypte Naam"
    assert "Echte Naam" not in json.dumps(api.get().json())
    # The person gets an invitation to accept (not an activation: they have an account).
    assert OutboxMail.objects.filter(to="medewerker@zorggroep.nl", template="invitation").exists()


def test_the_attackers_audit_log_does_not_say_the_account_existed(api, victim, other_organisation):
    _invite(api, "medewerker@zorggroep.nl")
    _invite(api, "nieuw@zorggroep.nl")
    events = AuditEvent.objects.filter(
        organisation=other_organisation.audit_ref, action="member.created"
    ).order_by("seq")
    # The same details but for the address typed, which the event keeps as the name the
    # organisation knows its invited person by (the attacker's own address as the actor's).
    assert [{**e.details, "names": sorted(e.details["names"].values())} for e in events] == [
        {
            "role": "member",
            "application_roles": [],
            "names": ["beheer@anderbedrijf.nl", "medewerker@zorggroep.nl"],
        },
        {
            "role": "member",
            "application_roles": [],
            "names": ["beheer@anderbedrijf.nl", "nieuw@zorggroep.nl"],
        },
    ]


def test_blocking_the_invited_membership_does_not_touch_the_person(
    api, victim, organisation, client, login_as
):
    login_as(client, victim, acr="low")
    member_id = _invite(api, "medewerker@zorggroep.nl").json()["id"]
    assert api.post(f"/{member_id}/block").json()["state"] == "blocked"
    assert client.get("/mijn").status_code == 200  # still logged in
    victim.refresh_from_db()
    assert (victim.state, victim.auth_epoch) == ("active", 0)
    assert Membership.objects.get(user=victim, organisation=organisation).state == "active"
    assert api.post(f"/{member_id}/unblock").json()["state"] == "invited"
    assert api.delete(f"/{member_id}").status_code == 204
    victim.refresh_from_db()
    assert (victim.email, victim.state) == ("medewerker@zorggroep.nl", "active")


def test_the_only_administrator_and_the_operator_stay_out_of_reach(
    api, organisation, person, operator
):
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    for email in ("admin@zorggroep.nl", operator.email):
        member_id = _invite(api, email).json()["id"]
        assert api.post(f"/{member_id}/block").status_code == 200
    admin.refresh_from_db()
    operator.refresh_from_db()
    assert (admin.state, admin.auth_epoch, operator.state, operator.auth_epoch) == (
        "active",
        0,
        "active",
        0,
    )
    assert Membership.objects.get(user=admin, organisation=organisation).state == "active"
    # The administrator still acts in their own organisation.
    members.invite_member(
        actor=admin, organisation=organisation, name="Nieuw", email="nieuw@zorggroep.nl"
    )


def test_no_answer_tells_whether_an_address_has_an_account_elsewhere(api, victim):
    first = _invite(api, "medewerker@zorggroep.nl")
    again = _invite(api, "medewerker@zorggroep.nl")
    new_again = (_invite(api, "nieuw@zorggroep.nl"), _invite(api, "nieuw@zorggroep.nl"))[1]
    assert first.status_code == 201
    # A second invitation of the same address is "already a member" in both cases.
    assert again.status_code == new_again.status_code == 409
    assert again.json()["error"] == new_again.json()["error"] == "already_member"


def test_login_events_reach_only_organisations_the_person_accepted(
    api, victim, organisation, other_organisation
):
    _invite(api, "medewerker@zorggroep.nl")
    victim = User.objects.get(pk=victim.pk)
    personevents.record_for_person("login.succeeded", person=victim, actor=victim, target=victim)
    logged_in = AuditEvent.objects.filter(action="login.succeeded")
    assert sorted(logged_in.values_list("organisation", flat=True)) == [organisation.audit_ref]
    membership = Membership.objects.get(user=victim, organisation=other_organisation)
    memberships.accept_invitation(actor=victim, membership=membership)
    victim = User.objects.get(pk=victim.pk)
    personevents.record_for_person("login.succeeded", person=victim, actor=victim, target=victim)
    assert sorted(logged_in.values_list("organisation", flat=True)) == sorted(
        [organisation.audit_ref, organisation.audit_ref, other_organisation.audit_ref]
    )


def test_the_person_accepts_by_the_mailed_link_and_then_belongs(
    api, victim, other_organisation, client, login_as, mailed_link
):
    _invite(api, "medewerker@zorggroep.nl")
    link = mailed_link("medewerker@zorggroep.nl")
    assert link.startswith("/uitnodiging/")
    anonymous = client.get(link)
    assert anonymous.status_code == 302 and anonymous["Location"] == "/inloggen"
    login_as(client, victim, acr="low")
    assert client.get(link)["Location"] == "/mijn"
    home = client.get("/mijn").content.decode()
    assert "Ander Bedrijf BV nodigt u uit als medewerker." in home
    membership = Membership.objects.get(user=victim, organisation=other_organisation)
    accepted = client.post(f"/mijn/uitnodigingen/{membership.pk}/accepteren")
    assert accepted.status_code == 302
    membership.refresh_from_db()
    assert membership.state == "active"
    assert not LinkToken.objects.filter(membership=membership, used_at=None).exists()
    # Now the organisation sees the person as they are.
    assert api.get().json()["items"][0]["name"] in ("Echte Naam", "Test Persoon")
    assert {i["name"] for i in api.get().json()["items"]} >= {"Echte Naam"}


def test_nobody_accepts_someone_elses_invitation(api, victim, person, organisation, client):
    _invite(api, "medewerker@zorggroep.nl")
    membership = Membership.objects.get(user=victim, state="invited")
    intruder = person(organisation, "member", email="ander@zorggroep.nl")
    with pytest.raises(NotFound) as refused:
        memberships.accept_invitation(actor=intruder, membership=membership)
    assert refused.value.code == "invalid_link"
    assert Membership.objects.get(pk=membership.pk).state == "invited"


def test_operators_are_nobodys_members(api, operator):
    _invite(api, operator.email)
    membership = Membership.objects.get(user=operator)
    with pytest.raises(PermissionDenied) as refused:
        memberships.accept_invitation(actor=operator, membership=membership)
    assert refused.value.code == "operator_not_member"
    assert Membership.objects.get(pk=membership.pk).state == "invited"


def test_a_blocked_membership_ends_that_organisations_api_access_at_once(
    organisation, person, other_organisation
):
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    manager = person(organisation, "manager", email="beheer@zorggroep.nl")
    person(other_organisation, "manager", email="beheer@zorggroep.nl-elders.nl")
    token = issue_token(organisation=organisation, user=manager, name="hr")
    client = Client(headers={"X-Zorgsleutel-Token": token})
    url = f"/api/v1/organisations/{organisation.public_id}/members"
    assert client.get(url).status_code == 200
    members.block_member(actor=admin, membership=manager.memberships.get())
    refused = client.get(url)
    assert refused.status_code == 403 and refused.json()["error"] == "forbidden"


def test_a_person_blocked_in_one_organisation_keeps_working_in_the_other(
    organisation, other_organisation, person, client, login_as
):
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    both = person(organisation, "manager", email="beide@zorggroep.nl")
    Membership.objects.create(user=both, organisation=other_organisation, role="manager")
    login_as(client, both, acr="substantial")
    members.block_member(actor=admin, membership=both.memberships.get(organisation=organisation))
    assert client.get(f"/beheer/{other_organisation.public_id}").status_code == 200
    assert client.get(f"/beheer/{organisation.public_id}").status_code == 403
    both.refresh_from_db()
    assert (both.state, both.auth_epoch) == ("active", 0)


def test_a_person_blocked_everywhere_cannot_log_in(organisation, person, client):
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    only = person(organisation, "member", email="alleen@zorggroep.nl")
    members.block_member(actor=admin, membership=only.memberships.get())
    response = client.post("/inloggen", {"email": "alleen@zorggroep.nl", "password": PASSWORD})
    assert "Uw account is geblokkeerd. Neem contact op met uw beheerder." in (
        response.content.decode()
    )


@pytest.mark.parametrize("size", ["small", "large"])
def test_the_list_orders_and_searches_an_invitation_by_the_typed_name_only(
    api, victim, person, other_organisation, monkeypatch, size, client, login_as
):
    """Search and order would otherwise tell the account's real name ("Echte Naam")."""
    from zorgsleutel.accounts.queries import sql as member_sql

    if size == "large":  # walk the users' index instead of the memberships
        monkeypatch.setattr(member_sql, "SMALL_ORGANISATION", 0)
        monkeypatch.setattr(member_sql, "_memo", {})
    for name in ("Anna Eerst", "Mia Midden", "Zoe Laatst"):
        person(other_organisation, "member", email=f"{name.split()[0].lower()}@anderbedrijf.nl")
        User.objects.filter(email=f"{name.split()[0].lower()}@anderbedrijf.nl").update(name=name)
    _invite(api, "medewerker@zorggroep.nl", name="Noor Getypt")

    def names(**params):
        return [i["name"] for i in api.get(**params).json()["items"]]

    assert names() == ["Anna Eerst", "Mia Midden", "Noor Getypt", "Test Persoon", "Zoe Laatst"]
    assert names(q="echte") == []
    assert names(q="getypt") == ["Noor Getypt"]
    assert names(q="zorggroep") == ["Noor Getypt"]
    walked, cursor = [], None
    while True:  # two at a time, following the cursors
        page = api.get(limit=2, **({"cursor": cursor} if cursor else {})).json()
        walked += [i["name"] for i in page["items"]]
        if not (cursor := page["next"]):
            break
    assert walked == names()
    assert names(page=2, limit=2) == ["Noor Getypt", "Test Persoon"]
    assert api.get(q="t", page=1, limit=2).json()["count"] == 4
    login_as(client, User.objects.get(email="beheer@anderbedrijf.nl"), acr="low")
    page = client.get(f"/beheer/{other_organisation.public_id}?q=echte").content.decode()
    assert "Echte Naam" not in page and "medewerker@zorggroep.nl" not in page


def test_the_audit_log_reads_the_same_after_deleting_an_invitation(api, victim, other_organisation):
    for email in ("medewerker@zorggroep.nl", "nieuw@zorggroep.nl"):
        member_id = _invite(api, email).json()["id"]
        assert api.delete(f"/{member_id}").status_code == 204
    actions = list(
        AuditEvent.objects.filter(organisation=other_organisation.audit_ref)
        .exclude(action="apitoken.created")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["member.created", "member.deleted", "member.created", "member.deleted"]
    assert User.objects.get(pk=victim.pk).state == "active"  # the existing account untouched


# --- Found in review: each attack performed ---------------------------------------------------


def test_a_blocked_invitation_counts_for_nothing(api, victim, organisation, other_organisation):
    """Blocking its own invitation must not make the attacker's organisation one the person
    accepted: no login events there, no stricter means, nothing on the person's page."""
    from zorgsleutel import policies

    member_id = api.post(body={"name": "X", "email": "medewerker@zorggroep.nl", "role": "member"})
    member_id = member_id.json()["id"]
    assert api.post(f"/{member_id}/block").json()["state"] == "blocked"
    person = User.objects.get(pk=victim.pk)
    personevents.record_for_person("login.succeeded", person=person, actor=person, target=person)
    assert list(
        AuditEvent.objects.filter(action="login.succeeded").values_list("organisation", flat=True)
    ) == [organisation.audit_ref]
    assert [m.organisation for m in policies.accepted_memberships(person)] == [organisation]
    assert api.delete(f"/{member_id}").status_code == 204
    assert User.objects.get(pk=victim.pk).state == "active"


def test_invitation_and_activation_links_expire_together(api, victim):
    from datetime import timedelta

    from zorgsleutel.core import clock

    _invite(api, "medewerker@zorggroep.nl")
    _invite(api, "nieuw@zorggroep.nl")
    with clock.frozen(clock.now() + timedelta(hours=73)):
        states = {i["email"]: i["state"] for i in api.get().json()["items"]}
    assert states["medewerker@zorggroep.nl"] == states["nieuw@zorggroep.nl"] == "link_expired"


def test_a_deleted_membership_takes_the_organisations_decisions_along(
    organisation, other_organisation, person
):
    """Each organisation decides about the person's app for itself; deleting the membership
    removes that organisation's decisions, and re-inviting the person gives it no reach to the
    app until they accept."""
    from appids import app_id, decisions
    from zorgsleutel.core.errors import NotFound
    from zorgsleutel.mobileapp import devices
    from zorgsleutel.organisations.models import Organisation

    third = Organisation.objects.create(name="Derde Zorg", kind="care_provider", ura="90000333")
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    third_admin = person(third, "administrator", email="admin@derdezorg.nl")
    both = person(organisation, "manager", email="beide@zorggroep.nl")
    Membership.objects.create(user=both, organisation=third, role="manager")
    app_id(both, public_id="app_beide")
    devices.set_device_state(
        actor=admin, organisation=organisation, device_id="app_beide", action="block"
    )
    assert decisions(both) == {("app_beide", organisation.name): "blocked"}
    members.delete_member(actor=admin, membership=both.memberships.get(organisation=organisation))
    assert decisions(both) == {}
    again = members.invite_member(
        actor=admin, organisation=organisation, name="Terug", email="beide@zorggroep.nl"
    )
    with pytest.raises(NotFound) as refused:
        devices.set_device_state(
            actor=admin, organisation=organisation, device_id="app_beide", action="block"
        )
    assert refused.value.code == "device_unknown"
    devices.set_device_state(
        actor=third_admin, organisation=third, device_id="app_beide", action="block"
    )
    assert decisions(both) == {("app_beide", "Derde Zorg"): "blocked"}
    assert again.state == "invited"


def test_an_open_invitation_does_not_keep_a_deleted_account_alive(
    api, person, organisation, other_organisation
):
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    only = person(organisation, "member", email="alleen@zorggroep.nl", name="Echte Naam")
    User.objects.filter(pk=only.pk).update(phone_enrolment="enr-x")
    invited_id = _invite(api, "alleen@zorggroep.nl", name="Getypte Naam").json()["id"]
    members.delete_member(actor=admin, membership=only.memberships.get(organisation=organisation))
    gone = User.objects.get(pk=only.pk)
    assert (gone.state, gone.name, gone.phone_enrolment) == ("deleted", "", "")
    # The other organisation's invitation now stands for a new address, as if typed afresh.
    row = next(i for i in api.get().json()["items"] if i["id"] == invited_id)
    assert (row["name"], row["email"], row["state"]) == (
        "Getypte Naam",
        "alleen@zorggroep.nl",
        "invited",
    )
    assert User.objects.get(email="alleen@zorggroep.nl").state == "invited"


def test_an_activation_mail_greets_with_the_name_this_organisation_typed(api, organisation, person):
    manager = person(organisation, "manager", email="beheer@zorggroep.nl")
    _invite(api, "nieuw@zorggroep.nl", name="Klik hier: https://kwaad.example")
    members.invite_member(
        actor=manager, organisation=organisation, name="Nina Nieuw", email="nieuw@zorggroep.nl"
    )
    mail = OutboxMail.objects.filter(to="nieuw@zorggroep.nl").order_by("-pk").first()
    assert mail.body_text.startswith("Beste Nina Nieuw,")
    assert "kwaad" not in mail.body_text


def test_a_blocked_invitation_still_shows_only_the_typed_name(api, victim):
    member_id = _invite(api, "medewerker@zorggroep.nl", name="Getypte Naam").json()["id"]
    assert api.post(f"/{member_id}/block").json()["name"] == "Getypte Naam"
    assert [(i["name"], i["state"]) for i in api.get().json()["items"]] == [
        ("Getypte Naam", "blocked"),
        ("Test Persoon", "active"),
    ]
    assert api.get(q="echte").json()["items"] == []
