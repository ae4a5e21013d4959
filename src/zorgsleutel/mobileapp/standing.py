"""Who an app ID works for, and what a person's app IDs say about the means they may use.

An app ID is its person's. Every organisation where the person accepted a membership decides
about it for itself (models.AppDecision): a block, a removal or a release there changes nothing
for another organisation (docs/accounts.md, "Who governs an authenticator"):

  - an app ID works for an organisation while it works at all (AppDevice.state: the wrong PINs
    and the person's own removal are the app ID's, everywhere) and that organisation has no
    decision about it;
  - a session logged in with an app ID acts only in the organisations it works for
    (`accepted_by`, asked by people.permissions for every organisation action);
  - an organisation that requires the app of the person *holds* it while the person's app ID is
    blocked or removed there and it has not let the person link a new one (a release); a new
    app ID linked meanwhile waits for that organisation's consent (AppDecision.PENDING).

authn.means asks `app_standing` for the no-fallback rule (policies.weaker_means_refusal).
"""

from __future__ import annotations

from zorgsleutel import policies
from zorgsleutel.authn import means
from zorgsleutel.authn.means import ACTIVE, HELD, NONE
from zorgsleutel.mobileapp.models import AppDecision, AppDevice

# Decisions under which an organisation holds the person's app: none of their app IDs may be
# replaced for it without its consent.
HOLDING = frozenset({AppDecision.BLOCKED, AppDecision.REVOKED, AppDecision.PENDING})


def devices_of(user) -> list[AppDevice]:
    """The person's app IDs with every organisation's decisions (two queries)."""
    return list(AppDevice.objects.filter(user=user).prefetch_related("decisions"))


def decision(device: AppDevice, organisation_id) -> str | None:
    """What this organisation decided about the app ID (prefetched), or None."""
    for found in device.decisions.all():
        if found.organisation_id == organisation_id:
            return found.state
    return None


def state_for(device: AppDevice, organisation_id) -> str:
    """The app ID as one organisation sees it: its own decision, else the app ID's state."""
    return decision(device, organisation_id) or device.state


def works_for(device: AppDevice, organisation_id) -> bool:
    return device.state == AppDevice.ACTIVE and decision(device, organisation_id) is None


def holds(devices: list[AppDevice], organisation_id) -> bool:
    """Whether this organisation holds the person's app: one of their app IDs is blocked,
    removed or waiting here, or stopped working (wrong PINs, removed by the person) and this
    organisation has not released it."""
    for device in devices:
        decided = decision(device, organisation_id)
        if decided in HOLDING or (decided is None and device.state != AppDevice.ACTIVE):
            return True
    return False


def works_for_anyone(device: AppDevice, user) -> bool:
    """Whether a login with this app ID may serve the person anywhere: an active organisation
    of theirs it works for (or, with no accepted membership, the person alone)."""
    if device.state != AppDevice.ACTIVE:
        return False
    accepted = policies.accepted_memberships(user)
    if not accepted:
        return True
    return any(
        m.state == policies.MEMBERSHIP_ACTIVE and works_for(device, m.organisation_id)
        for m in accepted
    )


def app_standing(user) -> str:
    """ "active": an app ID that works for one of the person's active organisations (or for
    the person alone, without any); "held": none works, and every organisation that requires
    the app of the person holds it (without such an organisation: any app ID at all);
    "none": no app ever, or an organisation that requires the app lets the person link one."""
    devices = devices_of(user)
    if not devices:
        return NONE
    if any(works_for_anyone(device, user) for device in devices):
        return ACTIVE
    accepted = policies.accepted_memberships(user)
    if not accepted:
        return HELD
    requiring = [m for m in accepted if policies.requires_app(m)]
    if requiring and all(holds(devices, m.organisation_id) for m in requiring):
        return HELD
    return NONE


def waiting_organisations(user, *, session_acr: str) -> list:
    """The organisations a new app ID linked from a session at `session_acr` must wait for
    (AppDecision.PENDING): each one that requires the app of the person and holds their app,
    or whose requirement it would meet from below it after a reset by mail
    (policies.new_app_waits)."""
    devices = devices_of(user)
    reset_at = user.credentials_reset_at
    return [
        m.organisation_id
        for m in policies.accepted_memberships(user)
        if policies.new_app_waits(
            m,
            holds=holds(devices, m.organisation_id),
            session_acr=session_acr,
            reset_at=reset_at,
            released_since_reset=released_since(devices, m.organisation_id, reset_at),
        )
    ]


def waiting_for(device: AppDevice) -> list:
    """The organisations whose consent this app ID waits for (AppDecision.PENDING), by name."""
    pending = device.decisions.filter(state=AppDecision.PENDING).select_related("organisation")
    return sorted(decided.organisation.name for decided in pending)


def released_since(devices: list[AppDevice], organisation_id, moment) -> bool:
    """Whether this organisation released one of the person's app IDs after `moment`."""
    return moment is not None and any(
        d.organisation_id == organisation_id
        and d.state == AppDecision.RELEASED
        and d.decided_at > moment
        for device in devices
        for d in device.decisions.all()
    )


def accepted_by(person, authenticator: str, organisation) -> bool:
    """Whether the app ID a session logged in with works for this organisation now."""
    device = (
        AppDevice.objects.filter(public_id=authenticator, user=person)
        .prefetch_related("decisions")
        .first()
    )
    return device is not None and works_for(device, organisation.pk)


def forget_left_organisations(user) -> int:
    """Inside the transaction that changed the person's memberships: decisions of an
    organisation the person no longer belongs to (or only invited them) go. Returns how many."""
    accepted = [m.organisation_id for m in user.memberships.filter(accepted_at__isnull=False)]
    deleted, _ = (
        AppDecision.objects.filter(device__user=user).exclude(organisation_id__in=accepted).delete()
    )
    return deleted


def last_way_in(user, device: AppDevice) -> bool:
    """Whether removing this app ID leaves the person no way to log in by themselves: their
    role needs the app (policies.required_acr; password + SMS no longer does, the no-fallback
    rule), no other app ID of theirs works, and no card of theirs logs them in. Then only an
    administrator or manager who releases the app lets them link a new one: the page that
    removes it says so first."""
    if policies.satisfies("low", policies.required_acr(user)):
        return False
    if any(other.pk != device.pk and works_for_anyone(other, user) for other in devices_of(user)):
        return False
    return means.standing_of(user, "smartcard") != ACTIVE and not user.uzi_number
