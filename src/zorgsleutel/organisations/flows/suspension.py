"""Operators suspend an organisation (every member's sessions end; nobody can act in it or log in
through it) and reinstate it. A person who also belongs to another, active organisation can still
log in there."""

from __future__ import annotations

from django.db.models import F
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import Conflict, DomainError, NotFound
from zorgsleutel.organisations.flows.operators import require_operator
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.people import signals
from zorgsleutel.people.models import User


def _locked(public_id) -> Organisation:
    organisation = Organisation.objects.select_for_update().filter(public_id=public_id).first()
    if organisation is None:
        raise NotFound("organisation_not_found", _("This organisation does not exist."))
    return organisation


def _refused(actor: User | str, organisation: Organisation, error: DomainError) -> DomainError:
    """An operator's action that the organisation's state refuses (two operators at once, a
    second click): audited in the platform's log."""
    return audit.refused(
        "permission.denied",
        error,
        actor=actor,
        target=organisation,
        details={"action": "organisations.suspend"},
    )


def suspend_organisation(*, actor: User | str, public_id, reason: str) -> Organisation:
    require_operator(actor, "organisations.suspend")
    reason = (reason or "").strip()
    if len(reason) < policies.REASON_MIN_LENGTH:
        raise DomainError(
            "reason_required", _("Give a reason (at least 5 characters)."), field="reason"
        )
    with audit.atomic():
        organisation = _locked(public_id)
        if organisation.suspended_at is not None:
            raise _refused(
                actor,
                organisation,
                Conflict("already_suspended", _("This organisation is already suspended.")),
            )
        organisation.suspended_at = clock.now()
        organisation.suspension_reason = reason[:2000]
        organisation.save(update_fields=["suspended_at", "suspension_reason"])
        # Raising the epoch ends every session of every member at their next request.
        ended = User.objects.filter(memberships__organisation=organisation).update(
            auth_epoch=F("auth_epoch") + 1
        )
        # The applications their people signed in to for it (not for another organisation).
        signals.sessions_ended.send(
            sender=__name__, reason="organisation_suspended", organisation=organisation
        )
        audit.record(
            "organisation.suspended",
            actor=actor,
            organisation=organisation,
            target=organisation,
            details={"reason": reason, "members": ended},
        )
    return organisation


def reinstate_organisation(*, actor: User | str, public_id) -> Organisation:
    require_operator(actor, "organisations.suspend")
    with audit.atomic():
        organisation = _locked(public_id)
        if organisation.suspended_at is None:
            raise _refused(
                actor,
                organisation,
                Conflict("not_suspended", _("This organisation is not suspended.")),
            )
        organisation.suspended_at = None
        organisation.suspension_reason = ""
        organisation.save(update_fields=["suspended_at", "suspension_reason"])
        audit.record(
            "organisation.reinstated", actor=actor, organisation=organisation, target=organisation
        )
    return organisation
