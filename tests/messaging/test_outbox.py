"""Outgoing mail is written with the change, delivered after commit over real SMTP, and retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from zorgsleutel.core import clock
from zorgsleutel.core.backends import reset_backends
from zorgsleutel.messaging import outbox, tasks
from zorgsleutel.messaging.models import OutboxMail

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.smtp]


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


def test_mail_is_delivered_over_smtp_after_commit(smtp_transport, run_worker):
    with transaction.atomic():
        mail = outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={}, locale="nl")
        assert DBTaskResult.objects.count() == 1  # queued in the same transaction
    assert smtp_transport == []
    run_worker()
    assert len(smtp_transport) == 1
    message = smtp_transport[0]["message"]
    assert smtp_transport[0]["to"] == ["anna@demozorg.nl"]
    assert message["Subject"] == "Zorgsleutel-testbericht"
    assert message["Message-ID"] == f"<{mail.message_id}@zorgsleutel>"
    assert message.get_body(("plain",)).get_content().startswith("Beste,")
    assert "<p>" in message.get_body(("html",)).get_content()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (OutboxMail.SENT, 1)


def test_english_mail(smtp_transport, run_worker):
    outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={}, locale="en")
    run_worker()
    assert smtp_transport[0]["message"]["Subject"] == "Zorgsleutel test message"


def test_nothing_is_sent_for_a_change_that_rolled_back(smtp_transport, run_worker):
    with pytest.raises(RuntimeError, match="the change failed"), transaction.atomic():
        outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={})
        raise RuntimeError("the change failed")
    run_worker()
    assert smtp_transport == []
    assert not OutboxMail.objects.exists() and not DBTaskResult.objects.exists()


def _use_smtp(settings, url: str) -> None:
    settings.MAIL_TRANSPORTS = {
        "default": {
            "BACKEND": "zorgsleutel.messaging.transports.SmtpTransport",
            "OPTIONS": {"url": url},
        }
    }
    reset_backends()


def test_a_failed_delivery_is_retried_with_backoff_and_not_lost(settings, smtp_server, run_worker):
    url, received = smtp_server
    host_port = url.rsplit(":", 1)
    _use_smtp(settings, f"{host_port[0]}:1?timeout=2")  # nothing listens on port 1
    mail = outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={})
    run_worker()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (OutboxMail.PENDING, 1)
    assert mail.last_error and mail.next_attempt_at > clock.now() + timedelta(seconds=20)
    retry = DBTaskResult.objects.filter(status="READY").get()
    assert retry.run_after == mail.next_attempt_at
    run_worker()  # not due yet: nothing happens
    assert OutboxMail.objects.get().attempts == 1

    _use_smtp(settings, url)  # the SMTP server is back
    DBTaskResult.objects.filter(pk=retry.pk).update(run_after=clock.now())
    run_worker()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.last_error) == (OutboxMail.SENT, 2, "")
    assert len(received) == 1
    reset_backends()


def test_a_mail_is_tried_eight_times_at_growing_intervals_then_marked_failed(settings, run_worker):
    """policies.MAIL_MAX_ATTEMPTS = 8 and MAIL_RETRY_BACKOFF, written out: each failed attempt
    plans the next this much later; the eighth failure is final (and stays visible)."""
    _use_smtp(settings, "smtp://127.0.0.1:1?timeout=2")  # nothing listens on port 1
    # A year ahead: the worker's own clock finds each planned retry not due until we say so.
    at = clock.now() + timedelta(days=365)
    with clock.frozen(at):
        mail = outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={})
    waits = []
    for _ in range(20):
        with clock.frozen(at):
            run_worker()
        mail.refresh_from_db()
        if mail.status != OutboxMail.PENDING:
            break
        waits.append(mail.next_attempt_at - at)
        at = mail.next_attempt_at
        retry = DBTaskResult.objects.filter(status="READY").get()
        assert retry.run_after == at
        DBTaskResult.objects.filter(pk=retry.pk).update(run_after=clock.now())  # due now
    assert waits == [
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=3),
        timedelta(hours=6),
    ]
    assert (mail.status, mail.attempts, mail.next_attempt_at) == (OutboxMail.FAILED, 8, None)
    reset_backends()


def test_a_mail_stranded_by_a_dead_worker_is_requeued(settings, smtp_transport, run_worker):
    mail = outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={})
    # A worker claimed it and died mid-send: the task is gone, the mail says "sending".
    DBTaskResult.objects.all().delete()
    OutboxMail.objects.filter(pk=mail.pk).update(
        status=OutboxMail.SENDING, attempts=1, claimed_at=clock.now() - timedelta(hours=1)
    )
    assert tasks.requeue_stranded() == 1
    run_worker()
    mail.refresh_from_db()
    assert mail.status == OutboxMail.SENT and len(smtp_transport) == 1


def test_a_mail_whose_task_died_before_the_claim_is_requeued(smtp_transport, run_worker):
    """Found by bench/campaign.py: a worker killed after taking the task but before claiming the
    mail left it `pending` with no task; the sweep must send it, exactly once."""
    mail = outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={})
    # The worker took the task (RUNNING) and was killed before it claimed the mail.
    DBTaskResult.objects.update(status="RUNNING", started_at=clock.now() - timedelta(hours=1))
    OutboxMail.objects.filter(pk=mail.pk).update(created_at=clock.now() - timedelta(hours=1))
    assert tasks.requeue_stranded() == 1
    assert DBTaskResult.objects.filter(status="FAILED").count() == 1  # no longer "RUNNING"
    assert tasks.requeue_stranded() == 1  # a second sweep queues it again: harmless
    run_worker()
    mail.refresh_from_db()
    assert mail.status == OutboxMail.SENT and len(smtp_transport) == 1


def test_mail_planned_for_later_is_not_swept_early(smtp_transport):
    later = clock.now() + timedelta(days=3)
    mail = outbox.enqueue_mail(template="test", to="anna@demozorg.nl", context={}, send_at=later)
    OutboxMail.objects.filter(pk=mail.pk).update(created_at=clock.now() - timedelta(hours=1))
    assert tasks.requeue_stranded() == 0


def test_one_smtp_connection_serves_many_mails_and_is_renewed_when_dropped(
    smtp_transport, run_worker
):
    from zorgsleutel.core.backends import load_backend

    for n in range(3):
        outbox.enqueue_mail(template="test", to=f"p{n}@demozorg.nl", context={})
    run_worker()
    assert len(smtp_transport) == 3
    assert len({m["peer"] for m in smtp_transport}) == 1  # one connection for all three
    transport = load_backend("MAIL_TRANSPORTS")
    transport._backend.connection.sock.close()  # the server dropped the idle connection
    outbox.enqueue_mail(template="test", to="later@demozorg.nl", context={})
    run_worker()
    assert len(smtp_transport) == 4 and OutboxMail.objects.filter(status="sent").count() == 4
