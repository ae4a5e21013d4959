"""Where a login lands: back on the page it started from, else where the person's role has work
(policies.landing): the Operatorconsole, an organisation's Aan de slag, Mijn Zorgsleutel.

A protected page sends an anonymous visitor to the login with `?next=<its path>` (core.pages.guard);
the login pages keep that path in the session (`keep`), for the login's later steps (the SMS
code, the app's or card's poll) and for the links to the other means, and the login's last step
takes it out (`destination`). Only a path on this site is kept, never a URL of another host
(`//host`, `/\\host`, a scheme), never a login page: no open redirect."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode

from zorgsleutel import policies
from zorgsleutel.authn import sessions
from zorgsleutel.people.models import Membership

NEXT = "next"  # the query parameter
_KEPT = "zs_next"  # the session key
_MAX_LENGTH = 1000
# Login and logout pages are never a destination (a login that lands on a login page loops).
_NOT_BACK_TO = ("/inloggen", "/uitloggen")


def safe(request, value: str) -> str:
    """`value` when it is a path on this site to return to, else ""."""
    if (
        not value
        or len(value) > _MAX_LENGTH
        or not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
        or value.startswith(_NOT_BACK_TO)
    ):
        return ""
    if not url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return ""
    return value


def keep(request) -> str:
    """On a login page: keep its `?next=` for after the login (or forget an earlier one when it
    has none), and return it for the page's links to the other means."""
    wanted = safe(request, request.GET.get(NEXT, ""))
    if wanted:
        request.session[_KEPT] = wanted
    else:
        request.session.pop(_KEPT, None)
    return wanted


def carry(request) -> str:
    """The kept path, left in place (a page between the login's steps links on with it)."""
    return safe(request, request.session.get(_KEPT, ""))


def with_next(url: str, wanted: str) -> str:
    """`url` with `?next=wanted` when there is one (a login page's links to its siblings)."""
    return f"{url}?{urlencode({NEXT: wanted})}" if wanted else url


def destination(request, person) -> str:
    """Where the login that just completed goes: the request that asked for it
    (sessions.remember_return: an application's sign-in, a page whose session timed out), else
    the kept `?next=` path (taken out), else by role."""
    kept = safe(request, request.session.pop(_KEPT, ""))
    return sessions.returning_to(request) or kept or by_role(person)


def by_role(person) -> str:
    """Where `person` has work (policies.landing): the Operatorconsole, the Aan de slag of the
    first (by name) organisation they are setting up, else Mijn Zorgsleutel."""
    organisation = setting_up(person)
    where = policies.landing(is_operator=person.is_operator, setting_up=organisation is not None)
    if where == policies.LANDING_NEXT_STEPS:
        return next_steps_url(organisation)
    return resolve_url(settings.LANDING_URLS[where])


def next_steps_url(organisation) -> str:
    return reverse(
        settings.LANDING_URLS[policies.LANDING_NEXT_STEPS], args=[organisation.public_id]
    )


def setting_up(person):
    """The first organisation (by name) whose administrator `person` is while nobody else holds
    a role in it (policies.setting_up), or None. No query for someone who administers nothing
    (the memberships come with the person: people/loading.py)."""
    administered = [
        m
        for m in policies.memberships(person)
        if m.role == policies.ADMINISTRATOR and m.state == policies.MEMBERSHIP_ACTIVE
    ]
    if not administered:
        return None
    roles: dict[int, set[str]] = {}
    for organisation_id, role in (
        Membership.objects.filter(organisation_id__in={m.organisation_id for m in administered})
        .exclude(role=policies.ADMINISTRATOR)
        .order_by()
        .values_list("organisation_id", "role")
        .distinct()
    ):
        roles.setdefault(organisation_id, set()).add(role)
    candidates = [
        m.organisation
        for m in administered
        if policies.setting_up(m, {policies.ADMINISTRATOR} | roles.get(m.organisation_id, set()))
    ]
    return min(candidates, key=lambda o: o.name) if candidates else None
