"""Benchmark: an activation campaign of 50,000 imported people, delivered over SMTP (not a test).

Everything runs on 127.0.0.1 with a fresh temporary database (SQLite, or a scratch PostgreSQL
database with --database-url postgres://...), removed at the end (bench/_common.py):

1. Setup (timed separately): a CSV of --users people (name,email,role) is imported with
   `zorgsleutel import-users FILE --organisation URA --send-activation-at T`, T a minute ahead:
   each row becomes an invited account, a membership, an audit event, an activation link and an
   outbox mail whose delivery task waits until T (the cut-over moment).
2. A local SMTP server (aiosmtpd, this script in a subprocess) records every message it accepts:
   time and Message-ID.
3. After T, the mail worker(s) start exactly as `zorgsleutel run` starts one (`zorgsleutel
   db_worker --queue-name '*' --interval 0.5 --no-startup-delay --no-reload`, EMAIL_URL=
   smtp://127.0.0.1:PORT). When --kill-at (half) of the mails have arrived, one worker gets
   SIGKILL; --restart-after seconds later it is started again, as a supervisor would, first
   running `zorgsleutel mail requeue` as `zorgsleutel run` does at start (cut-off 15 minutes).
4. When the queue has nothing due any more, mails the killed worker left in 'sending' (killed
   after its claim) or 'pending' (killed after taking the task, before the claim) are still
   stranded (the stock cut-off is 15 minutes). The operator's action is then measured honestly:
   wait until those mails, claims and the dead worker's task rows are --requeue-after seconds old
   (default 60 s, well above the 15 s SMTP timeout, so no live worker can still be sending them)
   and re-queue them with exactly that cut-off: `tasks.requeue_stranded(older_than=...)` through
   `zorgsleutel shell -c`, the function behind `zorgsleutel mail requeue`. The worker then
   delivers them.
5. Check: every outbox row's Message-ID received exactly once; lost (never received), doubled
   (received more than once) and unknown Message-IDs are errors, as are outbox rows not 'sent'
   and task rows left 'RUNNING' by the killed worker.

Figures: mails/s from the first to the last delivery before the operator's re-queue (kill and
restart included), the rate before the kill, the import rate, CPU by process.

    .venv/bin/python bench/campaign.py                       # SQLite, 1 worker, 50,000 people
    .venv/bin/python bench/campaign.py --workers 2 --database-url postgres://postgres@127.0.0.1/postgres
    .venv/bin/python bench/campaign.py --users 5000 --json

Results and how they were measured: docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from _common import (
    MAX_ERROR_SAMPLES,
    BenchError,
    CpuSnapshot,
    Portal,
    Scratch,
    add_database_options,
    cpu_groups,
    free_port,
    new_report,
    other_warning,
    parse_options,
    run_main,
    speaker,
    stop_process,
)

URA = "90007777"
DOMAIN = "campagnezorg.nl"
MESSAGE_ID = re.compile(rb"^Message-ID:\s*<([0-9a-f-]{36})@zorgsleutel>", re.MULTILINE | re.I)


# --- the SMTP sink (this script with --smtp-sink, in its own process) ----------------------


def smtp_sink(port: int, path: str) -> None:
    """Accept every message; append "<unix time> <Message-ID>" to `path` for each."""
    import asyncio

    from aiosmtpd.controller import Controller

    out = open(path, "a", buffering=1)  # noqa: SIM115 (open for the process's lifetime)

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            match = MESSAGE_ID.search(envelope.content or b"")
            out.write(f"{time.time():.6f} {match.group(1).decode() if match else '-'}\n")
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(asyncio.sleep(10**6))
    finally:
        controller.stop()
        out.close()


class Sink:
    def __init__(self, workdir: Path):
        self.port = free_port()
        self.path = workdir / "received.txt"
        self.path.touch()
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--smtp-sink", str(self.port), str(self.path)],
            stdout=subprocess.DEVNULL,
            stderr=(workdir / "smtp.log").open("ab"),
        )
        deadline = time.monotonic() + 20
        import socket

        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise BenchError("the SMTP sink did not start")

    def lines(self) -> list[tuple[float, str]]:
        rows = []
        for line in self.path.read_text().splitlines():
            when, _, message_id = line.partition(" ")
            rows.append((float(when), message_id))
        return rows

    def count(self) -> int:
        with self.path.open("rb") as handle:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))

    def stop(self) -> None:
        stop_process(self.process, 10)


# --- database views (Django in this process) -----------------------------------------------


def outbox_state() -> dict:
    from django.db.models import Count

    from zorgsleutel.messaging.models import OutboxMail

    rows = OutboxMail.objects.filter(template="activation").values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def task_state() -> dict:
    from django.db.models import Count
    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.values("status").annotate(n=Count("pk"))
    return {str(row["status"]): row["n"] for row in rows}


def due_tasks() -> int:
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().count()


def stranded_age(now: float) -> float:
    """Seconds since the youngest of what requeue_stranded must find older than its cut-off: a
    claim of a mail left 'sending', a mail left 'pending' (and its planned send), a task row
    left RUNNING."""
    from django.db.models import Max
    from django_tasks_db.models import DBTaskResult

    from zorgsleutel.messaging.models import OutboxMail

    mails = OutboxMail.objects.filter(template="activation")
    times = [
        mails.filter(status=OutboxMail.SENDING).aggregate(t=Max("claimed_at"))["t"],
        mails.filter(status=OutboxMail.PENDING).aggregate(t=Max("created_at"))["t"],
        mails.filter(status=OutboxMail.PENDING).aggregate(t=Max("next_attempt_at"))["t"],
        DBTaskResult.objects.filter(status="RUNNING").aggregate(t=Max("started_at"))["t"],
    ]
    return min((now - t.timestamp() for t in times if t is not None), default=0.0)


# --- the campaign --------------------------------------------------------------------------


def write_csv(path: Path, users: int) -> None:
    with path.open("w", encoding="utf-8") as handle:
        handle.write("name,email,role\n")
        for n in range(users):
            handle.write(f"Campagne Persoon {n:06d},persoon{n:06d}@{DOMAIN},medewerker\n")


def campaign(options, portal: Portal, sink: Sink, say) -> dict:
    from zorgsleutel.organisations.models import Organisation

    Organisation.objects.create(name="Campagnezorg", kind=Organisation.CARE_PROVIDER, ura=URA)
    csv = portal.workdir / "people.csv"
    write_csv(csv, options.users)
    send_at = datetime.now(UTC) + timedelta(seconds=options.send_after)
    say(f"setup: importing {options.users:,} people (import-users) …")
    started = time.monotonic()
    imported = portal.manage(
        "import-users",
        str(csv),
        "--organisation",
        URA,
        "--send-activation-at",
        send_at.isoformat(timespec="seconds"),
        timeout=options.max_seconds,
    )
    import_seconds = time.monotonic() - started
    result: dict = {
        "import": {
            "rows": options.users,
            "seconds": round(import_seconds, 1),
            "rows_per_second": round(options.users / import_seconds, 1),
            "output": imported.stdout.strip().splitlines()[-1],
        }
    }
    outbox = outbox_state()
    if outbox.get("pending") != options.users:
        raise BenchError(f"the import left {outbox} activation mails, not {options.users} pending")
    wait = send_at.timestamp() - time.time()
    if wait > 0:
        say(f"waiting {wait:.0f} s for the cut-over moment …")
        time.sleep(wait + 0.5)

    total = options.users
    kill_at = int(total * options.kill_at) if options.kill_at else None
    events: list[dict] = []
    pids: set[int] = set()

    def start_worker(requeue_first: bool) -> subprocess.Popen:
        if requeue_first:
            out = portal.manage("mail", "requeue").stdout.strip()
            events.append({"t": time.time(), "event": "mail requeue (stock, 15 min)", "out": out})
        process = portal.start_worker()
        pids.add(process.pid)
        events.append({"t": time.time(), "event": f"worker {process.pid} started"})
        return process

    say(f"timed phase: {options.workers} worker(s) delivering {total:,} mails …")
    before = CpuSnapshot.take()
    t0 = time.time()
    workers = [start_worker(requeue_first=False) for _ in range(options.workers)]
    killed_at = restart_at = None
    deadline = time.monotonic() + options.max_seconds
    last_count, last_progress = 0, time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        count = sink.count()
        if count != last_count:
            last_count, last_progress = count, time.monotonic()
        if kill_at is not None and killed_at is None and count >= kill_at:
            victim = workers[0]
            victim.send_signal(signal.SIGKILL)
            victim.wait()
            killed_at = time.time()
            events.append(
                {"t": killed_at, "event": f"worker {victim.pid} SIGKILL", "received": count}
            )
            restart_at = time.monotonic() + options.restart_after
        if restart_at is not None and time.monotonic() >= restart_at:
            workers[0] = start_worker(requeue_first=True)
            restart_at = None
        if count >= total:
            break
        if restart_at is None and time.monotonic() - last_progress > 3 and due_tasks() == 0:
            break  # nothing due any more: the rest is stranded (or lost)
    drained = time.time()
    received_before_requeue = sink.count()
    left = outbox_state()
    stranded = left.get("sending", 0) + left.get("pending", 0)
    requeue: dict = {"stranded": stranded}
    if stranded and options.requeue_after is not None:
        pause = max(options.requeue_after - stranded_age(time.time()), 0.0)
        say(
            f"{stranded} mail(s) stranded in 'sending' or 'pending': waiting {pause:.0f} s, "
            "then re-queue …"
        )
        time.sleep(pause + 0.5)
        code = (
            "from datetime import timedelta; from zorgsleutel.messaging import tasks; "
            f"print(tasks.requeue_stranded(older_than=timedelta(seconds={options.requeue_after})))"
        )
        printed = portal.manage("shell", "-c", code).stdout.strip().splitlines()
        out = printed[-1] if printed else ""  # the count, not the shell's import banner
        requeue.update({"t": time.time(), "requeued": out, "cutoff_s": options.requeue_after})
        events.append({"t": time.time(), "event": "operator re-queue", "out": out})
        end = time.monotonic() + 60
        while time.monotonic() < end and sink.count() < total:
            time.sleep(0.2)
        time.sleep(1.0)  # a duplicate, if any, would arrive now
    after = CpuSnapshot.take()
    for worker in workers:
        stop_process(worker)
    final_outbox, final_tasks = outbox_state(), task_state()

    # --- what arrived ----------------------------------------------------------------------
    from zorgsleutel.messaging.models import OutboxMail

    expected = {
        str(m)
        for m in OutboxMail.objects.filter(template="activation").values_list(
            "message_id", flat=True
        )
    }
    received = sink.lines()
    seen: dict[str, int] = {}
    for _, message_id in received:
        seen[message_id] = seen.get(message_id, 0) + 1
    lost = expected - set(seen)
    doubled = {m: n for m, n in seen.items() if n > 1}
    unknown = set(seen) - expected
    times = sorted(t for t, _ in received)
    first_time = times[0] if times else t0
    in_run = [t for t in times if t <= drained]
    before_kill = [t for t in times if killed_at is None or t <= killed_at]
    result["delivery"] = {
        "outbox_rows": len(expected),
        "received_messages": len(received),
        "distinct_message_ids": len(seen),
        "lost": len(lost),
        "doubled": sum(n - 1 for n in doubled.values()),
        "unknown": len(unknown),
        "received_before_operator_requeue": received_before_requeue,
        "mails_per_second": round(len(in_run) / (in_run[-1] - first_time), 1)
        if len(in_run) > 1
        else 0.0,
        "mails_per_second_before_kill": round(len(before_kill) / (before_kill[-1] - first_time), 1)
        if len(before_kill) > 1
        else 0.0,
        "first_mail_after_start_s": round(first_time - t0, 2),
        "run_seconds": round((in_run[-1] if in_run else t0) - t0, 1),
        "gap_after_kill_s": _gap(times, killed_at),
        "final_outbox": final_outbox,
        "final_tasks": final_tasks,
        "requeue": requeue,
        "samples_lost": sorted(lost)[:MAX_ERROR_SAMPLES],
        "samples_doubled": sorted(doubled)[:MAX_ERROR_SAMPLES],
    }
    result["events"] = [
        {**e, "t": round(e["t"] - t0, 2)} for e in sorted(events, key=lambda e: e["t"])
    ]
    groups = {"worker": pids, "smtp_sink": {sink.process.pid}, "bench": {os.getpid()}}
    cpu = cpu_groups(before, after, groups, options.scratch_databases)
    result["cpu_seconds"] = cpu
    if cpu and received:
        result["cpu_ms_per_mail"] = {
            k: round(v / len(received) * 1000, 2) for k, v in cpu.items() if k != "idle" and v
        }
    return result


def _gap(times: list[float], killed_at: float | None) -> float | None:
    if killed_at is None:
        return None
    later = [t for t in times if t > killed_at]
    return round(later[0] - killed_at, 2) if later else None


def errors_of(result: dict) -> list[str]:
    d = result["delivery"]
    problems = []
    if d["lost"]:
        problems.append(f"{d['lost']} mail(s) never received")
    if d["doubled"]:
        problems.append(f"{d['doubled']} duplicate deliveries (same Message-ID)")
    if d["unknown"]:
        problems.append(f"{d['unknown']} received messages without a known Message-ID")
    not_sent = {k: v for k, v in d["final_outbox"].items() if k != "sent"}
    if not_sent:
        problems.append(f"outbox rows not 'sent' at the end: {not_sent}")
    running = d["final_tasks"].get("RUNNING", 0)
    if running:
        problems.append(f"{running} task row(s) left RUNNING by the killed worker")
    return problems


# --- reporting -----------------------------------------------------------------------------


def print_summary(report: dict) -> None:
    m, r = report["machine"], report["result"]
    d, imp = r["delivery"], r["import"]
    lines = [
        "",
        f"Activation campaign: {imp['rows']:,} imported people, mail over SMTP",
        f"  machine      {m['nproc']} cores, {m['cpu_model']}; code {m['code']['commit']}",
        f"  database     {report['server']['database']}",
        f"  worker       {report['server']['worker']}",
        f"  import       {imp['rows']:,} rows in {imp['seconds']} s = {imp['rows_per_second']}/s "
        f"({imp['output']})",
        f"  RESULT       {d['mails_per_second']} mails/s over the run (kill and restart included); "
        f"{d['mails_per_second_before_kill']}/s before the kill",
        f"  run          first mail {d['first_mail_after_start_s']} s after the start, last (before"
        f" the operator's re-queue) at {d['run_seconds']} s; gap after the kill "
        f"{d['gap_after_kill_s']} s",
        f"  received     {d['received_messages']:,} messages, {d['distinct_message_ids']:,} "
        f"distinct Message-IDs, for {d['outbox_rows']:,} outbox rows: lost {d['lost']}, doubled "
        f"{d['doubled']}, unknown {d['unknown']}",
        f"  stranded     {d['requeue'].get('stranded')} in 'sending' or 'pending' after the queue "
        "ran dry; "
        f"re-queued: {d['requeue'].get('requeued', '-')} (cut-off "
        f"{d['requeue'].get('cutoff_s', '-')} s)",
        f"  end state    outbox {d['final_outbox']}, tasks {d['final_tasks']}",
    ]
    for event in r["events"]:
        extra = {k: v for k, v in event.items() if k not in ("t", "event")}
        lines.append(f"    t={event['t']:>7} s  {event['event']} {extra or ''}")
    cpu = r.get("cpu_seconds")
    if cpu:
        total = sum(cpu.values())
        lines.append(
            "  CPU          "
            + ", ".join(f"{k} {v:.1f} s" for k, v in cpu.items() if v or k == "idle")
            + f" of {total:.1f} core-s"
        )
        lines.append(
            "  per mail     "
            + ", ".join(f"{k} {v} ms" for k, v in r.get("cpu_ms_per_mail", {}).items())
        )
        lines += other_warning(cpu, total, 0.1)
    goal = report["goal"]
    problems = errors_of(r)
    met = d["mails_per_second"] >= goal and not problems
    lines.append(
        f"  goal         >= {goal} mails/s, none lost or doubled: {'met' if met else 'NOT met'}"
    )
    for problem in problems:
        lines.append(f"  ERROR        {problem}")
    print("\n".join(lines))


# --- main ----------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Activation campaign: import, then deliver over SMTP (docs/benchmarks.md)."
    )
    add_database_options(parser)
    parser.add_argument("--users", type=int, default=50_000, help="people to import [50000]")
    parser.add_argument("--workers", type=int, default=1, help="db_worker processes [1]")
    parser.add_argument(
        "--kill-at",
        type=float,
        default=0.5,
        help="SIGKILL a worker when this share of the mails arrived; 0 = no kill [0.5]",
    )
    parser.add_argument(
        "--restart-after", type=float, default=1.0, help="restart the killed worker after [1 s]"
    )
    parser.add_argument(
        "--requeue-after",
        type=float,
        default=60.0,
        help="operator re-queue of stranded mail with this cut-off in seconds; -1 = none [60]",
    )
    parser.add_argument(
        "--send-after", type=float, default=60.0, help="cut-over moment after the import starts"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=1800, help="bound on import and delivery [1800]"
    )
    parser.add_argument("--goal", type=float, default=200.0, help="mails/s [200]")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parse_options(parser, argv)
    if not 10 <= options.users <= 100_000:
        parser.error("--users must be 10..100000")
    if not 1 <= options.workers <= 8:
        parser.error("--workers must be 1..8")
    if not 0 <= options.kill_at < 1:
        parser.error("--kill-at must be in [0, 1)")
    if options.requeue_after < 0:
        options.requeue_after = None
    elif options.requeue_after < 20:
        parser.error("--requeue-after must be >= 20 s (above the 15 s SMTP timeout)")
    if not 0 < options.max_seconds <= 3600:
        parser.error("--max-seconds must be in (0, 3600]")
    return options


def run(options: argparse.Namespace) -> dict:
    report = new_report("campaign", goal=options.goal)
    say = speaker(options.json)
    with Scratch("zs-bench-mail-", options.database_url) as scratch:
        sink = Sink(scratch.workdir)
        scratch.callback(sink.stop)
        portal = scratch.portal(
            scratch.database("portal"), email_url=f"smtp://127.0.0.1:{sink.port}"
        )
        options.scratch_databases = scratch.scratch
        portal.migrate()
        portal.django()
        report["server"] = {
            "database": scratch.describe(),
            "worker": f"{options.workers} × zorgsleutel db_worker --queue-name '*' --interval 0.5"
            " --no-startup-delay --no-reload; EMAIL_URL=smtp://127.0.0.1 (aiosmtpd "
            "in its own process); DEBUG off",
        }
        try:
            report["result"] = campaign(options, portal, sink, say)
        except BenchError as exc:
            raise BenchError(f"{exc}\n--- worker log ---\n{portal.log('worker.log')}") from exc
    return report


def main(argv: list[str] | None = None) -> int:
    if argv is None and sys.argv[1:2] == ["--smtp-sink"]:
        smtp_sink(int(sys.argv[2]), sys.argv[3])
        return 0
    return run_main(argv, parse_args, run, print_summary, lambda r: errors_of(r["result"]))


if __name__ == "__main__":
    sys.exit(main())
