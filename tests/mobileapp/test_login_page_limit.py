"""Inloggen met de app: an anonymous visit writes a session and a QR challenge, so visits are
limited per client address (policies.RATE_LIMITS["app.login_page"] = "60/m/ip"). A visitor over
the limit gets a 429 page with Retry-After and writes neither; the first refusal of the minute is
audited; another address is not slowed; the next minute the address may visit again.

Counted on the frozen clock at a minute's first second, as tests/cards/test_api_limits.py does;
rows are counted in the database (a session row is what the visit would have written).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.test import Client

from zorgsleutel.authn.models import Challenge
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent

pytestmark = pytest.mark.django_db

URL = "/inloggen/app"


@pytest.fixture(autouse=True)
def minute():
    cache.clear()
    with clock.frozen(datetime.now(UTC).replace(second=0, microsecond=0)):
        yield
    cache.clear()


def test_one_address_opens_the_app_login_60_times_a_minute():
    visits = [Client(REMOTE_ADDR="192.0.2.60").get(URL) for _ in range(61)]
    assert [v.status_code for v in visits] == [200] * 60 + [429]
    assert Challenge.objects.count() == 60 and Session.objects.count() == 60
    refused = visits[-1]
    assert refused["Retry-After"] == "60"
    assert "Te veel verzoeken. Probeer het over 60 seconden opnieuw." in refused.content.decode()
    assert "zs_session" not in refused.cookies
    # More refused visits write nothing either, and only the first is audited.
    again = [Client(REMOTE_ADDR="192.0.2.60").get(URL).status_code for _ in range(5)]
    assert again == [429] * 5
    assert Challenge.objects.count() == 60 and Session.objects.count() == 60
    event = AuditEvent.objects.get(action="ratelimit.refused")
    assert event.details == {"action": "app.login_page", "limits": ["ip"]}
    # Another address is not slowed; the next minute this one may visit again.
    assert Client(REMOTE_ADDR="192.0.2.61").get(URL).status_code == 200
    clock.advance(timedelta(minutes=1))
    assert Client(REMOTE_ADDR="192.0.2.60").get(URL).status_code == 200
    assert Challenge.objects.count() == 62


def test_a_browser_with_a_session_is_counted_too():
    """One browser reloading the page (its session kept) writes a challenge each time."""
    browser = Client(REMOTE_ADDR="192.0.2.62")
    visits = [browser.get(URL).status_code for _ in range(61)]
    assert visits == [200] * 60 + [429]
    assert Challenge.objects.count() == 60 and Session.objects.count() == 1
