"""RP-Initiated Logout 1.0: an application sends the browser to /oidc/logout to end the person's
Zorgsleutel session (docs/oidc.md, "Logout").

What a request may carry (GET or POST, section 2): `id_token_hint` (an ID token we signed for
that application: its signature checked against our published keys, `iss` ours, `aud` a
registered client; an expired one is accepted, section 2), `client_id`, `post_logout_redirect_uri`
(one the application registered, character for character) and `state` (carried back).

Refused with a page (400), never a redirect (sections 2 and 6: no open redirector): a hint that
is not ours or not an ID token (`invalid_id_token_hint`), a `client_id` that is not the hint's
audience (`client_id_mismatch`) or unknown (`unknown_client`), a redirect URI without a client
to check it against (`client_id_required`) or not registered by it
(`invalid_post_logout_redirect_uri`).

Who decides (section 6, against a logout forced by another site): a GET logs out at once only
with a hint of *this* session (its `sid` and the person's `sub` for that application);
otherwise the person is asked ("Uitloggen bij Zorgsleutel?") and only the POST from that page,
CSRF-checked, logs out. Nobody logged in: nothing to end, the browser goes back.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import auth
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from jwcrypto import jws

from zorgsleutel.core import audit
from zorgsleutel.oidc import claims, keys, logout
from zorgsleutel.oidc.models import Client, SignIn
from zorgsleutel.oidc.validator import issuer
from zorgsleutel.people.models import Organisation

HINT_MAX = 8000  # characters; our ID tokens are about 1,500


class Refused(Exception):
    """A request that is answered with a page (400), never at a redirect URI."""

    def __init__(self, code: str, message):
        super().__init__(code)
        self.code, self.message = code, message


@dataclass(frozen=True)
class EndSession:
    client: Client | None
    redirect_to: str  # the registered post-logout URI with `state`, or ""
    hint_sid: str
    hint_sub: str


def _hint_claims(hint: str) -> dict:
    """The claims of an ID token we signed (expired or not), or Refused."""
    refused = Refused("invalid_id_token_hint", _("The id_token_hint is not an ID token of ours."))
    if len(hint) > HINT_MAX:
        raise refused
    try:
        token = jws.JWS()
        token.deserialize(hint)
        header = token.jose_header
        kid = header.get("kid")
        key = keys.verification_key(kid) if isinstance(kid, str) else None
        if key is None or header.get("alg") != "RS256" or header.get("typ", "JWT") != "JWT":
            raise refused
        token.verify(key, alg="RS256")
        found = json.loads(token.payload)
    except Refused:
        raise
    except Exception:
        raise refused from None
    # Ours, and an ID token (a logout token carries `events` and is typed logout+jwt).
    if not isinstance(found, dict) or found.get("iss") != issuer() or "events" in found:
        raise refused
    return found


def _client(client_id: str) -> Client | None:
    return (
        Client.objects.select_related("application")
        .filter(application__client_id=client_id)
        .first()
    )


def parse(params) -> EndSession:
    """The request's parameters, checked (see the module docstring); Refused otherwise."""
    hint = params.get("id_token_hint", "")
    client_id = params.get("client_id", "")
    client, hint_sid, hint_sub = None, "", ""
    if hint:
        found = _hint_claims(hint)
        audience = found.get("aud")
        if isinstance(audience, list) and len(audience) == 1:
            audience = audience[0]
        client = _client(audience) if isinstance(audience, str) and audience else None
        if client is None:
            raise Refused(
                "invalid_id_token_hint", _("The id_token_hint is not an ID token of ours.")
            )
        hint_sid, hint_sub = str(found.get("sid", "")), str(found.get("sub", ""))
    if client_id:
        if client is not None and client.application.client_id != client_id:
            raise Refused(
                "client_id_mismatch",
                _("The client_id is not the application the id_token_hint was issued to."),
            )
        client = client or _client(client_id)
        if client is None:
            raise Refused("unknown_client", _("No application is registered with this client_id."))
    redirect_to = ""
    uri = params.get("post_logout_redirect_uri", "")
    if uri:
        if client is None:
            raise Refused(
                "client_id_required",
                _("A post_logout_redirect_uri needs an id_token_hint or a client_id."),
            )
        if uri not in client.post_logout_redirect_uris.split():
            raise Refused(
                "invalid_post_logout_redirect_uri",
                _("This post_logout_redirect_uri is not registered for the application."),
            )
        state = params.get("state", "")
        redirect_to = uri
        if state:
            redirect_to += ("&" if "?" in uri else "?") + urlencode({"state": state})
    return EndSession(client, redirect_to, hint_sid, hint_sub)


def of_this_session(asked: EndSession, session, person) -> bool:
    """Whether the hint names this session (its sid) and this person (for its application)."""
    sid = logout.sid_of(session)
    if not (asked.hint_sid and sid and asked.client is not None):
        return False
    return hmac.compare_digest(asked.hint_sid, sid) and hmac.compare_digest(
        asked.hint_sub, claims.subject(person, asked.client)
    )


def log_out(request, person, asked: EndSession) -> None:
    """End the session and its sign-ins (the applications told, logout.py) and log out, in one
    transaction; `sso.logged_out` in the log of each organisation the session signed in to
    the asking application for (the platform's when none)."""
    with transaction.atomic():
        if asked.client is not None:
            organisations = list(
                SignIn.objects.filter(
                    user=person,
                    sid=logout.sid_of(request.session) or None,
                    application_id=asked.client.application_id,
                )
                .order_by("organisation_id")
                .values_list("organisation", flat=True)
                .distinct()
            )
            audit.record_in(
                list(Organisation.objects.filter(pk__in=organisations).order_by("pk")) or [None],
                "sso.logged_out",
                actor=person,
                target=asked.client,
                details={"client_id": asked.client.application.client_id},
            )
        reason = "rp_logout" if asked.client is not None else "logout"
        logout.end_session(request.session, person, reason=reason)
        auth.logout(request)
