"""Logging in for an application: the login lands back on its request, `prompt=login` and
`max_age` make the person log in again, and a login below what the application (or its
`acr_values`) asks is stepped up through the registry of means, never lowered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache

from appids import app_id
from sso import (
    PASSWORD,
    allow,
    answer,
    authorize_url,
    claims_of,
    exchange,
    log_in,
    register,
)
from support import shows_code_page
from zorgsleutel.authn import landing, sessions
from zorgsleutel.core import clock
from zorgsleutel.oidc.models import SignIn

pytestmark = pytest.mark.django_db


def test_a_password_and_sms_login_lands_back_on_the_application_s_request(
    client, app, mira, vault_service, sms_code, fresh_number
):
    """The whole way, as a browser goes it: the request, the login page, password, SMS code,
    back to the request, and on to the application with a code."""
    cache.clear()
    sent = vault_service.enrol(phone=fresh_number(last_two="07"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    mira.phone_enrolment = sent.enrolment
    mira.save()

    asked = authorize_url(app.client_id)
    response = client.get(asked.url)
    assert (response.status_code, response["Location"]) == (302, "/inloggen")
    page = client.get("/inloggen").content.decode()
    assert "Log in om verder te gaan naar Declaratieportaal." in page
    response = client.post("/inloggen", {"email": "mira@noord.nl", "password": PASSWORD})
    assert shows_code_page(response)
    response = client.post("/inloggen/code", {"code": sms_code("06 •• •• •• 07")})
    assert (response.status_code, response["Location"]) == (302, asked.url)
    page = client.get(response["Location"])  # the first login to it: the consent page
    assert "Declaratieportaal toestaan uw gegevens te ontvangen?" in page.content.decode()
    found = answer(allow(client, asked.url, page))
    assert found["state"] == asked.state
    _status, tokens = exchange(client, app, found["code"], asked.verifier)
    assert claims_of(tokens["id_token"])["amr"] == ["pwd", "sms"]
    cache.clear()


def _login_lands(client, person, means="sms", authenticator="") -> str:
    """Log the client's session in as a means does, and where that login lands."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    store = import_module(settings.SESSION_ENGINE).SessionStore
    cookie = client.cookies.get(settings.SESSION_COOKIE_NAME)
    request.session = store(cookie.value if cookie is not None else None)
    request.user = AnonymousUser()
    sessions.complete_login(request, person, means, authenticator=authenticator)
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return landing.destination(request, person)  # as every means' last step asks


@pytest.mark.parametrize(("minutes", "lands"), [(29, "request"), (31, "/mijn")])
def test_a_login_lands_on_the_request_for_30_minutes(client, app, mira, minutes, lands):
    asked = authorize_url(app.client_id)
    at = clock.now()
    with clock.frozen(at):
        assert client.get(asked.url)["Location"] == "/inloggen"
    with clock.frozen(at + timedelta(minutes=minutes)):
        landed = _login_lands(client, mira)
    assert landed == (asked.url if lands == "request" else "/mijn")


def test_a_login_without_a_request_lands_at_home(client, mira):
    client.get("/inloggen")
    assert _login_lands(client, mira) == "/mijn"


def test_the_return_is_a_local_path_only(client, mira):
    with pytest.raises(ValueError, match="a login only returns to a local path"):
        sessions.remember_return(type("R", (), {"session": {}})(), "//evil.example/x")
    # A session that says otherwise (it cannot be written from outside) still lands at home.
    client.get("/inloggen")
    session = client.session
    session[sessions.RETURN] = {"path": "https://evil.example/", "at": clock.now().timestamp()}
    session.save()
    assert _login_lands(client, mira) == "/mijn"


def test_prompt_login_logs_in_again_and_returns_without_it(client, app, mira):
    log_in(client, mira)
    old_session = client.cookies["zs_session"].value
    asked = authorize_url(app.client_id, prompt="login")
    response = client.get(asked.url)
    assert (response.status_code, response["Location"]) == (302, "/inloggen")
    assert client.cookies["zs_session"].value != old_session  # logged out
    landed = _login_lands(client, mira)
    assert "prompt" not in parse_qs(urlsplit(landed).query)
    found = answer(client.get(landed))
    assert "code" in found and found["state"] == asked.state


@pytest.mark.parametrize(("age", "asks_again"), [(299, False), (301, True)])
def test_max_age_asks_for_a_login_this_recent(client, app, mira, age, asks_again):
    at = clock.now()
    with clock.frozen(at):
        log_in(client, mira)
    asked = authorize_url(app.client_id, max_age="300")
    with clock.frozen(at + timedelta(seconds=age)):
        response = client.get(asked.url)
        if not asks_again:
            code = answer(response)["code"]
            claims = claims_of(exchange(client, app, code, asked.verifier)[1]["id_token"])
            assert claims["auth_time"] == int(at.timestamp())
            return
        assert response["Location"] == "/inloggen"
        landed = _login_lands(client, mira)
        # max_age=0 would otherwise send the person round for ever
        assert "max_age" not in parse_qs(urlsplit(landed).query)
        assert "code" in answer(client.get(landed))


def test_prompt_none_with_an_old_login_is_login_required(client, app, mira):
    at = clock.now()
    with clock.frozen(at):
        log_in(client, mira)
    with clock.frozen(at + timedelta(minutes=10)):
        found = answer(client.get(authorize_url(app.client_id, prompt="none", max_age="60").url))
    assert found["error"] == "login_required"


def test_a_silent_login_is_a_code_without_a_page(client, app, mira):
    log_in(client, mira)
    found = answer(client.get(authorize_url(app.client_id, prompt="none").url))
    assert "code" in found


# --- Assurance: the application's minimum, acr_values ------------------------------------------


def test_an_sms_login_is_stepped_up_to_the_app_for_a_substantial_application(
    client, operator, care, mira
):
    app = register(operator, [care], minimum_acr="substantial")
    device = app_id(mira)
    at = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)  # 1796635800 as a Unix time
    with clock.frozen(at):
        log_in(client, mira, "sms")
    asked = authorize_url(app.client_id)
    with clock.frozen(at + timedelta(minutes=2)):
        response = client.get(asked.url)
        assert (response.status_code, response["Location"]) == (302, "/inloggen/app")
        assert SignIn.objects.count() == 0
        landed = _login_lands(client, mira, "app", authenticator=device.public_id)
    assert landed == asked.url
    with clock.frozen(at + timedelta(minutes=3)):
        code = answer(client.get(landed))["code"]
        claims = claims_of(exchange(client, app, code, asked.verifier)[1]["id_token"])
    # The step-up added to what the first login proved: both logins' methods, the app's level
    # and the time of the latest login (authn/sessions.py: combine).
    assert (claims["acr"], claims["amr"], claims["auth_time"]) == (
        "http://eidas.europa.eu/LoA/substantial",
        ["pwd", "sms", "swk", "pin"],
        1796635800 + 120,
    )


def test_no_means_that_reaches_the_level_is_a_page_and_access_denied(client, operator, care, mira):
    app = register(operator, [care], minimum_acr="substantial")
    log_in(client, mira, "sms")  # no app linked
    response = client.get(authorize_url(app.client_id).url)
    assert response.status_code == 403
    html = response.content.decode()
    assert (
        "Declaratieportaal vraagt om een sterkere manier van inloggen dan u hebt: de "
        "Zorgsleutel-app of een smartcard. Koppel eerst de Zorgsleutel-app in Mijn Zorgsleutel."
    ) in html
    assert "error=access_denied" in html
    assert client.get("/mijn").status_code == 200  # still logged in


@pytest.mark.parametrize(
    ("minimum", "acr_values", "session", "outcome"),
    [
        ("low", "http://eidas.europa.eu/LoA/substantial", "sms", "step_up"),
        ("low", "substantial", "sms", "step_up"),
        ("low", "substantial high", "app", "code"),  # any of them will do
        ("low", "http://eidas.europa.eu/LoA/low", "sms", "code"),
        ("low", "urn:unknown:acr", "sms", "code"),  # voluntary: unknown values are ignored
        # A request never lowers the application's minimum.
        ("substantial", "http://eidas.europa.eu/LoA/low", "sms", "step_up"),
        ("substantial", "low", "app", "code"),
    ],
)
def test_acr_values_raise_the_level_never_lower_it(
    client, operator, care, mira, minimum, acr_values, session, outcome
):
    app = register(operator, [care], minimum_acr=minimum)
    device = app_id(mira)
    log_in(client, mira, session, authenticator=device.public_id if session == "app" else "")
    response = client.get(authorize_url(app.client_id, acr_values=acr_values).url)
    if outcome == "step_up":
        assert response["Location"] == "/inloggen/app"
    else:
        assert "code" in answer(response)


def test_prompt_none_below_the_level_is_login_required(client, operator, care, mira):
    app = register(operator, [care], minimum_acr="substantial")
    log_in(client, mira, "sms")
    found = answer(client.get(authorize_url(app.client_id, prompt="none").url))
    assert (found["error"], found["error_description"]) == (
        "login_required",
        "A stronger login is required.",
    )


def test_a_timed_out_session_logs_in_again_and_lands_on_the_request(client, app, mira):
    at = clock.now()
    with clock.frozen(at):
        log_in(client, mira)
    asked = authorize_url(app.client_id)
    with clock.frozen(at + timedelta(minutes=31)):  # idle past SESSION_IDLE_TIMEOUT
        response = client.get(asked.url)
        assert response["Location"] == "/inloggen"
        assert _login_lands(client, mira) == asked.url


def test_the_code_flow_for_a_person_the_portal_steps_up_itself(client, app, care, mira):
    """A manager of a care provider must use the app (policies.required_acr): an SMS session
    is stepped up by the portal before the request is even read, and lands back on it."""
    from zorgsleutel.accounts.models import Membership

    Membership.objects.filter(user=mira).update(role="manager")
    device = app_id(mira)
    log_in(client, mira, "sms")
    asked = authorize_url(app.client_id)
    response = client.get(asked.url, headers={"accept": "text/html"})
    assert response["Location"] == "/inloggen/app"
    assert _login_lands(client, mira, "app", authenticator=device.public_id) == asked.url
    assert "code" in answer(client.get(asked.url, headers={"accept": "text/html"}))


def test_sending_browsers_to_log_in_is_limited_to_120_a_minute_per_address(client, app):
    """Each such answer writes a session (where the login lands): policies.RATE_LIMITS."""
    from zorgsleutel.core.models import AuditEvent

    cache.clear()
    asked = authorize_url(app.client_id)
    with clock.frozen(clock.now().replace(second=0, microsecond=0)):
        for _ in range(120):
            assert client.get(asked.url)["Location"] == "/inloggen"
        refused = client.get(asked.url)
    assert refused.status_code == 429
    assert "Te veel verzoeken" in refused.content.decode()
    assert refused["Retry-After"] == "60"
    (event,) = AuditEvent.objects.filter(action="ratelimit.refused")
    assert event.details == {"action": "sso.login", "limits": ["ip"]}
    cache.clear()
