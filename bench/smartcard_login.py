"""Benchmark: complete smartcard logins per second through the portal (not a test).

Starts its own portal (gunicorn as `zorgsleutel run` starts it: 2 workers, gthread, 4 threads;
DEBUG off behind a TLS proxy) on a free 127.0.0.1 port with a fresh database (SQLite, or a
scratch PostgreSQL database with --database-url postgres://...; Redis as cache with
--redis-url), and stops it at the end (bench/_common.py).

Setup (not timed): the portal's smartcard CA on a SoftHSM2 token of its own
(smartcards/ca.py init_development, as tests/smartcard_fixtures.py; the server gets
SMARTCARD_CA_* and SOFTHSM2_CONF), one care provider, N people (active, accepted membership),
and one smartcard each, its certificate issued by that CA (smartcards/profile.py, signed through
the token) for a software P-256 key that stands in for the card's key: the portal sees the same
certificate, the same message and the same ECDSA signature either way. Besides, one reference
card whose key is made on a SoftHSM2 token (never extractable) logs in --reference-logins times
before the timed phase, through the same requests, and times its signatures.

Timed phase: C client threads, each one login at a time, its "browser" and its "card client"
each on one kept-alive connection (as behind the shipped nginx, whose upstream connections stay
open), every request from the person's own workstation address (X-Forwarded-For, one address per
person: the per-address limits apply as in production). Per login, every answer checked:

    browser  GET  /inloggen/smartcard                      -> 200, a session cookie, the card
                                                              code and the status URL
    card     GET  /api/card/v1/challenges/{code}           -> 200 {id, challenge, host, ...}
    card     (signs cardprotocol.message(...), ECDSA P-256 SHA-256: the card's time, not the
              portal's; on the load generator)
    card     POST /api/card/v1/challenges/{id}/answer      -> 200 {"status": "accepted"}
    browser  GET  {status URL}                             -> 200 {"status": "ok", "next":
                                                              "/mijn"}, a new session id

The browser polls once, after the card answered: a real page also polls every
APP_POLL_INTERVAL_MS while the holder types the PIN; what one such waiting poll costs is
measured after the timed phase (--waiting-polls). After the timed phase every login's browser
opens /mijn, which must show the person logged in (not timed, not counted).

CPU from /proc over the timed phase: the portal (gunicorn master and workers), PostgreSQL (its
backends of the scratch database), Redis, the bench process (the load generator: clients, HTTP,
the card signatures) and the rest. Logins per second per core = 1,000 ms / server CPU per login
(portal + database + Redis): what the portal does per core with the load generator elsewhere;
the wall rate (logins/s / cores, everything on the same cores) is reported beside it.

    .venv/bin/python bench/smartcard_login.py                         # SQLite, database cache
    .venv/bin/python bench/smartcard_login.py --database-url \\
        postgres://postgres@127.0.0.1:5432/postgres --redis-url redis://127.0.0.1:6379/0
    .venv/bin/python bench/smartcard_login.py --request-cpu          # CPU of each request
    .venv/bin/python bench/smartcard_login.py --profile              # cProfile in the workers

The portal's CPU per step in one thread, without gunicorn and the clients competing for the same
cores: bench/smartcard_login_steps.py. Results and how they were measured: docs/benchmarks.md
("Smartcards: complete logins per second").
"""

from __future__ import annotations

import argparse
import html
import http.client
import json
import os
import re
import statistics
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from _common import (
    MAX_ERROR_SAMPLES,
    BenchError,
    Browser,
    CpuSnapshot,
    Scratch,
    add_database_options,
    add_members,
    cpu_groups,
    latency_ms,
    model,
    new_report,
    other_warning,
    parse_options,
    process_cpu,
    run_main,
    speaker,
)

HERE = Path(__file__).resolve().parent
HOOKS = HERE / "floor" / "request_profile.py"
ORGANISATION = "Kaartzorg Bench"
URA = "90009901"
CA_LABEL, CA_PIN, SO_PIN = "bench smartcard CA", "24681357", "13572468"
CARD_LABEL, CARD_PIN = "bench reference card", "135790"
LOGIN = "/inloggen/smartcard"
CARD_CODE = re.compile(r'id="card-code">([A-Z0-9-]+)<')
STATUS_URL = re.compile(r'data-status-url="([^"]+)"')
STEPS = ("page", "challenge", "sign", "answer", "collect")


# --- setup: the CA, people, their cards ----------------------------------------------------


def make_ca(workdir: Path, site_url: str) -> dict[str, str]:
    """The portal's smartcard CA on a SoftHSM2 token in the work directory; the settings the
    server needs to find it (as environment variables)."""
    from zorgsleutel.smartcards import ca as smartcard_ca
    from zorgsleutel.uzi.testcard import SoftHsm

    hsm = SoftHsm(workdir / "softhsm")
    if not hsm.installed:
        raise BenchError("SoftHSM2 is not installed (apt-get install softhsm2)")
    token = hsm.init_token(CA_LABEL, pin=CA_PIN, so_pin=SO_PIN)
    directory = workdir / "smartcard-ca"
    smartcard_ca.init_development(token, pin=CA_PIN, directory=directory, base_url=site_url).close()
    return {
        "SMARTCARD_CA_DIR": str(directory),
        "SMARTCARD_CA_MODULE": hsm.module,
        "SMARTCARD_CA_TOKEN": CA_LABEL,
        "SMARTCARD_CA_PIN": CA_PIN,
        "SOFTHSM2_CONF": str(hsm.conf),
    }


@dataclass
class Person:
    index: int
    name: str
    address: str  # the workstation's (X-Forwarded-For)
    key: object  # the card's private key (software P-256, or a SoftHSM2 TokenKey)
    certificate: str  # PEM


def address(index: int) -> str:
    """A distinct private address per person (10.0.0.1, 10.0.0.2, …)."""
    n = index + 1
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def _csr(key):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Zorgsleutel")]))
        .sign(key, hashes.SHA256())
    )


def issue_cards(organisation, users: list, keys: list) -> list[str]:
    """One smartcard per person, its certificate issued by the portal's CA (through the token)
    for that person's key, as a card made in person holds it; the PEM certificates."""
    from cryptography.hazmat.primitives import hashes

    from zorgsleutel.core import clock
    from zorgsleutel.smartcards import profile, runtime
    from zorgsleutel.uzi.certificates import der, pem

    now = clock.now()
    holders = [
        profile.Holder(
            name=user.name,
            public_id=str(user.public_id),
            organisation=organisation.name,
            ura=organisation.ura,
        )
        for user in users
    ]
    requests = [_csr(key) for key in keys]
    certificates = runtime.with_ca(
        lambda ca: [
            profile.issue(ca, request, holder, now=now)
            for request, holder in zip(requests, holders, strict=True)
        ]
    )
    smartcard = model("smartcards.Smartcard")
    smartcard.objects.bulk_create(
        [
            smartcard(
                public_id=f"sc_bench{n:06d}",
                user=user,
                organisation=organisation,
                serial=format(certificate.serial_number, "x"),
                card_serial=f"BENCH-{n:06d}",
                certificate=der(certificate),
                fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
                not_after=certificate.not_valid_after_utc,
                issued_at=now,
                route="in_person",
                state_changed_at=now,
            )
            for n, (user, certificate) in enumerate(zip(users, certificates, strict=True))
        ],
        batch_size=1000,
    )
    return [pem(certificate) for certificate in certificates]


def reference_card(softhsm_conf: str, module: str):
    """A P-256 key made on a SoftHSM2 token of its own (sensitive, never extractable), as
    `zorgsleutel card init` makes a card's: a TokenKey signing through PKCS#11."""
    from cryptography.hazmat.primitives import serialization
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

    from zorgsleutel.smartcards.tokenkey import TokenKey
    from zorgsleutel.uzi.testcard import SoftHsm

    hsm = SoftHsm(Path(softhsm_conf).parent, module=module)
    token = hsm.init_token(CARD_LABEL, pin=CARD_PIN, so_pin=SO_PIN)
    session = token.open(user_pin=CARD_PIN, rw=True)
    parameters = session.create_domain_parameters(
        KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
    )
    public, private = parameters.generate_keypair(
        label="card",
        store=True,
        private_template={
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.PRIVATE: True,
        },
    )
    return TokenKey(private, serialization.load_der_public_key(encode_ec_public_key(public)))


def create_people(count: int, reference_key) -> tuple[list[Person], Person]:
    """`count` people with a smartcard each (software keys), and one more whose card's key is
    `reference_key` (on a SoftHSM2 token)."""
    from cryptography.hazmat.primitives.asymmetric import ec

    organisation = model("organisations.Organisation").objects.create(
        name=ORGANISATION, kind="care_provider", ura=URA
    )
    user = model("accounts.User")
    names = [f"Kaart Persoon {n:06d}" for n in range(count + 1)]
    users = add_members(
        organisation,
        [
            user(email=f"k{n:06d}@kaartzorg.nl", name=name, state="active")
            for n, name in enumerate(names)
        ],
    )
    users.sort(key=lambda u: u.email)
    keys = [ec.generate_private_key(ec.SECP256R1()) for _ in range(count)] + [reference_key]
    certificates = issue_cards(organisation, users, keys)
    people = [Person(n, names[n], address(n), keys[n], certificates[n]) for n in range(count + 1)]
    return people[:count], people[count]


# --- the clients ---------------------------------------------------------------------------


RESET = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def request(client: Browser, method: str, path: str, **options) -> tuple[int, str, bytes, float]:
    """`client.request`, sent again once on a new connection when the server had closed the
    kept-alive one before reading it (gunicorn's keep-alive timeout), as a browser does."""
    reused = client.conn is not None
    try:
        return client.request(method, path, **options)
    except RESET:
        if not reused:
            raise
        return client.request(method, path, **options)


def named(headers: dict, name: str) -> dict:
    """`headers` naming the step for --request-cpu (X-Bench-Step; the portal ignores it)."""
    return {**headers, "X-Bench-Step": name}


@dataclass
class Login:
    person: Person
    cookies: dict  # the browser's cookies after the login
    seconds: dict


class Client(threading.Thread):
    """One browser and one card client, one login at a time."""

    def __init__(self, port: int, people: list[Person], options, run: dict):
        super().__init__(daemon=True)
        self.people = people
        self.options = options
        self.run_state = run
        headers = {"User-Agent": "zorgsleutel-bench/1"}
        self.browser = Browser(port, headers={**headers, "Accept": "text/html"})
        self.card = Browser(port, headers={**headers, "Accept": "application/json"})
        self.latencies: dict[str, list[float]] = {step: [] for step in (*STEPS, "login")}
        self.done: list[Login] = []
        self.ok = self.errors = self.warmup_errors = self.not_run = 0
        self.samples: list[str] = []
        self.started = self.finished = 0.0

    def fail(self, person: Person, message: str) -> bool:
        self.errors += 1
        if len(self.samples) < MAX_ERROR_SAMPLES:
            self.samples.append(f"{person.name}: {message}")
        return False

    def login(self, person: Person, timed: bool) -> Login | None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        from zorgsleutel import cardprotocol

        b, card = self.browser, self.card
        b.reset()
        card.reset()
        at = {"X-Forwarded-For": person.address}
        seconds: dict[str, float] = {}
        started = time.perf_counter()
        status, _, page, seconds["page"] = request(b, "GET", LOGIN, headers=named(at, "1 page"))
        text = page.decode("utf-8", "replace")
        code, status_url = CARD_CODE.search(text), STATUS_URL.search(text)
        if status != 200 or code is None or status_url is None or "zs_session" not in b.cookies:
            return self.fail(person, f"GET {LOGIN}: {status}, code or status URL missing")
        session = b.cookies["zs_session"]
        status, _, raw, seconds["challenge"] = request(
            card,
            "GET",
            f"/api/card/v1/challenges/{code.group(1)}",
            headers=named(at, "2 challenge"),
        )
        info = json.loads(raw or b"{}")
        if status != 200 or not {"id", "challenge", "host"} <= set(info):
            return self.fail(person, f"GET the challenge: {status} {raw[:200]!r}")
        signing = time.perf_counter()
        message = cardprotocol.message(
            challenge_id=info["id"],
            challenge=cardprotocol.unb64(info["challenge"]),
            host=info["host"],
        )
        signature = person.key.sign(message, ec.ECDSA(hashes.SHA256()))
        seconds["sign"] = time.perf_counter() - signing
        answer = {
            "certificates": [person.certificate],
            "signature": cardprotocol.b64(signature),
            "algorithm": "ecdsa-sha256",
        }
        status, _, raw, seconds["answer"] = request(
            card,
            "POST",
            f"/api/card/v1/challenges/{info['id']}/answer",
            data=answer,
            headers=named(at, "3 answer"),
        )
        if status != 200 or json.loads(raw or b"{}").get("status") != "accepted":
            return self.fail(person, f"POST the answer: {status} {raw[:200]!r}")
        poll = html.unescape(status_url.group(1))
        status, _, raw, seconds["collect"] = request(
            b, "GET", poll, headers=named({**at, "Accept": "application/json"}, "4 collect")
        )
        outcome = json.loads(raw or b"{}")
        if status != 200 or outcome != {"status": "ok", "next": "/mijn"}:
            return self.fail(person, f"GET {poll}: {status} {raw[:200]!r}")
        if b.cookies.get("zs_session") in (None, session):
            return self.fail(person, "the session id was not changed at login")
        seconds["login"] = time.perf_counter() - started
        done = Login(person, dict(b.cookies), seconds)
        if timed:
            for step, value in seconds.items():
                self.latencies[step].append(value)
            self.ok += 1
            self.done.append(done)
        return done

    def run(self) -> None:
        warm = self.people[: self.options.warmup]
        timed = self.people[self.options.warmup :]
        try:
            for person in warm:
                try:
                    self.login(person, timed=False)
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    self.fail(person, f"{type(exc).__name__}: {exc}")
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
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    self.fail(person, f"{type(exc).__name__}: {exc}")
        except threading.BrokenBarrierError:
            pass
        finally:
            self.finished = time.monotonic()
            self.browser.close()
            self.card.close()


def timed_phase(options, port: int, people: list[Person], portal_pids: set[int]) -> dict:
    shares: list[list[Person]] = [people[k :: options.clients] for k in range(options.clients)]
    run = {"ready": threading.Barrier(options.clients + 1), "go": threading.Event()}
    clients = [Client(port, share, options, run) for share in shares]
    for client in clients:
        client.start()
    try:
        run["ready"].wait(timeout=600)
    except threading.BrokenBarrierError:
        raise BenchError("the clients did not get ready (warm-up failed?)") from None
    cpu_before = CpuSnapshot.take()
    bench_before = time.process_time()
    run["go"].set()
    for client in clients:
        client.join(options.max_seconds + 120)
    cpu_after = CpuSnapshot.take()
    bench_cpu = time.process_time() - bench_before
    wall = max(c.finished for c in clients) - min(c.started for c in clients)
    ok = sum(c.ok for c in clients)
    groups = {"portal": portal_pids, "bench": {os.getpid()}}
    services = (("postgres",) if options.database_url != "sqlite" else ()) + (
        ("redis",) if options.redis_url else ()
    )
    cpu = cpu_groups(cpu_before, cpu_after, groups, options.scratch_databases, services=services)
    result = {
        "logins": ok,
        "wall_seconds": round(wall, 2),
        "logins_per_second": round(ok / wall, 1) if wall else 0.0,
        "errors": sum(c.errors for c in clients),
        "warmup_errors": sum(c.warmup_errors for c in clients),
        "not_run": sum(c.not_run for c in clients),
        "error_samples": [s for c in clients for s in c.samples][:MAX_ERROR_SAMPLES],
        "latency_ms": {
            step: latency_ms([v for c in clients for v in c.latencies[step]])
            for step in ("login", *STEPS)
        },
        "connections_opened": sum(c.browser.connections + c.card.connections for c in clients),
        "cpu_seconds": cpu,
        "bench_process_cpu_seconds": round(bench_cpu, 2),
    }
    if ok and cpu:
        result["cpu_ms_per_login"] = {
            key: round(value / ok * 1000, 2) for key, value in cpu.items() if key != "idle"
        }
    result["_logins"] = [login for c in clients for login in c.done]
    return result


def reference_logins(port: int, person: Person, count: int) -> dict:
    """`count` logins with the SoftHSM2 card, every answer checked like the others (not timed
    as throughput): the portal accepts its signatures; how long the token takes to sign."""
    options = argparse.Namespace(warmup=0, max_seconds=600)
    client = Client(port, [], options, {})
    signing: list[float] = []
    try:
        for _ in range(count):
            done = client.login(person, timed=False)
            if done is None:
                raise BenchError(f"a login with the SoftHSM2 card failed: {client.samples}")
            signing.append(done.seconds["sign"])
    finally:
        client.browser.close()
        client.card.close()
    return {"logins": count, "sign_ms": latency_ms(signing)}


def check_logged_in(port: int, logins: list[Login], threads: int = 8) -> dict:
    """Every timed login's browser opens /mijn: 200 and the person's name (not timed)."""
    from concurrent.futures import ThreadPoolExecutor

    local = threading.local()

    def check(login: Login) -> str:
        browser = getattr(local, "browser", None)
        if browser is None:
            browser = local.browser = Browser(port, headers={"Accept": "text/html"})
        browser.cookies = dict(login.cookies)
        at = {"X-Forwarded-For": login.person.address}
        status, _, page, _ = request(browser, "GET", "/mijn", headers=named(at, "after: /mijn"))
        if status != 200 or login.person.name not in page.decode("utf-8", "replace"):
            return f"{login.person.name}: GET /mijn {status}, not logged in"
        return ""

    with ThreadPoolExecutor(threads) as pool:
        problems = [p for p in pool.map(check, logins) if p]
    return {"checked": len(logins), "not_logged_in": len(problems), "samples": problems[:5]}


def waiting_polls(port: int, portal_pids: set[int], pages: int, rounds: int) -> dict:
    """CPU of a waiting page's poll (no answer yet): `pages` login pages, each polled `rounds`
    times, after the timed phase."""
    browsers, urls = [], []
    for n in range(pages):
        browser = Browser(port, headers={"Accept": "text/html"})
        at = {"X-Forwarded-For": address(900_000 + n)}
        status, _, page, _ = request(browser, "GET", LOGIN, headers=named(at, "after: page"))
        found = STATUS_URL.search(page.decode("utf-8", "replace"))
        if status != 200 or found is None:
            raise BenchError(f"a waiting page could not be opened: {status}")
        browsers.append(browser)
        urls.append(html.unescape(found.group(1)))
    before = process_cpu()
    answers: list[float] = []
    for _ in range(rounds):
        for browser, url in zip(browsers, urls, strict=True):
            status, _, raw, seconds = request(
                browser, "GET", url, headers=named({"Accept": "application/json"}, "after: waiting")
            )
            if status != 200 or json.loads(raw) != {"status": "waiting"}:
                raise BenchError(f"a waiting poll answered {status} {raw[:100]!r}")
            answers.append(seconds)
    after = process_cpu()
    for browser in browsers:
        browser.close()
    used = sum(after.get(p, ("", 0, 0.0))[2] - before.get(p, ("", 0, 0.0))[2] for p in portal_pids)
    return {
        "polls": len(answers),
        "portal_cpu_ms_per_poll": round(used / len(answers) * 1000, 3),
        "latency_ms": latency_ms(answers),
    }


def reference_signature_ms(key, count: int = 200) -> float:
    """The SoftHSM2 token's time for one ECDSA P-256 signature over a login message, alone."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    message = b"zorgsleutel-card-v1|card_x|127.0.0.1|" + os.urandom(32)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        key.sign(message, ec.ECDSA(hashes.SHA256()))
        times.append(time.perf_counter() - started)
    return round(statistics.median(times) * 1000, 3)


# --- accounting and the report -------------------------------------------------------------


def accounting(report: dict) -> dict:
    """The figures the goal is judged on (docs/benchmarks.md)."""
    r = report["result"]
    cores = report["machine"].get("nproc") or os.cpu_count() or 1
    out: dict = {
        "cores": cores,
        "wall_per_core": round(r["logins_per_second"] / cores, 1),
    }
    ms = r.get("cpu_ms_per_login")
    if ms:
        server = ms.get("portal", 0) + ms.get("postgres", 0) + ms.get("redis", 0)
        out["server_cpu_ms"] = round(server, 2)
        out["portal_cpu_ms"] = ms.get("portal", 0)
        out["per_core"] = round(1000 / server, 1) if server else None
        out["portal_only_per_core"] = round(1000 / ms["portal"], 1) if ms.get("portal") else None
        out["load_generator_cpu_ms"] = ms.get("bench", 0)
        cpu = r["cpu_seconds"]
        total = sum(cpu.values())
        out["other_share"] = round(cpu["other"] / total, 3) if total else None
    out["goal_met"] = bool(out.get("per_core") and out["per_core"] >= report["goal"])
    return out


def print_summary(report: dict) -> None:
    m, r, s, a = report["machine"], report["result"], report["setup"], report["accounting"]
    lat = r["latency_ms"]
    lines = [
        "",
        "Smartcards: complete logins per second",
        f"  machine      {m['nproc']} cores, {m['cpu_model']}; code {m['code']['commit']}; "
        f"load average before the run {report.get('loadavg_before', '?')}",
        f"  portal       {report['server']['portal']}",
        f"  database     {report['server']['database']}",
        f"  cache        {report['server']['cache']}",
        f"  load         {report['clients']} client threads (browser + card client each), one "
        "login at a time each, kept-alive connections",
        f"  setup        {s['people']} people with a smartcard each in {s['seconds']:.0f} s "
        "(not timed)",
        f"  timed        {r['logins']} logins in {r['wall_seconds']} s = "
        f"{r['logins_per_second']} logins/s = {a['wall_per_core']}/s per core (wall, "
        "everything on the same cores)"
        + (f"  (INVALID: {r['errors']} errors)" if r["errors"] else ""),
        f"  login        p50 {lat['login'].get('p50')} ms  p95 {lat['login'].get('p95')} ms  "
        f"p99 {lat['login'].get('p99')} ms  max {lat['login'].get('max')} ms (4 requests + "
        "the signature)",
    ]
    for step in STEPS:
        step_lat = lat[step]
        lines.append(
            f"    {step:<11}p50 {step_lat.get('p50')} ms  p95 {step_lat.get('p95')} ms  "
            f"p99 {step_lat.get('p99')} ms"
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
    if "per_core" in a:
        lines.append(
            f"  RESULT       server CPU {a['server_cpu_ms']} ms per login (portal "
            f"{a['portal_cpu_ms']}) = {a['per_core']} logins/s per core; load generator "
            f"{a['load_generator_cpu_ms']} ms per login (apart)"
        )
    lines.append(
        f"  goal         >= {report['goal']}/s per core: {'met' if a['goal_met'] else 'NOT met'}"
    )
    ref = report.get("reference_card")
    if ref:
        lines.append(
            f"  SoftHSM2     {ref['logins']} logins with a key made on a SoftHSM2 token: "
            f"accepted; its signature p50 {ref['sign_ms'].get('p50')} ms in a login, "
            f"{ref['sign_ms_alone']} ms alone (software key: {lat['sign'].get('p50')} ms)"
        )
    wait = report.get("waiting_polls")
    if wait:
        lines.append(
            f"  waiting      a poll before the answer: {wait['portal_cpu_ms_per_poll']} ms portal "
            f"CPU, p50 {wait['latency_ms'].get('p50')} ms ({wait['polls']} polls)"
        )
    check = report.get("logged_in")
    if check:
        lines.append(
            f"  logged in    {check['checked'] - check['not_logged_in']}/{check['checked']} "
            "browsers open /mijn as the person"
        )
    if report.get("request_cpu"):
        lines.append("  per request  (thread CPU in the workers, pre_request → post_request)")
        for key, item in report["request_cpu"].items():
            lines.append(f"    {key:<44}{item['count']:>7}  {item['cpu_ms']:>7} ms")
    if report.get("profile"):
        lines.append("  profile      " + report["profile"]["file"])
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
        description="Complete smartcard logins per second (see docs/benchmarks.md)."
    )
    add_database_options(parser, redis=True)
    parser.add_argument("--people", type=int, default=4000, help="people = logins [4000]")
    parser.add_argument("--clients", type=int, default=8, help="client threads [8]")
    parser.add_argument("--warmup", type=int, default=5, help="untimed logins per client [5]")
    parser.add_argument("--max-seconds", type=float, default=60, help="timed phase bound [60]")
    parser.add_argument("--portal-workers", type=int, default=2, help="gunicorn workers [2]")
    parser.add_argument(
        "--portal-threads", type=int, default=4, help="threads per worker; 1 = sync [4]"
    )
    parser.add_argument(
        "--reference-logins",
        type=int,
        default=20,
        help="logins with the SoftHSM2 card before the timed phase (0: none) [20]",
    )
    parser.add_argument(
        "--waiting-polls",
        type=int,
        default=2000,
        help="polls of waiting pages after the timed phase, for their CPU (0: none) [2000]",
    )
    parser.add_argument(
        "--request-cpu",
        action="store_true",
        help=f"the workers sum each request's thread CPU ({HOOKS.relative_to(HERE.parent)})",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile every request in the workers (slows them: figures are then only "
        "relative); the merged profile is left in --profile-out",
    )
    parser.add_argument(
        "--profile-out", default="smartcard_login.prof", help="[smartcard_login.prof]"
    )
    parser.add_argument("--goal", type=float, default=150.0, help="logins/s per core [150]")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parse_options(parser, argv)
    if not 1 <= options.clients <= 64:
        parser.error("--clients must be 1..64")
    if not 1 <= options.people <= 100_000:
        parser.error("--people must be 1..100000")
    if options.people < options.clients * (options.warmup + 1):
        parser.error("need at least --warmup + 1 people per client")
    if not 0 < options.max_seconds <= 600:
        parser.error("--max-seconds must be in (0, 600]")
    options.scratch_databases = []
    return options


def describe_servers(options: argparse.Namespace, scratch: Scratch) -> dict:
    kind = "sync" if options.portal_threads <= 1 else f"gthread, {options.portal_threads} threads"
    mode = "DEBUG off, behind a TLS proxy"
    if options.profile:
        mode += ", cProfile in every request"
    elif options.request_cpu:
        mode += ", per-request CPU hooks"
    return {
        "portal": f"gunicorn zorgsleutel.wsgi, {options.portal_workers} workers, {kind}, {mode}",
        "database": scratch.describe(),
        "cache": scratch.describe_cache(),
    }


def read_hooks(directory: Path, options: argparse.Namespace) -> dict:
    """What the workers' hooks wrote when they exited (bench/floor/request_profile.py)."""
    out: dict = {}
    if not (options.request_cpu or options.profile):
        return out
    sys.path.insert(0, str(HOOKS.parent))
    import request_profile

    out["request_cpu"] = request_profile.request_cpu(directory)
    if options.profile:
        target = Path(options.profile_out).resolve()
        out["profile"] = {"file": str(target), **request_profile.merge(directory, target)}
    return out


def run(options: argparse.Namespace) -> dict:
    report = new_report(
        "smartcard_login", load_before=True, clients=options.clients, goal=options.goal
    )
    say = speaker(options.json)
    with Scratch("zs-bench-smartcard-", options.database_url, options.redis_url) as scratch:
        hooks = scratch.workdir / "hooks"
        gunicorn = ""
        if options.request_cpu or options.profile:
            gunicorn = f"--config {HOOKS}"
        portal = scratch.portal(scratch.database("portal"), gunicorn_args=gunicorn)
        portal.env["REQUEST_PROFILE_DIR"] = str(hooks)
        if options.profile:
            portal.env["REQUEST_PROFILE"] = "1"
        options.scratch_databases = scratch.scratch
        try:
            say("setup: the smartcard CA on SoftHSM2, migrating …")
            started = time.monotonic()
            portal.env.update(make_ca(scratch.workdir, portal.env["SITE_URL"]))
            portal.migrate()
            portal.django()
            reference_key = reference_card(
                portal.env["SOFTHSM2_CONF"], portal.env["SMARTCARD_CA_MODULE"]
            )
            say(f"setup: {options.people} people with a smartcard each …")
            people, reference = create_people(options.people, reference_key)
            report["setup"] = {"people": len(people), "seconds": round(time.monotonic() - started)}
            portal.start(workers=options.portal_workers, threads=options.portal_threads)
            report["server"] = describe_servers(options, scratch)
            pids = portal.pids()
            if options.reference_logins:
                say(f"{options.reference_logins} logins with the SoftHSM2 card …")
                found = reference_logins(portal.port, reference, options.reference_logins)
                found["sign_ms_alone"] = reference_signature_ms(reference_key)
                report["reference_card"] = found
            say(f"timed phase: up to {len(people)} logins, {options.clients} clients …")
            result = timed_phase(options, portal.port, people, pids)
            logins = result.pop("_logins")
            report["result"] = result
            report["accounting"] = accounting(report)
            say(f"checking that the {len(logins)} browsers are logged in …")
            report["logged_in"] = check_logged_in(portal.port, logins)
            if options.waiting_polls:
                pages = min(100, options.waiting_polls)
                report["waiting_polls"] = waiting_polls(
                    portal.port, pids, pages, max(options.waiting_polls // pages, 1)
                )
        except (BenchError, OSError, http.client.HTTPException) as exc:
            raise BenchError(f"{exc}\n--- portal log ---\n{portal.log()}") from exc
        portal.stop()  # the workers write their hooks' sums when they exit
        report.update(read_hooks(hooks, options))
    return report


def problems(report: dict) -> list[str]:
    found = []
    result = report["result"]
    if result["errors"] or result["warmup_errors"]:
        found.append("some logins failed (see above)")
    if report["logged_in"]["not_logged_in"]:
        found.append(f"not logged in after the login: {report['logged_in']['samples']}")
    return found


def main(argv: list[str] | None = None) -> int:
    return run_main(argv, parse_args, run, print_summary, problems)


if __name__ == "__main__":
    sys.exit(main())
