"""Scope `roles` (docs/oidc.md, "Claims"): the person's role and application roles in the
organisation they act for in this sign-in, in the ID token and at userinfo; never those of
another organisation, and nothing without the scope."""

from __future__ import annotations

import json

import pytest

from sso import answer, authorize_url, claims_of, code_for, exchange, log_in, member_of, register
from zorgsleutel.accounts.models import Membership

pytestmark = pytest.mark.django_db

ROLES = ["openid", "profile", "email", "roles"]  # the operator allowed it scope `roles`


@pytest.fixture
def app(operator, care):
    """Declaratieportaal, registered for Zorggroep Noord only, allowed scope `roles`."""
    return register(operator, [care], allowed_scopes=ROLES)


def _userinfo(client, tokens) -> dict:
    response = client.get(
        "/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200
    return json.loads(response.content)


def test_roles_name_the_role_and_application_roles_where_the_person_acts(client, app, care):
    bea = member_of(care, email="bea@noord.nl", name="Bea Bakker")
    Membership.objects.filter(user=bea).update(application_roles=["triagist", "EPD-arts"])
    log_in(client, bea)
    code, asked = code_for(client, app, scope="openid roles")
    status, tokens = exchange(client, app, code, asked.verifier)
    assert status == 200
    claims = claims_of(tokens["id_token"])
    assert (claims["roles"], claims["application_roles"]) == (["member"], ["EPD-arts", "triagist"])
    assert _userinfo(client, tokens) | {"sub": "-"} == {
        "sub": "-",
        "organization": {"id": str(care.public_id), "name": "Zorggroep Noord", "ura": "90000111"},
        "roles": ["member"],
        "application_roles": ["EPD-arts", "triagist"],
    }


def test_without_the_scope_no_roles(client, app, care):
    bea = member_of(care, email="bea@noord.nl", name="Bea Bakker")
    log_in(client, bea)
    code, asked = code_for(client, app, scope="openid profile")
    _status, tokens = exchange(client, app, code, asked.verifier)
    assert "roles" not in claims_of(tokens["id_token"])
    assert sorted(_userinfo(client, tokens)) == [
        "family_name", "given_name", "name", "organization", "sub",
    ]  # fmt: skip


def test_the_other_organisation_s_role_never_shows(client, operator, care, business):
    """An administrator of Bedrijf Zuid who is a plain member of Zorggroep Noord, acting for
    Zorggroep Noord: a member, with Zorggroep Noord's application roles only."""
    app = register(operator, [care, business], allowed_scopes=ROLES)
    both = member_of(business, care, email="twee@noord.nl", name="Tim Twee")
    Membership.objects.filter(user=both, organisation=business).update(
        role="administrator", application_roles=["financieel"]
    )
    Membership.objects.filter(user=both, organisation=care).update(application_roles=["balie"])
    log_in(client, both)
    asked = authorize_url(app.client_id, scope="openid roles")
    found = answer(client.post(asked.url, {"organisation": str(care.public_id)}))
    _status, tokens = exchange(client, app, found["code"], asked.verifier)
    claims = claims_of(tokens["id_token"])
    assert (claims["roles"], claims["application_roles"]) == (["member"], ["balie"])
    assert _userinfo(client, tokens)["roles"] == ["member"]
