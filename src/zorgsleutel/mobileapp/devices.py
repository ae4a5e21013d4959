"""App IDs' life cycle: the person removes their own; each organisation the person accepted
blocks, unblocks, removes or releases them for itself (seed 003: blokkeren/deblokkeren,
verwijderen; docs/accounts.md, "Who governs an authenticator")."""

from __future__ import annotations

from dataclasses import dataclass

from zorgsleutel import policies
from zorgsleutel.authn import refusals
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import Conflict, NotFound
from zorgsleutel.mobileapp import standing
from zorgsleutel.mobileapp.models import AppDecision, AppDevice
from zorgsleutel.people import permissions, personevents
from zorgsleutel.people.models import Membership, User


def revoke_own_device(*, actor: User, device_id: str) -> AppDevice:
    with audit.atomic():
        device = (
            AppDevice.objects.select_for_update().filter(public_id=device_id, user=actor).first()
        )
        if device is None:  # not theirs, or no app ID at all: the person's own log says so
            raise personevents.refused_for_person(
                "app.revoke_refused",
                refusals.error("device_unknown", NotFound),
                person=actor,
                actor=actor,
                target=actor,
            )
        device.state = AppDevice.REVOKED
        device.save(update_fields=["state"])
        personevents.record_for_person("app.revoked", person=actor, actor=actor, target=device)
    return device


def linked_since(person: User, since) -> list[tuple[str, object]]:
    """The person's app IDs linked at or after `since` and not removed: (name, linked at)."""
    rows = (
        AppDevice.objects.filter(user=person, enrolled_at__gte=since)
        .exclude(state=AppDevice.REVOKED)
        .order_by("enrolled_at")
    )
    return [(device.name, device.enrolled_at) for device in rows]


def revoke_since(person: User, since) -> list[str]:
    """*Dit was ik niet*: remove every app ID linked at or after `since`, for every
    organisation (the person's own act). Inside the report's transaction."""
    removed = []
    rows = AppDevice.objects.select_for_update().filter(user=person, enrolled_at__gte=since)
    for device in rows.exclude(state=AppDevice.REVOKED).order_by("enrolled_at"):
        device.state = AppDevice.REVOKED
        device.save(update_fields=["state"])
        personevents.record_for_person(
            "app.revoked",
            person=person,
            actor=person,
            target=device,
            details={"reason": "reported_not_me"},
        )
        removed.append(device.name)
    return removed


def _managed_device(actor: User, action: str, device_id: str, organisation) -> AppDevice:
    """An app ID of a person who accepted this organisation, whose role the actor may manage.
    Every organisation the person accepted decides about their app IDs for itself; app IDs of
    people it only invited or does not know are unknown here (Tenancy)."""
    acting = permissions.require(actor, action, organisation)
    device = (
        AppDevice.objects.select_related("user")
        .prefetch_related("decisions")
        .filter(public_id=device_id)
        .first()
    )
    owner = (  # a person who accepted this organisation (an invitation reaches no app ID)
        Membership.objects.filter(
            user=device.user, organisation=organisation, accepted_at__isnull=False
        ).first()
        if device
        else None
    )

    def refused(error, **details):
        # Unknown here: neither the app ID nor its person (whoever they are) is named.
        return audit.refused(
            "permission.denied",
            error,
            actor=actor,
            organisation=organisation,
            target=device if owner is not None else None,
            details={"action": action, **details},
        )

    if owner is None or standing.state_for(device, organisation.pk) == AppDecision.RELEASED:
        raise refused(refusals.error("device_unknown", NotFound))
    if device.user_id == actor.pk:
        raise refused(refusals.error("not_yourself"))
    if not policies.may_grant(acting.role, owner.role):  # managers manage care workers' apps
        raise refused(
            refusals.error("role_not_allowed", role=owner.get_role_display()),
            target_role=owner.role,
        )
    return device


def managed_device(*, actor: User, organisation, device_id: str, action: str) -> AppDevice:
    """The app ID Beheer's `action` ("block", "delete", ...) is about, if the actor may take it
    here: asked by the confirmation page, which changes nothing; refused (and audited) as
    set_device_state refuses."""
    return _managed_device(actor, _ACTIONS[action].permission, device_id, organisation)


@dataclass(frozen=True)
class _Action:
    permission: str  # policies.PERMISSIONS
    allowed_from: frozenset  # the app ID as this organisation sees it (standing.state_for)
    decision: str | None  # this organisation's decision afterwards; None: it relies on the app
    event: str  # core/auditevents.py


_IN_USE = frozenset({AppDevice.ACTIVE, AppDevice.BLOCKED, AppDecision.PENDING})
_REMOVED = frozenset({AppDevice.REVOKED})

# Beheer's actions on an app ID, for this organisation only. "unblock" also lets a new app
# that waits for this organisation's consent work here; "relink" releases a removed app so the
# person may link a new one (policies.may_link_app).
_ACTIONS = {
    "block": _Action("apps.block", _IN_USE, AppDecision.BLOCKED, "app.blocked"),
    "unblock": _Action("apps.unblock", _IN_USE, None, "app.unblocked"),
    "delete": _Action("apps.delete", _IN_USE, AppDecision.REVOKED, "app.deleted"),
    "relink": _Action("apps.relink", _REMOVED, AppDecision.RELEASED, "app.released"),
}


def set_device_state(*, actor: User, organisation, device_id: str, action: str) -> AppDevice:
    """Beheer (seed 003): blokkeren, deblokkeren, verwijderen of a person's app ID, and letting
    them link a new app after a removal: this organisation's decision, for itself only."""
    step = _ACTIONS[action]
    device = _managed_device(actor, step.permission, device_id, organisation)
    with audit.atomic():
        device = (
            AppDevice.objects.select_for_update().prefetch_related("decisions").get(pk=device.pk)
        )
        seen = standing.state_for(device, organisation.pk)
        if seen not in step.allowed_from:
            code = "device_revoked" if seen == AppDevice.REVOKED else "device_not_removed"
            raise audit.refused(
                "permission.denied",
                refusals.error(code, Conflict),
                actor=actor,
                organisation=organisation,
                target=device,
                details={"action": step.permission},
            )
        if action == "unblock" and device.state == AppDevice.BLOCKED:
            _unlock_for(device, organisation)
        AppDecision.objects.filter(device=device, organisation=organisation).delete()
        if step.decision is not None:
            AppDecision.objects.create(
                device=device,
                organisation=organisation,
                state=step.decision,
                decided_at=clock.now(),
            )
        audit.record(step.event, actor=actor, organisation=organisation, target=device)
    return device


def _unlock_for(device: AppDevice, organisation) -> None:
    """The wrong PINs blocked the app ID everywhere; this organisation's unblock makes it work
    here only: every other organisation of the person keeps it blocked for itself until it
    unblocks too (its own decision), and the PIN count starts again."""
    decided = {d.organisation_id for d in device.decisions.all()}
    others = (
        Membership.objects.filter(user_id=device.user_id, accepted_at__isnull=False)
        .exclude(organisation=organisation)
        .exclude(organisation_id__in=decided)
        .values_list("organisation_id", flat=True)
    )
    AppDecision.objects.bulk_create(
        AppDecision(
            device=device,
            organisation_id=organisation_id,
            state=AppDecision.BLOCKED,
            decided_at=clock.now(),
        )
        for organisation_id in others
    )
    device.state = AppDevice.ACTIVE
    device.wrong_pins = 0
    device.save(update_fields=["state", "wrong_pins"])
