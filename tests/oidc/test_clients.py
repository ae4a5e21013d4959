"""Operatorconsole → Single sign-on: registering an application (its secret shown once, kept as a
hash), the form's errors all at once, deleting one (asks first), and who may."""

from __future__ import annotations

import hashlib
import re

import pytest

from confirmpages import DANGER, confirmation, messages_of
from sso import REDIRECT, code_for, exchange, log_in, member_of
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import Client, SignIn

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Labviewer",
    "redirect_uris": "https://lab.example.nl/oidc/callback\r\nhttps://lab.example.nl/alt",
    "minimum_acr": "substantial",
    "subject_type": "pairwise",
    "backchannel_logout_uri": "https://lab.example.nl/oidc/backchannel",
    "post_logout_redirect_uris": "https://lab.example.nl/bye\r\nhttps://lab.example.nl/",
    "allowed_scopes": ["email", "dezi"],
}


def test_an_operator_registers_an_application_and_reads_its_secret_once(
    client, operator, care, business
):
    log_in(client, operator, "app", authenticator=_app(operator))
    response = client.post("/operator/single-sign-on/nieuw", {**FORM, "organisations": [care.pk]})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")  # never_cache: no copy kept
    html = response.content.decode()
    client_id = re.search(r'<code id="client-id">([^<]+)</code>', html).group(1)
    secret = re.search(r'<code id="client-secret">([^<]+)</code>', html).group(1)
    assert "<h1>Labviewer is geregistreerd</h1>" in html
    assert "alleen deze pagina toont het" in html
    assert len(secret) == 43

    client_row = Client.objects.select_related("application").get()
    application = client_row.application
    assert (application.client_id, application.name) == (client_id, "Labviewer")
    assert application.redirect_uris == (
        "https://lab.example.nl/oidc/callback https://lab.example.nl/alt"
    )
    assert application.client_secret == "sha256$" + hashlib.sha256(secret.encode()).hexdigest()
    assert (client_row.minimum_acr, client_row.subject_type, client_row.sector) == (
        "substantial",
        "pairwise",
        client_id,
    )
    assert list(client_row.organisations.all()) == [care]
    assert client_row.allowed_scopes == ["openid", "email", "dezi"]
    assert (client_row.backchannel_logout_uri, client_row.post_logout_redirect_uris) == (
        "https://lab.example.nl/oidc/backchannel",
        "https://lab.example.nl/bye https://lab.example.nl/",
    )

    # The application's page never shows the secret again.
    page = client.get(f"/operator/single-sign-on/{client_row.public_id}").content.decode()
    assert client_id in page and secret not in page
    assert "<code>https://lab.example.nl/oidc/backchannel</code>" in page
    assert "<li><code>https://lab.example.nl/bye</code></li>" in page
    assert (
        '<ul id="allowed-scopes"><li><code>openid</code></li><li><code>email</code></li>'
        "<li><code>dezi</code></li></ul>"
    ) in page
    listing = client.get("/operator/single-sign-on").content.decode()
    assert "Labviewer" in listing and secret not in listing

    # Zorggroep Noord's administrators read that it may receive their people; Bedrijf Zuid's
    # read nothing of it.
    (event,) = AuditEvent.objects.filter(action="sso_client.registered")
    assert (event.organisation, event.actor, event.target) == (
        care.audit_ref,
        operator.audit_ref,
        client_row.audit_ref,
    )
    assert event.details == {
        "name": "Labviewer",
        "client_id": client_id,
        "redirect_uris": ["https://lab.example.nl/oidc/callback", "https://lab.example.nl/alt"],
        "minimum_acr": "substantial",
        "subject_type": "pairwise",
        "url": "",
        "logo": False,
        "id_token_algorithm": "RS256",
        "backchannel_logout_uri": "https://lab.example.nl/oidc/backchannel",
        "post_logout_redirect_uris": ["https://lab.example.nl/bye", "https://lab.example.nl/"],
        "allowed_scopes": ["openid", "email", "dezi"],
        "token_endpoint_auth_method": "client_secret",
    }
    assert not AuditEvent.objects.filter(organisation=business.audit_ref).exists()


def _app(user) -> str:
    from appids import app_id

    return app_id(user).public_id


def test_the_form_sent_empty_says_everything_at_once(client, operator):
    log_in(client, operator, "app", authenticator=_app(operator))
    response = client.post("/operator/single-sign-on/nieuw", {})
    html = response.content.decode()
    assert "<title>Fout: Applicatie registreren" in html
    assert "Er zijn 4 fouten in het formulier" in html
    for message in [
        "Vul de naam van de applicatie in.",
        "Vul ten minste één redirect-URI in.",
        "Kies de organisaties van wie de mensen deze applicatie mag ontvangen.",
        "Kies een betrouwbaarheidsniveau.",
    ]:
        assert f'">{message}</a></li>' in html  # in the summary, linked to its field
    assert Client.objects.count() == 0


ELEVEN = "\n".join(f"https://lab.example.nl/{n}" for n in range(11))


@pytest.mark.parametrize(
    ("uris", "message"),
    [
        ("http://lab.example.nl/cb", "een redirect-URI begint met https://."),
        ("https://lab.example.nl/cb#top", "een redirect-URI heeft geen fragment (#)."),
        ("https://*.example.nl/cb", "een redirect-URI heeft geen jokertekens."),
        ("https://me:pw@x.nl/cb", "een redirect-URI heeft geen gebruikersnaam of wachtwoord."),
        ("javascript:alert(1)", "geen bruikbaar adres."),
        ("https://x.nl/cb\nhttps://x.nl/cb", "Vul elke redirect-URI één keer in."),
        (ELEVEN, "Vul ten hoogste 10 redirect-URI's in."),
    ],
)  # fmt: skip
def test_redirect_uris_are_https_exact_and_few(client, operator, care, uris, message):
    log_in(client, operator, "app", authenticator=_app(operator))
    response = client.post(
        "/operator/single-sign-on/nieuw",
        {**FORM, "redirect_uris": uris, "organisations": [care.pk]},
    )
    html = response.content.decode().replace("&#x27;", "'")
    assert "Er is 1 fout in het formulier" in html
    if "\n" not in uris:  # a message about one address names it first
        message = f"{uris}: {message}"
    assert message in html
    assert Client.objects.count() == 0


def test_ten_redirect_uris_and_loopback_http_in_development_are_fine(client, operator, care):
    log_in(client, operator, "app", authenticator=_app(operator))
    uris = "\n".join(f"https://lab.example.nl/{n}" for n in range(9)) + "\nhttp://127.0.0.1:8002/cb"
    response = client.post(
        "/operator/single-sign-on/nieuw",
        {**FORM, "redirect_uris": uris, "organisations": [care.pk]},
    )
    assert "is geregistreerd" in response.content.decode()


def test_without_debug_a_loopback_http_redirect_uri_is_refused(settings):
    from zorgsleutel.oidc import clients

    assert settings.OIDC_LOOPBACK_HTTP_REDIRECTS  # DEBUG=1 in the tests' environment
    settings.OIDC_LOOPBACK_HTTP_REDIRECTS = False
    _uris, errors = clients.redirect_uri_errors("http://127.0.0.1:8002/cb")
    assert [str(e.message) for e in errors] == [
        "http://127.0.0.1:8002/cb: een redirect-URI begint met https://."
    ]


@pytest.mark.parametrize("who", ["administrator", "member", "anonymous"])
def test_only_operators_reach_the_pages(client, care, who):
    if who != "anonymous":
        person = member_of(care, email=f"{who}@noord.nl", role=who)
        log_in(client, person, "app", authenticator=_app(person))
    for path, login in [
        ("/operator/single-sign-on", "/inloggen?next=%2Foperator%2Fsingle-sign-on"),
        ("/operator/single-sign-on/nieuw", "/inloggen?next=%2Foperator%2Fsingle-sign-on%2Fnieuw"),
    ]:
        response = client.get(path)
        if who == "anonymous":
            assert response["Location"] == login  # back to the page after the login
        else:
            assert response.status_code == 403
    response = client.post("/operator/single-sign-on/nieuw", {**FORM, "organisations": [care.pk]})
    assert Client.objects.count() == 0
    if who != "anonymous":
        denied = AuditEvent.objects.filter(action="permission.denied").order_by("seq").last()
        assert denied.details["action"] == "sso_clients.manage"


def test_deleting_asks_first_then_revokes_everything(client, operator, app, mira, care):
    log_in(client, mira)
    code, asked = code_for(client, app)
    tokens = exchange(client, app, code, asked.verifier)[1]
    client.logout()

    log_in(client, operator, "app", authenticator=_app(operator))
    path = f"/operator/single-sign-on/{app.client.public_id}/verwijderen"
    page = client.post(path)
    assert confirmation(page) == {
        "status": 200,
        "title": "De applicatie Declaratieportaal verwijderen?",
        "consequences": [
            "Niemand kan dan nog via Zorgsleutel inloggen bij Declaratieportaal: de client-ID en "
            "het geheim werken niet meer, en de toegangstokens die de applicatie heeft, worden "
            "ingetrokken.",
            "Dit kunt u niet ongedaan maken; de applicatie moet dan opnieuw worden geregistreerd.",
        ],
        "items": [],
        "warning": "",
        "button": ("Declaratieportaal verwijderen", DANGER),
        "carries": {"bevestigd": "ja"},
        "csrf": True,
        "back": f"/operator/single-sign-on/{app.client.public_id}",
    }
    assert Client.objects.count() == 1  # asking changed nothing

    response = client.post(path, {"bevestigd": "ja"}, follow=True)
    assert messages_of(response) == ["De applicatie Declaratieportaal is verwijderd."]
    assert Client.objects.count() == SignIn.objects.count() == 0
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 401
    status, _body = exchange(client, app, code, asked.verifier)
    assert status == 401  # invalid_client: it exists no more
    (event,) = AuditEvent.objects.filter(action="sso_client.deleted")
    assert (event.organisation, event.details) == (
        care.audit_ref,
        {"name": "Declaratieportaal", "client_id": app.client_id},
    )


def test_a_manager_cannot_delete_even_with_a_confirming_post(client, app, care):
    manager = member_of(care, email="baas@noord.nl", role="manager")
    log_in(client, manager, "app", authenticator=_app(manager))
    path = f"/operator/single-sign-on/{app.client.public_id}/verwijderen"
    assert client.post(path, {"bevestigd": "ja"}).status_code == 403
    assert Client.objects.count() == 1


def test_the_pages_in_english(client, operator, care):
    log_in(client, operator, "app", authenticator=_app(operator))
    client.cookies["django_language"] = "en"
    html = client.get("/operator/single-sign-on/nieuw").content.decode()
    assert "<h1>Register an application</h1>" in html
    assert "Minimum level of assurance" in html
    assert REDIRECT not in html


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("backchannel_logout_uri", "http://lab.example.nl/logout",
         "http://lab.example.nl/logout: een back-channel-logout-URI begint met https://."),
        ("backchannel_logout_uri", "https://lab.example.nl/logout#x",
         "https://lab.example.nl/logout#x: een back-channel-logout-URI heeft geen fragment (#)."),
        ("backchannel_logout_uri", "https://*.example.nl/logout",
         "https://*.example.nl/logout: een back-channel-logout-URI heeft geen jokertekens."),
        ("post_logout_redirect_uris", "http://lab.example.nl/bye",
         "http://lab.example.nl/bye: een redirect-URI begint met https://."),
        ("post_logout_redirect_uris", "https://x.nl/bye\nhttps://x.nl/bye",
         "Vul elke redirect-URI één keer in."),
        ("post_logout_redirect_uris", ELEVEN, "Vul ten hoogste 10 redirect-URI's in."),
    ],
)  # fmt: skip
def test_logout_uris_are_checked_like_redirect_uris(client, operator, care, field, value, message):
    log_in(client, operator, "app", authenticator=_app(operator))
    response = client.post(
        "/operator/single-sign-on/nieuw", {**FORM, field: value, "organisations": [care.pk]}
    )
    html = response.content.decode().replace("&#x27;", "'")
    assert "Er is 1 fout in het formulier" in html
    assert message in html
    assert Client.objects.count() == 0


def test_logout_uris_are_optional_and_loopback_http_is_for_development(settings, operator, care):
    from zorgsleutel.core.errors import DomainError
    from zorgsleutel.oidc import clients

    bare = clients.register_client(
        actor=operator, name="Rooster", redirect_uris=REDIRECT, organisations=[care],
        minimum_acr="low",
    )  # fmt: skip
    assert (bare.client.backchannel_logout_uri, bare.client.post_logout_redirect_uris) == ("", "")
    local = clients.register_client(
        actor=operator, name="Demo", redirect_uris=REDIRECT, organisations=[care],
        minimum_acr="low", backchannel_logout_uri="http://127.0.0.1:8002/backchannel",
    )  # fmt: skip
    assert local.client.backchannel_logout_uri == "http://127.0.0.1:8002/backchannel"
    settings.OIDC_LOOPBACK_HTTP_REDIRECTS = False
    with pytest.raises(DomainError) as refused:
        clients.register_client(
            actor=operator, name="Demo", redirect_uris=REDIRECT, organisations=[care],
            minimum_acr="low", backchannel_logout_uri="http://127.0.0.1:8002/backchannel",
        )  # fmt: skip
    assert refused.value.code == "backchannel_logout_uri_invalid"
    assert Client.objects.count() == 2
