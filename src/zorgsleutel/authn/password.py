"""Inloggen met SMS-code (seed 000): e-mail + password → code to the phone on record → logged in.

The password step answers the same, in the same time, for an unknown e-mail address and a wrong
password (a dummy hash is checked); failures are throttled (throttle.py). Only after the code is
verified is the session logged in, with a new session id.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zorgsleutel import vaultclient
from zorgsleutel.authn import devices, limits, means, refusals, sendlimits, throttle, vaulterrors
from zorgsleutel.authn.pending import LOGIN, PendingCode
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.people import loading, personevents
from zorgsleutel.people.models import User

_DUMMY_HASH = make_password("zorgsleutel-timing-equaliser")
BAD_CREDENTIALS = _("The e-mail address or password is not correct.")
MEANS = "sms"  # password + SMS code (authn/apps.py registers it)


def _record_own(action: str, user: User, **kwargs) -> None:
    """An event of a person's own login: they are its actor and its target, in each of their
    organisations (people.personevents)."""
    personevents.record_for_person(action, person=user, actor=user, target=user, **kwargs)


def check_credentials(
    *,
    email: str,
    password: str,
    ip: str | None,
    device: str | None = None,
    keep: Callable[[PendingCode], None] | None = None,
) -> PendingCode:
    """Step 1 (`Inloggen`): password right → the vault texts a code to the phone on record.

    `device` is the browser's device cookie (devices.py): with a valid one for this account the
    attempt is throttled on that device's own counter only. `keep(pending)` stores the pending
    login (the view: a new session id holding it); it runs in the transaction that records
    `login.code_sent`, so the event and the session exist together.
    """
    email = email.strip().lower()
    # First: a device cookie counts only for its own account. An address nobody has costs the
    # same statements (people/loading.py), so the answer's timing does not tell.
    user = loading.person(email=email)
    attempt = throttle.start(
        email=email,
        ip=ip,
        device=devices.trusted_nonce(device, user.pk if user is not None else None),
    )
    if attempt.wait:
        audit.record(
            "login.throttled",
            actor="anonymous",
            outcome=audit.DENIED,
            details={"wait": attempt.wait},
        )
        raise limits.refused("login_throttled", attempt.wait)
    if user is None or not user.has_usable_password():
        check_password(password, _DUMMY_HASH)
        ok = False
    else:
        ok = user.check_password(password)  # upgrades imported PBKDF2 hashes to Argon2id
    if not ok or user is None:
        with transaction.atomic():  # the counters (database cache) with their event
            throttle.failed(attempt)
            if user is None:
                audit.record("login.password_failed", actor="anonymous", outcome=audit.FAILURE)
            else:
                _record_own("login.password_failed", user, outcome=audit.FAILURE)
        raise DomainError("bad_credentials", BAD_CREDENTIALS)
    throttle.succeeded(attempt)
    _refuse_if_not_usable(user)
    if not user.phone_enrolment:
        raise _refused(user, "no_phone")
    try:  # no transaction is open here: a slow vault must not hold database locks
        sent = vaultclient.get().send_challenge(enrolment=user.phone_enrolment)
    except vaultclient.VaultError as exc:
        raise vaulterrors.translate(exc) from None
    pending = PendingCode(LOGIN, user.pk, sent.challenge, sent.hint, clock.now().timestamp())
    with transaction.atomic():
        audit.record("login.code_sent", actor=user, target=user, details={"hint": sent.hint})
        if keep is not None:
            keep(pending)
    return pending


def refusal(user: User) -> DomainError | None:
    """Why this means may not log the person in now (means.refusal: blocked in every
    organisation they accepted, all their organisations suspended, or the app is theirs to
    use), as the error they read, its `login.refused` event recorded; None when it may. Every
    login by password + SMS code asks this: the login's two steps, and activation and reset,
    which end logged in (accounts/flows/credentials.py)."""
    if user.state != User.ACTIVE:  # an invited account (no password yet) logs in nowhere
        return _refused(user, "account_blocked", state=user.state)
    reason = means.refusal(user, MEANS)
    if reason is None:
        return None
    return _refused(user, refusals.code_for(reason), reason=reason)


def _refused(user: User, code: str, **details) -> DomainError:
    """The refusal `code` (authn/refusals.py), its `login.refused` recorded for each
    organisation the person accepted."""
    details.setdefault("reason", code)
    error = refusals.error(code)
    _record_own("login.refused", user, outcome=audit.DENIED, details=details)
    return error


def _refuse_if_not_usable(user: User) -> None:
    refused = refusal(user)
    if refused is not None:
        raise refused


def resend_code(pending: PendingCode, *, ip: str | None = None) -> PendingCode:
    """Send a new code, within policies.RATE_LIMITS["sms.send"] (per account and client address)."""
    user = User.objects.get(pk=pending.subject)
    try:
        with sendlimits.sending(ip=ip, person=user):
            sent = vaultclient.get().send_challenge(enrolment=user.phone_enrolment)
    except vaultclient.VaultError as exc:
        raise vaulterrors.translate(exc) from None
    audit.record("login.code_resent", actor=user, target=user)
    return pending.resent(challenge=sent.challenge, hint=sent.hint)


def verify_code(*, pending: PendingCode, code: str) -> User:
    """Step 2 (`Verifieer`): the code from the SMS. Returns the person to log in with
    sessions.complete_login (a new session id and `login.succeeded`, in one transaction)."""
    if pending.expired():
        raise DomainError("login_expired", _("This login took too long. Start again."))
    user = loading.person(pk=pending.subject)
    if user is None:  # deleted since the password step
        raise refusals.error("account_blocked")
    _refuse_if_not_usable(user)  # blocked since the password step, or refused now
    try:
        verdict = vaultclient.get().verify(challenge=pending.challenge, code="".join(code.split()))
    except vaultclient.VaultError as exc:
        raise vaulterrors.translate(exc, field="code") from None
    if not verdict.ok or verdict.enrolment != user.phone_enrolment:
        _record_own(
            "login.code_failed",
            user,
            outcome=audit.FAILURE,
            details={"result": verdict.result},
        )
        raise vaulterrors.verdict_error(verdict)
    return user
