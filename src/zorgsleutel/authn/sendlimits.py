"""Limits on the forms that make the vault send an SMS (policies.RATE_LIMITS["sms.send"]).

The activation and reset forms enrol the typed number and text it a code, and "send a new code"
(on the login's code page and the activation's) texts another: without limits anyone holding a
page could text any number over and over (SMS bombing, and the gateway's bill). Each send is
counted per mailed link, per account and per client address before the vault is asked; over
any limit nothing is sent and the person reads when to try again. The vault keeps its own caps
per number on top of these.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from zorgsleutel import vaultclient
from zorgsleutel.authn import limits
from zorgsleutel.core import audit, ratelimit


@contextlib.contextmanager
def sending(*, ip: str | None, person, link: int | None = None) -> Iterator[None]:
    """Around a vault call that texts a code for `person` (a User), through the mailed link with
    id `link`: counts it first, and raises RateLimited ("sms_rate_limited", worded in limits.py)
    without entering the block when over a limit. Refused requests count too (hammering a
    limit does not open it sooner). A call the vault refuses as bad input (a mistyped number) or
    cannot answer sent nothing and is given back; its own refusals for sending too often (429)
    stay counted.
    """
    usage = ratelimit.count(action="sms.send", ip=ip, link=link, account=person.pk)
    if not usage.allowed:
        audit.record(
            "sms.send_refused",
            actor="anonymous",
            target=person,
            outcome=audit.DENIED,
            details={"limits": sorted(f"per_{key}" for key in usage.refused)},
        )
        raise limits.refused("sms_rate_limited", usage.retry_after)
    try:
        yield
    except vaultclient.VaultError as exc:
        if not (isinstance(exc, vaultclient.VaultRefused) and exc.status == 429):
            usage.give_back()
        raise
