"""Seed 003 roles (an organisation keeps an administrator; administrators appoint managers) and
the operator's suspension (sessions end, nobody logs in through the organisation)."""

from __future__ import annotations

import pytest

from zorgsleutel import policies
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.organisations.flows import suspension
from zorgsleutel.organisations.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def care(db):
    return Organisation.objects.create(
        name="Zorg", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000001"
    )


@pytest.fixture
def operator(db):
    return User.objects.create(
        email="ops@zorgsleutel.test", name="Ops", state=User.ACTIVE, is_operator=True
    )


def test_an_administrator_appoints_a_manager_and_a_second_administrator(care, person):
    admin = person(care, "administrator")
    worker = person(care, "member")
    membership = Membership.objects.get(user=worker)
    members.change_role(actor=admin, membership=membership, role="manager")
    assert Membership.objects.get(user=worker).role == "manager"
    # The manager's sessions now need the app (seed 003: managers log in with the app).
    assert policies.required_acr(worker) == "substantial"
    members.change_role(actor=admin, membership=membership, role="administrator")
    event = AuditEvent.objects.filter(action="member.role_changed").order_by("seq").last()
    assert event.details == {
        "from": "manager",
        "to": "administrator",
        "names": {admin.audit_ref: admin.email, worker.audit_ref: worker.email},
    }


def test_the_last_administrator_stays(care, person):
    first = person(care, "administrator")
    second = person(care, "administrator")
    members.change_role(actor=first, membership=Membership.objects.get(user=second), role="member")
    # `first` is now the only administrator: nobody can take that away (not even themselves).
    with pytest.raises(PermissionDenied) as refused:
        members.change_role(
            actor=first, membership=Membership.objects.get(user=first), role="member"
        )
    assert refused.value.code == "not_yourself"
    # Another administrator appears, gets blocked: `first` is still the only active one.
    third = person(care, "administrator")
    members.block_member(actor=first, membership=Membership.objects.get(user=third))
    manager = person(care, "manager")
    with pytest.raises(PermissionDenied) as refused:  # a manager never acts on an administrator
        members.delete_member(actor=manager, membership=Membership.objects.get(user=first))
    assert refused.value.code == "role_not_allowed"
    assert Membership.objects.get(user=first).role == "administrator"


def test_no_change_leaves_the_organisation_without_an_active_administrator(care, person):
    first = person(care, "administrator")
    second = person(care, "administrator")
    members.block_member(actor=second, membership=Membership.objects.get(user=first))
    # `second` is now the only active administrator. The blocked one can do nothing in the
    # organisation any more (as with an old API token): refused before any rule is weighed.
    for attempt in (
        lambda: members.delete_member(actor=first, membership=Membership.objects.get(user=second)),
        lambda: members.block_member(actor=first, membership=Membership.objects.get(user=second)),
        lambda: members.change_role(
            actor=first, membership=Membership.objects.get(user=second), role="manager"
        ),
    ):
        with pytest.raises(DomainError) as refused:
            attempt()
        assert refused.value.code == "forbidden"
    assert Membership.objects.get(user=second).role == "administrator"
    assert User.objects.get(pk=second.pk).state == User.ACTIVE


def test_suspension_ends_sessions_refuses_logins_and_actions(
    care, person, operator, client, login_as
):
    from zorgsleutel.authn import password

    admin = person(care, "administrator")
    worker = person(care, "member")
    login_as(client, admin)
    assert client.get("/mijn").status_code == 200
    suspension.suspend_organisation(actor=operator, public_id=care.public_id, reason="Onderzoek")
    assert client.get("/mijn").status_code == 302  # the session has ended
    with pytest.raises(DomainError) as refused:
        password.check_credentials(
            email=worker.email, password="Sterk-wachtwoord-2026", ip="1.2.3.4"
        )
    assert refused.value.code == "organisation_suspended"
    with pytest.raises(PermissionDenied) as refused:
        members.block_member(actor=admin, membership=Membership.objects.get(user=worker))
    assert refused.value.code == "forbidden"
    assert User.objects.get(pk=worker.pk).state == User.ACTIVE
    with pytest.raises(DomainError) as refused:
        suspension.suspend_organisation(actor=operator, public_id=care.public_id, reason="Nogmaals")
    assert refused.value.code == "already_suspended"
    suspension.reinstate_organisation(actor=operator, public_id=care.public_id)
    assert policies.login_allowed(worker)
    actions = list(
        AuditEvent.objects.filter(organisation=care.audit_ref)
        .filter(action__startswith="organisation.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions == ["organisation.suspended", "organisation.reinstated"]


def test_a_person_of_two_organisations_still_logs_in_through_the_other(care, person, operator):
    other = Organisation.objects.create(name="Ander", kind=Organisation.BUSINESS, kvk_number="1")
    worker = person(care, "member")
    Membership.objects.create(user=worker, organisation=other, role="member")
    suspension.suspend_organisation(actor=operator, public_id=care.public_id, reason="Onderzoek")
    assert policies.login_allowed(worker)


def test_the_console_suspends_with_a_reason(care, operator, client, login_as):
    login_as(client, operator)
    page = client.get("/operator/organisaties")
    assert page.status_code == 200 and "Zorg" in page.content.decode()
    client.post(f"/operator/organisaties/{care.public_id}/schorsen", {"reason": ""})
    care.refresh_from_db()
    assert not care.is_suspended
    suspend = {"reason": "Fraude-onderzoek", "bevestigd": "ja"}
    client.post(f"/operator/organisaties/{care.public_id}/schorsen", suspend)
    care.refresh_from_db()
    assert care.is_suspended and care.suspension_reason == "Fraude-onderzoek"
    client.post(f"/operator/organisaties/{care.public_id}/herstellen")
    care.refresh_from_db()
    assert not care.is_suspended
    audit_page = client.get("/operator/audit?action=organisation.")
    assert "organisation.suspended" in audit_page.content.decode()
