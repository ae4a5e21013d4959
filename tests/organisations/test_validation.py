"""Seed 003 step 5: the approved applicant presents the UZI card (card protocol over HTTP), the
portal verifies chain and signature, and one transaction validates the organisation. Every
refusal is specific, audited and changes nothing.

Certificates come from a real test hierarchy (zorgsleutel.uzi.testca) and the card's signature
is made with its real private key; the SoftHSM2 token and the card client are exercised by the
browser test (tests/e2e/test_seed_003.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from applicants import URA, approved_application, card, open_page, present
from zorgsleutel import cardprotocol
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.authn.models import Challenge
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.organisations.models import Application, Organisation
from zorgsleutel.uzi import testca

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("trust")]


@pytest.fixture
def approved(db):
    application, url = approved_application()
    return application, "/" + url.split("/", 3)[3]


def test_a_matching_card_validates_the_organisation_in_one_go(
    client, approved, hierarchy, card_key
):
    application, path = approved
    page = open_page(client, path)
    assert client.get(page["status"]).json()["status"] == "waiting"
    answer = present(card(hierarchy, card_key), card_key, page["code"])
    assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    verdict = client.get(page["status"]).json()
    assert verdict["status"] == "ok" and verdict["next"] == "/organisatie/gevalideerd/app"

    application.refresh_from_db()
    organisation = application.organisation
    assert application.state == Application.VALIDATED
    assert (organisation.kind, organisation.state, organisation.ura) == (
        "care_provider",
        "validated",
        URA,
    )
    administrator = Membership.objects.get(organisation=organisation)
    assert administrator.role == "administrator"
    assert (administrator.user.email, administrator.user.name) == ("jan@delinde.nl", "Jan Test")
    assert not administrator.user.has_usable_password()  # logs in with the app, never a password
    assert AuditEvent.objects.filter(action="organisation.validated").count() == 1
    # The next step links the app for this person, in this browser only.
    enrol = client.get("/organisatie/gevalideerd/app")
    assert enrol.status_code == 200 and "zorgsleutel://enrol" in enrol.content.decode()
    assert Client().get("/organisatie/gevalideerd/app").status_code == 302


def test_the_same_code_cannot_be_answered_twice(client, approved, hierarchy, card_key):
    _application, path = approved
    page = open_page(client, path)
    card_client = Client()
    info = card_client.get(f"/api/card/v1/challenges/{page['code']}").json()
    assert present(card(hierarchy, card_key), card_key, page["code"]).status_code == 200
    assert card_client.get(f"/api/card/v1/challenges/{page['code']}").status_code == 404
    again = card_client.post(
        f"/api/card/v1/challenges/{info['id']}/answer",
        {"certificates": ["x"], "signature": "AA", "algorithm": "rsa-pkcs1-sha256"},
        content_type="application/json",
    )
    assert again.status_code == 404 and again.json()["error"] == "unknown_challenge"


REFUSALS = [
    ("wrong_ura", {"ura": "90000999"}, "URA 90000999"),
    ("wrong_uzi_number", {"uzi_number": "900099999"}, "900099999"),
    ("pas_type_not_allowed", {"pas_type": "M"}, " M"),
    ("pas_type_not_allowed", {"pas_type": "S"}, " S"),
    (
        "expired",
        {
            "not_before": clock.now() - timedelta(days=400),
            "not_after": clock.now() - timedelta(days=1),
        },
        "",
    ),
    ("key_usage", {"usage": "signing"}, ""),
]


@pytest.mark.parametrize(("code", "fields", "words"), REFUSALS)
def test_a_card_that_does_not_prove_the_application_is_refused_and_changes_nothing(
    client, approved, hierarchy, card_key, code, fields, words
):
    application, path = approved
    page = open_page(client, path)
    answer = present(card(hierarchy, card_key, **fields), card_key, page["code"])
    assert answer.status_code in (400, 403) and answer.json()["error"] == code
    verdict = client.get(page["status"]).json()
    assert verdict["status"] == "refused"
    assert words in verdict["message"]
    application.refresh_from_db()
    assert application.state == Application.APPROVED
    assert not Organisation.objects.exists()
    assert not User.objects.filter(email="jan@delinde.nl").exists()
    refused = AuditEvent.objects.get(action="card.refused")
    assert refused.outcome == "denied" and refused.details["error"] == code
    # The link still works: the applicant tries again with the right card.
    page = open_page(client, path)
    assert present(card(hierarchy, card_key), card_key, page["code"]).status_code == 200


def test_an_untrusted_hierarchy_is_refused(client, approved, card_key):
    _application, path = approved
    page = open_page(client, path)
    stranger = testca.TestHierarchy.generate(prefix="Vreemd")
    answer = present(
        card(stranger, card_key), card_key, page["code"], chain=stranger.ca_certificates
    )
    assert answer.json()["error"] == "untrusted"
    assert not Organisation.objects.exists()


def test_a_signature_over_another_challenge_is_refused(client, approved, hierarchy, card_key):
    _application, path = approved
    page = open_page(client, path)
    other = cardprotocol.message(challenge_id="card_other", challenge=b"x" * 32, host="testserver")
    answer = present(card(hierarchy, card_key), card_key, page["code"], sign_other=other)
    assert answer.json()["error"] == "bad_signature"
    assert not Organisation.objects.exists()


def test_a_certificate_for_another_key_is_refused(client, approved, hierarchy, card_key):
    """Someone holding only a copy of the certificate (it is public) cannot answer."""
    _application, path = approved
    page = open_page(client, path)
    thief = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answer = present(card(hierarchy, card_key), thief, page["code"])
    assert answer.json()["error"] == "bad_signature"


def test_only_the_browser_that_asked_collects_the_result(client, approved, hierarchy, card_key):
    _application, path = approved
    page = open_page(client, path)
    present(card(hierarchy, card_key), card_key, page["code"])
    stranger = Client()
    assert stranger.get(page["status"]).status_code == 404
    assert client.get(page["status"]).json()["status"] == "ok"
    assert client.get(page["status"]).status_code in (404, 410)  # collected once


def test_an_unknown_or_used_link_shows_a_clear_page(client, approved, hierarchy, card_key):
    assert client.get("/organisatie/valideren/not-a-token").status_code == 404
    _application, path = approved
    page = open_page(client, path)
    present(card(hierarchy, card_key), card_key, page["code"])
    client.get(page["status"])
    # Validated; the link only lets the same card holder link a first app, then dies.
    assert client.get(path).status_code == 200
    from zorgsleutel.mobileapp.models import AppDevice

    AppDevice.objects.create(
        public_id="app_x",
        user=User.objects.get(email="jan@delinde.nl"),
        name="Telefoon",
        public_key=b"x",
        secret_ciphertext=b"x",
        enrolled_at=clock.now(),
    )
    assert client.get(path).status_code == 404


def test_bad_input_to_the_card_api_gets_a_stable_error(client, approved):
    _application, path = approved
    page = open_page(client, path)
    card_client = Client()
    info = card_client.get(f"/api/card/v1/challenges/{page['code']}").json()
    for body in (
        {},
        {"certificates": [], "signature": "AA", "algorithm": "rsa-pkcs1-sha256"},
        {"certificates": ["not a certificate"], "signature": "AA", "algorithm": "x"},
        {"certificates": ["x"] * 11, "signature": "AA", "algorithm": "rsa-pkcs1-sha256"},
    ):
        response = card_client.post(
            f"/api/card/v1/challenges/{info['id']}/answer", body, content_type="application/json"
        )
        assert response.status_code == 400
        assert response.json()["error"] in ("invalid_request", "malformed")
    assert card_client.get("/api/card/v1/challenges/NOPE-NOPE").status_code == 404
    assert Challenge.objects.get().status == "pending"  # bad input changed nothing
    assert not Organisation.objects.exists()


def test_a_bad_trusted_proxy_setting_is_reported_at_start_up(settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    settings.UZI_TRUSTED_PROXIES = ["not-an-address"]
    with pytest.raises(SystemCheckError, match=r"zorgsleutel\.E101"):
        call_command("check")


@pytest.mark.parametrize("pas_type", ["Z", "N"])
def test_a_zorgverlenerspas_or_a_named_employee_s_pas_validates(
    client, approved, hierarchy, card_key, pas_type
):
    """policies.VALIDATION_PAS_TYPES: Z and N prove a person (M and S do not: see above)."""
    application, path = approved
    page = open_page(client, path)
    answer = present(card(hierarchy, card_key, pas_type=pas_type), card_key, page["code"])
    assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    assert client.get(page["status"]).json()["status"] == "ok"
    application.refresh_from_db()
    assert application.state == Application.VALIDATED


def test_the_card_code_works_for_5_minutes(client, approved, hierarchy, card_key):
    """policies.CARD_CHALLENGE_TTL: the page counts down 5 minutes and the card client's code
    is refused after them."""
    from datetime import UTC, datetime

    _application, path = approved
    start = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    with clock.frozen(start):
        page = open_page(client, path)
        html = client.get(path).content.decode()
    assert 'data-expires-in="300000"' in html and 'data-interval="1000"' in html
    card_client = Client()
    with clock.frozen(start + timedelta(minutes=4, seconds=59)):
        assert card_client.get(f"/api/card/v1/challenges/{page['code']}").status_code == 200
    with clock.frozen(start + timedelta(minutes=5, seconds=1)):
        late = card_client.get(f"/api/card/v1/challenges/{page['code']}")
    assert late.status_code == 404 and late.json()["error"] == "unknown_challenge"
