"""Wachtwoord vergeten: a reset link by mail, the same answer (and work) whether the account exists.

The request itself never looks the address up: it counts the request, writes one audit event
that does not say whether the address is known and queues the task that does the lookup and the
mail (accounts/tasks.py), in one transaction. Known and unknown addresses therefore cost the
same and answer the same bytes (security review: 5.7 ms against 3.8 ms told who has an account).
Limits (policies.RATE_LIMITS, "password_reset.*"): per address, extra requests are silently not
mailed (same answer: the limit must not tell either); per client address, the page says to try
later.
"""

from __future__ import annotations

from django.db import transaction

from zorgsleutel.authn import limits
from zorgsleutel.core import audit, ratelimit


def request_reset(*, email: str, ip: str | None = None) -> None:
    """Queue the reset mail for this address (the task mails only an active account).

    A blocked account cannot reset itself (seed: the manager unblocks it first); an invited one
    gets its activation link resent by its manager instead.
    """
    from zorgsleutel.accounts.tasks import mail_reset_link

    email = email.strip().lower()
    if ip is not None:
        usage = ratelimit.count(action="password_reset.request", ip=ip)
        if not usage.allowed:
            wait = usage.retry_after
            audit.record(
                "password_reset.refused",
                actor="anonymous",
                outcome=audit.DENIED,
                details={"limit": "per_ip"},
            )
            raise limits.refused("reset_rate_limited", wait)
    mail = ratelimit.count(action="password_reset.mail", email=email).allowed
    with transaction.atomic():
        audit.record(
            "password_reset.requested",
            actor="anonymous",
            details={"mailed": mail},  # never whether the address is known
        )
        if mail:
            mail_reset_link.enqueue(email)
