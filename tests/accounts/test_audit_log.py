"""Administrators read their organisation's audit log (filters, CSV); managers do not."""

from __future__ import annotations

import csv
import io

import pytest

from zorgsleutel.accounts.flows import members
from zorgsleutel.core import audit

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


def test_bad_filters_are_ignored_not_errors(client, organisation, history, login_as):
    login_as(client, history[0])
    response = client.get(
        f"/beheer/{organisation.public_id}/audit",
        {"from": "gisteren", "to": "2026-13-45", "outcome": "x", "page": "abc"},
    )
    assert response.status_code == 200
