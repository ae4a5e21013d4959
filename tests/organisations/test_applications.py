"""Seed 003 steps 2 and 3: the application form, the mail with the application, and the
operator's decision (approval with a single-use validation link, or rejection with a reason)."""

from __future__ import annotations

import re

import pytest

from applicants import application_data
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core.errors import DomainError, FieldErrors, PermissionDenied
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.organisations.flows import applications
from zorgsleutel.organisations.models import Application, Organisation

pytestmark = pytest.mark.django_db

FORM = {
    "organisation_name": "Huisartsenpraktijk De Linde",
    "kvk_number": "1234 5678",
    "ura": "90000382",
    "agb_code": "",
    "street": "Lindelaan 1",
    "postal_code": "1234ab",
    "city": "Utrecht",
    "applicant_name": "Jan Test",
    "applicant_email": "Jan@DeLinde.nl",
    "applicant_uzi_number": "900016528",
    "declaration": "on",
}


def data(**changes) -> applications.ApplicationData:
    return application_data(**{**FORM, "declaration": True, **changes})


@pytest.fixture
def operator(db):
    return User.objects.create(
        email="ops@zorgsleutel.test", name="Ops", state=User.ACTIVE, is_operator=True
    )


def test_the_form_submits_and_the_applicant_receives_the_application(client):
    page = client.get("/organisatie/aanmelden")
    assert page.status_code == 200
    assert "Aanvraagformulier invullen" in page.content.decode()
    response = client.post("/organisatie/aanmelden", FORM)
    assert response.status_code == 302 and response["Location"] == "/organisatie/aangemeld"
    application = Application.objects.get()
    assert (application.kvk_number, application.postal_code, application.applicant_email) == (
        "12345678",
        "1234 AB",
        "jan@delinde.nl",
    )
    assert application.state == Application.SUBMITTED
    mail = OutboxMail.objects.get(to="jan@delinde.nl")
    assert mail.template == "application_received"
    assert "90000382" in mail.body_text and "900016528" in mail.body_text
    done = client.get("/organisatie/aangemeld").content.decode()
    assert "U ontvangt een e-mail met de aanvraag" in done
    assert AuditEvent.objects.filter(action="application.submitted").count() == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ura", "1234567", "URA bestaat uit 8 cijfers"),
        ("kvk_number", "12a45678", "KvK-nummer bestaat uit 8 cijfers"),
        ("agb_code", "123", "AGB-code bestaat uit 8 cijfers"),
        ("applicant_uzi_number", "12345678", "UZI-nummer bestaat uit 9 cijfers"),
        ("postal_code", "12345", "postcode"),
        ("applicant_email", "jan@gmail.com", "zakelijk e-mailadres"),
        ("declaration", "", "Bevestig"),
    ],
)
def test_each_wrong_field_gets_its_own_message_and_nothing_is_saved(client, field, value, message):
    form = {**FORM, field: value}
    if not value:
        form.pop(field)
    page = client.post("/organisatie/aanmelden", form)
    assert page.status_code == 200
    html = page.content.decode()
    assert message in html
    assert f'id="id_{field}_error"' in html
    assert not Application.objects.exists() and not OutboxMail.objects.exists()


def test_the_flow_refuses_every_wrong_field_at_once():
    """The API and the demo call the flow, not the form: it names every wrong field too."""
    with pytest.raises(FieldErrors) as refused:
        applications.submit_application(data=data(kvk_number="", postal_code="12"), locale="nl")
    assert [(e.code, e.field) for e in refused.value.errors] == [
        ("kvk_required", "kvk_number"),
        ("invalid_postal_code", "postal_code"),
    ]
    assert refused.value.as_dict()["errors"][0] == {
        "error": "kvk_required",
        "message": "Vul het KvK-nummer in.",
        "field": "kvk_number",
    }
    assert Application.objects.count() == 0


def test_a_second_open_application_for_one_ura_is_refused():
    applications.submit_application(data=data(), locale="nl")
    with pytest.raises(DomainError) as again:
        applications.submit_application(data=data(applicant_email="b@delinde.nl"), locale="nl")
    assert again.value.code == "application_open"
    assert Application.objects.count() == 1


def test_a_validated_ura_is_refused_without_naming_anyone(client):
    """The form is anonymous: it says the URA is taken, never by whom."""
    organisation = Organisation.objects.create(
        name="Zorggroep Linde", kind=Organisation.CARE_PROVIDER, state="validated", ura="90000382"
    )
    admin = User.objects.create(email="a@delinde.nl", name="Anna Admin", state=User.ACTIVE)
    Membership.objects.create(user=admin, organisation=organisation, role="administrator")
    response = client.post("/organisatie/aanmelden", FORM)
    page = response.content.decode()
    assert response.status_code == 200
    assert (
        "URA 90000382 is al geregistreerd bij Zorgsleutel. Vraag een portaaladministrator van uw "
        "organisatie om u toe te voegen."
    ) in page
    assert "Zorggroep Linde" not in page
    assert "Anna Admin" not in page and "a@delinde.nl" not in page
    assert not Application.objects.exists()
    with pytest.raises(DomainError) as refused:
        applications.submit_application(data=data(), locale="en")
    assert refused.value.code == "ura_registered"


def test_the_operator_approves_and_the_applicant_gets_a_single_use_link(operator, client):
    application = applications.submit_application(data=data(), locale="en")
    applications.approve_application(actor=operator, application_id=application.public_id)
    application.refresh_from_db()
    assert application.state == Application.APPROVED
    mail = OutboxMail.objects.filter(to="jan@delinde.nl").order_by("-pk").first()
    assert mail.template == "application_approved" and mail.locale == "en"
    link = re.search(r"https?://\S+/organisatie/valideren/(\S+)", mail.body_text).group(1)
    assert link not in application.validation_token_hash  # only the hash is stored
    with pytest.raises(DomainError) as twice:
        applications.approve_application(actor=operator, application_id=application.public_id)
    assert twice.value.code == "already_decided"


def test_rejection_needs_a_reason_which_the_applicant_receives(operator):
    application = applications.submit_application(data=data(), locale="nl")
    with pytest.raises(DomainError) as refused:
        applications.reject_application(
            actor=operator, application_id=application.public_id, reason=" "
        )
    assert refused.value.code == "reason_required"
    applications.reject_application(
        actor=operator, application_id=application.public_id, reason="KvK-nummer onbekend"
    )
    mail = OutboxMail.objects.filter(to="jan@delinde.nl").order_by("-pk").first()
    assert mail.template == "application_rejected" and "KvK-nummer onbekend" in mail.body_text
    # The URA is free again for a corrected application.
    applications.submit_application(data=data(), locale="nl")


def test_only_operators_decide(person):
    organisation = Organisation.objects.create(name="X", kind=Organisation.BUSINESS)
    administrator = person(organisation, "administrator")
    application = applications.submit_application(data=data(), locale="nl")
    for flow in (applications.approve_application, applications.renew_validation_link):
        with pytest.raises(PermissionDenied) as refused:
            flow(actor=administrator, application_id=application.public_id)
        assert refused.value.code == "forbidden"
    with pytest.raises(PermissionDenied) as refused:
        applications.reject_application(
            actor=administrator, application_id=application.public_id, reason="nee nee nee"
        )
    assert refused.value.code == "forbidden"
    assert Application.objects.get().state == Application.SUBMITTED
    assert AuditEvent.objects.filter(action="permission.denied").count() == 3


def test_the_console_queue_filters_and_decides(operator, client, login_as):
    submitted = applications.submit_application(data=data(), locale="nl")
    other = applications.submit_application(
        data=data(ura="90000999", organisation_name="Apotheek Oost"), locale="nl"
    )
    applications.reject_application(actor=operator, application_id=other.public_id, reason="dubbel")
    login_as(client, operator)
    queue = client.get("/operator/").content.decode()
    assert "Huisartsenpraktijk De Linde" in queue and "Apotheek Oost" not in queue
    rejected = client.get("/operator/?state=rejected").content.decode()
    assert "Apotheek Oost" in rejected and "Huisartsenpraktijk De Linde" not in rejected
    detail = client.get(f"/operator/aanvragen/{submitted.public_id}")
    assert detail.status_code == 200 and "900016528" in detail.content.decode()
    response = client.post(
        f"/operator/aanvragen/{submitted.public_id}/goedkeuren", {"bevestigd": "ja"}
    )
    assert response.status_code == 302
    submitted.refresh_from_db()
    assert submitted.state == Application.APPROVED and submitted.decided_by == operator


def test_the_console_is_closed_to_everyone_else(client, person, login_as):
    organisation = Organisation.objects.create(name="X", kind=Organisation.BUSINESS)
    application = applications.submit_application(data=data(), locale="nl")
    assert client.get("/operator/").status_code == 302  # to the login page
    login_as(client, person(organisation, "administrator"))
    for url in ("/operator/", "/operator/organisaties", "/operator/audit"):
        assert client.get(url).status_code == 403
    assert client.post(f"/operator/aanvragen/{application.public_id}/goedkeuren").status_code == 403
    assert Application.objects.get().state == Application.SUBMITTED


def test_the_form_is_limited_per_client_address(client):
    """policies.RATE_LIMITS["application.submit"] (10/h per client address): the form mails
    the applicant, so one address cannot make it mail without end; another address is not
    slowed. (A fixed window of an hour: the clock stands at the hour's start, so the window
    cannot end halfway. Each application mails another recipient: test_application_limits.py
    has the limit per recipient.)"""
    from datetime import UTC, datetime

    from django.core.cache import cache
    from django.test import Client

    from zorgsleutel.core import clock

    cache.clear()
    with clock.frozen(datetime.now(UTC).replace(minute=0, second=0, microsecond=0)):
        answers = [
            client.post(
                "/organisatie/aanmelden",
                {**FORM, "ura": f"900006{n:02d}", "applicant_email": f"jan{n}@delinde.nl"},
            ).status_code
            for n in range(11)
        ]
        assert answers == [302] * 10 + [429]
        assert Application.objects.count() == 10
        other = Client(REMOTE_ADDR="192.0.2.44")
        assert other.post("/organisatie/aanmelden", {**FORM, "ura": "90000699"}).status_code == 302
    cache.clear()
