"""Operators act on the platform (applications, organisations), never inside an organisation's
people; what they may do is policies.OPERATOR_PERMISSIONS."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core import audit
from zorgsleutel.core.errors import PermissionDenied
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
        audit.record(
            "permission.denied", actor=actor, outcome=audit.DENIED, details={"action": action}
        )
        raise PermissionDenied("forbidden", _("You are not allowed to do this."))
