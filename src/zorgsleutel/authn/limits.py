"""What a person reads at each limit on the way in: one message per limit, in one table.

Every limit that can stop someone logging in or setting their password and phone is worded
here once, under its stable code, whichever page, flow or API meets it: the portal's own
(throttle.py, sendlimits.py, the reset form's per-address limit) and the vault's refusals
(docs/vault.md; the vault words them in the same English sentences, vault/errors.py). Each
message says when to try again, from the wait the limit itself gives (`retry_after`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from zorgsleutel.core.errors import RateLimited


@dataclass(frozen=True)
class Wording:
    message: Promise
    unit: str = ""  # "seconds" or "minutes": the wait the message names; "" for none


LIMITS: dict[str, Wording] = {
    # The login's password step (throttle.py).
    "login_throttled": Wording(
        ngettext_lazy(
            "Too many attempts. Try again in %(seconds)s second.",
            "Too many attempts. Try again in %(seconds)s seconds.",
            "seconds",
        ),
        "seconds",
    ),
    # The portal's limits on the forms that text a code (policies.RATE_LIMITS["sms.send"]).
    "sms_rate_limited": Wording(
        ngettext_lazy(
            "Too many SMS codes were requested. Try again in %(minutes)s minute.",
            "Too many SMS codes were requested. Try again in %(minutes)s minutes.",
            "minutes",
        ),
        "minutes",
    ),
    # "Wachtwoord vergeten", per client address (policies.RATE_LIMITS["password_reset.request"]).
    "reset_rate_limited": Wording(
        ngettext_lazy(
            "Too many requests from your address. Try again in %(minutes)s minute.",
            "Too many requests from your address. Try again in %(minutes)s minutes.",
            "minutes",
        ),
        "minutes",
    ),
    # Beheer's "Nieuwe activatielink sturen", per membership and per actor
    # (policies.RATE_LIMITS["invitation.resend"]).
    "resend_rate_limited": Wording(
        ngettext_lazy(
            "A new link was sent too often. Try again in %(minutes)s minute.",
            "A new link was sent too often. Try again in %(minutes)s minutes.",
            "minutes",
        ),
        "minutes",
    ),
    # The vault's: the wait between two codes, and its hourly caps (unanswered codes only).
    "resend_too_soon": Wording(
        ngettext_lazy(
            "A new code can be sent in %(seconds)s second.",
            "A new code can be sent in %(seconds)s seconds.",
            "seconds",
        ),
        "seconds",
    ),
    "sms_cap_enrolment": Wording(
        ngettext_lazy(
            "Too many SMS codes were sent for your account. Try again in %(minutes)s minute.",
            "Too many SMS codes were sent for your account. Try again in %(minutes)s minutes.",
            "minutes",
        ),
        "minutes",
    ),
    "sms_cap_number": Wording(
        ngettext_lazy(
            "Too many SMS codes were sent to this number. Try again in %(minutes)s minute.",
            "Too many SMS codes were sent to this number. Try again in %(minutes)s minutes.",
            "minutes",
        ),
        "minutes",
    ),
    "sms_cap_unconfirmed": Wording(
        ngettext_lazy(
            "Too many SMS codes were sent to this number before it was confirmed. "
            "Try again in %(minutes)s minute.",
            "Too many SMS codes were sent to this number before it was confirmed. "
            "Try again in %(minutes)s minutes.",
            "minutes",
        ),
        "minutes",
    ),
    # Wrong codes block a challenge; a new code is the way on.
    "code_blocked": Wording(_("Too many wrong codes. Ask for a new code.")),
}


def message(code: str, retry_after: int = 0) -> str | Promise:
    """The one message of limit `code`, naming the wait `retry_after` (whole seconds; rounded
    up to whole minutes where the message counts minutes)."""
    wording = LIMITS[code]
    seconds = max(int(retry_after), 1)
    if wording.unit == "minutes":
        return wording.message % {"minutes": math.ceil(seconds / 60)}
    if wording.unit == "seconds":
        return wording.message % {"seconds": seconds}
    return wording.message


def refused(code: str, retry_after: int) -> RateLimited:
    """The refusal (429, `Retry-After`) of limit `code`, with its one message."""
    seconds = max(int(retry_after), 1)
    return RateLimited(code, message(code, seconds), retry_after=seconds)
