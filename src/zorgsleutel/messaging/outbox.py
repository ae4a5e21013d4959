"""Queue mail in the caller's transaction; the worker delivers it after commit.

The delivery task is enqueued in the same database transaction (django-tasks' database
backend), so a change that commits always has its mail queued and one that rolls back never
sends any: the transactional outbox pattern without a separate relay.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from zorgsleutel.core import clock
from zorgsleutel.messaging.models import OutboxMail


def render(template: str, context: dict, locale: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of `mail/<template>` in `locale`."""
    with translation.override(locale):
        subject = render_to_string(f"mail/{template}.subject.txt", context).strip()
        text = render_to_string(f"mail/{template}.txt", context)
        html = render_to_string(f"mail/{template}.html", context)
    return " ".join(subject.split()), text, html


def enqueue_mail(
    *, template: str, to: str, context: dict, locale: str = "nl", send_at: datetime | None = None
) -> OutboxMail:
    """Write the mail to the outbox and queue its delivery (at `send_at`), in this transaction."""
    from zorgsleutel.messaging.tasks import deliver_mail

    subject, text, html = render(template, context, locale)
    with transaction.atomic():
        mail = OutboxMail.objects.create(
            template=template,
            locale=locale,
            to=to,
            subject=subject,
            body_text=text,
            body_html=html,
            created_at=clock.now(),
            next_attempt_at=send_at,
        )
        task = deliver_mail.using(run_after=send_at) if send_at else deliver_mail
        task.enqueue(mail.pk)
    return mail
