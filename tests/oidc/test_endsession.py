"""RP-Initiated Logout 1.0 at /oidc/logout: a hint of this session logs out at once; anything
else asks first (a CSRF-checked POST); every refusal is a page with its code, never a redirect,
and changes nothing."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.test import Client as Browser

from confirmpages import PRIMARY, confirmation
from sso import AFTER_LOGOUT, app_with_logout, browser_of, sign_in
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import LogoutDelivery, SignIn

pytestmark = pytest.mark.django_db

QUESTION = "<h1>Uitloggen bij Zorgsleutel?</h1>"


@pytest.fixture
def apps(operator, care):
    return {
        "Declaratieportaal": app_with_logout(operator, [care], "Declaratieportaal"),
        "Labviewer": app_with_logout(operator, [care], "Labviewer"),
    }


def logout_url(**params) -> str:
    return "/oidc/logout?" + urlencode(params)


def logged_in(browser) -> bool:
    return browser.get("/oidc/userinfo").wsgi_request.user.is_authenticated


def nothing_ended() -> bool:
    return (
        not SignIn.objects.exclude(ended_at=None).exists()
        and not LogoutDelivery.objects.exists()
        and not AuditEvent.objects.filter(action="sso.logged_out").exists()
    )


def refused(response) -> str:
    """The code of a refusal page (400, never a redirect)."""
    assert response.status_code == 400, response.status_code
    html = response.content.decode()
    assert "<title>Ongeldig verzoek om uit te loggen" in html
    return html.split('<code id="error">')[1].split("</code>")[0]


def test_a_hint_of_this_session_logs_out_at_once_and_goes_back_with_state(apps, mira, care):
    browser = browser_of(mira)
    declaratie = sign_in(browser, apps["Declaratieportaal"])
    sign_in(browser, apps["Labviewer"])

    response = browser.get(
        logout_url(
            id_token_hint=declaratie.tokens["id_token"],
            post_logout_redirect_uri=AFTER_LOGOUT,
            state="s-123",
        )
    )

    assert response.status_code == 302
    assert response["Location"] == "https://rp.example.nl/logged-out?state=s-123"
    assert not logged_in(browser)
    assert sorted(LogoutDelivery.objects.values_list("client__application__name", "reason")) == [
        ("Declaratieportaal", "rp_logout"),
        ("Labviewer", "rp_logout"),
    ]  # every application of the session, the asking one too
    (event,) = AuditEvent.objects.filter(action="sso.logged_out")
    assert (event.organisation, event.actor, event.target) == (
        care.audit_ref,
        mira.audit_ref,
        apps["Declaratieportaal"].client.audit_ref,
    )
    assert event.details["client_id"] == apps["Declaratieportaal"].client_id


def test_an_expired_hint_still_names_the_session(apps, mira):
    browser = browser_of(mira)
    declaratie = sign_in(browser, apps["Declaratieportaal"])
    with clock.frozen(clock.now() + timedelta(minutes=25)):  # the ID token lived 10 minutes
        response = browser.get(
            logout_url(
                id_token_hint=declaratie.tokens["id_token"],
                post_logout_redirect_uri=AFTER_LOGOUT,
            )
        )
    assert (response.status_code, response["Location"]) == (302, AFTER_LOGOUT)
    assert not logged_in(browser)


def test_without_a_hint_the_person_is_asked_and_only_their_post_logs_out(apps, mira):
    browser = Browser(enforce_csrf_checks=True)
    from sso import log_in

    log_in(browser, mira)
    sign_in(browser, apps["Labviewer"])
    url = logout_url(
        client_id=apps["Labviewer"].client_id,
        post_logout_redirect_uri=AFTER_LOGOUT,
        state="s-9",
    )

    page = browser.get(url)
    assert confirmation(page) == {
        "status": 200,
        "title": "Uitloggen bij Zorgsleutel?",
        "consequences": [
            "Labviewer vraagt om u uit te loggen.",
            "U wordt uitgelogd bij Zorgsleutel en bij de applicaties waar u met Zorgsleutel "
            "bent ingelogd.",
        ],
        "items": [],
        "warning": "",
        "button": ("Uitloggen", PRIMARY),
        "carries": {
            "client_id": apps["Labviewer"].client_id,
            "id_token_hint": "",
            "post_logout_redirect_uri": AFTER_LOGOUT,
            "state": "s-9",
            "bevestigd": "ja",
        },
        "csrf": True,
        "back": "/mijn",
    }
    assert logged_in(browser) and nothing_ended()

    # A page elsewhere posting the confirmation has no CSRF token: refused, nothing changes.
    fields = confirmation(page)["carries"]
    forged = browser.post(url, fields)
    assert forged.status_code == 403
    assert logged_in(browser) and nothing_ended()

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    fields["csrfmiddlewaretoken"] = token.group(1)
    confirmed = browser.post(url, fields)
    assert (confirmed.status_code, confirmed["Location"]) == (
        302,
        "https://rp.example.nl/logged-out?state=s-9",
    )
    assert not logged_in(browser)
    assert list(LogoutDelivery.objects.values_list("reason", flat=True)) == ["rp_logout"]


def form_action(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(part.strip() for part in policy.split(";") if "form-action" in part)


def test_the_question_may_lead_to_the_registered_post_logout_uri_only(apps, mira):
    """The answer to the question redirects to the post-logout URI, and browsers apply
    form-action to a form's redirects: that URI's origin (registered, checked) joins it on the
    question's page; without a post-logout URI nothing widens."""
    browser = browser_of(mira)
    labviewer = apps["Labviewer"].client_id
    asked = browser.get(logout_url(client_id=labviewer, post_logout_redirect_uri=AFTER_LOGOUT))
    assert QUESTION in asked.content.decode()
    assert form_action(asked) == "form-action 'self' https://rp.example.nl"
    for url in (logout_url(client_id=labviewer), logout_url()):
        assert form_action(browser.get(url)) == "form-action 'self'"
    other = logout_url(client_id=labviewer, post_logout_redirect_uri="https://evil.example/")
    assert refused(browser.get(other)) == "invalid_post_logout_redirect_uri"
    assert logged_in(browser) and nothing_ended()


def test_a_hint_of_another_session_only_asks(apps, mira):
    mine, other = browser_of(mira), browser_of(mira)
    sign_in(mine, apps["Labviewer"])
    theirs = sign_in(other, apps["Labviewer"])
    response = mine.get(logout_url(id_token_hint=theirs.tokens["id_token"]))
    assert response.status_code == 200 and QUESTION in response.content.decode()
    assert logged_in(mine) and logged_in(other) and nothing_ended()


def test_a_hint_of_another_person_only_asks(apps, mira, care):
    from sso import member_of

    gijs = member_of(care, email="gijs@noord.nl", name="Gijs Gebruiker")
    browser = browser_of(mira)
    sign_in(browser, apps["Labviewer"])
    of_gijs = sign_in(browser_of(gijs), apps["Labviewer"])
    response = browser.get(logout_url(id_token_hint=of_gijs.tokens["id_token"]))
    assert response.status_code == 200 and QUESTION in response.content.decode()
    assert logged_in(browser) and nothing_ended()


def _forged(id_token: str, **changes) -> str:
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return ".".join([header, body, signature])


def _unsigned(id_token: str) -> str:
    _header, payload, _signature = id_token.split(".")
    none = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return f"{none}.{payload}."


@pytest.mark.parametrize(
    ("make", "code"),
    [
        # A hint whose payload was changed (another sid), one with alg none, not a JWT at all.
        (lambda app, t: {"id_token_hint": _forged(t, sid="x" * 43)}, "invalid_id_token_hint"),
        (lambda app, t: {"id_token_hint": _unsigned(t)}, "invalid_id_token_hint"),
        (lambda app, t: {"id_token_hint": "not-a-token"}, "invalid_id_token_hint"),
        # A client_id that is not the hint's audience; one nobody registered.
        (lambda app, t: {"id_token_hint": t, "client_id": "another"}, "client_id_mismatch"),
        (lambda app, t: {"client_id": "nobody"}, "unknown_client"),
        # Where to go back to: not registered (an open redirect otherwise), or no client to
        # check it against.
        (
            lambda app, t: {
                "id_token_hint": t,
                "post_logout_redirect_uri": "https://evil.example/",
            },
            "invalid_post_logout_redirect_uri",
        ),
        (
            lambda app, t: {
                "client_id": app.client_id,
                "post_logout_redirect_uri": AFTER_LOGOUT + "/",
            },
            "invalid_post_logout_redirect_uri",
        ),
        (
            lambda app, t: {"client_id": app.client_id, "post_logout_redirect_uri": REDIRECT},
            "invalid_post_logout_redirect_uri",
        ),  # a login redirect URI is not a logout one
        (lambda app, t: {"post_logout_redirect_uri": AFTER_LOGOUT}, "client_id_required"),
    ],
)
def test_refusals(apps, mira, make, code):
    browser = browser_of(mira)
    signed_in = sign_in(browser, apps["Labviewer"])
    params = make(apps["Labviewer"], signed_in.tokens["id_token"])
    for response in (browser.get(logout_url(**params)), browser.post("/oidc/logout", params)):
        assert refused(response) == code
        assert "Location" not in response
    assert logged_in(browser) and nothing_ended()


def test_a_hint_signed_by_another_key_is_refused(apps, mira):
    from jwcrypto import jwk, jwt

    browser = browser_of(mira)
    signed_in = sign_in(browser, apps["Labviewer"])
    ours = signed_in.claims
    stranger = jwk.JWK.generate(kty="RSA", size=2048)
    header = json.loads(
        base64.urlsafe_b64decode(signed_in.tokens["id_token"].split(".")[0] + "==")
    )  # our kid, someone else's key
    token = jwt.JWT(header=header, claims=ours)
    token.make_signed_token(stranger)
    response = browser.get(logout_url(id_token_hint=token.serialize()))
    assert refused(response) == "invalid_id_token_hint"
    assert logged_in(browser) and nothing_ended()


def test_nobody_logged_in_goes_back_to_a_registered_uri_only(apps):
    browser = Browser()
    response = browser.get(
        logout_url(
            client_id=apps["Labviewer"].client_id,
            post_logout_redirect_uri=AFTER_LOGOUT,
            state="s-1",
        )
    )
    assert (response.status_code, response["Location"]) == (
        302,
        "https://rp.example.nl/logged-out?state=s-1",
    )
    response = browser.get(logout_url())
    assert (response.status_code, response["Location"]) == (302, "/inloggen")


REDIRECT = "https://rp.example.nl/callback"
