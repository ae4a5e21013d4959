"""The audit log: append-only, hash-chained, verifiable, written with the change it records."""

from __future__ import annotations

import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from zorgsleutel.core import audit, requestcontext
from zorgsleutel.core.models import AppendOnlyError, AuditEvent


@pytest.mark.django_db
def test_events_form_a_chain_that_verifies():
    token = requestcontext.activate(
        requestcontext.RequestContext(ip="192.0.2.7", user_agent="test")
    )
    try:
        first = audit.record(
            "application.rejected", actor="cli", target="thing:1", details={"reason": "a"}
        )
        second = audit.record(
            "phone.notice_failed", actor="cli", target="thing:1", outcome=audit.FAILURE
        )
    finally:
        requestcontext.reset(token)
    assert first.prev_hash == audit.GENESIS
    assert second.prev_hash == first.hash
    assert (second.seq, second.ip, second.user_agent) == (2, "192.0.2.7", "test")
    report = audit.verify_chain()
    assert report.ok and report.checked == 2


@pytest.mark.django_db
def test_the_application_cannot_change_or_delete_events():
    event = audit.record("operator.created", actor="cli")
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(pk=event.pk).update(action="nothing")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()


def test_the_database_refuses_changes_below_the_application(audit_db_guard):
    event = audit.record("operator.created", actor="cli")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET action = 'x' WHERE id = %s", [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE id = %s", [event.pk])


@pytest.mark.django_db
def test_tampering_is_detected_by_audit_verify(capsys):
    for n in range(5):
        audit.record("operator.created", actor="cli", target=f"thing:{n}")
    call_command("audit", "verify")
    assert "5 event(s) verified" in capsys.readouterr().out
    with connection.cursor() as cursor:  # someone with raw SQL access (and no triggers)
        cursor.execute("UPDATE core_auditevent SET actor = 'someone-else' WHERE seq = 3")
    with pytest.raises(CommandError, match="BROKEN at event 3"):
        call_command("audit", "verify")


@pytest.mark.django_db
def test_a_deleted_event_is_detected():
    for n in range(3):
        audit.record("operator.created", actor="cli", target=f"thing:{n}")
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent WHERE seq = 3")
    report = audit.verify_chain()
    assert not report.ok and report.reason == "events missing at the end"


@pytest.mark.django_db
def test_an_event_rolls_back_with_its_change():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit.record("operator.created", actor="cli")
        raise RuntimeError("the change failed")
    assert not AuditEvent.objects.exists()
    assert audit.verify_chain().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_one_linear_chain():
    errors = []

    def write(n: int) -> None:
        try:
            for i in range(10):
                audit.record("operator.created", actor=f"writer:{n}", target=f"thing:{i}")
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert AuditEvent.objects.count() == 40
    assert audit.verify_chain().ok
