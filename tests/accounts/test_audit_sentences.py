"""Beheer → Auditlog reads as sentences with names (issue 17, part 5): one per event, in the
page's language, with the people's addresses beside them, an outcome badge in words, the moment
as people write it; the filters offer names, not codes; a page costs the same statements for 2
events as for 100; the CSV keeps its machine fields."""

from __future__ import annotations

import ast
import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.conf import settings

from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core import audit, clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.smartcards.models import CardOrder, Smartcard

pytestmark = pytest.mark.django_db

# 7 December 2026, 13:05 UTC: 14:05 in Amsterdam (winter time).
AT = datetime(2026, 12, 7, 13, 5, tzinfo=UTC)

ROW = re.compile(
    r'<tr class="event" data-event="([a-z_.]+)"><td[^>]*><time datetime="([^"]+)">([^<]*)</time>'
    r'</td><td[^>]*><span class="zs-audit-sentence">([^<]*)</span>'
    r'(?:<span class="zs-audit-emails">([^<]*)</span>)?</td>'
    r'<td[^>]*><span class="utrecht-status-badge utrecht-status-badge--([a-z]+)">([^<]*)</span>'
)


def _rows(html: str) -> list[tuple[str, str, str, str]]:
    """(sentence, addresses, badge modifier, badge text) of every row, newest first."""
    return [(m[3], m[4], m[5], m[6]) for m in ROW.findall(html)]


def _person(organisation, name: str, email: str, role: str = "member") -> User:
    user = User.objects.create(email=email, name=name, state=User.ACTIVE)
    Membership.objects.create(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def demozorg(db):
    organisation = Organisation.objects.create(
        name="Demozorg", kind=Organisation.CARE_PROVIDER, ura="90000111"
    )
    people = {
        "anna": _person(organisation, "Anna Administrator", "admin@demozorg.nl", "administrator"),
        "bea": _person(organisation, "Bea Beheerder", "bea@demozorg.nl", "manager"),
        "gijs": _person(organisation, "Gijs Gebruiker", "gijs@demozorg.nl"),
        "mira": _person(organisation, "Mira Medewerker", "mira@demozorg.nl"),
        "carla": _person(organisation, "Carla Zorg", "carla@demozorg.nl"),
    }
    Membership.objects.update(accepted_at=AT)
    operator = User.objects.create(
        email="olga@zorgsleutel.test", name="Olga Operator", state=User.ACTIVE, is_operator=True
    )
    device = AppDevice.objects.create(
        public_id="app_gijs",
        user=people["gijs"],
        name="iPhone van Gijs",
        public_key=b"-",
        secret_ciphertext=b"-",
        enrolled_at=AT,
    )
    card = Smartcard.objects.create(
        public_id="sc_carla",
        user=people["carla"],
        organisation=organisation,
        serial="0a" * 20,
        card_serial="KAART-0042",
        certificate=b"",
        fingerprint="0" * 64,
        not_after=AT,
        issued_at=AT,
        route="in_person",
        state_changed_at=AT,
    )
    order = CardOrder.objects.create(
        public_id="order-1",
        organisation=organisation,
        quantity=3,
        delivery_address="Zorgstraat 1, Utrecht",
        ordered_by=people["anna"],
        ordered_at=AT,
        state_changed_at=AT,
    )
    return type(
        "Demozorg",
        (),
        {"org": organisation, "operator": operator, "device": device, "card": card,
         "order": order, **people},
    )  # fmt: skip


def _record_a_day(d) -> None:
    """One event of each area, as the flows record them (actor, target, details)."""
    org = d.org
    with clock.frozen(AT):
        audit.record(
            "login.succeeded",
            actor=d.mira,
            organisation=org,
            target=d.mira,
            details={"acr": "low", "amr": ["pwd", "sms"], "means": "sms"},
        )
        audit.record(
            "login.code_failed",
            actor=d.mira,
            organisation=org,
            target=d.mira,
            outcome=audit.FAILURE,
            details={"result": "wrong"},
        )
        audit.record("member.blocked", actor=d.bea, organisation=org, target=d.gijs)
        audit.record(
            "member.role_changed",
            actor=d.anna,
            organisation=org,
            target=d.bea,
            details={"from": "member", "to": "manager"},
        )
        audit.record(
            "permission.denied",
            actor=d.gijs,
            organisation=org,
            outcome=audit.DENIED,
            details={"action": "members.block", "reason": "forbidden"},
        )
        audit.record("app.enrolled", actor=d.gijs, organisation=org, target=d.device,
                     details={"name": "iPhone van Gijs", "waiting": 0})  # fmt: skip
        audit.record("app.blocked", actor=d.bea, organisation=org, target=d.device)
        audit.record(
            "smartcard.blocked",
            actor=d.anna,
            organisation=org,
            target=d.card,
            details={"serial": d.card.serial},
        )
        audit.record(
            "card_order.placed",
            actor=d.anna,
            organisation=org,
            target=d.order,
            details={"quantity": 3},
        )
        audit.record(
            "card_order.shipped",
            actor=d.operator,
            organisation=org,
            target=d.order,
            details={"quantity": 3, "serials": ["KAART-0041", "KAART-0042", "KAART-0043"]},
        )
        audit.record(
            "organisation.suspended",
            actor=d.operator,
            organisation=org,
            target=org,
            details={"reason": "Onbetaalde facturen", "members": 5},
        )


# Newest first, as the page lists them.
DUTCH = [
    ("Een operator van Zorgsleutel heeft Demozorg geschorst: Onbetaalde facturen", "",
     "success", "Gelukt"),
    ("Een operator van Zorgsleutel heeft de bestelling van 3 lege smartcards verstuurd "
     "(KAART-0041, KAART-0042, KAART-0043)", "", "success", "Gelukt"),
    ("Anna Administrator heeft 3 lege smartcards besteld", "admin@demozorg.nl",
     "success", "Gelukt"),
    ("Anna Administrator heeft de smartcard KAART-0042 van Carla Zorg geblokkeerd",
     "admin@demozorg.nl · carla@demozorg.nl", "success", "Gelukt"),
    ("Bea Beheerder heeft de app “iPhone van Gijs” van Gijs Gebruiker geblokkeerd",
     "bea@demozorg.nl · gijs@demozorg.nl", "success", "Gelukt"),
    ("Gijs Gebruiker heeft de app “iPhone van Gijs” gekoppeld", "gijs@demozorg.nl",
     "success", "Gelukt"),
    ("Gijs Gebruiker probeerde iemand te blokkeren; geweigerd: niet toegestaan",
     "gijs@demozorg.nl", "danger", "Geweigerd"),
    ("Anna Administrator heeft de rol van Bea Beheerder gewijzigd van medewerker in beheerder",
     "admin@demozorg.nl · bea@demozorg.nl", "success", "Gelukt"),
    ("Bea Beheerder heeft Gijs Gebruiker geblokkeerd", "bea@demozorg.nl · gijs@demozorg.nl",
     "success", "Gelukt"),
    ("Mira Medewerker heeft een sms-code ingevuld die niet werkte: onjuiste code",
     "mira@demozorg.nl", "warning", "Mislukt"),
    ("Mira Medewerker is ingelogd met sms-code", "mira@demozorg.nl", "success", "Gelukt"),
]  # fmt: skip

ENGLISH = [
    ("A Zorgsleutel operator suspended Demozorg: Onbetaalde facturen", "Succeeded"),
    ("A Zorgsleutel operator shipped the order of 3 blank smartcards "
     "(KAART-0041, KAART-0042, KAART-0043)", "Succeeded"),
    ("Anna Administrator ordered 3 blank smartcards", "Succeeded"),
    ("Anna Administrator blocked the smartcard KAART-0042 of Carla Zorg", "Succeeded"),
    ("Bea Beheerder blocked the app “iPhone van Gijs” of Gijs Gebruiker", "Succeeded"),
    ("Gijs Gebruiker linked the app “iPhone van Gijs”", "Succeeded"),
    ("Gijs Gebruiker tried to block someone; refused: not allowed", "Refused"),
    ("Anna Administrator changed the role of Bea Beheerder from member to manager",
     "Succeeded"),
    ("Bea Beheerder blocked Gijs Gebruiker", "Succeeded"),
    ("Mira Medewerker typed an SMS code that did not work: wrong code", "Failed"),
    ("Mira Medewerker logged in with an SMS code", "Succeeded"),
]  # fmt: skip


def _log(client, organisation, **params) -> str:
    return client.get(f"/beheer/{organisation.public_id}/audit", params).content.decode()


def test_every_event_reads_as_a_dutch_sentence_with_names(client, login_as, demozorg):
    _record_a_day(demozorg)
    login_as(client, demozorg.anna)
    assert _rows(_log(client, demozorg.org)) == DUTCH


def test_the_english_page_says_it_in_english(client, login_as, demozorg):
    _record_a_day(demozorg)
    login_as(client, demozorg.anna)
    client.cookies["django_language"] = "en"
    assert [(sentence, words) for sentence, _e, _b, words in _rows(_log(client, demozorg.org))] == (
        ENGLISH
    )


def test_the_moment_is_written_as_people_write_it(client, login_as, demozorg):
    _record_a_day(demozorg)
    login_as(client, demozorg.anna)
    [(iso, shown)] = {m[1:3] for m in ROW.findall(_log(client, demozorg.org))}
    assert (iso, shown) == ("2026-12-07T13:05:00+00:00", "7 december 2026, 14:05")
    client.cookies["django_language"] = "en"
    assert {m[2] for m in ROW.findall(_log(client, demozorg.org))} == {"7 December 2026, 14:05"}


def test_the_filters_offer_names_and_outcomes_in_words(client, login_as, demozorg):
    _record_a_day(demozorg)
    login_as(client, demozorg.anna)
    html = _log(client, demozorg.org, action="member.blocked", outcome="success")
    select = re.search(r'<select [^>]*id="f-action".*?</select>', html).group(0)
    assert re.findall(r'<optgroup label="([^"]+)">', select) == [
        "Inloggen", "Zorgsleutel-app", "Smartcards", "Eigen account", "Personen",
        "Organisatie", "Bestellingen", "Single sign-on",
    ]  # fmt: skip
    assert re.findall(r'<option value="(member\.[a-z_]+)"[^>]*>([^<]+)', select)[:3] == [
        ("member.created", "Persoon uitgenodigd"),
        ("member.imported", "Persoon geïmporteerd"),
        ("member.activation_resent", "Link opnieuw gestuurd"),
    ]
    assert '<option value="login.succeeded">Inloggen gelukt</option>' in select
    assert '<option value="member.blocked" selected>Persoon geblokkeerd</option>' in select
    assert "application.submitted" not in select  # operators' events are not offered here
    outcome = re.search(r'<select [^>]*id="f-outcome".*?</select>', html).group(0)
    assert re.findall(r'<option value="([a-z]*)"[^>]*>([^<]+)', outcome) == [
        ("", "alle"),
        ("success", "Gelukt"),
        ("denied", "Geweigerd"),
        ("failure", "Mislukt"),
    ]
    assert _rows(html) == [DUTCH[8]]


def test_a_page_costs_the_same_statements_for_many_events(
    client, login_as, demozorg, django_assert_num_queries
):
    """Names come in bulk: one query per kind of reference on the page (people, apps,
    smartcards, orders: 4), never one per event, beside the page's own 8 (session, person,
    memberships, organisation, permission, count, events); 100 events (a full page) cost what
    11 do."""
    # With Redis the session is read from the cache (cached_db), not the table: one fewer.
    statements = {False: 12, True: 11}[bool(settings.REDIS_URL)]
    login_as(client, demozorg.anna)
    _record_a_day(demozorg)
    with django_assert_num_queries(statements):
        _log(client, demozorg.org)
    for _day in range(9):
        _record_a_day(demozorg)
    assert AuditEvent.objects.count() == 110
    with django_assert_num_queries(statements):
        assert len(_rows(_log(client, demozorg.org))) == 100


def test_the_log_names_nothing_of_another_organisation(client, login_as, demozorg):
    """Tenancy: Demozorg's log names its own people, cards, orders and apps; someone of another
    organisation (and what is theirs) only as what it is, even when the event is Demozorg's."""
    other = Organisation.objects.create(
        name="Ander Bedrijf BV", kind=Organisation.BUSINESS, kvk_number="12345678"
    )
    outsider = _person(other, "Otto Ander", "otto@anderbedrijf.nl", "administrator")
    their_device = AppDevice.objects.create(
        public_id="app_otto",
        user=outsider,
        name="Otto's telefoon",
        public_key=b"-",
        secret_ciphertext=b"-",
        enrolled_at=AT,
    )
    their_card = Smartcard.objects.create(
        public_id="sc_otto",
        user=outsider,
        organisation=other,
        serial="0b" * 20,
        card_serial="KAART-9999",
        certificate=b"",
        fingerprint="1" * 64,
        not_after=AT,
        issued_at=AT,
        route="in_person",
        state_changed_at=AT,
    )
    with clock.frozen(AT):
        # Otto is refused in Demozorg (his own membership of Ander Bedrijf is none of its
        # business); events that name Ander Bedrijf's things, recorded for Demozorg, stay mute.
        audit.record(
            "permission.denied",
            actor=outsider,
            organisation=demozorg.org,
            target=other,
            outcome=audit.DENIED,
            details={"action": "api.other_organisation", "reason": "forbidden"},
        )
        audit.record("app.blocked", actor=demozorg.bea, organisation=demozorg.org,
                     target=their_device)  # fmt: skip
        audit.record("smartcard.blocked", actor=demozorg.bea, organisation=demozorg.org,
                     target=their_card, details={"serial": their_card.serial})  # fmt: skip
    login_as(client, demozorg.anna)
    html = _log(client, demozorg.org)
    short = outsider.audit_ref.split(":")[1][:8]
    assert _rows(html) == [
        ("Bea Beheerder heeft de smartcard (onbekend) geblokkeerd", "bea@demozorg.nl",
         "success", "Gelukt"),
        ("Bea Beheerder heeft de app (onbekend) geblokkeerd", "bea@demozorg.nl", "success",
         "Gelukt"),
        (f"Iemand buiten deze organisatie ({short}) probeerde met een API-token een andere "
         "organisatie te bereiken (een andere organisatie); geweigerd: niet toegestaan", "",
         "danger", "Geweigerd"),
    ]  # fmt: skip
    for secret in ("Otto", "otto@", "Ander Bedrijf", "KAART-9999", "telefoon"):
        assert secret not in html


def test_a_deleted_person_reads_as_the_address_the_organisation_knew(client, login_as, demozorg):
    """After Beheer deleted Gijs (and whether or not his account lives on elsewhere), the log
    shows the address the event kept; an old event that kept none, someone outside."""
    from zorgsleutel.accounts.flows import members

    with clock.frozen(AT):
        audit.record("member.blocked", actor=demozorg.bea, organisation=demozorg.org,
                     target=demozorg.gijs)  # fmt: skip
        members.delete_member(actor=demozorg.anna, membership=demozorg.gijs.memberships.get())
        AuditEvent(
            occurred_at=AT,
            actor=demozorg.bea.audit_ref,
            organisation=demozorg.org.audit_ref,
            action="member.unblocked",
            target=demozorg.gijs.audit_ref,
            outcome="success",
            prev_hash="",
            hash="",
            seq=AuditEvent.objects.count() + 1,
        ).save_new()
    login_as(client, demozorg.anna)
    short = demozorg.gijs.audit_ref.split(":")[1][:8]
    assert [sentence for sentence, *_rest in _rows(_log(client, demozorg.org))] == [
        f"Bea Beheerder heeft iemand buiten deze organisatie ({short}) gedeblokkeerd",
        "Anna Administrator heeft gijs@demozorg.nl verwijderd uit Demozorg",
        "Bea Beheerder heeft gijs@demozorg.nl geblokkeerd",
    ]


def test_an_unknown_event_reads_as_a_generic_sentence(client, login_as, demozorg):
    """An old row of a type no longer registered: a sentence, never an error page."""
    AuditEvent(
        occurred_at=AT,
        actor=demozorg.bea.audit_ref,
        organisation=demozorg.org.audit_ref,
        action="member.renamed",
        target=demozorg.gijs.audit_ref,
        outcome="success",
        details={"to": "Gijs"},
        prev_hash="",
        hash="",
        seq=1,
    ).save_new()
    from zorgsleutel.core import auditevents
    from zorgsleutel.people import auditlog

    # The page shows the registry's types only; the words still read an unknown one.
    assert "member.renamed" not in auditevents.EVENT_TYPES
    [row] = auditlog.rows(AuditEvent.objects.all(), organisation=demozorg.org)
    assert (row.sentence, row.outcome) == (
        "Bea Beheerder: gebeurtenis ‘member.renamed’ over Gijs Gebruiker",
        "Gelukt",
    )


# --- The CSV keeps the machine fields ----------------------------------------------------------


def test_the_csv_keeps_codes_references_and_iso_times(client, login_as, demozorg):
    _record_a_day(demozorg)
    login_as(client, demozorg.anna)
    export = client.get(f"/beheer/{demozorg.org.public_id}/audit.csv", {"action": "member."})
    header, *rows = csv.reader(io.StringIO(b"".join(export.streaming_content).decode()))
    assert header == [
        "seq", "time", "actor", "action", "target", "outcome", "ip", "user_agent", "details"
    ]  # fmt: skip
    # The details cell is the stored dict as Python writes it (its key order is the database's).
    assert [[*row[:8], ast.literal_eval(row[8])] for row in rows] == [
        ["4", "2026-12-07T13:05:00+00:00", "admin@demozorg.nl", "member.role_changed",
         "bea@demozorg.nl", "success", "", "", {"from": "member", "to": "manager"}],
        ["3", "2026-12-07T13:05:00+00:00", "bea@demozorg.nl", "member.blocked",
         "gijs@demozorg.nl", "success", "", "", {}],
    ]  # fmt: skip
    everything = client.get(f"/beheer/{demozorg.org.public_id}/audit.csv")
    rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode())))
    assert [(row[2], row[3], row[4], row[5]) for row in rows[1:]] == [
        ("user:" + str(demozorg.operator.public_id), "organisation.suspended",
         demozorg.org.audit_ref, "success"),
        ("user:" + str(demozorg.operator.public_id), "card_order.shipped", "cardorder:order-1",
         "success"),
        ("admin@demozorg.nl", "card_order.placed", "cardorder:order-1", "success"),
        ("admin@demozorg.nl", "smartcard.blocked", "smartcard:sc_carla", "success"),
        ("bea@demozorg.nl", "app.blocked", "appdevice:app_gijs", "success"),
        ("gijs@demozorg.nl", "app.enrolled", "appdevice:app_gijs", "success"),
        ("gijs@demozorg.nl", "permission.denied", "", "denied"),
        ("admin@demozorg.nl", "member.role_changed", "bea@demozorg.nl", "success"),
        ("bea@demozorg.nl", "member.blocked", "gijs@demozorg.nl", "success"),
        ("mira@demozorg.nl", "login.code_failed", "mira@demozorg.nl", "failure"),
        ("mira@demozorg.nl", "login.succeeded", "mira@demozorg.nl", "success"),
    ]  # fmt: skip
