"""Phone numbers and SMS codes never reach the portal: not its database, its mails or its logs.

This test walks activation, login and reset through the pages, then searches everything the
portal holds. (The whole session's log records are searched too, at the end; see conftest.py.)
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from support import forms_of, secrets_in
from zorgsleutel.accounts.flows import members
from zorgsleutel.messaging.models import OutboxMail

pytestmark = pytest.mark.django_db(transaction=True)


def _portal_database_text() -> str:
    if connection.vendor == "sqlite":
        connection.close()
        name = Path(settings.DATABASES["default"]["NAME"])
        raw = b"".join(p.read_bytes() for p in name.parent.glob(name.name + "*"))
        return raw.decode("latin-1")
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (introspected names)
            chunks += [row[0] for row in cursor.fetchall()]
    return "\n".join(chunks)


def test_numbers_and_codes_stay_in_the_vault(
    client, organisation, person, sms_code, fresh_number, mailed_link, caplog, run_worker
):
    caplog.set_level(logging.DEBUG)
    used: set[str] = set()

    def remember(value: str) -> str:
        used.update(forms_of(value))
        return value

    manager = person(organisation, "manager")
    members.invite_member(
        actor=manager, organisation=organisation, name="Lea Lek", email="lea@zorggroep.nl"
    )
    link = mailed_link("lea@zorggroep.nl")
    first = remember(fresh_number("71"))
    client.post(
        link,
        {
            "password": "Lek-wachtwoord-2026",
            "password_again": "Lek-wachtwoord-2026",
            "phone": first,
        },
    )
    client.post(link + "/code", {"code": remember(sms_code("06 •• •• •• 71"))})
    client.post("/uitloggen")  # activation ended logged in: log in again, by SMS
    client.post("/inloggen", {"email": "lea@zorggroep.nl", "password": "Lek-wachtwoord-2026"})
    client.post("/inloggen/code", {"code": remember(sms_code("06 •• •• •• 71"))})
    assert client.get("/mijn").status_code == 200
    client.post("/wachtwoord-vergeten", {"email": "lea@zorggroep.nl"})
    run_worker()  # the worker mails the reset link (accounts/tasks.py)
    reset = mailed_link("lea@zorggroep.nl")
    second = remember(fresh_number("72"))
    client.post(
        reset,
        {
            "password": "Lek-wachtwoord-2027",
            "password_again": "Lek-wachtwoord-2027",
            "phone": second,
        },
    )
    client.post(reset + "/code", {"code": remember(sms_code("06 •• •• •• 72"))})
    client.post("/uitloggen")
    client.post("/inloggen", {"email": "lea@zorggroep.nl", "password": "Lek-wachtwoord-2027"})
    assert client.get("/inloggen/code").status_code == 200

    assert len(used) >= 8  # two numbers (three forms each) and four codes
    mails = "\n".join(m.subject + m.body_text + m.body_html for m in OutboxMail.objects.all())
    assert OutboxMail.objects.count() == 3
    assert secrets_in(mails, used) == []
    assert secrets_in(_portal_database_text(), used) == []
    assert secrets_in("\n".join(r.getMessage() for r in caplog.records), used) == []
