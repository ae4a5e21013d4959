"""One e-mail rule for the Beheer page and the API (finding 11: `0@0` and a 250-character
domain were accepted and mailed)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from zorgsleutel.accounts.api.auth import issue_token
from zorgsleutel.accounts.models import Membership
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.people import emails

pytestmark = pytest.mark.django_db

LONG_DOMAIN = ".".join(["a" * 60] * 4) + ".nl"  # 247 characters, labels of 60
REFUSED = [
    "0@0",
    f"x@{LONG_DOMAIN}",
    f"{'a' * 65}@zorggroep.nl",
    "geen-apenstaartje.nl",
    "twee@@zorggroep.nl",
    "spatie in@zorggroep.nl",
    f"x@{'a' * 64}.nl",
    "x@zorggroep",
]
ACCEPTED = ["jan.jansen@zorggroep.nl", "J.Jansen+hr@zorg-groep.example.nl", "a@b.nl"]


@pytest.mark.parametrize("address", REFUSED)
def test_the_rule_refuses(address):
    assert emails.is_valid(address) is False


@pytest.mark.parametrize("address", ACCEPTED)
def test_the_rule_accepts(address):
    assert emails.is_valid(address.lower()) is True


@pytest.fixture
def manager(organisation, person):
    return person(organisation, "manager", email="beheer@zorggroep.nl")


@pytest.mark.parametrize("address", REFUSED)
def test_the_api_refuses_and_queues_nothing(organisation, manager, address):
    token = issue_token(organisation=organisation, user=manager, name="hr")
    response = Client(headers={"X-Zorgsleutel-Token": token}).post(
        f"/api/v1/organisations/{organisation.public_id}/members",
        json.dumps({"name": "Iemand", "email": address}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["error"] in ("invalid_email", "invalid_request")
    assert Membership.objects.count() == 1 and OutboxMail.objects.count() == 0


@pytest.mark.parametrize("address", ["0@0", f"x@{LONG_DOMAIN}"])
def test_the_page_refuses_with_the_same_rule(client, organisation, manager, login_as, address):
    login_as(client, manager)
    response = client.post(
        f"/beheer/{organisation.public_id}/nieuwe-gebruiker",
        {"name": "Iemand", "email": address, "role": "member"},
    )
    assert response.status_code == 200
    assert "Vul een geldig e-mailadres in, zoals naam@organisatie.nl." in response.content.decode()
    assert Membership.objects.count() == 1 and OutboxMail.objects.count() == 0
