"""A smartcard's life after it was made: the responsible organisation's administrators and
managers block, unblock and delete it (seed 003: *blokkeren/deblokkeren, verwijderen*) and check a
member's identity document in person; the holder reports it lost. Each change is the
certificate's status at once (a block puts it on hold, an unblock releases it, a deletion or a
loss revokes it for good), with its audit event, in one transaction; the CRL and the OCSP
answers follow after the commit (publication.card_changed).

Tenancy: a card is registered under one organisation (its certificate names it); only that
organisation's people manage it. Another organisation learns nothing of it, not even that it
exists.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.authn import refusals
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import Conflict, DomainError, NotFound
from zorgsleutel.people import permissions
from zorgsleutel.people.models import Membership, User
from zorgsleutel.smartcards import creation, publication
from zorgsleutel.smartcards.models import IdentityCheck, Smartcard
from zorgsleutel.smartcards.presented import REFUSALS


def _unknown() -> NotFound:
    return NotFound("smartcard_unknown", REFUSALS["smartcard_unknown"])


@dataclass(frozen=True)
class _Action:
    permission: str  # policies.PERMISSIONS
    allowed_from: frozenset
    state: str
    reason: str  # the revocation reason a revoked card keeps (x509.ReasonFlags' name)
    event: str  # core/auditevents.py


_IN_USE = frozenset({Smartcard.ACTIVE, Smartcard.BLOCKED})
ACTIONS = {
    "block": _Action(
        "smartcards.block",
        frozenset({Smartcard.ACTIVE}),
        Smartcard.BLOCKED,
        "",
        "smartcard.blocked",
    ),
    "unblock": _Action(
        "smartcards.unblock",
        frozenset({Smartcard.BLOCKED}),
        Smartcard.ACTIVE,
        "",
        "smartcard.unblocked",
    ),
    "delete": _Action(
        "smartcards.delete", _IN_USE, Smartcard.REVOKED, Smartcard.CESSATION, "smartcard.deleted"
    ),
}
WRONG_STATE = {
    Smartcard.ACTIVE: "smartcard_not_blocked",
    Smartcard.BLOCKED: "smartcard_blocked_already",
    Smartcard.REVOKED: "smartcard_revoked",
}


def _change(card: Smartcard, state: str, reason: str) -> None:
    card.state = state
    card.state_changed_at = clock.now()
    card.revocation_reason = reason
    card.save(update_fields=["state", "state_changed_at", "revocation_reason"])
    publication.card_changed(card)


def _managed(actor: User, organisation, action: str, card_id: str) -> Smartcard:
    """A card registered under this organisation whose holder's role the actor may manage; else
    refused and audited without naming it."""
    acting = permissions.require(actor, action, organisation)
    card = Smartcard.objects.filter(public_id=card_id[:40], organisation=organisation).first()
    holder = (
        Membership.objects.filter(
            user_id=card.user_id, organisation=organisation, accepted_at__isnull=False
        ).first()
        if card
        else None
    )

    def refused(error: DomainError, **details):
        return audit.refused(
            "permission.denied",
            error,
            actor=actor,
            organisation=organisation,
            target=card if holder is not None else None,
            details={"action": action, **details},
        )

    if holder is None:
        raise refused(_unknown())
    if card.user_id == actor.pk:
        raise refused(refusals.error("not_yourself"))
    if not policies.may_grant(acting.role, holder.role):
        raise refused(
            refusals.error("role_not_allowed", role=holder.get_role_display()),
            target_role=holder.role,
        )
    return card


def managed_card(*, actor: User, organisation, card_id: str, action: str) -> Smartcard:
    """The smartcard Beheer's `action` ("block", "unblock", "delete") is about, if the actor
    may take it here: asked by the confirmation page, which changes nothing; refused (and
    audited) as set_state refuses."""
    return _managed(actor, organisation, ACTIONS[action].permission, card_id)


def set_state(*, actor: User, organisation, card_id: str, action: str) -> Smartcard:
    """Beheer: block (on hold), unblock (released) or delete (revoked for good) a smartcard of
    this organisation."""
    step = ACTIONS[action]
    _managed(actor, organisation, step.permission, card_id)
    with audit.atomic():
        card = Smartcard.objects.select_for_update().get(public_id=card_id[:40])
        if card.state not in step.allowed_from:
            raise audit.refused(
                "permission.denied",
                DomainError(WRONG_STATE[card.state], STATE_TEXTS[WRONG_STATE[card.state]]),
                actor=actor,
                organisation=organisation,
                target=card,
                details={"action": step.permission},
            )
        _change(card, step.state, step.reason)
        audit.record(
            step.event,
            actor=actor,
            organisation=organisation,
            target=card,
            details={"serial": card.serial},
        )
    return card


def supersede(card: Smartcard) -> None:
    """A renewal's old certificate: revoked (superseded), inside the renewal's transaction."""
    _change(card, Smartcard.REVOKED, Smartcard.SUPERSEDED)


def report_lost(*, actor: User, card_id: str) -> Smartcard:
    """The holder: my card is lost (or someone else may have it): revoked at once, keyCompromise."""
    with audit.atomic():
        card = (
            Smartcard.objects.select_for_update()
            .select_related("organisation")
            .filter(public_id=card_id[:40], user=actor)
            .first()
        )
        if card is None:
            raise _unknown()
        if card.state == Smartcard.REVOKED:
            raise Conflict("smartcard_revoked", REFUSALS["smartcard_revoked"])
        _change(card, Smartcard.REVOKED, Smartcard.KEY_COMPROMISE)
        audit.record_in(
            [card.organisation],
            "smartcard.reported_lost",
            actor=actor,
            target=card,
            details={"serial": card.serial},
            member=actor,
        )
    return card


def confirm_identity(*, actor: User, organisation, membership_id: int) -> IdentityCheck:
    """Beheer: "I saw this member's identity document in person" (who and when are kept, never
    the document's number). The member can then make a smartcard for this organisation."""
    acting = permissions.require(actor, "smartcards.confirm_identity", organisation)
    holder = (
        Membership.objects.select_related("user", "organisation")
        .filter(pk=membership_id, organisation=organisation, accepted_at__isnull=False)
        .first()
    )

    def refused(error: DomainError):
        return audit.refused(
            "permission.denied",
            error,
            actor=actor,
            organisation=organisation,
            target=holder.user if holder else None,
            details={"action": "smartcards.confirm_identity"},
        )

    if holder is None:
        raise refused(NotFound("not_found", permissions.FORBIDDEN))
    if holder.user_id == actor.pk:
        raise refused(refusals.error("not_yourself"))
    if not policies.may_grant(acting.role, holder.role):
        raise refused(refusals.error("role_not_allowed", role=holder.get_role_display()))
    reason = creation.creation_refusal(holder.user, holder)
    if reason is not None:
        raise refused(creation.refusal(reason))
    with audit.atomic():
        proof = IdentityCheck.objects.create(
            user=holder.user,
            organisation=organisation,
            method=IdentityCheck.IN_PERSON,
            confirmed_by=actor,
            confirmed_by_name=actor.name,
            confirmed_at=clock.now(),
        )
        audit.record(
            "smartcard.identity_confirmed",
            actor=actor,
            organisation=organisation,
            target=holder.user,
            details={"method": IdentityCheck.IN_PERSON},
        )
    return proof


# --- Recovery (*Dit was ik niet*, authn/means.py) ----------------------------------------------


def linked_since(person: User, since) -> list[tuple[str, object]]:
    rows = Smartcard.objects.filter(user=person, issued_at__gte=since).exclude(
        state=Smartcard.REVOKED
    )
    return [(f"smartcard {card.serial}", card.issued_at) for card in rows.order_by("issued_at")]


def revoke_since(person: User, since) -> list[str]:
    """Every smartcard made at or after `since`: revoked (keyCompromise), in the report's
    transaction."""
    revoked = []
    rows = Smartcard.objects.select_for_update().select_related("organisation")
    for card in rows.filter(user=person, issued_at__gte=since).exclude(state=Smartcard.REVOKED):
        _change(card, Smartcard.REVOKED, Smartcard.KEY_COMPROMISE)
        audit.record_in(
            [card.organisation],
            "smartcard.reported_lost",
            actor=person,
            target=card,
            details={"serial": card.serial, "reason": "reported_not_me"},
            member=person,
        )
        revoked.append(f"smartcard {card.serial}")
    return revoked


STATE_TEXTS = {
    "smartcard_not_blocked": _("This smartcard is not blocked."),
    "smartcard_blocked_already": _("This smartcard is blocked already."),
    "smartcard_revoked": REFUSALS["smartcard_revoked"],
}
