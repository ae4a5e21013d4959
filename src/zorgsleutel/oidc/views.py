"""The OpenID Connect endpoints (docs/oidc.md): discovery, the key set, authorize (a page for
people), and token, userinfo, revocation and introspection (for applications: JSON, no session,
no CSRF token; each authenticates the client or the token itself)."""

from __future__ import annotations

import base64
import json
from urllib.parse import unquote_plus, urlsplit

from django.conf import settings
from django.contrib import auth, messages
from django.db import transaction
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from oauth2_provider.oauth2_backends import get_oauthlib_core

from zorgsleutel import policies
from zorgsleutel.authn import sessions
from zorgsleutel.core import audit, ratelimit
from zorgsleutel.core.errors import RateLimited
from zorgsleutel.core.middleware import allow_form_answers_to
from zorgsleutel.core.pages import render
from zorgsleutel.core.requestcontext import client_ip
from zorgsleutel.oidc import assertions, claims, consent, keys, logout, validator
from zorgsleutel.oidc import authorize as flow
from zorgsleutel.oidc.forms import OrganisationChoiceForm
from zorgsleutel.oidc.models import Client

# --- For people: the authorization endpoint ------------------------------------------------------


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request):
    """GET: an application's sign-in request. POST: the choice of organisation, or the answer
    of the consent page (both CSRF-checked by Django's middleware, as every POST of a page;
    the consent's answer also by its ticket: oidc/consent.py)."""
    try:
        asked = flow.validate(request)
        person = sessions.logged_in_person(request)
        found = sessions.authentication(request)
        chosen, ticket = request.POST.get("organisation") or None, None
        if request.method == "POST" and person is not None and "ticket" in request.POST:
            ticket = consent.redeem_ticket(
                request.session, request.POST["ticket"], digest=_digest(asked)
            )
            chosen = ticket.organisation if ticket is not None else None
        allows = ticket is not None and request.POST.get("answer") == "allow"
        decision = flow.decide(
            asked, person, found, chosen=chosen, allowed=ticket.scopes if allows else ()
        )
        if decision.kind == flow.LOGIN:
            try:  # writes a session: counted per client address first
                ratelimit.consume(action="sso.login", ip=client_ip(request))
            except RateLimited as error:
                return render(
                    request,
                    "errors/error.html",
                    {
                        "status": error.status,
                        "title": _("Too many requests"),
                        "message": error.message,
                    },
                    refusal=error,
                )
            return _to_login(request, asked, decision.reauthenticate)
        if decision.kind == flow.STEP_UP:
            sessions.remember_return(request, flow.return_path(request))
            response = sessions.step_up(request, person, asked.required_acr)
            if response is not None:
                return response
            request.session.pop(sessions.RETURN, None)  # no login to land: they stay logged in
            return _refusal_page(request, asked, person, "sso_assurance_unavailable")
        if decision.kind == flow.REFUSE:
            return _refusal_page(request, asked, person, decision.reason)
        if decision.kind == flow.CHOOSE:
            form = OrganisationChoiceForm(
                request.POST if request.method == "POST" else None,
                memberships=decision.memberships,
            )
            if form.is_bound:
                form.is_valid()  # a choice that is no (longer an) eligible one says so
            return _may_post_to_application(
                render(
                    request,
                    "oidc/choose.html",
                    {"form": form, "client": asked.client, "action": request.get_full_path()},
                ),
                asked,
            )
        if decision.kind == flow.CONSENT:
            if ticket is not None and request.POST.get("answer") == "refuse":
                return HttpResponseRedirect(_refuse_consent(asked, person, decision).url)
            stale = ticket is None and "ticket" in request.POST
            return _consent_page(request, asked, decision, stale=stale)
        return HttpResponseRedirect(flow.issue_code(request, asked, person, found, decision))
    except flow.InvalidRequest as error:
        return render(
            request,
            "oidc/invalid.html",
            {"error": error.error, "description": error.description},
            status=400,
        )
    except flow.ErrorAnswer as answer:
        return HttpResponseRedirect(answer.url)


def _to_login(request, asked, reauthenticate: bool):
    """To the login page; the login lands back here."""
    if reauthenticate:
        kept = request.session.get(logout.SID)  # the same person's new login keeps the sid
        auth.logout(request)
        if kept is not None:
            request.session[logout.SID] = kept
    sessions.remember_return(request, flow.return_path(request, satisfied=reauthenticate))
    messages.info(
        request,
        _("Log in to continue to %(application)s.") % {"application": asked.client.application},
    )
    return redirect(settings.LOGIN_URL)


def _digest(asked) -> str:
    return consent.request_digest(
        asked.client.application.client_id, asked.credentials, asked.scopes
    )


def _may_post_to_application(response, asked):
    """A page whose form's answer redirects to the application: CSP's form-action governs that
    redirect too (browsers block it otherwise), so it names the redirect URI's origin, one the
    client registered (validated, character for character)."""
    target = urlsplit(asked.redirect_uri)
    return allow_form_answers_to(response, f"{target.scheme}://{target.netloc}")


def _consent_page(request, asked, decision, *, stale: bool):
    """What the application asks for, in words; "Toestaan" and "Weigeren" post the answer with
    a new ticket for this request (consent.py)."""
    ticket = consent.issue_ticket(
        request.session,
        digest=_digest(asked),
        organisation=decision.membership.organisation,
        scopes=decision.scopes,
    )
    client = asked.client
    context = {
        "client": client,
        "organisation": decision.membership.organisation,
        "receives": consent.in_words(decision.scopes),
        "again": "consent" not in asked.prompt
        and consent.remembered(request.user, client) is not None,
        "stale": stale,
        "ticket": ticket,
        "action": request.get_full_path(),
    }
    return _may_post_to_application(render(request, "oidc/consent.html", context), asked)


def _refuse_consent(asked, person, decision):
    with transaction.atomic():
        consent.record_refusal(
            person, asked.client, decision.membership.organisation, decision.scopes
        )
    return flow.answer_error(asked, "access_denied", "The person did not consent.")


REFUSALS = {
    "sso_organisation_not_allowed": lambda client: (
        _(
            "%(application)s is not available to you: it is not used by an organisation in which "
            "you are an active member. Ask your organisation's administrator if you think it "
            "should be."
        )
        % {"application": client}
    ),
    "sso_assurance_unavailable": lambda client: (
        _(
            "%(application)s asks for a stronger way of logging in than you have: the Zorgsleutel "
            "app or a smartcard. Link the Zorgsleutel app in My Zorgsleutel first."
        )
        % {"application": client}
    ),
}


def _refusal_page(request, asked, person, reason: str):
    answer = flow.refused(asked, person, reason)
    return render(
        request,
        "oidc/refused.html",
        {
            "client": asked.client,
            "message": REFUSALS[reason](asked.client.application.name),
            "back": answer.url,
        },
        status=403,
    )


# --- For applications: discovery and keys -------------------------------------------------------


def _endpoint(name: str) -> str:
    return validator.issuer() + reverse(f"oidc:{name}")


@require_GET
def discovery(request):
    """OpenID Connect Discovery 1.0 (tests/oidc/test_discovery.py checks every field)."""
    auth_methods = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
    signing_algs = list(assertions.ALGORITHMS)  # of a private_key_jwt assertion
    document = {
        "issuer": validator.issuer(),
        "authorization_endpoint": _endpoint("authorize"),
        "token_endpoint": _endpoint("token"),
        "userinfo_endpoint": _endpoint("userinfo"),
        "jwks_uri": _endpoint("jwks"),
        "revocation_endpoint": _endpoint("revoke"),
        "introspection_endpoint": _endpoint("introspect"),
        "end_session_endpoint": _endpoint("logout"),
        "scopes_supported": ["openid", "profile", "email", "roles", "dezi"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": list(keys.ALGORITHMS),
        "token_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": signing_algs,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_signing_alg_values_supported": signing_algs,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_signing_alg_values_supported": signing_algs,
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": list(policies.ACR_URIS.values()),
        "claims_supported": claims.SUPPORTED,
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
    response = JsonResponse(document)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_GET
def jwks(request):
    """The published keys. Never empty: before `rotate-keys` ever ran, the first key is made
    here, so no relying party caches an empty set for OIDC_JWKS_MAX_AGE."""
    keys.signing_key()
    response = JsonResponse(keys.key_set())
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={int(policies.OIDC_JWKS_MAX_AGE.total_seconds())}"
    return response


# --- For applications: token, userinfo, revocation, introspection -------------------------------


def _answer(headers: dict, body: str | None, status: int) -> HttpResponse:
    response = HttpResponse(body or "", status=status, content_type="application/json")
    for name, value in headers.items():
        response[name] = value
    return response


def _client_id(request) -> str:
    """The client ID a token request names (never its secret), for the audit log: basic, the
    body's, else the `iss` of its client assertion."""
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return ""
        return unquote_plus(decoded.split(":", 1)[0])[:100]
    named = request.POST.get("client_id", "")[:100]
    if not named and "client_assertion" in request.POST:
        return assertions.claimed_client_id(request.POST["client_assertion"])
    return named


@csrf_exempt
@require_POST
def token(request):
    """The code exchange and the refresh. One transaction: the grant's (or the sign-in's and
    refresh token's) lock, the tokens, the sign-in redeemed (or moved to the new pair) and its
    event; a refusal is audited in it too (a reused code's or refresh token's revocation
    included)."""
    with transaction.atomic():
        validator.start_request()
        _uri, headers, body, status = get_oauthlib_core().create_token_response(request)
        if status != 200:
            reason = validator.refusal_reason()
            if reason not in ("code_reused", "refresh_reused"):  # audited with the revocation
                _token_refused(request, body, reason)
    return _answer(headers, body, status)


def _token_refused(request, body: str, reason: str, endpoint: str = "") -> None:
    try:
        error = json.loads(body).get("error", "")
    except ValueError:
        error = ""
    client_id = _client_id(request)
    client = Client.objects.filter(application__client_id=client_id).first() if client_id else None
    details = {"client_id": client_id, "error": error, "reason": reason or error}
    if endpoint:  # the revocation or introspection endpoint (the token endpoint: none)
        details["endpoint"] = endpoint
    audit.record("sso.token_refused", actor=client or "", outcome=audit.DENIED, details=details)


def _bearer_only(request) -> HttpResponse | None:
    """An access token only in the Authorization header: in a URL it would land in logs and
    Referer headers (RFC 9700 4.3.2), in a form body it is needless."""
    if "access_token" in request.GET or "access_token" in request.POST:
        return JsonResponse(
            {
                "error": "invalid_request",
                "error_description": "Send the access token in the Authorization header.",
            },
            status=400,
        )
    return None


@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def userinfo(request):
    refused = _bearer_only(request)
    if refused is not None:
        return refused
    _uri, headers, body, status = get_oauthlib_core().create_userinfo_response(request)
    if status == 401 and "WWW-Authenticate" not in headers:
        headers = {**headers, "WWW-Authenticate": 'Bearer error="invalid_token"'}
    return _answer(headers, body, status)


@csrf_exempt
@require_POST
def revoke(request):
    with transaction.atomic():
        validator.start_request()
        _uri, headers, body, status = get_oauthlib_core().create_revocation_response(request)
        if status == 401:  # the client's authentication failed: audited as at the token endpoint
            _token_refused(request, body, validator.refusal_reason(), "revocation")
    return _answer(headers, body, status)


@csrf_exempt
@require_POST
def introspect(request):
    core = get_oauthlib_core()
    uri, http_method, body, headers = core._extract_params(request)
    with transaction.atomic():
        validator.start_request()
        headers_out, body_out, status = core.server.create_introspect_response(
            uri, http_method, body, headers
        )
        if status == 401:  # the client's authentication failed: audited as at the token endpoint
            _token_refused(request, body_out, validator.refusal_reason(), "introspection")
    return _answer(headers_out, body_out, status)
