"""Growing delays after failed passwords (policies.LOGIN_THROTTLES); never a permanent lock.

Counters live in the cache (Redis, or the database cache shared by all processes). Each holds the
number of recent failures and the time of the last one; a login is refused while
`last + delay(failures)` lies in the future.
"""

from __future__ import annotations

import hashlib

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


def wait_seconds(email: str, ip: str | None) -> int:
    """Seconds before another password attempt is allowed (0: go ahead)."""
    now = clock.now().timestamp()
    wait = 0.0
    for kind, key in _keys(email, ip).items():
        state = cache.get(key)
        if state:
            failures, last = state
            wait = max(wait, last + _delay(kind, failures) - now)
    return int(wait + 0.999) if wait > 0 else 0


def record_failure(email: str, ip: str | None) -> None:
    now = clock.now().timestamp()
    timeout = int(policies.LOGIN_FAILURE_WINDOW.total_seconds())
    for key in _keys(email, ip).values():
        failures = (cache.get(key) or (0, now))[0] + 1
        cache.set(key, (failures, now), timeout)


def record_success(email: str, ip: str | None) -> None:
    cache.delete(_keys(email, ip)["account_ip"])
