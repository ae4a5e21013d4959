"""Benchmark: SMS-code verifications per second against a running vault (not a timed test).

By default this starts its own vault (`zorgsleutel vault serve`, gunicorn with 2 worker
processes) on a free 127.0.0.1 port with a fresh temporary database (SQLite, or a scratch
PostgreSQL database with --database-url postgres://...), migrates it, and stops it at the end.
Its setup runs with DEBUG=1 (the dev outbox endpoint), its timed phase with DEBUG off (production
settings, same random keys; --debug-vault keeps DEBUG). With --url it uses a vault that is
already running (its DEBUG dev outbox must be on).

Setup (not timed): N enrolments through the real signed API, to distinct Dutch mobile numbers
(+31 6 2xxxxxxx, so the per-number SMS caps are not hit), in batches of 100 numbers whose last
two digits are 00..99. After each batch the dev outbox (GET /v1/dev/sms, newest 200) must hold
exactly that batch's 100 masked hints as its newest messages: each hint names one number of the
batch, so every code is matched without guessing, and interference from other senders aborts.

Timed phase: several client processes (multiprocessing), each with one keep-alive connection
(http.client) and its own challenges. Per challenge: --wrong wrong codes, then the right code.
Every request is a real signed verification (fresh nonce, real challenge, the vault's HMAC
compare and database update), and every answer is checked ("wrong" with the right attempts
left, then "ok"); anything else is an error and makes the exit status 1.

    .venv/bin/python bench/vault_verify.py                    # own vault, SQLite
    .venv/bin/python bench/vault_verify.py --database-url postgres://postgres@127.0.0.1:5432/postgres
    .venv/bin/python bench/vault_verify.py --threads 1         # gunicorn sync workers
    .venv/bin/python bench/vault_verify.py --url http://127.0.0.1:8001 --json

Results and how they were measured: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import multiprocessing
import os
import platform
import queue
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import zorgsleutel
from zorgsleutel import vaultprotocol

DEV_CLIENT = "portal"
DEV_KEY = "dev-only-vault-client-key"  # the vault's DEBUG-only development key
DEV_GATEWAY = "zorgsleutel.vault.gateways.dev.DevOutboxGateway"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
BATCH = 100  # numbers per setup batch: last two digits 00..99, so hints are unique in a batch
OUTBOX_LIMIT = 200  # the dev outbox returns at most this many messages (vault policies)
assert BATCH <= OUTBOX_LIMIT
CODE_TTL_MARGIN = 5.0  # stop the timed phase this long before the first code expires
CODE = re.compile(r"\b([0-9]{6})\b")
MAX_ERROR_SAMPLES = 10


class BenchError(Exception):
    """The benchmark could not run (setup failed); the message says why."""


# --- signed HTTP ---------------------------------------------------------------------------


class SignedConnection:
    """One keep-alive HTTP/1.1 connection sending requests signed like the portal's client."""

    def __init__(self, url: str, client: str, key: bytes, timeout: float = 30.0):
        parts = urllib.parse.urlsplit(url)
        self.host, self.port = parts.hostname, parts.port or 80
        self.prefix = parts.path.rstrip("/")
        self.client, self.key, self.timeout = client, key, timeout
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        self.opened = 0  # TCP connections opened (the sync worker closes after each answer)

    def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, float]:
        """(status, body, seconds from sending to the last byte of the answer)."""
        full_path = self.prefix + path
        headers = vaultprotocol.sign_headers(
            client=self.client, key=self.key, method=method, path=full_path, body=body
        )
        headers["Content-Type"] = "application/json"
        if self.conn.sock is None:
            self.opened += 1
        started = time.perf_counter()
        self.conn.request(method, full_path, body=body or None, headers=headers)
        response = self.conn.getresponse()
        raw = response.read()
        return response.status, raw, time.perf_counter() - started

    def call(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        body = b"" if payload is None else json.dumps(payload).encode()
        status, raw, _ = self.request(method, path, body)
        try:
            data = json.loads(raw or b"{}")
        except ValueError:
            data = {"raw": raw[:200].decode("utf-8", "replace")}
        return status, data

    def close(self) -> None:
        self.conn.close()


# --- the vault under test ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScratchPostgres:
    """CREATE a scratch database on the server of `url`; DROP it at the end."""

    def __init__(self, url: str):
        import psycopg  # only needed for PostgreSQL runs

        self.psycopg = psycopg
        self.admin_url = url
        parts = urllib.parse.urlsplit(url)
        self.name = f"zs_bench_{secrets.token_hex(4)}"
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.name))

    def __enter__(self) -> ScratchPostgres:
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc) -> None:
        with self.psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def version(self) -> str:
        with self.psycopg.connect(self.admin_url) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]


class OwnVault:
    """`zorgsleutel vault serve` on a free port with a fresh database and fresh random keys.

    Started with DEBUG=1 for the setup (the dev outbox endpoint exists only then) and, unless
    --debug-vault, restarted with DEBUG off for the timed phase: production settings (no
    Django query logging), the same key material, the dev outbox gateway configured explicitly.
    """

    def __init__(self, options: argparse.Namespace, database_url: str, workdir: Path):
        self.workdir = workdir
        self.log_path = workdir / "vault.log"
        self.client = options.client
        self.key = secrets.token_urlsafe(32).encode()  # DEBUG off refuses the dev key

        def random_key() -> str:
            return base64.b64encode(os.urandom(32)).decode()

        env = {k: v for k, v in os.environ.items() if not k.startswith(("VAULT_", "GUNICORN_"))}
        env.update(
            ZS_BASE_DIR=str(workdir),  # no .env of the work tree, nothing under var/
            ZS_VAR_DIR=str(workdir),
            VAULT_DATABASE_URL=database_url,
            VAULT_CLIENT_KEYS=f"{self.client}:{self.key.decode()}",
            VAULT_ENCRYPTION_KEYS=f"1:{random_key()}",
            VAULT_INDEX_KEY=random_key(),
            VAULT_CODE_KEY=random_key(),
            VAULT_SMS_GATEWAYS=json.dumps({"dev": {"BACKEND": DEV_GATEWAY}}),
            LOG_LEVEL="WARNING",
        )
        if options.gunicorn_args:
            env["GUNICORN_CMD_ARGS"] = options.gunicorn_args
        self.base_env = env
        self.options = options
        self.process: subprocess.Popen | None = None
        self.url = ""
        self.command: list[str] = []

    def env(self, debug: bool) -> dict[str, str]:
        return {**self.base_env, "DEBUG": "1" if debug else "0"}

    def migrate(self) -> None:
        command = [sys.executable, "-m", "zorgsleutel.cli", "vault", "migrate", "--noinput"]
        result = subprocess.run(
            [*command, "-v", "0"],
            env=self.env(debug=True),
            cwd=self.workdir,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise BenchError(f"vault migrate failed:\n{result.stderr[-2000:]}")

    def start(self, *, debug: bool, seconds: float = 60) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.command = [
            *[sys.executable, "-m", "zorgsleutel.cli", "vault", "serve", "--port", str(port)],
            *["--workers", str(self.options.workers), "--threads", str(self.options.threads)],
        ]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command,
                env=self.env(debug),
                cwd=self.workdir,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"the vault exited ({self.process.returncode}):\n{self.log()}")
            try:
                conn = SignedConnection(self.url, self.client, self.key, timeout=2)
                status, data = conn.call("GET", "/v1/health")
                conn.close()
                if status == 200:
                    return
                raise BenchError(f"the vault's health check answered {status}: {data}")
            except OSError:
                time.sleep(0.1)
        raise BenchError(f"the vault did not answer within {seconds:.0f} s:\n{self.log()}")

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- CPU accounting ------------------------------------------------------------------------

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _process_cpu() -> dict[int, tuple[str, int, float]]:
    """{pid: (comm, ppid, cpu seconds)} of every process we can read (Linux /proc)."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        ppid, utime, stime = int(fields[1]), int(fields[11]), int(fields[12])
        table[int(entry.name)] = (comm, ppid, (utime + stime) / CLK_TCK)
    return table


def _system_cpu() -> dict[str, float]:
    """Machine-wide CPU seconds by kind, from the first line of /proc/stat."""
    values = [int(v) / CLK_TCK for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = (values + [0.0] * 8)[:8]
    return {
        "busy": user + nice + system + irq + softirq,
        "idle": idle + iowait,
        "steal": steal,
    }


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class CpuSnapshot:
    processes: dict[int, tuple[str, int, float]]
    system: dict[str, float]

    @classmethod
    def take(cls) -> CpuSnapshot | None:
        if not Path("/proc/stat").exists():
            return None
        return cls(_process_cpu(), _system_cpu())


def listening_pids(port: int) -> set[int]:
    """Processes holding the listening socket of 127.0.0.1:`port` (gunicorn master + workers)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    pids = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                if os.readlink(fd.path) in inodes:
                    pids.add(int(entry.name))
                    break
        except OSError:
            continue
    return pids


def cpu_split(
    before: CpuSnapshot | None,
    after: CpuSnapshot | None,
    *,
    clients: set[int],
    server: set[int],
    database: str,
) -> dict | None:
    """CPU seconds between two snapshots: the vault (gunicorn master and workers), the load
    generator, PostgreSQL (this database's backends and the server's own processes), and the
    rest of the machine (anything else running: it should be about zero)."""
    if before is None or after is None:
        return None
    split = {"vault": 0.0, "clients": 0.0, "bench_parent": 0.0, "postgres": 0.0}
    per_process = {}
    for pid, (comm, ppid, cpu) in after.processes.items():
        used = cpu - (before.processes.get(pid, (comm, ppid, 0.0))[2])
        if pid in server:
            per_process[pid] = round(used, 2)
        if used <= 0:
            continue
        if pid in server:
            split["vault"] += used
        elif pid in clients:
            split["clients"] += used
        elif pid == os.getpid():
            split["bench_parent"] += used
        elif comm.startswith("postgres"):
            line = _cmdline(pid)
            backend = "(" in line or "[local]" in line  # a client connection's backend
            if not backend or (database and f" {database} " in line):
                split["postgres"] += used
    busy = after.system["busy"] - before.system["busy"]
    split["other"] = max(busy - sum(split.values()), 0.0)
    split["idle"] = after.system["idle"] - before.system["idle"]
    split["steal"] = after.system["steal"] - before.system["steal"]
    result: dict = {key: round(value, 2) for key, value in split.items()}
    result["vault_by_process"] = [per_process[pid] for pid in sorted(per_process)]
    return result


# --- setup: enrolments and their codes -----------------------------------------------------


@dataclass(frozen=True)
class Item:
    challenge: str
    enrolment: str
    code: str
    expires_at: float  # Unix time


def _hint(slot: int) -> str:
    return f"06 •• •• •• {slot:02d}"


def enrol_batch(pool, local, make_conn, block: int, locale: str) -> list[Item]:
    """Enrol +31 6 2<block><00..99> concurrently, then read the 100 codes from the outbox."""

    def enrol(slot: int) -> tuple[int, dict]:
        conn = getattr(local, "conn", None) or make_conn()
        local.conn = conn
        phone = f"+3162{block:05d}{slot:02d}"
        status, data = conn.call("POST", "/v1/enrolments", {"phone": phone, "locale": locale})
        if status != 201:
            raise BenchError(f"enrolment of a benchmark number answered {status}: {data}")
        if data.get("hint") != _hint(slot):
            raise BenchError(f"unexpected hint {data.get('hint')!r} for slot {slot:02d}")
        return slot, data

    enrolled = dict(pool.map(enrol, range(BATCH)))
    conn = getattr(local, "conn", None) or make_conn()
    local.conn = conn
    status, data = conn.call("GET", "/v1/dev/sms")
    if status != 200:
        raise BenchError(f"GET /v1/dev/sms answered {status}: {data} (is the vault in DEBUG?)")
    newest = data["messages"][:BATCH]
    by_hint: dict[str, str] = {}
    for message in newest:
        match = CODE.search(message["body"])
        if match is None or message["to"] in by_hint:
            raise BenchError("the dev outbox is not this batch alone: is something else sending?")
        by_hint[message["to"]] = match.group(1)
    if set(by_hint) != {_hint(slot) for slot in range(BATCH)}:
        raise BenchError("the dev outbox's newest messages are not this batch's: interference?")
    return [
        Item(
            challenge=enrolled[slot]["challenge"],
            enrolment=enrolled[slot]["enrolment"],
            code=by_hint[_hint(slot)],
            expires_at=datetime.fromisoformat(enrolled[slot]["expires_at"]).timestamp(),
        )
        for slot in range(BATCH)
    ]


def setup(
    options: argparse.Namespace, url: str, client: str, key: bytes
) -> tuple[list[Item], float]:
    batches = -(-options.challenges // BATCH)
    first_block = secrets.randbelow(10**5)
    local = threading.local()
    conns: list[SignedConnection] = []
    lock = threading.Lock()

    def make_conn() -> SignedConnection:
        conn = SignedConnection(url, client, key)
        with lock:
            conns.append(conn)
        return conn

    items: list[Item] = []
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(options.setup_threads) as pool:
            for number in range(batches):
                block = (first_block + number) % 10**5
                items += enrol_batch(pool, local, make_conn, block, options.locale)
                if not options.json and (number + 1) % 10 == 0:
                    print(f"  enrolled {len(items)}/{batches * BATCH}", flush=True)
    finally:
        for conn in conns:
            conn.close()
    return items[: options.challenges], time.monotonic() - started


# --- the timed phase -----------------------------------------------------------------------


def wrong_code(code: str, n: int) -> str:
    return f"{(int(code) + n) % 10**6:06d}"


def client_process(index: int, url: str, client: str, key: bytes, items: list[Item],
                   options: dict, ready, go, results) -> None:  # fmt: skip
    """One load-generating process: warm-up challenges, then the timed ones, all checked."""
    conn = SignedConnection(url, client, key)
    latencies = array("d")
    counts = {"verifications": 0, "ok": 0, "wrong": 0, "errors": 0, "not_run": 0, "skipped": 0}
    samples: list[str] = []
    wrong = options["wrong"]
    max_attempts = options["max_attempts"]

    def run(item: Item, timed: bool) -> None:
        path = f"/v1/challenges/{urllib.parse.quote(item.challenge, safe='')}/verify"
        expected = [
            (wrong_code(item.code, n + 1), "wrong", max_attempts - n - 1) for n in range(wrong)
        ]
        expected.append((item.code, "ok", max_attempts - wrong))
        for attempt, (code, result, left) in enumerate(expected):
            body = b'{"code": "' + code.encode() + b'"}'
            try:
                status, raw, seconds = conn.request("POST", path, body)
            except (OSError, http.client.HTTPException) as exc:
                conn.close()  # a fresh connection for the next challenge
                counts["errors"] += 1
                if len(samples) < MAX_ERROR_SAMPLES:
                    samples.append(f"{item.challenge}: {type(exc).__name__}: {exc}")
                if timed:  # this challenge's state is unknown now: skip its other attempts
                    counts["skipped"] += len(expected) - attempt - 1
                return
            if not timed:
                ok = status == 200 and b'"result": "' + result.encode() + b'"' in raw
            else:
                latencies.append(seconds)
                counts["verifications"] += 1
                try:
                    data = json.loads(raw)
                except ValueError:
                    data = {}
                ok = status == 200 and data == {
                    "result": result,
                    "attempts_left": left,
                    "enrolment": item.enrolment,
                }
                if ok:
                    counts[result] += 1
            if not ok:
                counts["errors"] += 1
                if len(samples) < MAX_ERROR_SAMPLES:
                    text = raw[:200].decode("utf-8", "replace")
                    samples.append(
                        f"{item.challenge}: expected {result}/{left}, got {status} {text}"
                    )
                if timed:
                    counts["skipped"] += len(expected) - attempt - 1
                return

    warm = items[: options["warmup"]]
    timed = items[options["warmup"] :]
    for item in warm:
        run(item, timed=False)
    warm_errors, counts["errors"] = counts["errors"], 0
    opened_before = conn.opened
    ready.wait()
    go.wait()
    cpu_started = time.process_time()
    started = time.monotonic()
    deadline = started + options["max_seconds"]
    for position, item in enumerate(timed):
        if time.monotonic() > deadline or time.time() > item.expires_at - CODE_TTL_MARGIN:
            counts["not_run"] = (len(timed) - position) * (wrong + 1)
            break
        run(item, timed=True)
    finished = time.monotonic()
    conn.close()
    results.put(
        {
            "index": index,
            "pid": os.getpid(),
            "started": started,
            "finished": finished,
            "cpu": time.process_time() - cpu_started,
            "latencies": latencies.tobytes(),
            "counts": counts,
            "warmup_errors": warm_errors,
            "connections": conn.opened - opened_before,
            "samples": samples,
        }
    )


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    position = min(round(fraction * (len(sorted_values) - 1)), len(sorted_values) - 1)
    return sorted_values[position]


def timed_phase(
    options: argparse.Namespace, url: str, client: str, key: bytes, items: list[Item]
) -> dict:
    context = multiprocessing.get_context("fork")
    ready = context.Barrier(options.clients + 1)
    go = context.Event()
    results = context.Queue()
    shares = [items[i :: options.clients] for i in range(options.clients)]  # creation order
    settings = {
        "wrong": options.wrong,
        "max_attempts": options.max_attempts,
        "warmup": options.warmup,
        "max_seconds": options.max_seconds,
    }
    processes = [
        context.Process(
            target=client_process,
            args=(i, url, client, key, share, settings, ready, go, results),
            daemon=True,
        )
        for i, share in enumerate(shares)
    ]
    for process in processes:
        process.start()
    server_pids = listening_pids(urllib.parse.urlsplit(url).port or 80)
    try:
        ready.wait(timeout=300)
    except threading.BrokenBarrierError:
        raise BenchError("the client processes did not get ready (warm-up failed?)") from None
    before = CpuSnapshot.take()
    go.set()
    collected = []
    deadline = time.monotonic() + options.max_seconds + 120
    while len(collected) < len(processes):
        try:
            collected.append(results.get(timeout=1))
        except queue.Empty:
            died = [p.exitcode for p in processes if p.exitcode not in (None, 0)]
            if died or time.monotonic() > deadline:
                for process in processes:
                    process.kill()
                raise BenchError(f"client processes failed (exit codes {died})") from None
    after = CpuSnapshot.take()
    for process in processes:
        process.join(10)

    started = min(r["started"] for r in collected)
    finished = max(r["finished"] for r in collected)
    wall = finished - started
    latencies: list[float] = []
    for r in collected:
        chunk = array("d")
        chunk.frombytes(r["latencies"])
        latencies += chunk
    latencies.sort()
    counts = {key: sum(r["counts"][key] for r in collected) for key in collected[0]["counts"]}
    ms = [round(percentile(latencies, f) * 1000, 2) for f in (0.5, 0.95, 0.99, 1.0)]
    cpu = cpu_split(
        before,
        after,
        clients={r["pid"] for r in collected},
        server=server_pids,
        database=options.scratch_database,
    )
    client_cpu = sum(r["cpu"] for r in collected)
    verifications = counts["verifications"]
    result = {
        "verifications": verifications,
        "wall_seconds": round(wall, 3),
        "verifications_per_second": round(verifications / wall, 1) if wall else 0.0,
        "latency_ms": {
            "p50": ms[0],
            "p95": ms[1],
            "p99": ms[2],
            "max": ms[3],
            "mean": round(sum(latencies) / len(latencies) * 1000, 2) if latencies else None,
        },
        "answers": {"ok": counts["ok"], "wrong": counts["wrong"]},
        "errors": counts["errors"],
        "warmup_errors": sum(r["warmup_errors"] for r in collected),
        "not_run": counts["not_run"],
        "skipped_after_error": counts["skipped"],
        "error_samples": [s for r in collected for s in r["samples"]][:MAX_ERROR_SAMPLES],
        "connections_opened": sum(r["connections"] for r in collected),
        "vault_processes": len(server_pids),
        "client_spread_seconds": round(finished - min(r["finished"] for r in collected), 3),
        "load_generator_cpu_seconds": round(client_cpu, 2),
        "cpu_seconds": cpu,
    }
    if verifications:
        result["load_generator_us_per_verification"] = round(client_cpu / verifications * 1e6)
        if cpu:
            per = cpu["vault"] / verifications
            result["vault_us_per_verification"] = round(per * 1e6)
            result["database_us_per_verification"] = round(cpu["postgres"] / verifications * 1e6)
    return result


# --- reporting -----------------------------------------------------------------------------


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {"python": platform.python_version()}
    for name in ("django", "gunicorn", "psycopg"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:  # noqa: S112 (optional package)
            continue
    import sqlite3

    versions["sqlite"] = sqlite3.sqlite_version
    code = Path(zorgsleutel.__file__).resolve().parent
    try:
        commit = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=code,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return {
        "vault_code": {"path": str(code), "commit": commit},
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "versions": versions,
    }


def describe_server(options: argparse.Namespace, database: str) -> dict:
    if options.url:
        return {"vault": options.url, "database": "(the running vault's)"}
    kind = "sync" if options.threads <= 1 else f"gthread, {options.threads} threads per worker"
    if options.threads <= 1 and "gthread" in options.gunicorn_args:
        kind = "gthread, 1 thread per worker"
    return {
        "vault": "own (zorgsleutel vault serve), DEBUG "
        + ("on (--debug-vault)" if options.debug_vault else "off in the timed phase"),
        "workers": options.workers,
        "worker_class": kind,
        "gunicorn_cmd_args": options.gunicorn_args or "",
        "database": database,
    }


def print_summary(report: dict) -> None:
    m, s, r = report["machine"], report["server"], report["result"]
    lat = r["latency_ms"]
    wrong = report["mix"]["wrong_per_challenge"]
    mix = f"{wrong} wrong code(s) then the right code per challenge"
    share = wrong / (wrong + 1) * 100
    lines = [
        "",
        "Vault: SMS-code verifications per second",
        f"  machine      {m['nproc']} cores, {m['cpu_model']}",
        f"  vault        {s.get('vault')}"
        + (f"; {s['workers']} workers, {s['worker_class']}" if "workers" in s else ""),
        f"  gunicorn     {s.get('gunicorn_cmd_args') or '(defaults)'}" if "workers" in s else "",
        f"  database     {s['database']}",
        f"  load         {report['clients']} client processes, 1 keep-alive connection each",
        f"  mix          {mix} ({share:.0f}% wrong, {100 - share:.0f}% ok)",
        f"  setup        {report['setup']['challenges']} enrolments + codes in "
        f"{report['setup']['seconds']:.1f} s (not timed)",
        f"  timed        {r['verifications']} verifications in {r['wall_seconds']:.2f} s",
        f"  RESULT       {r['verifications_per_second']:.0f} verifications/s"
        + (f"  (INVALID: {r['errors']} unexpected answers)" if r["errors"] else ""),
        f"  latency      p50 {lat['p50']} ms  p95 {lat['p95']} ms  p99 {lat['p99']} ms  "
        f"max {lat['max']} ms",
        f"  answers      ok {r['answers']['ok']}, wrong {r['answers']['wrong']}, "
        f"ERRORS {r['errors']}, skipped after an error {r['skipped_after_error']}, "
        f"not run {r['not_run']}",
        f"  connections  {r['connections_opened']} opened during the timed phase",
    ]
    cpu = r.get("cpu_seconds")
    if cpu:
        split_keys = ("vault", "clients", "postgres", "other", "idle")
        by_process = " + ".join(f"{v:.1f}" for v in cpu.get("vault_by_process", []))
        total = sum(cpu[k] for k in ("vault", "clients", "bench_parent", "postgres", "other"))
        total += cpu["idle"] + cpu["steal"]
        pct = {k: (v / total * 100 if total else 0) for k, v in cpu.items() if k in split_keys}
        lines.append(
            f"  CPU          vault {cpu['vault']:.1f} s ({pct['vault']:.0f}%), load generator "
            f"{cpu['clients']:.1f} s ({pct['clients']:.0f}%), postgres {cpu['postgres']:.1f} s "
            f"({pct['postgres']:.0f}%), other {cpu['other']:.1f} s, idle {cpu['idle']:.1f} s "
            f"of {total:.1f} core-s"
        )
        lines.append(f"  vault CPU    by process (master and workers, by pid): {by_process} s")
        if cpu["other"] > 0.1 * total:
            lines.append(
                "  WARNING      other processes used "
                f"{cpu['other'] / total * 100:.0f}% of the CPU: the machine was not quiet"
            )
        lines.append(
            f"  per verif.   vault {r.get('vault_us_per_verification')} µs CPU, load generator "
            f"{r.get('load_generator_us_per_verification')} µs CPU"
            + (f", postgres {r['database_us_per_verification']} µs CPU" if cpu["postgres"] else "")
        )
        per = (r.get("vault_us_per_verification") or 0) + (
            r.get("database_us_per_verification") or 0
        )
        if per:
            cores = m["nproc"] or 1
            lines.append(
                f"  estimate     {cores * 1e6 / per:.0f}/s if the vault (and its database) had all "
                f"{cores} cores to itself (CPU-bound estimate, not measured)"
            )
    code = m.get("vault_code", {})
    lines.append(f"  vault code   {code.get('path')} ({code.get('commit') or 'no git'})")
    goal = report["goal"]
    rate = r["verifications_per_second"]
    lines.append(f"  goal         {goal}/s: {'met' if rate >= goal else 'NOT met'}")
    for sample in r["error_samples"]:
        lines.append(f"  error        {sample}")
    print("\n".join(line for line in lines if line))


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="SMS-code verifications per second against a vault (see docs/benchmarks.md)."
    )
    parser.add_argument("--url", help="use this running vault (127.0.0.1 only) instead of one")
    parser.add_argument("--client", default=DEV_CLIENT, help="signing client id [portal]")
    parser.add_argument("--key", default=DEV_KEY, help="signing key [the dev key]")
    parser.add_argument(
        "--database-url",
        default="sqlite",
        help="'sqlite' (a temporary file, the default) or postgres://user@127.0.0.1:5432/db: "
        "a scratch database is created beside db and dropped at the end",
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers [2]")
    parser.add_argument(
        "--threads",
        type=int,
        default=int(os.environ.get("VAULT_THREADS") or 4),
        help="threads per worker; 1 = sync worker [$VAULT_THREADS or 4, as `vault serve`]",
    )
    parser.add_argument(
        "--gunicorn-args", default="", help="extra gunicorn options (GUNICORN_CMD_ARGS)"
    )
    parser.add_argument("--clients", type=int, default=4, help="client processes [4]")
    parser.add_argument(
        "--challenges", type=int, default=6000, help="enrolments/challenges, in total [6000]"
    )
    parser.add_argument(
        "--warmup", type=int, default=25, help="untimed challenges per client first [25]"
    )
    parser.add_argument(
        "--wrong", type=int, default=1, help="wrong codes before the right one per challenge [1]"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=120, help="bound on the timed phase [120]"
    )
    parser.add_argument("--setup-threads", type=int, default=8, help="enrolment threads [8]")
    parser.add_argument("--locale", default="nl", choices=["nl", "en"])
    parser.add_argument("--goal", type=int, default=1000, help="verifications/s to reach [1000]")
    parser.add_argument(
        "--debug-vault",
        action="store_true",
        help="keep the own vault in DEBUG for the timed phase too (Django logs every query)",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parser.parse_args(argv)
    options.max_attempts = 5  # vault policies.CODE_MAX_ATTEMPTS
    options.scratch_database = ""
    if not 0 <= options.wrong < options.max_attempts:
        parser.error("--wrong must be 0..4 (a fifth wrong code blocks the challenge)")
    if options.url:
        host = urllib.parse.urlsplit(options.url).hostname
        if urllib.parse.urlsplit(options.url).scheme != "http" or host not in LOCAL_HOSTS:
            parser.error("--url must be http://127.0.0.1:PORT (this benchmark stays local)")
    elif options.database_url != "sqlite":
        parts = urllib.parse.urlsplit(options.database_url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            parser.error("--database-url is 'sqlite' or a postgres:// URL")
        if parts.hostname not in LOCAL_HOSTS:
            parser.error("--database-url must point at 127.0.0.1")
    if options.clients < 1 or options.challenges < options.clients * (options.warmup + 1):
        parser.error("need at least --warmup + 1 challenges per client")
    if options.challenges > 50_000:
        parser.error("--challenges is bounded to 50000 (codes expire 5 minutes after sending)")
    if not 0 < options.max_seconds <= 600:
        parser.error("--max-seconds must be in (0, 600]")
    return options


def run(options: argparse.Namespace) -> dict:
    info: dict = {"machine": machine(), "clients": options.clients, "goal": options.goal}
    info["mix"] = {"wrong_per_challenge": options.wrong, "then": "the right code"}
    info["command"] = shlex.join(["python", "bench/vault_verify.py", *sys.argv[1:]])

    def enrol(url: str, client: str, key: bytes) -> list[Item]:
        if not options.json:
            print(f"setup: {options.challenges} enrolments against {url} …", flush=True)
        items, seconds = setup(options, url, client, key)
        info["setup"] = {
            "challenges": len(items),
            "seconds": round(seconds, 1),
            "per_second": round(len(items) / seconds, 1),
        }
        return items

    def measure(url: str, client: str, key: bytes, items: list[Item]) -> dict:
        left = min(item.expires_at for item in items) - time.time()
        if left < 30:
            raise BenchError(f"setup took too long: the first code expires in {left:.0f} s")
        if not options.json:
            print(f"timed phase: {options.clients} client processes against {url} …", flush=True)
        info["result"] = timed_phase(options, url, client, key, items)
        return info

    if options.url:
        info["server"] = describe_server(options, "")
        key = options.key.encode()
        try:
            items = enrol(options.url, options.client, key)
        except (OSError, http.client.HTTPException) as exc:
            raise BenchError(f"setup: {type(exc).__name__}: {exc}") from exc
        return measure(options.url, options.client, key, items)
    with tempfile.TemporaryDirectory(prefix="zs-bench-") as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        if options.database_url == "sqlite":
            database_url = f"sqlite:///{workdir / 'vault.sqlite3'}"
            database = "SQLite (temporary file; WAL, synchronous=NORMAL, BEGIN IMMEDIATE)"
        else:
            scratch = stack.enter_context(ScratchPostgres(options.database_url))
            options.scratch_database = scratch.name
            database_url = scratch.url
            database = f"PostgreSQL {scratch.version()} (scratch database {scratch.name})"
        vault = OwnVault(options, database_url, workdir)
        stack.callback(vault.stop)
        try:
            vault.migrate()
            vault.start(debug=True)
            items = enrol(vault.url, vault.client, vault.key)
            if not options.debug_vault:
                vault.stop()
                vault.start(debug=False)
            info["server"] = describe_server(options, database)
            info["server"]["command"] = shlex.join(["zorgsleutel", *vault.command[3:]])
            return measure(vault.url, vault.client, vault.key, items)
        except (BenchError, OSError, http.client.HTTPException) as exc:
            raise BenchError(f"{exc}\n--- the vault's log (tail) ---\n{vault.log()}") from exc


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
    result = report["result"]
    if result["errors"] or result["warmup_errors"]:
        print(f"{result['errors']} verification(s) did not answer as expected", file=sys.stderr)
        return 1
    if result["not_run"]:
        print(f"{result['not_run']} verification(s) not run (time bound)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
