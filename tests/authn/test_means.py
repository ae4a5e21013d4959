"""The registry of login means (authn/means.py): what is registered, the rules of registering,
and the one answer to "may this person use this means now?" (refusal)."""

from __future__ import annotations

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.test import RequestFactory

from appids import app_id
from zorgsleutel.authn import means, sessions
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.people.models import Membership, Organisation, User

pytestmark = pytest.mark.django_db


def test_the_four_means_of_today_are_registered():
    assert [(m.name, m.acr, m.amr, m.start, m.enrol) for m in means.registered()] == [
        ("sms", "low", ("pwd", "sms"), "authn:login", ""),
        ("app", "substantial", ("swk", "pin"), "mobileapp:login", "mobileapp:enrol"),
        ("uzi", "high", ("sc", "hwk", "pin"), "smartcards:login", ""),
        ("smartcard", "high", ("sc", "hwk", "pin"), "smartcards:login", ""),
    ]
    assert means.step_up_paths() == (
        "/inloggen/app",
        "/mijn/app-koppelen",
        "/api/app/",
        "/inloggen/smartcard",
    )


def test_a_name_is_registered_once_and_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="login means 'sms' is registered already"):
        means.register(means.Means(name="sms", acr="high", amr=("x",), start="authn:login"))
    with pytest.raises(ValueError, match="unknown assurance level 'very high'"):
        means.register(means.Means(name="new", acr="very high", amr=("x",), start="x"))
    with pytest.raises(LookupError, match="no login means 'new' is registered"):
        means.get("new")


def _organisation(kind: str, name: str) -> Organisation:
    return Organisation.objects.create(name=name, kind=kind)


def _person(email: str, *places, app: str | None = None, state: str = User.ACTIVE) -> User:
    """places: (organisation, role, membership state), each accepted by the person."""
    user = User.objects.create(email=email, name=email, state=state)
    for organisation, role, membership_state in places:
        Membership.objects.create(
            user=user,
            organisation=organisation,
            role=role,
            state=membership_state,
            accepted_at=clock.now(),
        )
    if app == "released":  # removed, and the first organisation let them link a new one
        app_id(user, "revoked", decided={places[0][0]: "released"})
    elif app:
        app_id(user, app)
    return User.objects.get(pk=user.pk)


def test_who_may_use_which_means_now():
    care = _organisation("care_provider", "Zorggroep")
    business = _organisation("business", "Bedrijf")
    suspended = _organisation("business", "Geschorst")
    suspended.suspended_at = clock.now()
    suspended.save()
    people = {
        "care worker": _person("a@x.nl", (care, "member", "active")),
        "manager, no app yet": _person("b@x.nl", (care, "manager", "active")),
        "manager, app active": _person("c@x.nl", (care, "manager", "active"), app="active"),
        "manager, app blocked": _person("d@x.nl", (care, "manager", "active"), app="blocked"),
        "manager, app removed": _person("e@x.nl", (care, "manager", "active"), app="revoked"),
        "manager, app released": _person("f@x.nl", (care, "manager", "active"), app="released"),
        "business admin, app blocked": _person(
            "g@x.nl", (business, "administrator", "active"), app="blocked"
        ),
        "blocked everywhere": _person("h@x.nl", (business, "member", "blocked")),
        "blocked in one of two": _person(
            "i@x.nl", (business, "member", "blocked"), (care, "member", "active")
        ),
        "only in a suspended one": _person("j@x.nl", (suspended, "member", "active")),
        "blocked account": _person("k@x.nl", (care, "member", "active"), state=User.BLOCKED),
    }
    assert {who: means.usable(person) for who, person in people.items()} == {
        "care worker": {"sms": None, "app": None, "uzi": None, "smartcard": None},
        "manager, no app yet": {"sms": None, "app": None, "uzi": None, "smartcard": None},
        "manager, app active": {"sms": "app_required", "app": None, "uzi": None, "smartcard": None},
        "manager, app blocked": {"sms": "app_held", "app": None, "uzi": None, "smartcard": None},
        "manager, app removed": {"sms": "app_held", "app": None, "uzi": None, "smartcard": None},
        "manager, app released": {"sms": None, "app": None, "uzi": None, "smartcard": None},
        "business admin, app blocked": {"sms": None, "app": None, "uzi": None, "smartcard": None},
        "blocked everywhere": {
            "sms": "membership_blocked",
            "app": "membership_blocked",
            "uzi": "membership_blocked",
            "smartcard": "membership_blocked",
        },
        "blocked in one of two": {"sms": None, "app": None, "uzi": None, "smartcard": None},
        "only in a suspended one": {
            "sms": "organisation_suspended",
            "app": "organisation_suspended",
            "uzi": "organisation_suspended",
            "smartcard": "organisation_suspended",
        },
        "blocked account": {
            "sms": "account_blocked",
            "app": "account_blocked",
            "uzi": "account_blocked",
            "smartcard": "account_blocked",
        },
    }


@pytest.mark.parametrize(
    ("name", "acr", "amr"),
    [
        ("sms", "low", ["pwd", "sms"]),
        ("app", "substantial", ["swk", "pin"]),
        ("uzi", "high", ["sc", "hwk", "pin"]),
        ("smartcard", "high", ["sc", "hwk", "pin"]),
    ],
)
def test_complete_login_writes_the_means_into_the_session_and_the_event(name, acr, amr):
    care = _organisation("care_provider", "Zorggroep")
    person = _person("lid@x.nl", (care, "member", "active"))
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.session["before"] = "kept"
    request.session.save()
    before = request.session.session_key
    request.user = None
    sessions.complete_login(request, person, name)
    # The rotated row, stored in the transaction of the event, holds how the person logged in.
    stored = SessionStore(session_key=request.session.session_key).load()
    assert request.session.session_key != before and not SessionStore().exists(before)
    assert (stored["zs_acr"], stored["zs_amr"], stored["zs_means"], stored["before"]) == (
        acr,
        amr,
        name,
        "kept",
    )
    request.session.save()  # what the session middleware does with the answer
    stored = SessionStore(session_key=request.session.session_key).load()
    assert stored["_auth_user_id"] == str(person.pk)
    [event] = AuditEvent.objects.filter(action="login.succeeded")
    assert event.details == {
        "acr": acr,
        "amr": amr,
        "means": name,
        "names": {person.audit_ref: "lid@x.nl"},
    }


@pytest.mark.parametrize("who", ["the same person", "someone else"])
def test_a_login_on_a_logged_in_session_gets_a_new_id_too(who):
    """Django's login keeps the id for the same person and empties it for another; the login
    means' facts must land in a new session either way."""
    care = _organisation("care_provider", "Zorggroep")
    person = _person("lid@x.nl", (care, "member", "active"))
    other = _person("ander@x.nl", (care, "member", "active"))
    request = RequestFactory().get("/")
    request.session = SessionStore()
    request.user = None
    sessions.complete_login(request, person, "sms")
    request.session.save()
    first = request.session.session_key
    sessions.complete_login(request, person if who == "the same person" else other, "app")
    request.session.save()
    stored = SessionStore(session_key=request.session.session_key).load()
    assert request.session.session_key != first and not SessionStore().exists(first)
    assert (stored["zs_acr"], stored["zs_means"]) == ("substantial", "app")
