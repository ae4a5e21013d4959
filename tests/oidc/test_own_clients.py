"""Beheer → Applicaties (single sign-on): an organisation's administrators register their own
organisation's applications (for that organisation alone, the secret shown once), see every
application that may receive their people, and delete the ones they registered (asks first).
Managers, members, operators and the other organisation's administrator: refused, with the
exact code and nothing changed; another organisation's application is not found here (404)."""

from __future__ import annotations

import hashlib
import json
import re

import pytest

from appids import app_id
from confirmpages import DANGER, confirmation, messages_of
from sso import (
    REDIRECT,
    authorize_url,
    code_for,
    exchange,
    log_in,
    member_of,
    register,
)
from zorgsleutel.core.errors import DomainError, NotFound, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc import clients
from zorgsleutel.oidc.models import Client, SignIn

pytestmark = pytest.mark.django_db

FORM = {
    "name": "Roosterplanner",
    "redirect_uris": REDIRECT,
    "minimum_acr": "substantial",
    "subject_type": "pairwise",
    "backchannel_logout_uri": "",
    "post_logout_redirect_uris": "",
    "allowed_scopes": ["profile", "roles"],
}
FORBIDDEN = "U mag dit niet doen."


@pytest.fixture
def anna(care):
    """Zorggroep Noord's administrator."""
    return member_of(care, email="anna@noord.nl", name="Anna Admin", role="administrator")


@pytest.fixture
def bob(business):
    """Bedrijf Zuid's administrator: the other organisation."""
    return member_of(business, email="bob@zuid.nl", name="Bob Zuid", role="administrator")


def _as(client, person):
    log_in(client, person, "app", authenticator=app_id(person).public_id)


def _pages(organisation) -> str:
    return f"/beheer/{organisation.public_id}/applicaties"


def _own(actor, organisation, name="Roosterplanner"):
    return register(actor, [organisation], name=name, owner=organisation)


def _denied() -> list[tuple[str, str, str]]:
    return [
        (e.organisation, e.details["action"], e.details["reason"])
        for e in AuditEvent.objects.filter(action="permission.denied").order_by("seq")
    ]


def test_an_administrator_registers_an_application_for_their_organisation_only(
    client, anna, care, business
):
    _as(client, anna)
    listing = client.get(_pages(care))
    assert listing.status_code == 200
    assert listing["Cache-Control"].startswith("max-age=0")
    html = listing.content.decode()
    assert "<h1>Applicaties (single sign-on) — Zorggroep Noord</h1>" in html
    assert "Nog geen applicaties geregistreerd." in html

    form = client.get(f"{_pages(care)}/nieuw").content.decode()
    assert "<h1>Applicatie registreren — Zorggroep Noord</h1>" in form
    assert 'name="organisations"' not in form  # for Zorggroep Noord alone
    assert "De applicatie ontvangt alleen actieve leden van Zorggroep Noord." in form

    # A forged organisations field is no field of this form: never read.
    response = client.post(f"{_pages(care)}/nieuw", {**FORM, "organisations": [business.pk]})
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("max-age=0")
    html = response.content.decode()
    assert "<h1>Roosterplanner is geregistreerd</h1>" in html
    assert "alleen deze pagina toont het" in html
    client_id = re.search(r'<code id="client-id">([^<]+)</code>', html).group(1)
    secret = re.search(r'<code id="client-secret">([^<]+)</code>', html).group(1)
    assert len(secret) == 43

    row = Client.objects.select_related("application").get()
    assert (row.application.client_id, row.application.name) == (client_id, "Roosterplanner")
    assert row.application.client_secret == "sha256$" + hashlib.sha256(secret.encode()).hexdigest()
    assert (row.owner, row.created_by, row.minimum_acr) == (care, anna, "substantial")
    assert row.allowed_scopes == ["openid", "profile", "roles"]
    assert list(row.organisations.all()) == [care]

    (event,) = AuditEvent.objects.filter(action="sso_client.registered")
    assert (event.organisation, event.actor, event.target) == (
        care.audit_ref,
        anna.audit_ref,
        row.audit_ref,
    )
    assert not AuditEvent.objects.filter(organisation=business.audit_ref).exists()

    # Listed with who registered it; its page never shows the secret again, and deletes.
    html = client.get(_pages(care)).content.decode()
    assert re.findall(r'data-client="([^"]+)"', html) == [str(row.public_id)]
    assert '<td data-label="Geregistreerd door">Anna Admin</td>' in html
    assert secret not in html
    page = client.get(f"{_pages(care)}/{row.public_id}").content.decode()
    assert client_id in page and secret not in page
    assert '<dd id="registered-by">Anna Admin</dd>' in page
    assert "Roosterplanner verwijderen</button>" in page


def test_the_form_sent_empty_says_everything_at_once_without_organisations(client, anna, care):
    _as(client, anna)
    html = client.post(f"{_pages(care)}/nieuw", {}).content.decode()
    assert "<title>Fout: Applicatie registreren" in html
    assert "Er zijn 3 fouten in het formulier" in html
    for message in [
        "Vul de naam van de applicatie in.",
        "Vul ten minste één redirect-URI in.",
        "Kies een betrouwbaarheidsniveau.",
    ]:
        assert f'">{message}</a></li>' in html
    assert "Kies de organisaties" not in html
    assert Client.objects.count() == 0
    assert not AuditEvent.objects.filter(action="sso_client.registered").exists()


def test_the_list_shows_the_operators_applications_but_never_another_organisations(
    client, anna, bob, operator, care, business
):
    ours = _own(anna, care, "Roosterplanner")
    shared = register(operator, [care, business], name="Labviewer")
    theirs = _own(bob, business, "Zuidportaal")
    _as(client, anna)
    html = client.get(_pages(care)).content.decode()
    assert re.findall(r'data-client="([^"]+)"', html) == [
        str(shared.client.public_id),  # Labviewer
        str(ours.client.public_id),  # Roosterplanner
    ]
    assert '<td data-label="Geregistreerd door">de operators van Zorgsleutel</td>' in html
    assert "Zuidportaal" not in html and theirs.client_id not in html

    # The operator's: seen, not deletable here, and nothing of the other organisation.
    page = client.get(f"{_pages(care)}/{shared.client.public_id}").content.decode()
    assert '<dd id="registered-by">de operators van Zorgsleutel</dd>' in page
    assert (
        "De operators van Zorgsleutel hebben deze applicatie geregistreerd; alleen zij wijzigen "
        "of verwijderen haar." in page
    )
    assert "verwijderen</button>" not in page
    assert "Bedrijf Zuid" not in page

    # The other organisation's: not found, whichever way it is asked for.
    other = f"{_pages(care)}/{theirs.client.public_id}"
    assert client.get(other).status_code == 404
    assert client.get(f"{other}/verwijderen").status_code == 404
    assert client.post(f"{other}/verwijderen").status_code == 404
    assert client.post(f"{other}/verwijderen", {"bevestigd": "ja"}).status_code == 404
    assert Client.objects.count() == 3
    assert not AuditEvent.objects.filter(action="sso_client.deleted").exists()


def test_deleting_the_organisations_own_asks_first_then_revokes_everything(
    client, anna, care, mira
):
    own = _own(anna, care, "Roosterplanner")
    log_in(client, mira)
    code, asked = code_for(client, own)
    tokens = exchange(client, own, code, asked.verifier)[1]
    client.logout()

    _as(client, anna)
    path = f"{_pages(care)}/{own.client.public_id}/verwijderen"
    for page in (client.get(path), client.post(path)):
        assert confirmation(page) == {
            "status": 200,
            "title": "De applicatie Roosterplanner verwijderen?",
            "consequences": [
                "Niemand kan dan nog via Zorgsleutel inloggen bij Roosterplanner: de client-ID "
                "en het geheim werken niet meer, en de toegangstokens die de applicatie heeft, "
                "worden ingetrokken.",
                "Dit kunt u niet ongedaan maken; de applicatie moet dan opnieuw worden "
                "geregistreerd.",
            ],
            "items": [],
            "warning": "",
            "button": ("Roosterplanner verwijderen", DANGER),
            "carries": {"bevestigd": "ja"},
            "csrf": True,
            "back": f"{_pages(care)}/{own.client.public_id}",
        }
    assert Client.objects.count() == 1  # asking changed nothing

    response = client.post(path, {"bevestigd": "ja"}, follow=True)
    assert response.redirect_chain == [(_pages(care), 302)]
    assert messages_of(response) == ["De applicatie Roosterplanner is verwijderd."]
    assert Client.objects.count() == SignIn.objects.count() == 0
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 401
    (event,) = AuditEvent.objects.filter(action="sso_client.deleted")
    assert (event.organisation, event.actor, event.details) == (
        care.audit_ref,
        anna.audit_ref,
        {
            "name": "Roosterplanner",
            "client_id": own.client_id,
            "names": {anna.audit_ref: "anna@noord.nl"},  # Zorggroep Noord knows its own
        },
    )


def test_an_operators_application_is_not_the_administrators_to_delete(
    client, anna, operator, care, business
):
    shared = register(operator, [care, business], name="Labviewer")
    _as(client, anna)
    path = f"{_pages(care)}/{shared.client.public_id}/verwijderen"
    for response in (client.get(path), client.post(path), client.post(path, {"bevestigd": "ja"})):
        assert response.status_code == 403
        assert "Alleen de operators van Zorgsleutel verwijderen een applicatie" in (
            response.content.decode()
        )
    assert Client.objects.get() == shared.client
    assert not AuditEvent.objects.filter(action="sso_client.deleted").exists()
    assert _denied() == [(care.audit_ref, "sso_clients.register", "sso_client_not_own")] * 3


@pytest.mark.parametrize("role", ["manager", "member"])
def test_managers_and_members_are_refused_and_nothing_changes(client, anna, care, role):
    own = _own(anna, care)
    person = member_of(care, email=f"{role}@noord.nl", role=role)
    _as(client, person)
    detail = f"{_pages(care)}/{own.client.public_id}"
    for response in (
        client.get(_pages(care)),
        client.get(f"{_pages(care)}/nieuw"),
        client.post(f"{_pages(care)}/nieuw", FORM),
        client.get(detail),
        client.get(f"{detail}/verwijderen"),
        client.post(f"{detail}/verwijderen", {"bevestigd": "ja"}),
    ):
        assert response.status_code == 403
        html = response.content.decode()
        assert FORBIDDEN in html and own.client_id not in html
    assert list(Client.objects.all()) == [own.client]
    assert _denied() == [(care.audit_ref, "sso_clients.register", "forbidden")] * 6


def test_the_other_organisations_administrator_and_an_operator_reach_nothing_here(
    client, anna, bob, operator, care
):
    own = _own(anna, care)
    detail = f"{_pages(care)}/{own.client.public_id}"
    for person in (bob, operator):
        _as(client, person)
        for response in (
            client.get(_pages(care)),
            client.post(f"{_pages(care)}/nieuw", FORM),
            client.get(detail),
            client.post(f"{detail}/verwijderen", {"bevestigd": "ja"}),
        ):
            assert response.status_code == 403
            assert own.client_id not in response.content.decode()
        client.logout()
    assert list(Client.objects.all()) == [own.client]
    assert _denied() == [(care.audit_ref, "sso_clients.register", "forbidden")] * 8


def test_the_flows_register_for_the_administrators_own_organisation_alone(
    anna, bob, operator, care, business
):
    """Below the pages: an administrator's registration for another organisation, or widened to
    one, is refused with its code; a registration without an owner is an operator's."""
    cases = [
        (anna, care, [care, business], "sso_client_other_organisation"),
        (anna, care, [business], "sso_client_other_organisation"),
        (anna, business, [business], "forbidden"),
        (bob, care, [care], "forbidden"),
        (anna, None, [care], "forbidden"),
    ]
    for actor, owner, organisations, code in cases:
        with pytest.raises(PermissionDenied) as refused:
            clients.register_client(
                actor=actor, name="Roosterplanner", redirect_uris=REDIRECT,
                organisations=organisations, minimum_acr="low", owner=owner,
            )  # fmt: skip
        assert refused.value.code == code
    assert Client.objects.count() == 0
    assert _denied() == [
        (care.audit_ref, "sso_clients.register", "sso_client_other_organisation"),
        (care.audit_ref, "sso_clients.register", "sso_client_other_organisation"),
        (business.audit_ref, "sso_clients.register", "forbidden"),
        (care.audit_ref, "sso_clients.register", "forbidden"),
        ("", "sso_clients.manage", "forbidden"),  # the operators' check, the platform's log
    ]

    # An operator still registers, for several organisations, owned by none.
    shared = register(operator, [care, business], name="Labviewer")
    assert (shared.client.owner, shared.client.created_by) == (None, operator)
    # The other organisation's administrator deletes nothing of Zorggroep Noord's.
    own = _own(anna, care)
    with pytest.raises(NotFound):
        clients.delete_client(actor=bob, public_id=own.client.public_id, organisation=business)
    with pytest.raises(DomainError) as refused:
        clients.delete_client(actor=bob, public_id=own.client.public_id, organisation=care)
    assert refused.value.code == "forbidden"
    assert Client.objects.count() == 2


NOT_ALLOWED = (
    "Roosterplanner is niet voor u beschikbaar: het wordt niet gebruikt door een organisatie "
    "waarvan u actief lid bent. Vraag de beheerder van uw organisatie als u denkt dat dat wel "
    "zou moeten."
)


def test_an_organisations_own_application_never_receives_another_organisations_people(
    client, anna, care, business, mira
):
    own = _own(anna, care)
    bea = member_of(business, email="bea@zuid.nl", name="Bea Zuid")
    log_in(client, bea)
    response = client.get(authorize_url(own.client_id).url)
    assert response.status_code == 403
    assert NOT_ALLOWED in response.content.decode()
    assert SignIn.objects.count() == 0
    client.logout()

    log_in(client, mira)  # Zorggroep Noord's: signed in
    code, asked = code_for(client, own)
    status, _tokens = exchange(client, own, code, asked.verifier)
    assert status == 200
    assert SignIn.objects.get().organisation == care


def test_the_operator_console_shows_who_registered_each(client, anna, operator, care):
    _own(anna, care, "Roosterplanner")
    register(operator, [care], name="Labviewer")
    _as(client, operator)
    html = client.get("/operator/single-sign-on").content.decode()
    assert re.findall(r'<td data-label="Geregistreerd door">([^<]*)</td>', html) == [
        "een operator",  # Labviewer
        "Zorggroep Noord",  # Roosterplanner
    ]


def test_beheer_links_to_the_applications_for_administrators_only(client, anna, care):
    link = f'<a href="{_pages(care)}">Applicaties (single sign-on)</a>'
    _as(client, anna)
    assert link in client.get(f"/beheer/{care.public_id}").content.decode()
    client.logout()
    manager = member_of(care, email="baas@noord.nl", role="manager")
    _as(client, manager)
    assert link not in client.get(f"/beheer/{care.public_id}").content.decode()


# Who registers an application in Zorggroep Noord's Beheer (policies "sso_clients.register"),
# written out: the page's answer to the form, and the registration or the refusal's code.
WHO_MAY = {
    "administrator": (200, "registered"),
    "manager": (403, "forbidden"),
    "member": (403, "forbidden"),
    "other_administrator": (403, "forbidden"),
    "operator": (403, "forbidden"),
}


@pytest.mark.parametrize("who", list(WHO_MAY))
def test_who_registers_in_beheer(client, care, business, operator, who):
    person = {
        "operator": operator,
        "other_administrator": member_of(business, email="ob@zuid.nl", role="administrator"),
    }.get(who) or member_of(care, email=f"{who}@noord.nl", role=who)
    _as(client, person)
    response = client.post(f"{_pages(care)}/nieuw", FORM)
    if response.status_code == 200:
        assert (Client.objects.get().owner, _denied()) == (care, [])
        outcome = "registered"
    else:
        assert Client.objects.count() == 0
        ((_organisation, action, outcome),) = _denied()
        assert action == "sso_clients.register"
    assert (response.status_code, outcome) == WHO_MAY[who]


def test_an_administrator_registers_a_private_key_jwt_application_without_a_secret(
    client, anna, care
):
    from jwcrypto import jwk

    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="rooster-ec")
    _as(client, anna)
    form = {
        **FORM,
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": json.dumps({"keys": [json.loads(key.export_public())]}),
    }
    html = client.post(f"{_pages(care)}/nieuw", form).content.decode()
    assert "<h1>Roosterplanner is geregistreerd</h1>" in html
    assert 'id="client-secret"' not in html and "Kopieer het client-geheim" not in html
    assert "<code>rooster-ec</code> (EC P-256)" in html
    row = Client.objects.select_related("application").get()
    assert (row.owner, row.token_endpoint_auth_method) == (care, "private_key_jwt")
    assert row.jwks == {"keys": [json.loads(key.export_public())]}
    assert row.application.client_secret == ""
