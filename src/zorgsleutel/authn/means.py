"""The registry of login means: what each one proves, where it starts, and who may use it.

A login means is a registration. Each capability that offers one registers it when Django
starts (its AppConfig.ready): password + SMS code here in authn (apps.py), the Zorgsleutel app
in mobileapp, the UZI card in cards. The rest of the portal asks this registry instead of
knowing the means:

  - `complete_login(request, person, means)` (sessions.py) writes the means' `acr` and `amr`
    into the session and into the `login.succeeded` event;
  - the assurance middleware (sessions.py) sends a session below the person's required level
    to the `start` page of a means that reaches it (or its `enrol` page when the person has none
    yet), and lets such a session use only the means' `paths`;
  - `refusal(person, name)` answers "may this person log in with this means now?" in one place:
    the account, their organisations (tenancy) and the no-fallback rule for blocked
    authenticators (policies.py, docs/app-protocol.md).

docs/architecture.md shows the registration of a means, with the UZI card as the example.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.utils.functional import Promise

from zorgsleutel import policies

# What a means' `standing(person)` answers: the person's authenticators of that means.
ACTIVE, HELD, NONE = "active", "held", "none"


@dataclass(frozen=True)
class Means:
    name: str  # "sms", "app", "uzi": stable, stored in sessions and audit events
    acr: str  # the assurance it gives: policies.ASSURANCE_ORDER
    amr: tuple[str, ...]  # how (RFC 8176 values where one fits)
    start: str  # URL name of the page that starts a login with it
    # Paths a session below the person's required assurance may still use, to reach this means.
    paths: tuple[str, ...] = ()
    enrol: str = ""  # URL name where a person links this means when they have none
    # What the person has of it: ACTIVE (an authenticator that works), HELD (only blocked or
    # removed ones), NONE. Absent for a means that needs nothing linked (a password).
    standing: Callable[[object], str] | None = None
    # Whether the authenticator a session logged in with (complete_login's `authenticator`)
    # works for an organisation now: each organisation decides about a person's
    # authenticators for itself (docs/accounts.md, "Who governs an authenticator"). Absent for
    # a means every organisation takes as it is (a password + SMS code).
    accepted_by: Callable[[object, str, object], bool] | None = None
    # Recovery (*Dit was ik niet*): the person's authenticators of this means linked at or after
    # a time, as (name, linked at), and taking them away (returns their names).
    linked_since: Callable[[object, datetime], list[tuple[str, datetime]]] | None = None
    revoke_since: Callable[[object, datetime], list[str]] | None = None
    # What the step-up redirect tells the person (to `start`, or to `enrol`).
    log_in_message: str | Promise = ""
    enrol_message: str | Promise = ""


_REGISTRY: dict[str, Means] = {}


def register(means: Means) -> Means:
    """Add a login means (once, from an AppConfig.ready)."""
    if means.acr not in policies.ASSURANCE_ORDER:
        raise ValueError(f"unknown assurance level {means.acr!r} for login means {means.name!r}")
    held = _REGISTRY.get(means.name)
    if held is not None and held != means:
        raise ValueError(f"login means {means.name!r} is registered already")
    _REGISTRY[means.name] = means
    return means


def get(name: str) -> Means:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise LookupError(f"no login means {name!r} is registered") from None


def registered() -> tuple[Means, ...]:
    """Every means, in the order they were registered."""
    return tuple(_REGISTRY.values())


def step_up_paths() -> tuple[str, ...]:
    """The paths of every means: where a session below its required assurance may go."""
    return tuple(path for means in _REGISTRY.values() for path in means.paths)


def reaching(required: str) -> tuple[Means, ...]:
    """The means whose assurance satisfies `required`, in registration order."""
    return tuple(m for m in _REGISTRY.values() if policies.satisfies(m.acr, required))


def refusal(person, name: str) -> str | None:
    """Why `person` may not log in with means `name` now, or None.

    "account_blocked" (the account is), "membership_blocked" (every organisation the person
    accepted blocked them), "organisation_suspended" (all their organisations are); for a
    means below the person's required assurance, the no-fallback rule: "app_required" when
    they have a working authenticator of a means that reaches it, "app_held" when theirs is
    blocked or removed (policies.weaker_means_refusal). Only then is the standing of the
    stronger means asked (a query).
    """
    means = get(name)
    if not person.is_active:
        return "account_blocked"
    reason = policies.login_refusal(person)
    if reason is not None:
        return reason
    required = policies.required_acr(person)
    if policies.satisfies(means.acr, required):
        return None
    for stronger in reaching(required):
        if stronger.standing is not None:
            found = policies.weaker_means_refusal(stronger.name, stronger.standing(person))
            if found is not None:
                return found
    return None


def session_refusal(person, means_name: str | None, authenticator: str, organisation) -> str | None:
    """Why a session logged in with `means_name` (and that authenticator) may not act in
    `organisation`, or None: the organisation stopped that authenticator for itself."""
    if not means_name:
        return None  # not a login of complete_login's (an API token acts without a session)
    used = _REGISTRY.get(means_name)
    if used is None:
        return "authenticator_not_accepted"  # a means no longer offered
    if used.accepted_by is None or used.accepted_by(person, authenticator, organisation):
        return None
    return "authenticator_not_accepted"


def linked_since(person, since: datetime) -> list[tuple[str, str, datetime]]:
    """Every authenticator the person linked at or after `since`: (means, name, linked at)."""
    return [
        (m.name, name, at)
        for m in _REGISTRY.values()
        if m.linked_since is not None
        for name, at in m.linked_since(person, since)
    ]


def revoke_since(person, since: datetime) -> list[tuple[str, str]]:
    """Inside the caller's transaction: take away every authenticator the person linked at or
    after `since` (each means records its own events). Returns (means, name) of each."""
    return [
        (m.name, name)
        for m in _REGISTRY.values()
        if m.revoke_since is not None
        for name in m.revoke_since(person, since)
    ]


def standing_of(person, name: str) -> str:
    """What the person has of means `name` (ACTIVE, HELD, NONE); NONE for a means that is not
    registered or needs nothing linked. One capability asks about another's this way (the app
    and the smartcard exclude each other: policies.app_link_refusal)."""
    means = _REGISTRY.get(name)
    if means is None or means.standing is None:
        return NONE
    return means.standing(person)


def usable(person) -> dict[str, str | None]:
    """Every registered means → None when `person` may use it now, else why not (refusal)."""
    return {means.name: refusal(person, means.name) for means in _REGISTRY.values()}
