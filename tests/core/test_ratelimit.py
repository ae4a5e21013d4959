"""Rate limits answer in correct Dutch: "1 seconde", "2 seconden"."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.utils import translation

from zorgsleutel.core import clock, ratelimit
from zorgsleutel.core.errors import RateLimited


@pytest.mark.parametrize(
    ("second", "expected"),
    [
        (59, "Te veel verzoeken. Probeer het over 1 seconde opnieuw."),
        (58, "Te veel verzoeken. Probeer het over 2 seconden opnieuw."),
    ],
)
def test_the_wait_is_worded_in_correct_dutch(db, second, expected):
    cache.clear()
    with clock.frozen(datetime(2026, 12, 1, 9, 0, second, tzinfo=UTC)), translation.override("nl"):
        ratelimit.hit("test", "sleutel", "1/m")
        with pytest.raises(RateLimited) as refused:
            ratelimit.hit("test", "sleutel", "1/m")
        assert (refused.value.code, str(refused.value.message)) == ("rate_limited", expected)
    cache.clear()


@pytest.mark.django_db(transaction=True)
def test_parallel_requests_pass_exactly_the_budget():
    """Counted before deciding, atomically: 20 at once against "5/m" → exactly 5 go ahead."""
    import threading

    from django.db import connection

    cache.clear()
    passed, refused = [], []
    barrier = threading.Barrier(20)

    def one() -> None:
        try:
            barrier.wait()
            ratelimit.hit("test-parallel", "sleutel", "5/m")
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
