"""An attacker's view of every endpoint, each attack tried and failing (docs/oidc.md, "What an
attacker meets"). Open redirects and a wrong redirect URI at the token endpoint are in
test_refusals.py; a code of another client there too."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from sso import (
    REDIRECT,
    answer,
    authorize_url,
    claims_of,
    code_for,
    consent_to,
    exchange,
    log_in,
    register,
)
from zorgsleutel.oidc.models import SignIn

pytestmark = pytest.mark.django_db


def _tokens(client, app, person):
    log_in(client, person)
    code, asked = code_for(client, app)
    return exchange(client, app, code, asked.verifier)[1]


def test_a_stolen_code_is_worth_nothing_without_the_verifier(client, app, mira):
    """Code injection: the attacker has the victim's code (a log, a Referer, a malicious app on
    the phone) and the client's secret even, but not the PKCE verifier the client kept."""
    log_in(client, mira)
    code, _asked = code_for(client, app)
    assert exchange(client, app, code, None) == (
        400,
        {"error": "invalid_request", "error_description": "Code verifier required."},
    )
    assert exchange(client, app, code, "attacker-made-verifier-" + "x" * 30) == (
        400,
        {"error": "invalid_grant"},
    )


def test_a_downgrade_to_plain_pkce_is_refused_before_anyone_logs_in(client, app):
    """With plain, the challenge is the verifier: whoever reads the authorization URL could
    exchange the code. It is refused at the request, before a login, with its state."""
    asked = authorize_url(app.client_id, code_challenge="x" * 43, code_challenge_method="plain")
    found = answer(client.get(asked.url))
    assert found["error"] == "invalid_request" and found["state"] == asked.state
    assert SignIn.objects.count() == 0


def test_every_authorization_answer_names_its_issuer_against_mix_up(client, app, mira):
    """RFC 9207: a client talking to several providers can tell which one answered."""
    found = answer(client.get(authorize_url(app.client_id, prompt="none").url))  # an error
    assert found["iss"] == "https://zorgsleutel.test"
    log_in(client, mira)
    found = answer(client.get(authorize_url(app.client_id).url))  # a code
    assert found["iss"] == "https://zorgsleutel.test"
    # An `iss` the application put in its redirect URI is not passed on as ours.
    tricky = register(
        app.client.created_by, app.client.organisations.all(), name="Tricky",
        uris="https://rp.example.nl/cb?iss=https://evil.example",
    )  # fmt: skip
    consent_to(mira, tricky)
    found = answer(
        client.get(
            authorize_url(tricky.client_id, redirect_uri="https://rp.example.nl/cb?iss=https://evil.example").url
        )
    )  # fmt: skip
    assert found["iss"] == "https://zorgsleutel.test"


def test_the_organisation_choice_is_csrf_protected(app, mira, care, business, operator):
    """A page elsewhere cannot post a choice for the person (and get a code for an
    organisation they did not pick)."""
    both = register(operator, [care, business], name="Beide", uris="https://both.example.nl/cb")
    from sso import member_of

    tim = member_of(care, business, email="tim@noord.nl")
    browser = Client(enforce_csrf_checks=True)
    log_in(browser, tim)
    asked = authorize_url(both.client_id, redirect_uri="https://both.example.nl/cb")
    assert browser.get(asked.url).status_code == 200  # the choice page
    response = browser.post(asked.url, {"organisation": str(business.public_id)})
    assert response.status_code == 403
    assert SignIn.objects.count() == 0


def test_an_access_token_is_taken_from_the_authorization_header_only(client, app, mira):
    """In a URL a token lands in access logs and Referer headers (RFC 9700 4.3.2)."""
    token = _tokens(client, app, mira)["access_token"]
    for response in [
        client.get(f"/oidc/userinfo?access_token={token}"),
        client.post("/oidc/userinfo", {"access_token": token}),
    ]:
        assert (response.status_code, json.loads(response.content)) == (
            400,
            {
                "error": "invalid_request",
                "error_description": "Send the access token in the Authorization header.",
            },
        )
    bearer = {"authorization": f"Bearer {token}"}
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 200


def test_an_id_token_is_no_access_token(client, app, mira):
    tokens = _tokens(client, app, mira)
    response = client.get(
        "/oidc/userinfo", headers={"authorization": f"Bearer {tokens['id_token']}"}
    )
    assert response.status_code == 401


def test_tokens_are_never_cached_and_stored_only_as_hashes(client, app, mira):
    log_in(client, mira)
    code, asked = code_for(client, app)
    response = client.post(
        "/oidc/token",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": asked.verifier,
            "client_id": app.client_id,
            "client_secret": app.secret,
        },
    )
    assert (response["Cache-Control"], response["Pragma"]) == ("no-store", "no-cache")
    token = json.loads(response.content)["access_token"]
    from oauth2_provider.models import AccessToken

    stored = AccessToken.objects.get()
    assert (
        stored.token == ""
        and len(stored.token_checksum) == 64
        and token not in str(AccessToken.objects.values().get())
    )
    userinfo = client.get("/oidc/userinfo", headers={"authorization": f"Bearer {token}"})
    assert "no-cache" in userinfo["Cache-Control"] or "no-store" in userinfo["Cache-Control"]


def test_no_code_token_or_secret_reaches_the_logs(client, app, mira, caplog):
    caplog.set_level(logging.DEBUG)
    log_in(client, mira)
    code, asked = code_for(client, app)
    tokens = exchange(client, app, code, asked.verifier)[1]
    exchange(client, app, code, asked.verifier)  # a refusal, logged by Django as a 400
    client.get("/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert logged  # something was logged (oauthlib, Django)
    for secret in [code, asked.verifier, tokens["access_token"], tokens["id_token"], app.secret]:
        assert secret not in logged


def test_introspection_tells_a_client_about_its_own_tokens_only(client, app, mira, operator, care):
    other = register(operator, [care], name="Labviewer", uris="https://lab.example.nl/cb")
    token = _tokens(client, app, mira)["access_token"]

    def introspect(who):
        response = client.post(
            "/oidc/introspect",
            {"token": token, "client_id": who.client_id, "client_secret": who.secret},
        )
        return response.status_code, json.loads(response.content)

    assert introspect(other) == (200, {"active": False})  # not even whether it exists
    status, found = introspect(app)
    sub = claims_of(_tokens(client, app, mira)["id_token"])["sub"]
    assert (status, found["active"], found["client_id"], found["sub"], found["scope"]) == (
        200,
        True,
        app.client_id,
        sub,
        "openid profile email",
    )
    assert (found["token_type"], found["aud"], found["iss"], found["exp"] - found["iat"]) == (
        "Bearer",
        app.client_id,
        "https://zorgsleutel.test",
        600,
    )
    response = client.post("/oidc/introspect", {"token": token})  # no client at all
    assert response.status_code == 401


def test_revocation_by_another_client_revokes_nothing(client, app, mira, operator, care):
    other = register(operator, [care], name="Labviewer", uris="https://lab.example.nl/cb")
    token = _tokens(client, app, mira)["access_token"]
    bearer = {"authorization": f"Bearer {token}"}
    response = client.post(
        "/oidc/revoke",
        {"token": token, "client_id": other.client_id, "client_secret": other.secret},
    )
    assert response.status_code == 200  # RFC 7009: the same answer whatever the token
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 200
    response = client.post(
        "/oidc/revoke", {"token": token, "client_id": app.client_id, "client_secret": app.secret}
    )
    assert response.status_code == 200
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 401
    from zorgsleutel.core.models import AuditEvent

    (event,) = AuditEvent.objects.filter(action="sso.token_revoked")
    assert (event.organisation, event.actor, event.target) == (
        care.audit_ref,
        app.client.audit_ref,
        mira.audit_ref,
    )


def test_the_pages_are_not_framed_and_leak_no_referer(client, app, mira, care, business, operator):
    both = register(operator, [care, business], name="Beide", uris="https://both.example.nl/cb")
    from sso import member_of

    log_in(client, member_of(care, business, email="tim@noord.nl"))
    page = client.get(authorize_url(both.client_id, redirect_uri="https://both.example.nl/cb").url)
    assert page.status_code == 200
    assert page["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert page["Referrer-Policy"] == "same-origin"
    assert "no-store" in page["Cache-Control"]


def test_a_client_secret_kept_in_clear_never_matches(app):
    """Only our digest is accepted: a secret written into the table in clear (by hand, an old
    import) does not authenticate with itself."""
    from zorgsleutel.oidc import clients

    assert clients.secret_matches(app.secret, app.client.application.client_secret)
    assert not clients.secret_matches(app.secret, app.secret)
    assert not clients.secret_matches("x", "argon2$argon2id$v=19$m=19456,t=2,p=1$x$y")
