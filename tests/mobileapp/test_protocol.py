"""The app protocol end to end with the reference client against a live portal."""

from __future__ import annotations

import html
import io
import json
import threading
from datetime import timedelta

import pytest
from django.db import connection

from appids import decisions
from zorgsleutel import appprotocol
from zorgsleutel.authn import challenges
from zorgsleutel.authn.models import Challenge
from zorgsleutel.clients import app as client
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.mobileapp import devices, enrolment, flows
from zorgsleutel.mobileapp.models import AppDevice

pytestmark = pytest.mark.django_db(transaction=True)
PIN = "123456"
QR_CODE_INVALID = r"^Deze QR-code is niet \(meer\) geldig\. Laad de pagina opnieuw\.$"


@pytest.fixture
def enrolled(server, person, tmp_path):
    user = person("manager")
    started = enrolment.start_enrolment(
        actor=user, session_acr="", session_key="", purpose=enrolment.LINK_APP
    )
    state = client.State(tmp_path / "state.json")
    client.enrol(
        started.url, state=state, pin=PIN, yes=True, name="Testtelefoon", out=io.StringIO()
    )
    return user, state


def _login(state, *, pin=PIN, session="browser-a"):
    started = flows.start_login(
        session_key=session, host="portal.test", browser="Chromium op Linux"
    )
    return started, client.login(started.url, state=state, pin=pin, yes=True, out=io.StringIO())


def test_enrol_then_log_in_with_the_pin(enrolled):
    user, state = enrolled
    assert (state.path.stat().st_mode & 0o777) == 0o600
    device = AppDevice.objects.get(user=user)
    assert device.state == AppDevice.ACTIVE and device.name == "Testtelefoon"
    started, answer = _login(state)
    assert answer == {"result": "ok", "attempts_left": 3}
    collected = challenges.collect(session_key="browser-a", public_id=started.challenge_id)
    assert (collected.status, collected.purpose, collected.person) == (
        "accepted",
        "app_login",
        user,
    )
    with pytest.raises(DomainError) as again:  # used once
        challenges.collect(session_key="browser-a", public_id=started.challenge_id)
    assert again.value.code == "challenge_invalid"


def test_an_enrolment_code_works_once_and_expires(server, person, tmp_path):
    user = person()
    started = enrolment.start_enrolment(
        actor=user, session_acr="", session_key="", purpose=enrolment.LINK_APP
    )
    client.enrol(
        started.url,
        state=client.State(tmp_path / "a.json"),
        pin=PIN,
        yes=True,
        name="a",
        out=io.StringIO(),
    )
    with pytest.raises(client.ClientError, match=r"^Deze koppelcode is niet \(meer\) geldig\.$"):
        client.enrol(
            started.url,
            state=client.State(tmp_path / "b.json"),
            pin=PIN,
            yes=True,
            name="b",
            out=io.StringIO(),
        )
    late = enrolment.start_enrolment(
        actor=user, session_acr="substantial", session_key="", purpose=enrolment.LINK_APP
    )
    from zorgsleutel.mobileapp.models import AppEnrolment

    AppEnrolment.objects.filter(used_at=None).update(expires_at=clock.now() - timedelta(seconds=1))
    with pytest.raises(client.ClientError, match=r"^Deze koppelcode is niet \(meer\) geldig\.$"):
        client.enrol(
            late.url,
            state=client.State(tmp_path / "c.json"),
            pin=PIN,
            yes=True,
            name="c",
            out=io.StringIO(),
        )


def test_wrong_pins_count_down_and_block_after_three_then_a_manager_unblocks(
    enrolled, person, organisation
):
    user, state = enrolled
    results = [_login(state, pin="000000")[1] for _ in range(3)]
    assert [(r["result"], r["attempts_left"]) for r in results] == [
        ("wrong_pin", 2),
        ("wrong_pin", 1),
        ("blocked", 0),
    ]
    device = AppDevice.objects.get(user=user)
    assert device.state == AppDevice.BLOCKED
    with pytest.raises(client.ClientError, match=r"^Deze app is geblokkeerd\. Vraag uw beheerder"):
        _login(state)  # even the right PIN
    admin = person("administrator")
    devices.set_device_state(
        actor=admin, organisation=organisation, device_id=device.public_id, action="unblock"
    )
    assert _login(state)[1]["result"] == "ok"


def test_a_right_pin_resets_the_count(enrolled):
    _user, state = enrolled
    _login(state, pin="000000")
    _login(state, pin="000000")
    assert _login(state)[1]["result"] == "ok"
    assert _login(state, pin="000000")[1]["attempts_left"] == 2


def test_a_revoked_device_is_refused(enrolled):
    user, state = enrolled
    device = AppDevice.objects.get(user=user)
    devices.revoke_own_device(actor=user, device_id=device.public_id)
    with pytest.raises(client.ClientError, match=r"^Deze app is niet \(meer\) gekoppeld\.$"):
        _login(state)


def test_expired_and_reused_challenges_are_refused(enrolled):
    _user, state = enrolled
    started = flows.start_login(session_key="b", host="portal.test", browser="x")
    Challenge.objects.update(expires_at=clock.now() - timedelta(seconds=1))
    with pytest.raises(client.ClientError, match=QR_CODE_INVALID):
        client.login(started.url, state=state, pin=PIN, yes=True, out=io.StringIO())
    started, answer = _login(state)
    assert answer["result"] == "ok"
    with pytest.raises(client.ClientError, match=QR_CODE_INVALID):
        client.login(started.url, state=state, pin=PIN, yes=True, out=io.StringIO())


def test_an_answer_only_logs_in_the_browser_that_asked(enrolled):
    _user, state = enrolled
    started, _answer = _login(state, session="victim-browser")
    with pytest.raises(DomainError) as refused:
        challenges.collect(session_key="attacker-browser", public_id=started.challenge_id)
    assert refused.value.code == "challenge_invalid"
    collected = challenges.collect(session_key="victim-browser", public_id=started.challenge_id)
    assert collected.status == "accepted"


def test_a_forged_signature_is_refused_and_counts_no_pin(enrolled, server):
    user, state = enrolled
    account = state.data["accounts"][0]
    started = flows.start_login(session_key="b", host="portal.test", browser="x")
    status, body = client._http(
        "POST",
        f"{server}/api/app/v1/logins/{started.challenge_id}",
        {
            "device": account["device"],
            "response": "0" * 64,
            "signature": appprotocol.b64(b"\x30\x00"),
        },
    )
    assert status == 403 and body["error"] == "bad_signature"
    assert AppDevice.objects.get(user=user).wrong_pins == 0


def test_fifty_parallel_answers_to_one_challenge_log_in_once(enrolled, server):
    user, state = enrolled
    account = state.data["accounts"][0]
    started = flows.start_login(session_key="race", host="portal.test", browser="x")
    _kind, params = appprotocol.parse_url(started.url)
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    secret = appprotocol.unprotect_secret(
        appprotocol.unb64(account["protected_secret"]), PIN, appprotocol.unb64(account["salt"])
    )
    message = appprotocol.login_message(
        challenge_id=started.challenge_id,
        challenge=appprotocol.unb64(params["c"]),
        host="portal.test",
    )
    response = appprotocol.response(secret, message)
    key = serialization.load_pem_private_key(account["device_key"].encode(), password=None)
    signature = key.sign(message + response.encode(), ec.ECDSA(hashes.SHA256()))
    results, errors, barrier = [], [], threading.Barrier(50)

    def answer():
        barrier.wait()
        try:
            results.append(
                flows.answer_login(
                    challenge_id=started.challenge_id,
                    device_id=account["device"],
                    response=response,
                    signature=signature,
                )
            )
        except DomainError as error:
            errors.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer) for _ in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.result for r in results] == ["ok"] and errors == ["challenge_invalid"] * 49
    assert challenges.collect(session_key="race", public_id=started.challenge_id).person == user


def test_a_stolen_state_file_cannot_be_checked_offline(enrolled):
    """All 10^6 PINs against the file alone: every PIN yields a different, equally valid-looking
    secret, and the file holds nothing to check a candidate against."""
    _user, state = enrolled
    account = json.loads(state.path.read_text())["accounts"][0]
    assert set(account) == {
        "server",
        "device",
        "display_name",
        "device_key",
        "salt",
        "protected_secret",
    }
    stored, salt = (
        appprotocol.unb64(account["protected_secret"]),
        appprotocol.unb64(account["salt"]),
    )
    candidates = {appprotocol.unprotect_secret(stored, f"{pin:06d}", salt) for pin in range(10**6)}
    assert len(candidates) == 10**6  # no PIN stands out: each gives its own 32-byte secret
    # The device key is not derived from the PIN and reveals nothing about the secret.
    assert PIN not in json.dumps(account)


def test_managers_block_unblock_and_delete_a_members_app_on_the_page(client, enrolled, person):
    user, _state = enrolled
    from zorgsleutel.authn import sessions

    member_membership = user.memberships.get()
    organisation = member_membership.organisation
    admin = person("administrator")
    client.force_login(admin)
    session = client.session
    now = clock.now().timestamp()
    session.update({sessions.AUTH_AT: now, sessions.SEEN_AT: now, sessions.ACR: "substantial"})
    session.save()
    url = f"/beheer/{organisation.public_id}/leden/{member_membership.pk}/apps"
    device = AppDevice.objects.get(user=user)
    assert "Testtelefoon" in client.get(url).content.decode()
    steps = {"block": {(device.public_id, "Zorggroep App"): "blocked"}, "unblock": {}}
    steps["delete"] = {(device.public_id, "Zorggroep App"): "revoked"}
    for action, decided in steps.items():
        form = {"device": device.public_id, "action": action}
        if action in ("block", "delete"):  # asks first (naming the app) and changes nothing
            before = decisions(user)
            asked = html.unescape(client.post(url, form).content.decode())
            assert "van manager persoon " in asked and decisions(user) == before
            form["bevestigd"] = "ja"
        assert client.post(url, form).status_code == 302
        if action == "block":  # the result names whose app, and for which organisation
            assert (
                'De app "Testtelefoon" van manager persoon is voor Zorggroep App geblokkeerd. '
                "Voor andere organisaties waar deze persoon bij hoort, blijft de app werken."
            ) in html.unescape(client.get(url).content.decode())
        assert decisions(user) == decided
        assert AppDevice.objects.get(pk=device.pk).state == "active"  # the app ID is the person's


def test_junk_naming_an_app_id_never_uses_up_its_budget(enrolled, server, settings):
    """Finding 9 of the tenancy review: 10 unsigned answers naming an app ID made its genuine
    answer 429 for a minute. Now only answers the app ID signed count against it."""
    from django.core.cache import cache
    from django.test import Client

    cache.clear()
    _user, state = enrolled
    account = state.data["accounts"][0]
    browser = Client()
    page = browser.get("/inloggen/app")
    challenge_id = page.context["challenge_id"]
    junk = {"device": account["device"], "response": "0" * 64, "signature": appprotocol.b64(b"x")}
    statuses = [
        client._http("POST", f"{server}/api/app/v1/logins/{challenge_id}", junk)[0]
        for _ in range(12)
    ]
    assert statuses == [403] * 12  # bad_signature, each; none of them 429
    client.login(page.context["url"], state=state, pin=PIN, yes=True, out=io.StringIO())
    assert browser.get(f"/wachten/{challenge_id}").json()["status"] == "ok"
    cache.clear()


def test_signed_answers_are_limited_per_app_id(enrolled):
    """RATE_LIMITS["app.answer"] = "10/m/device" (its window: tests/mobileapp/test_app_rules.py):
    the reference client words the eleventh refusal."""
    from django.core.cache import cache

    cache.clear()
    _user, state = enrolled
    results = []
    for number in range(11):
        try:
            _login(state, session=f"browser-{number}")
            results.append("ok")
        except client.ClientError as error:
            results.append(str(error))
    assert results[:10] == ["ok"] * 10
    assert results[10].startswith("Te veel verzoeken.")
    from zorgsleutel.core.models import AuditEvent

    refused = AuditEvent.objects.get(action="ratelimit.refused")  # committed with the refusal
    assert refused.details == {"action": "app.answer", "limits": ["device"]}
    cache.clear()


def test_the_waiting_poll_is_cheap_until_the_app_answers(enrolled, django_assert_max_num_queries):
    from django.test import Client

    _user, state = enrolled
    browser = Client()
    page = browser.get("/inloggen/app")
    challenge_id = page.context["challenge_id"]
    from django.core.cache import cache

    cache.clear()
    with django_assert_max_num_queries(1):  # the cache read (database cache); 0 with Redis
        assert browser.get(f"/wachten/{challenge_id}").json() == {"status": "waiting"}
    url = page.context["url"]
    client.login(url, state=state, pin=PIN, yes=True, out=io.StringIO())
    done = browser.get(f"/wachten/{challenge_id}").json()
    assert done["status"] == "ok"
    assert browser.get("/mijn").status_code == 200


def _waiting_browser():
    from django.test import Client

    browser = Client()
    page = browser.get("/inloggen/app")
    return browser, page.context["challenge_id"], page.context["url"]


def test_an_app_blocked_after_it_answered_logs_nobody_in(enrolled):
    """What the answer proved is asked again when the browser collects it."""
    _user, state = enrolled
    browser, challenge_id, url = _waiting_browser()
    client.login(url, state=state, pin=PIN, yes=True, out=io.StringIO())
    AppDevice.objects.update(state=AppDevice.BLOCKED)  # a manager blocks it meanwhile
    assert browser.get(f"/wachten/{challenge_id}").json() == {
        "status": "refused",
        "message": "Deze app is geblokkeerd. Vraag uw beheerder om te deblokkeren, of koppel de "
        "app opnieuw.",
    }
    assert browser.get("/mijn").status_code == 302  # not logged in
    assert browser.get(f"/wachten/{challenge_id}").status_code == 410  # and used up


def test_an_answered_challenge_not_collected_in_time_is_dead(enrolled):
    _user, state = enrolled
    browser, challenge_id, url = _waiting_browser()
    client.login(url, state=state, pin=PIN, yes=True, out=io.StringIO())
    with clock.frozen(clock.now() + timedelta(minutes=4)):  # the QR code lives 3 minutes
        answer = browser.get(f"/wachten/{challenge_id}?final=1")
    assert (answer.status_code, answer.json()["status"]) == (410, "expired")
    assert browser.get("/mijn").status_code == 302
