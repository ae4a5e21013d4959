"""Limits on the forms that make the vault send an SMS (policies.SMS_SEND_LIMITS).

The activation and reset forms enrol the typed number and text it a code, and "send a new code"
(on the login's code page and the activation's) texts another: without limits anyone holding a
page could text any number over and over (SMS bombing, and the gateway's bill). Each send is
counted per mailed link, per account and per client address before the vault is asked; over
any limit nothing is sent and the person reads when to try again. The vault keeps its own caps
per number on top of these.
"""

from __future__ import annotations

from django.utils.translation import ngettext_lazy

from zorgsleutel import policies
from zorgsleutel.accounts import counters
from zorgsleutel.core import audit
from zorgsleutel.core.errors import RateLimited
from zorgsleutel.core.ratelimit import parse


def too_many(seconds: int) -> str:
    minutes = max(1, -(-seconds // 60))
    message = ngettext_lazy(
        "Too many text messages were requested. Try again in %(minutes)s minute.",
        "Too many text messages were requested. Try again in %(minutes)s minutes.",
        "minutes",
    )
    return message % {"minutes": minutes}


def spend(*, ip: str | None, person, link: int | None = None) -> None:
    """Count one SMS about to be sent for `person` (a User) through the link with id `link`;
    raise RateLimited ("sms_rate_limited") when over a limit.

    Refused sends count as well: hammering a limit does not make it open sooner.
    """
    scopes = {"per_link": link, "per_account": person.pk, "per_ip": ip}
    refused = []
    for scope, value in scopes.items():
        if value is None:
            continue
        limit, period = parse(policies.SMS_SEND_LIMITS[scope])
        if not counters.hit(f"sms:{scope}:{value}", limit, period):
            refused.append((scope, counters.retry_after(period)))
    if refused:
        wait = max(seconds for _scope, seconds in refused)
        audit.record(
            "sms.send_refused",
            actor="anonymous",
            target=person,
            outcome=audit.DENIED,
            details={"limits": sorted(scope for scope, _seconds in refused)},
        )
        raise RateLimited("sms_rate_limited", too_many(wait), retry_after=wait)
