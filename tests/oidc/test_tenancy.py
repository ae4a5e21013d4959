"""Tenancy (docs/oidc.md): an application registered for organisation A never receives a person
who is not an active member of A, acting for A; someone in several organisations it serves
chooses one; what the person's other organisations decided about them reaches it only where
it must (the authenticator the session logged in with)."""

from __future__ import annotations

import json

import pytest

from appids import app_id
from sso import answer, authorize_url, claims_of, code_for, exchange, log_in, member_of, register
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import SignIn

pytestmark = pytest.mark.django_db

NOT_ALLOWED = (
    "Declaratieportaal is niet voor u beschikbaar: het wordt niet gebruikt door een organisatie "
    "waarvan u actief lid bent. Vraag de beheerder van uw organisatie als u denkt dat dat wel "
    "zou moeten."
)


def refused(response) -> tuple[str, dict]:
    """A refusal page: its message, and where its "back" link sends the browser."""
    assert response.status_code == 403
    html = response.content.decode()
    message = html.split("<h1>", 1)[1].split("<p>", 1)[1].split("</p>", 1)[0]
    href = html.split('zs-button-link" href="', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    from urllib.parse import parse_qs, urlsplit

    params = {k: v[0] for k, v in parse_qs(urlsplit(href).query).items()}
    return message, params


def test_a_person_of_another_organisation_only_is_refused(client, app, business):
    """The "other organisation" column: a member of Bedrijf Zuid, not of Zorggroep Noord."""
    bea = member_of(business, email="bea@zuid.nl", name="Bea Zuid")
    log_in(client, bea)
    asked = authorize_url(app.client_id)
    message, back = refused(client.get(asked.url))
    assert message == NOT_ALLOWED
    assert back == {
        "error": "access_denied",
        "error_description": "The person may not use this application.",
        "state": asked.state,
        "iss": "https://zorgsleutel.test",
    }
    assert SignIn.objects.count() == 0
    (event,) = AuditEvent.objects.filter(action="sso.authorize_refused")
    assert (event.organisation, event.actor, event.target, event.outcome, event.details) == (
        "",  # the platform's log: Bedrijf Zuid learns nothing of the application
        bea.audit_ref,
        app.client.audit_ref,
        "denied",
        {"client_id": app.client_id, "reason": "sso_organisation_not_allowed"},
    )


@pytest.mark.parametrize("change", ["membership_blocked", "invited_only", "suspended"])
def test_no_active_membership_no_sign_in(client, app, care, mira, change):
    if change == "membership_blocked":
        Membership.objects.filter(user=mira).update(state=Membership.BLOCKED)
    elif change == "invited_only":
        Membership.objects.filter(user=mira).update(state=Membership.INVITED, accepted_at=None)
    else:
        care.suspended_at = clock.now()
        care.save()
    log_in(client, mira)
    _message, back = refused(client.get(authorize_url(app.client_id).url))
    assert back["error"] == "access_denied"
    assert SignIn.objects.count() == 0


def test_an_operator_is_nobody_s_member(client, app, operator):
    log_in(client, operator, "app", authenticator=app_id(operator).public_id)
    message, _back = refused(client.get(authorize_url(app.client_id).url))
    assert message == NOT_ALLOWED


def test_an_application_of_both_organisations_lets_the_person_choose(
    client, operator, care, business
):
    app = register(operator, [care, business])
    both = member_of(care, business, email="twee@noord.nl", name="Tim Twee")
    log_in(client, both)
    asked = authorize_url(app.client_id)
    page = client.get(asked.url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Inloggen bij Declaratieportaal</h1>" in html
    assert 'name="organisation"' in html and f'value="{business.public_id}"' in html
    assert SignIn.objects.count() == 0

    # Choosing nothing says so, and issues nothing.
    response = client.post(asked.url, {})
    assert response.status_code == 200
    assert "Kies een organisatie." in response.content.decode()
    # Choosing Bedrijf Zuid: the code, for Bedrijf Zuid.
    found = answer(client.post(asked.url, {"organisation": str(business.public_id)}))
    _status, tokens = exchange(client, app, found["code"], asked.verifier)
    assert claims_of(tokens["id_token"])["organization"] == {
        "id": str(business.public_id),
        "name": "Bedrijf Zuid BV",
        "kvk": "12345678",
    }
    assert SignIn.objects.get().organisation == business
    (issued,) = AuditEvent.objects.filter(action="sso.code_issued")
    assert issued.organisation == business.audit_ref  # only the organisation chosen reads it


def test_a_choice_the_application_does_not_serve_is_no_choice(client, app, care, business):
    """Registered for Zorggroep Noord only; a member of both who posts Bedrijf Zuid's id gets
    Zorggroep Noord, the one the application may receive them for."""
    both = member_of(care, business, email="twee@noord.nl")
    log_in(client, both)
    asked = authorize_url(app.client_id)
    found = answer(client.post(asked.url, {"organisation": str(business.public_id)}))
    exchange(client, app, found["code"], asked.verifier)
    assert SignIn.objects.get().organisation == care


def test_prompt_none_cannot_choose(client, operator, care, business):
    app = register(operator, [care, business])
    log_in(client, member_of(care, business, email="twee@noord.nl"))
    found = answer(client.get(authorize_url(app.client_id, prompt="none").url))
    assert (found["error"], found["error_description"]) == (
        "account_selection_required",
        "Choose an organisation.",
    )


def test_select_account_asks_even_for_one_organisation(client, app, mira):
    log_in(client, mira)
    page = client.get(authorize_url(app.client_id, prompt="select_account").url)
    assert page.status_code == 200 and 'name="organisation"' in page.content.decode()


def test_an_app_blocked_by_the_organisation_signs_in_nowhere_there(client, app, care, mira):
    """The app ID the session logged in with is blocked by Zorggroep Noord: the application of
    Zorggroep Noord does not receive her through that session."""
    device = app_id(mira, decided={care: "blocked"})
    log_in(client, mira, "app", authenticator=device.public_id)
    _message, back = refused(client.get(authorize_url(app.client_id).url))
    assert back["error"] == "access_denied"


def test_the_other_organisation_s_decision_does_not_reach_this_one(
    client, operator, care, business
):
    """Bedrijf Zuid blocked her app ID; Zorggroep Noord did not: an application of Zorggroep
    Noord still receives her, for Zorggroep Noord."""
    app = register(operator, [care])
    both = member_of(care, business, email="twee@noord.nl")
    device = app_id(both, decided={business: "blocked"})
    log_in(client, both, "app", authenticator=device.public_id)
    code, asked = code_for(client, app)
    assert exchange(client, app, code, asked.verifier)[0] == 200


@pytest.mark.parametrize("change", ["membership_blocked", "account_blocked", "unregistered"])
def test_a_token_stops_answering_when_the_person_loses_access(
    client, app, care, business, mira, change
):
    log_in(client, mira)
    code, asked = code_for(client, app)
    tokens = exchange(client, app, code, asked.verifier)[1]
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/oidc/userinfo", headers=bearer).status_code == 200
    if change == "membership_blocked":
        Membership.objects.filter(user=mira).update(state=Membership.BLOCKED)
    elif change == "account_blocked":
        type(mira).objects.filter(pk=mira.pk).update(state="blocked")
    else:  # the operator takes Zorggroep Noord off the application
        app.client.organisations.set([business])
    response = client.get("/oidc/userinfo", headers=bearer)
    assert response.status_code == 401
    assert json.loads(response.content) == {
        "error": "invalid_token",
        "error_description": (
            "The access token provided is expired, revoked, malformed, or invalid for other "
            "reasons."
        ),
    }
    assert response["WWW-Authenticate"].startswith('Bearer error="invalid_token"')
