"""Who governs an app ID (docs/accounts.md, "Who governs an authenticator"): each organisation the
person accepted decides about their app for itself. The attack of the review, step by step: a
business customer's member linked an app, accepted a care provider and was made beheerder there;
the business's manager blocked the app (locking the person out of the care provider, whose
administrator could not even see it), then removed and released it, after which password + SMS
alone linked a new app that reached the care provider's Beheer."""

from __future__ import annotations

import io

import pytest
from django.test import Client

from appids import decisions
from people import PASSWORD, someone
from support import shows_code_page
from zorgsleutel.accounts.flows import members, memberships
from zorgsleutel.accounts.models import Membership
from zorgsleutel.clients import app as client
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.mobileapp import devices, enrolment, flows
from zorgsleutel.mobileapp.models import AppDecision, AppDevice
from zorgsleutel.organisations.models import Organisation

pytestmark = pytest.mark.django_db
PIN = "482915"
FORBIDDEN_HERE = (
    "De Zorgsleutel-app waarmee u bent ingelogd is voor deze organisatie geblokkeerd of verwijderd."
)


@pytest.fixture
def world(organisation, server, vault_service, sms_code, fresh_number, tmp_path):
    """Zorggroep App (a care provider) and Bedrijf BV (a business customer), each with its own
    administrator or manager; Piet, first a member of Bedrijf BV with an app, then beheerder of
    Zorggroep App."""
    business = Organisation.objects.create(
        name="Bedrijf BV", kind=Organisation.BUSINESS, kvk_number="87654321"
    )
    care_admin = someone(organisation, "administrator", email="admin@zorggroep.nl")
    business_manager = someone(business, "administrator", email="beheer@bedrijf.nl")
    piet = someone(business, "manager", email="piet@bedrijf.nl")
    sent = vault_service.enrol(phone=fresh_number(last_two="31"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    piet.phone_enrolment = sent.enrolment
    piet.save()
    state = client.State(tmp_path / "piet.json")
    started = enrolment.start_enrolment(
        actor=piet, session_acr="low", session_key="", purpose=enrolment.LINK_APP
    )
    client.enrol(started.url, state=state, pin=PIN, yes=True, name="Piets telefoon", out=_out())
    invited = members.invite_member(
        actor=care_admin, organisation=organisation, name="Piet", email=piet.email
    )
    memberships.accept_invitation(actor=piet, membership=invited)
    members.change_role(
        actor=care_admin, membership=Membership.objects.get(pk=invited.pk), role="manager"
    )
    return {
        "care": organisation,
        "business": business,
        "care_admin": care_admin,
        "business_manager": business_manager,
        "piet": piet,
        "state": state,
        "device": AppDevice.objects.get(user=piet).public_id,
    }


def _out():
    return io.StringIO()


def _decide(world, who: str, organisation: str, action: str) -> None:
    devices.set_device_state(
        actor=world[who],
        organisation=world[organisation],
        device_id=world["device"],
        action=action,
    )


def _app_login(world) -> Client:
    """A browser logged in by Piet's app (QR code, PIN), or AssertionError with the refusal."""
    browser = Client()
    page = browser.get("/inloggen/app")
    client.login(page.context["url"], state=world["state"], pin=PIN, yes=True, out=_out())
    polled = browser.get(f"/wachten/{page.context['challenge_id']}").json()
    assert polled["status"] == "ok", polled
    return browser


def _beheer(browser: Client, organisation: Organisation):
    return browser.get(f"/beheer/{organisation.public_id}", headers={"accept": "text/html"})


def test_another_organisations_block_never_locks_the_person_out(world):
    _decide(world, "business_manager", "business", "block")
    browser = _app_login(world)  # the app still works for the care provider
    assert _beheer(browser, world["care"]).status_code == 200
    refused = _beheer(browser, world["business"])
    assert refused.status_code == 403
    assert FORBIDDEN_HERE in refused.content.decode()
    denied = AuditEvent.objects.filter(action="permission.denied").latest("pk")
    assert (denied.organisation, denied.details) == (
        world["business"].audit_ref,
        {
            "action": "members.view",
            "reason": "authenticator_not_accepted",
            "names": {world["piet"].audit_ref: "piet@bedrijf.nl"},
        },
    )


def test_every_organisation_the_person_accepted_sees_the_app_and_decides_for_itself(world):
    admin = Client()
    admin.force_login(world["care_admin"])
    session = admin.session
    from zorgsleutel.authn import sessions
    from zorgsleutel.core import clock

    now = clock.now().timestamp()
    session.update({sessions.AUTH_AT: now, sessions.SEEN_AT: now, sessions.ACR: "substantial"})
    session.save()
    care_membership = world["piet"].memberships.get(organisation=world["care"])
    page = admin.get(f"/beheer/{world['care'].public_id}/leden/{care_membership.pk}/apps")
    assert "Piets telefoon" in page.content.decode()
    _decide(world, "business_manager", "business", "block")
    _decide(world, "care_admin", "care", "block")
    assert decisions(world["piet"]) == {
        (world["device"], "Bedrijf BV"): "blocked",
        (world["device"], "Zorggroep App"): "blocked",
    }
    _decide(world, "care_admin", "care", "unblock")
    assert decisions(world["piet"]) == {(world["device"], "Bedrijf BV"): "blocked"}
    assert _beheer(_app_login(world), world["care"]).status_code == 200


def test_another_organisations_removal_and_release_never_lower_what_we_require(world):
    _decide(world, "business_manager", "business", "delete")
    _decide(world, "business_manager", "business", "relink")
    assert decisions(world["piet"]) == {(world["device"], "Bedrijf BV"): "released"}
    response = Client().post("/inloggen", {"email": "piet@bedrijf.nl", "password": PASSWORD})
    assert not shows_code_page(response)  # no SMS: the app still works for the care provider
    assert "Uw rol vereist de Zorgsleutel-app: log in met de app." in response.content.decode()


def test_a_new_app_waits_for_each_organisation_that_holds_the_old_one(world, tmp_path):
    """Both organisations removed Piet's app; the business released it, the care provider
    not yet: no SMS login. Once the care provider releases it, a new app counts at once. When
    the care provider holds an app again, a further app linked from a session of another app
    waits for its consent, while it works for the business."""
    _decide(world, "care_admin", "care", "delete")
    _decide(world, "business_manager", "business", "delete")
    _decide(world, "business_manager", "business", "relink")
    refused = Client().post("/inloggen", {"email": "piet@bedrijf.nl", "password": PASSWORD})
    assert "Uw Zorgsleutel-app is geblokkeerd of verwijderd." in refused.content.decode()
    _decide(world, "care_admin", "care", "relink")  # consent to a new app
    assert shows_code_page(
        Client().post("/inloggen", {"email": "piet@bedrijf.nl", "password": PASSWORD})
    )
    started = enrolment.start_enrolment(
        actor=world["piet"], session_acr="low", session_key="", purpose=enrolment.LINK_APP
    )
    second = client.State(tmp_path / "tweede.json")
    client.enrol(started.url, state=second, pin=PIN, yes=True, name="Tweede", out=_out())
    new = AppDevice.objects.get(user=world["piet"], name="Tweede")
    assert not AppDecision.objects.filter(device=new).exists()  # consented: works at once

    world["device"], world["state"] = new.public_id, second
    _decide(world, "care_admin", "care", "delete")  # the business still takes it
    third = enrolment.start_enrolment(
        actor=world["piet"], session_acr="substantial", session_key="", purpose=enrolment.LINK_APP
    )
    third_state = client.State(tmp_path / "derde.json")
    client.enrol(third.url, state=third_state, pin=PIN, yes=True, name="Derde", out=_out())
    waiting = AppDevice.objects.get(user=world["piet"], name="Derde")
    assert decisions(world["piet"])[(waiting.public_id, "Zorggroep App")] == "pending"
    world["device"], world["state"] = waiting.public_id, third_state
    browser = _app_login(world)
    assert _beheer(browser, world["business"]).status_code == 200
    assert _beheer(browser, world["care"]).status_code == 403
    _decide(world, "care_admin", "care", "unblock")  # the care provider allows it
    assert _beheer(browser, world["care"]).status_code == 200


def test_blocked_in_their_only_organisation_the_app_says_so_and_it_is_audited(
    server, person, organisation, tmp_path
):
    """The review: a person blocked in their only organisation who approved a QR login read
    "Uw organisatie is geschorst", and the refusal was not audited."""
    user, admin = person("manager"), person("administrator")
    state = client.State(tmp_path / "state.json")
    started = enrolment.start_enrolment(
        actor=user, session_acr="", session_key="", purpose=enrolment.LINK_APP
    )
    client.enrol(started.url, state=state, pin=PIN, yes=True, name="Telefoon", out=_out())
    members.block_member(actor=admin, membership=user.memberships.get(organisation=organisation))
    started = flows.start_login(session_key="browser-a", host="portal.test", browser="x")
    with pytest.raises(client.ClientError) as refused:
        client.login(started.url, state=state, pin=PIN, yes=True, out=_out())
    assert str(refused.value) == "Uw account is geblokkeerd. Neem contact op met uw beheerder."
    event = AuditEvent.objects.filter(action="app.login_refused").get()
    assert (event.outcome, event.details) == (
        "denied",
        {"reason": "account_blocked", "names": {user.audit_ref: user.email}},
    )
