"""App IDs: actions that say what they do (issue 17, part 3). Beheer's Blokkeren and Verwijderen
of a person's app, and removing one's own app, ask first on a page that names the app, the
person and the organisation and changes nothing; removing the app that is someone's last way to
log in says so. Only the page's POST acts, writes its audit event and names what it did."""

from __future__ import annotations

import pytest

from appids import app_id, decisions
from confirmpages import DANGER, confirmation, marked_rows, messages_of, page_text
from people import someone
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.models import Organisation

pytestmark = pytest.mark.django_db

# action → (title, consequence, button, message when done, decision afterwards, audit event)
BEHEER = {
    "block": (
        'De app "Telefoon" van Mira Medewerker blokkeren?',
        "Mira Medewerker kan deze app dan niet gebruiken voor Zorggroep App, totdat u hem "
        "deblokkeert. Voor andere organisaties waar deze persoon bij hoort, blijft de app werken.",
        "Blokkeren",
        'De app "Telefoon" van Mira Medewerker is voor Zorggroep App geblokkeerd. Voor andere '
        "organisaties waar deze persoon bij hoort, blijft de app werken.",
        "blocked",
        "app.blocked",
    ),
    "delete": (
        'De app "Telefoon" van Mira Medewerker verwijderen?',
        "De app werkt dan definitief niet meer voor Zorggroep App. Mira Medewerker kan pas een "
        'nieuwe app koppelen nadat u "Nieuwe app laten koppelen" kiest.',
        "Verwijderen",
        'De app "Telefoon" van Mira Medewerker is voor Zorggroep App verwijderd. Wilt u deze '
        'persoon een nieuwe app laten koppelen, kies dan "Nieuwe app laten koppelen".',
        "revoked",
        "app.deleted",
    ),
}
LAST_WAY_IN = (
    "Dit is uw laatste manier om in te loggen: uw rol vereist de Zorgsleutel-app, en geen andere "
    "app of pas van u werkt. Na het verwijderen kunt u niet meer inloggen, ook niet met "
    "wachtwoord en sms-code, totdat een portaaladministrator of beheerder van uw organisatie u een "
    "nieuwe app laat koppelen."
)


@pytest.fixture
def team(organisation):
    admin = someone(organisation, "administrator", email="ada@zorggroep.nl", name="Ada Admin")
    mira = someone(organisation, "member", email="mira@zorggroep.nl", name="Mira Medewerker")
    return admin, mira, app_id(mira, public_id="app_mira")


@pytest.mark.parametrize("action", ["block", "delete"])
def test_beheer_asks_before_it_blocks_or_deletes_an_app(
    client, organisation, team, login_as, action
):
    admin, mira, device = team
    login_as(client, admin)
    url = f"/beheer/{organisation.public_id}/leden/{mira.memberships.get().pk}/apps"
    title, consequence, button, message, decided, event = BEHEER[action]
    events = AuditEvent.objects.count()
    asked = client.post(url, {"action": action, "device": "app_mira"})
    assert confirmation(asked) == {
        "status": 200,
        "title": title,
        "consequences": [consequence],
        "items": [],
        "warning": "",
        "button": (button, DANGER),
        "carries": {"action": action, "device": "app_mira", "bevestigd": "ja"},
        "csrf": True,
        "back": url,
    }
    assert decisions(mira) == {} and AuditEvent.objects.count() == events

    done = client.post(
        url, {"action": action, "device": "app_mira", "bevestigd": "ja"}, follow=True
    )
    assert messages_of(done) == [message]
    assert decisions(mira) == {("app_mira", "Zorggroep App"): decided}
    assert [
        (e.action, e.organisation, e.target)
        for e in AuditEvent.objects.filter(seq__gt=events).order_by("seq")
    ] == [(event, organisation.audit_ref, device.audit_ref)]
    assert marked_rows(done) == ["app-app_mira"]


def test_unblocking_an_app_acts_at_once_and_names_it(client, organisation, team, login_as):
    admin, mira, _device = team
    app_id(mira, public_id="app_mira2", decided={organisation: "blocked"})
    login_as(client, admin)
    url = f"/beheer/{organisation.public_id}/leden/{mira.memberships.get().pk}/apps"
    done = client.post(url, {"action": "unblock", "device": "app_mira2"}, follow=True)
    assert messages_of(done) == [
        'De app "Telefoon" van Mira Medewerker werkt weer voor Zorggroep App.'
    ]
    assert decisions(mira) == {}
    assert marked_rows(done) == ["app-app_mira2"]


def test_another_organisation_s_manager_is_refused_on_both_steps(
    client, organisation, team, login_as
):
    _admin, mira, _device = team
    other = Organisation.objects.create(name="Bedrijf BV", kind="business", kvk_number="87654321")
    stranger = someone(other, "administrator", email="beheer@bedrijf.nl")
    login_as(client, stranger)
    url = f"/beheer/{organisation.public_id}/leden/{mira.memberships.get().pk}/apps"
    for form in (
        {"action": "block", "device": "app_mira"},
        {"action": "block", "device": "app_mira", "bevestigd": "ja"},
    ):
        answer = client.post(url, form)
        assert answer.status_code == 403
        assert "U mag dit niet doen." in page_text(answer)
    denied = AuditEvent.objects.filter(action="permission.denied").order_by("seq")
    assert [(e.details["reason"], e.details["action"]) for e in denied] == [
        ("forbidden", "members.view")
    ] * 2
    assert decisions(mira) == {}


def test_a_manager_may_not_block_an_administrator_s_app_on_the_page_either(
    client, organisation, team, login_as
):
    admin, _mira, _device = team
    app_id(admin, public_id="app_ada")
    bea = someone(organisation, "manager", email="bea@zorggroep.nl", name="Bea Beheerder")
    login_as(client, bea)
    url = f"/beheer/{organisation.public_id}/leden/{admin.memberships.get().pk}/apps"
    for form in (
        {"action": "block", "device": "app_ada"},
        {"action": "block", "device": "app_ada", "bevestigd": "ja"},
    ):
        answer = client.post(url, form)
        assert answer.status_code == 403
        assert (
            "Alleen een portaaladministrator kan de rol portaaladministrator toekennen of "
            "iets doen bij iemand "
            "met die rol."
        ) in page_text(answer)
    denied = AuditEvent.objects.filter(action="permission.denied").order_by("seq")
    assert [(e.details["reason"], e.details["action"]) for e in denied] == [
        ("role_not_allowed", "apps.block")
    ] * 2
    assert decisions(admin) == {}


# --- Mijn Zorgsleutel: removing one's own app ---------------------------------------------------


def test_removing_one_s_own_app_asks_first_and_names_it(client, team, login_as):
    _admin, mira, device = team
    login_as(client, mira, acr="low")
    url = "/mijn/apps/app_mira/verwijderen"
    events = AuditEvent.objects.count()
    for asked in (client.get(url), client.post(url)):  # the page's button POSTs without it
        assert confirmation(asked) == {
            "status": 200,
            "title": 'De app "Telefoon" verwijderen?',
            "consequences": [
                "U kunt dan niet meer inloggen met deze app, voor geen van uw organisaties. Wilt "
                "u de app weer gebruiken, dan koppelt u hem opnieuw."
            ],
            "items": [],
            "warning": "",  # password and SMS code still let a care worker in
            "button": ("Verwijderen", DANGER),
            "carries": {"bevestigd": "ja"},
            "csrf": True,
            "back": "/mijn/apps",
        }
    assert AppDevice.objects.get(pk=device.pk).state == "active"
    assert AuditEvent.objects.count() == events

    done = client.post(url, {"bevestigd": "ja"}, follow=True)
    assert messages_of(done) == ['De app "Telefoon" is verwijderd.']
    assert AppDevice.objects.get(pk=device.pk).state == "revoked"
    assert [e.action for e in AuditEvent.objects.filter(seq__gt=events)] == ["app.revoked"]


@pytest.mark.parametrize(
    "role, other_app, uzi_number, last",
    [
        ("manager", False, None, True),  # a care provider's manager must use the app
        ("manager", True, None, False),  # another app still works
        ("manager", False, "900012345", False),  # a UZI card bound to the account logs in
        ("member", False, None, False),  # password and SMS code still do
    ],
)
def test_removing_the_last_way_in_says_so(
    client, organisation, login_as, role, other_app, uzi_number, last
):
    bea = someone(organisation, role, email="bea@zorggroep.nl", name="Bea Beheerder")
    bea.uzi_number = uzi_number
    bea.save()
    app_id(bea, public_id="app_bea")
    if other_app:
        app_id(bea, public_id="app_bea2")
    login_as(client, bea)
    asked = client.get("/mijn/apps/app_bea/verwijderen")
    assert confirmation(asked)["warning"] == (LAST_WAY_IN if last else "")
    assert AppDevice.objects.get(public_id="app_bea").state == "active"


def test_someone_else_s_app_is_not_found_on_either_step(client, organisation, team, login_as):
    admin, _mira, device = team
    login_as(client, admin)
    url = "/mijn/apps/app_mira/verwijderen"
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    done = client.post(url, {"bevestigd": "ja"}, follow=True)
    assert messages_of(done) == ["Deze app is niet (meer) gekoppeld."]
    assert AppDevice.objects.get(pk=device.pk).state == "active"
    refused = AuditEvent.objects.get(action="app.revoke_refused")
    assert refused.details["reason"] == "device_unknown"
