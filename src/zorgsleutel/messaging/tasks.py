"""Worker task: deliver one outbox mail, retrying with backoff (policies.MAIL_RETRY_BACKOFF).

The mail is claimed (pending -> sending) in one short transaction, handed to the transport
outside any transaction (a slow SMTP server must not hold database locks), and the outcome is
written in a second transaction. A worker killed mid-send leaves the mail `sending`;
`requeue_stranded()` puts such mails back after a while, so nothing is ever lost.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django_tasks import TaskResultStatus, task
from django_tasks_db.models import DBTaskResult

from zorgsleutel import policies
from zorgsleutel.core import clock
from zorgsleutel.core.backends import load_backend
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.messaging.transports import TransportError

logger = logging.getLogger(__name__)


class WorkerDied(Exception):
    """A delivery task whose worker process was killed before it finished."""


def _claim(mail_id: int) -> OutboxMail | None:
    with transaction.atomic():
        mail = OutboxMail.objects.select_for_update().filter(pk=mail_id).first()
        if mail is None or mail.status != OutboxMail.PENDING:
            return None
        mail.status = OutboxMail.SENDING
        mail.attempts += 1
        mail.claimed_at = clock.now()
        mail.save(update_fields=["status", "attempts", "claimed_at"])
        return mail


@task(queue_name="mail")
def deliver_mail(mail_id: int) -> str:
    mail = _claim(mail_id)
    if mail is None:
        return "skipped"
    try:
        load_backend("MAIL_TRANSPORTS").send(mail)
    except TransportError as exc:
        return _failed(mail, exc)
    with transaction.atomic():
        OutboxMail.objects.filter(pk=mail.pk).update(
            status=OutboxMail.SENT, sent_at=clock.now(), last_error="", next_attempt_at=None
        )
    return OutboxMail.SENT


def _failed(mail: OutboxMail, exc: Exception) -> str:
    with transaction.atomic():
        if mail.attempts >= policies.MAIL_MAX_ATTEMPTS:
            status, next_at = OutboxMail.FAILED, None
            logger.error(
                "mail %s failed for good after %s attempts: %s", mail.pk, mail.attempts, exc
            )
        else:
            status = OutboxMail.PENDING
            next_at = clock.now() + policies.mail_retry_delay(mail.attempts)
            deliver_mail.using(run_after=next_at).enqueue(mail.pk)
            logger.warning("mail %s attempt %s failed: %s", mail.pk, mail.attempts, exc)
        OutboxMail.objects.filter(pk=mail.pk).update(
            status=status, next_attempt_at=next_at, last_error=str(exc)[:500]
        )
    return status


def requeue_stranded(*, older_than: timedelta = timedelta(minutes=15)) -> int:
    """Re-queue mails whose delivery was lost, and return how many.

    Two ways a delivery gets lost: a worker dies after claiming the mail (it stays `sending`), or
    it dies after taking the task but before claiming the mail (the task is gone, the mail stays
    `pending`). Both are queued again once they are older than `older_than` and not waiting for a
    planned attempt. A second task for a mail that still has one is harmless: only one of them
    can claim it (pending -> sending under a row lock), the other skips it.
    """
    cutoff = clock.now() - older_than
    count = 0
    with transaction.atomic():
        stuck = OutboxMail.objects.select_for_update().filter(
            status=OutboxMail.SENDING, claimed_at__lt=cutoff
        )
        for mail_id in list(stuck.values_list("pk", flat=True)):
            OutboxMail.objects.filter(pk=mail_id).update(status=OutboxMail.PENDING)
            deliver_mail.enqueue(mail_id)
            count += 1
        # The dead worker's own task rows would say RUNNING forever: close them as failed.
        # (A delivery takes seconds at most, its SMTP timeout included.)
        dead = DBTaskResult.objects.filter(
            status=TaskResultStatus.RUNNING,
            task_path=deliver_mail.module_path,
            started_at__lt=cutoff,
        )
        for task_row in dead:
            task_row.set_failed(WorkerDied("the worker running this delivery stopped"))
        waiting = OutboxMail.objects.filter(
            status=OutboxMail.PENDING, created_at__lt=cutoff
        ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=cutoff))
        for mail_id in list(waiting.values_list("pk", flat=True)):
            deliver_mail.enqueue(mail_id)
            count += 1
    return count
