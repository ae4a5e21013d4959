"""The vault's answers as messages a person can act on (Dutch and English)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

from zorgsleutel import vaultclient
from zorgsleutel.core.errors import DomainError, RateLimited, ServiceUnavailable

_MESSAGES = {
    "invalid_phone": _("This is not a valid mobile number."),
    "phone_not_mobile": _("This is not a mobile number. Fill in a number starting with 06."),
    "phone_country_not_allowed": _("Mobile numbers from this country are not accepted."),
    "resend_too_soon": ngettext_lazy(
        "A new code can be sent in %(seconds)s second.",
        "A new code can be sent in %(seconds)s seconds.",
        "seconds",
    ),
    "sms_cap_number": _("Too many codes were sent to this number. Try again in an hour."),
    "sms_cap_enrolment": _("Too many codes were sent. Try again in an hour."),
    # A number not yet confirmed has its own small cap (docs/vault.md): its owner's login codes
    # never wait for it.
    "sms_cap_unconfirmed": _("Too many codes were sent to this number. Try again in an hour."),
    "unknown_challenge": _("This code request is no longer valid. Start again."),
    "unknown_enrolment": _("This code request is no longer valid. Start again."),
}
UNAVAILABLE = _(
    "The SMS service cannot be reached right now. Nothing was changed; try again later."
)


def translate(exc: vaultclient.VaultError, *, field: str | None = None) -> DomainError:
    if isinstance(exc, vaultclient.VaultRefused):
        message = _MESSAGES.get(exc.code)
        if message is not None:
            if exc.code == "resend_too_soon":
                seconds = exc.extra.get("retry_after", 30)
                return RateLimited(exc.code, message % {"seconds": seconds}, retry_after=seconds)
            if exc.status == 429:
                return RateLimited(exc.code, message)
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
            _("This code is not correct. You have %(left)s attempt(s) left.")
            % {"left": verdict.attempts_left},
            field="code",
            attempts_left=verdict.attempts_left,
        )
    if verdict.result == "blocked":
        return DomainError(
            "code_blocked", _("Too many wrong codes. Ask for a new code."), field="code"
        )
    return DomainError(
        "code_expired", _("This code has expired. Ask for a new code."), field="code"
    )
