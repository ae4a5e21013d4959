"""*Dit was ik niet*: the person says a password and phone reset was not theirs.

The mail after every reset (credentials_changed) carries a single-use link. Following it blocks
every active membership of the account at once, ends all its sessions, and mails the
administrators and managers of those organisations, who look into it and unblock. Nothing else
changes: the person's standing is frozen, not handed to anyone.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zorgsleutel.accounts import tokens
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
        user.auth_epoch += 1
        user.save(update_fields=["auth_epoch"])
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
