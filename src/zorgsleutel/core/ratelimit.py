"""One entry point for rate limits: a flow calls `consume(action=..., ip=..., <key>=...)`.

Every limit lives in policies.RATE_LIMITS, keyed by action, in django-allauth's notation:
"N/period/key", several separated by commas ("3/h/membership,30/h/user"), period s, m, h or d.
The key names what is counted: "ip" is the client address (an IPv6 client by its network,
requestcontext.limit_key), any other name a value the caller passes under that name
(`membership=member.pk`, `recipient=email`). A rule whose value the caller leaves out (None)
does not count.

Windows are fixed and counted first (core/counters.py: atomic, so parallel requests cannot all
pass), and a refused request counts too: hammering a limit does not open it sooner.

`consume()` refuses with RateLimited (a 429 page or API answer with Retry-After) and audits the
refusal as `ratelimit.refused`, once per window and key: the first refusal says the limit was
reached, the ones after it would only repeat that, each a database write an anonymous client
could cause. `count()` is the same counting without the refusal, for the few callers that
answer differently (a reset mail silently not sent, SMS counts given back when nothing went).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import ngettext_lazy

from zorgsleutel import policies
from zorgsleutel.core import audit, counters
from zorgsleutel.core.errors import RateLimited
from zorgsleutel.core.requestcontext import limit_key

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Rule:
    limit: int
    seconds: int
    key: str  # "ip", or the name of the value the caller passes


def parse(rules: str) -> tuple[Rule, ...]:
    """ "3/h/membership,30/h/user" → its rules; a malformed string is a bug (ValueError)."""
    parsed = []
    for rule in rules.split(","):
        count, period, key = rule.strip().split("/")
        parsed.append(Rule(int(count), PERIODS[period], key))
    return tuple(parsed)


def rules_for(action: str) -> tuple[Rule, ...]:
    return parse(policies.RATE_LIMITS[action])


@dataclass(frozen=True)
class Usage:
    """One counted request: which of the action's limits it went over, and when to retry."""

    action: str
    counted: tuple[tuple[str, int], ...]  # (counter, window seconds), to give back
    refused: tuple[str, ...] = ()  # the keys whose limit it went over
    first: tuple[str, ...] = ()  # of those, the keys it was the first refusal of the window for
    retry_after: int = 0

    @property
    def allowed(self) -> bool:
        return not self.refused

    def give_back(self) -> None:
        """Uncount this request (it turned out to cost nothing, e.g. nothing was sent)."""
        for counter, seconds in self.counted:
            counters.give_back(counter, seconds)


def count(*, action: str, ip: str | None = None, **keys) -> Usage:
    """Count one request of `action` against each of its limits; never raises for a limit."""
    values = {**keys, "ip": limit_key(ip) if ip else None}
    counted, refused, first, wait = [], [], [], 0
    for rule in rules_for(action):
        if rule.key not in values:
            raise TypeError(f"rate limit {action!r} counts by {rule.key!r}: pass it")
        value = values[rule.key]
        if value is None:
            continue
        counter = f"rl:{action}:{rule.seconds}:{rule.key}:{value}"
        used = counters.take(counter, rule.seconds)
        counted.append((counter, rule.seconds))
        if used > rule.limit:
            refused.append(rule.key)
            wait = max(wait, counters.retry_after(rule.seconds))
            if used == rule.limit + 1:
                first.append(rule.key)
    return Usage(action, tuple(counted), tuple(refused), tuple(first), wait)


def too_many_requests(seconds: int) -> str:
    if seconds <= 120:
        message = ngettext_lazy(
            "Too many requests. Try again in %(seconds)s second.",
            "Too many requests. Try again in %(seconds)s seconds.",
            "seconds",
        )
        return message % {"seconds": seconds}
    minutes = -(-seconds // 60)
    message = ngettext_lazy(
        "Too many requests. Try again in %(minutes)s minute.",
        "Too many requests. Try again in %(minutes)s minutes.",
        "minutes",
    )
    return message % {"minutes": minutes}


def consume(
    *,
    action: str,
    ip: str | None = None,
    actor=None,
    target=None,
    code: str = "rate_limited",
    message: Callable[[int], str] = too_many_requests,
    **keys,
) -> Usage:
    """Count one request of `action`; over any of its limits raise RateLimited (`code`, with
    `message(seconds)` and Retry-After) after auditing the window's first refusal (by `actor`,
    about `target`)."""
    usage = count(action=action, ip=ip, **keys)
    if usage.allowed:
        return usage
    if usage.first:
        audit.record(
            "ratelimit.refused",
            actor=actor if actor is not None else "anonymous",
            target=target,
            outcome=audit.DENIED,
            details={"action": action, "limits": sorted(usage.first)},
        )
    raise RateLimited(code, message(usage.retry_after), retry_after=usage.retry_after)
