"""The operator console's logs read as sentences with names (issue 17, part 5): the platform
audit log (every organisation's events and the platform's own, with the organisation's name),
an application's history and a card order's history."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.conf import settings

from applicants import application_data
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core import audit, clock
from zorgsleutel.organisations.flows import applications
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.smartcards import orders

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 7, 13, 5, tzinfo=UTC)  # 14:05 in Amsterdam

ROW = re.compile(
    r'<tr class="event" data-event="[a-z_.]+"><td[^>]*>\d+</td><td[^>]*><time[^>]*>([^<]*)'
    r'</time></td><td[^>]*>([^<]*)</td><td[^>]*><span class="zs-audit-sentence">([^<]*)</span>'
    r'(?:<span class="zs-audit-emails">([^<]*)</span>)?</td>'
    r'<td[^>]*><span class="utrecht-status-badge utrecht-status-badge--[a-z]+">([^<]*)</span>'
)
HISTORY = re.compile(
    r'<li><time datetime="[^"]+">([^<]*)</time> <span class="zs-audit-sentence">([^<]*)</span> '
    r'<span class="utrecht-status-badge utrecht-status-badge--[a-z]+">([^<]*)</span></li>'
)


@pytest.fixture
def olga(db):
    return User.objects.create(
        email="olga@zorgsleutel.test", name="Olga Operator", state=User.ACTIVE, is_operator=True
    )


@pytest.fixture
def demozorg(db):
    organisation = Organisation.objects.create(
        name="Demozorg",
        kind=Organisation.CARE_PROVIDER,
        ura="90000111",
        state=Organisation.VALIDATED,
    )
    people = {}
    for key, name, email, role in (
        ("anna", "Anna Administrator", "admin@demozorg.nl", "administrator"),
        ("gijs", "Gijs Gebruiker", "gijs@demozorg.nl", "member"),
    ):
        people[key] = User.objects.create(email=email, name=name, state=User.ACTIVE)
        Membership.objects.create(
            user=people[key], organisation=organisation, role=role, accepted_at=AT
        )
    return organisation, people


def test_the_platform_log_names_everyone_and_each_event_s_organisation(
    client, login_as, olga, demozorg
):
    organisation, people = demozorg
    with clock.frozen(AT):
        application = applications.submit_application(data=application_data(), locale="nl")
        audit.record(
            "member.blocked", actor=people["anna"], organisation=organisation, target=people["gijs"]
        )
        audit.record(
            "login.code_failed",
            actor=people["gijs"],
            organisation=organisation,
            target=people["gijs"],
            outcome=audit.FAILURE,
            details={"result": "expired"},
        )
    login_as(client, olga)
    html = client.get("/operator/audit").content.decode()
    assert ROW.findall(html) == [
        ("7 december 2026, 14:05", "Demozorg",
         "Gijs Gebruiker heeft een sms-code ingevuld die niet werkte: code verlopen",
         "gijs@demozorg.nl", "Mislukt"),
        ("7 december 2026, 14:05", "Demozorg",
         "Anna Administrator heeft Gijs Gebruiker geblokkeerd",
         "admin@demozorg.nl · gijs@demozorg.nl", "Gelukt"),
        ("7 december 2026, 14:05", "", "De aanvraag van Huisartsenpraktijk De Linde is ingediend",
         "", "Gelukt"),
    ]  # fmt: skip
    # The filters: event names grouped by area, outcomes in words, the chosen ones selected.
    filtered = client.get("/operator/audit", {"action": "application.submitted"})
    assert '<option value="application.submitted" selected>Aanvraag ingediend</option>' in (
        filtered.content.decode()
    )
    assert [row[2] for row in ROW.findall(filtered.content.decode())] == [
        "De aanvraag van Huisartsenpraktijk De Linde is ingediend"
    ]
    assert str(application.public_id) not in html  # the application by its name only


def test_the_platform_log_costs_the_same_statements_for_a_full_page(
    client, login_as, olga, demozorg, django_assert_num_queries
):
    organisation, people = demozorg
    login_as(client, olga)

    def some_events(count: int) -> None:
        for _ in range(count):
            audit.record(
                "member.blocked",
                actor=people["anna"],
                organisation=organisation,
                target=people["gijs"],
            )

    # With Redis the session is read from the cache (cached_db), not the table: one fewer.
    statements = {False: 8, True: 7}[bool(settings.REDIS_URL)]
    some_events(2)
    with django_assert_num_queries(statements):  # the page, people and organisations
        client.get("/operator/audit")
    some_events(60)
    with django_assert_num_queries(statements):
        assert len(ROW.findall(client.get("/operator/audit").content.decode())) == 50


def test_an_application_s_history_reads_as_sentences(client, login_as, olga):
    with clock.frozen(AT):
        application = applications.submit_application(data=application_data(), locale="nl")
        applications.approve_application(actor=olga, application_id=application.public_id)
    login_as(client, olga)
    html = client.get(f"/operator/aanvragen/{application.public_id}").content.decode()
    assert HISTORY.findall(html) == [
        ("7 december 2026, 14:05", "De aanvraag van Huisartsenpraktijk De Linde is ingediend",
         "Gelukt"),
        ("7 december 2026, 14:05",
         "Olga Operator heeft de aanvraag van Huisartsenpraktijk De Linde goedgekeurd", "Gelukt"),
    ]  # fmt: skip
    client.cookies["django_language"] = "en"
    html = client.get(f"/operator/aanvragen/{application.public_id}").content.decode()
    assert HISTORY.findall(html) == [
        ("7 December 2026, 14:05", "The application of Huisartsenpraktijk De Linde was submitted",
         "Succeeded"),
        ("7 December 2026, 14:05",
         "Olga Operator approved the application of Huisartsenpraktijk De Linde", "Succeeded"),
    ]  # fmt: skip


def test_a_card_order_s_history_reads_as_sentences(client, login_as, olga, demozorg):
    organisation, people = demozorg
    with clock.frozen(AT):
        order = orders.place_card_order(
            actor=people["anna"],
            organisation=organisation,
            quantity=2,
            delivery_address="Zorgstraat 1, Utrecht",
        )
        orders.ship_card_order(
            actor=olga, order_id=order.public_id, serials="KAART-0001,KAART-0002"
        )
    login_as(client, olga)
    html = client.get(f"/operator/smartcardbestellingen/{order.public_id}").content.decode()
    assert HISTORY.findall(html) == [
        ("7 december 2026, 14:05", "Anna Administrator heeft 2 lege smartcards besteld", "Gelukt"),
        ("7 december 2026, 14:05",
         "Olga Operator heeft de bestelling van 2 lege smartcards verstuurd (KAART-0001, "
         "KAART-0002)", "Gelukt"),
    ]  # fmt: skip
