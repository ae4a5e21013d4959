"""Permission checks: the rules are data in zorgsleutel.policies; this applies them."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core import audit
from zorgsleutel.core.errors import PermissionDenied
from zorgsleutel.people.models import Membership, Organisation, User


def membership_of(user: User, organisation: Organisation) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, organisation=organisation).first()


# Whether the way the actor's session logged in still counts in an organisation: each
# organisation decides about a person's authenticators for itself (docs/accounts.md, "Who governs
# an authenticator"). authn registers the check (people sits below it and knows no means); it
# answers a refusal code or None.
_session_checks: list[Callable[[User, Organisation], str | None]] = []

SESSION_REFUSALS = {
    "authenticator_not_accepted": _(
        "The Zorgsleutel app you logged in with is blocked or removed for this organisation. "
        "Its administrator or manager can unblock it."
    ),
}


def register_session_check(check: Callable[[User, Organisation], str | None]) -> None:
    if check not in _session_checks:
        _session_checks.append(check)


def require(actor: User, action: str, organisation: Organisation) -> Membership:
    """The actor's active membership if `policies` allows `action` there and the actor's
    session logged in with something this organisation accepts; else audit and refuse (an
    invited or blocked membership allows nothing)."""
    membership = membership_of(actor, organisation)
    reason = None
    if (
        membership is None
        or membership.state != Membership.ACTIVE
        or not policies.allows(membership.role, action)
        or organisation.is_suspended
    ):
        reason = "forbidden"
    else:
        reason = next(
            (found for check in _session_checks if (found := check(actor, organisation))), None
        )
    if reason is not None:
        details = {"action": action}
        if reason != "forbidden":
            details["reason"] = reason
        audit.record(
            "permission.denied",
            actor=actor,
            organisation=organisation,
            outcome=audit.DENIED,
            details=details,
        )
        message = SESSION_REFUSALS.get(reason, _("You are not allowed to do this."))
        raise PermissionDenied(reason, message)
    return membership
