"""Every refusal of beheer's member flows is audited with its code (docs/accounts.md, "Audit"):
`permission.denied`, outcome "denied", the action and the code as `reason`, in the
organisation's log, and the refused action changes nothing. A refusal decided inside the
flow's transaction keeps its event (audit.atomic). Refusals that would tell an organisation
something about an account (an operator's address, someone else's invitation) go to the
platform's log only."""

from __future__ import annotations

import pytest
from django.utils import translation

from zorgsleutel.accounts.flows import members, memberships
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]


def _denied() -> list[tuple]:
    return [
        (e.action, e.organisation, e.target, e.details)
        for e in AuditEvent.objects.filter(outcome="denied").order_by("seq")
    ]


@pytest.fixture
def admin(organisation, person):
    return person(organisation, "administrator", email="admin@zorggroep.nl")


@pytest.fixture
def manager(organisation, person):
    return person(organisation, "manager", email="chef@zorggroep.nl")


def test_a_manager_giving_the_administrator_role(organisation, manager):
    with pytest.raises(PermissionDenied) as refused, translation.override("nl"):
        members.invite_member(
            actor=manager,
            organisation=organisation,
            name="Nieuwe Baas",
            email="baas@zorggroep.nl",
            role="administrator",
        )
    assert refused.value.code == "role_not_allowed"
    assert str(refused.value.message) == (
        "Alleen een portaaladministrator kan de rol portaaladministrator toekennen of iets "
        "doen bij iemand "
        "met die rol."
    )
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            "",
            {
                "action": "members.create",
                "target_role": "administrator",
                "reason": "role_not_allowed",
                "names": {manager.audit_ref: "chef@zorggroep.nl"},
            },
        )
    ]
    assert not User.objects.filter(email="baas@zorggroep.nl").exists()


def test_inviting_a_member_again(organisation, admin, person):
    person(organisation, "member", email="lid@zorggroep.nl")
    with pytest.raises(Conflict) as refused:
        members.invite_member(
            actor=admin, organisation=organisation, name="Lid", email="lid@zorggroep.nl"
        )
    assert (refused.value.code, refused.value.field) == ("already_member", "email")
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            "",
            {
                "action": "members.create",
                "reason": "already_member",
                "names": {admin.audit_ref: "admin@zorggroep.nl"},
            },
        )
    ]
    assert not OutboxMail.objects.exists() and not LinkToken.objects.exists()


def test_a_manager_blocking_themselves(organisation, manager):
    with pytest.raises(PermissionDenied) as refused:
        members.block_member(actor=manager, membership=manager.memberships.get())
    assert refused.value.code == "not_yourself"
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            manager.audit_ref,
            {
                "action": "members.block",
                "reason": "not_yourself",
                "names": {manager.audit_ref: "chef@zorggroep.nl"},
            },
        )
    ]
    assert manager.memberships.get().state == Membership.ACTIVE


def test_a_manager_blocking_an_administrator(organisation, manager, admin):
    with pytest.raises(PermissionDenied) as refused:
        members.block_member(actor=manager, membership=admin.memberships.get())
    assert refused.value.code == "role_not_allowed"
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            admin.audit_ref,
            {
                "action": "members.block",
                "target_role": "administrator",
                "reason": "role_not_allowed",
                "names": {
                    manager.audit_ref: "chef@zorggroep.nl",
                    admin.audit_ref: "admin@zorggroep.nl",
                },
            },
        )
    ]
    assert admin.memberships.get().state == Membership.ACTIVE


def test_a_member_blocking_anyone(organisation, person, manager):
    member = person(organisation, "member", email="lid@zorggroep.nl")
    with pytest.raises(PermissionDenied) as refused:
        members.block_member(actor=member, membership=manager.memberships.get())
    assert refused.value.code == "forbidden"
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            "",
            {
                "action": "members.block",
                "reason": "forbidden",
                "names": {member.audit_ref: "lid@zorggroep.nl"},
            },
        )
    ]


def test_an_administrator_changing_their_own_role(organisation, admin, person):
    person(organisation, "administrator", email="tweede@zorggroep.nl")
    with pytest.raises(PermissionDenied) as refused:
        members.change_role(actor=admin, membership=admin.memberships.get(), role="member")
    assert refused.value.code == "not_yourself"
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            admin.audit_ref,
            {
                "action": "managers.appoint",
                "reason": "not_yourself",
                "names": {admin.audit_ref: "admin@zorggroep.nl"},
            },
        )
    ]
    assert admin.memberships.get().role == "administrator"


def test_a_role_that_does_not_exist_is_bad_input_not_a_refusal(organisation, admin, manager):
    with pytest.raises(DomainError) as refused:
        members.change_role(actor=admin, membership=manager.memberships.get(), role="eigenaar")
    assert (refused.value.code, refused.value.field) == ("unknown_role", "role")
    assert _denied() == []
    assert manager.memberships.get().role == "manager"


@pytest.fixture
def last_two(organisation, admin, person):
    """Two administrators, the acting one's account blocked by the time the flow runs (a
    race with the request's own checks; the flows look at memberships, not the account): the
    other is the organisation's last active administrator, the rule's last line of defence."""
    other = person(organisation, "administrator", email="laatste@zorggroep.nl")
    User.objects.filter(pk=admin.pk).update(state=User.BLOCKED)
    admin.refresh_from_db()
    return admin, other.memberships.get()


@pytest.mark.parametrize(
    ("flow", "action"),
    [
        (members.block_member, "members.block"),
        (members.delete_member, "members.delete"),
        (
            lambda actor, membership: members.change_role(
                actor=actor, membership=membership, role="member"
            ),
            "managers.appoint",
        ),
    ],
)
def test_the_last_active_administrator_stays_and_it_is_audited(
    organisation, last_two, flow, action
):
    """Decided inside the flow's transaction (the administrators locked): before, the event
    would have rolled back with it; now it is kept."""
    actor, last = last_two
    with pytest.raises(Conflict) as refused:
        flow(actor=actor, membership=last)
    assert refused.value.code == "last_administrator"
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            last.user.audit_ref,
            {
                "action": action,
                "reason": "last_administrator",
                "names": {
                    actor.audit_ref: "admin@zorggroep.nl",
                    last.user.audit_ref: "laatste@zorggroep.nl",
                },
            },
        )
    ]
    assert Membership.objects.filter(pk=last.pk, state="active", role="administrator").exists()


def test_a_new_link_for_someone_who_activated(organisation, manager, person):
    member = person(organisation, "member", email="lid@zorggroep.nl")
    with pytest.raises(Conflict) as refused:
        members.resend_activation(actor=manager, membership=member.memberships.get())
    assert refused.value.code == "not_invited"
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            member.audit_ref,
            {
                "action": "members.resend_activation",
                "reason": "not_invited",
                "names": {
                    manager.audit_ref: "chef@zorggroep.nl",
                    member.audit_ref: "lid@zorggroep.nl",
                },
            },
        )
    ]
    assert not OutboxMail.objects.exists()


def test_unblocking_someone_not_blocked(organisation, manager, person):
    member = person(organisation, "member", email="lid@zorggroep.nl")
    with pytest.raises(Conflict) as refused:
        members.unblock_member(actor=manager, membership=member.memberships.get())
    assert refused.value.code == "not_blocked"
    assert [details for *_, details in _denied()] == [
        {
            "action": "members.unblock",
            "reason": "not_blocked",
            "names": {
                manager.audit_ref: "chef@zorggroep.nl",
                member.audit_ref: "lid@zorggroep.nl",
            },
        }
    ]


def test_an_operator_accepting_is_refused_in_the_platforms_log_only(organisation, admin):
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Ops", state=User.ACTIVE, is_operator=True
    )
    invited = members.invite_member(
        actor=admin, organisation=organisation, name="Ops", email="ops@zorgsleutel.test"
    )
    with pytest.raises(PermissionDenied) as refused:
        memberships.accept_invitation(actor=operator, membership=invited)
    assert refused.value.code == "operator_not_member"
    assert _denied() == [
        (
            "permission.denied",
            "",  # not the organisation's: it would learn the address is an operator's
            "",
            {"action": "members.accept", "reason": "operator_not_member"},
        )
    ]
    assert Membership.objects.get(pk=invited.pk).state == "invited"


def test_accepting_someone_elses_invitation_is_refused_in_the_platforms_log_only(
    organisation, admin, person
):
    invited = members.invite_member(
        actor=admin, organisation=organisation, name="Piet", email="piet@zorggroep.nl"
    )
    intruder = person(organisation, "member", email="ander@zorggroep.nl")
    with pytest.raises(NotFound) as refused:
        memberships.accept_invitation(actor=intruder, membership=invited)
    assert refused.value.code == "invalid_link"
    assert _denied() == [
        ("permission.denied", "", "", {"action": "members.accept", "reason": "invalid_link"})
    ]
    assert Membership.objects.get(pk=invited.pk).state == "invited"


def test_a_token_used_for_another_organisation(organisation, other_organisation, person):
    """In the log of the token's organisation: its administrators answer for its tokens."""
    from django.test import Client

    from zorgsleutel.accounts.api.auth import issue_token

    owner = person(other_organisation, "manager", email="beheer@anderbedrijf.nl")
    token = issue_token(organisation=other_organisation, user=owner, name="script")
    response = Client(headers={"X-Zorgsleutel-Token": token}).get(
        f"/api/v1/organisations/{organisation.public_id}/members"
    )
    assert (response.status_code, response.json()["error"]) == (403, "forbidden")
    assert _denied() == [
        (
            "permission.denied",
            other_organisation.audit_ref,
            organisation.audit_ref,
            {
                "action": "api.other_organisation",
                "reason": "forbidden",
                "names": {owner.audit_ref: "beheer@anderbedrijf.nl"},
            },
        )
    ]
