"""Every refusal about an app ID is audited with its code: beheer's actions on a person's app
IDs (`permission.denied` in the organisation's log, nothing changed), a person removing an app
ID that is not theirs (`app.revoke_refused`), and the app's own refusals: a removed app
answering a QR code, a login refused when the browser collects it, an enrolment code of a
person blocked since (`app.login_refused`, `app.enrolment_refused`)."""

from __future__ import annotations

import io

import pytest

from appids import app_id, decisions
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.clients import app as client
from zorgsleutel.core import clock
from zorgsleutel.core.errors import Conflict, NotFound, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.mobileapp import devices, enrolment
from zorgsleutel.mobileapp.models import AppDevice

PIN = "123456"


def _denied(action: str | None = None) -> list[tuple]:
    events = AuditEvent.objects.filter(outcome="denied").order_by("seq")
    if action:
        events = events.filter(action=action)
    return [(e.action, e.organisation, e.target, e.details) for e in events]


@pytest.fixture
def accepted(organisation):
    """`accepted(role, email)`: a person who accepted the organisation (app IDs reach them)."""

    def make(role: str, email: str) -> User:
        user = User.objects.create(email=email, name=role, state=User.ACTIVE)
        Membership.objects.create(
            user=user, organisation=organisation, role=role, accepted_at=clock.now()
        )
        return user

    return make


# --- Beheer: a person's app IDs ----------------------------------------------------------------


@pytest.mark.django_db
def test_an_app_id_this_organisation_does_not_know(organisation, accepted):
    manager = accepted("manager", "chef@app.nl")
    with pytest.raises(NotFound) as refused:
        devices.set_device_state(
            actor=manager, organisation=organisation, device_id="app_bestaatniet", action="block"
        )
    assert refused.value.code == "device_unknown"
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            "",  # neither the app ID nor a person it does not know is named
            {
                "action": "apps.block",
                "reason": "device_unknown",
                "names": {manager.audit_ref: "chef@app.nl"},
            },
        )
    ]


@pytest.mark.django_db
def test_a_manager_blocking_their_own_app(organisation, accepted):
    manager = accepted("manager", "chef@app.nl")
    device = app_id(manager)
    with pytest.raises(PermissionDenied) as refused:
        devices.set_device_state(
            actor=manager, organisation=organisation, device_id=device.public_id, action="block"
        )
    assert refused.value.code == "not_yourself"
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            device.audit_ref,
            {
                "action": "apps.block",
                "reason": "not_yourself",
                "names": {manager.audit_ref: "chef@app.nl"},
            },
        )
    ]
    assert decisions(manager) == {}


@pytest.mark.django_db
def test_a_manager_blocking_an_administrators_app(organisation, accepted):
    manager = accepted("manager", "chef@app.nl")
    admin = accepted("administrator", "admin@app.nl")
    device = app_id(admin)
    with pytest.raises(PermissionDenied) as refused:
        devices.set_device_state(
            actor=manager, organisation=organisation, device_id=device.public_id, action="block"
        )
    assert refused.value.code == "role_not_allowed"
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            device.audit_ref,
            {
                "action": "apps.block",
                "target_role": "administrator",
                "reason": "role_not_allowed",
                "names": {manager.audit_ref: "chef@app.nl"},
            },
        )
    ]
    assert decisions(admin) == {}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("decided", "action", "code", "permission"),
    [
        ("revoked", "block", "device_revoked", "apps.block"),
        (None, "relink", "device_not_removed", "apps.relink"),
    ],
)
def test_an_app_id_in_the_wrong_state_for_the_action(
    organisation, accepted, decided, action, code, permission
):
    """Decided inside the action's transaction (the app ID locked): the event is kept."""
    manager = accepted("manager", "chef@app.nl")
    member = accepted("member", "lid@app.nl")
    device = app_id(member, decided={organisation: decided} if decided else {})
    with pytest.raises(Conflict) as refused:
        devices.set_device_state(
            actor=manager, organisation=organisation, device_id=device.public_id, action=action
        )
    assert refused.value.code == code
    assert _denied() == [
        (
            "permission.denied",
            organisation.audit_ref,
            device.audit_ref,
            {
                "action": permission,
                "reason": code,
                "names": {manager.audit_ref: "chef@app.nl"},
            },
        )
    ]
    expected = {(device.public_id, organisation.name): decided} if decided else {}
    assert decisions(member) == expected


@pytest.mark.django_db
def test_removing_an_app_id_that_is_not_ones_own(organisation, accepted):
    member = accepted("member", "lid@app.nl")
    someone_elses = app_id(accepted("member", "ander@app.nl"))
    with pytest.raises(NotFound) as refused:
        devices.revoke_own_device(actor=member, device_id=someone_elses.public_id)
    assert refused.value.code == "device_unknown"
    assert _denied() == [
        (
            "app.revoke_refused",
            organisation.audit_ref,
            member.audit_ref,
            {"reason": "device_unknown", "names": {member.audit_ref: "lid@app.nl"}},
        )
    ]
    assert AppDevice.objects.get(pk=someone_elses.pk).state == AppDevice.ACTIVE


# --- The app ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_enrolment_code_of_a_person_blocked_since(organisation, accepted):
    member = accepted("member", "lid@app.nl")
    started = enrolment.start_enrolment(
        actor=member, session_acr="low", session_key="", purpose=enrolment.LINK_APP
    )
    User.objects.filter(pk=member.pk).update(state=User.BLOCKED)
    with pytest.raises(NotFound) as refused:  # the app learns no more than of a dead code
        enrolment.enrolment_info(code=started.code)
    assert refused.value.code == "enrolment_invalid"
    assert _denied() == [
        (
            "app.enrolment_refused",
            organisation.audit_ref,
            member.audit_ref,
            {"reason": "account_blocked", "names": {member.audit_ref: "lid@app.nl"}},
        )
    ]


@pytest.fixture
def enrolled(server, organisation, accepted, tmp_path):
    user = accepted("manager", "chef@app.nl")
    started = enrolment.start_enrolment(
        actor=user, session_acr="", session_key="", purpose=enrolment.LINK_APP
    )
    state = client.State(tmp_path / "state.json")
    client.enrol(started.url, state=state, pin=PIN, yes=True, name="Telefoon", out=io.StringIO())
    return user, state


def _waiting_browser():
    from django.test import Client

    browser = Client()
    page = browser.get("/inloggen/app")
    return browser, page.context["challenge_id"], page.context["url"]


@pytest.mark.django_db(transaction=True)
def test_a_removed_app_answering_a_qr_code(enrolled, organisation):
    """Before: refused as device_unknown, and nothing recorded."""
    user, state = enrolled
    device = AppDevice.objects.get(user=user)
    devices.revoke_own_device(actor=user, device_id=device.public_id)
    _browser, _challenge_id, url = _waiting_browser()
    with pytest.raises(client.ClientError, match=r"^Deze app is niet \(meer\) gekoppeld\.$"):
        client.login(url, state=state, pin=PIN, yes=True, out=io.StringIO())
    assert _denied("app.login_refused") == [
        (
            "app.login_refused",
            organisation.audit_ref,
            device.audit_ref,
            {"reason": "device_unknown", "names": {user.audit_ref: "chef@app.nl"}},
        )
    ]


@pytest.mark.django_db(transaction=True)
def test_a_login_refused_when_the_browser_collects_it(enrolled, organisation):
    """The app answered, then a manager blocked it: the browser is refused, and that refusal
    is in the log (before: it was not)."""
    user, state = enrolled
    browser, challenge_id, url = _waiting_browser()
    client.login(url, state=state, pin=PIN, yes=True, out=io.StringIO())
    AppDevice.objects.update(state=AppDevice.BLOCKED)
    assert browser.get(f"/wachten/{challenge_id}").json() == {
        "status": "refused",
        "message": "Deze app is geblokkeerd. Vraag uw beheerder om te deblokkeren, of koppel de "
        "app opnieuw.",
    }
    device = AppDevice.objects.get(user=user)
    assert _denied("app.login_refused") == [
        (
            "app.login_refused",
            organisation.audit_ref,
            device.audit_ref,
            {"reason": "device_blocked", "names": {user.audit_ref: "chef@app.nl"}},
        )
    ]
    assert browser.get("/mijn").status_code == 302  # not logged in


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("meanwhile", "code"),
    [("person", "account_blocked"), ("app", "device_blocked")],
)
def test_an_enrolment_refused_when_its_browser_collects_it(
    organisation, accepted, login_as, meanwhile, code
):
    """The app enrolled, then the person or the app was blocked: the waiting page is refused,
    and that refusal is in the log."""
    from django.test import Client

    from appids import phone_enrols

    member = accepted("member", "lid@app.nl")
    browser = Client()
    login_as(browser, member, acr="low")
    page = browser.get("/mijn/app-koppelen")
    phone_enrols(page.context["url"])
    device = AppDevice.objects.get(user=member)
    if meanwhile == "person":
        User.objects.filter(pk=member.pk).update(state=User.BLOCKED)
    else:
        AppDevice.objects.filter(pk=device.pk).update(state=AppDevice.BLOCKED)
    refused = browser.get(page.context["status_url"]).json()
    assert (refused["status"], refused["error"]) == ("refused", code)
    assert _denied("app.enrolment_refused") == [
        (
            "app.enrolment_refused",
            organisation.audit_ref,
            device.audit_ref,
            {"reason": code, "names": {member.audit_ref: "lid@app.nl"}},
        )
    ]
