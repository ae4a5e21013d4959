"""The session cookie lives as long as the browser; the stored row as long as the absolute
timeout (policies.SESSION_ABSOLUTE_TIMEOUT)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from people import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture
def member(person, vault_service, sms_code, fresh_number):
    from django.core.cache import cache

    from zorgsleutel.organisations.models import Organisation

    cache.clear()  # no login throttles from another test
    organisation = Organisation.objects.create(
        name="Zorggroep Test", kind=Organisation.BUSINESS, kvk_number="12345678"
    )
    user = person(organisation, "member", email="lid@zorggroep.nl")
    sent = vault_service.enrol(phone=fresh_number(last_two="01"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    user.phone_enrolment = sent.enrolment
    user.save()
    yield user
    cache.clear()


def test_the_login_sets_a_browser_session_cookie(client, member, sms_code):
    from django.contrib.sessions.models import Session

    from zorgsleutel.core import clock

    client.post("/inloggen", {"email": "lid@zorggroep.nl", "password": PASSWORD})
    response = client.post("/inloggen/code", {"code": sms_code("06 •• •• •• 01")})
    assert response.status_code == 302 and response["Location"] == "/mijn"

    cookie = response.cookies["zs_session"]
    header = cookie.output(header="").strip()
    assert cookie["max-age"] == "" and cookie["expires"] == "", header
    assert "max-age" not in header.lower() and "expires" not in header.lower()
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"

    # The row on the server still expires: 12 hours (policies.SESSION_ABSOLUTE_TIMEOUT).
    row = Session.objects.get(session_key=cookie.value)
    left = row.expire_date - clock.now()
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12)
    assert client.get("/mijn").status_code == 200


def test_an_anonymous_session_row_expires_after_12_hours_not_14_days(client):
    from django.contrib.sessions.models import Session

    from zorgsleutel.core import clock

    response = client.get("/inloggen/app")
    assert response.status_code == 200
    cookie = response.cookies["zs_session"]
    assert cookie["max-age"] == "" and cookie["expires"] == ""
    left = Session.objects.get(session_key=cookie.value).expire_date - clock.now()
    assert timedelta(hours=11, minutes=59) < left <= timedelta(hours=12)
