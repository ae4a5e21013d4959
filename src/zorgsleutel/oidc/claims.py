"""What an application learns about a person (docs/oidc.md, "Claims"): one function per claim
group, from the person, the client and the sign-in. Nothing here reads a session: how the
person logged in comes from the sign-in, which the authorization request took from
authn/sessions.py's `authentication`."""

from __future__ import annotations

import base64
import hashlib
import hmac

from zorgsleutel import policies
from zorgsleutel.oidc import keys
from zorgsleutel.oidc.models import Client, SignIn
from zorgsleutel.people.models import Membership
from zorgsleutel.uzi import professions


def subject(person, client: Client) -> str:
    """`sub`: pairwise by default, HMAC-SHA256 under the provider's subject secret of the
    client's sector and the person's stable id, so two applications cannot link what they
    know of one person by it; public on request (the person's stable id). Neither changes when
    the person's e-mail address or name does."""
    if client.subject_type == Client.PUBLIC:
        return str(person.public_id)
    message = f"{client.sector}\x00{person.public_id}".encode()
    digest = hmac.new(keys.subject_secret(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def split_name(name: str) -> tuple[str, str]:
    """(given_name, family_name) from the one name the portal keeps: the first word, and the
    rest with its tussenvoegsels ("Mira van der Berg" → "Mira", "van der Berg"); ("", "") for
    a name of one word, which cannot be split honestly."""
    words = name.split()
    if len(words) < 2:
        return "", ""
    return words[0], " ".join(words[1:])


def profile(person) -> dict:
    """Scope `profile`."""
    claims = {"name": person.name}
    given, family = split_name(person.name)
    if given:
        claims |= {"given_name": given, "family_name": family}
    return claims


def email(person) -> dict:
    """Scope `email`: every active account's address was proved by a mailed link (activation,
    or the validation of its organisation)."""
    return {"email": person.email, "email_verified": True}


def organisation(sign_in: SignIn) -> dict:
    """The organisation the person acts for in this sign-in (with scope `openid`)."""
    org = sign_in.organisation
    found = {"id": str(org.public_id), "name": org.name}
    if org.ura:
        found["ura"] = org.ura
    if org.kvk_number:
        found["kvk"] = org.kvk_number
    return {"organization": found}


def roles(person, sign_in: SignIn) -> dict:
    """Scope `roles`: the person's role in the organisation of this sign-in (administrator,
    manager or member) and the application roles that organisation gave them. Never another
    organisation's: a person who is a beheerder in one and a member in another is what they
    are where they act now."""
    membership = (
        Membership.objects.filter(user=person, organisation=sign_in.organisation_id)
        .only("role", "application_roles")
        .first()
    )
    if membership is None:
        return {"roles": [], "application_roles": []}
    return {
        "roles": [membership.role],
        "application_roles": sorted(membership.application_roles or []),
    }


def dezi(sign_in: SignIn) -> dict:
    """Scope `dezi`: the UZI card the person logged in with, in the claim names of Dezi (the
    healthcare identity service's OIDC verklaring): dezi_nummer (the UZI number), abonnee_nummer
    (the card's URA) and abonnee_naam, rol_code and rol_naam (the profession of a zorgverlener
    pas; none for a medewerkerpas, whose role is 00.000), loa_dezi (the eIDAS URI of a UZI
    card's level: high). Tenancy: only when the card's abonnee is the organisation the person
    acts for in this sign-in; a card of one organisation never speaks for another. Nothing
    when the login presented no UZI card."""
    card = sign_in.dezi or {}
    ura = sign_in.organisation.ura
    if not card.get("uzi_number") or not ura or card.get("ura") != ura:
        return {}
    found = {
        "dezi_nummer": card["uzi_number"],
        "abonnee_nummer": card["ura"],
        "abonnee_naam": card.get("organisation_name", ""),
        "rol_code": card.get("role", ""),
        "loa_dezi": policies.ACR_URIS["high"],
    }
    name = professions.profession(card.get("role", ""))
    if name:
        found["rol_naam"] = name
    return found


def authentication(sign_in: SignIn) -> dict:
    """How the person logged in (ID token only), as the sign-in recorded it from the session's
    authentications combined (authn/sessions.py: combine): acr as an eIDAS level, amr (RFC
    8176) and auth_time, the session's latest login (never user.last_login). The same at every
    refresh of the sign-in (OpenID Connect Core 12.2)."""
    return {
        "acr": policies.ACR_URIS[sign_in.acr],
        "amr": list(sign_in.amr),
        "auth_time": int(sign_in.authenticated_at.timestamp()),
    }


def for_scopes(person, client: Client, sign_in: SignIn, scopes) -> dict:
    """The claims about the person an access token or ID token of these scopes carries."""
    claims = {"sub": subject(person, client), **organisation(sign_in)}
    if "profile" in scopes:
        claims |= profile(person)
    if "email" in scopes:
        claims |= email(person)
    if "roles" in scopes:
        claims |= roles(person, sign_in)
    if "dezi" in scopes:
        claims |= dezi(sign_in)
    return claims


# Every claim, for discovery's claims_supported (docs/oidc.md lists each).
SUPPORTED = [
    "sub",
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "at_hash",
    "name",
    "given_name",
    "family_name",
    "email",
    "email_verified",
    "organization",
    "roles",
    "application_roles",
    "sid",
    "dezi_nummer",
    "abonnee_nummer",
    "abonnee_naam",
    "rol_code",
    "rol_naam",
    "loa_dezi",
]
