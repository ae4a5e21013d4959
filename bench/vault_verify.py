"""Benchmark: SMS-code verifications per second against a running vault (not a timed test).

By default this starts its own vault (`zorgsleutel vault serve`, gunicorn with 2 worker
processes) on a free 127.0.0.1 port with a fresh temporary database (SQLite, or a scratch
PostgreSQL database with --database-url postgres://...), migrates it, and stops it at the end
(bench/_common.py).
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
import http.client
import json
import multiprocessing
import os
import queue
import shlex
import sys
import threading
import time
import urllib.parse
from array import array

from _common import (
    BATCH,
    LOCAL_HOSTS,
    MAX_ERROR_SAMPLES,
    BenchError,
    CpuSnapshot,
    Enrolment,
    Scratch,
    SignedConnection,
    add_database_options,
    add_vault_options,
    cpu_groups,
    enrol_numbers,
    listening_pids,
    machine,
    other_warning,
    parse_options,
    percentile,
    run_main,
)

DEV_CLIENT = "portal"
DEV_KEY = "dev-only-vault-client-key"  # the vault's DEBUG-only development key
CODE_TTL_MARGIN = 5.0  # stop the timed phase this long before the first code expires


# --- setup: enrolments and their codes -----------------------------------------------------


def setup(options: argparse.Namespace, url: str, client: str, key: bytes):
    """The enrolments and their codes (enrol_numbers: +31 6 2xxxxxxx), and the seconds taken."""
    batches = -(-options.challenges // BATCH)
    started = time.monotonic()
    items = enrol_numbers(
        url,
        client,
        key,
        options.challenges,
        prefix="+3162",
        threads=options.setup_threads,
        locale=options.locale,
        progress=None if options.json else lambda n: print(f"  enrolled {n}/{batches * BATCH}"),
    )
    return items, time.monotonic() - started


# --- the timed phase -----------------------------------------------------------------------


def wrong_code(code: str, n: int) -> str:
    return f"{(int(code) + n) % 10**6:06d}"


def client_process(index: int, url: str, client: str, key: bytes, items: list[Enrolment],
                   options: dict, ready, go, results) -> None:  # fmt: skip
    """One load-generating process: warm-up challenges, then the timed ones, all checked."""
    conn = SignedConnection(url, client, key)
    latencies = array("d")
    counts = {"verifications": 0, "ok": 0, "wrong": 0, "errors": 0, "not_run": 0, "skipped": 0}
    samples: list[str] = []
    wrong = options["wrong"]
    max_attempts = options["max_attempts"]

    def run(item: Enrolment, timed: bool) -> None:
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


def timed_phase(
    options: argparse.Namespace, url: str, client: str, key: bytes, items: list[Enrolment]
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
    cpu = cpu_split(before, after, server_pids, {r["pid"] for r in collected}, options.scratch)
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


def cpu_split(before, after, server: set[int], clients: set[int], databases: list[str]):
    """CPU seconds between two snapshots: the vault (gunicorn master and workers), the load
    generator, PostgreSQL (this run's database's backends and the server's own processes), the
    rest of the machine (anything else running: it should be about zero), idle and steal; and
    the vault's by process."""
    groups = {"vault": server, "clients": clients, "bench_parent": {os.getpid()}}
    cpu = cpu_groups(before, after, groups, databases, services=("postgres",), steal=True)
    if cpu is not None:
        cpu["vault_by_process"] = [
            round(after.used_since(before, pid), 2)
            for pid in sorted(server)
            if pid in after.processes
        ]
    return cpu


# --- reporting -----------------------------------------------------------------------------


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
        lines += other_warning(cpu, total, 0.1)
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
    add_database_options(parser)
    add_vault_options(parser)
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
    options = parse_options(parser, argv)
    options.max_attempts = 5  # vault policies.CODE_MAX_ATTEMPTS
    options.scratch = []  # the scratch PostgreSQL database (its backends count)
    if not 0 <= options.wrong < options.max_attempts:
        parser.error("--wrong must be 0..4 (a fifth wrong code blocks the challenge)")
    if options.url:
        host = urllib.parse.urlsplit(options.url).hostname
        if urllib.parse.urlsplit(options.url).scheme != "http" or host not in LOCAL_HOSTS:
            parser.error("--url must be http://127.0.0.1:PORT (this benchmark stays local)")
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

    def enrol(url: str, client: str, key: bytes) -> list[Enrolment]:
        if not options.json:
            print(f"setup: {options.challenges} enrolments against {url} …", flush=True)
        items, seconds = setup(options, url, client, key)
        info["setup"] = {
            "challenges": len(items),
            "seconds": round(seconds, 1),
            "per_second": round(len(items) / seconds, 1),
        }
        return items

    def measure(url: str, client: str, key: bytes, items: list[Enrolment]) -> dict:
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
    with Scratch("zs-bench-", options.database_url) as scratch:
        vault = scratch.vault(
            scratch.database("vault"),
            client=options.client,
            workers=options.workers,
            threads=options.threads,
            gunicorn_args=options.gunicorn_args,
        )
        options.scratch = scratch.scratch
        try:
            vault.migrate()
            vault.start(debug=True)
            items = enrol(vault.url, vault.client, vault.key)
            if not options.debug_vault:
                vault.stop()
                vault.start(debug=False)
            info["server"] = describe_server(options, scratch.describe())
            info["server"]["command"] = shlex.join(["zorgsleutel", *vault.command[3:]])
            return measure(vault.url, vault.client, vault.key, items)
        except (BenchError, OSError, http.client.HTTPException) as exc:
            raise BenchError(f"{exc}\n--- the vault's log (tail) ---\n{vault.log()}") from exc


def problems(report: dict) -> list[str]:
    result = report["result"]
    if result["errors"] or result["warmup_errors"]:
        return [f"{result['errors']} verification(s) did not answer as expected"]
    if result["not_run"]:
        return [f"{result['not_run']} verification(s) not run (time bound)"]
    return []


def main(argv: list[str] | None = None) -> int:
    return run_main(argv, parse_args, run, print_summary, problems)


if __name__ == "__main__":
    sys.exit(main())
