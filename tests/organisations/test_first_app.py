"""Seed 003 step 5, continued: the browser that validated links the new administrator's first
app. Its page waits on the enrolment's cross-device challenge (/wachten/<id>) like every other
QR code; only that browser collects it, once, and goes on to step 6."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from appids import phone_enrols
from applicants import approved_application, card, open_page, present
from zorgsleutel.accounts.models import User
from zorgsleutel.core import clock
from zorgsleutel.mobileapp.models import AppDevice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("trust")]


@pytest.fixture(autouse=True)
def _limits():
    cache.clear()  # rate-limit counters of the card and app APIs
    yield
    cache.clear()


@pytest.fixture
def validated(client, hierarchy, card_key):
    """The applicant's browser after the card validated the organisation: the app page."""
    _application, url = approved_application()
    page = open_page(client, "/" + url.split("/", 3)[3])
    present(card(hierarchy, card_key), card_key, page["code"])
    assert client.get(page["status"]).json()["next"] == "/organisatie/gevalideerd/app"
    app_page = client.get("/organisatie/gevalideerd/app")
    assert app_page.status_code == 200
    return app_page.context["status_url"], app_page.context["url"]


def test_the_page_waits_on_the_first_app_then_goes_on_to_step_6(client, validated):
    status_url, qr_url = validated
    assert status_url.startswith("/wachten/en_")
    assert client.get(status_url).json() == {"status": "waiting"}
    assert phone_enrols(qr_url).status_code == 201
    assert AppDevice.objects.get().user.email == "jan@delinde.nl"
    assert client.get(status_url).json() == {"status": "ok", "next": "/organisatie/gevalideerd"}
    assert "zs_validation" not in client.session  # this browser holds the account no more
    again = client.get(status_url)
    assert (again.status_code, again.json()["error"]) == (410, "challenge_invalid")


def test_another_browser_with_the_id_gets_nothing(client, validated):
    status_url, qr_url = validated
    phone_enrols(qr_url)
    nobody = Client()
    assert (nobody.get(status_url).status_code, nobody.get(status_url).json()) == (
        404,
        {"status": "invalid"},
    )
    other = Client()
    other.get("/inloggen/app")  # a session of its own
    refused = other.get(status_url)
    assert (refused.status_code, refused.json()["error"]) == (410, "challenge_invalid")
    assert "zs_validation" not in other.session
    assert client.get(status_url).json() == {"status": "ok", "next": "/organisatie/gevalideerd"}


def test_an_administrator_blocked_before_the_browser_collects_goes_no_further(client, validated):
    status_url, qr_url = validated
    phone_enrols(qr_url)
    User.objects.filter(email="jan@delinde.nl").update(state=User.BLOCKED)
    refused = client.get(status_url).json()
    assert (refused["status"], refused["error"]) == ("refused", "account_blocked")


def test_an_expired_first_app_code_is_refused_with_its_code(client, validated):
    status_url, _qr_url = validated
    with clock.frozen(clock.now() + timedelta(minutes=5, seconds=1)):
        final = client.get(status_url + "?final=1")
    assert (final.status_code, final.json()["error"]) == (410, "challenge_expired")


def test_the_old_status_url_is_gone(client, validated):
    assert client.get("/organisatie/gevalideerd/app/status").status_code == 404
