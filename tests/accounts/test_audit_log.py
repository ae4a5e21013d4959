"""Administrators read their organisation's audit log (filters, CSV); managers do not."""

from __future__ import annotations

import ast
import csv
import io
import re

import pytest

from zorgsleutel.accounts.flows import members
from zorgsleutel.accounts.models import User
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import PermissionDenied
from zorgsleutel.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(organisation, person):
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    manager = person(organisation, "manager", email="beheer@zorggroep.nl")
    members.invite_member(
        actor=manager, organisation=organisation, name="Piet", email="piet@zorggroep.nl"
    )
    audit.record(
        "member.blocked",
        actor=manager,
        organisation=organisation,
        target="=HYPERLINK(1)",
        outcome=audit.FAILURE,
    )
    return admin, manager


def test_administrators_see_filter_and_export(
    client, organisation, other_organisation, history, login_as
):
    admin, _manager = history
    audit.record("member.created", actor="cli", organisation=other_organisation)  # not theirs
    login_as(client, admin)
    page = client.get(f"/beheer/{organisation.public_id}/audit").content.decode()
    assert "member.created" in page and "beheer@zorggroep.nl" in page
    assert page.count('class="event"') == 2
    filtered = client.get(f"/beheer/{organisation.public_id}/audit", {"outcome": "failure"})
    assert filtered.content.decode().count('class="event"') == 1
    export = client.get(f"/beheer/{organisation.public_id}/audit.csv", {"action": "member."})
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert rows[0][:4] == ["seq", "time", "actor", "action"] and len(rows) == 3
    assert any(cell == "'=HYPERLINK(1)" for row in rows for cell in row)  # no formula injection


def test_managers_and_outsiders_do_not(
    client, organisation, other_organisation, history, person, login_as
):
    _admin, manager = history
    login_as(client, manager)
    assert client.get(f"/beheer/{organisation.public_id}/audit").status_code == 403
    assert client.get(f"/beheer/{organisation.public_id}/audit.csv").status_code == 403
    outsider = person(other_organisation, "administrator")
    login_as(client, outsider)
    assert client.get(f"/beheer/{organisation.public_id}/audit").status_code == 403


def test_a_wrong_date_says_so_and_filters_nothing(client, organisation, history, login_as):
    """A date that is no date is shown on its field (and in the page's error summary); an
    unknown outcome or page is ignored, as a link with them is no one's typing."""
    login_as(client, history[0])
    everything = _page(client, organisation)
    response = client.get(
        f"/beheer/{organisation.public_id}/audit",
        {"from": "gisteren", "to": "2026-13-45", "outcome": "x", "page": "abc"},
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Fout: Auditlog · Zorggroep Test · Zorgsleutel</title>" in html
    assert re.findall(
        r'<li class="utrecht-unordered-list__item"><a [^>]*href="([^"]+)">([^<]+)', html
    ) == [
        ("#f-from", "Vul een datum in, zoals 31-12-2026."),
        ("#f-to", "Vul een datum in, zoals 31-12-2026."),
    ]
    assert 'aria-invalid="true" aria-describedby="f-from_error"' in html
    assert ROW.findall(html) == everything


def test_an_end_before_the_start_says_so(client, organisation, history, login_as):
    login_as(client, history[0])
    html = client.get(
        f"/beheer/{organisation.public_id}/audit", {"from": "31-12-2026", "to": "2026-12-01"}
    ).content.decode()
    assert re.findall(
        r'<li class="utrecht-unordered-list__item"><a [^>]*href="([^"]+)">([^<]+)', html
    ) == [("#f-to", "De datum ‘Tot en met’ ligt vóór de datum ‘Van’.")]
    assert 'id="f-from" type="date" name="from" value="2026-12-31"' in html  # as the input needs


# --- Whom the log names (docs/accounts.md, "Audit") --------------------------------------------
ROW = re.compile(
    r'<tr class="event" data-event="[a-z_.]+"><td[^>]*><time[^>]*>[^<]*</time></td>'
    r'<td[^>]*><span class="zs-audit-sentence">([^<]*)</span>'
    r'(?:<span class="zs-audit-emails">([^<]*)</span>)?</td>'
)


def _page(client, organisation) -> list[tuple[str, str]]:
    """(sentence, the addresses beside it) of every row, newest first."""
    return ROW.findall(client.get(f"/beheer/{organisation.public_id}/audit").content.decode())


def _short(person) -> str:
    """How the log shows someone it does not know: their pseudonym's first 8 characters."""
    return person.audit_ref.split(":")[1][:8]


def _csv(client, organisation) -> list[tuple[str, str, str, dict]]:
    """(actor, action, target, details) of every row, newest first."""
    export = client.get(f"/beheer/{organisation.public_id}/audit.csv")
    rows = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    # The details cell is the stored dict as Python writes it (its key order is the database's).
    return [(row[2], row[3], row[4], ast.literal_eval(row[8])) for row in rows[1:]]


def test_invited_then_deleted_reads_the_same_whether_or_not_an_account_exists_elsewhere(
    client, organisation, other_organisation, person, login_as
):
    """The review: after the deletion the new address's (anonymised) account showed as a
    pseudonym and the one that exists elsewhere by its address, which told the organisation
    the address had an account."""
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    person(other_organisation, "member", email="bestaand@zorggroep.nl")  # an account elsewhere
    for email in ("nieuw@zorggroep.nl", "bestaand@zorggroep.nl"):
        invited = members.invite_member(
            actor=admin, organisation=organisation, name="Getypte Naam", email=email
        )
        members.delete_member(actor=admin, membership=invited)
    assert User.objects.get(email="bestaand@zorggroep.nl").state == User.ACTIVE  # untouched
    assert not User.objects.filter(email="nieuw@zorggroep.nl").exists()  # anonymised
    login_as(client, admin)
    assert _page(client, organisation) == [
        ("Test Persoon heeft bestaand@zorggroep.nl verwijderd uit Zorggroep Test",
         "admin@zorggroep.nl · bestaand@zorggroep.nl"),
        ("Test Persoon heeft bestaand@zorggroep.nl uitgenodigd als medewerker",
         "admin@zorggroep.nl · bestaand@zorggroep.nl"),
        ("Test Persoon heeft nieuw@zorggroep.nl verwijderd uit Zorggroep Test",
         "admin@zorggroep.nl · nieuw@zorggroep.nl"),
        ("Test Persoon heeft nieuw@zorggroep.nl uitgenodigd als medewerker",
         "admin@zorggroep.nl · nieuw@zorggroep.nl"),
    ]  # fmt: skip
    created = {"role": "member", "application_roles": []}
    assert _csv(client, organisation) == [
        ("admin@zorggroep.nl", "member.deleted", "bestaand@zorggroep.nl", {}),
        ("admin@zorggroep.nl", "member.created", "bestaand@zorggroep.nl", created),
        ("admin@zorggroep.nl", "member.deleted", "nieuw@zorggroep.nl", {}),
        ("admin@zorggroep.nl", "member.created", "nieuw@zorggroep.nl", created),
    ]


def test_a_deleted_member_in_an_event_that_kept_no_name_is_a_pseudonym_either_way(
    client, organisation, other_organisation, person, login_as
):
    """Events recorded before names were kept: only people with a membership now are named,
    and a deleted member is a pseudonym whether or not their account still exists."""
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    elsewhere = person(other_organisation, "member", email="bestaand@zorggroep.nl")
    gone = User.objects.create(email="deleted-x@invalid", state=User.DELETED)
    for target in (elsewhere, gone):
        AuditEvent(
            occurred_at=clock.now(),
            actor=admin.audit_ref,
            organisation=organisation.audit_ref,
            action="member.deleted",
            target=target.audit_ref,
            outcome="success",
            prev_hash="",
            hash="",
            seq=AuditEvent.objects.count() + 1,
        ).save_new()
    login_as(client, admin)
    assert _page(client, organisation) == [
        (f"Test Persoon heeft iemand buiten deze organisatie ({_short(gone)}) verwijderd uit "
         "Zorggroep Test", "admin@zorggroep.nl"),
        (f"Test Persoon heeft iemand buiten deze organisatie ({_short(elsewhere)}) verwijderd "
         "uit Zorggroep Test", "admin@zorggroep.nl"),
    ]  # fmt: skip


def test_a_person_of_another_organisation_is_a_pseudonym(
    client, organisation, other_organisation, person, login_as
):
    admin = person(organisation, "administrator", email="admin@zorggroep.nl")
    member = person(organisation, "member", email="lid@zorggroep.nl")
    outsider = person(other_organisation, "administrator", email="baas@anderbedrijf.nl")
    with pytest.raises(PermissionDenied):  # a flow called with them as the actor
        members.block_member(actor=outsider, membership=member.memberships.get())
    login_as(client, outsider)  # their session: the person loaded with their memberships
    assert client.get(f"/beheer/{organisation.public_id}").status_code == 403
    login_as(client, admin)
    assert _page(client, organisation) == [
        (f"Iemand buiten deze organisatie ({_short(outsider)}) probeerde de personen te "
         "bekijken; geweigerd: niet toegestaan", ""),
        (f"Iemand buiten deze organisatie ({_short(outsider)}) probeerde iemand te blokkeren; "
         "geweigerd: niet toegestaan", ""),
    ]  # fmt: skip
    assert [
        (actor, details) for actor, _action, _target, details in _csv(client, organisation)
    ] == [
        (outsider.audit_ref, {"action": "members.view", "reason": "forbidden"}),
        (outsider.audit_ref, {"action": "members.block", "reason": "forbidden"}),
    ]
    assert "baas@anderbedrijf.nl" not in str(list(AuditEvent.objects.values_list("details")))
