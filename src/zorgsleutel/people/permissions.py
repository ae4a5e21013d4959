"""Permission checks: the rules are data in zorgsleutel.policies; this applies them."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core import audit
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.people.models import Membership, Organisation, User


def membership_of(user: User, organisation: Organisation) -> Membership | None:
    if not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, organisation=organisation).first()


# Whether the way the actor's session logged in still counts in an organisation: each
# organisation decides about a person's authenticators for itself (docs/accounts.md, "Who governs
# an authenticator"). authn registers the check (people sits below it and knows no means); it
# answers the refusal to raise, in authn's words (authn/refusals.py), or None.
_session_checks: list[Callable[[User, Organisation], DomainError | None]] = []

# The one refusal people words itself; authn/refusals.py lists it with every other.
FORBIDDEN = _("You are not allowed to do this.")


def register_session_check(check: Callable[[User, Organisation], DomainError | None]) -> None:
    if check not in _session_checks:
        _session_checks.append(check)


def require(actor: User, action: str, organisation: Organisation) -> Membership:
    """The actor's active membership if `policies` allows `action` there and the actor's
    session logged in with something this organisation accepts; else audit and refuse (an
    invited or blocked membership allows nothing)."""
    membership = membership_of(actor, organisation)
    if (
        membership is None
        or membership.state != Membership.ACTIVE
        or not policies.allows(membership.role, action)
        or organisation.is_suspended
    ):
        refusal = PermissionDenied("forbidden", FORBIDDEN)
    else:
        refusal = next(
            (found for check in _session_checks if (found := check(actor, organisation))), None
        )
    if refusal is not None:
        raise audit.refused(
            "permission.denied",
            refusal,
            actor=actor,
            organisation=organisation,
            details={"action": action},
        )
    return membership


def require_operator(actor: User | str, action: str) -> None:
    """Operators act on the platform (applications, organisations, the queue of blank-card
    orders), never inside an organisation's people; what they may do is
    policies.OPERATOR_PERMISSIONS. The command line ("cli") acts as an operator. Else audit and
    refuse `forbidden`. Here, below the capabilities, so that organisations and smartcards both
    ask it."""
    if actor == "cli":
        return
    if not (
        isinstance(actor, User)
        and actor.is_operator
        and actor.is_active
        and action in policies.OPERATOR_PERMISSIONS
    ):
        raise audit.refused(
            "permission.denied",
            PermissionDenied("forbidden", FORBIDDEN),
            actor=actor,
            details={"action": action},
        )
