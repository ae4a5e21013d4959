"""The permission matrix of seed 003: operator, administrator, manager, member × every
organisation action × own or other organisation × the role of the person acted on.

Allowed exactly where policies says (PERMISSIONS for the action, ROLE_GRANTS for whom an actor
may act on, OPERATOR_PERMISSIONS for operators); everywhere else refused and nothing changes.
"""

from __future__ import annotations

import itertools

import pytest

from applicants import application_data
from zorgsleutel import policies
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core import clock
from zorgsleutel.core.errors import PermissionDenied
from zorgsleutel.mobileapp import flows as app_flows
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.flows import applications, suspension
from zorgsleutel.organisations.models import Application, Organisation

pytestmark = pytest.mark.django_db

ACTORS = ["operator", "administrator", "manager", "member"]
TARGET_ROLES = ["administrator", "manager", "member"]


def _device(user: User) -> AppDevice:
    return AppDevice.objects.create(
        public_id=f"app_{user.pk}",
        user=user,
        name="Telefoon",
        public_key=b"-",
        secret_ciphertext=b"-",
        enrolled_at=clock.now(),
    )


# action: (permission, state the target needs, how to do it, what changed)
TARGET_ACTIONS = {
    "resend": (
        "members.resend_activation",
        User.INVITED,
        lambda a, t: members.resend_activation(actor=a, membership=t),
    ),
    "block": (
        "members.block",
        User.ACTIVE,
        lambda a, t: members.block_member(actor=a, membership=t),
    ),
    "unblock": (
        "members.unblock",
        User.BLOCKED,
        lambda a, t: members.unblock_member(actor=a, membership=t),
    ),
    "delete": (
        "members.delete",
        User.ACTIVE,
        lambda a, t: members.delete_member(actor=a, membership=t),
    ),
    "appoint": (
        "managers.appoint",
        User.ACTIVE,
        lambda a, t: members.change_role(
            actor=a, membership=t, role="member" if t.role != "member" else "manager"
        ),
    ),
    "app_block": (
        "apps.block",
        User.ACTIVE,
        lambda a, t: app_flows.set_device_state(
            actor=a, organisation=t.organisation, device_id=f"app_{t.user_id}", action="block"
        ),
    ),
}


@pytest.fixture
def two_care_providers(db):
    own = Organisation.objects.create(
        name="Eigen Zorg", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000001"
    )
    other = Organisation.objects.create(
        name="Andere Zorg", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000002"
    )
    # Each has a spare administrator, so "keep one administrator" never decides these cases.
    for organisation in (own, other):
        spare = User.objects.create(
            email=f"reserve@{organisation.ura}.nl", name="Reserve", state=User.ACTIVE
        )
        Membership.objects.create(user=spare, organisation=organisation, role="administrator")
    return own, other


def _actor(kind: str, organisation: Organisation) -> User:
    user = User.objects.create(
        email=f"{kind}-{User.objects.count()}@zorg.nl",
        name=kind,
        state=User.ACTIVE,
        is_operator=kind == "operator",
    )
    if kind != "operator":
        Membership.objects.create(user=user, organisation=organisation, role=kind)
    return user


def _allowed(actor_kind: str, permission: str, own: bool, target_role: str) -> bool:
    if actor_kind == "operator":  # operators act on the platform, never on people
        return False
    return (
        own
        and policies.allows(actor_kind, permission)
        and policies.may_grant(actor_kind, target_role)
    )


@pytest.mark.parametrize(
    ("actor_kind", "action", "own", "target_role"),
    list(itertools.product(ACTORS, TARGET_ACTIONS, [True, False], TARGET_ROLES)),
)
def test_acting_on_a_person(two_care_providers, actor_kind, action, own, target_role):
    own_organisation, other_organisation = two_care_providers
    permission, state, do = TARGET_ACTIONS[action]
    actor = _actor(actor_kind, own_organisation if own else other_organisation)
    person = User.objects.create(email=f"doel-{User.objects.count()}@zorg.nl", name="Doel")
    person.state = state
    person.save()
    target = Membership.objects.create(user=person, organisation=own_organisation, role=target_role)
    _device(person)
    before = (
        list(User.objects.filter(pk=person.pk).values_list("state", "auth_epoch")),
        list(Membership.objects.filter(user=person).values_list("role")),
        list(AppDevice.objects.filter(user=person).values_list("state")),
    )
    if _allowed(actor_kind, permission, own, target_role):
        do(actor, target)
    else:
        with pytest.raises(PermissionDenied):
            do(actor, target)
        after = (
            list(User.objects.filter(pk=person.pk).values_list("state", "auth_epoch")),
            list(Membership.objects.filter(user=person).values_list("role")),
            list(AppDevice.objects.filter(user=person).values_list("state")),
        )
        assert after == before


ORGANISATION_ACTIONS = {
    "create_member": (
        "members.create",
        lambda a, org: members.invite_member(
            actor=a, organisation=org, name="Nieuw", email=f"n{User.objects.count()}@zorg.nl"
        ),
    ),
    "appoint_new_administrator": (
        "managers.appoint",
        lambda a, org: members.invite_member(
            actor=a,
            organisation=org,
            name="Nieuw",
            email=f"n{User.objects.count()}@zorg.nl",
            role="administrator",
        ),
    ),
}


@pytest.mark.parametrize(
    ("actor_kind", "action", "own"),
    list(itertools.product(ACTORS, ORGANISATION_ACTIONS, [True, False])),
)
def test_acting_in_an_organisation(two_care_providers, actor_kind, action, own):
    own_organisation, other_organisation = two_care_providers
    permission, do = ORGANISATION_ACTIONS[action]
    actor = _actor(actor_kind, own_organisation if own else other_organisation)
    count = Membership.objects.count()
    role = "administrator" if action == "appoint_new_administrator" else "member"
    if _allowed(actor_kind, permission, own, role):
        do(actor, own_organisation)
        assert Membership.objects.count() == count + 1
    else:
        with pytest.raises(PermissionDenied):
            do(actor, own_organisation)
        assert Membership.objects.count() == count


@pytest.mark.parametrize("actor_kind", ACTORS)
def test_platform_actions_are_for_operators_only(two_care_providers, actor_kind):
    own_organisation, _other = two_care_providers
    actor = _actor(actor_kind, own_organisation)
    application = applications.submit_application(
        data=application_data(ura="90000999"), locale="nl"
    )
    flows = [
        lambda: applications.approve_application(actor=actor, application_id=application.public_id),
        lambda: suspension.suspend_organisation(
            actor=actor, public_id=own_organisation.public_id, reason="onderzoek"
        ),
    ]
    if actor_kind == "operator":
        for flow in flows:
            flow()
        own_organisation.refresh_from_db()
        assert own_organisation.is_suspended
    else:
        for flow in flows:
            with pytest.raises(PermissionDenied):
                flow()
        own_organisation.refresh_from_db()
        assert not own_organisation.is_suspended
        assert Application.objects.get().state == Application.SUBMITTED


@pytest.mark.parametrize("role", ["administrator", "manager", "member"])
def test_the_audit_log_page_is_for_administrators(client, login_as, two_care_providers, role):
    own_organisation, other_organisation = two_care_providers
    actor = _actor(role, own_organisation)
    login_as(client, actor)
    own = client.get(f"/beheer/{own_organisation.public_id}/audit")
    other = client.get(f"/beheer/{other_organisation.public_id}/audit")
    assert own.status_code == (200 if policies.allows(role, "audit.view") else 403)
    assert other.status_code == 403
