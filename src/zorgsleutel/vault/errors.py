"""Errors the vault answers with: a stable code, an HTTP status and a message for operators."""

from __future__ import annotations

import math


class VaultError(Exception):
    def __init__(self, code: str, message: str, *, status: int = 400, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra

    def as_dict(self) -> dict:
        return {"error": self.code, "message": self.message, **self.extra}


# The vault's refusals for sending too often, one wording each. The portal words the same limits
# with the same sentences, in the person's language (authn/limits.py, held together by
# tests/authn/test_limits.py).
LIMITS = {
    "resend_too_soon": "A new code can be sent in {seconds}.",
    "sms_cap_enrolment": "Too many SMS codes were sent for your account. Try again in {minutes}.",
    "sms_cap_number": "Too many SMS codes were sent to this number. Try again in {minutes}.",
    "sms_cap_unconfirmed": (
        "Too many SMS codes were sent to this number before it was confirmed. "
        "Try again in {minutes}."
    ),
}


def _count(n: int, unit: str) -> str:
    return f"{n} {unit}" if n == 1 else f"{n} {unit}s"


def limited(code: str, *, retry_after: float) -> VaultError:
    """429 for one of LIMITS, with the wait in whole seconds (`retry_after`, and the API's
    `Retry-After` header) and in the message."""
    seconds = max(math.ceil(retry_after), 1)
    message = LIMITS[code].format(
        seconds=_count(seconds, "second"), minutes=_count(math.ceil(seconds / 60), "minute")
    )
    return VaultError(code, message, status=429, retry_after=seconds)
