"""Who must use the app (docs/app-protocol.md): care providers' administrators and managers,
operators, and everyone in an organisation that requires it. Business customers keep SMS."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from zorgsleutel import policies
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.authn import password
from zorgsleutel.core.errors import DomainError
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_throttle():
    cache.clear()


def _user(kind: str, role: str, **org) -> User:
    organisation = Organisation.objects.create(name=f"{kind} {role}", kind=kind, **org)
    user = User.objects.create(
        email=f"{kind}.{role}@x.nl", name="X", state=User.ACTIVE, phone_enrolment="enr_x"
    )
    user.set_password("Sterk-wachtwoord-2026")
    user.save()
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.mark.parametrize(
    ("kind", "role", "required"),
    [
        ("care_provider", "administrator", "substantial"),
        ("care_provider", "manager", "substantial"),
        ("care_provider", "member", "low"),
        ("business", "manager", "low"),
        ("business", "member", "low"),
    ],
)
def test_required_assurance_by_role(kind, role, required):
    assert policies.required_acr(_user(kind, role)) == required


def test_an_organisation_may_require_the_app_for_everyone():
    assert (
        policies.required_acr(_user("business", "member", required_acr="substantial"))
        == "substantial"
    )


def test_an_invitation_not_yet_accepted_asks_nothing():
    """Only accepted memberships count: an invitation to be a care provider's manager does not
    make its invitee need the app before they accept it."""
    user = _user("business", "member")
    care = Organisation.objects.create(name="Zorg", kind="care_provider", ura="90000444")
    invited = Membership.objects.create(
        user=user, organisation=care, role="manager", state="invited", accepted_at=None
    )
    assert (invited.state, invited.accepted_at) == ("invited", None)
    assert policies.required_acr(user) == "low"


def test_operators_always_need_the_app():
    operator = User.objects.create(email="op@x.nl", name="Op", state=User.ACTIVE, is_operator=True)
    assert policies.required_acr(operator) == "substantial"


def _session(client, user, acr: str) -> None:
    from zorgsleutel.authn import sessions
    from zorgsleutel.core import clock

    client.force_login(user)
    session = client.session
    now = clock.now().timestamp()
    session.update({sessions.AUTH_AT: now, sessions.SEEN_AT: now, sessions.ACR: acr})
    session.save()


def test_a_care_manager_logged_in_by_sms_is_sent_to_link_the_app(client):
    manager = _user("care_provider", "manager")
    _session(client, manager, "low")
    response = client.get("/mijn", headers={"accept": "text/html"})
    assert response.status_code == 302 and response["Location"] == "/mijn/app-koppelen"
    assert client.get("/favicon.ico").status_code == 403  # not a page: no redirect
    assert client.get("/mijn/app-koppelen").status_code == 200
    organisation = manager.memberships.get().organisation
    api = client.get(f"/api/v1/organisations/{organisation.public_id}/members")
    assert api.status_code == 403 and api.json()["error"] == "assurance_required"


def test_with_an_app_the_sms_login_is_refused():
    manager = _user("care_provider", "manager")
    AppDevice.objects.create(
        public_id="app_x",
        user=manager,
        name="t",
        public_key=b"",
        secret_ciphertext=b"",
        enrolled_at=manager.created_at,
    )
    with pytest.raises(DomainError) as refused:
        password.check_credentials(
            email=manager.email, password="Sterk-wachtwoord-2026", ip="192.0.2.9"
        )
    assert refused.value.code == "app_required"


def test_an_app_session_may_manage(client):
    manager = _user("care_provider", "manager")
    _session(client, manager, "substantial")
    assert client.get("/mijn").status_code == 200


def test_business_managers_keep_sms(client):
    manager = _user("business", "manager")
    _session(client, manager, "low")
    assert client.get("/mijn").status_code == 200


def test_an_organisation_that_requires_the_app_holds_a_blocked_one_and_hears_of_a_new_one():
    """policies.requires_app: a business customer that requires the app (required_acr) is an
    organisation that requires it, like a care provider for its managers."""
    from appids import app_id
    from zorgsleutel.accounts.flows import linknotice
    from zorgsleutel.core import clock
    from zorgsleutel.messaging.models import OutboxMail
    from zorgsleutel.mobileapp import standing

    user = _user("business", "member", required_acr="substantial")
    organisation = user.memberships.get().organisation
    manager = User.objects.create(email="baas@x.nl", name="Baas", state=User.ACTIVE)
    Membership.objects.create(user=manager, organisation=organisation, role="manager")
    app_id(user, decided={organisation: "blocked"})
    assert standing.app_standing(user) == "held"  # no SMS, no new app by oneself
    linknotice.notify_authenticator_linked(
        person=user, means="app", name="Nieuwe telefoon", linked_at=clock.now()
    )
    assert OutboxMail.objects.filter(to="baas@x.nl", template="authenticator_linked_alert").exists()
