"""Every refusal of single sign-on, each with its exact error, and what it leaves behind.

At the authorization endpoint a request that names an unknown client or a redirect URI that is
not registered exactly is answered with a page (400) and never redirected; every other error
goes back to the application's redirect URI with `error`, its `state` and `iss`. At the token
endpoint errors are JSON (RFC 6749 5.2) and audited."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from sso import REDIRECT, answer, authorize_url, code_for, exchange, log_in, register
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import SignIn

pytestmark = pytest.mark.django_db

ISSUER = "https://zorgsleutel.test"


def page_error(response) -> str:
    """The error a refusal page names (and that it did not redirect)."""
    assert response.status_code == 400
    assert "Location" not in response
    html = response.content.decode()
    start = html.index('<code id="error">') + len('<code id="error">')
    line = html[start : html.index("</p>", start)]
    return line.replace("</code>", "")


# --- Requests that must not be answered at their redirect URI -----------------------------------


@pytest.mark.parametrize(
    ("redirect_uri", "expected"),
    [
        ("https://evil.example/callback", "invalid_request: Mismatching redirect URI."),
        # "extra": the registered one with more after it, or a different path, port or scheme
        (REDIRECT + "?next=https://evil.example", "invalid_request: Mismatching redirect URI."),
        (REDIRECT + "/", "invalid_request: Mismatching redirect URI."),
        ("https://rp.example.nl:8443/callback", "invalid_request: Mismatching redirect URI."),
        ("http://rp.example.nl/callback", "invalid_request: Mismatching redirect URI."),
        ("https://RP.example.nl/callback", "invalid_request: Mismatching redirect URI."),
        (REDIRECT + "#x", "invalid_request: Invalid redirect URI."),
        (None, "invalid_request: Missing redirect URI."),
        ("callback", "invalid_request: Invalid redirect URI."),
    ],
)
def test_a_redirect_uri_that_is_not_registered_exactly_is_never_redirected_to(
    client, app, mira, redirect_uri, expected
):
    log_in(client, mira)
    response = client.get(authorize_url(app.client_id, redirect_uri=redirect_uri).url)
    assert page_error(response) == expected
    assert SignIn.objects.count() == 0


def test_an_unknown_client_gets_a_page(client, mira):
    log_in(client, mira)
    response = client.get(authorize_url("no-such-client").url)
    assert page_error(response) == "invalid_request: Invalid client_id parameter value."


def test_the_refusal_page_is_dutch_and_english(client, mira):
    response = client.get(authorize_url("no-such-client").url)
    assert "<h1>Ongeldig inlogverzoek</h1>" in response.content.decode()
    client.cookies["django_language"] = "en"
    response = client.get(authorize_url("no-such-client").url)
    assert "<h1>Invalid sign-in request</h1>" in response.content.decode()


def test_prompt_none_with_a_wrong_redirect_uri_is_no_open_redirector(client, app):
    """Nobody logged in and prompt=none: still no redirect to an unregistered address."""
    asked = authorize_url(app.client_id, prompt="none", redirect_uri="https://evil.example/cb")
    assert page_error(client.get(asked.url)) == "invalid_request: Mismatching redirect URI."


# --- Errors answered to the application ---------------------------------------------------------


def _error(client, app, **override) -> dict:
    asked = authorize_url(app.client_id, **override)
    found = answer(client.get(asked.url))
    assert found["_to"] == REDIRECT
    assert found["iss"] == ISSUER  # RFC 9207 on errors too
    if asked.state:
        assert found["state"] == asked.state
    assert "code" not in found
    return {"error": found["error"], "error_description": found.get("error_description")}


@pytest.mark.parametrize(
    ("override", "error", "description"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request",
         "Code challenge required."),
        ({"code_challenge_method": "plain"}, "invalid_request",
         "PKCE with code_challenge_method=S256 is required."),
        # oauthlib takes a missing method for "plain" (RFC 7636 4.3)
        ({"code_challenge_method": None}, "invalid_request",
         "PKCE with code_challenge_method=S256 is required."),
        ({"code_challenge_method": "S512"}, "invalid_request",
         "Transform algorithm not supported."),
        ({"response_type": "token"}, "unsupported_response_type", None),
        ({"response_type": "id_token"}, "unsupported_response_type", None),
        ({"response_type": "code id_token"}, "unauthorized_client", None),
        ({"scope": "profile email"}, "invalid_scope",
         "This provider answers OpenID Connect requests only."),
        ({"scope": "openid admin"}, "invalid_scope", None),
        ({"prompt": "none consent"}, "invalid_request",
         "Prompt none is mutually exclusive with other values."),
        ({"prompt": "none login"}, "invalid_request",
         "Prompt none is mutually exclusive with other values."),
        ({"prompt": "create"}, "invalid_request", "Unsupported prompt value."),
        ({"request": "eyJ..."}, "request_not_supported", "Request objects are not supported."),
        ({"request_uri": "https://rp.example.nl/r"}, "request_uri_not_supported",
         "Request objects are not supported."),
        ({"max_age": "soon"}, "invalid_request", "max_age must be a number of seconds."),
        ({"max_age": "\u00b2"}, "invalid_request", "max_age must be a number of seconds."),
        ({"max_age": "1234567890"}, "invalid_request", "max_age must be a number of seconds."),
    ],
)  # fmt: skip
def test_a_bad_request_goes_back_with_its_error(client, app, mira, override, error, description):
    log_in(client, mira)
    assert _error(client, app, **override) == {"error": error, "error_description": description}
    assert SignIn.objects.count() == 0


def test_prompt_none_without_a_session_is_login_required(client, app):
    assert _error(client, app, prompt="none") == {
        "error": "login_required",
        "error_description": "Nobody is logged in.",
    }


def test_prompt_none_keeps_no_state_it_was_not_given(client, app):
    found = answer(client.get(authorize_url(app.client_id, prompt="none", state=None).url))
    assert (found["error"], "state" in found) == ("login_required", False)


# --- The token endpoint --------------------------------------------------------------------------


def _refusals() -> list[tuple[str, dict]]:
    return [
        (e.actor, e.details)
        for e in AuditEvent.objects.filter(action="sso.token_refused").order_by("seq")
    ]


def test_a_wrong_client_secret_is_invalid_client(client, app, mira):
    log_in(client, mira)
    code, asked = code_for(client, app)
    assert exchange(client, app, code, asked.verifier, client_secret="wrong") == (
        401,
        {"error": "invalid_client"},
    )
    assert _refusals() == [
        (
            app.client.audit_ref,
            {"client_id": app.client_id, "error": "invalid_client", "reason": "invalid_client"},
        )
    ]
    # The code was not spent by the refusal: the application still exchanges it.
    assert exchange(client, app, code, asked.verifier)[0] == 200


def test_a_secret_in_basic_auth_works_and_a_wrong_one_does_not(client, app, mira):
    import base64

    log_in(client, mira)
    for secret, status in [("wrong", 401), (app.secret, 200)]:
        code, asked = code_for(client, app)
        basic = base64.b64encode(f"{app.client_id}:{secret}".encode()).decode()
        response = client.post(
            "/oidc/token",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": asked.verifier,
            },
            headers={"authorization": f"Basic {basic}"},
        )
        assert response.status_code == status


def test_a_wrong_or_missing_code_verifier_is_refused(client, app, mira):
    log_in(client, mira)
    code, _asked = code_for(client, app)
    assert exchange(client, app, code, "x" * 43) == (400, {"error": "invalid_grant"})
    assert exchange(client, app, code, None) == (
        400,
        {"error": "invalid_request", "error_description": "Code verifier required."},
    )


def test_a_reused_code_is_refused_and_revokes_the_tokens_of_its_first_use(client, app, mira, care):
    log_in(client, mira)
    code, asked = code_for(client, app)
    _status, tokens = exchange(client, app, code, asked.verifier)
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 200

    assert exchange(client, app, code, asked.verifier) == (400, {"error": "invalid_grant"})
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 401
    (reused,) = AuditEvent.objects.filter(action="sso.code_reused")
    assert (reused.organisation, reused.actor, reused.target, reused.outcome) == (
        care.audit_ref,
        app.client.audit_ref,
        mira.audit_ref,
        "denied",
    )
    assert reused.details == {
        "client_id": app.client_id,
        "revoked": 2,  # the access token and the refresh token
        "names": {mira.audit_ref: "mira@noord.nl"},
    }
    assert _refusals() == []  # one event for it, with its revocation, not two
    # A third try finds nothing more to revoke.
    assert exchange(client, app, code, asked.verifier) == (400, {"error": "invalid_grant"})
    last = AuditEvent.objects.filter(action="sso.code_reused").order_by("seq").last()
    assert last.details["revoked"] == 0


@pytest.mark.parametrize(("seconds", "status"), [(59, 200), (61, 400)])
def test_a_code_lives_60_seconds(client, app, mira, seconds, status):
    log_in(client, mira)
    at = clock.now()
    with clock.frozen(at):
        code, asked = code_for(client, app)
    with clock.frozen(at + timedelta(seconds=seconds)):
        found = exchange(client, app, code, asked.verifier)
    assert found[0] == status
    if status == 400:
        assert found[1] == {"error": "invalid_grant"}
        assert _refusals()[-1][1]["reason"] == "code_expired"


def test_another_client_cannot_spend_a_code(client, app, mira, operator, care):
    other = register(operator, [care], name="Labviewer")
    log_in(client, mira)
    code, asked = code_for(client, app)
    assert exchange(
        client, other, code, asked.verifier, client_id=other.client_id, client_secret=other.secret
    ) == (400, {"error": "invalid_grant"})
    assert _refusals()[-1] == (
        other.client.audit_ref,
        {"client_id": other.client_id, "error": "invalid_grant", "reason": "code_unknown"},
    )
    # The application it belongs to still exchanges it.
    status, tokens = exchange(client, app, code, asked.verifier)
    assert status == 200
    # Spent, then shown by the other client: refused, and nothing of the first is revoked.
    assert exchange(
        client, other, code, asked.verifier, client_id=other.client_id, client_secret=other.secret
    ) == (400, {"error": "invalid_grant"})
    assert _refusals()[-1][1]["reason"] == "code_of_another_client"
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 200


def test_the_redirect_uri_of_the_token_request_must_be_the_code_s(client, operator, care, mira):
    app = register(operator, [care], uris=f"{REDIRECT}\nhttps://rp.example.nl/other")
    log_in(client, mira)
    code, asked = code_for(client, app)
    found = exchange(client, app, code, asked.verifier, redirect_uri="https://rp.example.nl/other")
    assert found == (
        400,
        {"error": "invalid_request", "error_description": "Mismatching redirect URI."},
    )


@pytest.mark.parametrize("grant_type", ["password", "client_credentials", "implicit", "x"])
def test_no_grant_but_the_code_and_its_refresh(client, app, grant_type):
    response = client.post(
        "/oidc/token",
        {
            "grant_type": grant_type,
            "client_id": app.client_id,
            "client_secret": app.secret,
            "username": "mira@noord.nl",
            "password": "Sterk-wachtwoord-2026",
            "refresh_token": "x",
        },
    )
    assert (response.status_code, json.loads(response.content)) == (
        400,
        {"error": "unsupported_grant_type"},
    )


def test_the_token_endpoint_takes_only_post(client):
    assert client.get("/oidc/token").status_code == 405
