"""Fixed-window rate limits from policy strings ("20/m", "100/h"), counted in the shared cache."""

from __future__ import annotations

import hashlib

from django.core.cache import cache
from django.utils.translation import ngettext_lazy

from zorgsleutel.core import clock
from zorgsleutel.core.errors import RateLimited

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse(rule: str) -> tuple[int, int]:
    count, _, period = rule.partition("/")
    return int(count), PERIODS[period]


def hit(scope: str, key: str, rule: str) -> None:
    """Count one request for `key`; raise RateLimited once the rule's budget is spent."""
    limit, seconds = parse(rule)
    window = int(clock.now().timestamp() // seconds)
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    name = f"rl:{scope}:{digest}:{window}"
    cache.add(name, 0, seconds + 5)
    try:
        used = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, seconds + 5)
        used = 1
    if used > limit:
        retry = seconds - int(clock.now().timestamp()) % seconds
        raise RateLimited(
            "rate_limited",
            ngettext_lazy(
                "Too many requests. Try again in %(seconds)s second.",
                "Too many requests. Try again in %(seconds)s seconds.",
                "seconds",
            )
            % {"seconds": retry},
            retry_after=retry,
        )
