"""Targeted lockout (security review): an attacker failing for a victim's address must not keep
the victim out. The OWASP device-cookie scheme (authn/devices.py, authn/throttle.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.test import Client
from django.utils import translation

from people import PASSWORD
from support import shows_code_page
from zorgsleutel.authn import devices, limits
from zorgsleutel.core import clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]
VICTIM = "doelwit@zorggroep.nl"
WRONG = {"email": VICTIM, "password": "Geraden-wachtwoord-1"}


@pytest.fixture(autouse=True)
def still():
    """The portal's clock stands still: the delays are about counts, not about how fast the
    machine runs the attack."""
    with clock.frozen(clock.now()):
        yield


@pytest.fixture
def enrolled(organisation, person, vault_service, sms_code, fresh_number):
    """`enrolled(email, last_two)`: an active person with a confirmed phone."""

    def make(email: str, last_two: str):
        user = person(organisation, "member", email=email)
        sent = vault_service.enrol(phone=fresh_number(last_two))
        vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
        user.phone_enrolment = sent.enrolment
        user.save()
        return user

    return make


@pytest.fixture
def victim(enrolled):
    return enrolled(VICTIM, "31")


def _log_in(client, sms_code, email=VICTIM, hint="06 •• •• •• 31"):
    """A complete login (password, then the code); returns the password step's answer."""
    answer = client.post("/inloggen", {"email": email, "password": PASSWORD})
    if shows_code_page(answer):
        done = client.post("/inloggen/code", {"code": sms_code(hint)})
        assert done.status_code == 302 and done["Location"] == "/mijn"
    return answer


def _attack(times: int) -> list[int]:
    """Wrong passwords for the victim from `times` addresses, no cookies; the answers' statuses."""
    return [
        Client(REMOTE_ADDR=f"198.51.100.{n % 250}").post("/inloggen", WRONG).status_code
        for n in range(times)
    ]


def test_a_complete_login_gives_the_browser_a_device_cookie(client, victim, sms_code):
    _log_in(client, sms_code)
    cookie = client.cookies[devices.COOKIE_NAME]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 365 * 24 * 3600
    assert devices.trusted_nonce(cookie.value, victim.pk) is not None


def test_fifty_failures_elsewhere_do_not_slow_the_victims_own_browser(client, victim, sms_code):
    _log_in(client, sms_code)  # yesterday: the victim's browser completed a login
    client.post("/uitloggen")
    statuses = _attack(50)
    assert statuses.count(200) == 10 and statuses.count(429) == 40  # the untrusted allowance
    answer = _log_in(client, sms_code)
    assert shows_code_page(answer)
    assert client.get("/mijn").status_code == 200


def test_without_a_device_cookie_the_attackers_failures_do_slow_down(victim, sms_code):
    _attack(50)
    answer = Client().post("/inloggen", {"email": VICTIM, "password": PASSWORD})
    assert (answer.status_code, answer["Retry-After"]) == (429, "2")
    assert "Te veel pogingen. Probeer het over 2 seconden opnieuw." in answer.content.decode()


def test_a_cookie_of_another_account_or_a_forged_one_counts_as_none(enrolled, victim, sms_code):
    other = enrolled("ander@zorggroep.nl", "32")
    browser = Client()
    _log_in(browser, sms_code, email=other.email, hint="06 •• •• •• 32")
    others_cookie = browser.cookies[devices.COOKIE_NAME].value
    forged = signing.dumps([victim.pk, "nonce-van-de-aanvaller"], salt="een-andere-salt")
    tampered = others_cookie.replace(str(other.pk), str(victim.pk), 1)
    for value in (others_cookie, forged, tampered):
        assert devices.trusted_nonce(value, victim.pk) is None
    _attack(50)
    for value in (others_cookie, forged, tampered):
        attacker = Client()
        attacker.cookies[devices.COOKIE_NAME] = value
        assert attacker.post("/inloggen", WRONG).status_code == 429


def test_a_device_cookie_expires_after_a_year(victim):
    cookie = devices.issue(None, victim.pk)
    with clock.frozen(clock.now() + timedelta(days=364)):
        assert devices.trusted_nonce(cookie, victim.pk) is not None
    with clock.frozen(clock.now() + timedelta(days=366)):
        assert devices.trusted_nonce(cookie, victim.pk) is None


def test_one_browser_keeps_device_cookies_for_several_accounts(enrolled, victim):
    other = enrolled("ander@zorggroep.nl", "32")
    cookie = devices.issue(devices.issue(None, victim.pk), other.pk)
    assert devices.trusted_nonce(cookie, victim.pk) is not None
    assert devices.trusted_nonce(cookie, other.pk) is not None
    again = devices.issue(cookie, victim.pk)  # a new login: a fresh nonce for that account
    assert devices.trusted_nonce(again, victim.pk) != devices.trusted_nonce(cookie, victim.pk)


def test_the_devices_own_failures_slow_it_and_a_success_clears_them(client, victim, sms_code):
    _log_in(client, sms_code)
    client.post("/uitloggen")
    for _ in range(4):
        assert client.post("/inloggen", WRONG).status_code == 200
    assert shows_code_page(_log_in(client, sms_code))  # clears this device's counter
    client.post("/uitloggen")
    for _ in range(5):
        assert client.post("/inloggen", WRONG).status_code == 200
    throttled = client.post("/inloggen", WRONG)
    assert throttled.status_code == 429
    assert "Probeer het over 2 seconden opnieuw." in throttled.content.decode()


def test_the_wait_is_one_seconde_not_one_seconden(victim):
    browser = Client()
    with clock.frozen(clock.now()):
        for _ in range(10):
            browser.post("/inloggen", WRONG)
        clock.advance(timedelta(seconds=1))
        dutch = browser.post("/inloggen", WRONG).content.decode()
        english = browser.post("/inloggen", WRONG, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Te veel pogingen. Probeer het over 1 seconde opnieuw." in dutch
    assert "Too many attempts. Try again in 1 second." in english
    with translation.override("nl"):
        wait = str(limits.message("login_throttled", 2))
        assert wait == "Te veel pogingen. Probeer het over 2 seconden opnieuw."
    with translation.override("en"):
        assert (
            str(limits.message("login_throttled", 2))
            == "Too many attempts. Try again in 2 seconds."
        )
