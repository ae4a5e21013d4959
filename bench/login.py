"""Benchmark: complete password + SMS-code logins per second through the portal (not a test).

Starts its own vault (`zorgsleutel vault serve`) and portal (gunicorn, as `zorgsleutel run`
starts it: 2 workers, gthread, 4 threads) on free 127.0.0.1 ports with fresh temporary databases
(SQLite, or scratch PostgreSQL databases with --database-url postgres://...; Redis as cache and
session cache with --redis-url), and stops them at the end (bench/_common.py).

The portal runs with DEBUG off (production settings behind a TLS proxy: the client sends
X-Forwarded-Proto: https, Origin and Referer like a browser behind one). The vault runs in DEBUG
because only then does its dev SMS outbox (GET /v1/dev/sms) exist: that is the benchmark's
"phone". --debug-portal runs the portal in DEBUG too.

Setup (not timed): N people (active, one password, a membership) whose mobile numbers are enrolled
and confirmed in the vault through its signed API (distinct numbers +31 6 3xxxxxxx in batches of
100 whose last two digits are 00..99, like bench/vault_verify.py).

Timed phase: C client threads, each one login at a time on its own connection(s); every HTTP
request of the flow, every answer checked, following what the portal answers:
    GET /inloggen (CSRF cookie and token) -> 200 with the form
    POST /inloggen (e-mail, password)      -> a new session cookie, and either 200 with the
                                              code form or a redirect to the code page:
    GET <that page>                           -> 200 naming the person's masked number
    (read the code from the vault's dev outbox)
    POST <the code form's action> (code)   -> 302 to /mijn, another new session cookie
    GET /mijn                              -> 200 naming the person and the organisation
Reading codes: client k only logs in people whose number ends in a two-digit slot s with
s mod C == k, one at a time, so the newest outbox message for that masked number sent after its
POST /inloggen is its code; one reader thread fetches GET /v1/dev/sms once for all clients waiting
at that moment (its vault CPU is measured separately and reported).

Also measured in the same run: the Argon2id hash rate (django make_password / check_password with
the project's PASSWORD_HASHERS) in one thread (= per core) and in one process per core.

    .venv/bin/python bench/login.py                     # SQLite, database cache
    .venv/bin/python bench/login.py --database-url postgres://postgres@127.0.0.1:5432/postgres \
        --redis-url redis://127.0.0.1:6379/0
    .venv/bin/python bench/login.py --json

Results and how they were measured: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import multiprocessing
import os
import re
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime

from _common import (
    BATCH,
    CODE,
    CSRF_INPUT,
    MAX_ERROR_SAMPLES,
    PASSWORD,
    BenchError,
    Browser,
    CpuSnapshot,
    Scratch,
    SignedConnection,
    add_database_options,
    add_members,
    add_vault_options,
    cpu_groups,
    enrol_numbers,
    hint,
    latency_ms,
    listening_pids,
    model,
    new_report,
    other_warning,
    parse_options,
    process_cpu,
    run_main,
    speaker,
)

ORGANISATION = "Benchzorg"
REDIRECTS = (301, 302, 303, 307, 308)
FORM_ACTION = re.compile(rb'\baction="([^"]*)"')


# --- Argon2id hash rate --------------------------------------------------------------------


def _hash_loop(seconds: float, kind: str) -> tuple[int, float, float]:
    from django.contrib.auth.hashers import check_password, make_password

    encoded = make_password(PASSWORD)
    count, cpu0, started = 0, time.process_time(), time.perf_counter()
    while time.perf_counter() - started < seconds:
        if kind == "make":
            make_password(PASSWORD)
        elif not check_password(PASSWORD, encoded):
            raise BenchError("check_password refused the right password")
        count += 1
    return count, time.perf_counter() - started, time.process_time() - cpu0


def _hash_worker(seconds: float, kind: str, results) -> None:
    results.put(_hash_loop(seconds, kind))


def hash_rate(seconds: float = 3.0) -> dict:
    """Hashes per second with the project's first hasher: one thread, then one process per core
    in parallel. Django must be set up with the portal's settings."""
    from django.conf import settings
    from django.contrib.auth.hashers import get_hasher

    hasher = get_hasher()
    result: dict = {
        "hasher": settings.PASSWORD_HASHERS[0],
        "parameters": f"time_cost={hasher.time_cost}, memory_cost={hasher.memory_cost} KiB, "
        f"parallelism={hasher.parallelism}",
    }
    for kind in ("check", "make"):
        count, wall, cpu = _hash_loop(seconds, kind)
        result[f"{kind}_per_second_one_core"] = round(count / wall, 1)
        result[f"{kind}_ms_cpu"] = round(cpu / count * 1000, 2)
    cores = os.cpu_count() or 1
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    processes = [
        context.Process(target=_hash_worker, args=(seconds, "check", results)) for _ in range(cores)
    ]
    for process in processes:
        process.start()
    collected = [results.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join(10)
    total = sum(count / wall for count, wall, _ in collected)
    result["check_per_second_all_cores"] = round(total, 1)
    result["check_per_second_per_core_all_busy"] = round(total / cores, 1)
    return result


# --- setup ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    slot: int
    enrolment: str


def create_people(enrolments: list[str]) -> tuple[list[Person], str]:
    """Active people with one password hash (checking it costs the same) and a membership."""
    from django.contrib.auth.hashers import make_password

    organisation = model("organisations.Organisation").objects.create(
        name=ORGANISATION, kind="care_provider", ura="90009999"
    )
    encoded = make_password(PASSWORD)
    people = [
        Person(f"p{i:06d}@benchzorg.nl", f"Bench Persoon {i:06d}", i % BATCH, enrolment)
        for i, enrolment in enumerate(enrolments)
    ]
    user = model("accounts.User")
    add_members(
        organisation,
        [
            user(
                email=p.email,
                name=p.name,
                state="active",
                password=encoded,
                phone_enrolment=p.enrolment,
            )
            for p in people
        ],
    )
    return people, organisation.name


# --- reading codes from the vault's dev outbox ---------------------------------------------


@dataclass
class Waiter:
    hint: str
    not_before: float
    event: threading.Event = field(default_factory=threading.Event)
    code: str = ""
    error: str = ""


class CodeReader(threading.Thread):
    """One GET /v1/dev/sms for every client waiting at that moment."""

    def __init__(self, vault_url: str, key: bytes, interval: float):
        super().__init__(daemon=True)
        self.interval = interval
        self.conn = SignedConnection(vault_url, "portal", key)
        self.cond = threading.Condition()
        self.waiting: dict[str, Waiter] = {}
        self.stopped = False
        self.calls = 0
        self.rows = 0
        self.resolved = 0
        self.fetch_seconds: list[float] = []

    def expect(self, masked: str, not_before: float) -> Waiter:
        waiter = Waiter(masked, not_before)
        with self.cond:
            if masked in self.waiting:
                raise BenchError(f"two logins wait for {masked} at once: slots overlap")
            self.waiting[masked] = waiter
            self.cond.notify()
        return waiter

    def stop(self) -> None:
        with self.cond:
            self.stopped = True
            self.cond.notify()

    def run(self) -> None:
        while True:
            with self.cond:
                while not self.waiting and not self.stopped:
                    self.cond.wait()
                if self.stopped:
                    return
            # Let the logins of the next moment join this read: fewer reads, same codes.
            time.sleep(self.interval)
            with self.cond:
                snapshot = dict(self.waiting)
            # Only the messages sent since the oldest waiting login started (a few, not 200):
            # the vault answers this "phone" on the same cores as everything else.
            since = min(w.not_before for w in snapshot.values())
            stamp = datetime.fromtimestamp(since, tz=UTC).isoformat()
            try:
                path = "/v1/dev/sms?since=" + urllib.parse.quote(stamp, safe="")
                status, raw, seconds = self.conn.request("GET", path)
                messages = json.loads(raw)["messages"] if status == 200 else None
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self.conn.close()
                status, messages, seconds = 0, None, 0.0
                error = f"GET /v1/dev/sms: {type(exc).__name__}: {exc}"
            else:
                error = f"GET /v1/dev/sms answered {status}"
            self.calls += 1
            self.rows += len(messages or [])
            self.fetch_seconds.append(seconds)
            newest: dict[str, dict] = {}
            for message in messages or []:
                newest.setdefault(message["to"], message)  # newest first
            done = []
            for masked, waiter in snapshot.items():
                if messages is None:
                    waiter.error = error
                else:
                    message = newest.get(masked)
                    if message is None:
                        continue
                    sent = datetime.fromisoformat(message["sent_at"]).timestamp()
                    if sent < waiter.not_before:
                        continue  # the code of this person's login is not there yet
                    match = CODE.search(message["body"])
                    waiter.code = match.group(1) if match else ""
                    waiter.error = "" if match else "no code in the SMS"
                done.append(masked)
            with self.cond:
                for masked in done:
                    self.waiting.pop(masked).event.set()
                self.resolved += len(done)


# --- the clients ---------------------------------------------------------------------------

STEPS = ("get_login", "post_password", "get_code_page", "post_code", "get_home")


def _path(location: str) -> str:
    """The path (and query) of a Location or form action, absolute or not."""
    parts = urllib.parse.urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def form_action(page: bytes, field_name: bytes, default: str) -> str:
    """Where the form holding the field `field_name` posts: its action, else the page itself."""
    at = page.find(b'name="' + field_name + b'"')
    start = page.rfind(b"<form", 0, at) if at >= 0 else -1
    if start < 0:
        return default
    action = FORM_ACTION.search(page, start, page.find(b">", start))
    return _path(html.unescape(action.group(1).decode())) if action and action.group(1) else default


class Client(threading.Thread):
    def __init__(self, index: int, people: list[Person], options, reader: CodeReader, run):
        super().__init__(daemon=True)
        self.index = index
        self.people = people
        self.options = options
        self.reader = reader
        self.run_state = run
        self.browser = Browser(
            options.portal_port,
            keep_alive=options.keep_alive,
            headers={"User-Agent": "zorgsleutel-bench/1", "Accept": "text/html"},
        )
        self.latencies: dict[str, list[float]] = {step: [] for step in STEPS}
        self.latencies["login"] = []
        self.latencies["code_wait"] = []
        self.ok = 0
        self.errors = 0
        self.warmup_errors = 0
        self.not_run = 0
        self.samples: list[str] = []
        self.started = self.finished = 0.0

    def fail(self, person: Person, message: str) -> bool:
        self.errors += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(f"{person.email}: {message}")
        return False

    def login(self, person: Person, timed: bool) -> bool:
        """One login, every request as a browser makes it: the password POST may answer with
        the code form itself (200) or redirect to a page holding it."""
        b = self.browser
        b.reset()
        times: dict[str, float] = {}
        started = time.perf_counter()
        status, _, page, times["get_login"] = b.request("GET", "/inloggen")
        token = CSRF_INPUT.search(page)
        if status != 200 or token is None or "csrftoken" not in b.cookies:
            return self.fail(person, f"GET /inloggen: {status}, token {bool(token)}")
        not_before = time.time() - 0.001
        form = {
            "csrfmiddlewaretoken": token.group(1).decode(),
            "email": person.email,
            "password": PASSWORD,
        }
        status, location, page, times["post_password"] = b.request("POST", "/inloggen", form=form)
        redirected = status in REDIRECTS and location
        if not (redirected or status == 200) or "zs_session" not in b.cookies:
            text = page[:300].decode("utf-8", "replace")
            return self.fail(person, f"POST /inloggen: {status} {location!r} {text}")
        pending_session = b.cookies["zs_session"]
        masked = hint(person.slot)
        waiter = self.reader.expect(masked, not_before)
        shown, step = "/inloggen", "POST /inloggen"
        if redirected:
            shown = _path(location)
            step = f"GET {shown}"
            status, _, page, times["get_code_page"] = b.request("GET", shown)
        token = CSRF_INPUT.search(page)
        if status != 200 or token is None or masked not in page.decode():
            waiter.event.wait(30)
            return self.fail(person, f"{step}: {status}, hint or token missing")
        code_url = form_action(page, b"code", shown)
        waited = time.perf_counter()
        if not waiter.event.wait(30) or waiter.error or not waiter.code:
            return self.fail(person, f"no code from the dev outbox: {waiter.error or 'timeout'}")
        times["code_wait"] = time.perf_counter() - waited
        form = {"csrfmiddlewaretoken": token.group(1).decode(), "code": waiter.code}
        status, location, page, times["post_code"] = b.request("POST", code_url, form=form)
        if status != 302 or location != "/mijn":
            text = html.unescape(page[:300].decode("utf-8", "replace"))
            return self.fail(person, f"POST {code_url}: {status} {location!r} {text}")
        if b.cookies.get("zs_session") in (None, pending_session):
            return self.fail(person, "the session id was not changed at login")
        status, _, page, times["get_home"] = b.request("GET", "/mijn")
        text = page.decode("utf-8", "replace")
        if status != 200 or person.name not in text or self.options.organisation not in text:
            return self.fail(person, f"GET /mijn: {status}, name or organisation missing")
        if timed:
            times["login"] = time.perf_counter() - started
            for step_name, seconds in times.items():
                self.latencies[step_name].append(seconds)
            self.ok += 1
        return True

    def run(self) -> None:
        warm = self.people[: self.options.warmup]
        timed = self.people[self.options.warmup :]
        try:
            for person in warm:
                self.login(person, timed=False)
            self.warmup_errors, self.errors = self.errors, 0
            self.run_state["ready"].wait()
            self.run_state["go"].wait()
            self.started = time.monotonic()
            deadline = self.started + self.options.max_seconds
            for position, person in enumerate(timed):
                if time.monotonic() > deadline:
                    self.not_run = len(timed) - position
                    break
                try:
                    self.login(person, timed=True)
                except (OSError, http.client.HTTPException) as exc:
                    self.fail(person, f"{type(exc).__name__}: {exc}")
        except threading.BrokenBarrierError:
            pass
        finally:
            self.finished = time.monotonic()
            self.browser.close()


def timed_phase(options, people: list[Person], reader: CodeReader, server_pids: dict) -> dict:
    shares: list[list[Person]] = [[] for _ in range(options.clients)]
    for person in people:
        shares[person.slot % options.clients].append(person)
    run = {"ready": threading.Barrier(options.clients + 1), "go": threading.Event()}
    clients = [Client(i, share, options, reader, run) for i, share in enumerate(shares)]
    for client in clients:
        client.start()
    try:
        run["ready"].wait(timeout=600)
    except threading.BrokenBarrierError:
        raise BenchError("the clients did not get ready (warm-up failed?)") from None
    calls_before, rows_before = reader.calls, reader.rows
    fetches_before = len(reader.fetch_seconds)
    cpu_before = CpuSnapshot.take()
    thread_cpu_before = time.process_time()
    run["go"].set()
    for client in clients:
        client.join(options.max_seconds + 120)
    cpu_after = CpuSnapshot.take()
    bench_cpu = time.process_time() - thread_cpu_before
    started = min(c.started for c in clients)
    finished = max(c.finished for c in clients)
    wall = finished - started
    ok = sum(c.ok for c in clients)
    groups = {**server_pids, "bench": {os.getpid()}}
    cpu = cpu_groups(cpu_before, cpu_after, groups, options.scratch_databases)
    result = {
        "logins": ok,
        "wall_seconds": round(wall, 2),
        "logins_per_second": round(ok / wall, 1) if wall else 0.0,
        "logins_per_second_per_core": round(ok / wall / (os.cpu_count() or 1), 1) if wall else 0,
        "errors": sum(c.errors for c in clients),
        "warmup_errors": sum(c.warmup_errors for c in clients),
        "not_run": sum(c.not_run for c in clients),
        "error_samples": [s for c in clients for s in c.samples][:MAX_ERROR_SAMPLES],
        "latency_ms": {
            step: latency_ms([v for c in clients for v in c.latencies[step]])
            for step in ("login", *STEPS, "code_wait")
        },
        "client_spread_seconds": round(finished - min(c.finished for c in clients), 2),
        "requests_per_login": round(
            sum(len(c.latencies[step]) for c in clients for step in STEPS) / ok, 2
        )
        if ok
        else None,
        "connections_opened": sum(c.browser.connections for c in clients),
        "dev_sms_calls": reader.calls - calls_before,
        "dev_sms_rows_per_call": (reader.rows - rows_before) / max(reader.calls - calls_before, 1),
        "dev_sms_fetch_ms": latency_ms(reader.fetch_seconds[fetches_before:]),
        "cpu_seconds": cpu,
        "bench_process_cpu_seconds": round(bench_cpu, 2),
    }
    if ok and cpu:
        result["cpu_ms_per_login"] = {
            key: round(value / ok * 1000, 2)
            for key, value in cpu.items()
            if key not in ("idle",) and value
        }
    return result


def dev_sms_cost(
    vault_url: str, key: bytes, vault_pids: set[int], rows: float, calls: int = 100
) -> dict:
    """Vault CPU of one GET /v1/dev/sms?since=… returning about as many messages as the timed
    phase's reads did on average (`rows`), measured alone after the timed phase."""
    conn = SignedConnection(vault_url, "portal", key)
    status, raw, _ = conn.request("GET", "/v1/dev/sms")
    newest = json.loads(raw)["messages"] if status == 200 else []
    if not newest:
        raise BenchError(f"GET /v1/dev/sms answered {status}")
    since = newest[min(max(round(rows), 1), len(newest)) - 1]["sent_at"]
    path = "/v1/dev/sms?since=" + urllib.parse.quote(since, safe="")
    before = process_cpu()
    started = time.perf_counter()
    for _ in range(calls):
        status, _raw, _ = conn.request("GET", path)
        if status != 200:
            raise BenchError(f"GET /v1/dev/sms answered {status}")
    wall = time.perf_counter() - started
    after = process_cpu()
    conn.close()
    used = sum(after.get(p, ("", 0, 0.0))[2] - before.get(p, ("", 0, 0.0))[2] for p in vault_pids)
    return {
        "calls": calls,
        "rows_per_call": round(rows, 1),
        "vault_cpu_ms_per_call": round(used / calls * 1000, 2),
        "ms_per_call": round(wall / calls * 1000, 2),
    }


def accounting(report: dict) -> dict:
    """The figures the goal is judged on, and what CPU each one counts (docs/benchmarks.md).

    - wall: logins/s over the whole run ÷ cores. Everything shares those cores: portal, vault,
      database, the load generator (the client threads, and the vault's answers to the
      benchmark's own dev-outbox reads, i.e. the "phone") and whatever else runs.
    - server CPU: portal + vault + PostgreSQL + Redis per login, less the vault CPU of the dev-
      outbox reads (measured alone after the run x reads made); the load generator is separate.
    - hash bound: Argon2id `check_password` with the portal's own hasher, measured in this run on
      the same machine: per core with every core hashing at once ("on the same cores"), and in
      one thread alone.
    """
    r, h = report["result"], report["hash_rate"]
    cores = report["machine"].get("nproc") or os.cpu_count() or 1
    per_core = r["logins_per_second"] / cores
    hash_all = h["check_per_second_per_core_all_busy"]
    hash_one = h["check_per_second_one_core"]
    out: dict = {
        "cores": cores,
        "logins_per_second": r["logins_per_second"],
        "per_core": round(per_core, 1),
        "of_hash_bound_same_cores": round(per_core / hash_all, 3) if hash_all else None,
        "of_hash_bound_one_core": round(per_core / hash_one, 3) if hash_one else None,
        "hash_per_core_all_busy": hash_all,
        "hash_one_core": hash_one,
        "hash_cpu_ms": h["check_ms_cpu"],
    }
    cpu = r.get("cpu_seconds")
    logins = r["logins"]
    if cpu and logins:
        phone = r["dev_sms_calls"] * report["dev_sms_cost"]["vault_cpu_ms_per_call"] / 1000
        vault = max(cpu["vault"] - phone, 0.0)
        server = cpu["portal"] + vault + cpu.get("postgres", 0) + cpu.get("redis", 0)
        ms = {
            "portal": cpu["portal"],
            "vault": vault,
            "database": cpu.get("postgres", 0),
            "redis": cpu.get("redis", 0),
            "server": server,
            "load_generator": cpu["bench"] + phone,
            "bench_clients": cpu["bench"],
            "bench_phone_reads": phone,
            "other": cpu["other"],
        }
        out["cpu_ms_per_login"] = {k: round(v / logins * 1000, 2) for k, v in ms.items()}
        server_ms = server / logins * 1000
        out["per_server_core"] = round(1000 / server_ms, 1)
        out["of_hash_bound_server_cpu"] = round(h["check_ms_cpu"] / server_ms, 3)
        total = sum(v for k, v in cpu.items())
        out["idle_share"] = round(cpu["idle"] / total, 3) if total else None
        out["other_share"] = round(cpu["other"] / total, 3) if total else None
    goal = report["goal"]
    # Judged on the lower of the two wall-clock ratios: the rate with every core hashing is the
    # definition ("on the same cores"), but other work on the machine during those seconds lowers
    # it and so flatters the ratio; the one-thread rate is then the safer bound.
    ratio = min(out["of_hash_bound_same_cores"] or 0, out["of_hash_bound_one_core"] or 0)
    out["of_hash_bound"] = ratio
    out["goal_met"] = bool(per_core >= goal["per_core"] and ratio >= goal["of_hash_bound"])
    return out


# --- reporting -----------------------------------------------------------------------------


def print_summary(report: dict) -> None:
    m, r, h, s = report["machine"], report["result"], report["hash_rate"], report["setup"]
    a = report["accounting"]
    lat = r["latency_ms"]
    cores = m["nproc"] or 1
    bound = h["check_per_second_one_core"]
    lines = [
        "",
        "Portal: complete password + SMS logins per second",
        f"  machine      {m['nproc']} cores, {m['cpu_model']}; code {m['code']['commit']}; "
        f"load average before the run {report.get('loadavg_before', '?')}",
        f"  portal       {report['server']['portal']}",
        f"  vault        {report['server']['vault']}",
        f"  database     {report['server']['database']}",
        f"  cache        {report['server']['cache']}",
        f"  load         {report['clients']} client threads, one login at a time each, "
        f"{'kept-alive connections' if report['keep_alive'] else 'a new connection per request'}",
        f"  setup        {s['people']} people with confirmed phones in {s['seconds']:.0f} s "
        "(not timed)",
        f"  argon2id     check_password {bound}/s on one core ({h['check_ms_cpu']} ms CPU), "
        f"make_password {h['make_per_second_one_core']}/s; all {cores} cores at once: "
        f"{h['check_per_second_all_cores']}/s",
        f"  timed        {r['logins']} logins in {r['wall_seconds']} s",
        f"  argon2id     all {cores} cores hashing at once: {a['hash_per_core_all_busy']}/s "
        f"per core ({h['parameters']})",
        f"  RESULT       {r['logins_per_second']} logins/s = {a['per_core']}/s per core (wall, all "
        f"on {cores} cores) = {a['of_hash_bound_same_cores']} of the hash rate on the same cores "
        f"({a['of_hash_bound_one_core']} of the one-thread rate)"
        + (f"  (INVALID: {r['errors']} errors)" if r["errors"] else ""),
        f"  login        p50 {lat['login'].get('p50')} ms  p95 {lat['login'].get('p95')} ms  "
        f"p99 {lat['login'].get('p99')} ms  max {lat['login'].get('max')} ms "
        f"({r.get('requests_per_login') or len(STEPS):g} requests + code)",
    ]
    for step in (*STEPS, "code_wait"):
        step_lat = lat[step]
        if not step_lat["n"] and r["logins"]:
            continue  # a request this flow does not make (the code page after a redirect)
        lines.append(
            f"    {step:<15}p50 {step_lat.get('p50')} ms  p95 {step_lat.get('p95')} ms  "
            f"p99 {step_lat.get('p99')} ms"
        )
    lines.append(
        f"  codes        {r['dev_sms_calls']} GET /v1/dev/sms for {r['logins']} logins; "
        f"each costs the vault {report['dev_sms_cost']['vault_cpu_ms_per_call']} ms CPU "
        "(measured alone)"
    )
    cpu = r.get("cpu_seconds")
    if cpu:
        total = sum(cpu.values())
        parts = ", ".join(
            f"{k} {v:.1f} s ({v / total * 100:.0f}%)" for k, v in cpu.items() if v or k == "idle"
        )
        lines.append(f"  CPU          {parts} of {total:.1f} core-s")
        lines.append(
            "  per login    "
            + ", ".join(f"{k} {v} ms" for k, v in r.get("cpu_ms_per_login", {}).items())
        )
        lines += other_warning(cpu, total, 0.05)
    if "cpu_ms_per_login" in a:
        c = a["cpu_ms_per_login"]
        lines.append(
            f"  CPU/login    server {c['server']} ms (portal {c['portal']}, vault {c['vault']}, "
            f"database {c['database']}, redis {c['redis']}); load generator "
            f"{c['load_generator']} ms (clients {c['bench_clients']}, phone reads "
            f"{c['bench_phone_reads']}); other {c['other']} ms"
        )
        lines.append(
            f"  per server   {a['per_server_core']} logins per core-second of server CPU = "
            f"{a['of_hash_bound_server_cpu']} of the hash CPU ({a['hash_cpu_ms']} ms per hash)"
        )
    goal = report["goal"]
    met = a["goal_met"]
    lines.append(
        f"  goal         >= {goal['per_core']}/s per core and >= {goal['of_hash_bound']} of the "
        f"hash bound: {'met' if met else 'NOT met'}"
    )
    lines.append(
        f"  answers      ok {r['logins']}, ERRORS {r['errors']} (warm-up {r['warmup_errors']}), "
        f"not run {r['not_run']}"
    )
    for sample in r["error_samples"]:
        lines.append(f"  error        {sample}")
    print("\n".join(lines))


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Complete password + SMS logins per second (see docs/benchmarks.md)."
    )
    add_database_options(parser, redis=True)
    parser.add_argument("--people", type=int, default=3000, help="people = logins [3000]")
    parser.add_argument(
        "--logins-per-person",
        type=int,
        default=1,
        choices=range(1, 21),
        metavar="{1..20}",
        help="each person logs in this often; a code typed in correctly no longer counts "
        "towards the vault's hourly caps (tests/accounts/test_sms_limits.py) [1]",
    )
    parser.add_argument("--clients", type=int, default=10, help="client threads [10]")
    parser.add_argument("--warmup", type=int, default=3, help="untimed logins per client [3]")
    parser.add_argument("--max-seconds", type=float, default=120, help="timed phase bound [120]")
    parser.add_argument("--portal-workers", type=int, default=2, help="gunicorn workers [2]")
    parser.add_argument(
        "--portal-threads", type=int, default=4, help="threads per worker; 1 = sync [4]"
    )
    add_vault_options(parser, prefix="vault-")
    parser.add_argument("--gunicorn-args", default="", help="extra portal GUNICORN_CMD_ARGS")
    parser.add_argument(
        "--keep-alive",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="each client keeps its connection open across requests and logins, as the shipped "
        "nginx keeps upstream connections (deploy/nginx: keepalive); --no-keep-alive opens a "
        "new connection per request, like a proxy without upstream keep-alive [on]",
    )
    parser.add_argument(
        "--phone-interval",
        type=float,
        default=0.05,
        help="seconds between two reads of the vault's dev SMS outbox: one read serves every "
        "login waiting by then (the phone is load generator, on the same cores) [0.05]",
    )
    parser.add_argument("--debug-portal", action="store_true", help="run the portal in DEBUG")
    parser.add_argument("--hash-seconds", type=float, default=3.0, help="per hash measurement")
    parser.add_argument("--goal", type=float, default=30.0, help="logins/s per core [30]")
    parser.add_argument("--goal-ratio", type=float, default=0.65, help="of the hash bound [0.65]")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parse_options(parser, argv)
    if not 1 <= options.clients <= BATCH:
        parser.error("--clients must be 1..100 (each owns its own last-two-digit slots)")
    if options.people > 20_000:
        parser.error("--people is bounded to 20000")
    if options.people < options.clients * (options.warmup + 1):
        parser.error("need at least --warmup + 1 people per client")
    if not 0 < options.max_seconds <= 600:
        parser.error("--max-seconds must be in (0, 600]")
    options.scratch_databases = []
    return options


def run(options: argparse.Namespace) -> dict:
    report = new_report(
        "login",
        load_before=True,
        clients=options.clients,
        keep_alive=options.keep_alive,
        phone_interval_seconds=options.phone_interval,
        goal={"per_core": options.goal, "of_hash_bound": options.goal_ratio},
    )
    say = speaker(options.json)
    with Scratch("zs-bench-login-", options.database_url, options.redis_url) as scratch:
        vault = scratch.vault(
            scratch.database("vault"),
            workers=options.vault_workers,
            threads=options.vault_threads,
        )
        portal = scratch.portal(
            scratch.database("portal"),
            debug=options.debug_portal,
            vault_url="",
            vault_key=vault.key.decode(),
            gunicorn_args=options.gunicorn_args,
        )
        options.scratch_databases = scratch.scratch
        try:
            say("setup: migrating, starting the vault …")
            vault.migrate()
            vault.start(debug=True)
            portal.env["VAULT_URL"] = vault.url
            portal.migrate()
            started = time.monotonic()
            total = options.people
            say(f"setup: enrolling {total} phone numbers in the vault …")
            enrolments = enrol_numbers(
                vault.url,
                vault.client,
                vault.key,
                total,
                prefix="+3163",
                confirm=True,
                progress=None if options.json else lambda n: say(f"  enrolled {n}"),
            )
            portal.django()
            people, org_name = create_people([e.enrolment for e in enrolments])
            options.organisation = org_name
            report["setup"] = {"people": len(people), "seconds": round(time.monotonic() - started)}
            say("measuring the Argon2id hash rate …")
            report["hash_rate"] = hash_rate(options.hash_seconds)
            portal.start(workers=options.portal_workers, threads=options.portal_threads)
            options.portal_port = portal.port
            report["server"] = describe_servers(options, scratch)
            server_pids = {"portal": portal.pids(), "vault": listening_pids(vault.port)}
            reader = CodeReader(vault.url, vault.key, options.phone_interval)
            reader.start()
            people = people * options.logins_per_person
            say(f"timed phase: {len(people)} logins, {options.clients} clients …")
            try:
                report["result"] = timed_phase(options, people, reader, server_pids)
            finally:
                reader.stop()
                reader.join(timeout=10)  # no read of its own overlaps the cost measurement
            rows = report["result"]["dev_sms_rows_per_call"]
            report["dev_sms_cost"] = dev_sms_cost(vault.url, vault.key, server_pids["vault"], rows)
            report["accounting"] = accounting(report)
            return report
        except (BenchError, OSError, http.client.HTTPException) as exc:
            raise BenchError(
                f"{exc}\n--- vault log ---\n{vault.log()}\n--- portal log ---\n{portal.log()}"
            ) from exc


def describe_servers(options: argparse.Namespace, scratch: Scratch) -> dict:
    mode = "DEBUG on" if options.debug_portal else "DEBUG off, behind a TLS proxy"
    if options.gunicorn_args:
        mode += f", GUNICORN_CMD_ARGS={options.gunicorn_args}"

    def kind(threads: int) -> str:
        return "sync" if threads <= 1 else f"gthread, {threads} threads"

    return {
        "portal": f"gunicorn zorgsleutel.wsgi, {options.portal_workers} workers, "
        f"{kind(options.portal_threads)}, {mode}",
        "vault": f"zorgsleutel vault serve, {options.vault_workers} workers, "
        f"{kind(options.vault_threads)}, DEBUG on (dev SMS outbox)",
        "database": scratch.describe(),
        "cache": scratch.describe_cache(),
    }


def problems(report: dict) -> list[str]:
    result = report["result"]
    if result["errors"] or result["warmup_errors"] or result["not_run"]:
        return ["some logins failed or did not run (see above)"]
    return []


def main(argv: list[str] | None = None) -> int:
    return run_main(argv, parse_args, run, print_summary, problems)


if __name__ == "__main__":
    sys.exit(main())
