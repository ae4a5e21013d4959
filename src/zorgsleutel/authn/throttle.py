"""Growing delays after failed passwords (policies.LOGIN_THROTTLES); never a permanent lock.

The OWASP device-cookie scheme (devices.py). An attempt is counted in:
  - "device": its own device's counter, when it carries a valid device cookie for the account;
    failures anywhere else never slow it down;
  - otherwise "untrusted" (this account, from every client without its device cookie) and
    "ip" (this address, any account). An attacker can slow down untrusted clients of an account
    for a while (at most the rule's max_seconds per attempt): that is the design, the real user's
    own browser keeps working.

Each counter holds the attempts in progress and the failures of the window. An attempt takes its
numbers first (an atomic increment, counters.py) and decides on them: within the free allowance
it goes ahead; beyond it, only when the last failure lies `delay` ago and no other attempt beyond
the allowance of that counter is running (a gate). A refused attempt gives its numbers back, a
failure keeps them and notes its time, a success clears its device's counter and gives the other
numbers back. So parallel guesses are evaluated at most `free` at a time (security review,
finding 7).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

from django.core.cache import cache

from zorgsleutel import policies
from zorgsleutel.core import clock, counters
from zorgsleutel.core.requestcontext import limit_key

_GATE_SECONDS = 60  # a gate outlives a crashed attempt by at most this


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def keys(*, email: str, ip: str | None, device: str | None = None) -> dict[str, str]:
    """The counters an attempt is counted in, by kind."""
    if device:
        return {"device": f"login:device:{_digest(device)}"}
    return {
        "untrusted": f"login:untrusted:{_digest(email.strip().lower())}",
        "ip": f"login:ip:{limit_key(ip)}",
    }


def _last(key: str) -> str:
    return key + ":last"


def _delay(kind: str, failures: int) -> float:
    rule = policies.LOGIN_THROTTLES[kind]
    over = failures - rule["free"]
    if over < 0:
        return 0.0
    return float(min(rule["base_seconds"] * 2**over, rule["max_seconds"]))


def _window() -> int:
    return int(policies.LOGIN_FAILURE_WINDOW.total_seconds())


@dataclass(frozen=True)
class Attempt:
    """One password attempt's place in its counters."""

    counters: dict[str, str]  # kind -> counter key
    gates: tuple[str, ...] = ()
    wait: int = 0  # > 0: refused, try again in this many seconds


def start(*, email: str, ip: str | None, device: str | None = None) -> Attempt:
    """Take this attempt's numbers; `wait` > 0 means it is refused (its numbers given back)."""
    names = keys(email=email, ip=ip, device=device)
    numbers = dict(zip(names, counters.increment(list(names.values()), _window()), strict=True))
    over = {kind: n for kind, n in numbers.items() if n > policies.LOGIN_THROTTLES[kind]["free"]}
    if not over:
        return Attempt(names)
    now = clock.now().timestamp()
    lasts = cache.get_many([_last(names[kind]) for kind in over])
    wait = 0.0
    for kind, n in over.items():
        last = lasts.get(_last(names[kind]))
        if last is None:  # the failures before it are still running: the delay starts now
            cache.add(_last(names[kind]), now, 2 * _window())
            last = now
        wait = max(wait, last + _delay(kind, n - 1) - now)
    gates = []
    if wait <= 0:
        for kind, n in over.items():
            gate = names[kind] + ":gate"
            if counters.increment([gate], _GATE_SECONDS) == [1]:
                gates.append(gate)
            else:  # another attempt beyond the allowance is being evaluated
                wait = max(wait, _delay(kind, n - 1))
    if wait > 0:
        cache.delete_many(gates)
        counters.increment(list(names.values()), _window(), -1)
        return Attempt(names, (), math.ceil(wait))
    return Attempt(names, tuple(gates))


def failed(attempt: Attempt) -> None:
    """A wrong password: its numbers stay counted, the delay runs from now."""
    now = clock.now().timestamp()
    cache.set_many({_last(key): now for key in attempt.counters.values()}, 2 * _window())
    if attempt.gates:
        cache.delete_many(attempt.gates)


def succeeded(attempt: Attempt) -> None:
    """The right password: the device's counter is cleared; other numbers are given back (the
    attacker's failures stay counted)."""
    device = attempt.counters.get("device")
    if device:
        cache.delete_many([device, _last(device), *attempt.gates])
        return
    counters.increment(list(attempt.counters.values()), _window(), -1)
    if attempt.gates:
        cache.delete_many(attempt.gates)


def failures(*, email: str, ip: str | None, device: str | None = None) -> dict[str, int]:
    """What the counters hold now, by kind (for tests and operators)."""
    names = keys(email=email, ip=ip, device=device)
    held = cache.get_many(names.values())
    return {kind: int(held.get(key) or 0) for kind, key in names.items()}
