"""Counters in the shared cache that stay exact when requests run in parallel.

Rate limits and login throttles count *before* they evaluate: each request first takes its
number (an atomic increment) and then decides on that number, so 20 parallel requests see 1..20
and at most the allowance goes ahead. Checking first and counting afterwards lets all of them
see the same old count (security review, finding 7).

Redis increments atomically (`INCR`). Django's database cache does not: its `incr()` is a `get`
followed by a `set`, and two processes can both read 4 and both write 5. For the database cache
the read and the write run in one transaction that first takes a lock: on SQLite every write
transaction starts with `BEGIN IMMEDIATE` (settings: `transaction_mode`), which already holds
the database's write lock; on PostgreSQL a transaction-level advisory lock per key, which also
covers keys that have no row yet.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.db import connection, transaction

from zorgsleutel.core import clock


def increment(keys: Sequence[str], timeout: int, delta: int = 1) -> list[int]:
    """Add `delta` to each counter (a missing one starts at 0) and return the new values.

    Each counter then lives `timeout` seconds from now (a counter fades when nothing counts).
    """
    if isinstance(caches["default"], DatabaseCache):  # (`cache` is only a proxy of it)
        return _increment_in_database(keys, timeout, delta)
    values = []
    for key in keys:
        cache.add(key, 0, timeout)
        try:
            value = cache.incr(key, delta)
        except ValueError:  # expired between add and incr: this request is its first count
            cache.add(key, 0, timeout)
            value = cache.incr(key, delta)
        cache.touch(key, timeout)
        values.append(value)
    return values


def _increment_in_database(keys: Sequence[str], timeout: int, delta: int) -> list[int]:
    # The cache table lives in the default database (settings.CACHES, no router).
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for key in sorted(set(keys)):  # one order for everybody: no deadlock
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_id(key)])
        current = cache.get_many(keys)
        values = {key: max(int(current.get(key) or 0) + delta, 0) for key in keys}
        cache.set_many(values, timeout)
    return [values[key] for key in keys]


def _lock_id(key: str) -> int:
    """A signed 64-bit advisory lock id for a cache key."""
    digest = hashlib.sha256(b"zorgsleutel-counter:" + key.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def take(key: str, period: int) -> int:
    """Count one request in the current fixed window of `period` seconds: its number in that
    window (1 for the first). Refused requests take theirs too: hammering does not help."""
    [used] = increment([_window_key(key, period)], period + 5)
    return used


def give_back(key: str, period: int) -> None:
    """Uncount one request of `take(key, ...)` (one that turned out to cost nothing)."""
    increment([_window_key(key, period)], period + 5, -1)


def _window_key(key: str, period: int) -> str:
    window = int(clock.now().timestamp() // period)
    return f"limit:{hashlib.sha256(key.encode()).hexdigest()[:32]}:{window}"


def retry_after(period: int) -> int:
    """Seconds until the current fixed window of `period` seconds ends."""
    return period - int(clock.now().timestamp()) % period
