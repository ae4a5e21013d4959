"""*Dit was ik niet*: the person says a password and phone reset was not theirs.

The mail after every reset (credentials_changed) carries a single-use link. Following it blocks
every active membership of the account at once, ends all its sessions, takes away the password
and phone the reset set (they are the intruder's) and revokes open links, and mails the
administrators and managers of those organisations, who look into it and unblock; the person
then sets password and phone again with *Wachtwoord vergeten*.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.messaging import outbox

INVALID = _("This link is not valid (any more).")
MANAGING_ROLES = (Membership.ADMINISTRATOR, Membership.MANAGER)


def open_report(raw: str) -> LinkToken:
    token = tokens.find_open(raw, LinkToken.NOT_ME)
    if token is None:
        raise DomainError("invalid_link", INVALID)
    return token


def report_not_me(*, raw: str) -> list[Membership]:
    """Block the account's active memberships, end its sessions, alert the managers; the link
    is used up. Returns the memberships blocked."""
    with transaction.atomic():
        found = open_report(raw)
        token = tokens.lock_open(found.pk)
        if token is None:
            raise DomainError("invalid_link", INVALID)
        user = User.objects.select_for_update().get(pk=token.user_id)
        token.used_at = clock.now()
        token.save(update_fields=["used_at"])
        blocked = list(
            Membership.objects.select_for_update()
            .select_related("organisation")
            .filter(user=user, state=Membership.ACTIVE)
        )
        Membership.objects.filter(pk__in=[m.pk for m in blocked]).update(state=Membership.BLOCKED)
        # What the reset set is the intruder's: the password goes, the phone goes (after
        # commit), open links go; only a new Wachtwoord vergeten by the person brings them back.
        if user.phone_enrolment:
            members.erase_phone(user.phone_enrolment, user)
        user.set_unusable_password()
        user.phone_enrolment = ""
        user.auth_epoch += 1
        user.save(update_fields=["password", "phone_enrolment", "auth_epoch"])
        LinkToken.objects.filter(user=user, used_at=None, revoked_at=None).exclude(
            purpose=LinkToken.INVITATION
        ).update(revoked_at=clock.now())
        for membership in blocked:
            audit.record(
                "account.reported_not_me",
                actor=user,
                organisation=membership.organisation,
                target=user,
                details={"membership": "blocked"},
            )
            _alert_managers(user, membership)
        if not blocked:
            audit.record("account.reported_not_me", actor=user, target=user)
    return blocked


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
