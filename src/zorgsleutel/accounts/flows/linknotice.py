"""Linking an authenticator is loud (NIST SP 800-63B asks for a notice): the person gets a mail
with a single-use *Dit was ik niet* link and, where the vault holds a confirmed number, a fixed
SMS; the administrators and managers of each organisation whose requirement it satisfies get a
mail. Both attacks of the review (an account taken over through validation, an intruder's app
after a reset) would have shown here.

Called by people.signals.authenticator_linked inside the transaction that linked it: the mails
are outbox rows of that transaction; the SMS goes after it commits.
"""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from zorgsleutel import policies, vaultclient
from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.models import LinkToken, Membership, User
from zorgsleutel.core import audit
from zorgsleutel.messaging import outbox
from zorgsleutel.people import personevents

MANAGING_ROLES = (Membership.ADMINISTRATOR, Membership.MANAGER)


def notify_authenticator_linked(*, person: User, means: str, name: str, linked_at) -> None:
    raw = tokens.issue(
        user=person,
        purpose=LinkToken.NOT_ME,
        ttl=policies.NOT_ME_LINK_TTL,
        at=linked_at,
        reason=LinkToken.AUTHENTICATOR_LINKED,
        about=name,
    )
    outbox.enqueue_mail(
        template="authenticator_linked",
        to=person.email,
        locale=person.language,
        context={
            "name": person.name,
            "device": name,
            "when": linked_at,
            "not_me": settings.SITE_URL + reverse("accounts:not_me", args=[raw]),
            "hours": int(policies.NOT_ME_LINK_TTL.total_seconds() // 3600),
        },
    )
    alerted = 0
    for membership in _requiring(person):
        for manager in _managers(membership.organisation, person):
            outbox.enqueue_mail(
                template="authenticator_linked_alert",
                to=manager.email,
                locale=manager.language,
                context={
                    "name": manager.name,
                    "person": person.name,
                    "email": person.email,
                    "device": name,
                    "when": linked_at,
                    "organisation": membership.organisation.name,
                },
            )
            alerted += 1
    personevents.record_for_person(
        "authenticator.link_notice",
        person=person,
        actor="system",
        target=person,
        details={"means": means, "managers": alerted, "sms": bool(person.phone_enrolment)},
    )
    if person.phone_enrolment:
        enrolment, locale = person.phone_enrolment, person.language
        transaction.on_commit(lambda: _text(person, enrolment, locale))


def _requiring(person: User) -> list[Membership]:
    """The organisations whose requirement an app of the person satisfies (active ones)."""
    rows = Membership.objects.filter(
        user=person, state=Membership.ACTIVE, accepted_at__isnull=False
    ).select_related("organisation")
    return [m for m in rows if policies.requires_app(m)]


def _managers(organisation, person: User) -> list[User]:
    rows = (
        Membership.objects.filter(
            organisation=organisation,
            state=Membership.ACTIVE,
            role__in=MANAGING_ROLES,
            user__state=User.ACTIVE,
        )
        .exclude(user=person)
        .select_related("user")
    )
    return [m.user for m in rows]


def _text(person: User, enrolment: str, locale: str) -> None:
    """The fixed SMS notice (vault/texts.py); a vault that cannot send is audited, never fatal:
    the mail is the record."""
    try:
        vaultclient.get().notify(enrolment=enrolment, kind="authenticator_linked", locale=locale)
    except vaultclient.VaultError as exc:
        audit.record(
            "phone.notice_failed",
            actor="system",
            target=person,
            outcome=audit.FAILURE,
            details={"error": getattr(exc, "code", "") or str(exc)[:200]},
        )
    else:
        personevents.record_for_person(
            "phone.notice_sent", person=person, actor="system", target=person
        )
