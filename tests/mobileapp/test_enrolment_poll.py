"""Linking an app on /mijn/app-koppelen is a cross-device challenge (authn/challenges.py): the
page waits on /wachten/<id>, the app's enrolment answers it, and only the browser that showed
the QR code collects it, once, while what the enrolment proved still holds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from appids import phone_enrols
from zorgsleutel.accounts.models import User
from zorgsleutel.authn import sessions
from zorgsleutel.core import clock
from zorgsleutel.mobileapp import devices
from zorgsleutel.mobileapp.models import AppDevice

pytestmark = pytest.mark.django_db(transaction=True)  # the answer's flag is set on commit

CHALLENGE_INVALID = "Deze code is niet (meer) geldig. Begin opnieuw op de pagina."
CHALLENGE_EXPIRED = "De code is verlopen. Laad de pagina opnieuw."


@pytest.fixture
def member(person):
    return person("member")  # of a care provider: password + SMS code is their level


def _enrol_page(browser: Client, user: User, login_as, acr: str = "low"):
    login_as(browser, user, acr=acr)
    page = browser.get("/mijn/app-koppelen")
    assert page.status_code == 200
    return page.context["status_url"], page.context["url"]


def _messages(browser: Client) -> list[str]:
    return [str(m) for m in browser.get("/mijn/apps").context["messages"]]


def test_the_page_waits_on_its_challenge_until_the_app_has_enrolled(member, login_as):
    browser = Client()
    status_url, qr_url = _enrol_page(browser, member, login_as)
    assert status_url.startswith("/wachten/en_")
    assert browser.get(status_url).json() == {"status": "waiting"}
    enrolled = phone_enrols(qr_url, name="Telefoon van Lid")
    device = AppDevice.objects.get(user=member)
    assert (enrolled.status_code, enrolled.json()) == (201, {"device": device.public_id})
    assert browser.get(status_url).json() == {"status": "ok", "next": "/mijn/apps"}
    assert "zs_app_enrolment" not in browser.session
    assert _messages(browser) == ["Uw Zorgsleutel-app is gekoppeld."]


def test_a_collected_enrolment_is_collected_once(member, login_as):
    browser = Client()
    status_url, qr_url = _enrol_page(browser, member, login_as)
    phone_enrols(qr_url)
    assert browser.get(status_url).json()["status"] == "ok"
    again = browser.get(status_url)
    assert (again.status_code, again.json()) == (
        410,
        {"status": "expired", "error": "challenge_invalid", "message": CHALLENGE_INVALID},
    )


def test_a_role_that_needs_the_app_goes_on_by_logging_in_with_it(person, login_as):
    manager = person("manager")
    browser = Client()
    status_url, qr_url = _enrol_page(browser, manager, login_as)  # an SMS session
    phone_enrols(qr_url)
    assert browser.get(status_url).json() == {"status": "ok", "next": "/inloggen/app"}
    assert browser.get("/mijn").status_code == 302  # the SMS session has ended
    login_page = browser.get("/inloggen/app")
    assert [str(m) for m in login_page.context["messages"]] == [
        "Uw Zorgsleutel-app is gekoppeld. Log nu in met de app."
    ]


def test_only_the_browser_that_showed_the_qr_code_collects_it(member, person, login_as):
    browser = Client()
    status_url, qr_url = _enrol_page(browser, member, login_as)
    phone_enrols(qr_url)
    nobody = Client()  # holds the id, no session
    assert (nobody.get(status_url).status_code, nobody.get(status_url).json()) == (
        404,
        {"status": "invalid"},
    )
    someone_else, same_person_elsewhere = Client(), Client()
    login_as(someone_else, person("member"), acr="low")
    login_as(same_person_elsewhere, member, acr="low")
    for other in (someone_else, same_person_elsewhere):
        refused = other.get(status_url)
        assert (refused.status_code, refused.json()["error"]) == (410, "challenge_invalid")
        assert _messages(other) == []  # told nothing, sent nowhere
    assert browser.get(status_url).json() == {"status": "ok", "next": "/mijn/apps"}


def test_reloading_shows_the_same_code_on_the_same_challenge_in_this_session_only(member, login_as):
    browser = Client()
    first = _enrol_page(browser, member, login_as)
    reloaded = browser.get("/mijn/app-koppelen").context
    assert (reloaded["status_url"], reloaded["url"]) == first
    # Under a new session key (as after a login) the old session's code is not shown again.
    session = browser.session
    session.cycle_key()
    session.save()
    browser.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    renewed = browser.get("/mijn/app-koppelen").context
    assert renewed["status_url"] != first[0] and renewed["url"] != first[1]


def test_the_waiting_poll_is_cheap_and_writes_no_session(
    member, login_as, django_assert_max_num_queries
):
    browser = Client()
    with clock.frozen(clock.now()):
        status_url, _qr_url = _enrol_page(browser, member, login_as)
        key = browser.session.session_key
        before = Session.objects.filter(pk=key).values_list("session_data", "expire_date").get()
        clock.advance(timedelta(minutes=2))  # a page would now write when it was last seen
        cache.clear()
        with django_assert_max_num_queries(1):  # the cache read (database cache); 0 with Redis
            assert browser.get(status_url).json() == {"status": "waiting"}
        after = Session.objects.filter(pk=key).values_list("session_data", "expire_date").get()
    assert after == before


def test_an_expired_enrolment_is_refused_with_its_code(member, login_as):
    browser = Client()
    with clock.frozen(clock.now()):
        status_url, qr_url = _enrol_page(browser, member, login_as)
        clock.advance(timedelta(minutes=5, seconds=1))  # the code lives 5 minutes
        final = browser.get(status_url + "?final=1")
        assert (final.status_code, final.json()) == (
            410,
            {"status": "expired", "error": "challenge_expired", "message": CHALLENGE_EXPIRED},
        )
        late = phone_enrols(qr_url)
    assert (late.status_code, late.json()["error"]) == (404, "enrolment_invalid")
    assert not AppDevice.objects.exists()


def test_an_enrolment_collected_after_it_expired_is_refused(member, login_as):
    browser = Client()
    with clock.frozen(clock.now()):
        status_url, qr_url = _enrol_page(browser, member, login_as)
        phone_enrols(qr_url)
        clock.advance(timedelta(minutes=5, seconds=1))
        late = browser.get(status_url)
    assert (late.status_code, late.json()["error"]) == (410, "challenge_expired")


def _block_person(user, _device):
    User.objects.filter(pk=user.pk).update(state=User.BLOCKED)


def _block_app(_user, device):
    device.state = AppDevice.BLOCKED  # three wrong PINs
    device.save(update_fields=["state"])


def _remove_app(user, device):
    devices.revoke_own_device(actor=user, device_id=device.public_id)


@pytest.mark.parametrize(
    ("meanwhile", "code"),
    [
        (_block_person, "account_blocked"),
        (_block_app, "device_blocked"),
        (_remove_app, "device_unknown"),
    ],
)
def test_what_the_enrolment_proved_is_asked_again_when_it_is_collected(
    member, login_as, meanwhile, code
):
    browser = Client()
    status_url, qr_url = _enrol_page(browser, member, login_as)
    phone_enrols(qr_url)
    meanwhile(member, AppDevice.objects.get(user=member))
    refused = browser.get(status_url).json()
    assert (refused["status"], refused["error"]) == ("refused", code)
    assert browser.get(status_url).status_code == 410  # used up


def test_a_session_that_timed_out_while_waiting_goes_no_further(member, login_as):
    browser = Client()
    status_url, qr_url = _enrol_page(browser, member, login_as)
    session = browser.session  # idle for 31 minutes (the idle timeout is 30), same key
    session[sessions.SEEN_AT] = (clock.now() - timedelta(minutes=31)).timestamp()
    session.save()
    phone_enrols(qr_url)
    assert browser.get(status_url).json() == {
        "status": "refused",
        "error": "session_ended",
        "message": "Uw sessie is beëindigd. Log opnieuw in.",
    }


def test_the_old_status_url_is_gone(member, login_as):
    browser = Client()
    _enrol_page(browser, member, login_as)
    assert browser.get("/mijn/app-koppelen/status").status_code == 404
