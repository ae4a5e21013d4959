"""The password throttles' numbers, written out (policies.LOGIN_THROTTLES, LOGIN_FAILURE_WINDOW,
DEVICE_COOKIE_MAX_ACCOUNTS): after its free failures each throttle waits 2, 4, 8 ... seconds,
never more than 15 minutes; failures fade an hour after the last one; one browser's device
cookie vouches for at most 5 accounts.

    throttle     counts                                             free failures
    device       this browser's own (it holds the account's cookie)   5
    untrusted    the account's, from anywhere without its cookie      10
    ip           this address's, any account, without a cookie        30
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache

from zorgsleutel.authn import devices, throttle
from zorgsleutel.core import clock

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clear_throttles")]

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
# The waits after the free failures: doubling from 2 seconds, then 15 minutes at most.
WAITS = [2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900]


def _waits(count: int, attempts) -> list[int]:
    """Fail as soon as allowed (the clock moved on by each wait) until `count` waits were
    asked: those waits. `attempts` yields each attempt's keyword arguments."""
    waits = []
    while len(waits) < count:
        started = throttle.start(**next(attempts))
        if started.wait:
            waits.append(started.wait)
            clock.advance(timedelta(seconds=started.wait))
        else:
            throttle.failed(started)
    return waits


@pytest.mark.parametrize(
    ("kind", "free", "attempt"),
    [
        ("device", 5, {"email": "lid@zorggroep.nl", "ip": "192.0.2.10", "device": "nonce-a"}),
        ("untrusted", 10, {"email": "lid@zorggroep.nl", "ip": None}),
        ("ip", 30, {}),
    ],
)
def test_each_throttle_doubles_from_2_seconds_to_at_most_15_minutes(kind, free, attempt):
    if kind == "ip":  # a different account each time: only the address counts
        attempts = ({"email": f"p{n}@zorggroep.nl", "ip": "192.0.2.20"} for n in range(1000))
    else:
        attempts = itertools.repeat(attempt)
    with clock.frozen(START):
        for _ in range(free):  # free: no wait at all
            started = throttle.start(**next(attempts))
            assert started.wait == 0
            throttle.failed(started)
        assert _waits(len(WAITS), attempts) == WAITS
        counted = throttle.failures(**next(attempts))[kind]
    assert counted == free + len(WAITS) - 1


def test_failures_fade_an_hour_after_the_last_one(monkeypatch):
    """The counters live LOGIN_FAILURE_WINDOW = 1 hour after their last failure. They are cache
    entries: the database cache's clock is moved here; Redis keeps its own (its TTL is read)."""
    attempt = {"email": "lid@zorggroep.nl", "ip": "192.0.2.30"}
    for _ in range(10):
        throttle.failed(throttle.start(**attempt))
    key = throttle.keys(**attempt)["untrusted"]
    backend = caches["default"]
    if isinstance(backend, DatabaseCache):
        from django.core.cache.backends import db

        real = db.tz_now
        monkeypatch.setattr(db, "tz_now", lambda: real() + timedelta(minutes=59))
        assert throttle.failures(**attempt) == {"untrusted": 10, "ip": 10}
        monkeypatch.setattr(db, "tz_now", lambda: real() + timedelta(minutes=61))
        assert throttle.failures(**attempt) == {"untrusted": 0, "ip": 0}
    else:  # Redis: the key's time to live
        client = backend._cache.get_client(key)
        left = client.ttl(backend.make_and_validate_key(key))
        assert 3590 <= left <= 3600


def test_one_browser_vouches_for_at_most_5_accounts():
    cookie = None
    for account in range(1, 7):
        cookie = devices.issue(cookie, account)
    # The newest first; the sixth account pushed the first one out.
    trusted = [devices.trusted_nonce(cookie, account) is not None for account in range(1, 7)]
    assert trusted == [False, True, True, True, True, True]
