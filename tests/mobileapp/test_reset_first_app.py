"""A mailbox alone never reaches the app-required level (policies.new_app_waits).

The attack: Piet was made beheerder of a care provider and has not linked an app yet. An
intruder with Piet's mailbox resets the password and phone (the seed's flow), logs in by SMS and
links his own app, which would reach the care provider's Beheer. After a reset, an app linked
from below the person's required level works for an organisation that requires the app only
once that organisation allows it; a business customer, which does not, takes it at once."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from appids import decisions
from people import PASSWORD, someone
from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.clients import app as appclient
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.mobileapp import devices, enrolment
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.models import Organisation

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("server")]

NEW = "Ander-wachtwoord-2026"
PIN = "482915"
WAITS = "Deze app wacht op toestemming van de portaaladministrator of beheerder van uw organisatie."


@pytest.fixture
def world(organisation, vault_service, sms_code, fresh_number):
    """Zorggroep App (a care provider, the `organisation`) with its administrator, and Piet:
    a member with a phone, just made beheerder (so he needs the app), without an app yet."""
    admin = someone(organisation, "administrator", email="admin@zorggroep.nl")
    piet = someone(organisation, "member", email="piet@zorggroep.nl")
    sent = vault_service.enrol(phone=fresh_number(last_two="71"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    piet.phone_enrolment = sent.enrolment
    piet.save()
    members.change_role(actor=admin, membership=Membership.objects.get(user=piet), role="manager")
    return {"care": organisation, "admin": admin, "piet": piet}


def _reset_by_mail(browser: Client, run_worker, mailed_link, sms_code, fresh_number) -> None:
    """Wachtwoord vergeten with the mailbox: a new password and phone."""
    browser.post("/wachtwoord-vergeten", {"email": "piet@zorggroep.nl"})
    run_worker()
    link = mailed_link("piet@zorggroep.nl")
    browser.post(link, {"password": NEW, "password_again": NEW, "phone": fresh_number("72")})
    browser.post(link + "/code", {"code": sms_code("06 •• •• •• 72")})
    assert User.objects.get(email="piet@zorggroep.nl").check_password(NEW)


def _link_from(browser: Client, tmp_path, name: str) -> tuple[appclient.State, dict]:
    """The browser's own "App koppelen" page; the app scans its QR code; the page's poll."""
    page = browser.get("/mijn/app-koppelen")
    state = appclient.State(tmp_path / f"{name}.json")
    appclient.enrol(page.context["url"], state=state, pin=PIN, yes=True, name=name, out=_out())
    polled = browser.get(page.context["status_url"]).json()
    return state, polled


def _app_login(state: appclient.State) -> Client:
    """A browser logged in by the app (QR code, PIN), or ClientError with the refusal."""
    browser = Client()
    page = browser.get("/inloggen/app")
    appclient.login(page.context["url"], state=state, pin=PIN, yes=True, out=_out())
    polled = browser.get(f"/wachten/{page.context['challenge_id']}").json()
    assert polled["status"] == "ok", polled
    return browser


def _beheer(browser: Client, organisation: Organisation) -> int:
    return browser.get(f"/beheer/{organisation.public_id}", headers={"accept": "text/html"})


def _out():
    return io.StringIO()


def test_an_app_linked_after_a_reset_by_mail_waits_for_the_organisation(
    world, run_worker, mailed_link, sms_code, fresh_number, tmp_path
):
    intruder = Client()
    _reset_by_mail(intruder, run_worker, mailed_link, sms_code, fresh_number)
    assert intruder.session["zs_acr"] == "low"  # the reset ends logged in by SMS
    state, polled = _link_from(intruder, tmp_path, "Inbreker")
    assert polled == {"status": "ok", "next": "/inloggen/app"}
    linked = intruder.get(polled["next"]).content.decode()
    assert (
        "Uw Zorgsleutel-app is gekoppeld. Voor Zorggroep App werkt de app zodra een "
        "portaaladministrator of beheerder daar hem toestaat." in linked
    )
    app = AppDevice.objects.get(user=world["piet"])
    assert decisions(world["piet"]) == {(app.public_id, "Zorggroep App"): "pending"}
    with pytest.raises(appclient.ClientError, match=f"^{WAITS}$"):
        _app_login(state)  # no session at the app's level, so no Beheer
    refused = AuditEvent.objects.filter(action="app.login_refused").get()
    assert refused.details["reason"] == "device_pending"

    devices.set_device_state(  # the administrator knows it is Piet's: "Toestaan"
        actor=world["admin"], organisation=world["care"], device_id=app.public_id, action="unblock"
    )
    assert _beheer(_app_login(state), world["care"]).status_code == 200


def test_without_a_reset_the_new_beheerder_s_first_app_works_at_once(world, sms_code, tmp_path):
    """The other column: Piet logs in by SMS with his own password and links his first app."""
    browser = Client()
    browser.post("/inloggen", {"email": "piet@zorggroep.nl", "password": PASSWORD})
    browser.post("/inloggen/code", {"code": sms_code("06 •• •• •• 71")})
    state, polled = _link_from(browser, tmp_path, "Eigen")
    assert polled == {"status": "ok", "next": "/inloggen/app"}
    assert decisions(world["piet"]) == {}
    assert _beheer(_app_login(state), world["care"]).status_code == 200


def test_a_business_that_does_not_require_the_app_takes_it_at_once(
    world, run_worker, mailed_link, sms_code, fresh_number, tmp_path
):
    """Piet is also a member of a business customer, which asks no app: the app linked after
    the reset works there (where password + SMS was enough anyway), not at the care provider."""
    business = Organisation.objects.create(
        name="Bedrijf BV", kind=Organisation.BUSINESS, kvk_number="87654321"
    )
    Membership.objects.create(
        user=world["piet"],
        organisation=business,
        role="member",
        accepted_at=world["piet"].created_at,
    )
    intruder = Client()
    _reset_by_mail(intruder, run_worker, mailed_link, sms_code, fresh_number)
    state, _polled = _link_from(intruder, tmp_path, "Inbreker")
    app = AppDevice.objects.get(user=world["piet"])
    assert decisions(world["piet"]) == {(app.public_id, "Zorggroep App"): "pending"}
    browser = _app_login(state)
    assert _beheer(browser, world["care"]).status_code == 403


def test_a_release_after_the_reset_is_the_organisation_s_consent(
    world, run_worker, mailed_link, sms_code, fresh_number, tmp_path
):
    """Piet lost his phone with his app on it and forgot his password: he resets it, and the
    administrator, asked, removes the old app and lets him link a new one."""
    old = enrolment.start_enrolment(
        actor=world["piet"], session_acr="low", session_key="", purpose=enrolment.LINK_APP
    )
    appclient.enrol(
        old.url,
        state=appclient.State(tmp_path / "oud.json"),
        pin=PIN,
        yes=True,
        name="Oud",
        out=_out(),
    )
    lost = AppDevice.objects.get(user=world["piet"])
    browser = Client()
    _reset_by_mail(browser, run_worker, mailed_link, sms_code, fresh_number)
    for action in ("delete", "relink"):
        devices.set_device_state(
            actor=world["admin"],
            organisation=world["care"],
            device_id=lost.public_id,
            action=action,
        )
    browser.post("/inloggen", {"email": "piet@zorggroep.nl", "password": NEW})
    browser.post("/inloggen/code", {"code": sms_code("06 •• •• •• 72")})
    state, polled = _link_from(browser, tmp_path, "Nieuw")
    assert polled == {"status": "ok", "next": "/inloggen/app"}
    new = AppDevice.objects.get(user=world["piet"], name="Nieuw")
    assert decisions(world["piet"]) == {(lost.public_id, "Zorggroep App"): "released"}
    assert _beheer(_app_login(state), world["care"]).status_code == 200
    assert new.state == "active"


def test_a_session_at_the_required_level_links_without_waiting_after_a_reset(
    world, run_worker, mailed_link, sms_code, fresh_number, tmp_path
):
    """Piet has his app; he forgot his password and reset it, then logs in with the app and
    links a second phone: the app proved the person, the new one works at once."""
    first = enrolment.start_enrolment(
        actor=world["piet"], session_acr="low", session_key="", purpose=enrolment.LINK_APP
    )
    own = appclient.State(tmp_path / "eigen.json")
    appclient.enrol(first.url, state=own, pin=PIN, yes=True, name="Eigen", out=_out())
    _reset_by_mail(Client(), run_worker, mailed_link, sms_code, fresh_number)
    browser = _app_login(own)
    _state, polled = _link_from(browser, tmp_path, "Tweede")
    assert polled == {"status": "ok", "next": "/mijn/apps"}
    assert decisions(world["piet"]) == {}
