"""The app's lifetimes and limits, written out (policies.APP_* and RATE_LIMITS["app.*"]), each
through the real protocol endpoints in this thread, with the clock frozen and moved:

    a code to link an app (enrolment)        5 minutes
    a QR code to log in                      3 minutes
    the waiting page polls                   every 1000 ms
    every app protocol call                  120 a minute per client address
    enrolment calls                          20 a minute per client address
    signed answers                           10 a minute per app ID
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from zorgsleutel import appprotocol
from zorgsleutel.clients.app import DeviceMaterial
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.mobileapp import enrolment, flows

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the start of a minute, an hour and a day
API = "/api/app/v1"


def _enrolment_code(user) -> str:
    started = enrolment.start_enrolment(
        actor=user, session_acr="", session_key="", purpose=enrolment.LINK_APP
    )
    return appprotocol.parse_url(started.url)[1]["code"]


def _link(user, api: Client) -> tuple[str, DeviceMaterial]:
    material = DeviceMaterial.generate()
    body = {
        "public_key": appprotocol.b64(material.public_der),
        "secret": appprotocol.b64(material.secret),
        "name": "Telefoon",
    }
    linked = api.post(
        f"{API}/enrolments/{_enrolment_code(user)}", body, content_type="application/json"
    )
    assert linked.status_code == 201, linked.json()
    return linked.json()["device"], material


def _answer(api: Client, device: str, material: DeviceMaterial, *, session: str):
    """The app answers a fresh QR login with the right PIN: the HTTP response."""
    started = flows.start_login(session_key=session, host="portal.test", browser="x")
    params = appprotocol.parse_url(started.url)[1]
    message = appprotocol.login_message(
        challenge_id=started.challenge_id,
        challenge=appprotocol.unb64(params["c"]),
        host="portal.test",
    )
    response = appprotocol.response(material.secret, message)
    signature = material.key.sign(message + response.encode(), ec.ECDSA(hashes.SHA256()))
    body = {"device": device, "response": response, "signature": appprotocol.b64(signature)}
    return api.post(f"{API}/logins/{started.challenge_id}", body, content_type="application/json")


def _refused_for_too_many(response) -> None:
    assert response.status_code == 429
    assert response.json()["error"] == "rate_limited"
    assert int(response["Retry-After"]) > 0


def test_a_code_to_link_an_app_works_for_5_minutes(person):
    user = person("manager")
    api = Client(REMOTE_ADDR="198.51.100.1")
    with clock.frozen(START):
        code = _enrolment_code(user)
    with clock.frozen(START + timedelta(minutes=4, seconds=59)):
        assert api.get(f"{API}/enrolments/{code}").status_code == 200
    with clock.frozen(START + timedelta(minutes=5, seconds=1)):
        late = api.get(f"{API}/enrolments/{code}")
    assert (late.status_code, late.json()["error"]) == (404, "enrolment_invalid")


def test_the_link_page_counts_down_5_minutes_and_polls_every_second(person, client, login_as):
    user = person("member")
    login_as(client, user, acr="low")
    html = client.get("/mijn/app-koppelen").content.decode()
    assert 'data-interval="1000"' in html and 'data-expires-in="300000"' in html


def test_a_qr_code_to_log_in_works_for_3_minutes(organisation):
    api = Client(REMOTE_ADDR="198.51.100.2")
    with clock.frozen(START):
        started = flows.start_login(session_key="browser", host="portal.test", browser="x")
    with clock.frozen(START + timedelta(minutes=2, seconds=59)):
        assert api.get(f"{API}/logins/{started.challenge_id}").status_code == 200
    with clock.frozen(START + timedelta(minutes=3, seconds=1)):
        late = api.get(f"{API}/logins/{started.challenge_id}")
    assert (late.status_code, late.json()["error"]) == (404, "challenge_invalid")


def test_the_login_page_counts_down_3_minutes_and_polls_every_second(organisation, client):
    html = client.get("/inloggen/app").content.decode()
    assert 'data-interval="1000"' in html and 'data-expires-in="180000"' in html


def test_one_address_makes_120_app_calls_a_minute(organisation):
    api = Client(REMOTE_ADDR="198.51.100.3")
    with clock.frozen(START):
        answers = [api.get(f"{API}/logins/qr_onbekend").status_code for _ in range(121)]
    assert answers[:120] == [404] * 120
    with clock.frozen(START + timedelta(seconds=59)):
        _refused_for_too_many(api.get(f"{API}/logins/qr_onbekend"))
    with clock.frozen(START + timedelta(minutes=1)):  # the next minute
        assert api.get(f"{API}/logins/qr_onbekend").status_code == 404
    other = Client(REMOTE_ADDR="198.51.100.4")
    with clock.frozen(START):
        assert other.get(f"{API}/logins/qr_onbekend").status_code == 404
    assert AuditEvent.objects.get(action="ratelimit.refused").details == {
        "action": "app.request",
        "limits": ["ip"],
    }


def test_one_address_makes_20_enrolment_calls_a_minute(organisation):
    api = Client(REMOTE_ADDR="198.51.100.5")
    with clock.frozen(START):
        answers = [api.get(f"{API}/enrolments/onbekend").status_code for _ in range(21)]
        assert answers[:20] == [404] * 20
        with clock.frozen(START + timedelta(seconds=59)):
            _refused_for_too_many(api.get(f"{API}/enrolments/onbekend"))
        # Only enrolment calls: the same address still reaches the login calls.
        assert api.get(f"{API}/logins/qr_onbekend").status_code == 404
    with clock.frozen(START + timedelta(minutes=1)):
        assert api.get(f"{API}/enrolments/onbekend").status_code == 404
    assert AuditEvent.objects.get(action="ratelimit.refused").details == {
        "action": "app.enrol",
        "limits": ["ip"],
    }


def test_one_app_id_signs_10_answers_a_minute(person):
    user = person("manager")
    with clock.frozen(START):
        device, material = _link(user, Client(REMOTE_ADDR="198.51.100.6"))
        # From ten addresses: the limit is the app ID's, wherever its answers come from.
        answers = [
            _answer(Client(REMOTE_ADDR=f"198.51.100.{10 + n}"), device, material, session=f"b{n}")
            for n in range(11)
        ]
    assert [a.json()["result"] for a in answers[:10]] == ["ok"] * 10
    _refused_for_too_many(answers[10])
    with clock.frozen(START + timedelta(seconds=59)):
        _refused_for_too_many(_answer(Client(), device, material, session="b59"))
    with clock.frozen(START + timedelta(minutes=1)):
        assert _answer(Client(), device, material, session="b60").json()["result"] == "ok"
    assert AuditEvent.objects.get(action="ratelimit.refused").details == {
        "action": "app.answer",
        "limits": ["device"],
    }
