"""The one rate limiter (core/ratelimit.py): correct Dutch ("1 seconde", "2 seconden"), exact
under parallel requests, and a table of actions in allauth's notation."""

from __future__ import annotations

from datetime import UTC, datetime

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
