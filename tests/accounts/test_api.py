"""/api/v1 Beheer: same flows, permissions and audit as the pages; clear errors for bad input."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from zorgsleutel.accounts.api.auth import issue_token
from zorgsleutel.accounts.models import User
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(organisation, person):
    return person(organisation, "manager", email="api-beheer@zorggroep.nl")


@pytest.fixture
def api(organisation, manager):
    token = issue_token(organisation=organisation, user=manager, name="HR-koppeling")
    client = Client(headers={"X-Zorgsleutel-Token": token})
    base = f"/api/v1/organisations/{organisation.public_id}/members"

    class Api:
        def get(self, path="", **params):
            return client.get(base + path, params)

        def post(self, path="", body=None, raw=None):
            data = raw if raw is not None else json.dumps(body or {})
            return client.post(base + path, data=data, content_type="application/json")

        def delete(self, path):
            return client.delete(base + path)

    return Api()


def test_create_list_search_block_unblock_delete(api, organisation):
    created = api.post(
        body={
            "name": "Api Persoon",
            "email": "Api.Persoon@zorggroep.nl",
            "application_roles": ["inzage"],
        }
    )
    assert created.status_code == 201, created.content
    member = created.json()
    assert member["email"] == "api.persoon@zorggroep.nl" and member["state"] == "invited"
    assert OutboxMail.objects.filter(to="api.persoon@zorggroep.nl", template="activation").exists()

    listing = api.get(q="api persoon").json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == member["id"]
    assert api.get().json()["count"] == 2

    assert api.post(f"/{member['id']}/resend-activation").status_code == 200
    assert api.post(f"/{member['id']}/block").json()["state"] == "blocked"
    assert api.post(f"/{member['id']}/unblock").json()["state"] == "invited"
    assert api.delete(f"/{member['id']}").status_code == 204
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"member.created", "member.blocked", "member.unblocked", "member.deleted"} <= actions


def test_pages_of_fifty(api, organisation):
    from zorgsleutel.accounts.models import Membership

    for n in range(60):
        user = User.objects.create(email=f"p{n:03d}@zorggroep.nl", name=f"Persoon {n:03d}")
        Membership.objects.create(user=user, organisation=organisation)
    first, second = api.get(page=1).json(), api.get(page=2).json()
    assert (first["count"], first["pages"], len(first["items"]), len(second["items"])) == (
        61,
        2,
        50,
        11,
    )


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{not json", 400, None),
        (b'{"name": "X", "email": "x@zorggroep.nl", "admin": true}', 400, "invalid_request"),
        (b'{"name": 5, "email": "x@zorggroep.nl"}', 400, "invalid_request"),
        (b'{"name": "X", "email": "x@zorggroep.nl", "role": "god"}', 400, "invalid_request"),
        (b'{"name": "X", "email": "x@gmail.com"}', 400, "consumer_email"),
        (b'{"name": "X", "email": "x@zorggroep.nl", "role": "manager"}', 403, "role_not_allowed"),
        (
            b'{"name": "X", "email": "x@zorggroep.nl", "application_roles": ["root"]}',
            400,
            "unknown_application_role",
        ),
        (b"[" + b'"x",' * 100_000 + b'"x"]', 413, "body_too_large"),
    ],
)
def test_bad_input_is_a_clear_4xx_and_saves_nothing(api, raw, status, code):
    response = api.post(raw=raw)
    assert response.status_code == status
    body = response.json()
    assert body["message"] and (code is None or body["error"] == code)
    assert not User.objects.filter(email__startswith="x@").exists()


def test_a_token_works_only_for_its_own_organisation(api, other_organisation, organisation, person):
    token = issue_token(
        organisation=organisation, user=User.objects.get(email="api-beheer@zorggroep.nl"), name="x"
    )
    client = Client(headers={"X-Zorgsleutel-Token": token})
    response = client.get(f"/api/v1/organisations/{other_organisation.public_id}/members")
    assert response.status_code == 403


def test_an_unknown_organisation_is_404(api, manager, organisation):
    token = issue_token(organisation=organisation, user=manager, name="x")
    client = Client(headers={"X-Zorgsleutel-Token": token})
    response = client.get("/api/v1/organisations/00000000-0000-4000-8000-000000000000/members")
    assert response.status_code == 404 and response.json()["error"] == "unknown_organisation"


def test_no_or_a_wrong_token_is_401(organisation):
    url = f"/api/v1/organisations/{organisation.public_id}/members"
    assert Client().get(url).status_code == 401
    assert Client(headers={"X-Zorgsleutel-Token": "zs_wrong"}).get(url).status_code == 401


def test_members_cannot_use_the_api_to_manage(organisation, person):
    member = person(organisation, "member")
    token = issue_token(organisation=organisation, user=member, name="x")
    client = Client(headers={"X-Zorgsleutel-Token": token})
    response = client.get(f"/api/v1/organisations/{organisation.public_id}/members")
    assert response.status_code == 403 and response.json()["error"] == "forbidden"


def test_session_auth_needs_csrf(organisation, manager, login_as):
    client = Client(enforce_csrf_checks=True)
    login_as(client, manager)
    url = f"/api/v1/organisations/{organisation.public_id}/members"
    assert client.get(url).status_code == 200
    body = json.dumps({"name": "C", "email": "c@zorggroep.nl"})
    refused = client.post(url, data=body, content_type="application/json")
    assert refused.status_code == 403
    client.get("/")  # sets the CSRF cookie
    allowed = client.post(
        url,
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    assert allowed.status_code == 201


def test_the_openapi_schema_lists_the_endpoints():
    schema = Client().get("/api/v1/openapi.json").json()
    paths = schema["paths"]
    assert "/api/v1/organisations/{public_id}/members" in paths
    assert "/api/v1/organisations/{public_id}/members/{member_id}/block" in paths
    ids = [op["operationId"] for ops in paths.values() for op in ops.values()]
    assert len(ids) == len(set(ids))  # code generators need them unique
