"""Benchmark: list and search an organisation of 100,000 members through the API (not a test).

Starts its own portal (gunicorn, as `zorgsleutel run` starts it: 2 workers, gthread, 4 threads;
DEBUG off, behind a TLS proxy) on a free 127.0.0.1 port with a fresh temporary database (SQLite,
or a scratch PostgreSQL database with --database-url postgres://...), and stops it at the end
(bench/_common.py).

Setup (not timed): one organisation with --members people (default 100,000) plus its
administrator, written with bulk_create straight into the database: Dutch-looking names, e-mail
addresses at the organisation's domain, 85 % active members, 10 % invited (new accounts, never
accepted, with an open activation link), 3 % invited with an expired link ("link_expired"), 2 %
blocked by the organisation; and a second organisation of 200 people in the same database. An
API token for each administrator (accounts.api.auth.issue_token, as `zorgsleutel api-token
create` does). The cursor of every page is made in this process as
the portal makes them (same SECRET_KEY; the portal's cursors are deterministic).

Timed phase: GET /api/v1/organisations/{public_id}/members?q=&cursor= with X-Zorgsleutel-Token,
in six kinds, shuffled: the first page, deep pages (second half of the list), the last page,
search by a name fragment, search by an e-mail fragment (page 1, or a page of the result reached
with its cursor), and a page of the small organisation. Every answer is compared in full with
the expected one computed in this process from the generated data (count, count_exact, page,
pages, the 50 items in order: id, name, e-mail, role, application roles, state; and `next`);
a mismatch is an error. It runs once per --clients value (default 1, then 4 concurrent clients),
each with one keep-alive connection. Afterwards every list and search is walked from its first
page to its last by following the portal's own `next`: each walk must return every match
exactly once, in order. (With a PostgreSQL collation this process cannot reproduce, the walks
come first and provide the cursors.)

    .venv/bin/python bench/members.py                      # SQLite
    .venv/bin/python bench/members.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/members.py --members 10000 --json

Results and how they were measured: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import secrets
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from types import SimpleNamespace

from _common import (
    MAX_ERROR_SAMPLES,
    BenchError,
    Browser,
    CpuSnapshot,
    Portal,
    Scratch,
    add_database_options,
    cpu_groups,
    latency_ms,
    loadavg,
    model,
    new_report,
    other_warning,
    parse_options,
    run_main,
    speaker,
)

PAGE_SIZE = 50  # accounts/queries.py
DOMAIN = "benchzorg.nl"
SMALL_DOMAIN = "kleinzorg.nl"
SMALL_MEMBERS = 200  # a second organisation in the same database
FIRST = [
    "Anna",
    "Bram",
    "Charlotte",
    "Daan",
    "Eva",
    "Fleur",
    "Gijs",
    "Hanna",
    "Iris",
    "Jan",
    "Joost",
    "Julia",
    "Kees",
    "Lars",
    "Lotte",
    "Maarten",
    "Marieke",
    "Mohamed",
    "Noor",
    "Olga",
    "Pieter",
    "Priya",
    "Ruben",
    "Sanne",
    "Sem",
    "Sophie",
    "Thijs",
    "Tim",
    "Vera",
    "Wouter",
    "Yara",
    "Zoe",
    "Ahmed",
    "Bas",
    "Carmen",
    "Dirk",
    "Elif",
    "Femke",
    "Gerrit",
    "Hendrik",
    "Ilse",
    "Jeroen",
    "Karin",
    "Lieke",
    "Mila",
    "Niels",
    "Oscar",
    "Petra",
    "Rik",
    "Saskia",
    "Teun",
    "Ursula",
    "Vincent",
    "Willem",
    "Xander",
    "Yusuf",
    "Zeynep",
]
PREFIX = ("", "", "", "", "", "de ", "van ", "van der ", "van den ", "van de ", "ter ", "el ")
LAST = [
    "Jansen",
    "Janssen",
    "Bakker",
    "Visser",
    "Smit",
    "Meijer",
    "Mulder",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "Dekker",
    "Brouwer",
    "Dijkstra",
    "Kok",
    "Vermeulen",
    "Koster",
    "Prins",
    "Huisman",
    "Willems",
    "Berg",
    "Hoek",
    "Vries",
    "Leeuwen",
    "Veen",
    "Dam",
    "Wit",
    "Graaf",
    "Linden",
    "Heuvel",
    "Jong",
    "Boer",
    "Groot",
    "Bruijn",
    "Vliet",
    "Wal",
    "Haan",
    "Yilmaz",
    "Kaya",
    "Demir",
    "Bouzid",
    "Amrani",
    "Ali",
    "Ramdin",
    "Sewdien",
    "Nguyen",
    "Tran",
    "Kowalski",
    "Nowak",
    "Schouten",
    "Timmermans",
    "Maas",
    "Verhoeven",
    "Post",
    "Kuipers",
    "Sanders",
    "Wijk",
    "Blom",
    "Veenstra",
    "Postma",
    "Zwart",
    "Hofman",
    "Martens",
    "Evers",
    "Koning",
    "Wouters",
    "Bosman",
]
NAME_QUERIES = ("jans", "van der", "wouter", "mohamed bouzid", "Ruben Y", "zeynep ter", "smit")
EMAIL_QUERIES = ("pieter.", "@benchzorg", "00042", "kowalski", ".de.vries", "ali0")


MODELS = ("User", "Membership", "LinkToken")
# What a membership of each kind holds (bulk_create skips Membership.save): an invitation is
# never accepted and carries the name the organisation typed; a blocked member had accepted.
MEMBERSHIP = {
    "active": lambda user, now: {"state": "active", "accepted_at": now},
    "invited": lambda user, now: {"state": "invited", "invited_name": user.name},
    "link_expired": lambda user, now: {"state": "invited", "invited_name": user.name},
    "blocked": lambda user, now: {"state": "blocked", "accepted_at": now},
}


@dataclass(frozen=True)
class Row:
    id: int
    name: str
    email: str
    role: str
    state: str
    application_roles: tuple[str, ...]

    def out(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "email": self.email,
            "role": self.role,
            "application_roles": list(self.application_roles),
            "state": self.state,
        }


# --- setup ---------------------------------------------------------------------------------


def create_organisation(
    members: int, seed: int, *, name: str = "Benchzorg", ura: str = "90008888", domain: str = DOMAIN
) -> tuple:
    """The organisation, its administrator's API token, and `members` people (sorted rows)."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from zorgsleutel.accounts.api.auth import issue_token
    from zorgsleutel.core import clock

    User, Membership, LinkToken = (model(f"accounts.{name}") for name in MODELS)
    Organisation = model("organisations.Organisation")
    rng = random.Random(seed)
    organisation = Organisation.objects.create(
        name=name,
        kind="care_provider",
        ura=ura,
        application_roles=["declaraties", "inzage", "rooster"],
    )
    admin = User.objects.create(email=f"beheer@{domain}", name=f"Beheer {name}", state="active")
    Membership.objects.create(user=admin, organisation=organisation, role="administrator")
    token = issue_token(organisation=organisation, user=admin, name="bench")
    now = clock.now()
    unusable = make_password(None)  # what set_unusable_password() stores
    users, kinds = [], []
    for n in range(members):
        first, prefix, last = rng.choice(FIRST), rng.choice(PREFIX), rng.choice(LAST)
        name = f"{first} {prefix}{last}"
        email = f"{first}.{prefix.replace(' ', '.')}{last}{n:05d}@{domain}".lower()
        draw = rng.random()
        kind = (
            "active"
            if draw < 0.85
            else "invited"
            if draw < 0.95
            else "link_expired"
            if draw < 0.98
            else "blocked"
        )
        kinds.append(kind)
        state = "invited" if kind in ("invited", "link_expired") else "active"
        users.append(User(email=email, name=name, state=state, password=unusable))
    with transaction.atomic():
        users = User.objects.bulk_create(users, batch_size=5000)
        if users[0].pk is None:
            raise BenchError("bulk_create returned no ids on this database")
        roles = [
            "member" if rng.random() < 0.95 else rng.choice(["manager", "administrator"])
            for _ in users
        ]
        app_roles = [
            sorted(rng.sample(["declaraties", "inzage", "rooster"], rng.randint(0, 2)))
            for _ in users
        ]
        memberships = Membership.objects.bulk_create(
            [
                Membership(
                    user=u,
                    organisation=organisation,
                    role=r,
                    application_roles=a,
                    **MEMBERSHIP[kind](u, now),
                )
                for u, r, a, kind in zip(users, roles, app_roles, kinds, strict=True)
            ],
            batch_size=5000,
        )
        links = []
        for user, kind in zip(users, kinds, strict=True):
            if kind not in ("invited", "link_expired"):
                continue
            expires = now + timedelta(hours=48) if kind == "invited" else now - timedelta(hours=1)
            links.append(
                LinkToken(
                    user=user,
                    purpose=LinkToken.ACTIVATION,
                    token_hash=secrets.token_hex(32),
                    created_at=expires - timedelta(hours=72),
                    expires_at=expires,
                )
            )
        LinkToken.objects.bulk_create(links, batch_size=5000)
    admin_membership = Membership.objects.get(user=admin)
    rows = [Row(admin_membership.pk, admin.name, admin.email, "administrator", "active", ())] + [
        Row(m.pk, u.name, u.email, r, kind, tuple(a))
        for m, u, r, a, kind in zip(memberships, users, roles, app_roles, kinds, strict=True)
    ]
    rows.sort(key=lambda row: (row.name, row.email, row.id))
    return organisation, token, rows


class Expected:
    """The answers the API must give, computed from the generated rows (same ordering)."""

    def __init__(self, rows: list[Row], exact_order: bool):
        self.rows = rows
        self.exact_order = exact_order
        self.filtered: dict[str, list[Row]] = {"": rows}

    def matching(self, q: str) -> list[Row]:
        q = " ".join(q.split())[:100]
        if q not in self.filtered:
            low = q.lower()
            self.filtered[q] = [r for r in self.rows if low in r.name.lower() or low in r.email]
        return self.filtered[q]

    def pages(self, q: str) -> int:
        return max(-(-len(self.matching(q)) // PAGE_SIZE), 1)

    def page(self, q: str, number: int) -> dict:
        """Page `number` (1-based) without `next`: a search counts what it has walked."""
        rows = self.matching(q)
        if not q or number == self.pages(q):
            count, exact = len(rows), True
        else:
            count, exact = number * PAGE_SIZE + 1, False
        return {
            "count": count,
            "count_exact": exact,
            "page": number,
            "pages": max(-(-count // PAGE_SIZE), 1),
            "items": [r.out() for r in rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]],
        }


@dataclass
class Listing:
    """One organisation's member list under test: its URL, token, answers and cursors."""

    path: str
    token: str
    expected: Expected
    cursors: dict[str, list[str | None]]  # q -> cursors[k - 1] asks for page k (None: page 1)


KINDS = ("first_page", "deep_page", "last_page", "name_search", "email_search", "small_org")


def requests_for(listings: dict[str, Listing], count: int, rng: random.Random) -> list[tuple]:
    """`count` requests of each kind: (kind, listing, q, page), shuffled."""
    big, small = listings["big"].expected, listings["small"].expected
    pages = big.pages("")
    work = []
    for i in range(count):
        work.append(("first_page", "big", "", 1))
        work.append(("deep_page", "big", "", rng.randint(pages // 2, pages - 1)))
        work.append(("last_page", "big", "", pages))
        name_q = NAME_QUERIES[i % len(NAME_QUERIES)]
        page = 1 if i % 2 == 0 else rng.randint(1, big.pages(name_q))
        work.append(("name_search", "big", name_q, page))
        email_q = EMAIL_QUERIES[i % len(EMAIL_QUERIES)]
        page = 1 if i % 2 == 0 else rng.randint(1, big.pages(email_q))
        work.append(("email_search", "big", email_q, page))
        work.append(
            ("small_org", "small", "", 1 if i % 2 == 0 else rng.randint(1, small.pages("")))
        )
    rng.shuffle(work)
    return work


# --- the requests --------------------------------------------------------------------------


class ApiClient(threading.Thread):
    def __init__(self, port: int, listings: dict[str, Listing], work, run):
        super().__init__(daemon=True)
        self.listings, self.work, self.run_state = listings, work, run
        self.latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.errors = 0
        self.not_run = 0
        self.samples: list[str] = []
        self.started = self.finished = 0.0
        self.browser = Browser(port, headers={"Accept": "application/json"}, timeout=120)

    def get(self, listing: Listing, q: str, cursor: str | None) -> tuple[int, bytes, float]:
        params = {"q": q} if cursor is None else {"q": q, "cursor": cursor}
        path = f"{listing.path}?{urllib.parse.urlencode(params)}"
        headers = {"X-Zorgsleutel-Token": listing.token}
        status, _, raw, seconds = self.browser.request("GET", path, headers=headers)
        return status, raw, seconds

    def check(self, kind: str, listing: Listing, q: str, page: int, status: int, raw: bytes):
        """The answer's page in full, and its `next` when the cursors are known."""
        expected = listing.expected
        want = expected.page(q, page)
        try:
            got = json.loads(raw)
        except ValueError:
            got = None
        if status == 200 and isinstance(got, dict) and self._same(expected, q, got, want):
            following = got.get("next")
            last = page == expected.pages(q)
            known = listing.cursors.get(q, [])
            if (following is None) == last and (
                len(known) <= page or last or following == known[page]
            ):
                return True
        self.errors += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            fields = ("count", "count_exact", "page", "pages", "next", "error")
            summary = {k: got.get(k) for k in fields} if isinstance(got, dict) else raw[:200]
            self.samples.append(
                f"{kind} q={q!r} page={page}: {status} {summary}, expected count "
                f"{want['count']} page {want['page']} pages {want['pages']}"
            )
        return False

    @staticmethod
    def _same(expected: Expected, q: str, got: dict, want: dict) -> bool:
        if expected.exact_order:
            return {k: got.get(k) for k in want} == want
        if any(got.get(k) != v for k, v in want.items() if k != "items"):
            return False
        allowed = {r["id"]: r for r in (row.out() for row in expected.matching(q))}
        items = got.get("items") or []
        return len(items) == len(want["items"]) and all(
            allowed.get(item.get("id")) == item for item in items
        )

    def run(self) -> None:
        try:
            self.run_state["ready"].wait()
            self.run_state["go"].wait()
            self.started = time.monotonic()
            deadline = self.started + self.run_state["max_seconds"]
            for kind, name, q, page in self.work:
                if time.monotonic() > deadline:
                    self.not_run += 1
                    continue
                listing = self.listings[name]
                try:
                    status, raw, seconds = self.get(listing, q, listing.cursors[q][page - 1])
                except (OSError, http.client.HTTPException) as exc:
                    self.errors += 1
                    if len(self.samples) < MAX_ERROR_SAMPLES:
                        self.samples.append(f"{kind}: {type(exc).__name__}: {exc}")
                    continue
                if self.check(kind, listing, q, page, status, raw):
                    self.latencies[kind].append(seconds)
        except threading.BrokenBarrierError:
            pass
        finally:
            self.finished = time.monotonic()
            self.browser.close()


def mint_cursors(listing: Listing, organisation_id: int, q: str) -> None:
    """The cursor of every page of a list, made as the portal makes them (same SECRET_KEY).

    The portal's cursors are deterministic, so these must equal the `next` it answers: the
    timed phase can start at once, and the walk afterwards checks every one of them."""
    from zorgsleutel.accounts import queries
    from zorgsleutel.accounts.api.members import Cursor, _cursor_context, encode_cursor

    rows = listing.expected.matching(q)
    total = len(rows) if not q else None
    context = _cursor_context(SimpleNamespace(pk=organisation_id), queries.normalise_search(q))
    listing.cursors[q] = [None] + [
        encode_cursor(
            Cursor(queries.Position(rows[seen - 1].name, rows[seen - 1].email), k, seen, total),
            context,
        )
        for k, seen in ((k, (k - 1) * PAGE_SIZE) for k in range(2, listing.expected.pages(q) + 1))
    ]


def walk(port: int, listing: Listing, q: str, deadline: float) -> dict:
    """Follow the portal's own `next` from the first page to the last, checking every answer.

    The walk must return every matching member exactly once, in order, and each `next` must
    be the cursor minted for that page. Without minted cursors (an order this process cannot
    reproduce) it collects the portal's instead."""
    client = ApiClient(port, {}, [], {})
    collect = q not in listing.cursors
    if collect:
        listing.cursors[q] = [None]
    seconds = []
    following = None
    try:
        for number in range(1, listing.expected.pages(q) + 1):
            if time.monotonic() > deadline:
                client.errors += 1
                client.samples.append(f"walking q={q!r} took longer than --max-seconds")
                break
            status, raw, took = client.get(listing, q, following)
            seconds.append(took)
            if not client.check("walk", listing, q, number, status, raw):
                break
            following = json.loads(raw)["next"]
            if collect and following is not None:
                listing.cursors[q].append(following)
    finally:
        client.browser.close()
    return {
        "pages": len(seconds),
        "seconds": round(sum(seconds), 2),
        **latency_ms(seconds),
        "errors": client.errors,
        "error_samples": client.samples,
    }


def wait_for_quiet(options, portal: Portal, say) -> dict | None:
    """With --quiet-wait S: wait (at most S seconds) for a 5-s window in which processes
    other than the portal, PostgreSQL and this script used under 10 % of the machine."""
    deadline = time.monotonic() + options.quiet_wait
    server = portal.pids()
    while time.monotonic() < deadline:
        before = CpuSnapshot.take()
        time.sleep(5)
        cpu = cpu_groups(
            before,
            CpuSnapshot.take(),
            {"portal": server, "bench": {os.getpid()}},
            options.scratch_databases,
        )
        if cpu is None:
            return None
        share = cpu["other"] / max(sum(cpu.values()), 1e-9)
        if share < 0.10:
            return {"other_share": round(share, 3), "load": loadavg()}
        say(f"  waiting for a quiet machine (other processes {share:.0%}) …")
    return None


def measure(options, portal: Portal, listings: dict[str, Listing], clients: int):
    rng = random.Random(options.seed + clients)
    work = requests_for(listings, options.requests * clients, rng)
    shares = [work[i::clients] for i in range(clients)]
    run = {
        "ready": threading.Barrier(clients + 1),
        "go": threading.Event(),
        "max_seconds": options.max_seconds,
    }
    # warm-up (untimed): a few requests of each kind
    warm = ApiClient(portal.port, listings, [], run)
    for kind, name, q, page in requests_for(listings, 3, rng):
        listing = listings[name]
        status, raw, _ = warm.get(listing, q, listing.cursors[q][page - 1])
        warm.check(kind, listing, q, page, status, raw)
    warm.browser.close()
    if warm.errors:
        raise BenchError(f"warm-up answers were wrong: {warm.samples}")
    threads = [ApiClient(portal.port, listings, share, run) for share in shares]
    for thread in threads:
        thread.start()
    run["ready"].wait(60)
    server = portal.pids()
    before = CpuSnapshot.take()
    run["go"].set()
    for thread in threads:
        thread.join(options.max_seconds + 300)
    after = CpuSnapshot.take()
    wall = max(t.finished for t in threads) - min(t.started for t in threads)
    done = sum(len(v) for t in threads for v in t.latencies.values())
    cpu = cpu_groups(
        before, after, {"portal": server, "bench": {os.getpid()}}, options.scratch_databases
    )
    result = {
        "clients": clients,
        "load_before": loadavg(),
        "requests": done,
        "wall_seconds": round(wall, 2),
        "requests_per_second": round(done / wall, 1) if wall else 0.0,
        "latency_ms": {
            kind: latency_ms([v for t in threads for v in t.latencies[kind]]) for kind in KINDS
        },
        "all_ms": latency_ms([v for t in threads for k in KINDS for v in t.latencies[k]]),
        "errors": sum(t.errors for t in threads),
        "not_run": sum(t.not_run for t in threads),
        "error_samples": [s for t in threads for s in t.samples][:MAX_ERROR_SAMPLES],
        "cpu_seconds": cpu,
    }
    if done and cpu:
        result["cpu_ms_per_request"] = {
            k: round(v / done * 1000, 2) for k, v in cpu.items() if k != "idle" and v
        }
    return result


# --- reporting -----------------------------------------------------------------------------


def print_summary(report: dict) -> None:
    m, s = report["machine"], report["setup"]
    lines = [
        "",
        f"API: list and search {s['members']:,} members",
        f"  machine      {m['nproc']} cores, {m['cpu_model']}; code {m['code']['commit']}",
        f"  portal       {report['server']['portal']}",
        f"  database     {report['server']['database']}",
        f"  setup        {s['members']:,} members (bulk_create) in {s['seconds']} s, and "
        f"{s['small_members']} in a second organisation; matches: "
        + ", ".join(f"{q!r} {n}" for q, n in s["matches"].items()),
    ]
    for key, w in report["walks"].items():
        lines.append(
            f"  walk         {key}: {w['pages']} pages in {w['seconds']} s, per page "
            f"p50 {w.get('p50')} ms, p95 {w.get('p95')} ms, max {w.get('max')} ms"
            + (f"  ERRORS {w['errors']}: {w['error_samples']}" if w["errors"] else "")
        )
    goal = report["goal_p95_ms"]
    for result in report["results"]:
        met = True
        lines.append(
            f"  {result['clients']} client(s)  {result['requests']} requests in "
            f"{result['wall_seconds']} s = {result['requests_per_second']}/s; all: p50 "
            f"{result['all_ms'].get('p50')} ms, p95 {result['all_ms'].get('p95')} ms; "
            f"load before {result['load_before']}"
            + (
                f", quiet window: other {result['quiet_before']['other_share']:.0%}"
                if result.get("quiet_before")
                else ""
            )
            + (f"  (INVALID: {result['errors']} errors)" if result["errors"] else "")
        )
        for kind in KINDS:
            lat = result["latency_ms"][kind]
            ok = lat.get("p95", 1e9) <= goal
            met = met and ok
            lines.append(
                f"    {kind:<13}n {lat.get('n')}  p50 {lat.get('p50')} ms  p95 {lat.get('p95')} ms"
                f"  p99 {lat.get('p99')} ms  max {lat.get('max')} ms  {'ok' if ok else 'OVER'}"
            )
        cpu = result.get("cpu_seconds")
        if cpu:
            total = sum(cpu.values())
            lines.append(
                "    CPU        "
                + ", ".join(f"{k} {v:.1f} s" for k, v in cpu.items() if v or k == "idle")
                + f" of {total:.1f} core-s; per request "
                + ", ".join(f"{k} {v} ms" for k, v in result.get("cpu_ms_per_request", {}).items())
            )
            lines += other_warning(cpu, total, 0.1, indent="    ")
        for sample in result["error_samples"]:
            lines.append(f"    error      {sample}")
        lines.append(
            f"    goal       p95 <= {goal} ms for every kind with {result['clients']} "
            f"client(s): {'met' if met else 'NOT met'}"
        )
    print("\n".join(lines))


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="List and search 100,000 members through the API (see docs/benchmarks.md)."
    )
    add_database_options(parser)
    parser.add_argument("--members", type=int, default=100_000, help="members [100000]")
    parser.add_argument(
        "--requests", type=int, default=200, help="requests of each kind per client [200]"
    )
    parser.add_argument(
        "--clients", default="1,4", help="comma-separated concurrent clients, one run each [1,4]"
    )
    parser.add_argument("--portal-workers", type=int, default=2, help="gunicorn workers [2]")
    parser.add_argument("--portal-threads", type=int, default=4, help="threads per worker [4]")
    parser.add_argument("--max-seconds", type=float, default=300, help="bound per run [300]")
    parser.add_argument("--seed", type=int, default=2026, help="data and request seed [2026]")
    parser.add_argument("--goal", type=float, default=50.0, help="p95 goal in ms [50]")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=0,
        help="before each timed run, wait up to this many seconds for 5 s in which other "
        "processes use under 10 %% of the CPU [0: do not wait]",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parse_options(parser, argv)
    try:
        options.client_counts = [int(c) for c in options.clients.split(",") if c.strip()]
    except ValueError:
        parser.error("--clients is a comma-separated list of numbers, e.g. 1,4")
    if not options.client_counts or not all(1 <= c <= 16 for c in options.client_counts):
        parser.error("--clients values must be 1..16")
    if not 100 <= options.members <= 200_000:
        parser.error("--members must be 100..200000")
    if not 1 <= options.requests <= 1000:
        parser.error("--requests must be 1..1000")
    if not 0 < options.max_seconds <= 900:
        parser.error("--max-seconds must be in (0, 900]")
    return options


def run(options: argparse.Namespace) -> dict:
    report = new_report("members", goal_p95_ms=options.goal, results=[])
    say = speaker(options.json)
    with Scratch("zs-bench-members-", options.database_url) as scratch:
        portal = scratch.portal(scratch.database("portal"))
        options.scratch_databases = scratch.scratch
        say("setup: migrating …")
        portal.migrate()
        portal.django()
        from django.db import connection

        exact = True
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW lc_collate")
                collation = cursor.fetchone()[0]
            exact = collation in ("C", "POSIX", "C.UTF-8", "C.utf8")
            scratch.version += f", collation {collation}"
        say(f"setup: {options.members:,} members …")
        started = time.monotonic()
        big = create_organisation(options.members, options.seed)
        small = create_organisation(
            SMALL_MEMBERS, options.seed + 1, name="Kleinzorg", ura="90009999", domain=SMALL_DOMAIN
        )
        if connection.vendor == "postgresql":  # as autovacuum leaves a table after a bulk load
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        listings = {
            name: Listing(
                f"/api/v1/organisations/{organisation.public_id}/members",
                token,
                Expected(rows, exact),
                {},
            )
            for name, (organisation, token, rows) in (("big", big), ("small", small))
        }
        if exact:
            for q in ("", *NAME_QUERIES, *EMAIL_QUERIES):
                mint_cursors(listings["big"], big[0].pk, q)
            mint_cursors(listings["small"], small[0].pk, "")
        expected = listings["big"].expected
        report["setup"] = {
            "members": options.members,
            "small_members": SMALL_MEMBERS,
            "seconds": round(time.monotonic() - started, 1),
            "exact_order_checked": exact,
            "matches": {q: len(expected.matching(q)) for q in NAME_QUERIES + EMAIL_QUERIES},
        }
        connection.close()
        portal.start(workers=options.portal_workers, threads=options.portal_threads)
        kind = (
            "sync" if options.portal_threads <= 1 else f"gthread, {options.portal_threads} threads"
        )
        report["server"] = {
            "portal": f"gunicorn zorgsleutel.wsgi, {options.portal_workers} workers, {kind}, "
            "DEBUG off, behind a TLS proxy",
            "database": scratch.describe(),
        }
        lists = [("big", q) for q in ("", *NAME_QUERIES, *EMAIL_QUERIES)] + [("small", "")]
        deadline = time.monotonic() + options.max_seconds
        try:
            if not exact:  # the cursors come from walking first
                say("setup: walking every list and search to the end (for the cursors) …")
                report["walks"] = {
                    f"{name}:{q}": walk(portal.port, listings[name], q, deadline)
                    for name, q in lists
                }
            for clients in options.client_counts:
                say(
                    f"timed phase: {clients} client(s), "
                    f"{options.requests * clients * len(KINDS)} requests …"
                )
                quiet = wait_for_quiet(options, portal, say) if options.quiet_wait else None
                report["results"].append(measure(options, portal, listings, clients))
                report["results"][-1]["quiet_before"] = quiet
            if exact:
                say("check: walking every list and search to the end …")
                deadline = time.monotonic() + options.max_seconds
                report["walks"] = {
                    f"{name}:{q}": walk(portal.port, listings[name], q, deadline)
                    for name, q in lists
                }
        except (OSError, http.client.HTTPException) as exc:
            raise BenchError(f"{exc}\n--- portal log ---\n{portal.log()}") from exc
    return report


def problems(report: dict) -> list[str]:
    if any(r["errors"] or r["not_run"] for r in report["results"]) or any(
        w["errors"] for w in report.get("walks", {}).values()
    ):
        return ["some answers were wrong or requests did not run (see above)"]
    return []


def main(argv: list[str] | None = None) -> int:
    return run_main(argv, parse_args, run, print_summary, problems)


if __name__ == "__main__":
    sys.exit(main())
