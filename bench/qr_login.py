"""Benchmark: many browser pages waiting on a QR login at once (not a timed test).

Starts its own portal (gunicorn, 2 workers, DEBUG off, fresh SQLite database or a scratch
PostgreSQL database, bench/_common.py), makes N people with a linked app each (in-process,
through the real enrolment flow), then:

- N simulated browser pages each load /inloggen/app (own session cookie, own challenge) over a
  keep-alive connection and poll the page's status URL (/wachten/<id>) exactly as wait.js
  does (every APP_POLL_INTERVAL_MS), all at once;
- an "app" answers the pages in random order at --rate per second, as the reference client does
  (GET /api/app/v1/logins/<id>, then POST the HMAC and the device signature), from addresses
  127.0.0.2-254 so the per-address rate limit sees many phones;
- for each page, the time from the app's answer (its POST returning "ok") to the page's poll
  answering "ok" is the latency; the page then opens /mijn and must be logged in.

Every answer is checked; anything unexpected is an error and makes the exit status 1. The
portal's memory (RSS of master and workers) is sampled throughout.

    .venv/bin/python bench/qr_login.py                       # 1,000 pages, 20 answers/s
    .venv/bin/python bench/qr_login.py --pages 200 --rate 10 --threads 16
    .venv/bin/python bench/qr_login.py --database-url postgres://postgres@127.0.0.1:5432/postgres \
        --redis-url redis://127.0.0.1:6379/0
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

from _common import (
    Scratch,
    add_database_options,
    model,
    parse_options,
    run_main,
)

STATUS = re.compile(r'data-status-url="([^"]+)"')
QR_URL = re.compile(r"<code>(zorgsleutel://login\?[^<]+)</code>")


# --- a tiny HTTP/1.1 client on asyncio streams (keep-alive, one request at a time) ---------------
class Connection:
    def __init__(self, port: int, source: str = "127.0.0.1"):
        self.port, self.source = port, source
        self.reader = self.writer = None

    async def _open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=(self.source, 0)
        )

    async def request(
        self,
        method: str,
        path: str,
        *,
        cookie: str = "",
        body: bytes = b"",
        accept: str = "application/json",
    ) -> tuple[int, dict, bytes]:
        for attempt in (1, 2):
            if self.writer is None:
                await self._open()
            head = [
                f"{method} {path} HTTP/1.1",
                f"Host: 127.0.0.1:{self.port}",
                f"Accept: {accept}",
                "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Chrome/156",
                f"Content-Length: {len(body)}",
            ]
            if body:
                head.append("Content-Type: application/json")
            if cookie:
                head.append(f"Cookie: {cookie}")
            try:
                self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
                await self.writer.drain()
                status_line = await self.reader.readline()
                if not status_line:
                    raise ConnectionError("closed")
                headers: dict[str, list[str]] = {}
                while (line := await self.reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    headers.setdefault(name.strip().lower(), []).append(value.strip())
                length = int(headers.get("content-length", ["0"])[0])
                payload = await self.reader.readexactly(length) if length else b""
                if "close" in headers.get("connection", [""])[0].lower():
                    self.close()
                return int(status_line.split()[1]), headers, payload
            except (ConnectionError, asyncio.IncompleteReadError, OSError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def session_cookie(headers: dict, name: str) -> str | None:
    for value in headers.get("set-cookie", []):
        if value.startswith(name + "="):
            return value.split(";", 1)[0]
    return None


# --- people ------------------------------------------------------------------------------------
def make_people(count: int) -> list[dict]:
    """Active people with a linked app each, through the real enrolment flow (in-process;
    Django set up with the portal's settings)."""
    from zorgsleutel.clients.app import DeviceMaterial
    from zorgsleutel.mobileapp import enrolment

    organisation = model("organisations.Organisation").objects.create(
        name="Bench Zorg", kind="care_provider", ura="99999999"
    )
    accounts = []
    for n in range(count):
        user = model("accounts.User").objects.create(
            email=f"qr{n:05d}@bench.nl", name=f"QR {n}", state="active"
        )
        model("accounts.Membership").objects.create(
            user=user, organisation=organisation, role="manager"
        )
        started = enrolment.start_enrolment(
            actor=user, session_acr="", session_key="", purpose=enrolment.LINK_APP
        )
        material = DeviceMaterial.generate()
        device = enrolment.complete_enrolment(
            code=started.code, public_key=material.public_der, secret=material.secret, name="bench"
        )
        accounts.append(
            {"device": device.public_id, "key": material.key, "secret": material.secret}
        )
    return accounts


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total


# --- the measured run ---------------------------------------------------------------------
class Page:
    def __init__(self, index: int, port: int):
        self.index, self.conn = index, Connection(port)
        self.cookie = self.status_url = self.qr = ""
        self.answered_at = self.ok_at = 0.0
        self.done = asyncio.Event()


async def open_page(page: Page, cookie_name: str) -> None:
    status, headers, body = await page.conn.request("GET", "/inloggen/app", accept="text/html")
    text = body.decode()
    cookie = session_cookie(headers, cookie_name)
    if status != 200 or not cookie or not STATUS.search(text) or not QR_URL.search(text):
        raise RuntimeError(f"page {page.index}: login page {status}")
    page.cookie = cookie
    page.status_url = html.unescape(STATUS.search(text).group(1))
    page.qr = html.unescape(QR_URL.search(text).group(1))


async def poll(
    page: Page, interval: float, cookie_name: str, errors: list[str], hiccups: list[str]
) -> None:
    await asyncio.sleep(random.random() * interval)  # pages were opened over some time
    while True:
        try:
            status, headers, body = await page.conn.request(
                "GET", page.status_url, cookie=page.cookie
            )
        except (ConnectionError, OSError, asyncio.IncompleteReadError) as exc:
            hiccups.append(type(exc).__name__)  # as wait.js does: try again a little later
            await asyncio.sleep(2 * interval)
            continue
        data = json.loads(body or b"{}")
        if status == 200 and data.get("status") == "ok":
            page.ok_at = time.perf_counter()
            page.cookie = session_cookie(headers, cookie_name) or page.cookie
            status, _h, _b = await page.conn.request(
                "GET", "/mijn", cookie=page.cookie, accept="text/html"
            )
            if status != 200:
                errors.append(f"page {page.index}: /mijn answered {status} after login")
            page.done.set()
            return
        if status != 200 or data.get("status") != "waiting":
            errors.append(f"page {page.index}: poll answered {status} {data}")
            page.done.set()
            return
        await asyncio.sleep(interval)


async def app_answers(
    pages: list[Page], accounts: list[dict], port: int, rate: float, errors: list[str]
) -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from zorgsleutel import appprotocol

    order = list(range(len(pages)))
    random.shuffle(order)
    start = time.perf_counter()

    async def answer(n: int, slot: int) -> None:
        page, account = pages[n], accounts[n]
        _kind, params = appprotocol.parse_url(page.qr)
        conn = Connection(port, source=f"127.0.0.{2 + slot % 250}")
        try:
            status, _h, body = await conn.request("GET", f"/api/app/v1/logins/{params['id']}")
            info = json.loads(body)
            message = appprotocol.login_message(
                challenge_id=params["id"],
                challenge=appprotocol.unb64(params["c"]),
                host=info["host"],
            )
            response = appprotocol.response(account["secret"], message)
            signature = account["key"].sign(message + response.encode(), ec.ECDSA(hashes.SHA256()))
            payload = json.dumps(
                {
                    "device": account["device"],
                    "response": response,
                    "signature": appprotocol.b64(signature),
                }
            ).encode()
            status, _h, body = await conn.request(
                "POST", f"/api/app/v1/logins/{params['id']}", body=payload
            )
            page.answered_at = time.perf_counter()
            if status != 200 or json.loads(body).get("result") != "ok":
                errors.append(f"app {n}: answer {status} {body[:120]!r}")
        finally:
            conn.close()

    tasks = []
    for slot, n in enumerate(order):
        await asyncio.sleep(max(0.0, start + slot / rate - time.perf_counter()))
        tasks.append(asyncio.create_task(answer(n, slot)))
    await asyncio.gather(*tasks)


async def measured(
    port: int,
    pages_count: int,
    rate: float,
    interval: float,
    accounts: list[dict],
    cookie_name: str,
    pids: list[int],
) -> dict:
    pages = [Page(n, port) for n in range(pages_count)]
    errors: list[str] = []
    opening = asyncio.Semaphore(50)

    async def opened(page: Page) -> None:
        async with opening:
            await open_page(page, cookie_name)

    t0 = time.perf_counter()
    await asyncio.gather(*(opened(p) for p in pages))
    open_seconds = time.perf_counter() - t0
    memory = [rss_kib(pids)]
    hiccups: list[str] = []
    pollers = [asyncio.create_task(poll(p, interval, cookie_name, errors, hiccups)) for p in pages]

    async def sample() -> None:
        while True:
            await asyncio.sleep(2)
            memory.append(rss_kib(pids))

    sampler = asyncio.create_task(sample())
    await asyncio.sleep(2 * interval)  # every page is waiting and polling
    await app_answers(pages, accounts, port, rate, errors)
    try:
        await asyncio.wait_for(asyncio.gather(*(p.done.wait() for p in pages)), timeout=30)
    except TimeoutError:
        errors.append(f"{sum(not p.done.is_set() for p in pages)} page(s) never got logged in")
    sampler.cancel()
    for task in pollers:
        if task.done() and task.exception() is not None:
            errors.append(f"a poller failed: {task.exception()!r}")
        task.cancel()
    latencies = sorted(p.ok_at - p.answered_at for p in pages if p.ok_at and p.answered_at)
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return {
        "pages": pages_count,
        "answers_per_second": rate,
        "poll_interval_s": interval,
        "pages_opened_in_s": round(open_seconds, 1),
        "logged_in": len(latencies),
        "latency_s": {
            "median": round(statistics.median(latencies), 3) if latencies else None,
            "p95": round(q[94], 3),
            "p99": round(q[98], 3),
            "max": round(max(latencies), 3) if latencies else None,
        },
        "portal_rss_mib": {"start": round(memory[0] / 1024), "max": round(max(memory) / 1024)},
        "errors": len(errors),
        "error_samples": errors[:10],
        "poll_retries": len(hiccups),
        "poll_retry_kinds": sorted(set(hiccups)),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pages", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0, help="app answers per second")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    add_database_options(parser, redis=True)
    parser.set_defaults(redis_url=os.environ.get("REDIS_URL", ""))  # as before the option
    parser.add_argument("--json", action="store_true")
    options = parse_options(parser, argv)
    return options


def run(options: argparse.Namespace) -> dict:
    with Scratch("zs-qr-bench-", options.database_url, options.redis_url) as scratch:
        gunicorn = "--worker-connections 2000 --keep-alive 5"
        if options.threads <= 1:
            gunicorn += " --worker-class gthread --threads 1"
        portal = scratch.portal(scratch.database("portal"), gunicorn_args=gunicorn)
        portal.env.update(  # plain HTTP: the pages and the app talk to gunicorn itself
            SECURE_SSL_REDIRECT="0",
            SITE_URL=portal.url,
            # The bench's many phones share loopback addresses only; 127.0.0.1 alone is a proxy.
            TRUSTED_PROXIES="",
        )
        portal.migrate()
        portal.django()
        accounts = make_people(options.pages)
        from django.conf import settings

        from zorgsleutel import policies

        portal.start(workers=options.workers, threads=options.threads, seconds=30)
        time.sleep(1)
        report = asyncio.run(
            measured(
                portal.port,
                options.pages,
                options.rate,
                policies.APP_POLL_INTERVAL_MS / 1000,
                accounts,
                settings.SESSION_COOKIE_NAME,
                sorted(portal.pids()),
            )
        )
    report["server"] = {
        "workers": options.workers,
        "worker_class": "gthread",
        "threads": options.threads,
        "database": "sqlite" if options.database_url == "sqlite" else "postgresql",
        "cache": "redis" if options.redis_url else "database",
    }
    report["cpu"] = {"nproc": os.cpu_count()}
    return report


def print_summary(report: dict) -> None:
    lat = report["latency_s"]
    print(
        f"{report['logged_in']}/{report['pages']} pages logged in; answer → logged in: "
        f"median {lat['median']} s, p95 {lat['p95']} s, p99 {lat['p99']} s, "
        f"max {lat['max']} s; portal RSS {report['portal_rss_mib']['start']}→"
        f"{report['portal_rss_mib']['max']} MiB; errors {report['errors']}"
    )
    for sample in report["error_samples"]:
        print("  ", sample)


def problems(report: dict) -> list[str]:
    return [f"{report['errors']} error(s) (see above)"] if report["errors"] else []


def main(argv: list[str] | None = None) -> int:
    return run_main(argv, parse_args, run, print_summary, problems)


if __name__ == "__main__":
    sys.exit(main())
