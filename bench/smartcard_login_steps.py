"""Benchmark: the portal's CPU for each step of a complete smartcard login, in one thread of one
process (not a test).

bench/smartcard_login.py measures logins per second through gunicorn with clients on the same
cores; on a shared machine other work moves its figures. This one calls the portal's WSGI
application (zorgsleutel.wsgi: the status app in front, Django's handler, every middleware)
directly, one login at a time, and reads the thread's CPU clock around each request: no
gunicorn, no load generator, no other thread competing for the same caches. What it leaves out
is gunicorn's share (reading and writing the sockets: about 0.3 ms per request, the floor in
docs/benchmarks.md) and the database server's CPU with PostgreSQL (SQLite runs in the process and
counts).

Setup as bench/smartcard_login.py (a SoftHSM2 CA, people with a smartcard each, DEBUG off behind
a TLS proxy, one workstation address per person), then --warmup logins, then --logins timed
ones, each:

    browser  GET  /inloggen/smartcard                   the page, its challenge and QR code
    card     GET  /api/card/v1/challenges/{code}        what the card client shows
    card     POST /api/card/v1/challenges/{id}/answer   the signature (made between, not timed)
    browser  GET  /wachten/{id}                         the collect: logged in, a new session id

    .venv/bin/python bench/smartcard_login_steps.py [--database-url postgres://…]
        [--redis-url redis://…] [--breakdown] [--profile FILE]

--breakdown also times the parts of the portal that a login spends most in (PARTS: each part's
functions wrapped with the same CPU clock, a part called inside another counted in the outer
one), per step; the rest of a step is Django's handler, the middleware, the views' own work.
--profile FILE writes a cProfile of each step to FILE.page, FILE.challenge, … (pstats; the
profiler slows Python code unevenly: only for where to look).

Results: docs/benchmarks.md ("Smartcards: complete logins per second").
"""

from __future__ import annotations

import argparse
import html
import json
import statistics
import sys
import time

from _common import (
    BenchError,
    Profiles,
    Scratch,
    WsgiClient,
    add_database_options,
    new_report,
    parse_options,
    run_main,
    speaker,
)
from smartcard_login import (
    CARD_CODE,
    LOGIN,
    STATUS_URL,
    create_people,
    make_ca,
    reference_card,
)

STEPS = ("page", "challenge", "answer", "collect")

# What --breakdown times: a part's name, then (module, attribute) of its functions where their
# callers look them up at each call.
PARTS = {
    "rate limits": [("zorgsleutel.core.ratelimit", "consume")],
    "page template": [("zorgsleutel.smartcards.views", "render")],
    "challenge row": [
        ("zorgsleutel.authn.challenges", name)
        for name in ("start", "pending", "collect", "answer", "maybe_answered")
    ],
    "certificate checks": [
        ("zorgsleutel.smartcards.presented", "issued_by_us"),
        ("zorgsleutel.smartcards.presented", "verify"),
        ("zorgsleutel.cards.verification", "require_signature"),
    ],
    "person load": [("zorgsleutel.people.loading", "person")],
    "audit append": [("zorgsleutel.core.audit", "_append")],
    "session store": [
        ("zorgsleutel.authn.sessionstore:SessionStore", name)
        for name in ("load", "save", "cycle_key", "delete")
    ],
}


class Breakdown:
    """The thread CPU spent in each of PARTS, outermost calls only."""

    def __init__(self):
        self.seconds: dict[str, float] = dict.fromkeys(PARTS, 0.0)
        self.by_step = {step: {part: [] for part in PARTS} for step in STEPS}
        self.depth = 0

    def install(self) -> None:
        import importlib

        for part, targets in PARTS.items():
            for dotted, name in targets:
                module, _, cls = dotted.partition(":")
                holder = importlib.import_module(module)
                if cls:
                    holder = getattr(holder, cls)
                setattr(holder, name, self._wrap(part, getattr(holder, name)))

    def _wrap(self, part: str, function):
        def timed(*args, **kwargs):
            if self.depth:
                return function(*args, **kwargs)
            self.depth += 1
            started = time.thread_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[part] += time.thread_time() - started
                self.depth -= 1

        return timed

    def enter(self, step: str) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)

    def leave(self, step: str) -> None:
        for part, seconds in self.seconds.items():
            self.by_step[step][part].append(seconds)


def login(browser: WsgiClient, card: WsgiClient, person) -> dict[str, float]:
    """One complete login, every answer checked; the CPU seconds of each step."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from zorgsleutel import cardprotocol

    browser.cookies, card.cookies = {}, {}
    browser.address = card.address = person.address
    used: dict[str, float] = {}
    status, page, used["page"] = browser.request("page", "GET", LOGIN)
    text = page.decode("utf-8", "replace")
    code, status_url = CARD_CODE.search(text), STATUS_URL.search(text)
    if status != 200 or code is None or status_url is None:
        raise BenchError(f"GET {LOGIN}: {status}")
    session = browser.cookies.get("zs_session")
    status, raw, used["challenge"] = card.request(
        "challenge", "GET", f"/api/card/v1/challenges/{code.group(1)}"
    )
    if status != 200:
        raise BenchError(f"GET the challenge: {status} {raw[:200]!r}")
    info = json.loads(raw)
    message = cardprotocol.message(
        challenge_id=info["id"], challenge=cardprotocol.unb64(info["challenge"]), host=info["host"]
    )
    signature = person.key.sign(message, ec.ECDSA(hashes.SHA256()))
    answer = {
        "certificates": [person.certificate],
        "signature": cardprotocol.b64(signature),
        "algorithm": "ecdsa-sha256",
    }
    status, raw, used["answer"] = card.request(
        "answer",
        "POST",
        f"/api/card/v1/challenges/{info['id']}/answer",
        json.dumps(answer).encode(),
    )
    if status != 200 or json.loads(raw).get("status") != "accepted":
        raise BenchError(f"POST the answer: {status} {raw[:200]!r}")
    browser.accept = "application/json"
    try:
        status, raw, used["collect"] = browser.request(
            "collect", "GET", html.unescape(status_url.group(1))
        )
    finally:
        browser.accept = "text/html"
    if status != 200 or json.loads(raw) != {"status": "ok", "next": "/mijn"}:
        raise BenchError(f"the collect: {status} {raw[:200]!r}")
    if browser.cookies.get("zs_session") in (None, session):
        raise BenchError("the session id was not changed at login")
    return used


def run(options: argparse.Namespace) -> dict:
    report = new_report("smartcard_login_steps", load_before=True)
    say = speaker(options.json)
    with Scratch("zs-bench-steps-", options.database_url, options.redis_url) as scratch:
        portal = scratch.portal(scratch.database("portal"))
        say("setup: the smartcard CA on SoftHSM2, migrating …")
        portal.env.update(make_ca(scratch.workdir, portal.env["SITE_URL"]))
        portal.migrate()
        portal.django()
        reference_key = reference_card(
            portal.env["SOFTHSM2_CONF"], portal.env["SMARTCARD_CA_MODULE"]
        )
        count = options.warmup + options.logins
        say(f"setup: {count} people with a smartcard each …")
        people, _reference = create_people(count, reference_key)
        from zorgsleutel.wsgi import application

        host = portal.env["SITE_URL"].split("//", 1)[1]
        browser = WsgiClient(application, host, "text/html")
        card = WsgiClient(application, host, "application/json")
        for person in people[: options.warmup]:
            login(browser, card, person)
        breakdown = Breakdown() if options.breakdown else None
        if breakdown is not None:
            breakdown.install()
        profiles = Profiles(STEPS) if options.profile else None
        watchers = [w for w in (breakdown, profiles) if w is not None]
        browser.watchers = card.watchers = watchers
        say(f"timed: {options.logins} logins, one at a time …")
        steps: dict[str, list[float]] = {step: [] for step in STEPS}
        for person in people[options.warmup :]:
            for step, seconds in login(browser, card, person).items():
                steps[step].append(seconds)
        report["server"] = {"database": scratch.describe(), "cache": scratch.describe_cache()}
    totals = [sum(values) for values in zip(*steps.values(), strict=True)]
    report["logins"] = options.logins
    report["cpu_ms"] = {
        step: {
            "mean": round(statistics.fmean(values) * 1000, 2),
            "median": round(statistics.median(values) * 1000, 2),
        }
        for step, values in {**steps, "login": totals}.items()
    }
    mean = statistics.fmean(totals)
    report["logins_per_cpu_second"] = round(1 / mean, 1)
    if breakdown is not None:
        report["breakdown_ms"] = {
            step: {
                **{
                    part: round(statistics.fmean(values) * 1000, 2)
                    for part, values in parts.items()
                },
                "rest": round(
                    (statistics.fmean(steps[step]) - sum(map(statistics.fmean, parts.values())))
                    * 1000,
                    2,
                ),
            }
            for step, parts in breakdown.by_step.items()
        }
    if profiles is not None:
        profiles.dump(options.profile)
        report["profile"] = [f"{options.profile}.{step}" for step in STEPS]
    return report


def print_summary(report: dict) -> None:
    m = report["machine"]
    print()
    print("Smartcards: the portal's CPU per step of a login (one thread, in process)")
    print(
        f"  machine   {m['nproc']} cores, {m['cpu_model']}; code {m['code']['commit']}; "
        f"load average before the run {report.get('loadavg_before', '?')}"
    )
    print(f"  database  {report['server']['database']}")
    print(f"  cache     {report['server']['cache']}")
    for step, cpu in report["cpu_ms"].items():
        print(f"  {step:<9} mean {cpu['mean']:>7} ms   median {cpu['median']:>7} ms")
    print(
        f"  = {report['logins_per_cpu_second']} logins per CPU second (per core), "
        f"{report['logins']} logins"
    )
    for step, parts in report.get("breakdown_ms", {}).items():
        shown = ", ".join(f"{part} {ms}" for part, ms in parts.items() if ms)
        print(f"  {step:<9} ms: {shown}")
    if report.get("profile"):
        print("  profiles  " + ", ".join(report["profile"]))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The portal's CPU per step of a smartcard login (docs/benchmarks.md)."
    )
    add_database_options(parser, redis=True)
    parser.add_argument("--logins", type=int, default=500, help="timed logins [500]")
    parser.add_argument("--warmup", type=int, default=30, help="untimed logins first [30]")
    parser.add_argument(
        "--breakdown", action="store_true", help="time the PARTS of each step as well"
    )
    parser.add_argument("--profile", default="", help="cProfile each step into FILE.<step>")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parse_options(parser, argv)
    if not 1 <= options.logins <= 20_000:
        parser.error("--logins must be 1..20000")
    return options


def main(argv: list[str] | None = None) -> int:
    return run_main(argv, parse_args, run, print_summary)


if __name__ == "__main__":
    sys.exit(main())
