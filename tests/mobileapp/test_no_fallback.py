"""No fallback to a weaker means (finding 2 of the tenancy review; docs/app-protocol.md): once a
care provider's manager must use the app and has linked one, a blocked or removed app never
lets the password + SMS code in, nor a new app be linked by the person alone."""

from __future__ import annotations

import pytest

from appids import app_id, decisions
from people import PASSWORD
from support import shows_code_page
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.mobileapp import devices
from zorgsleutel.mobileapp.models import AppEnrolment
from zorgsleutel.organisations.models import Organisation

pytestmark = pytest.mark.django_db

HELD = (
    "Uw Zorgsleutel-app is geblokkeerd of verwijderd. Uw beheerder kan de app deblokkeren of u "
    "de app opnieuw laten koppelen."
)


@pytest.fixture
def manager(organisation, vault_service, sms_code, fresh_number):
    """A care provider's manager with a password and a confirmed mobile number."""
    user = User.objects.create(email="beheerder@app.nl", name="Bea Beheerder", state=User.ACTIVE)
    user.set_password(PASSWORD)
    sent = vault_service.enrol(phone=fresh_number(last_two="07"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    user.phone_enrolment = sent.enrolment
    user.save()
    Membership.objects.create(user=user, organisation=organisation, role="manager")
    return user


@pytest.fixture
def administrator(organisation):
    user = User.objects.create(email="admin@app.nl", name="Ada Admin", state=User.ACTIVE)
    Membership.objects.create(user=user, organisation=organisation, role="administrator")
    return user


def _app(user, organisation, state: str):
    """An app ID that works ("active"), or that the organisation blocked or removed."""
    return app_id(user, decided={} if state == "active" else {organisation: state})


def _sms_login(client):
    return client.post("/inloggen", {"email": "beheerder@app.nl", "password": PASSWORD})


@pytest.mark.parametrize("state", ["blocked", "revoked"])
def test_a_held_app_never_lets_sms_in(client, manager, organisation, state):
    _app(manager, organisation, state)
    response = _sms_login(client)
    assert response.status_code == 200
    assert HELD in response.content.decode()
    assert "zs_pending_code" not in client.session  # no code was sent


@pytest.mark.parametrize("state", ["blocked", "revoked"])
def test_a_held_app_cannot_be_replaced_by_the_person(
    client, manager, organisation, login_as, state
):
    _app(manager, organisation, state)
    login_as(client, manager, acr="low")  # a session from before the block
    response = client.get("/mijn/app-koppelen")
    assert response.status_code == 302 and response["Location"] == "/inloggen"
    assert not AppEnrolment.objects.filter(user=manager).exists()
    assert client.get("/mijn").status_code == 302  # and that session has ended


def test_an_active_app_is_the_way_in(client, manager, organisation):
    _app(manager, organisation, "active")
    response = _sms_login(client)
    assert "Uw rol vereist de Zorgsleutel-app: log in met de app." in response.content.decode()


def test_the_first_app_is_linked_after_an_sms_login(client, manager):
    assert shows_code_page(_sms_login(client))  # no app yet: SMS, then link the app


def test_a_manager_unblocks_or_releases_and_only_then_the_person_links_again(
    client, manager, administrator, organisation
):
    device = _app(manager, organisation, "active")
    devices.set_device_state(
        actor=administrator, organisation=organisation, device_id=device.public_id, action="delete"
    )
    assert HELD in _sms_login(client).content.decode()
    devices.set_device_state(
        actor=administrator, organisation=organisation, device_id=device.public_id, action="relink"
    )
    assert decisions(manager) == {(device.public_id, "Zorggroep App"): "released"}
    assert shows_code_page(_sms_login(client))  # now SMS, then link a new app


def test_in_a_business_the_app_is_not_required_and_sms_stays(client, vault_service, person_sms):
    business, user = person_sms
    _app(user, business, "blocked")
    response = client.post("/inloggen", {"email": user.email, "password": PASSWORD})
    assert shows_code_page(response)


@pytest.fixture
def person_sms(db, vault_service, sms_code, fresh_number):
    business = Organisation.objects.create(
        name="Bedrijf BV", kind=Organisation.BUSINESS, kvk_number="87654321"
    )
    user = User.objects.create(email="gebruiker@bedrijf.nl", name="Gijs", state=User.ACTIVE)
    user.set_password(PASSWORD)
    sent = vault_service.enrol(phone=fresh_number(last_two="08"))
    vault_service.verify(challenge=sent.challenge, code=sms_code(sent.hint))
    user.phone_enrolment = sent.enrolment
    user.save()
    Membership.objects.create(user=user, organisation=business, role="member")
    return business, user
