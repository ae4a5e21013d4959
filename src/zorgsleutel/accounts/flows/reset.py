"""Wachtwoord vergeten: a reset link by mail, the same answer (and work) whether the account exists.

The request itself never looks the address up: it counts the request, writes one audit event
that does not say whether the address is known and queues the task that does the lookup and the
mail (accounts/tasks.py), in one transaction. Known and unknown addresses therefore cost the
same and answer the same bytes (security review: 5.7 ms against 3.8 ms told who has an account).
Limits (policies.PASSWORD_RESET_LIMITS): per address, extra requests are silently not mailed
(same answer: the limit must not tell either); per client address, the page says to try later.
"""

from __future__ import annotations

from django.db import transaction

from zorgsleutel import policies
from zorgsleutel.authn import limits
from zorgsleutel.core import audit, counters
from zorgsleutel.core.ratelimit import parse
from zorgsleutel.core.requestcontext import limit_key


def request_reset(*, email: str, ip: str | None = None) -> None:
    """Queue the reset mail for this address (the task mails only an active account).

    A blocked account cannot reset itself (seed: the manager unblocks it first); an invited one
    gets its activation link resent by its manager instead.
    """
    from zorgsleutel.accounts.tasks import mail_reset_link

    email = email.strip().lower()
    if ip is not None:
        limit, period = parse(policies.PASSWORD_RESET_LIMITS["per_ip"])
        if not counters.hit(f"reset:ip:{limit_key(ip)}", limit, period):
            wait = counters.retry_after(period)
            audit.record(
                "password_reset.refused",
                actor="anonymous",
                outcome=audit.DENIED,
                details={"limit": "per_ip"},
            )
            raise limits.refused("reset_rate_limited", wait)
    limit, period = parse(policies.PASSWORD_RESET_LIMITS["per_email"])
    mail = counters.hit(f"reset:email:{email}", limit, period)
    with transaction.atomic():
        audit.record(
            "password_reset.requested",
            actor="anonymous",
            details={"mailed": mail},  # never whether the address is known
        )
        if mail:
            mail_reset_link.enqueue(email)
