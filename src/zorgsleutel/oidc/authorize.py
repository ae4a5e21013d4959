"""The authorization endpoint's decisions (GET/POST /oidc/authorize; docs/oidc.md).

In order, for every request:

1. **Valid?** oauthlib (with validator.py) checks the client, the redirect URI (one of the
   registered ones, exactly), `response_type=code`, the scopes and PKCE; we add: scope `openid`,
   `code_challenge_method=S256` (oauthlib takes a missing method for `plain`), no `request` or
   `request_uri` object, a `max_age` that is a number; the scopes the application is not
   allowed (`Client.allowed_scopes`) are dropped, not refused (OpenID Connect Core 3.1.2.1:
   scope values not understood are ignored; the token response's `scope` says what was
   granted), so the consent page and the code see the narrowed set. An unknown client or
   redirect URI is answered with a page and never redirected (an open redirector otherwise);
   everything else goes back to the application as `error=…`, with its `state`.
2. **Logged in, recently enough, strongly enough?** No session: the login page (`prompt=none`:
   `login_required`); `prompt=login` or an older login than `max_age`: log out and log in again;
   a login below the application's minimum assurance: a login with a means that reaches it
   (authn/sessions.py: `step_up`), or a page saying the person has none. The login lands back
   here (authn/sessions.py: `remember_return`) without the `prompt=login`/`max_age` it has
   just satisfied.
3. **For which organisation?** Tenancy: only an accepted, active membership of an organisation
   the application is registered for, not suspended, whose organisation still accepts the
   authenticator the session logged in with. None: a page and `access_denied`. Several: the
   person chooses (a form, CSRF-protected); `prompt=none` then gets
   `account_selection_required`. The choice is remembered per application (consent.py), so
   the next login goes straight through, unless `prompt=select_account` or it is no longer
   an eligible one.
4. **Consent?** The first time, for scopes not allowed yet, and always with `prompt=consent`:
   the consent page (views.py, consent.py: its answer bound to this request by a ticket);
   `prompt=none` gets `consent_required`, a refusal `access_denied`.
5. **The code**, with the sign-in it stands for, and `sso.code_issued`, in one transaction; the
   answer carries `code`, `state` and `iss` (RFC 9207, against mix-up), as do the errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.db import transaction
from oauth2_provider.exceptions import FatalClientError, OAuthToolkitError
from oauth2_provider.oauth2_backends import get_oauthlib_core
from oauthlib.common import add_params_to_uri

from zorgsleutel import policies
from zorgsleutel.authn import means as registry
from zorgsleutel.core import audit, clock
from zorgsleutel.oidc import consent, logout
from zorgsleutel.oidc.models import Client
from zorgsleutel.oidc.validator import issuer


class InvalidRequest(Exception):
    """A request that must not be answered at its redirect URI: shown on a page (400)."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error, self.description = error, description


@dataclass(frozen=True)
class AuthRequest:
    """A valid authorization request."""

    client: Client
    redirect_uri: str
    state: str | None
    scopes: list[str]
    credentials: dict
    prompt: frozenset[str]
    max_age: int | None
    fragment: bool  # response_mode=fragment
    required_acr: str  # the client's minimum, raised by acr_values


@dataclass(frozen=True)
class SignInFacts:
    """What the code's sign-in records (validator.py: save_authorization_code)."""

    organisation: object
    acr: str
    amr: tuple[str, ...]
    at: datetime
    sid: str = ""  # the session's (logout.py)
    session_digest: str = ""  # SHA-256 of the session key, never the key
    card: dict | None = None  # the UZI card's facts, when the login presented one (Dezi claims)


class ErrorAnswer(Exception):
    """An answer to the application: its redirect URI with `error`."""

    def __init__(self, url: str, error: str):
        super().__init__(error)
        self.url, self.error = url, error


def _core():
    return get_oauthlib_core()


def with_iss(url: str, *, fragment: bool) -> str:
    """`url` with `iss` (RFC 9207) in the part that carries the answer; an `iss` the registered
    URI carried is dropped, so there is one."""
    parts = urlsplit(url)
    part = parts.fragment if fragment else parts.query
    pairs = [(k, v) for k, v in parse_qsl(part, keep_blank_values=True) if k != "iss"]
    pairs.append(("iss", issuer()))
    if fragment:
        return urlunsplit(parts._replace(fragment=urlencode(pairs)))
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def error_url(redirect_uri: str, state, error: str, description: str, *, fragment: bool) -> str:
    params = [("error", error), ("error_description", description)]
    if state:
        params.append(("state", state))
    return with_iss(add_params_to_uri(redirect_uri, params, fragment=fragment), fragment=fragment)


def validate(request) -> AuthRequest:
    """The request, valid (1. above); raises InvalidRequest or ErrorAnswer."""
    try:
        scopes, credentials = _core().validate_authorization_request(request)
    except FatalClientError as error:
        raise InvalidRequest(error.oauthlib_error.error, error.oauthlib_error.description) from None
    except OAuthToolkitError as error:
        found = error.oauthlib_error
        if not found.redirect_uri:  # not known to be the client's: nowhere to send it
            raise InvalidRequest(found.error, found.description) from None
        fragment = _params(request).get("response_mode") == "fragment"
        raise ErrorAnswer(
            error_url(
                found.redirect_uri, found.state, found.error, found.description, fragment=fragment
            ),
            found.error,
        ) from None
    params = _params(request)
    client = (
        Client.objects.select_related("application")
        .filter(application__client_id=credentials["client_id"])
        .first()
    )
    if client is None:  # a toolkit application registered some other way: not ours to serve
        raise InvalidRequest("invalid_request", "Invalid client_id parameter value.")
    fragment = params.get("response_mode") == "fragment"
    state = credentials.get("state")

    def refuse(error: str, description: str):
        url = error_url(credentials["redirect_uri"], state, error, description, fragment=fragment)
        return ErrorAnswer(url, error)

    if "openid" not in scopes:
        raise refuse("invalid_scope", "This provider answers OpenID Connect requests only.")
    scopes = allowed_scopes(client, scopes)
    if credentials.get("code_challenge_method") != "S256":
        raise refuse("invalid_request", "PKCE with code_challenge_method=S256 is required.")
    if "request" in params:
        raise refuse("request_not_supported", "Request objects are not supported.")
    if "request_uri" in params:
        raise refuse("request_uri_not_supported", "Request objects are not supported.")
    max_age = params.get("max_age")
    if max_age is not None and not re.fullmatch(r"[0-9]{1,9}", max_age):  # not "²": isdigit
        raise refuse("invalid_request", "max_age must be a number of seconds.")
    prompt = frozenset(credentials.get("prompt") or ())
    unknown = prompt - {"none", "login", "consent", "select_account"}
    if unknown:
        raise refuse("invalid_request", "Unsupported prompt value.")
    return AuthRequest(
        required_acr=required_acr(client.minimum_acr, params.get("acr_values", "")),
        client=client,
        redirect_uri=credentials["redirect_uri"],
        state=state,
        scopes=list(scopes),
        credentials=credentials,
        prompt=prompt,
        max_age=int(max_age) if max_age is not None else None,
        fragment=fragment,
    )


def allowed_scopes(client: Client, scopes) -> list[str]:
    """The asked scopes this application may receive, in the asked order: `openid`, and those
    the operator allowed it; the others are dropped."""
    allowed = {"openid", *client.allowed_scopes}
    return [scope for scope in scopes if scope in allowed]


def required_acr(minimum: str, acr_values: str) -> str:
    """The level a login must reach: the client's minimum, or higher when the request asks
    (acr_values, eIDAS URIs or our short names, in order of preference: any of them will do,
    so the lowest counts). A request never lowers the client's minimum; unknown values are
    ignored (OpenID Connect Core 3.1.2.1: acr_values are voluntary)."""
    names = {uri: name for name, uri in policies.ACR_URIS.items()}
    asked = [names.get(v, v) for v in acr_values.split()]
    asked = [name for name in asked if name in policies.ACR_URIS]
    if not asked:
        return minimum
    lowest = min(asked, key=lambda name: policies.ASSURANCE_ORDER[name])
    return lowest if policies.satisfies(lowest, minimum) else minimum


def _params(request) -> dict:
    return {**request.GET.dict(), **(request.POST.dict() if request.method == "POST" else {})}


def answer_error(asked: AuthRequest, error: str, description: str) -> ErrorAnswer:
    url = error_url(asked.redirect_uri, asked.state, error, description, fragment=asked.fragment)
    return ErrorAnswer(url, error)


def return_path(request, *, satisfied: bool = False) -> str:
    """This request's path for the login to land on; once a new login satisfies `prompt=login`
    and `max_age`, without them (or max_age=0 would send the person round again)."""
    if not satisfied:
        return request.get_full_path()
    kept = [
        (k, v)
        for k, v in parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True)
        if k not in ("prompt", "max_age")
    ]
    prompt = " ".join(p for p in request.GET.get("prompt", "").split() if p != "login")
    if prompt:
        kept.append(("prompt", prompt))
    return f"{request.path}?{urlencode(kept)}"


# --- 2. and 3.: who, and for which organisation -------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """LOGIN (with `reauthenticate`), STEP_UP, REFUSE (`reason`), CHOOSE (`memberships`),
    CONSENT (`membership`, the `scopes` to ask for), ISSUE (`membership`; `granted`: the scopes
    the person has just allowed, to remember with the code; `moved`: an organisation other
    than the one remembered for the application, to remember instead)."""

    kind: str
    reason: str = ""
    reauthenticate: bool = False
    memberships: list = field(default_factory=list)
    membership: object = None
    scopes: list = field(default_factory=list)
    granted: tuple = ()
    moved: bool = False


LOGIN, STEP_UP, REFUSE, CHOOSE, CONSENT, ISSUE = (
    "login", "step_up", "refuse", "choose", "consent", "issue"
)  # fmt: skip


def decide(
    asked: AuthRequest, person, authentication, *, chosen: str | None = None, allowed=()
) -> Decision:
    """What this request gets from this session (`person` None: nobody logged in).
    `chosen`: the public id of the organisation the person chose on the choice page (or the
    consent page carried); `allowed`: the scopes the person has just allowed on the consent
    page of this very request (consent.redeem_ticket)."""
    silent = "none" in asked.prompt
    if person is None or authentication is None:
        if silent:
            raise answer_error(asked, "login_required", "Nobody is logged in.")
        return Decision(LOGIN)
    too_old = (
        asked.max_age is not None
        and (clock.now() - authentication.at).total_seconds() > asked.max_age
    )
    if "login" in asked.prompt or too_old:
        if silent:
            raise answer_error(asked, "login_required", "The login is older than max_age.")
        return Decision(LOGIN, reauthenticate=True)
    if not policies.satisfies(authentication.acr, asked.required_acr):
        if silent:
            raise answer_error(asked, "login_required", "A stronger login is required.")
        return Decision(STEP_UP)
    eligible = eligible_memberships(person, asked.client, authentication)
    if not eligible:
        return Decision(REFUSE, reason="sso_organisation_not_allowed")
    found = consent.remembered(person, asked.client)
    membership = None
    if chosen is not None:
        membership = next((m for m in eligible if str(m.organisation.public_id) == chosen), None)
    answered = membership is not None  # the consent page's answer was for this organisation
    if membership is None and "select_account" not in asked.prompt:
        membership = consent.remembered_membership(found, eligible)
    if membership is None and len(eligible) == 1 and "select_account" not in asked.prompt:
        membership = eligible[0]
    if membership is None:
        if silent:
            raise answer_error(asked, "account_selection_required", "Choose an organisation.")
        return Decision(CHOOSE, memberships=eligible)
    wanted = consent.to_ask(found, asked.scopes, always="consent" in asked.prompt)
    if wanted and not (answered and set(wanted) <= set(allowed)):
        if silent:
            raise answer_error(asked, "consent_required", "The person has not consented.")
        return Decision(CONSENT, membership=membership, scopes=wanted)
    moved = found is not None and found.organisation_id != membership.organisation_id
    return Decision(ISSUE, membership=membership, granted=tuple(wanted), moved=moved)


def eligible_memberships(person, client: Client, authentication) -> list:
    """The person's memberships this application may receive them for (3. above), by
    organisation name."""
    allowed = set(client.organisations.values_list("pk", flat=True))
    found = [
        m
        for m in policies.accepted_memberships(person)
        if policies.sso_refusal(m, allowed) is None
        and registry.session_refusal(
            person, authentication.means, authentication.authenticator, m.organisation
        )
        is None
    ]
    return sorted(found, key=lambda m: (m.organisation.name, m.organisation.pk))


def refused(asked: AuthRequest, person, reason: str) -> ErrorAnswer:
    """Audit a refusal of this person to this application (the platform's log: it names no
    organisation of theirs) and the `access_denied` answer for the page's link back."""
    audit.record(
        "sso.authorize_refused",
        actor=person,
        target=asked.client,
        outcome=audit.DENIED,
        details={"client_id": asked.client.application.client_id, "reason": reason},
    )
    return answer_error(asked, "access_denied", "The person may not use this application.")


# --- 5.: the code -------------------------------------------------------------------------------


def issue_code(request, asked: AuthRequest, person, authentication, decision: Decision) -> str:
    """The code for this person acting for the decision's organisation: the URL to send the
    browser to. The consent just given (or the organisation chosen anew), the sign-in and
    `sso.code_issued` in one transaction."""
    membership = decision.membership
    credentials = {
        key: value
        for key, value in asked.credentials.items()
        if key in ("client_id", "redirect_uri", "response_type", "state", "nonce")
        or key.startswith("code_challenge")
    }
    credentials["zs_sign_in"] = SignInFacts(
        organisation=membership.organisation,
        acr=authentication.acr,
        amr=authentication.amr,
        at=authentication.at,
        sid=logout.sid_for(request.session, person),
        session_digest=logout.session_digest(request.session.session_key),
        card=authentication.card,
    )
    with transaction.atomic():
        if decision.granted:
            consent.record_grant(person, asked.client, membership.organisation, decision.granted)
        elif decision.moved:
            consent.remember_organisation(person, asked.client, membership.organisation)
        try:
            uri, _headers, _body, _status = _core().create_authorization_response(
                request, asked.scopes, credentials, allow=True
            )
        except (FatalClientError, OAuthToolkitError) as error:  # validated above: not expected
            found = error.oauthlib_error
            raise answer_error(asked, found.error, found.description) from None
        answered = dict(
            parse_qsl(urlsplit(uri).fragment if asked.fragment else urlsplit(uri).query)
        )
        if "code" not in answered:  # oauthlib answered with an error (validated above: unlikely)
            raise ErrorAnswer(with_iss(uri, fragment=asked.fragment), answered.get("error", ""))
        audit.record(
            "sso.code_issued",
            actor=person,
            organisation=membership.organisation,
            target=asked.client,
            details={"client_id": asked.client.application.client_id, "acr": authentication.acr},
        )
    return with_iss(uri, fragment=asked.fragment)
