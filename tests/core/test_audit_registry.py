"""Audit event types are one registry (core/auditevents.py): recording anything it does not
list fails, and the logs show each reader the types the registry gives them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import zorgsleutel
from zorgsleutel import policies
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core import audit, auditevents, clock
from zorgsleutel.core.auditevents import PlatformOnlyEvent, UnknownDetailField, UnknownEventType
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.people import personevents

# Written from docs/accounts.md and the seeds: an organisation's administrators read what
# happened to their organisation and to their own people (logins, app IDs, beheer); operators
# read everything, including what would tell an organisation about an address or an account
# (password reset, activation, anonymisation) and the platform's own work.
READ_BY_ADMINISTRATORS = {
    "login.password_failed", "login.refused", "login.code_failed", "login.succeeded",
    "logout.succeeded",
    "app.enrolment_refused", "app.enrolled", "app.bad_signature", "app.wrong_pin",
    "app.login_approved", "app.login_refused", "app.revoked", "app.revoke_refused",
    "app.blocked", "app.unblocked",
    "app.deleted", "app.released",
    "account.reported_not_me", "phone.notice_sent", "authenticator.link_notice",
    "member.created", "member.imported", "member.activation_resent", "member.accepted",
    "member.role_changed", "member.blocked", "member.unblocked", "member.deleted",
    "permission.denied", "apitoken.created", "apitoken.revoked",
    "organisation.created", "organisation.validated", "organisation.validation_resumed",
    "organisation.suspended", "organisation.reinstated",
    "card_order.placed", "card_order.shipped", "card_order.cancelled",
    "smartcard.identity_confirmed", "uzi.bound", "smartcard.issued", "smartcard.renewed",
    "smartcard.blocked", "smartcard.unblocked", "smartcard.deleted", "smartcard.reported_lost",
    # Single sign-on: the applications that may receive an organisation's people, and who of
    # its people signed in to which (docs/oidc.md).
    "sso_client.registered", "sso_client.deleted", "sso.code_issued", "sso.code_exchanged",
    "sso.code_reused", "sso.token_revoked", "sso.token_refreshed", "sso.refresh_reused",
    "sso.consent_given", "sso.consent_refused", "sso.consent_revoked",
    "sso.logged_out", "sso.logout_sent", "sso.logout_failed",
}  # fmt: skip
READ_BY_OPERATORS_ONLY = {
    "login.throttled", "login.code_sent", "login.code_resent", "sms.send_refused",
    "ratelimit.refused",
    "app.enrolment_started", "card.accepted", "card.refused", "card.forged_header",
    "card.other_browser",
    "account.setup_code_sent", "account.setup_code_wrong", "account.activated",
    "account.credentials_reset", "account.anonymised", "account.created", "account.phone_set",
    "password_reset.requested", "password_reset.refused", "password_reset.link_sent",
    "phone.notice_failed", "phone.erase_failed", "organisation.validation_refused",
    "application.submitted", "application.approved", "application.link_renewed",
    "application.rejected", "operator.created", "mail.test_queued",
    "smartcard.responder_certified",
    # Single sign-on refusals that name no organisation of the person, and the keys.
    "sso.authorize_refused", "sso.token_refused",
    "sso_key.published", "sso_key.activated", "sso_key.retired", "sso_key.removed",
    "sso_key.resealed", "sso_secret.created", "sso_secret.resealed",
}  # fmt: skip


@pytest.fixture
def organisation(db):
    return Organisation.objects.create(
        name="Zorggroep Register", kind=Organisation.CARE_PROVIDER, ura="90000222"
    )


@pytest.fixture
def member(organisation):
    user = User.objects.create(email="lid@register.nl", name="Lid", state=User.ACTIVE)
    Membership.objects.create(user=user, organisation=organisation, role="member")  # accepted
    return user


# --- Recording refuses what the registry does not list --------------------------------------


@pytest.mark.django_db
def test_an_unknown_type_fails_and_writes_nothing():
    with pytest.raises(UnknownEventType, match=r"'member\.blokked'"):
        audit.record("member.blokked", actor="cli")
    assert not AuditEvent.objects.exists()


def test_a_field_the_type_does_not_list_fails(organisation):
    with pytest.raises(UnknownDetailField, match="carries no field rol "):
        audit.record(
            "member.imported", actor="cli", organisation=organisation, details={"rol": "member"}
        )
    audit.record(
        "member.imported", actor="cli", organisation=organisation, details={"role": "member"}
    )
    assert list(AuditEvent.objects.values_list("action", "details")) == [
        ("member.imported", {"role": "member"})
    ]


def test_record_for_person_refuses_a_misspelt_keyword_and_field(member):
    with pytest.raises(TypeError, match="'outcom'"):
        personevents.record_for_person(
            "login.code_failed", person=member, actor=member, outcom=audit.FAILURE
        )
    with pytest.raises(UnknownDetailField, match="carries no field reslt "):
        personevents.record_for_person(
            "login.code_failed", person=member, actor=member, details={"reslt": "wrong"}
        )
    assert not AuditEvent.objects.exists()
    personevents.record_for_person(
        "login.code_failed",
        person=member,
        actor=member,
        outcome=audit.FAILURE,
        details={"result": "wrong"},
    )
    event = AuditEvent.objects.get()
    assert (event.organisation, event.outcome, event.details) == (
        member.memberships.get().organisation.audit_ref,
        "failure",
        {"result": "wrong", "names": {member.audit_ref: "lid@register.nl"}},
    )


def test_an_operators_only_type_is_never_recorded_for_an_organisation(organisation, member):
    with pytest.raises(PlatformOnlyEvent, match=r"'account\.anonymised'"):
        audit.record("account.anonymised", actor="cli", organisation=organisation, target=member)
    with pytest.raises(PlatformOnlyEvent, match=r"'password_reset\.link_sent'"):
        personevents.record_for_person("password_reset.link_sent", person=member, actor="system")
    assert not AuditEvent.objects.exists()


def test_names_are_written_by_the_log_never_by_a_caller(organisation, member):
    """`names` (the addresses an organisation knows its people by) is audit.record's alone: a
    flow cannot make an organisation's log name someone it does not know."""
    with pytest.raises(UnknownDetailField, match="carries no field names "):
        audit.record(
            "member.blocked",
            actor="cli",
            organisation=organisation,
            target=member,
            details={"names": {member.audit_ref: "iemand@anders.nl"}},
        )
    assert not AuditEvent.objects.exists()
    audit.record("member.blocked", actor="cli", organisation=organisation, target=member)
    audit.record("account.anonymised", actor="cli", target=member)  # the platform's: none
    assert list(AuditEvent.objects.order_by("seq").values_list("action", "details")) == [
        ("member.blocked", {"names": {member.audit_ref: "lid@register.nl"}}),
        ("account.anonymised", {}),
    ]


# --- Who reads what ---------------------------------------------------------------------------


def test_the_registry_gives_these_readers():
    assert auditevents.ADMINISTRATOR == policies.ADMINISTRATOR
    assert auditevents.read_by("administrator") == READ_BY_ADMINISTRATORS
    assert auditevents.read_by("operator") == READ_BY_ADMINISTRATORS | READ_BY_OPERATORS_ONLY
    assert set(auditevents.EVENT_TYPES) == READ_BY_ADMINISTRATORS | READ_BY_OPERATORS_ONLY
    assert auditevents.read_by("manager") == set()
    assert auditevents.read_by("member") == set()


def _actions(html: str) -> set[str]:
    """The event types of a log page's rows (each row says its type in data-event)."""
    return set(re.findall(r'<tr class="event" data-event="([a-z_]+\.[a-z_]+)">', html))


def test_the_logs_show_what_the_registry_says(client, login_as, organisation, member):
    for name, event_type in auditevents.EVENT_TYPES.items():
        mine = organisation if auditevents.ADMINISTRATOR in event_type.readers else None
        audit.record(name, actor="cli", organisation=mine, target=member)
    # An event stored for the organisation past record() (an old row, a bug): the page still
    # shows administrators only what the registry gives them.
    AuditEvent(
        occurred_at=clock.now(),
        actor="cli",
        organisation=organisation.audit_ref,
        action="account.anonymised",
        target=member.audit_ref,
        outcome="success",
        prev_hash="",
        hash="",
        seq=999,
    ).save_new()

    administrator = User.objects.create(email="admin@register.nl", state=User.ACTIVE)
    Membership.objects.create(user=administrator, organisation=organisation, role="administrator")
    login_as(client, administrator)
    page = client.get(f"/beheer/{organisation.public_id}/audit").content.decode()
    assert _actions(page) == READ_BY_ADMINISTRATORS
    manager = User.objects.create(email="beheer@register.nl", state=User.ACTIVE)
    Membership.objects.create(user=manager, organisation=organisation, role="manager")
    login_as(client, manager)
    assert client.get(f"/beheer/{organisation.public_id}/audit").status_code == 403

    operator = User.objects.create(email="ops@register.test", state=User.ACTIVE, is_operator=True)
    login_as(client, operator)
    seen = set()
    for number in (1, 2, 3):
        seen |= _actions(client.get("/operator/audit", {"page": number}).content.decode())
    assert seen == READ_BY_ADMINISTRATORS | READ_BY_OPERATORS_ONLY


# --- The source records registered names only, and every registered name is recorded --------

SOURCE = Path(zorgsleutel.__file__).parent


def _portal_modules():
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE).parts
        if parts[0] != "vault" and "migrations" not in parts:
            yield path, ast.parse(path.read_text(), filename=str(path))


def _is_recording(call: ast.Call) -> bool:
    """audit.record(...), personevents.record_for_person(...), or a module's own helper that passes
    its first argument on to them (authn/password.py's _record_own)."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return isinstance(func.value, ast.Name) and func.value.id == "audit"
    return isinstance(func, ast.Name) and func.id.startswith("_record")


def test_every_literal_action_in_the_source_is_registered():
    recorded = []
    for path, tree in _portal_modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and _is_recording(node) and node.args:
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    recorded.append((f"{path.relative_to(SOURCE)}:{node.lineno}", first.value))
    unknown = [(where, name) for where, name in recorded if name not in auditevents.EVENT_TYPES]
    assert unknown == []
    assert len(recorded) > 60  # the walk found the call sites (about 70 today)
    assert ("accounts/flows/members.py", "member.deleted") in {
        (where.split(":")[0], name) for where, name in recorded
    }


def test_every_registered_type_is_used_somewhere():
    constants = {
        node.value
        for path, tree in _portal_modules()
        if path.name != "auditevents.py"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert set(auditevents.EVENT_TYPES) - constants == set()
