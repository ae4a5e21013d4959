"""The permission matrix of seeds 000 and 003, written out: operator, administrator, manager,
member × every organisation action × own or other organisation × the role of the person acted
on → allowed or refused.

The table is the seeds' text, not a copy of `policies`: seed 003 gives administrators every
action on everyone and the appointment of managers and administrators; managers (*beheerders*)
block, unblock and delete care workers and their app IDs and send them new links; members and
operators act on nobody. In another organisation nobody may do anything (Tenancy). An allowed
action is checked by its effect, a refused one by nothing having changed.
"""

from __future__ import annotations

import contextlib
import itertools

import pytest

from appids import app_id, decisions
from applicants import application_data
from zorgsleutel.accounts.flows import members, memberships
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.mobileapp import devices
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.flows import applications, business, suspension
from zorgsleutel.organisations.models import Application, Organisation

pytestmark = pytest.mark.django_db

ACTORS = ["operator", "administrator", "manager", "member"]
TARGET_ROLES = ["administrator", "manager", "member"]

# In the actor's own organisation, on a person with the role of the column: Y allowed; refused
# with the code F "forbidden" (the actor's role lacks the permission: policies.PERMISSIONS) or
# R "role_not_allowed" (it has it, but not over this person's role: policies.ROLE_GRANTS).
# In another organisation every cell is F.
#                        administrator manager member
MATRIX = """
administrator resend         Y Y Y
administrator block          Y Y Y
administrator unblock        Y Y Y
administrator delete         Y Y Y
administrator appoint        Y Y Y
administrator app_block      Y Y Y
administrator app_unblock    Y Y Y
administrator app_delete     Y Y Y
administrator app_relink     Y Y Y
manager       resend         R R Y
manager       block          R R Y
manager       unblock        R R Y
manager       delete         R R Y
manager       appoint        F F F
manager       app_block      R R Y
manager       app_unblock    R R Y
manager       app_delete     R R Y
manager       app_relink     R R Y
member        resend         F F F
member        block          F F F
member        unblock        F F F
member        delete         F F F
member        appoint        F F F
member        app_block      F F F
member        app_unblock    F F F
member        app_delete     F F F
member        app_relink     F F F
operator      resend         F F F
operator      block          F F F
operator      unblock        F F F
operator      delete         F F F
operator      appoint        F F F
operator      app_block      F F F
operator      app_unblock    F F F
operator      app_delete     F F F
operator      app_relink     F F F
"""
CELLS = {
    (actor, action, role): mark
    for actor, action, *marks in (line.split() for line in MATRIX.strip().splitlines())
    for role, mark in zip(TARGET_ROLES, marks, strict=True)
}
REFUSALS = {"F": "forbidden", "R": "role_not_allowed"}
# The permission each action asks for, as its refusal's audit event names it.
PERMISSION = {
    "resend": "members.resend_activation",
    "block": "members.block",
    "unblock": "members.unblock",
    "delete": "members.delete",
    "appoint": "managers.appoint",
    "app_block": "apps.block",
    "app_unblock": "apps.unblock",
    "app_delete": "apps.delete",
    "app_relink": "apps.relink",
    "create_member": "members.create",
    "appoint_new_administrator": "members.create",
}


def _refused_once(refused, code: str, action: str, organisation, since: int) -> None:
    """The refusal's exact code, and exactly one `permission.denied` event in the
    organisation's log that names the permission and that code."""
    assert refused.value.code == code
    events = list(
        AuditEvent.objects.filter(seq__gt=since).values_list(
            "action", "outcome", "organisation", "details"
        )
    )
    assert [(a, o, org, d["action"], d["reason"]) for a, o, org, d in events] == [
        ("permission.denied", "denied", audit.ref(organisation), action, code)
    ]


def _last_seq() -> int:
    return AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0


def _app(action: str):
    def do(actor, target):
        devices.set_device_state(
            actor=actor,
            organisation=target.organisation,
            device_id=f"app_{target.user_id}",
            action=action,
        )

    return do


# action: (membership state, the app ID as the target's organisation sees it at the start (its
# own decision: "blocked", "revoked"), how to do it)
TARGET_ACTIONS = {
    "resend": ("invited", "active", lambda a, t: members.resend_activation(actor=a, membership=t)),
    "block": ("active", "active", lambda a, t: members.block_member(actor=a, membership=t)),
    "unblock": ("blocked", "active", lambda a, t: members.unblock_member(actor=a, membership=t)),
    "delete": ("active", "active", lambda a, t: members.delete_member(actor=a, membership=t)),
    "appoint": (
        "active",
        "active",
        lambda a, t: members.change_role(
            actor=a, membership=t, role="member" if t.role != "member" else "manager"
        ),
    ),
    "app_block": ("active", "active", _app("block")),
    "app_unblock": ("active", "blocked", _app("unblock")),
    "app_delete": ("active", "active", _app("delete")),
    "app_relink": ("active", "revoked", _app("relink")),
}


def test_the_table_covers_every_action_and_permission():
    assert {a for _, a, _ in CELLS} == set(TARGET_ACTIONS)
    assert {a for a, _, _ in CELLS} == set(ACTORS)
    assert set(CELLS.values()) == {"Y", "F", "R"}


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


def _target(organisation, role: str, membership_state: str, app_state: str) -> Membership:
    person = User.objects.create(
        email=f"doel-{User.objects.count()}@zorg.nl",
        name="Doel",
        state=User.INVITED if membership_state == "invited" else User.ACTIVE,
    )
    membership = Membership.objects.create(
        user=person,
        organisation=organisation,
        role=role,
        state=membership_state,
        accepted_at=None if membership_state == "invited" else clock.now(),
    )
    if membership_state == "invited":
        memberships.send_membership_link(membership=membership)
    app_id(person, decided={} if app_state == "active" else {organisation: app_state})
    return membership


def _standing(person: User) -> tuple:
    """Everything an action on this person could change, as plain values."""
    return (
        User.objects.filter(pk=person.pk).values_list("state", "auth_epoch").get(),
        sorted(Membership.objects.filter(user=person).values_list("role", "state")),
        list(AppDevice.objects.filter(user=person).values_list("state", flat=True)),
        decisions(person),
        sorted(LinkToken.objects.filter(user=person).values_list("used_at", "revoked_at", "pk")),
    )


def _effect(action: str, target: Membership) -> None:
    """What an allowed action did, written out."""
    membership = Membership.objects.filter(pk=target.pk).first()
    person = User.objects.get(pk=target.user_id)
    if action == "resend":
        links = LinkToken.objects.filter(membership=target, used_at=None)
        assert sorted(t.revoked_at is None for t in links) == [False, True]
    elif action == "block":
        assert (membership.state, person.state) == ("blocked", "active")
    elif action == "unblock":
        assert (membership.state, person.state) == ("active", "active")
    elif action == "delete":
        assert membership is None
    elif action == "appoint":
        assert membership.role == {"administrator": "member", "manager": "member"}.get(
            target.role, "manager"
        )
    else:  # the organisation's own decision; the app ID itself is the person's
        here = (f"app_{person.pk}", target.organisation.name)
        assert (
            decisions(person)
            == {
                "app_block": {here: "blocked"},
                "app_unblock": {},
                "app_delete": {here: "revoked"},
                "app_relink": {here: "released"},
            }[action]
        )
        assert AppDevice.objects.get(user=person).state == "active"


@pytest.mark.parametrize(
    ("actor_kind", "action", "own", "target_role"),
    list(itertools.product(ACTORS, TARGET_ACTIONS, [True, False], TARGET_ROLES)),
)
def test_acting_on_a_person(two_care_providers, actor_kind, action, own, target_role):
    own_organisation, other_organisation = two_care_providers
    membership_state, app_state, do = TARGET_ACTIONS[action]
    actor = _actor(actor_kind, own_organisation if own else other_organisation)
    target = _target(own_organisation, target_role, membership_state, app_state)
    before, since = _standing(target.user), _last_seq()
    cell = CELLS[(actor_kind, action, target_role)] if own else "F"
    if cell == "Y":
        do(actor, target)
        _effect(action, target)
        assert not AuditEvent.objects.filter(seq__gt=since, action="permission.denied").exists()
    else:
        with pytest.raises(PermissionDenied) as refused:
            do(actor, target)
        _refused_once(refused, REFUSALS[cell], PERMISSION[action], own_organisation, since)
        assert _standing(target.user) == before


@pytest.mark.parametrize(
    ("actor_kind", "action", "target_role"),
    list(itertools.product(["administrator", "manager"], TARGET_ACTIONS, TARGET_ROLES)),
)
def test_a_person_in_both_organisations_is_out_of_the_other_ones_reach(
    two_care_providers, actor_kind, action, target_role
):
    """The other organisation has the same person as its own member: its actions reach its
    own membership and its own decisions about the person's app only, never the person's
    standing in our organisation or what we decided about their app."""
    own_organisation, other_organisation = two_care_providers
    membership_state, app_state, do = TARGET_ACTIONS[action]
    target = _target(own_organisation, target_role, membership_state, app_state)
    theirs = Membership.objects.create(
        user=target.user, organisation=other_organisation, role="member"
    )
    actor = _actor(actor_kind, other_organisation)
    ours_before = Membership.objects.filter(pk=target.pk).values_list("role", "state").get()
    device_before = AppDevice.objects.get(user=target.user).state
    decided_before = _ours(target)
    with contextlib.suppress(DomainError):  # their side may not be in that state
        do(actor, theirs)
    assert Membership.objects.filter(pk=target.pk).values_list("role", "state").get() == (
        ours_before
    )
    assert AppDevice.objects.get(user=target.user).state == device_before
    assert _ours(target) == decided_before
    assert User.objects.get(pk=target.user_id).state == "active" or membership_state == "invited"


def _ours(target: Membership) -> dict:
    return {k: v for k, v in decisions(target.user).items() if k[1] == target.organisation.name}


ORGANISATION_ACTIONS = {
    "create_member": (
        "member",
        lambda a, org, email: members.invite_member(
            actor=a, organisation=org, name="Nieuw", email=email
        ),
    ),
    "appoint_new_administrator": (
        "administrator",
        lambda a, org, email: members.invite_member(
            actor=a, organisation=org, name="Nieuw", email=email, role="administrator"
        ),
    ),
}
#                 create_member appoint_new_administrator   (own organisation; other: F)
ORGANISATION_MATRIX = {
    "administrator": {"create_member": "Y", "appoint_new_administrator": "Y"},
    "manager": {"create_member": "Y", "appoint_new_administrator": "R"},
    "member": {"create_member": "F", "appoint_new_administrator": "F"},
    "operator": {"create_member": "F", "appoint_new_administrator": "F"},
}


@pytest.mark.parametrize(
    ("actor_kind", "action", "own", "existing"),
    list(itertools.product(ACTORS, ORGANISATION_ACTIONS, [True, False], [False, True])),
)
def test_acting_in_an_organisation(two_care_providers, actor_kind, action, own, existing):
    """Inviting a new address, or one that has an account in the other organisation."""
    own_organisation, other_organisation = two_care_providers
    role, do = ORGANISATION_ACTIONS[action]
    actor = _actor(actor_kind, own_organisation if own else other_organisation)
    email = f"n{User.objects.count()}@zorg.nl"
    if existing:
        elsewhere = User.objects.create(email=email, name="Echte Naam", state=User.ACTIVE)
        Membership.objects.create(user=elsewhere, organisation=other_organisation, role="member")
    count, since = Membership.objects.count(), _last_seq()
    cell = ORGANISATION_MATRIX[actor_kind][action] if own else "F"
    if cell == "Y":
        membership = do(actor, own_organisation, email)
        assert Membership.objects.count() == count + 1
        assert (membership.state, membership.role, membership.display_name) == (
            "invited",
            role,
            "Nieuw",
        )
    else:
        with pytest.raises(PermissionDenied) as refused:
            do(actor, own_organisation, email)
        _refused_once(refused, REFUSALS[cell], PERMISSION[action], own_organisation, since)
        assert Membership.objects.count() == count


@pytest.mark.parametrize("actor_kind", ACTORS)
def test_platform_actions_are_for_operators_only(client, login_as, two_care_providers, actor_kind):
    """Seed 003: operators review applications, suspend organisations, add business customers
    and read the platform's audit log; nobody of an organisation does any of it."""
    own_organisation, _other = two_care_providers
    actor = _actor(actor_kind, own_organisation)
    application = applications.submit_application(
        data=application_data(ura="90000999"), locale="nl"
    )
    flows = {
        "applications.review": lambda: applications.approve_application(
            actor=actor, application_id=application.public_id
        ),
        "organisations.suspend": lambda: suspension.suspend_organisation(
            actor=actor, public_id=own_organisation.public_id, reason="onderzoek"
        ),
        "organisations.create_business": lambda: business.create_business_customer(
            actor=actor,
            name="Nieuw Bedrijf",
            kvk_number="87654321",
            manager_name="Bea Beheer",
            manager_email="bea@nieuwbedrijf.nl",
        ),
    }
    login_as(client, actor)
    if actor_kind == "operator":
        for flow in flows.values():
            flow()
        own_organisation.refresh_from_db()
        assert own_organisation.is_suspended
        assert Organisation.objects.filter(kvk_number="87654321").exists()
        assert client.get("/operator/audit").status_code == 200
    else:
        for permission, flow in flows.items():
            since = _last_seq()
            with pytest.raises(PermissionDenied) as refused:
                flow()
            assert refused.value.code == "forbidden"
            assert list(
                AuditEvent.objects.filter(seq__gt=since).values_list("action", "details")
            ) == [("permission.denied", {"action": permission, "reason": "forbidden"})]
        since = _last_seq()
        assert client.get("/operator/audit").status_code == 403
        assert list(AuditEvent.objects.filter(seq__gt=since).values_list("action", "details")) == [
            ("permission.denied", {"action": "audit.platform", "reason": "forbidden"})
        ]
        own_organisation.refresh_from_db()
        assert not own_organisation.is_suspended
        assert Application.objects.get().state == Application.SUBMITTED
        assert not Organisation.objects.filter(kvk_number="87654321").exists()


@pytest.mark.parametrize("role", ["administrator", "manager", "member"])
def test_the_audit_log_page_is_for_administrators(client, login_as, two_care_providers, role):
    own_organisation, other_organisation = two_care_providers
    actor = _actor(role, own_organisation)
    login_as(client, actor)
    own = client.get(f"/beheer/{own_organisation.public_id}/audit")
    other = client.get(f"/beheer/{other_organisation.public_id}/audit")
    assert own.status_code == {"administrator": 200, "manager": 403, "member": 403}[role]
    assert other.status_code == 403
