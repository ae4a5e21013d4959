"""Organisatie aanmelden mails the address typed in the form (seed 003 step 2), so the mails are
limited per recipient too, not only per client address: policies.RATE_LIMITS["application.
submit"] = "10/h/ip,3/h/recipient,10/d/recipient". Over a limit nothing is stored or mailed,
the page answers 429 with Retry-After and the window's first refusal is audited.

The clock stands at midnight UTC, the start of both windows, and each application comes from
its own client address, so only the recipient's limits are at work.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.test import Client

from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.organisations.models import Application

pytestmark = pytest.mark.django_db

FORM = {
    "organisation_name": "Huisartsenpraktijk De Linde",
    "kvk_number": "1234 5678",
    "agb_code": "",
    "street": "Lindelaan 1",
    "postal_code": "1234ab",
    "city": "Utrecht",
    "applicant_name": "Jan Test",
    "applicant_uzi_number": "900016528",
    "declaration": "on",
}
URL = "/organisatie/aanmelden"


@pytest.fixture(autouse=True)
def midnight():
    cache.clear()
    with clock.frozen(datetime(2026, 12, 1, tzinfo=UTC)):
        yield
    cache.clear()


def apply(number: int, email: str):
    """One application from its own client address, for its own URA."""
    form = {**FORM, "ura": f"9000{number:04d}", "applicant_email": email}
    return Client(REMOTE_ADDR=f"192.0.2.{number}").post(URL, form)


def test_one_recipient_gets_three_application_mails_an_hour():
    # The same address, written differently, is one recipient.
    emails = [
        "jan@delinde.nl",
        "Jan@DeLinde.nl",
        " jan@delinde.nl",
        "JAN@delinde.nl",
        "jan@delinde.nl",
    ]
    answers = [apply(n, email) for n, email in enumerate(emails, start=1)]
    assert [a.status_code for a in answers] == [302, 302, 302, 429, 429]
    assert answers[3]["Retry-After"] == "3600"
    assert "Te veel verzoeken. Probeer het over 60 minuten opnieuw." in answers[3].content.decode()
    assert OutboxMail.objects.filter(to="jan@delinde.nl").count() == 3
    assert Application.objects.count() == 3
    refused = AuditEvent.objects.get(action="ratelimit.refused")  # the first refusal only
    assert refused.details == {"action": "application.submit", "limits": ["recipient"]}
    assert refused.outcome == "denied"
    # Another recipient is not slowed; the next hour this one may be mailed again.
    assert apply(6, "piet@delinde.nl").status_code == 302
    clock.advance(timedelta(hours=1))
    assert apply(7, "jan@delinde.nl").status_code == 302
    assert OutboxMail.objects.filter(to="jan@delinde.nl").count() == 4


def test_one_recipient_gets_ten_application_mails_a_day():
    answers = []
    for hour in range(4):
        with clock.frozen(datetime(2026, 12, 1, hour, tzinfo=UTC)):
            answers += [apply(hour * 10 + n, "jan@delinde.nl").status_code for n in range(1, 4)]
    assert answers == [302] * 10 + [429] * 2
    assert OutboxMail.objects.filter(to="jan@delinde.nl").count() == 10
    with clock.frozen(datetime(2026, 12, 1, 23, 59, tzinfo=UTC)):
        late = apply(50, "jan@delinde.nl")
    assert late.status_code == 429 and late["Retry-After"] == "60"
    with clock.frozen(datetime(2026, 12, 2, tzinfo=UTC)):
        assert apply(51, "jan@delinde.nl").status_code == 302
    assert OutboxMail.objects.filter(to="jan@delinde.nl").count() == 11
