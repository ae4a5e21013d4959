"""Blocking ends every session at once; deleting the last membership erases and anonymises."""

from __future__ import annotations

import pytest

from zorgsleutel import vaultclient
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core import audit
from zorgsleutel.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_block_ends_all_sessions_at_once(client, organisation, person, login_as):
    manager = person(organisation, "manager")
    member = person(organisation, "member")
    login_as(client, member)
    assert client.get("/mijn").status_code == 200
    members.block_member(actor=manager, membership=member.memberships.get())
    assert client.get("/mijn").status_code == 302  # logged out on the next request
    member.refresh_from_db()
    # The membership is blocked; the account (the person's own) is untouched.
    assert member.state == User.ACTIVE and member.check_password("Sterk-wachtwoord-2026")
    assert member.memberships.get().state == "blocked"
    members.unblock_member(actor=manager, membership=member.memberships.get())
    assert member.memberships.get().state == "active"


def test_managers_cannot_act_on_themselves(organisation, person):
    from zorgsleutel.core.errors import PermissionDenied

    manager = person(organisation, "manager")
    with pytest.raises(PermissionDenied) as refused:
        members.block_member(actor=manager, membership=manager.memberships.get())
    assert refused.value.code == "not_yourself"


def test_delete_last_membership_erases_phone_and_anonymises(
    organisation, person, vault_service, sms_code, django_capture_on_commit_callbacks
):
    manager = person(organisation, "manager")
    member = person(organisation, "member", email="weg@zorggroep.nl", name="Willem Weg")
    sent = vault_service.enrol(phone="06 4999 0001")
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    member.phone_enrolment = sent.enrolment
    member.save()
    public_id = member.public_id
    with django_capture_on_commit_callbacks(execute=True):  # the erase follows the commit
        members.delete_member(actor=manager, membership=member.memberships.get())
    member.refresh_from_db()
    assert member.state == User.DELETED and member.name == "" and "weg@" not in member.email
    assert not member.has_usable_password() and member.phone_enrolment == ""
    with pytest.raises(vaultclient.VaultRefused) as erased:
        vault_service.hint(enrolment=sent.enrolment)
    assert erased.value.code == "unknown_enrolment"
    events = AuditEvent.objects.filter(target=f"user:{public_id}")
    assert {"member.deleted", "account.anonymised"} <= set(events.values_list("action", flat=True))
    # The account keeps nothing of the person. The organisation's own event of the deletion
    # keeps the address it knew them by (docs/accounts.md, "Audit"), so that its log still
    # reads; no other event holds it (the platform's account.anonymised does not).
    holding = AuditEvent.objects.filter(details__icontains="weg@zorggroep.nl")
    assert [(e.action, e.organisation, e.details) for e in holding] == [
        (
            "member.deleted",
            organisation.audit_ref,
            {"names": {f"user:{public_id}": "weg@zorggroep.nl", manager.audit_ref: manager.email}},
        )
    ]
    assert audit.verify_chain().ok


def test_delete_keeps_an_account_with_other_memberships(organisation, other_organisation, person):
    manager = person(organisation, "manager")
    member = person(organisation, "member", email="gast@zorggroep.nl")
    Membership.objects.create(user=member, organisation=other_organisation, role="member")
    members.delete_member(
        actor=manager, membership=member.memberships.get(organisation=organisation)
    )
    member.refresh_from_db()
    assert member.state == User.ACTIVE and member.memberships.count() == 1
