"""Benchmark: list and search an organisation of 100,000 members through the API (not a test).

Starts its own portal (gunicorn, as `zorgsleutel run` starts it: 2 workers, gthread, 4 threads;
DEBUG off, behind a TLS proxy) on a free 127.0.0.1 port with a fresh temporary database (SQLite,
or a scratch PostgreSQL database with --database-url postgres://...), and stops it at the end.

Setup (not timed): one organisation with --members people (default 100,000) plus its
administrator, written with bulk_create straight into the database: Dutch-looking names, e-mail
addresses at the organisation's domain, 85 % active, 10 % invited with an open activation link,
3 % invited with an expired link ("link_expired"), 2 % blocked. An API token for the
administrator (accounts.api.auth.issue_token, as `zorgsleutel api-token create` does).

Timed phase: GET /api/v1/organisations/{public_id}/members?q=&page= with X-Zorgsleutel-Token,
in five kinds, shuffled: the first page, deep pages (second half of the list), the last page,
search by a name fragment, search by an e-mail fragment. Every answer is compared in full with
the expected one computed in this process from the generated data (count, page, pages and the 50
items in order: id, name, e-mail, role, application roles, state); a mismatch is an error.
It runs once per --clients value (default 1, then 4 concurrent clients), each with one
keep-alive connection.

    .venv/bin/python bench/members.py                      # SQLite
    .venv/bin/python bench/members.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/members.py --members 10000 --json

Results and how they were measured: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import random
import secrets
import shlex
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from login import (
    Databases,
    Portal,
    children,
    cpu_groups,
    latency_ms,
    versions,
)
from vault_verify import LOCAL_HOSTS, BenchError, CpuSnapshot, listening_pids

PAGE_SIZE = 50  # accounts/queries.py
MAX_ERROR_SAMPLES = 10
DOMAIN = "benchzorg.nl"
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


def create_organisation(members: int, seed: int) -> tuple[str, str, list[Row]]:
    """The organisation, its administrator with an API token, and `members` people."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from zorgsleutel.accounts.api.auth import issue_token
    from zorgsleutel.accounts.models import LinkToken, Membership, User
    from zorgsleutel.core import clock
    from zorgsleutel.organisations.models import Organisation

    rng = random.Random(seed)
    organisation = Organisation.objects.create(
        name="Benchzorg",
        kind=Organisation.CARE_PROVIDER,
        ura="90008888",
        application_roles=["declaraties", "inzage", "rooster"],
    )
    admin = User.objects.create(email=f"beheer@{DOMAIN}", name="Beheer Benchzorg", state="active")
    Membership.objects.create(user=admin, organisation=organisation, role="administrator")
    token = issue_token(organisation=organisation, user=admin, name="bench")
    now = clock.now()
    unusable = make_password(None)  # what set_unusable_password() stores
    users, kinds = [], []
    for n in range(members):
        first, prefix, last = rng.choice(FIRST), rng.choice(PREFIX), rng.choice(LAST)
        name = f"{first} {prefix}{last}"
        email = f"{first}.{prefix.replace(' ', '.')}{last}{n:05d}@{DOMAIN}".lower()
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
        state = "invited" if kind == "link_expired" else kind
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
                Membership(user=u, organisation=organisation, role=r, application_roles=a)
                for u, r, a in zip(users, roles, app_roles, strict=True)
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
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    admin_membership = Membership.objects.get(user=admin)
    rows = [Row(admin_membership.pk, admin.name, admin.email, "administrator", "active", ())] + [
        Row(m.pk, u.name, u.email, r, kind, tuple(a))
        for m, u, r, a, kind in zip(memberships, users, roles, app_roles, kinds, strict=True)
    ]
    rows.sort(key=lambda row: (row.name, row.email, row.id))
    return str(organisation.public_id), token, rows


class Expected:
    """The answer the API must give, computed from the generated rows (same ordering)."""

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

    def page(self, q: str, page: int) -> dict:
        rows = self.matching(q)
        pages = max(-(-len(rows) // PAGE_SIZE), 1)
        number = min(max(page, 1), pages)
        items = rows[(number - 1) * PAGE_SIZE : number * PAGE_SIZE]
        return {
            "count": len(rows),
            "page": number,
            "pages": pages,
            "items": [r.out() for r in items],
        }


def requests_for(expected: Expected, count: int, rng: random.Random) -> list[tuple[str, str, int]]:
    """`count` requests of each kind: (kind, q, page), shuffled."""
    pages = expected.page("", 1)["pages"]
    work = []
    for i in range(count):
        work.append(("first_page", "", 1))
        work.append(("deep_page", "", rng.randint(pages // 2, pages - 1)))
        work.append(("last_page", "", pages))
        name_q = NAME_QUERIES[i % len(NAME_QUERIES)]
        name_pages = expected.page(name_q, 1)["pages"]
        work.append(("name_search", name_q, 1 if i % 2 == 0 else rng.randint(1, name_pages)))
        email_q = EMAIL_QUERIES[i % len(EMAIL_QUERIES)]
        email_pages = expected.page(email_q, 1)["pages"]
        work.append(("email_search", email_q, 1 if i % 2 == 0 else rng.randint(1, email_pages)))
    rng.shuffle(work)
    return work


KINDS = ("first_page", "deep_page", "last_page", "name_search", "email_search")


# --- the timed phase -----------------------------------------------------------------------


class ApiClient(threading.Thread):
    def __init__(self, port: int, path: str, token: str, work, expected: Expected, run):
        super().__init__(daemon=True)
        self.port, self.path, self.token = port, path, token
        self.work, self.expected, self.run_state = work, expected, run
        self.latencies: dict[str, list[float]] = {kind: [] for kind in KINDS}
        self.errors = 0
        self.not_run = 0
        self.samples: list[str] = []
        self.started = self.finished = 0.0
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, q: str, page: int) -> tuple[int, bytes, float]:
        query = urllib.parse.urlencode({"q": q, "page": page})
        headers = {
            "X-Zorgsleutel-Token": self.token,
            "X-Forwarded-Proto": "https",
            "Accept": "application/json",
        }
        started = time.perf_counter()
        try:
            self.conn.request("GET", f"{self.path}?{query}", headers=headers)
            response = self.conn.getresponse()
            raw = response.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            raise
        return response.status, raw, time.perf_counter() - started

    def check(self, kind: str, q: str, page: int, status: int, raw: bytes) -> bool:
        want = self.expected.page(q, page)
        try:
            got = json.loads(raw)
        except ValueError:
            got = None
        if status == 200 and isinstance(got, dict):
            if self.expected.exact_order and got == want:
                return True
            if not self.expected.exact_order and {k: got.get(k) for k in want if k != "items"} == {
                k: v for k, v in want.items() if k != "items"
            }:
                allowed = {r["id"]: r for r in (row.out() for row in self.expected.matching(q))}
                if len(got["items"]) == len(want["items"]) and all(
                    allowed.get(item.get("id")) == item for item in got["items"]
                ):
                    return True
        self.errors += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            summary = (
                {k: got.get(k) for k in ("count", "page", "pages", "error")}
                if isinstance(got, dict)
                else raw[:200]
            )
            self.samples.append(
                f"{kind} q={q!r} page={page}: {status} {summary}, expected count "
                f"{want['count']} page {want['page']} pages {want['pages']}"
            )
        return False

    def run(self) -> None:
        try:
            self.run_state["ready"].wait()
            self.run_state["go"].wait()
            self.started = time.monotonic()
            deadline = self.started + self.run_state["max_seconds"]
            for kind, q, page in self.work:
                if time.monotonic() > deadline:
                    self.not_run += 1
                    continue
                try:
                    status, raw, seconds = self.get(q, page)
                except (OSError, http.client.HTTPException) as exc:
                    self.errors += 1
                    if len(self.samples) < MAX_ERROR_SAMPLES:
                        self.samples.append(f"{kind}: {type(exc).__name__}: {exc}")
                    continue
                if self.check(kind, q, page, status, raw):
                    self.latencies[kind].append(seconds)
        except threading.BrokenBarrierError:
            pass
        finally:
            self.finished = time.monotonic()
            self.conn.close()


def measure(options, portal: Portal, path: str, token: str, expected: Expected, clients: int):
    rng = random.Random(options.seed + clients)
    work = requests_for(expected, options.requests * clients, rng)
    shares = [work[i::clients] for i in range(clients)]
    run = {
        "ready": threading.Barrier(clients + 1),
        "go": threading.Event(),
        "max_seconds": options.max_seconds,
    }
    # warm-up (untimed): one request of each kind
    warm = ApiClient(portal.port, path, token, [], expected, run)
    for kind, q, page in requests_for(expected, 2, rng):
        status, raw, _ = warm.get(q, page)
        warm.check(kind, q, page, status, raw)
    warm.conn.close()
    if warm.errors:
        raise BenchError(f"warm-up answers were wrong: {warm.samples}")
    threads = [ApiClient(portal.port, path, token, share, expected, run) for share in shares]
    for thread in threads:
        thread.start()
    run["ready"].wait(60)
    server = listening_pids(portal.port) | children(portal.process.pid)
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
        f"  setup        {s['members']:,} members (bulk_create) in {s['seconds']} s; matches: "
        + ", ".join(f"{q!r} {n}" for q, n in s["matches"].items()),
    ]
    goal = report["goal_p95_ms"]
    met = True
    for result in report["results"]:
        lines.append(
            f"  {result['clients']} client(s)  {result['requests']} requests in "
            f"{result['wall_seconds']} s = {result['requests_per_second']}/s; all: p50 "
            f"{result['all_ms'].get('p50')} ms, p95 {result['all_ms'].get('p95')} ms"
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
            if cpu["other"] > 0.1 * total:
                lines.append(
                    f"    WARNING    other processes used {cpu['other'] / total * 100:.0f}% "
                    "of the CPU: the machine was not quiet"
                )
        for sample in result["error_samples"]:
            lines.append(f"    error      {sample}")
    lines.append(f"  goal         p95 <= {goal} ms for every kind: {'met' if met else 'NOT met'}")
    print("\n".join(lines))


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="List and search 100,000 members through the API (see docs/benchmarks.md)."
    )
    parser.add_argument(
        "--database-url",
        default="sqlite",
        help="'sqlite' (a temporary file, the default) or postgres://user@127.0.0.1:5432/db "
        "(a scratch database is created there and dropped at the end)",
    )
    parser.add_argument("--members", type=int, default=100_000, help="members [100000]")
    parser.add_argument(
        "--requests", type=int, default=60, help="requests of each kind per client [60]"
    )
    parser.add_argument(
        "--clients", default="1,4", help="comma-separated concurrent clients, one run each [1,4]"
    )
    parser.add_argument("--portal-workers", type=int, default=2, help="gunicorn workers [2]")
    parser.add_argument("--portal-threads", type=int, default=4, help="threads per worker [4]")
    parser.add_argument("--max-seconds", type=float, default=300, help="bound per run [300]")
    parser.add_argument("--seed", type=int, default=2026, help="data and request seed [2026]")
    parser.add_argument("--goal", type=float, default=50.0, help="p95 goal in ms [50]")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parser.parse_args(argv)
    if options.database_url != "sqlite":
        parts = urllib.parse.urlsplit(options.database_url)
        if parts.scheme not in ("postgres", "postgresql") or parts.hostname not in LOCAL_HOSTS:
            parser.error("--database-url is 'sqlite' or postgres://...@127.0.0.1/...")
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
    report: dict = {
        "benchmark": "members",
        "command": shlex.join(["python", "bench/members.py", *sys.argv[1:]]),
        "machine": versions(),
        "goal_p95_ms": options.goal,
        "results": [],
    }
    say = (lambda *a: None) if options.json else (lambda *a: print(*a, flush=True))
    with (
        tempfile.TemporaryDirectory(prefix="zs-bench-members-") as tmp,
        contextlib.ExitStack() as st,
    ):
        workdir = Path(tmp)
        databases = Databases(options.database_url, workdir, st)
        portal = Portal(workdir=workdir, database_url=databases.new("portal"))
        options.scratch_databases = databases.scratch
        st.callback(portal.stop)
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
            databases.version += f", collation {collation}"
        say(f"setup: {options.members:,} members …")
        started = time.monotonic()
        public_id, token, rows = create_organisation(options.members, options.seed)
        expected = Expected(rows, exact_order=exact)
        report["setup"] = {
            "members": options.members,
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
            "database": databases.describe(),
        }
        path = f"/api/v1/organisations/{public_id}/members"
        try:
            for clients in options.client_counts:
                say(
                    f"timed phase: {clients} client(s), {options.requests * clients * 5} requests …"
                )
                report["results"].append(measure(options, portal, path, token, expected, clients))
        except (OSError, http.client.HTTPException) as exc:
            raise BenchError(f"{exc}\n--- portal log ---\n{portal.log()}") from exc
    return report


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    try:
        report = run(options)
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    if options.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_summary(report)
    if any(r["errors"] or r["not_run"] for r in report["results"]):
        print("some answers were wrong or requests did not run (see above)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
