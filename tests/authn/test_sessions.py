"""A session keeps each authentication it saw (authn/sessions.py: record_authentication): a
step-up adds to what the first login proved; what the session says is their combination (the
highest level, the latest login that reached it, every method, the latest time); a login as
someone else starts clean, and every login gets a new session id."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage import default_storage
from django.test import RequestFactory

from appids import app_id
from zorgsleutel import policies
from zorgsleutel.authn import sessions
from zorgsleutel.core import clock
from zorgsleutel.people.models import Membership, Organisation, User

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
EPOCH = 1796635800  # T0 as a Unix time
SMS = {"means": "sms", "acr": "low", "amr": ["pwd", "sms"], "authenticator": ""}


def _person(email: str) -> User:
    care = Organisation.objects.get_or_create(name="Zorggroep", kind="care_provider")[0]
    user = User.objects.create(email=email, name=email, state=User.ACTIVE)
    Membership.objects.create(
        user=user, organisation=care, role="member", state="active", accepted_at=clock.now()
    )
    return user


def _request(session_key=None):
    request = RequestFactory().get("/")
    request.session = import_module(settings.SESSION_ENGINE).SessionStore(session_key)
    request.user = AnonymousUser()
    request._messages = default_storage(request)
    return request


def _log_in(request, person, means: str, at: datetime, authenticator: str = ""):
    with clock.frozen(at):
        sessions.complete_login(request, person, means, authenticator=authenticator)
        request.session.save()
    return request.session.session_key


def _said(request, at: datetime):
    """What the session says: sessions.authentication, read at `at`."""
    with clock.frozen(at):
        return sessions.authentication(request)


def test_a_stronger_login_of_the_same_person_adds_to_the_first():
    mira = _person("mira@x.nl")
    device = app_id(mira)
    request = _request()
    first = _log_in(request, mira, "sms", T0)
    second = _log_in(request, mira, "app", T0 + timedelta(minutes=2), device.public_id)
    assert first != second  # a new id for every login

    assert _said(request, T0 + timedelta(minutes=3)) == sessions.Authentication(
        means="app",
        acr="substantial",
        amr=("pwd", "sms", "swk", "pin"),
        at=T0 + timedelta(minutes=2),  # auth_time: the latest login
        authenticator=device.public_id,
    )
    assert request.session[sessions.AUTHENTICATIONS] == [
        {**SMS, "at": EPOCH},
        {
            "means": "app",
            "acr": "substantial",
            "amr": ["swk", "pin"],
            "at": EPOCH + 120,
            "authenticator": device.public_id,
        },
    ]
    assert request.session[sessions.STARTED_AT] == EPOCH  # the absolute timeout counts from it


def test_a_step_up_keeps_what_the_first_login_proved_across_its_logout():
    mira = _person("mira@x.nl")
    device = app_id(mira)
    request = _request()
    first = _log_in(request, mira, "sms", T0)
    request.user = mira
    with clock.frozen(T0 + timedelta(minutes=1)):
        response = sessions.step_up(request, mira, "substantial")
        request.session.save()
    assert (response.status_code, response["Location"]) == (302, "/inloggen/app")
    assert sessions.ACR not in request.session  # logged out until the app logs in
    between = request.session.session_key
    request.user = AnonymousUser()
    last = _log_in(request, mira, "app", T0 + timedelta(minutes=3), device.public_id)
    store = import_module(settings.SESSION_ENGINE).SessionStore
    # A new session id at the logout and at the login; neither earlier one is worth anything.
    assert len({first, between, last}) == 3
    assert not store().exists(first) and not store().exists(between)

    said = _said(request, T0 + timedelta(minutes=4))
    assert (said.acr, said.amr, said.at, said.means) == (
        "substantial",
        ("pwd", "sms", "swk", "pin"),
        T0 + timedelta(minutes=3),
        "app",
    )
    assert sessions.PROVED not in request.session


def test_a_login_as_someone_else_starts_clean():
    mira, other = _person("mira@x.nl"), _person("ander@x.nl")
    device = app_id(other)
    request = _request()
    _log_in(request, mira, "sms", T0)
    # Logged in on the same browser by someone else: nothing of the first login is theirs.
    _log_in(request, other, "app", T0 + timedelta(minutes=1), device.public_id)
    assert [a["means"] for a in request.session[sessions.AUTHENTICATIONS]] == ["app"]
    assert request.session[sessions.STARTED_AT] == EPOCH + 60
    # After a step-up of mira, someone else logs in with the app: clean as well.
    request = _request()
    _log_in(request, mira, "sms", T0)
    request.user = mira
    app_id(mira, public_id="app_mira")
    with clock.frozen(T0 + timedelta(minutes=1)):
        sessions.step_up(request, mira, "substantial")
    request.user = AnonymousUser()
    _log_in(request, other, "app", T0 + timedelta(minutes=2), device.public_id)
    said = _said(request, T0 + timedelta(minutes=3))
    assert (said.acr, said.amr, said.means) == ("substantial", ("swk", "pin"), "app")


@pytest.mark.parametrize(("minutes", "kept"), [(30, ["sms", "app"]), (31, ["app"])])
def test_a_step_up_keeps_the_first_login_for_30_minutes(minutes, kept):
    """The step-up's record waits policies.LOGIN_RETURN_TTL for the stronger login."""
    mira = _person("mira@x.nl")
    device = app_id(mira)
    request = _request()
    _log_in(request, mira, "sms", T0)
    request.user = mira
    with clock.frozen(T0 + timedelta(minutes=1)):
        sessions.step_up(request, mira, "substantial")
    request.user = AnonymousUser()
    _log_in(request, mira, "app", T0 + timedelta(minutes=1 + minutes), device.public_id)
    assert [a["means"] for a in request.session[sessions.AUTHENTICATIONS]] == kept


def test_a_timed_out_session_s_logins_are_not_kept():
    mira = _person("mira@x.nl")
    device = app_id(mira)
    request = _request()
    _log_in(request, mira, "sms", T0)
    request.user = mira
    _log_in(request, mira, "app", T0 + timedelta(minutes=31), device.public_id)  # idle > 30
    assert [a["means"] for a in request.session[sessions.AUTHENTICATIONS]] == ["app"]


def test_the_absolute_timeout_counts_from_the_first_login():
    mira = _person("mira@x.nl")
    device = app_id(mira)
    request = _request()
    _log_in(request, mira, "sms", T0)
    _log_in(request, mira, "app", T0 + timedelta(minutes=20), device.public_id)
    request.session[sessions.SEEN_AT] = (T0 + timedelta(hours=11, minutes=50)).timestamp()
    with clock.frozen(T0 + timedelta(hours=12)):
        assert not sessions.timed_out(request)
    with clock.frozen(T0 + timedelta(hours=12, seconds=1)):
        assert sessions.timed_out(request)


def test_a_session_keeps_its_last_8_authentications():
    assert policies.SESSION_AUTHENTICATIONS_KEPT == 8
    mira = _person("mira@x.nl")
    device = app_id(mira)
    request = _request()
    _log_in(request, mira, "app", T0, device.public_id)
    for minute in range(1, 9):  # eight more, each a minute later
        _log_in(request, mira, "sms", T0 + timedelta(minutes=minute))
    kept = request.session[sessions.AUTHENTICATIONS]
    assert [(a["means"], a["at"]) for a in kept] == [
        ("sms", EPOCH + 60 * minute) for minute in range(1, 9)
    ]  # the app's, the oldest, dropped: the session no longer claims what it proved
    said = _said(request, T0 + timedelta(minutes=9))
    assert (said.acr, said.amr, said.at) == ("low", ("pwd", "sms"), T0 + timedelta(minutes=8))
    assert request.session[sessions.STARTED_AT] == EPOCH


def test_a_weaker_login_later_keeps_the_level_and_the_authenticator_that_reached_it():
    mira = _person("mira@x.nl")
    device = app_id(mira)
    request = _request()
    _log_in(request, mira, "app", T0, device.public_id)
    _log_in(request, mira, "sms", T0 + timedelta(minutes=5))
    assert _said(request, T0 + timedelta(minutes=6)) == sessions.Authentication(
        means="app",
        acr="substantial",
        amr=("swk", "pin", "pwd", "sms"),
        at=T0 + timedelta(minutes=5),
        authenticator=device.public_id,
    )
