"""The Operatorconsole's weighty actions say what they do (issue 17, part 3): Goedkeuren,
Afwijzen and Schorsen ask first on a page that names the organisation, the applicant and the
consequence (and the reason given), and change nothing; only the page's POST acts, writes its
audit event, and names what it did. Nobody but an operator gets either step."""

from __future__ import annotations

import pytest

from applicants import application_data
from confirmpages import DANGER, PRIMARY, confirmation, marked_rows, messages_of, page_text
from people import someone
from zorgsleutel.accounts.models import User
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.organisations.flows import applications
from zorgsleutel.organisations.models import Application, Organisation

pytestmark = pytest.mark.django_db

REASON = "Het URA-nummer hoort bij een andere praktijk."


@pytest.fixture
def operator(db):
    return User.objects.create(
        email="ops@zorgsleutel.test", name="Olga Operator", state=User.ACTIVE, is_operator=True
    )


@pytest.fixture
def submitted(db):
    return applications.submit_application(data=application_data(), locale="nl")


def _decided(events: int) -> list[str]:
    return [e.action for e in AuditEvent.objects.filter(seq__gt=events).order_by("seq")]


def test_approving_asks_first_and_names_the_organisation(client, login_as, operator, submitted):
    login_as(client, operator)
    url = f"/operator/aanvragen/{submitted.public_id}/goedkeuren"
    events, mails = AuditEvent.objects.count(), OutboxMail.objects.count()
    for asked in (client.get(url), client.post(url)):
        assert confirmation(asked) == {
            "status": 200,
            "title": "De aanvraag van Huisartsenpraktijk De Linde goedkeuren?",
            "consequences": [
                "Jan Test (jan@delinde.nl) krijgt dan de bevestiging met de validatielink. "
                "Daarmee en met de UZI-pas valideert de aanvrager Huisartsenpraktijk De Linde en "
                "wordt er portaaladministrator van."
            ],
            "items": [],
            "warning": "",
            "button": ("Goedkeuren", PRIMARY),
            "carries": {"bevestigd": "ja"},
            "csrf": True,
            "back": f"/operator/aanvragen/{submitted.public_id}",
        }
    assert Application.objects.get().state == "submitted"
    assert (AuditEvent.objects.count(), OutboxMail.objects.count()) == (events, mails)

    done = client.post(url, {"bevestigd": "ja"}, follow=True)
    assert messages_of(done) == [
        "De aanvraag van Huisartsenpraktijk De Linde is goedgekeurd. De bevestiging met de "
        "validatielink is naar Jan Test gestuurd."
    ]
    assert Application.objects.get().state == "approved"
    assert _decided(events) == ["application.approved"]
    assert OutboxMail.objects.count() == mails + 1


def test_rejecting_asks_first_naming_the_reason(client, login_as, operator, submitted):
    login_as(client, operator)
    url = f"/operator/aanvragen/{submitted.public_id}/afwijzen"
    events, mails = AuditEvent.objects.count(), OutboxMail.objects.count()
    asked = client.post(url, {"reason": REASON})
    assert confirmation(asked) == {
        "status": 200,
        "title": "De aanvraag van Huisartsenpraktijk De Linde afwijzen?",
        "consequences": [
            "Jan Test (jan@delinde.nl) krijgt dan deze reden:",
            REASON,
            "Dit kunt u niet ongedaan maken; de aanvrager kan opnieuw een aanvraag doen.",
        ],
        "items": [],
        "warning": "",
        "button": ("Afwijzen", DANGER),
        "carries": {"reason": REASON, "bevestigd": "ja"},
        "csrf": True,
        "back": f"/operator/aanvragen/{submitted.public_id}",
    }
    assert Application.objects.get().state == "submitted"
    assert (AuditEvent.objects.count(), OutboxMail.objects.count()) == (events, mails)

    done = client.post(url, {"reason": REASON, "bevestigd": "ja"}, follow=True)
    assert messages_of(done) == [
        "De aanvraag van Huisartsenpraktijk De Linde is afgewezen. De reden is naar Jan Test "
        "gestuurd."
    ]
    application = Application.objects.get()
    assert (application.state, application.rejection_reason) == ("rejected", REASON)
    assert _decided(events) == ["application.rejected"]


def test_a_rejection_without_a_reason_is_not_asked_about(client, login_as, operator, submitted):
    """The reason is checked first (its message is the form's: tests/organisations); no page
    asks about a rejection that cannot be made, and a forged confirmation changes nothing."""
    login_as(client, operator)
    url = f"/operator/aanvragen/{submitted.public_id}/afwijzen"
    events = AuditEvent.objects.count()
    for form in ({"reason": ""}, {"reason": "", "bevestigd": "ja"}):
        answer = client.post(url, form, follow=True)
        assert 'name="bevestigd"' not in page_text(answer)
    assert Application.objects.get().state == "submitted"
    assert _decided(events) == []


def test_suspending_asks_first_and_names_the_organisation(client, login_as, operator):
    noord = Organisation.objects.create(
        name="Zorggroep Noord", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000701"
    )
    login_as(client, operator)
    url = f"/operator/organisaties/{noord.public_id}/schorsen"
    events = AuditEvent.objects.count()
    asked = client.post(url, {"reason": "Fraude-onderzoek"})
    assert confirmation(asked) == {
        "status": 200,
        "title": "Zorggroep Noord schorsen?",
        "consequences": [
            "Alle leden van Zorggroep Noord worden meteen uitgelogd en kunnen niets meer "
            "doen voor Zorggroep Noord, totdat u de schorsing opheft.",
            "Reden: Fraude-onderzoek",
        ],
        "items": [],
        "warning": "",
        "button": ("Schorsen", DANGER),
        "carries": {"reason": "Fraude-onderzoek", "bevestigd": "ja"},
        "csrf": True,
        "back": "/operator/organisaties",
    }
    noord.refresh_from_db()
    assert not noord.is_suspended and AuditEvent.objects.count() == events

    done = client.post(url, {"reason": "Fraude-onderzoek", "bevestigd": "ja"}, follow=True)
    assert messages_of(done) == [
        "Zorggroep Noord is geschorst; de sessies van de leden zijn beëindigd."
    ]
    noord.refresh_from_db()
    assert noord.is_suspended and noord.suspension_reason == "Fraude-onderzoek"
    assert _decided(events) == ["organisation.suspended"]
    assert marked_rows(done) == [f"organisation-{noord.public_id}"]

    # Herstellen takes nothing away: at once, naming the organisation, its row marked.
    back = client.post(f"/operator/organisaties/{noord.public_id}/herstellen", follow=True)
    assert messages_of(back) == ["De schorsing van Zorggroep Noord is opgeheven."]
    assert marked_rows(back) == [f"organisation-{noord.public_id}"]


@pytest.mark.parametrize(
    "path, form, permission",
    [
        ("aanvragen/{app}/goedkeuren", {}, "applications.review"),
        ("aanvragen/{app}/afwijzen", {"reason": REASON}, "applications.review"),
        ("organisaties/{org}/schorsen", {"reason": "Fraude-onderzoek"}, "organisations.suspend"),
    ],
)
def test_nobody_but_an_operator_gets_either_step(
    client, login_as, submitted, path, form, permission
):
    noord = Organisation.objects.create(
        name="Zorggroep Noord", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000701"
    )
    login_as(client, someone(noord, "administrator", email="ada@noord.nl"))
    url = "/operator/" + path.format(app=submitted.public_id, org=noord.public_id)
    for step in (form, {**form, "bevestigd": "ja"}):
        answer = client.post(url, step)
        assert answer.status_code == 403
        assert "U mag dit niet doen." in page_text(answer)
    denied = AuditEvent.objects.filter(action="permission.denied").order_by("seq")
    assert [(e.details["reason"], e.details["action"]) for e in denied] == [
        ("forbidden", permission)
    ] * 2
    noord.refresh_from_db()
    assert Application.objects.get().state == "submitted" and not noord.is_suspended
