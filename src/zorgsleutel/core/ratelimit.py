"""Fixed-window rate limits from policy strings ("20/m", "100/h"), counted in the shared cache."""

from __future__ import annotations

import hashlib

from django.utils.translation import ngettext_lazy

from zorgsleutel.core import counters
from zorgsleutel.core.errors import RateLimited

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse(rule: str) -> tuple[int, int]:
    count, _, period = rule.partition("/")
    return int(count), PERIODS[period]


def hit(scope: str, key: str, rule: str) -> None:
    """Count one request for `key`; raise RateLimited once the rule's budget is spent. The
    count is taken first, atomically (core/counters.py), so parallel requests cannot all pass."""
    limit, seconds = parse(rule)
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    if not counters.hit(f"rl:{scope}:{digest}", limit, seconds):
        retry = counters.retry_after(seconds)
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
