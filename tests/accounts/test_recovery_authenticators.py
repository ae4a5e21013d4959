"""Recovery removes what an intruder linked, and linking is loud (issue 15, item 3).

The review's attack: an intruder with the mailbox reset the account, logged in by SMS and linked
his app; the victim reported *Dit was ik niet*, was unblocked and reset again, and the
intruder's app still logged in at `substantial`."""

from __future__ import annotations

import io
import re

import pytest

from appids import app_id
from zorgsleutel.clients import app as appclient
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.mobileapp import enrolment, flows
from zorgsleutel.mobileapp.models import AppDevice

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("clear_throttles")]

NEW = "Ander-wachtwoord-2026"
PIN = "482915"


@pytest.fixture
def server(live_server, settings):
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def member(organisation, person, vault_service, sms_code, fresh_number):
    user = person(organisation, "member", email="lid@zorggroep.nl", name="Lid Persoon")
    sent = vault_service.enrol(phone=fresh_number(last_two="51"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    user.phone_enrolment = sent.enrolment
    user.save()
    return user


def _link_in(mail: OutboxMail) -> str:
    return re.search(r"https?://[^/\s]+(/dit-was-ik-niet/\S+)", mail.body_text).group(1)


def _link_app(user, tmp_path, name: str) -> appclient.State:
    state = appclient.State(tmp_path / f"{name}.json")
    started = enrolment.start_enrolment(
        actor=user, session_acr="low", session_key="", purpose=enrolment.LINK_APP
    )
    appclient.enrol(started.url, state=state, pin=PIN, yes=True, name=name, out=io.StringIO())
    return state


def _app_login(state: appclient.State) -> None:
    started = flows.start_login(session_key="browser", host="portal.test", browser="x")
    appclient.login(started.url, state=state, pin=PIN, yes=True, out=io.StringIO())


def test_dit_was_ik_niet_removes_the_app_the_intruder_linked_after_the_reset(
    client, server, member, mailed_link, sms_code, fresh_number, run_worker, tmp_path
):
    own = app_id(member, public_id="app_eigen")  # the person's own app, from before
    client.post("/wachtwoord-vergeten", {"email": "lid@zorggroep.nl"})  # the intruder
    run_worker()
    link = mailed_link("lid@zorggroep.nl")
    client.post(link, {"password": NEW, "password_again": NEW, "phone": fresh_number("52")})
    client.post(link + "/code", {"code": sms_code("06 •• •• •• 52")})
    intruders = _link_app(member, tmp_path, "Inbreker")
    _app_login(intruders)  # it works, until the victim reads the mail

    report = _link_in(OutboxMail.objects.get(template="credentials_changed"))
    page = client.get(report).content.decode()
    assert "Sindsdien aan uw account gekoppeld:" in page
    assert re.search(r'de Zorgsleutel-app "Inbreker", op \d+ \w+ 20\d\d om \d\d:\d\d', page)
    assert "de hierboven genoemde apps worden verwijderd" in page
    assert AppDevice.objects.get(name="Inbreker").state == "active"  # a GET changes nothing

    done = client.post(report).content.decode()
    assert "Deze apps zijn van uw account verwijderd:" in done and "<li>Inbreker</li>" in done
    assert dict(AppDevice.objects.values_list("name", "state")) == {
        "Inbreker": "revoked",
        own.name: "active",
    }
    removed = AuditEvent.objects.get(action="app.revoked")
    assert removed.details == {
        "reason": "reported_not_me",
        "names": {member.audit_ref: "lid@zorggroep.nl"},
    }
    with pytest.raises(appclient.ClientError, match=r"^Deze app is niet \(meer\) gekoppeld\.$"):
        _app_login(intruders)  # also after the managers unblock and the person resets again


def test_linking_an_app_tells_the_person_and_the_organisations_that_require_it(
    client, server, organisation, person, vault_service, sms_code, fresh_number, tmp_path
):
    manager = person(organisation, "manager", email="beheer@zorggroep.nl", name="Bea Beheer")
    admin = person(organisation, "administrator", email="admin@zorggroep.nl", name="Ada Admin")
    sent = vault_service.enrol(phone=fresh_number(last_two="53"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    manager.phone_enrolment = sent.enrolment
    manager.save()
    _link_app(manager, tmp_path, "Telefoon van Bea")

    mails = dict(OutboxMail.objects.values_list("to", "template"))
    assert mails == {
        "beheer@zorggroep.nl": "authenticator_linked",
        "admin@zorggroep.nl": "authenticator_linked_alert",
    }
    own = OutboxMail.objects.get(to="beheer@zorggroep.nl")
    assert own.subject == "Er is een Zorgsleutel-app aan uw account gekoppeld"
    assert re.search(
        r'Op \d+ \w+ 20\d\d om \d\d:\d\d is de Zorgsleutel-app "Telefoon van Bea" aan uw account\s+'
        r"gekoppeld\.",
        own.body_text,
    )
    alert = OutboxMail.objects.get(to="admin@zorggroep.nl")
    assert alert.subject == "Bea Beheer heeft een Zorgsleutel-app gekoppeld"
    texts = [m["body"] for m in vault_service.dev_sms() if m["to"] == "06 •• •• •• 53"]
    assert texts[0] == (
        "Zorgsleutel: er is een app aan uw account gekoppeld. Was u dit niet? Gebruik de link "
        "'Dit was ik niet' in de e-mail die wij u stuurden, of neem contact op met uw beheerder."
    )
    notice = AuditEvent.objects.get(action="authenticator.link_notice")
    assert notice.details == {
        "means": "app",
        "managers": 1,
        "sms": True,
        "names": {manager.audit_ref: "beheer@zorggroep.nl"},
    }

    report = _link_in(own)
    page = client.get(report).content.decode()
    assert re.search(
        r'Op \d+ \w+ 20\d\d om \d\d:\d\d is de Zorgsleutel-app "Telefoon van Bea" aan uw '
        r"account gekoppeld\.",
        page,
    )
    client.post(report)
    assert AppDevice.objects.get(user=manager).state == "revoked"
    assert admin.memberships.get().state == "active"  # only the reporting person is blocked
