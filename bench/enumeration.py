"""Benchmark: do the portal's answers tell whether an e-mail address has an account? (not a test)

Three places take an address from someone who may not know it: the login's password step, the
"Wachtwoord vergeten" form and a manager's invitation of a new member through the API. For each,
the same request is sent for addresses that have an account ("known") and for addresses that do
not ("unknown"), --tries of each (default 1,000), shuffled together, one request at a time on one
kept-alive connection, every address used once, each request from its own client address
(X-Forwarded-For through the trusted proxy 127.0.0.1) so that no rate limit or throttle answers
instead of the code under test. Reported per place: the answers' status codes, the median and
p95 of the time from sending the request to reading the whole answer (measured in this process),
the difference of the medians (known - unknown; goal: under 1 ms) and whether the answers' bodies
are identical once what legitimately differs is removed (goal: identical):

  login     POST /inloggen, a wrong password (known: the person's real Argon2id hash is checked;
            unknown: the dummy hash). Removed: the CSRF token; the typed address, which the form
            shows back, is replaced by a placeholder.
  forgot    POST /wachtwoord-vergeten. Removed: CSRF tokens; the typed address (shown back only
            on an error page). The worker is not running (--worker starts it): the request's work
            is what the visitor waits for.
  invite    POST /api/v1/organisations/<id>/members with a manager's API token (as `zorgsleutel
            api-token create` makes one), name "Bench Uitnodiging", role member; known = a person
            of another organisation. Removed: the member's numeric `id`; the typed address.

Starts its own portal (gunicorn as `zorgsleutel run` starts it, DEBUG off behind a TLS proxy) on
a free 127.0.0.1 port with a fresh temporary database (SQLite, or a scratch PostgreSQL database
with --database-url postgres://...; Redis as the cache with --redis-url; bench/_common.py) and
no vault (none of these requests reaches it). Setup (not timed): 3 x (tries + warm-up) people
with one password hash, bulk-created; a business organisation with a manager and the manager's
API token.

    .venv/bin/python bench/enumeration.py
    .venv/bin/python bench/enumeration.py \
        --database-url postgres://postgres@127.0.0.1:5432/postgres --redis-url redis://127.0.0.1:6379/0
    .venv/bin/python bench/enumeration.py --tries 200 --json

Results and how they were measured: docs/benchmarks.md ("Enumeration").
"""

from __future__ import annotations

import argparse
import http.client
import random
import re
import statistics
import sys

from _common import (
    CSRF_INPUT,
    PASSWORD,
    BenchError,
    Browser,
    Scratch,
    add_database_options,
    add_members,
    model,
    new_report,
    parse_options,
    percentile,
    run_main,
    speaker,
)

WRONG = "Niet-het-wachtwoord-2026"
MEMBER_ID = re.compile(rb'"id": ?[0-9]+')
PLACES = ("login", "forgot", "invite")


def create_people(count: int, prefix: str) -> list[str]:
    """Active people in one organisation, all with one password hash; their addresses."""
    from django.contrib.auth.hashers import make_password

    organisation, _ = model("organisations.Organisation").objects.get_or_create(
        name="Benchzorg", kind="care_provider", ura="90009998"
    )
    encoded = make_password(PASSWORD)
    emails = [f"{prefix}{i:06d}@benchzorg.nl" for i in range(count)]
    user = model("accounts.User")
    add_members(
        organisation,
        [user(email=e, name="Bench Persoon", state="active", password=encoded) for e in emails],
    )
    return emails


def create_manager() -> tuple[str, str]:
    """A business organisation with a manager and the manager's API token: (public id, token)."""
    from zorgsleutel.accounts.api.auth import issue_token
    from zorgsleutel.accounts.models import Membership, User
    from zorgsleutel.organisations.models import Organisation

    organisation = Organisation.objects.create(
        name="Benchbedrijf BV", kind=Organisation.BUSINESS, kvk_number="87654321"
    )
    manager = User.objects.create(email="chef@benchbedrijf.nl", name="Chef", state=User.ACTIVE)
    Membership.objects.create(user=manager, organisation=organisation, role="manager")
    token = issue_token(organisation=organisation, user=manager, name="bench")
    return str(organisation.public_id), token


def normalise(body: bytes, email: str) -> bytes:
    body = CSRF_INPUT.sub(b'name="csrfmiddlewaretoken" value=""', body)
    body = MEMBER_ID.sub(b'"id": 0', body)
    return body.replace(email.encode(), b"{email}")


def one_place(place: str, conn: Browser, tries: list[tuple[str, str]], context: dict) -> dict:
    """Send each (kind, address) once; statistics per kind."""
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    statuses: dict[str, dict[int, int]] = {"known": {}, "unknown": {}}
    bodies: dict[str, set[bytes]] = {"known": set(), "unknown": set()}
    token = context.get("csrf", "")
    for n, (kind, email) in enumerate(tries):
        ip = f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        client = {"X-Forwarded-For": ip}
        if place == "login":
            status, _, body, seconds = conn.request(
                "POST",
                "/inloggen",
                form={"csrfmiddlewaretoken": token, "email": email, "password": WRONG},
                headers=client,
            )
        elif place == "forgot":
            status, _, body, seconds = conn.request(
                "POST",
                "/wachtwoord-vergeten",
                form={"csrfmiddlewaretoken": token, "email": email},
                headers=client,
            )
        else:
            status, _, body, seconds = conn.request(
                "POST",
                f"/api/v1/organisations/{context['organisation']}/members",
                data={"name": "Bench Uitnodiging", "email": email, "role": "member"},
                headers={
                    **client,
                    "X-Zorgsleutel-Token": context["token"],
                    "Accept": "application/json",
                },
            )
        if kind == "warmup":
            continue
        times[kind].append(seconds * 1000)
        statuses[kind][status] = statuses[kind].get(status, 0) + 1
        bodies[kind].add(normalise(body, email))
    result = {}
    for kind, values in times.items():
        values.sort()
        result[kind] = {
            "statuses": statuses[kind],
            "median_ms": round(statistics.median(values), 3),
            "p95_ms": round(percentile(values, 0.95), 3),
            "distinct_bodies": len(bodies[kind]),
        }
    result["median_difference_ms"] = round(
        result["known"]["median_ms"] - result["unknown"]["median_ms"], 3
    )
    result["bodies_identical"] = bodies["known"] == bodies["unknown"] and len(bodies["known"]) == 1
    if not result["bodies_identical"]:  # what differs, for the report (API answers are short)
        for kind in ("known", "unknown"):
            result[kind]["sample_body"] = sorted(bodies[kind])[0][:400].decode(errors="replace")
    result["goal_met"] = abs(result["median_difference_ms"]) < 1 and result["bodies_identical"]
    return result


def run(options: argparse.Namespace) -> dict:
    report = new_report("enumeration", load_before=True, tries=options.tries, warmup=options.warmup)
    say = speaker(options.json)
    places = [p for p in PLACES if p in options.places.split(",")]
    per_place = options.tries + options.warmup
    with Scratch("zs-bench-enum-", options.database_url, options.redis_url) as scratch:
        portal = scratch.portal(scratch.database("portal"))
        say("setup: migrating, creating people …")
        portal.migrate()
        portal.django()
        known = {place: create_people(per_place, f"{place}-") for place in places}
        context: dict = {}
        if "invite" in places:
            context["organisation"], context["token"] = create_manager()
        report["server"] = {
            "portal": "gunicorn zorgsleutel.wsgi, 2 workers, gthread, 4 threads, DEBUG off, "
            "behind a TLS proxy" + (", worker running" if options.worker else ", no worker"),
            "database": scratch.describe(),
            "cache": scratch.describe_cache(),
        }
        portal.start()
        if options.worker:
            portal.start_worker()
        rng = random.Random(options.seed)
        report["places"] = {}
        for place in places:
            conn = Browser(portal.port)
            _status, _, page, _seconds = conn.request("GET", "/inloggen")
            match = CSRF_INPUT.search(page)
            context["csrf"] = match.group(1).decode() if match else ""
            addresses = known[place]
            tries = [("known", e) for e in addresses[options.warmup :]] + [
                ("unknown", f"niemand-{place}-{i:06d}@benchzorg.nl") for i in range(options.tries)
            ]
            rng.shuffle(tries)
            warm = [("warmup", e) for e in addresses[: options.warmup]]
            say(f"timed: {place}, {2 * options.tries} requests …")
            try:
                report["places"][place] = one_place(place, conn, warm + tries, context)
            except (OSError, http.client.HTTPException) as exc:
                raise BenchError(f"{place}: {exc}\n--- portal log ---\n{portal.log()}") from exc
            finally:
                conn.close()
    return report


def print_summary(report: dict) -> None:
    machine = report["machine"]
    print("\nEnumeration: answers for known and unknown e-mail addresses")
    code = machine.get("code", {})
    print(f"  code      {code.get('commit', '?')} ({code.get('zorgsleutel', '?')})")
    for key, value in report["server"].items():
        print(f"  {key:9} {value}")
    print(f"  tries     {report['tries']} known + {report['tries']} unknown per place")
    for place, result in report["places"].items():
        print(f"  {place}")
        for kind in ("known", "unknown"):
            r = result[kind]
            print(
                f"    {kind:8} median {r['median_ms']:.3f} ms  p95 {r['p95_ms']:.3f} ms  "
                f"statuses {r['statuses']}  distinct bodies {r['distinct_bodies']}"
            )
        for kind in ("known", "unknown"):
            if "sample_body" in result[kind]:
                print(f"    {kind} body: {result[kind]['sample_body'][:200]}")
        print(
            f"    median difference {result['median_difference_ms']:+.3f} ms; bodies identical: "
            f"{result['bodies_identical']}; goal (< 1 ms, identical): "
            f"{'met' if result['goal_met'] else 'NOT met'}"
        )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    add_database_options(parser, redis=True)
    parser.add_argument("--tries", type=int, default=1000, help="known and unknown each [1000]")
    parser.add_argument("--warmup", type=int, default=50, help="untimed known tries [50]")
    parser.add_argument("--places", default=",".join(PLACES), help="login,forgot,invite")
    parser.add_argument("--worker", action="store_true", help="run the task worker too")
    parser.add_argument("--seed", type=int, default=2026, help="shuffle seed [2026]")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parse_options(parser, argv)
    return options


def main(argv: list[str] | None = None) -> int:
    return run_main(argv, parse_args, run, print_summary)


if __name__ == "__main__":
    sys.exit(main())
