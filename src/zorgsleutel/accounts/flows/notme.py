"""*Dit was ik niet*: the person says a reset, or a linked authenticator, was not theirs.

The mail after every reset (credentials_changed) and after every linked authenticator
(authenticator_linked, linknotice.py) carries a single-use link. Its page says what happened and
when, and what pressing the button will do, before anything changes. Pressing it blocks every
active membership of the account at once, ends all its sessions, takes away the password and
phone (after a reset they are the intruder's), removes every authenticator linked since the
earliest event an open link answers (the intruder's app), revokes open links, and mails the
administrators and managers of those organisations, who look into it and unblock; the person
then sets password and phone again with *Wachtwoord vergeten*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.flows import memberships
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.authn import means
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.messaging import outbox
from zorgsleutel.people import signals

INVALID = _("This link is not valid (any more).")
MANAGING_ROLES = (Membership.ADMINISTRATOR, Membership.MANAGER)


@dataclass(frozen=True)
class Report:
    """What a *Dit was ik niet* link answers, shown before anything changes."""

    reason: str  # LinkToken.CREDENTIALS_RESET or AUTHENTICATOR_LINKED
    about: str  # the linked authenticator's name
    happened_at: datetime
    linked_since: list  # [(means, name, linked at)] that pressing the button removes
    organisations: list  # names of the organisations where the account is blocked


@dataclass(frozen=True)
class Reported:
    blocked: list  # the memberships blocked
    removed: list  # [(means, name)] of the authenticators taken away


def open_report(raw: str) -> Report:
    token = tokens.find_open(raw, LinkToken.NOT_ME)
    if token is None:
        raise DomainError("invalid_link", INVALID)
    user = token.user
    return Report(
        reason=token.reason or LinkToken.CREDENTIALS_RESET,
        about=token.about,
        happened_at=token.created_at,
        linked_since=means.linked_since(user, _since(user, token)),
        organisations=list(
            Membership.objects.filter(user=user, state=Membership.ACTIVE)
            .order_by("organisation__name")
            .values_list("organisation__name", flat=True)
        ),
    )


def _since(user: User, token: LinkToken) -> datetime:
    """The earliest event an open *Dit was ik niet* link of the person answers: everything
    linked from then on may be the intruder's."""
    earliest = (
        LinkToken.objects.filter(user=user, purpose=LinkToken.NOT_ME, used_at=None, revoked_at=None)
        .filter(expires_at__gt=clock.now())
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return min(filter(None, [earliest, token.created_at]))


def report_not_me(*, raw: str) -> Reported:
    """Block the account's active memberships, end its sessions, remove the authenticators
    linked since the reported event, alert the managers; the link (and every other open *Dit
    was ik niet* link of the person) is used up."""
    with transaction.atomic():
        found = tokens.find_open(raw, LinkToken.NOT_ME)
        token = tokens.lock_open(found.pk) if found else None
        if token is None:
            raise DomainError("invalid_link", INVALID)
        user = User.objects.select_for_update().get(pk=token.user_id)
        since = _since(user, token)
        LinkToken.objects.filter(
            user=user, purpose=LinkToken.NOT_ME, used_at=None, revoked_at=None
        ).update(used_at=clock.now())
        blocked = list(
            Membership.objects.select_for_update()
            .select_related("organisation")
            .filter(user=user, state=Membership.ACTIVE)
        )
        Membership.objects.filter(pk__in=[m.pk for m in blocked]).update(state=Membership.BLOCKED)
        # What the reset set is the intruder's: the password goes, the phone goes (after
        # commit), open links go, and so does every authenticator linked since; only a new
        # Wachtwoord vergeten by the person brings password and phone back.
        removed = means.revoke_since(user, since)
        if user.phone_enrolment:
            memberships.erase_phone(user.phone_enrolment, user)
        user.set_unusable_password()
        user.phone_enrolment = ""
        user.auth_epoch += 1
        user.save(update_fields=["password", "phone_enrolment", "auth_epoch"])
        signals.sessions_ended.send(sender=__name__, reason="not_me", person=user)
        LinkToken.objects.filter(user=user, used_at=None, revoked_at=None).exclude(
            purpose=LinkToken.INVITATION
        ).update(revoked_at=clock.now())
        details = {"removed": len(removed), "reason": token.reason or "credentials_reset"}
        for membership in blocked:
            audit.record(
                "account.reported_not_me",
                actor=user,
                organisation=membership.organisation,
                target=user,
                details={"membership": "blocked", **details},
            )
            _alert_managers(user, membership)
        if not blocked:
            audit.record("account.reported_not_me", actor=user, target=user, details=details)
    return Reported(blocked=blocked, removed=removed)


def _alert_managers(user: User, membership: Membership) -> None:
    managers = (
        Membership.objects.filter(
            organisation=membership.organisation,
            state=Membership.ACTIVE,
            role__in=MANAGING_ROLES,
            user__state=User.ACTIVE,
        )
        .exclude(user=user)
        .select_related("user")
    )
    for manager in managers:
        outbox.enqueue_mail(
            template="not_me_alert",
            to=manager.user.email,
            locale=manager.user.language,
            context={
                "name": manager.user.name,
                "person": user.name,
                "email": user.email,
                "organisation": membership.organisation.name,
            },
        )
