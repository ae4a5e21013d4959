"""Set password and mobile number from a mailed link: activation and "Wachtwoord vergeten".

Seed 000, both sections: new password + mobile number → `Bevestigen` → an SMS code to that
number → the code → only then are password and phone saved. Between the two steps the browser's
session holds the *hashed* password and the vault's opaque enrolment and challenge ids; the link
stays usable until it is consumed (under a row lock, so it works exactly once) or expires.

The person has just shown the new password and typed the code texted to the new number: what a
login by password + SMS asks. So both end logged in by that means, under its rules, instead of
on the login page where a second code would be texted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies, vaultclient
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.flows import memberships
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.authn import password as sms_login
from zorgsleutel.authn import sendlimits, vaulterrors
from zorgsleutel.authn.pending import PendingCode
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError, raise_all
from zorgsleutel.messaging import outbox
from zorgsleutel.people import personevents, signals

# A used or expired link says who can send a new one: for an activation link only a manager or
# administrator can (Beheer, "Nieuwe activatielink sturen"), a reset link the reader asks anew.
INVALID_LINKS = {
    LinkToken.ACTIVATION: _(
        "This activation link is not valid (any more): it works once, for a limited time. "
        "Did you activate your account already? Then log in. If not, ask a manager or "
        "administrator of your organisation for a new activation link: you cannot request "
        "one yourself."
    ),
    LinkToken.PASSWORD_RESET: _(
        "This reset link is not valid (any more): it works once, for a limited time. Ask for "
        "a new one with Forgot password on the login page."
    ),
}


def invalid_link(purpose: str) -> DomainError:
    return DomainError("invalid_link", INVALID_LINKS[purpose])


PASSWORD_REQUIRED = _("Fill in a new password.")
PASSWORD_AGAIN_REQUIRED = _("Fill in the new password a second time.")


def open_link(raw: str, purpose: str) -> LinkToken:
    token = tokens.find_open(raw, purpose)
    if token is None or (purpose == LinkToken.PASSWORD_RESET and token.user.state != User.ACTIVE):
        raise invalid_link(purpose)
    if purpose == LinkToken.ACTIVATION and token.user.state != User.INVITED:
        raise invalid_link(purpose)
    return token


def start_setup(
    *,
    token: LinkToken,
    password: str,
    password_again: str,
    phone: str,
    locale: str,
    ip: str | None = None,
) -> PendingCode:
    """Check the password, enrol the number in the vault (which texts a code); save nothing yet.

    Every submission texts a code, so each counts against RATE_LIMITS["sms.send"] (per link,
    per account, per client address `ip`) before the vault is asked.
    """
    raise_all(password_errors(password=password, password_again=password_again, user=token.user))
    password_hash = make_password(password)
    try:
        with sendlimits.sending(ip=ip, person=token.user, link=token.pk):
            sent = vaultclient.get().enrol(phone=phone, locale=locale)
    except vaultclient.VaultError as exc:
        raise vaulterrors.translate(exc, field="phone") from None
    audit.record(
        "account.setup_code_sent",
        actor=token.user,
        target=token.user,
        details={"purpose": token.purpose, "hint": sent.hint},
    )
    return PendingCode(
        purpose=token.purpose,
        subject=token.pk,
        challenge=sent.challenge,
        hint=sent.hint,
        started_at=clock.now().timestamp(),
        enrolment=sent.enrolment,
        password_hash=password_hash,
        link=token.token_hash,
    )


def password_errors(*, password: str, password_again: str, user: User | None) -> list[DomainError]:
    """Everything wrong with a new password, all at once (the form shows each): the rules of
    settings.AUTH_PASSWORD_VALIDATORS (length, the blocklist of common and leaked passwords,
    repeats and sequences, likeness to the person's name or address: core/passwords.py) and a
    second entry that differs. Activation and reset both set a password here."""
    errors = []
    if not password:
        errors.append(DomainError("password_required", PASSWORD_REQUIRED, field="password"))
    else:
        try:
            password_validation.validate_password(password, user)
        except ValidationError as exc:
            errors += [DomainError("weak_password", m, field="password") for m in exc.messages]
    if not password_again:
        errors.append(
            DomainError("password_again_required", PASSWORD_AGAIN_REQUIRED, field="password_again")
        )
    elif password and password != password_again:
        errors.append(
            DomainError(
                "passwords_differ",
                _("The two passwords are not the same."),
                field="password_again",
            )
        )
    return errors


def belongs_to_link(pending: PendingCode, raw: str) -> bool:
    """Whether a session's pending step is the one of this mailed link (the code page's URL)."""
    return pending.link == tokens.digest(raw)


def resend_code(pending: PendingCode, *, ip: str | None = None) -> PendingCode:
    """Send a new code from the code page, within policies.RATE_LIMITS["sms.send"] like the form."""
    token = LinkToken.objects.select_related("user").filter(pk=pending.subject).first()
    if token is None:
        raise invalid_link(pending.purpose)
    try:
        with sendlimits.sending(ip=ip, person=token.user, link=token.pk):
            sent = vaultclient.get().send_challenge(enrolment=pending.enrolment)
    except vaultclient.VaultError as exc:
        raise vaulterrors.translate(exc) from None
    return pending.resent(challenge=sent.challenge, hint=sent.hint)


@dataclass(frozen=True)
class SetupDone:
    """Password and phone are saved. `refused`: why the person was not logged in (the rules of
    password + SMS: a role whose app they have, a blocked app or account, ...), None when they
    were."""

    user: User
    refused: DomainError | None


def complete_setup(*, pending: PendingCode, code: str, log_in: Callable[[User], None]) -> SetupDone:
    """Verify the code; then, in one transaction, save password and phone, use up the link and
    log the person in by password + SMS (`log_in(user)`: the view's sessions.complete_login)
    unless that means' rules refuse them (sms_login.refusal, asked as an SMS login asks it).
    The session has that means' level ("low"): someone whose role requires the app is sent on
    to it, as after an SMS login. A wrong code saves nothing and logs nobody in."""
    code = "".join(code.split())
    try:
        verdict = vaultclient.get().verify(challenge=pending.challenge, code=code)
    except vaultclient.VaultError as exc:
        raise vaulterrors.translate(exc, field="code") from None
    if not verdict.ok:
        token = LinkToken.objects.select_related("user").filter(pk=pending.subject).first()
        if token is not None:
            audit.record(
                "account.setup_code_wrong",
                actor=token.user,
                target=token.user,
                outcome=audit.FAILURE,
                details={"result": verdict.result},
            )
        raise vaulterrors.verdict_error(verdict)
    try:
        with transaction.atomic():
            user = _save(pending)
            refused = sms_login.refusal(user)  # records login.refused
            if refused is None:
                log_in(user)  # login.succeeded and the new session, with the saved credentials
    except DomainError:
        # A parallel submission used the link first: forget the number confirmed for nothing.
        memberships.erase_phone(pending.enrolment, None)
        raise
    return SetupDone(user, refused)


def notify_old_number(enrolment: str, user: User) -> None:
    """Recovery is loud: before the old enrolment is erased, the vault texts the old number
    that password and phone were changed (a fixed text). A vault that cannot send does not
    stop the reset: the mail with *Dit was ik niet* is the record, and the failure is audited.
    Runs after the reset commits (`_save`): a reset that rolls back changed nothing to tell."""
    try:
        vaultclient.get().notify(
            enrolment=enrolment, kind="credentials_changed", locale=user.language
        )
    except vaultclient.VaultError as exc:
        audit.record(
            "phone.notice_failed",
            actor="system",
            target=user,
            outcome=audit.FAILURE,
            details={"error": getattr(exc, "code", "") or str(exc)[:200]},
        )
    else:
        personevents.record_for_person(
            "phone.notice_sent", person=user, actor="system", target=user
        )


def _accept_invited(user: User, token: LinkToken) -> None:
    """Activating a new account accepts the membership its link was sent for (a link from
    before memberships had their own accepts every invitation the person had)."""
    invited = Membership.objects.select_for_update().filter(user=user, state=Membership.INVITED)
    if token.membership_id is not None:
        invited = invited.filter(pk=token.membership_id)
    for membership in invited:
        memberships.accept(membership)


def _save(pending: PendingCode) -> User:
    """Save password and phone and use up the link, in one transaction; once it commits, the
    old number is told (after a reset) and its enrolment erased, in that order."""
    with transaction.atomic():
        token = tokens.lock_open(pending.subject)
        if token is None:
            raise invalid_link(pending.purpose)
        user = User.objects.select_for_update().get(pk=token.user_id)
        wanted = User.INVITED if token.purpose == LinkToken.ACTIVATION else User.ACTIVE
        if user.state != wanted:
            raise invalid_link(token.purpose)
        old_enrolment = user.phone_enrolment if user.phone_enrolment != pending.enrolment else ""
        user.password = pending.password_hash
        user.phone_enrolment = pending.enrolment
        details = {"hint": pending.hint}
        if token.purpose == LinkToken.ACTIVATION:
            user.state = User.ACTIVE
            _accept_invited(user, token)
            audit.record("account.activated", actor=user, target=user, details=details)
        else:
            user.auth_epoch += 1  # end every other session
            signals.sessions_ended.send(sender=__name__, reason="credentials_reset", person=user)
            user.credentials_reset_at = clock.now()  # policies.new_app_waits
            _mail_not_me_link(user)
            audit.record("account.credentials_reset", actor=user, target=user, details=details)
            if old_enrolment:
                transaction.on_commit(lambda: notify_old_number(old_enrolment, user))
        user.save(
            update_fields=[
                "password",
                "phone_enrolment",
                "state",
                "auth_epoch",
                "credentials_reset_at",
            ]
        )
        token.used_at = clock.now()
        token.save(update_fields=["used_at"])
        if old_enrolment:
            memberships.erase_phone(old_enrolment, user)  # after the notice, once this commits
    return user


def _mail_not_me_link(user: User) -> None:
    """The mail after every reset, with its single-use *Dit was ik niet* link (notme.py)."""
    raw = tokens.issue(
        user=user,
        purpose=LinkToken.NOT_ME,
        ttl=policies.NOT_ME_LINK_TTL,
        reason=LinkToken.CREDENTIALS_RESET,
    )
    outbox.enqueue_mail(
        template="credentials_changed",
        to=user.email,
        locale=user.language,
        context={
            "name": user.name,
            "not_me": settings.SITE_URL + reverse("accounts:not_me", args=[raw]),
            "hours": int(policies.NOT_ME_LINK_TTL.total_seconds() // 3600),
        },
    )
