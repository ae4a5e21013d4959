"""Single sign-on helpers and fixtures (tests/oidc/conftest.py imports the fixtures): two
organisations, people in them, a registered application, a browser session as complete_login
leaves it, and a relying party's side of the code flow (PKCE, the token request) for in-process
tests. The relying party in its own process is tests/oidc/rp.py."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from importlib import import_module
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.conf import settings
from django.test import Client as Browser

from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.organisations.models import Organisation

REDIRECT = "https://rp.example.nl/callback"
PASSWORD = "Sterk-wachtwoord-2026"


@pytest.fixture(autouse=True)
def issuer(settings):
    settings.SITE_URL = "https://zorgsleutel.test"
    return settings.SITE_URL


@pytest.fixture
def care(db):
    return Organisation.objects.create(
        name="Zorggroep Noord", kind=Organisation.CARE_PROVIDER, ura="90000111", state="validated"
    )


@pytest.fixture
def business(db):
    return Organisation.objects.create(
        name="Bedrijf Zuid BV", kind=Organisation.BUSINESS, kvk_number="12345678"
    )


def member_of(*organisations, email: str, name: str = "Mira van der Berg", role="member"):
    """An active person with an accepted, active membership of each organisation."""
    user = User.objects.create(email=email, name=name, state=User.ACTIVE)
    user.set_password(PASSWORD)
    user.save()
    for organisation in organisations:
        Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def mira(care):
    return member_of(care, email="mira@noord.nl")


@pytest.fixture
def operator(db):
    return User.objects.create(
        email="ops@zorgsleutel.test", name="Otto Operator", state=User.ACTIVE, is_operator=True
    )


@dataclass
class Registered:
    client: object
    client_id: str
    secret: str


def register(operator, organisations, *, name="Declaratieportaal", uris=REDIRECT, **options):
    from zorgsleutel.oidc import clients

    made = clients.register_client(
        actor=operator,
        name=name,
        redirect_uris=uris,
        organisations=list(organisations),
        minimum_acr=options.pop("minimum_acr", "low"),
        **options,
    )
    return Registered(made.client, made.client_id, made.secret)


@pytest.fixture
def app(operator, care):
    """Declaratieportaal, registered for Zorggroep Noord only."""
    return register(operator, [care])


def log_in(client, person, means: str = "sms", authenticator: str = "", *, consented=True):
    """A browser session as complete_login leaves it (means, acr, amr, login time); unless
    `consented` is False, with the consent the consent page leaves for every application
    registered so far (`consent_to`): tests of other things skip that page, whose own tests
    (tests/oidc/test_consent.py) log in with consented=False."""
    if consented:
        from zorgsleutel.oidc.models import Client

        consent_to(person, *Client.objects.all())
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from zorgsleutel.authn import sessions

    request = RequestFactory().get("/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore()
    request.user = AnonymousUser()
    sessions.complete_login(request, person, means, authenticator=authenticator)
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key
    return request.session.session_key


def consent_to(person, *clients, scopes=("openid", "profile", "email", "roles"), organisation=None):
    """The person's consent to these applications (models.Consent, as "Toestaan" leaves it);
    `organisation`: the one remembered for them (None: the person chooses when several may)."""
    from zorgsleutel.core import clock
    from zorgsleutel.oidc.models import Consent

    for found in clients:
        client = getattr(found, "client", found)  # a Registered or a Client
        Consent.objects.update_or_create(
            user=person,
            client=client,
            defaults={
                "scopes": list(scopes),
                "organisation": organisation,
                "granted_at": clock.now(),
                "updated_at": clock.now(),
            },
        )


def consent_page(response) -> str:
    """The ticket of a consent page (asserting it is one)."""
    import re

    assert response.status_code == 200, response.status_code
    found = re.search(r'name="ticket" value="([^"]+)"', response.content.decode())
    assert found, "not a consent page"
    return found.group(1)


def allow(client, url: str, response, answer: str = "allow"):
    """Press "Toestaan" (or `answer="refuse"`: "Weigeren") on the consent page `response`
    showed for the request at `url`."""
    return client.post(url, {"ticket": consent_page(response), "answer": answer})


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Asked:
    url: str
    state: str
    nonce: str
    verifier: str


def authorize_url(client_id: str, **override) -> Asked:
    verifier, challenge = pkce()
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "scope": "openid profile email",
        "state": secrets.token_urlsafe(12),
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(override)
    params = {k: v for k, v in params.items() if v is not None}
    return Asked(
        "/oidc/authorize?" + urlencode(params),
        params.get("state", ""),
        params.get("nonce", ""),
        verifier,
    )


def answer(response) -> dict:
    """The parameters of a redirect to the application (query, or fragment)."""
    assert response.status_code == 302, response.status_code
    location = urlsplit(response["Location"])
    params = parse_qs(location.fragment or location.query)
    return {k: v[0] for k, v in params.items()} | {
        "_to": f"{location.scheme}://{location.netloc}{location.path}"
    }


def exchange(client, app: Registered, code: str, verifier: str, **override):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": app.client_id,
        "client_secret": app.secret,
    }
    data.update(override)
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post("/oidc/token", data)
    return response.status_code, json.loads(response.content)


def code_for(client, app: Registered, **override) -> tuple[str, Asked]:
    asked = authorize_url(app.client_id, **override)
    found = answer(client.get(asked.url))
    assert "code" in found, found
    return found["code"], asked


def claims_of(id_token: str) -> dict:
    """The ID token's claims, its signature checked against the published key set."""
    from jwcrypto import jwk, jwt

    from zorgsleutel.oidc import keys

    key_set = jwk.JWKSet.from_json(json.dumps(keys.key_set()))
    return json.loads(jwt.JWT(jwt=id_token, key=key_set, check_claims={}).claims)


# --- Logout (tests/oidc/test_logout.py, test_endsession.py) ----------------------------------

BACKCHANNEL = "https://rp.example.nl/backchannel"
AFTER_LOGOUT = "https://rp.example.nl/logged-out"


def app_with_logout(operator, organisations, name: str, *, backchannel: bool = True):
    return register(
        operator,
        organisations,
        name=name,
        backchannel_logout_uri=BACKCHANNEL.replace("rp.", f"{name.lower()}.")
        if backchannel
        else "",
        post_logout_redirect_uris=AFTER_LOGOUT,
    )


@dataclass
class SignedIn:
    browser: Browser
    tokens: dict
    claims: dict


def browser_of(person, means: str = "sms") -> Browser:
    browser = Browser()
    log_in(browser, person, means)
    return browser


def sign_in(browser: Browser, app, organisation=None) -> SignedIn:
    """The code flow in `browser`'s session (choosing `organisation` when asked), exchanged."""
    asked = authorize_url(app.client_id)
    response = browser.get(asked.url)
    if response.status_code == 200:  # several organisations: the choice
        response = browser.post(asked.url, {"organisation": str(organisation.public_id)})
    found = answer(response)
    assert found["_to"] == REDIRECT and "code" in found, found
    status, tokens = exchange(browser, app, found["code"], asked.verifier)
    assert status == 200, tokens
    return SignedIn(browser, tokens, claims_of(tokens["id_token"]))


def userinfo_status(browser: Browser, signed_in: SignedIn) -> int:
    response = browser.get(
        "/oidc/userinfo",
        headers={"authorization": f"Bearer {signed_in.tokens['access_token']}"},
    )
    return response.status_code
