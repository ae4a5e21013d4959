"""Wachtwoord vergeten: a reset link by mail, with the same answer whether the account exists."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from zorgsleutel import policies
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.models import LinkToken, User
from zorgsleutel.core import audit
from zorgsleutel.messaging import outbox


def request_reset(*, email: str) -> None:
    """Mail a reset link to an active account with this address; otherwise do nothing visible.

    A blocked account cannot reset itself (seed: the manager unblocks it first); an invited one
    gets its activation link resent by its manager instead.
    """
    email = email.strip().lower()
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email, state=User.ACTIVE).first()
        if user is None:
            audit.record(
                "password_reset.requested",
                actor="anonymous",
                outcome=audit.FAILURE,
                details={"known": False},
            )
            return
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
                "minutes": int(policies.PASSWORD_RESET_LINK_TTL.total_seconds() // 60),
            },
        )
        audit.record("password_reset.requested", actor=user, target=user)
