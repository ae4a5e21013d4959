"""The vault's answers as messages a person can act on (Dutch and English). Its limits (the
wait between codes, the hourly caps, a challenge blocked by wrong codes) are worded in
limits.py, with every other limit on the way in."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zorgsleutel import vaultclient
from zorgsleutel.authn import limits
from zorgsleutel.core.errors import DomainError, ServiceUnavailable

INVALID_PHONE = _("This is not a valid mobile number.")
_MESSAGES = {
    "invalid_phone": INVALID_PHONE,
    "phone_not_mobile": _("This is not a mobile number. Fill in a number starting with 06."),
    "phone_country_not_allowed": _("Mobile numbers from this country are not accepted."),
    "unknown_challenge": _("This code request is no longer valid. Start again."),
    "unknown_enrolment": _("This code request is no longer valid. Start again."),
}
# The vault's refusals for sending too often (docs/vault.md) and, should a vault not say how
# long one holds, the longest it can: the resend wait, the caps' hour.
_LIMITS = {
    "resend_too_soon": 30,
    "sms_cap_enrolment": 3600,
    "sms_cap_number": 3600,
    "sms_cap_unconfirmed": 3600,
}
UNAVAILABLE = _(
    "The SMS service cannot be reached right now. Nothing was changed; try again later."
)


def translate(exc: vaultclient.VaultError, *, field: str | None = None) -> DomainError:
    if isinstance(exc, vaultclient.VaultRefused):
        if exc.status == 429 and exc.code in _LIMITS:
            wait = exc.extra.get("retry_after")
            return limits.refused(exc.code, wait if isinstance(wait, int) else _LIMITS[exc.code])
        message = _MESSAGES.get(exc.code)
        if message is not None:
            return DomainError(exc.code, message, field=field if exc.status == 400 else None)
        if exc.status == 400 and exc.code == "invalid_field":
            return DomainError(
                "invalid_code", _("Fill in the 6-digit code from the SMS."), field=field
            )
    return ServiceUnavailable("sms_unavailable", UNAVAILABLE)


def verdict_error(verdict: vaultclient.Verdict) -> DomainError:
    if verdict.result == "wrong":
        return DomainError(
            "wrong_code",
            ngettext(
                "This code is not correct. You have %(left)s attempt left.",
                "This code is not correct. You have %(left)s attempts left.",
                verdict.attempts_left,
            )
            % {"left": verdict.attempts_left},
            field="code",
            attempts_left=verdict.attempts_left,
        )
    if verdict.result == "blocked":
        return DomainError("code_blocked", limits.message("code_blocked"), field="code")
    return DomainError(
        "code_expired", _("This code has expired. Ask for a new code."), field="code"
    )
