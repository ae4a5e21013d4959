"""What leaves the database happens only once the outermost transaction commits: erasing a
vault enrolment, texting the old number after a reset (transaction.on_commit) and mail (the
outbox row and its delivery task are rows in the same transaction; the worker reads committed
rows only). Each flow runs inside an outer transaction that rolls back, then one that commits."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from zorgsleutel import vaultclient
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.flows import credentials, members, notme, reset
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core.backends import reset_backends
from zorgsleutel.messaging.models import OutboxMail

NEW_PASSWORD = "Ander-wachtwoord-2026"
NOTICE = "Zorgsleutel: uw wachtwoord en mobiele telefoonnummer zijn gewijzigd."


class Rollback(Exception):
    """Raised at the end of the outer transaction to roll it back."""


def in_vault(vault_service, enrolment: str) -> bool:
    try:
        vault_service.hint(enrolment=enrolment)
    except vaultclient.VaultRefused as refused:
        assert refused.code == "unknown_enrolment"
        return False
    return True


@pytest.fixture
def phone(vault_service, sms_code, fresh_number):
    """`phone(last_two)`: a confirmed vault enrolment for a fresh number."""

    def enrol(last_two: str = "01") -> str:
        sent = vault_service.enrol(phone=fresh_number(last_two))
        assert vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint)).ok
        return sent.enrolment

    return enrol


@pytest.mark.django_db
def test_deleting_a_member_erases_the_phone_after_the_outer_commit(
    organisation, person, phone, vault_service, django_capture_on_commit_callbacks
):
    manager = person(organisation, "manager")
    member = person(organisation, "member", email="weg@zorggroep.nl")
    member.phone_enrolment = enrolment = phone()
    member.save()
    with pytest.raises(Rollback), transaction.atomic():
        members.delete_member(actor=manager, membership=member.memberships.get())
        assert in_vault(vault_service, enrolment)  # the flow's transaction is done, this one not
        raise Rollback
    member.refresh_from_db()
    assert (member.state, member.phone_enrolment) == (User.ACTIVE, enrolment)
    assert in_vault(vault_service, enrolment)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        members.delete_member(actor=manager, membership=member.memberships.get())
        assert in_vault(vault_service, enrolment)
    assert not in_vault(vault_service, enrolment)
    member.refresh_from_db()
    assert member.state == User.DELETED


@pytest.mark.django_db
def test_dit_was_ik_niet_erases_the_phone_after_the_outer_commit(
    organisation, person, phone, vault_service, django_capture_on_commit_callbacks
):
    member = person(organisation, "member", email="lid@zorggroep.nl")
    member.phone_enrolment = enrolment = phone()
    member.save()
    raw = tokens.issue(user=member, purpose=LinkToken.NOT_ME, ttl=timedelta(days=14))
    with pytest.raises(Rollback), transaction.atomic():
        assert len(notme.report_not_me(raw=raw).blocked) == 1
        assert in_vault(vault_service, enrolment)
        raise Rollback
    assert member.memberships.get().state == Membership.ACTIVE
    assert in_vault(vault_service, enrolment)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert len(notme.report_not_me(raw=raw).blocked) == 1
        assert in_vault(vault_service, enrolment)
    assert not in_vault(vault_service, enrolment)
    assert member.memberships.get().state == Membership.BLOCKED


def _notices(vault_service, hint: str) -> int:
    return sum(1 for m in vault_service.dev_sms() if m["to"] == hint and NOTICE in m["body"])


@pytest.mark.django_db
@pytest.mark.usefixtures("clear_throttles")
def test_a_reset_tells_and_erases_the_old_number_after_the_outer_commit(
    organisation,
    person,
    phone,
    vault_service,
    sms_code,
    fresh_number,
    django_capture_on_commit_callbacks,
):
    member = person(organisation, "member", email="reset@zorggroep.nl")
    member.phone_enrolment = old = phone("73")
    member.save()
    old_hint = vault_service.hint(enrolment=old)
    told = _notices(vault_service, old_hint)

    def reset_with_new_phone() -> User:
        raw = tokens.issue(user=member, purpose=LinkToken.PASSWORD_RESET, ttl=timedelta(minutes=60))
        pending = credentials.start_setup(
            token=credentials.open_link(raw, LinkToken.PASSWORD_RESET),
            password=NEW_PASSWORD,
            password_again=NEW_PASSWORD,
            phone=fresh_number("74"),
            locale="nl",
        )
        return credentials.complete_setup(
            pending=pending, code=sms_code(pending.hint), log_in=lambda user: None
        )

    with pytest.raises(Rollback), transaction.atomic():
        reset_with_new_phone()
        assert in_vault(vault_service, old) and _notices(vault_service, old_hint) == told
        raise Rollback
    member.refresh_from_db()
    assert member.phone_enrolment == old and not member.check_password(NEW_PASSWORD)
    assert in_vault(vault_service, old) and _notices(vault_service, old_hint) == told

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        reset_with_new_phone()
        assert in_vault(vault_service, old) and _notices(vault_service, old_hint) == told
    assert _notices(vault_service, old_hint) == told + 1  # told first (it needs the enrolment),
    assert not in_vault(vault_service, old)  # then erased


@pytest.fixture
def smtp_transport(settings, smtp_server):
    url, received = smtp_server
    settings.MAIL_TRANSPORTS = {
        "default": {
            "BACKEND": "zorgsleutel.messaging.transports.SmtpTransport",
            "OPTIONS": {"url": url},
        }
    }
    reset_backends()
    yield received
    reset_backends()


@pytest.mark.django_db(transaction=True)
@pytest.mark.smtp
def test_an_invitation_is_mailed_only_after_the_outer_commit(
    organisation, person, smtp_transport, run_worker
):
    manager = person(organisation, "manager")

    def invite() -> None:
        members.invite_member(
            actor=manager, organisation=organisation, name="Nieuw", email="nieuw@zorggroep.nl"
        )

    with pytest.raises(Rollback), transaction.atomic():
        invite()
        assert OutboxMail.objects.filter(to="nieuw@zorggroep.nl").count() == 1
        assert smtp_transport == []  # queued with the change, not sent
        raise Rollback
    assert not OutboxMail.objects.exists() and not DBTaskResult.objects.exists()
    run_worker()
    assert smtp_transport == []

    with transaction.atomic():
        invite()
    run_worker()
    assert [m["to"] for m in smtp_transport] == [["nieuw@zorggroep.nl"]]


@pytest.mark.django_db(transaction=True)
@pytest.mark.smtp
@pytest.mark.usefixtures("clear_throttles")
def test_a_reset_link_is_looked_up_and_mailed_only_after_the_outer_commit(
    organisation, person, smtp_transport, run_worker
):
    person(organisation, "member", email="vergeten@zorggroep.nl")
    with pytest.raises(Rollback), transaction.atomic():
        reset.request_reset(email="vergeten@zorggroep.nl")
        assert DBTaskResult.objects.count() == 1  # the lookup is queued with the event
        raise Rollback
    assert not DBTaskResult.objects.exists()
    run_worker()
    assert smtp_transport == [] and not OutboxMail.objects.exists()

    with transaction.atomic():
        reset.request_reset(email="vergeten@zorggroep.nl")
    run_worker()
    assert [m["to"] for m in smtp_transport] == [["vergeten@zorggroep.nl"]]
