"""A code texted to a person, waiting to be typed: the one pending-code step of every flow.

Logging in with password + SMS, activating an account and resetting a password all stop halfway:
the vault has texted a code and the browser's session holds what the second step needs. That is
one model, kept under one session key: the purpose (which flow), its subject (the account, or
the mailed link), the vault's challenge id and the hint shown on the page. Activation and reset
add the vault enrolment of the new number and the new password, *hashed*: no secret is kept in
clear, and the phone number never (it stays in the vault).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from zorgsleutel import policies
from zorgsleutel.core import clock

SESSION_KEY = "zs_pending_code"
LOGIN, ACTIVATION, PASSWORD_RESET = "login", "activation", "password_reset"


@dataclass(frozen=True)
class PendingCode:
    purpose: str  # LOGIN, ACTIVATION or PASSWORD_RESET
    subject: int  # the account (a login) or the mailed link (activation, reset)
    challenge: str  # the vault's challenge id of the code sent
    hint: str  # the masked number the code went to, e.g. "06 •• •• •• 01"
    started_at: float
    enrolment: str = ""  # activation, reset: the vault enrolment of the new number
    password_hash: str = ""  # activation, reset: the new password, hashed
    link: str = ""  # activation, reset: a digest of the mailed link the session belongs to

    def as_session(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_session(cls, data, purpose: str) -> PendingCode | None:
        """The pending step a session holds for `purpose`, or None (none, another flow's, or a
        shape this version does not know)."""
        if not isinstance(data, dict) or data.get("purpose") != purpose:
            return None
        try:
            return cls(**data)
        except TypeError:
            return None

    def resent(self, *, challenge: str, hint: str) -> PendingCode:
        """The same step after a new code was sent; its age runs from the first code."""
        return dataclasses.replace(self, challenge=challenge, hint=hint)

    def expired(self) -> bool:
        """A login's second step must follow its first within policies.PENDING_LOGIN_TTL (a
        mailed link's own lifetime bounds activation and reset)."""
        age = clock.now().timestamp() - self.started_at
        return self.purpose == LOGIN and age > policies.PENDING_LOGIN_TTL.total_seconds()


def keep(session, pending: PendingCode) -> None:
    session[SESSION_KEY] = pending.as_session()


def held(session, purpose: str) -> PendingCode | None:
    return PendingCode.from_session(session.get(SESSION_KEY), purpose)


def drop(session) -> None:
    session.pop(SESSION_KEY, None)
