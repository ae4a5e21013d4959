"""A form that leads on to an application (oidc/formaction.py): browsers apply the CSP's
form-action to the redirects that answer a form, so the login pages of a pending sign-in and the
authorization endpoint's own pages name the application's registered origin there; nothing else
does (tests/e2e/test_sso_demo.py walks it in Chromium, where `form-action 'self'` alone blocked
the last redirect of every login for an application)."""

from __future__ import annotations

import pytest

from sso import authorize_url, log_in, member_of, register
from zorgsleutel.authn import sessions
from zorgsleutel.core import clock

pytestmark = pytest.mark.django_db

PLAIN = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'"
)
TO_THE_APPLICATION = PLAIN.replace("form-action 'self'", "form-action 'self' https://rp.example.nl")


def test_the_login_pages_of_a_pending_sign_in_may_lead_to_the_application(client, app):
    assert client.get("/inloggen")["Content-Security-Policy"] == PLAIN
    response = client.get(authorize_url(app.client_id).url)
    assert (response.status_code, response["Location"]) == (302, "/inloggen")
    assert response["Content-Security-Policy"] == PLAIN  # a redirect shows no form
    assert client.get("/inloggen")["Content-Security-Policy"] == TO_THE_APPLICATION
    refused = client.post("/inloggen", {"email": "niemand@noord.nl", "password": "fout"})
    assert refused.status_code == 200  # the form again, with its errors: it may lead there
    assert refused["Content-Security-Policy"] == TO_THE_APPLICATION
    assert client.get("/inloggen/app")["Content-Security-Policy"] == TO_THE_APPLICATION
    assert client.get("/help")["Content-Security-Policy"] == TO_THE_APPLICATION


def test_the_choice_of_organisation_may_lead_to_the_application(client, care, business, operator):
    both = register(
        operator, [care, business], name="Beide", uris="https://both.example.nl:8443/cb"
    )
    log_in(client, member_of(care, business, email="tim@noord.nl"))
    page = client.get(
        authorize_url(both.client_id, redirect_uri="https://both.example.nl:8443/cb").url
    )
    assert page.status_code == 200  # the choice page, posting to itself, answered by a redirect
    assert page["Content-Security-Policy"] == PLAIN.replace(
        "form-action 'self'", "form-action 'self' https://both.example.nl:8443"
    )  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        {"redirect_uri": "https://evil.example/cb"},  # not registered: a page, never a redirect
        {"redirect_uri": "https://rp.example.nl/callback/"},  # not character for character
        {"client_id": "no-such-client"},
        {"redirect_uri": None},
    ],
)
def test_an_unregistered_redirect_uri_widens_nothing(client, app, change):
    change = dict(change)
    response = client.get(authorize_url(change.pop("client_id", app.client_id), **change).url)
    assert response.status_code == 400
    assert response["Content-Security-Policy"] == PLAIN


def test_a_return_to_an_unregistered_redirect_uri_widens_nothing(client, app):
    """Whatever a session's return names (the portal stores only requests it validated), only a
    registered redirect URI of that client reaches form-action."""
    for path in [
        f"/oidc/authorize?client_id={app.client_id}&redirect_uri=https://evil.example/cb",
        "/oidc/authorize?client_id=other&redirect_uri=https://rp.example.nl/callback",
        f"/elders?client_id={app.client_id}&redirect_uri=https://rp.example.nl/callback",
    ]:
        session = client.session
        session[sessions.RETURN] = {"path": path, "at": clock.now().timestamp()}
        session.save()
        assert client.get("/inloggen")["Content-Security-Policy"] == PLAIN, path
