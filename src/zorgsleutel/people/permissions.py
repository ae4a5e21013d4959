"""Permission checks: the rules are data in zorgsleutel.policies; this applies them."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core import audit
from zorgsleutel.core.errors import PermissionDenied
from zorgsleutel.people.models import Membership, Organisation, User


def membership_of(user: User, organisation: Organisation) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, organisation=organisation).first()


def require(actor: User, action: str, organisation: Organisation) -> Membership:
    """The actor's active membership if `policies` allows `action` there; else audit and
    refuse (an invited or blocked membership allows nothing)."""
    membership = membership_of(actor, organisation)
    if (
        membership is None
        or membership.state != Membership.ACTIVE
        or not policies.allows(membership.role, action)
        or organisation.is_suspended
    ):
        audit.record(
            "permission.denied",
            actor=actor,
            organisation=organisation,
            outcome=audit.DENIED,
            details={"action": action},
        )
        raise PermissionDenied("forbidden", _("You are not allowed to do this."))
    return membership
