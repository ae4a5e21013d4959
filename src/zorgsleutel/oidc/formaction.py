"""A form that leads on to an application: the Content-Security-Policy's `form-action`.

The portal's CSP says `form-action 'self'`, and browsers apply form-action to every redirect
that answers a form (CSP Level 3; Chromium blocks the navigation and reports the form's own
URL). A login for an application ends that way: the sms-code form (or a card's return, or the
choice of organisation) is answered with a redirect to the authorization request, which
redirects to the application's redirect URI, on another origin. So while a page may lead there
(the session will land on an authorization request, or the page is the authorization endpoint's
own) its form-action also names the origin of that request's redirect URI, when that URI is
registered for that client, character for character. Nothing else widens: no pending request,
an unknown client or an unregistered URI leaves `form-action 'self'`.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from django.urls import reverse

from zorgsleutel.authn import sessions
from zorgsleutel.core.middleware import allow_form_answers_to
from zorgsleutel.oidc.models import Client

ORIGIN = re.compile(
    r"https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?|https?://\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?"
)


def _pending_request(request) -> str | None:
    """The query of the authorization request this page may lead to, if any."""
    authorize = reverse("oidc:authorize")
    if request.path == authorize:
        return request.META.get("QUERY_STRING", "")
    kept = request.session.get(sessions.RETURN)
    path = kept.get("path") if isinstance(kept, dict) else None
    if isinstance(path, str) and path.startswith(authorize + "?"):
        return path.split("?", 1)[1]
    return None


def application_origin(query: str) -> str | None:
    """The origin of the request's redirect URI, when it is registered for its client."""
    asked = parse_qs(query)
    client_id, redirect_uri = asked.get("client_id", [""])[0], asked.get("redirect_uri", [""])[0]
    if not client_id or not redirect_uri:
        return None
    registered = (
        Client.objects.filter(application__client_id=client_id)
        .values_list("application__redirect_uris", flat=True)
        .first()
    )
    if registered is None or redirect_uri not in registered.split():
        return None
    parts = urlsplit(redirect_uri)
    origin = f"{parts.scheme}://{parts.netloc}"
    return origin if ORIGIN.fullmatch(origin) else None


class FormActionMiddleware:
    """Widens form-action on HTML pages that may lead to an application (above)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # A redirect shows no form (the page it leads to has its own policy); a page that
        # refused (4xx) may show its form again, so it counts like any page.
        redirect = 300 <= response.status_code < 400
        if redirect or not response.get("Content-Type", "").startswith("text/html"):
            return response
        query = _pending_request(request)
        origin = application_origin(query) if query is not None else None
        if origin is None:
            return response
        return allow_form_answers_to(response, origin)  # once: the choice page may say it too
