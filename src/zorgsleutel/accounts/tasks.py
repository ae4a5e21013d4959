"""Worker tasks of accounts: the lookups that a request must not do while the visitor waits."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django_tasks import task

from zorgsleutel import policies
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.models import LinkToken, User
from zorgsleutel.core import audit
from zorgsleutel.messaging import outbox


@task(queue_name="mail")
def mail_reset_link(email: str) -> str:
    """Mail a reset link to the active account with this (normalised) address, if there is one.

    Runs in the worker, so the time it takes and what it finds never reach the person who asked
    (accounts/flows/reset.py). The link, the mail and the event commit together.
    """
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email, state=User.ACTIVE).first()
        if user is None:
            return "no_account"
        raw = tokens.issue(
            user=user, purpose=LinkToken.PASSWORD_RESET, ttl=policies.PASSWORD_RESET_LINK_TTL
        )
        outbox.enqueue_mail(
            template="password_reset",
            to=user.email,
            locale=user.language,
            context={
                "name": user.name,
                "link": settings.SITE_URL + reverse("accounts:reset", args=[raw]),
                "hours": int(policies.PASSWORD_RESET_LINK_TTL.total_seconds() // 3600),
            },
        )
        audit.record("password_reset.link_sent", actor="system", target=user)
    return "sent"
