"""Growing delays after failed passwords (policies.LOGIN_THROTTLES); never a permanent lock.

Counters live in the cache (Redis, or the database cache shared by all processes). Each holds the
number of recent failures and the time of the last one; a login is refused while
`last + delay(failures)` lies in the future. The three counters of an attempt are read together
(one `get_many`: one query or one round trip); a failure re-reads them just before counting, so
parallel guesses count as they did before.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from zorgsleutel import policies
from zorgsleutel.core import clock


def _keys(email: str, ip: str | None) -> dict[str, str]:
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return {
        "account_ip": f"login-fail:acct-ip:{account}:{ip}",
        "ip": f"login-fail:ip:{ip}",
        "account": f"login-fail:acct:{account}",
    }


def _delay(kind: str, failures: int) -> float:
    rule = policies.LOGIN_THROTTLES[kind]
    over = failures - rule["free"]
    if over < 0:
        return 0.0
    return float(min(rule["base_seconds"] * 2**over, rule["max_seconds"]))


@dataclass(frozen=True)
class Check:
    """What the counters said when an attempt started."""

    wait: int  # seconds before another attempt is allowed (0: go ahead)
    counted: frozenset[str]  # the kinds that had a counter


def check(email: str, ip: str | None) -> Check:
    keys = _keys(email, ip)
    states = cache.get_many(keys.values())
    now = clock.now().timestamp()
    wait = 0.0
    counted = set()
    for kind, key in keys.items():
        state = states.get(key)
        if state:
            counted.add(kind)
            failures, last = state
            wait = max(wait, last + _delay(kind, failures) - now)
    return Check(int(wait + 0.999) if wait > 0 else 0, frozenset(counted))


def wait_seconds(email: str, ip: str | None) -> int:
    """Seconds before another password attempt is allowed (0: go ahead)."""
    return check(email, ip).wait


def record_failure(email: str, ip: str | None) -> None:
    now = clock.now().timestamp()
    timeout = int(policies.LOGIN_FAILURE_WINDOW.total_seconds())
    keys = _keys(email, ip).values()
    states = cache.get_many(keys)  # fresh, not the attempt's first read
    cache.set_many({key: ((states.get(key) or (0, now))[0] + 1, now) for key in keys}, timeout)


def record_success(email: str, ip: str | None, checked: Check | None = None) -> None:
    """Clear the account-and-address counter (when the attempt's read saw one)."""
    if checked is None or "account_ip" in checked.counted:
        cache.delete(_keys(email, ip)["account_ip"])
