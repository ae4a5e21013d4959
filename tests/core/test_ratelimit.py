"""The one rate limiter (core/ratelimit.py): correct Dutch ("1 seconde", "2 seconden"), exact
under parallel requests, and a table of actions in allauth's notation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import cache
from django.utils import translation

from zorgsleutel.core import clock, ratelimit
from zorgsleutel.core.errors import RateLimited
from zorgsleutel.core.models import AuditEvent


@pytest.fixture
def limits(monkeypatch):
    """Actions of these tests' own, beside the portal's (none of those is under test here)."""
    from zorgsleutel import policies

    monkeypatch.setitem(policies.RATE_LIMITS, "test.one", "1/m/key")
    monkeypatch.setitem(policies.RATE_LIMITS, "test.five", "5/m/key")
    monkeypatch.setitem(policies.RATE_LIMITS, "test.hour", "2/h/ip,3/h/recipient")


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        (59, "Te veel verzoeken. Probeer het over 1 seconde opnieuw."),
        (58, "Te veel verzoeken. Probeer het over 2 seconden opnieuw."),
    ],
)
def test_the_wait_is_worded_in_correct_dutch(db, second, expected, limits):
    cache.clear()
    with clock.frozen(datetime(2026, 12, 1, 9, 0, second, tzinfo=UTC)), translation.override("nl"):
        ratelimit.consume(action="test.one", key="sleutel")
        with pytest.raises(RateLimited) as refused:
            ratelimit.consume(action="test.one", key="sleutel")
        assert (refused.value.code, str(refused.value.message)) == ("rate_limited", expected)
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_pass_exactly_the_budget(limits):
    """Counted before deciding, atomically: 20 at once against "5/m" → exactly 5 go ahead."""
    import threading

    from django.db import connection

    cache.clear()
    passed, refused = [], []
    barrier = threading.Barrier(20)

    def one() -> None:
        try:
            barrier.wait()
            ratelimit.consume(action="test.five", key="sleutel")
            passed.append(1)
        except RateLimited:
            refused.append(1)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert (len(passed), len(refused)) == (5, 15)
    cache.clear()


def test_an_action_counts_each_of_its_keys_and_says_which_went_over(db, limits):
    """ "2/h/ip,3/h/recipient": the address and the recipient each have their budget; a value
    left out does not count; the wait is worded in minutes past two minutes."""
    cache.clear()
    with clock.frozen(datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)), translation.override("nl"):
        first = ratelimit.count(action="test.hour", ip="192.0.2.1", recipient="a@b.nl")
        assert (first.allowed, first.refused) == (True, ())
        ratelimit.consume(action="test.hour", ip="192.0.2.2", recipient="a@b.nl")
        ratelimit.consume(action="test.hour", ip="192.0.2.1", recipient=None)  # only the address
        with pytest.raises(RateLimited) as refused:  # its third: over "2/h/ip"
            ratelimit.consume(action="test.hour", ip="192.0.2.1", recipient="a@b.nl")
        assert refused.value.extra["retry_after"] == 3600
        assert str(refused.value.message) == (
            "Te veel verzoeken. Probeer het over 60 minuten opnieuw."
        )
        # The recipient's fourth: the first refusal of its window (count() audits nothing).
        over = ratelimit.count(action="test.hour", ip="192.0.2.3", recipient="a@b.nl")
        assert (over.allowed, over.refused, over.first) == (False, ("recipient",), ("recipient",))
        again = ratelimit.count(action="test.hour", ip="192.0.2.4", recipient="a@b.nl")
        assert (again.allowed, again.refused, again.first) == (False, ("recipient",), ())
    events = AuditEvent.objects.filter(action="ratelimit.refused")
    assert [e.details for e in events] == [{"action": "test.hour", "limits": ["ip"]}]
    cache.clear()


def test_a_key_the_table_names_must_be_passed(db, limits):
    with pytest.raises(TypeError, match="'recipient'"):
        ratelimit.count(action="test.hour", ip="192.0.2.1")


# Every limit of the portal (policies.RATE_LIMITS), written out: action, what it counts by, how
# many, per how long. Each flow's own test shows that it asks for its action with that key (and
# what the person then reads); here each limit's number and window hold in the one limiter.
PORTAL_LIMITS = [
    ("password_reset.request", "ip", 20, "hour"),
    ("password_reset.mail", "email", 3, "hour"),
    ("sms.send", "link", 3, "hour"),
    ("sms.send", "account", 5, "hour"),
    ("sms.send", "ip", 20, "hour"),
    ("invitation.resend", "membership", 3, "hour"),
    ("invitation.resend", "user", 30, "hour"),
    ("app.login_page", "ip", 60, "minute"),
    ("app.request", "ip", 120, "minute"),
    ("app.enrol", "ip", 20, "minute"),
    ("app.answer", "device", 10, "minute"),
    ("card.request", "ip", 60, "minute"),
    ("card.answer", "challenge", 5, "minute"),
    ("smartcard.login_page", "ip", 60, "minute"),
    ("smartcard.qr", "ip", 60, "minute"),
    ("sso.login", "ip", 120, "minute"),
    ("application.submit", "ip", 10, "hour"),
    ("application.submit", "recipient", 3, "hour"),
]
WINDOWS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}


@pytest.mark.parametrize(("action", "key", "allowed", "window"), PORTAL_LIMITS)
def test_each_portal_limit_allows_its_number_per_window(db, action, key, allowed, window):
    cache.clear()
    start = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)  # the start of a minute, hour and day
    # Only this key has a value: the action's other limits (None) do not count.
    value = {k: None for a, k, _n, _w in PORTAL_LIMITS if a == action and k != "ip"}
    value.update({"ip": "192.0.2.99"} if key == "ip" else {key: "waarde"})
    with clock.frozen(start):
        for _ in range(allowed):
            ratelimit.consume(action=action, **value)
        with pytest.raises(RateLimited):
            ratelimit.consume(action=action, **value)
    with clock.frozen(start + WINDOWS[window] - timedelta(seconds=1)), pytest.raises(RateLimited):
        ratelimit.consume(action=action, **value)
    with clock.frozen(start + WINDOWS[window]):
        ratelimit.consume(action=action, **value)  # a new window
    cache.clear()


def test_an_applicant_s_address_gets_10_mails_a_day(db):
    """application.submit's third limit: 3 an hour and 10 a day per recipient address."""
    cache.clear()
    start = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)
    for hour in range(4):
        with clock.frozen(start + timedelta(hours=hour)):
            for _ in range(3 if hour < 3 else 1):
                ratelimit.consume(action="application.submit", recipient="jan@delinde.nl")
    with clock.frozen(start + timedelta(hours=23, minutes=59)), pytest.raises(RateLimited):
        ratelimit.consume(action="application.submit", recipient="jan@delinde.nl")
    with clock.frozen(start + timedelta(days=1)):
        ratelimit.consume(action="application.submit", recipient="jan@delinde.nl")
    cache.clear()


def test_the_table_names_every_portal_limit():
    from zorgsleutel import policies

    assert {(action, key) for action, key, _n, _w in PORTAL_LIMITS} | {
        ("application.submit", "recipient")
    } == {
        (action, rule.key)
        for action in policies.RATE_LIMITS
        for rule in ratelimit.rules_for(action)
        if not action.startswith("test.")
    }
