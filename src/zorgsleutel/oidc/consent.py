"""Consent (docs/oidc.md, "Consent"): what a person allowed an application to receive, and for
which organisation they act there.

The first login to an application asks (the consent page, oidc/templates/oidc/consent.html):
the application, its address and logo when registered, the organisation, and what it receives
in words. The answer is remembered per application (`Consent`: the scopes allowed and the
organisation chosen); a later request for a scope not allowed yet asks again, for the new ones;
`prompt=consent` always asks; `prompt=none` gets `consent_required` instead of the page.

The page's answer is bound to the request it showed by a **ticket** kept in the person's session
(`issue_ticket`, `redeem_ticket`): single use, for this client, these scopes, this organisation
and this request (its redirect URI, state, nonce and PKCE challenge), within
policies.OIDC_CONSENT_TICKET_TTL. Django's CSRF check keeps other sites from posting the answer;
the ticket keeps one request's page from answering another (a second tab, a request changed
under the person). The page cannot be framed (CSP frame-ancestors 'none', X-Frame-Options DENY:
settings.py), so nobody clicks "Toestaan" unseen.

Revoking (Mijn Zorgsleutel → Gekoppelde applicaties) deletes the consent and the person's tokens
at that application (`revoke_tokens`); the next login asks again.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_grant_model

from zorgsleutel import policies
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import NotFound
from zorgsleutel.oidc import families
from zorgsleutel.oidc.models import Client, Consent, SignIn

TICKETS = "zs_consent_tickets"  # the session's key: {ticket: {...}}

# What each scope gives the application, in words, in the order the page lists them.
SCOPE_WORDS = {
    "openid": (
        _("an identifier of you for this application (not your BSN)"),
        _("the organisation you act for: its name, and its URA or KvK number"),
        _("how and when you logged in"),
    ),
    "profile": (_("your name"),),
    "email": (_("your e-mail address"),),
    "roles": (_("your role and application roles in that organisation"),),
    "dezi": (
        _(
            "the UZI card you logged in with, when it is that organisation's: your UZI number, "
            "the organisation's URA and name, and your role"
        ),
    ),
}
SCOPE_ORDER = ("openid", "profile", "email", "roles", "dezi")


def in_words(scopes) -> list[str]:
    """What an application with these scopes receives, one sentence part per item."""
    return [str(words) for scope in SCOPE_ORDER if scope in scopes for words in SCOPE_WORDS[scope]]


def ordered(scopes) -> list[str]:
    return [scope for scope in SCOPE_ORDER if scope in scopes]


# --- What is remembered -------------------------------------------------------------------------


def remembered(person, client: Client) -> Consent | None:
    return Consent.objects.filter(user=person, client=client).first()


def remembered_membership(found: Consent | None, eligible: list):
    """The membership of the organisation the person chose for this application before, when it
    is still an eligible one; else None (the person chooses again)."""
    if found is None or found.organisation_id is None:
        return None
    return next((m for m in eligible if m.organisation_id == found.organisation_id), None)


def to_ask(found: Consent | None, scopes, *, always: bool) -> list[str]:
    """The scopes the consent page asks for: those not allowed yet (none: no page), or every one
    when `always` (`prompt=consent`)."""
    if always or found is None:
        return ordered(scopes)
    return ordered(set(scopes) - set(found.scopes))


# --- The ticket: the page's answer bound to its request -----------------------------------------


def request_digest(client_id: str, credentials: dict, scopes) -> str:
    """The request a consent page was shown for: the client, its redirect URI, state, nonce,
    PKCE challenge and scopes."""
    parts = [client_id, *(str(credentials.get(key) or "") for key in (
        "redirect_uri", "state", "nonce", "code_challenge"))]  # fmt: skip
    parts.append(" ".join(sorted(scopes)))
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class Ticket:
    organisation: str  # the organisation's public id
    scopes: tuple[str, ...]


def issue_ticket(session, *, digest: str, organisation, scopes) -> str:
    """A single-use ticket for the consent page about to be shown; at most
    policies.OIDC_CONSENT_TICKETS_MAX per session (the oldest dropped)."""
    value = secrets.token_urlsafe(24)
    now = clock.now()
    tickets = {
        key: found
        for key, found in session.get(TICKETS, {}).items()
        if now - datetime.fromisoformat(found["at"]) <= policies.OIDC_CONSENT_TICKET_TTL
    }
    while len(tickets) >= policies.OIDC_CONSENT_TICKETS_MAX:
        tickets.pop(min(tickets, key=lambda key: tickets[key]["at"]))
    tickets[hashlib.sha256(value.encode()).hexdigest()] = {
        "request": digest,
        "organisation": str(organisation.public_id),
        "scopes": list(scopes),
        "at": now.isoformat(),
    }
    session[TICKETS] = tickets
    return value


def redeem_ticket(session, value: str, *, digest: str) -> Ticket | None:
    """The ticket's page, when `value` is a live ticket of this session for this very request;
    used up either way. None: the page is shown again (nothing is allowed or refused)."""
    if not value or len(value) > 64:
        return None
    tickets = dict(session.get(TICKETS, {}))
    found = tickets.pop(hashlib.sha256(value.encode()).hexdigest(), None)
    if found is None:
        return None
    session[TICKETS] = tickets
    age = clock.now() - datetime.fromisoformat(found["at"])
    if found["request"] != digest or age > policies.OIDC_CONSENT_TICKET_TTL:
        return None
    return Ticket(organisation=found["organisation"], scopes=tuple(found["scopes"]))


# --- The flows ----------------------------------------------------------------------------------


def record_grant(person, client: Client, organisation, scopes) -> Consent:
    """The person allowed `scopes` to this application, acting for `organisation`: added to what
    they allowed before, and `sso.consent_given` in that organisation's log. In the caller's
    transaction (authorize.issue_code: with the code)."""
    now = clock.now()
    found = Consent.objects.select_for_update().filter(user=person, client=client).first()
    if found is None:
        found = Consent(user=person, client=client, granted_at=now, scopes=[])
    found.scopes = ordered(set(found.scopes) | set(scopes))
    found.organisation = organisation
    found.updated_at = now
    found.save()
    audit.record(
        "sso.consent_given",
        actor=person,
        organisation=organisation,
        target=client,
        details={"client_id": client.application.client_id, "scopes": ordered(scopes)},
    )
    return found


def remember_organisation(person, client: Client, organisation) -> None:
    """The organisation chosen for this application on the choice page, remembered with the
    consent (the code's `sso.code_issued` names it). In the caller's transaction."""
    Consent.objects.filter(user=person, client=client).exclude(organisation=organisation).update(
        organisation=organisation
    )


def record_refusal(person, client: Client, organisation, scopes) -> None:
    """The person refused; nothing is remembered (the next login asks again)."""
    audit.record(
        "sso.consent_refused",
        actor=person,
        organisation=organisation,
        target=client,
        outcome=audit.DENIED,
        details={"client_id": client.application.client_id, "scopes": ordered(scopes)},
    )


def granted(person) -> list[Consent]:
    """The applications this person allowed, by name (Gekoppelde applicaties)."""
    return list(
        Consent.objects.filter(user=person)
        .select_related("client__application", "organisation")
        .order_by("client__application__name", "pk")
    )


def own_consent(person, public_id) -> Consent:
    """One of this person's own consents; another person's is not found (404), like one that
    does not exist."""
    found = (
        Consent.objects.select_related("client__application", "organisation")
        .filter(public_id=public_id, user=person)
        .first()
    )
    if found is None:
        raise NotFound("not_found", _("This application is not linked to your account."))
    return found


def revoke(*, actor, public_id) -> Consent:
    """The person withdraws their consent to an application: it goes, with their tokens there
    (`revoke_tokens`), and `sso.consent_revoked` in the organisation's log; the next login
    asks again."""
    with transaction.atomic():
        found = own_consent(actor, public_id)
        application = found.client.application
        revoked = revoke_tokens(actor, application)
        audit.record(
            "sso.consent_revoked",
            actor=actor,
            organisation=found.organisation,
            target=found.client,
            details={
                "client_id": application.client_id,
                "scopes": list(found.scopes),
                "revoked": revoked,
            },
        )
        found.delete()
    return found


def revoke_tokens(user, application) -> int:
    """End every sign-in of this person at this application (families.revoke_family: its access,
    refresh and ID tokens, for good; a refresh of it is refused as revoked, never taken for a
    replay) and delete the codes not exchanged yet: how many tokens and codes went."""
    revoked = get_grant_model().objects.filter(user=user, application=application).delete()[0]
    for sign_in in SignIn.objects.filter(user=user, application=application, revoked_at=None):
        revoked += families.revoke_family(sign_in)
    return revoked
