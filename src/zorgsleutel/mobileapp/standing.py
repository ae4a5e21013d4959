"""What a person's app IDs say about the means they may use (authn.means: the app's standing)."""

from __future__ import annotations

from zorgsleutel import policies
from zorgsleutel.authn.means import ACTIVE, HELD, NONE
from zorgsleutel.mobileapp.models import AppDevice


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


def rehome(user) -> int:
    """Inside a transaction, after the person's memberships changed (one deleted, one accepted):
    each app ID stays under an organisation the person accepted, preferring one whose rule makes
    them use the app (policies.requires_app); otherwise it moves to the responsible
    organisation (policies.responsible_organisation), or becomes the person's own. An
    organisation the person left, or only invited, never keeps one. Returns how many moved."""
    memberships = list(user.memberships.select_related("organisation"))
    accepted = {m.organisation_id: m for m in memberships if m.accepted_at is not None}
    responsible = policies.responsible_organisation_among(memberships)
    requiring = responsible is not None and policies.requires_app(accepted[responsible.pk])
    moved = 0
    for device in AppDevice.objects.select_for_update().filter(user=user):
        current = accepted.get(device.organisation_id)
        if current is not None and (policies.requires_app(current) or not requiring):
            continue
        target = responsible.pk if responsible is not None else None
        if device.organisation_id != target:
            device.organisation_id = target
            device.save(update_fields=["organisation"])
            moved += 1
    return moved
