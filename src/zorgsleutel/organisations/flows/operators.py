"""Operators act on the platform (applications, organisations), never inside an organisation's
people; what they may do is policies.OPERATOR_PERMISSIONS."""

from __future__ import annotations

from zorgsleutel import policies
from zorgsleutel.authn import refusals
from zorgsleutel.core import audit
from zorgsleutel.people.models import User


def require_operator(actor: User | str, action: str) -> None:
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
            refusals.error("forbidden"),
            actor=actor,
            details={"action": action},
        )
