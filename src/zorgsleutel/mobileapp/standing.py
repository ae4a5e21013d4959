"""What a person's app IDs say about the means they may use (policies.sms_login_refusal)."""

from __future__ import annotations

from zorgsleutel.mobileapp.models import AppDevice

ACTIVE, HELD, NONE = "active", "held", "none"


def app_standing(user) -> str:
    """ "active": an app ID that works; "held": only app IDs that are blocked, or removed
    without a manager letting the person link a new one; "none": no app ever, or only app IDs
    a manager released for relinking. One query."""
    states = set(
        AppDevice.objects.filter(user=user)
        .exclude(state=AppDevice.RELEASED)
        .values_list("state", flat=True)
        .distinct()
    )
    if AppDevice.ACTIVE in states:
        return ACTIVE
    return HELD if states else NONE
