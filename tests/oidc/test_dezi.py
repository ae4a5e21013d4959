"""Scope `dezi` (docs/oidc.md, "Claims"): after a login with a UZI card, the card's Dezi-style
claims in the ID token and at userinfo; only for the organisation the card names (a card of
one organisation never speaks for another), only when asked and allowed, never without a card.
And the scopes an application may receive (`Client.allowed_scopes`): the others are dropped."""

from __future__ import annotations

import json

import pytest
from django.test import Client as Browser
from oauth2_provider.models import get_application_model

from applicants import card as uzi_card
from applicants import present
from smartcardwork import page_code
from sso import (
    REDIRECT,
    answer,
    authorize_url,
    claims_of,
    consent_to,
    exchange,
    log_in,
    member_of,
    register,
)
from zorgsleutel.authn import sessions
from zorgsleutel.oidc import clients
from zorgsleutel.oidc.models import Client, SignIn
from zorgsleutel.organisations.models import Organisation

# The card's answer reaches the waiting page after its commit (authn/challenges.py).
pytestmark = pytest.mark.django_db(transaction=True)

DEZI = ["openid", "profile", "email", "dezi"]  # the operator allowed it scope `dezi`
UZI_NUMBER = "900099001"

CARD_OF_NOORD = {
    "dezi_nummer": "900099001",
    "abonnee_nummer": "90000111",
    "abonnee_naam": "Zorggroep Noord",
    "rol_code": "01.015",
    "rol_naam": "Arts",
    "loa_dezi": "http://eidas.europa.eu/LoA/high",
}
DEZI_CLAIMS = set(CARD_OF_NOORD)


@pytest.fixture
def lab(db):
    return Organisation.objects.create(
        name="Lab Oost", kind=Organisation.CARE_PROVIDER, ura="90000222", state="validated"
    )


def log_in_with_uzi_card(browser, person, hierarchy, card_key, **card):
    """Log `person` in on the smartcard login page with a UZI card bound to them (their UZI
    number), issued by `hierarchy` with `card`'s fields (ura, organisation, role, ...)."""
    person.uzi_number = UZI_NUMBER
    person.save()
    certificate = uzi_card(hierarchy, card_key, uzi_number=UZI_NUMBER, **card)
    shown = page_code(browser.get("/inloggen/smartcard"))
    assert present(certificate, card_key, shown["code"]).status_code == 200
    assert browser.get(shown["status"]).json()["status"] == "ok"


def signed_in(browser, app, scope: str, organisation=None) -> tuple[int, dict]:
    """The code flow for `scope` (choosing `organisation` when asked): the token response."""
    asked = authorize_url(app.client_id, scope=scope)
    response = browser.get(asked.url)
    if response.status_code == 200:  # several organisations: the choice
        response = browser.post(asked.url, {"organisation": str(organisation.public_id)})
    found = answer(response)
    assert "code" in found, found
    return exchange(browser, app, found["code"], asked.verifier)


def userinfo(browser, tokens) -> dict:
    response = browser.get(
        "/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200
    return json.loads(response.content)


def test_a_uzi_card_login_gives_its_dezi_claims(
    client, operator, mira, care, hierarchy, card_key, trust
):
    app = register(operator, [care], allowed_scopes=DEZI)
    consent_to(mira, app, scopes=["openid", "dezi"], organisation=care)
    log_in_with_uzi_card(
        client, mira, hierarchy, card_key, ura="90000111", organisation="Zorggroep Noord",
        role="01.015",
    )  # fmt: skip
    # The session keeps the card's facts, never its certificate.
    assert client.session[sessions.CARD] == {
        "uzi_number": "900099001",
        "ura": "90000111",
        "organisation_name": "Zorggroep Noord",
        "role": "01.015",
        "pas_type": "Z",
    }
    status, tokens = signed_in(client, app, "openid dezi")
    assert (status, tokens["scope"]) == (200, "openid dezi")
    claims = claims_of(tokens["id_token"])
    assert {name: claims[name] for name in DEZI_CLAIMS} == CARD_OF_NOORD
    assert (claims["acr"], claims["amr"]) == (
        "http://eidas.europa.eu/LoA/high",
        ["sc", "hwk", "pin"],
    )
    assert userinfo(client, tokens) | {"sub": "-"} == {
        "sub": "-",
        "organization": {"id": str(care.public_id), "name": "Zorggroep Noord", "ura": "90000111"},
        "dezi_nummer": "900099001",
        "abonnee_nummer": "90000111",
        "abonnee_naam": "Zorggroep Noord",
        "rol_code": "01.015",
        "rol_naam": "Arts",
        "loa_dezi": "http://eidas.europa.eu/LoA/high",
    }
    assert SignIn.objects.get().dezi == {
        "uzi_number": "900099001",
        "ura": "90000111",
        "organisation_name": "Zorggroep Noord",
        "role": "01.015",
        "pas_type": "Z",
    }
    # A refresh's ID token says the same: the sign-in keeps what the card said.
    response = Browser().post(
        "/oidc/token",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": app.client_id,
            "client_secret": app.secret,
        },
    )
    refreshed = json.loads(response.content)
    assert (response.status_code, refreshed["scope"]) == (200, "openid dezi")
    claims = claims_of(refreshed["id_token"])
    assert {name: claims[name] for name in DEZI_CLAIMS} == CARD_OF_NOORD


@pytest.mark.parametrize(
    "acting_for, expected",
    [
        ("care", {}),  # the card is Lab Oost's: it does not speak for Zorggroep Noord
        ("lab", {
            "dezi_nummer": "900099001",
            "abonnee_nummer": "90000222",
            "abonnee_naam": "Lab Oost",
            "rol_code": "01.015",
            "rol_naam": "Arts",
            "loa_dezi": "http://eidas.europa.eu/LoA/high",
        }),
    ],
)  # fmt: skip
def test_a_card_speaks_only_for_its_own_organisation(
    client,
    operator,
    care,
    lab,
    hierarchy,
    card_key,
    trust,
    acting_for,
    expected,
):
    """Tim works for both; his UZI card is Lab Oost's. Acting for Zorggroep Noord, the
    application learns nothing of the card; acting for Lab Oost, all of it."""
    tim = member_of(care, lab, email="tim@noord.nl", name="Tim Twee")
    app = register(operator, [care, lab], allowed_scopes=DEZI)
    organisation = {"care": care, "lab": lab}[acting_for]
    consent_to(tim, app, scopes=["openid", "dezi"])
    log_in_with_uzi_card(
        client, tim, hierarchy, card_key, ura="90000222", organisation="Lab Oost", role="01.015"
    )
    status, tokens = signed_in(client, app, "openid dezi", organisation)
    assert (status, tokens["scope"]) == (200, "openid dezi")
    claims = claims_of(tokens["id_token"])
    assert claims["organization"]["name"] == organisation.name
    assert {name: claims[name] for name in DEZI_CLAIMS if name in claims} == expected
    found = userinfo(client, tokens)
    assert {name: found[name] for name in DEZI_CLAIMS if name in found} == expected


def test_an_application_registered_for_another_organisation_gets_no_dezi_claims(
    client,
    operator,
    care,
    lab,
    hierarchy,
    card_key,
    trust,
):
    """The card is Lab Oost's; the application may receive Zorggroep Noord's people only."""
    tim = member_of(care, lab, email="tim@noord.nl", name="Tim Twee")
    app = register(operator, [care], allowed_scopes=DEZI)
    consent_to(tim, app, scopes=["openid", "dezi"], organisation=care)
    log_in_with_uzi_card(client, tim, hierarchy, card_key, ura="90000222", organisation="Lab Oost")
    status, tokens = signed_in(client, app, "openid dezi")
    assert status == 200
    claims = claims_of(tokens["id_token"])
    assert claims["organization"]["ura"] == "90000111"
    assert DEZI_CLAIMS & set(claims) == set()
    assert DEZI_CLAIMS & set(userinfo(client, tokens)) == set()


def test_a_medewerkerpas_names_no_profession(
    client, operator, mira, care, hierarchy, card_key, trust
):
    app = register(operator, [care], allowed_scopes=DEZI)
    consent_to(mira, app, scopes=["openid", "dezi"], organisation=care)
    log_in_with_uzi_card(
        client, mira, hierarchy, card_key, ura="90000111", organisation="Zorggroep Noord",
        pas_type="N",
    )  # fmt: skip
    _status, tokens = signed_in(client, app, "openid dezi")
    assert userinfo(client, tokens) | {"sub": "-"} == {
        "sub": "-",
        "organization": {"id": str(care.public_id), "name": "Zorggroep Noord", "ura": "90000111"},
        "dezi_nummer": "900099001",
        "abonnee_nummer": "90000111",
        "abonnee_naam": "Zorggroep Noord",
        "rol_code": "00.000",
        "loa_dezi": "http://eidas.europa.eu/LoA/high",
    }


def test_without_the_scope_no_dezi_claims(client, operator, mira, care, hierarchy, card_key, trust):
    app = register(operator, [care], allowed_scopes=DEZI)
    consent_to(mira, app, scopes=["openid", "dezi"], organisation=care)
    log_in_with_uzi_card(client, mira, hierarchy, card_key, ura="90000111")
    status, tokens = signed_in(client, app, "openid")
    assert (status, tokens["scope"]) == (200, "openid")
    assert DEZI_CLAIMS & set(claims_of(tokens["id_token"])) == set()
    assert DEZI_CLAIMS & set(userinfo(client, tokens)) == set()


def test_without_a_uzi_card_no_dezi_claims(client, operator, mira, care):
    app = register(operator, [care], allowed_scopes=DEZI)
    log_in(client, mira)  # password and SMS code
    consent_to(mira, app, scopes=["openid", "dezi"], organisation=care)
    assert sessions.CARD not in client.session
    status, tokens = signed_in(client, app, "openid dezi")
    assert (status, tokens["scope"]) == (200, "openid dezi")
    assert DEZI_CLAIMS & set(claims_of(tokens["id_token"])) == set()
    assert DEZI_CLAIMS & set(userinfo(client, tokens)) == set()
    assert SignIn.objects.get().dezi == {}


def test_a_scope_the_application_is_not_allowed_is_dropped(
    client,
    operator,
    mira,
    care,
    hierarchy,
    card_key,
    trust,
):
    """Registered with the defaults (openid, profile, email): `dezi` and `roles` asked are
    ignored, not refused; the token response says what was granted, and the consent page asks
    for nothing more."""
    app = register(operator, [care])
    assert Client.objects.get().allowed_scopes == ["openid", "profile", "email"]
    consent_to(mira, app, scopes=["openid", "profile"], organisation=care)
    log_in_with_uzi_card(client, mira, hierarchy, card_key, ura="90000111")
    status, tokens = signed_in(client, app, "openid profile dezi roles")
    assert (status, tokens["scope"]) == (200, "openid profile")
    claims = claims_of(tokens["id_token"])
    assert DEZI_CLAIMS & set(claims) == set()
    assert ("roles" in claims, claims["name"]) == (False, "Mira van der Berg")
    assert SignIn.objects.get().scope == "openid profile"


def test_a_scope_not_allowed_is_dropped_before_the_consent_page(client, operator, mira, care):
    app = register(operator, [care], allowed_scopes=["openid", "email"])
    log_in(client, mira, consented=False)
    asked = authorize_url(app.client_id, scope="openid profile email dezi")
    html = client.get(asked.url).content.decode()
    assert "uw e-mailadres" in html
    assert "uw naam" not in html and "UZI" not in html


def test_the_allowed_scopes_are_checked(operator, care):
    with pytest.raises(clients.DomainError) as refused:
        register(operator, [care], allowed_scopes=["openid", "phone"])
    assert (refused.value.code, refused.value.field) == ("scopes_invalid", "allowed_scopes")
    assert Client.objects.count() == 0
    # openid always, whether ticked or not; the others in the form's order.
    made = register(operator, [care], allowed_scopes=["dezi", "roles"])
    assert made.client.allowed_scopes == ["openid", "roles", "dezi"]


def test_the_console_form_refuses_a_scope_not_in_its_list(client, operator, care):
    from appids import app_id

    log_in(client, operator, "app", authenticator=app_id(operator).public_id)
    response = client.post(
        "/operator/single-sign-on/nieuw",
        {
            "name": "Labviewer",
            "redirect_uris": "https://lab.example.nl/oidc/callback",
            "organisations": [care.pk],
            "minimum_acr": "low",
            "allowed_scopes": ["email", "phone"],
        },
    )
    html = response.content.decode()
    assert "Kies scopes uit de lijst." in html
    assert Client.objects.count() == 0


def test_applications_registered_before_keep_every_scope_they_had():
    """Migration 0007_dezi: an application registered before scopes were chosen keeps
    receiving what it could (openid, profile, email, roles); `dezi` it is not given."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def migrate(targets):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor

    executor = migrate([("oidc", "0006_owner")])
    try:
        before = executor.loader.project_state([("oidc", "0006_owner")]).apps
        application = get_application_model().objects.create(
            name="Oud",
            redirect_uris=REDIRECT,
            client_type="confidential",
            authorization_grant_type="authorization-code",
        )
        before.get_model("oidc", "Client").objects.create(
            application_id=application.pk, sector="oud", created_at="2026-12-01T08:00:00Z"
        )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes("oidc"))
    assert Client.objects.get().allowed_scopes == ["openid", "profile", "email", "roles"]
