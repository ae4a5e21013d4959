"""The permission matrix: each role × each Beheer action × own or other organisation.

Allowed exactly where policies.PERMISSIONS says; everywhere else refused, audited, and nothing
changes. Nobody, whatever the role, has a way to set or see a password or phone number.
"""

from __future__ import annotations

import itertools

import pytest

from zorgsleutel import policies
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core.errors import PermissionDenied
from zorgsleutel.core.models import AuditEvent

pytestmark = pytest.mark.django_db

ROLES = ["administrator", "manager", "member"]
ACTIONS = {
    "members.create": lambda actor, target, org: members.invite_member(
        actor=actor,
        organisation=org,
        name="Nieuw",
        email=f"nieuw{User.objects.count()}@zorggroep.nl",
    ),
    "members.resend_activation": lambda actor, target, org: members.resend_activation(
        actor=actor, membership=target
    ),
    "members.block": lambda actor, target, org: members.block_member(
        actor=actor, membership=target
    ),
    "members.delete": lambda actor, target, org: members.delete_member(
        actor=actor, membership=target
    ),
}


def _invited_target(organisation) -> Membership:
    user = User.objects.create(email=f"doel{User.objects.count()}@zorggroep.nl", name="Doel")
    return Membership.objects.create(user=user, organisation=organisation, role="member")


@pytest.mark.parametrize(
    ("role", "action", "own"), list(itertools.product(ROLES, ACTIONS, [True, False]))
)
def test_matrix(organisation, other_organisation, person, role, action, own, vault_service):
    home = organisation if own else other_organisation
    actor = person(home, role)
    target = _invited_target(organisation)
    allowed = own and policies.allows(role, action)
    before = (
        User.objects.filter(pk=target.user_id).values("state", "password", "phone_enrolment").get()
    )
    if allowed:
        ACTIONS[action](actor, target, organisation)
    else:
        with pytest.raises(PermissionDenied):
            ACTIONS[action](actor, target, organisation)
        after = (
            User.objects.filter(pk=target.user_id)
            .values("state", "password", "phone_enrolment")
            .get()
        )
        assert after == before
        assert Membership.objects.filter(pk=target.pk).exists()
        assert AuditEvent.objects.filter(action="permission.denied", outcome="denied").exists()


def test_unblock_follows_the_matrix(organisation, other_organisation, person):
    for role, own in itertools.product(ROLES, [True, False]):
        actor = person(organisation if own else other_organisation, role)
        target = _invited_target(organisation)
        User.objects.filter(pk=target.user_id).update(state=User.BLOCKED)
        if own and policies.allows(role, "members.unblock"):
            members.unblock_member(actor=actor, membership=target)
        else:
            with pytest.raises(PermissionDenied):
                members.unblock_member(actor=actor, membership=target)


@pytest.mark.parametrize("role", ROLES)
def test_the_members_page_follows_the_matrix(
    client, organisation, other_organisation, person, role, login_as
):
    actor = person(organisation, role)
    login_as(client, actor)
    own = client.get(f"/beheer/{organisation.public_id}")
    other = client.get(f"/beheer/{other_organisation.public_id}")
    assert own.status_code == (200 if policies.allows(role, "members.view") else 403)
    assert other.status_code == 403


def test_no_page_shows_or_sets_a_password_or_phone(client, organisation, person, login_as):
    admin = person(organisation, "administrator")
    target = person(organisation, "member", email="doelwit@zorggroep.nl")
    target.phone_enrolment = "enr_secret_reference"
    target.save()
    login_as(client, admin)
    page = client.get(f"/beheer/{organisation.public_id}").content.decode()
    assert "doelwit@zorggroep.nl" in page
    assert target.password not in page and "enr_secret_reference" not in page
    assert 'type="password"' not in page and "telefoon" not in page.lower()
    new = client.get(f"/beheer/{organisation.public_id}/nieuwe-gebruiker").content.decode()
    assert 'name="password"' not in new and 'name="phone"' not in new
    # No URL accepts a password or phone for someone else: the only forms that do are the
    # person's own activation and reset links.
    from django.urls import get_resolver

    names = {p.name for p in get_resolver("zorgsleutel.accounts.urls").url_patterns}
    assert not any("password" in (n or "") and "forgot" not in (n or "") for n in names)


@pytest.mark.parametrize("command", ["changepassword", "createsuperuser"])
def test_no_command_sets_someone_elses_password(command, organisation, person):
    from django.core.management import CommandError, call_command

    target = person(organisation, "member", email="doel@zorggroep.nl")
    before = target.password
    with pytest.raises(CommandError, match="Not available"):
        call_command(command, "doel@zorggroep.nl")
    target.refresh_from_db()
    assert target.password == before
