"""The floor: CPU per request of gunicorn as `zorgsleutel run` starts it (not a test).

gunicorn (2 workers, gthread, 4 threads) with DEBUG off behind a TLS proxy, kept-alive
connections from wrk (10 connections, --seconds after a --warmup), on a fresh database
(bench/_common.py), for
  1. the smallest WSGI application (gunicorn alone: hello.py),
  2. the portal's settings and middleware with a view that does nothing (/floor/ok: settings.py,
     urls.py),
  3. the portal's login page (GET /inloggen).
CPU is that of the gunicorn master and its workers over the measured seconds. Needs wrk
(Debian: apt-get install wrk). Results: docs/benchmarks.md ("The floor").

    .venv/bin/python bench/floor/run.py
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # bench/, for the harness

from _common import BenchError, CpuSnapshot, Portal, Scratch  # noqa: E402

MEASURES = (
    ("hello:app", "/", "gunicorn alone (smallest WSGI app)"),
    ("zorgsleutel.wsgi:application", "/floor/ok", "portal middleware, a view that does nothing"),
    ("zorgsleutel.wsgi:application", "/inloggen", "GET /inloggen (the login page)"),
)
REQUESTS = re.compile(r"^\s*([0-9]+) requests in", re.MULTILINE)
NOT_2XX = re.compile(r"Non-2xx or 3xx responses:\s*([0-9]+)")


def load(port: int, path: str, seconds: float) -> str:
    """wrk behind the TLS proxy, as the login benchmark; a 3xx counts as success in wrk."""
    command = ["wrk", "-t2", "-c10", f"-d{seconds:g}s", "-H", "X-Forwarded-Proto: https"]
    command += ["-H", "Accept-Language: nl", f"http://127.0.0.1:{port}{path}"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def status_of(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"X-Forwarded-Proto": "https"})
    status = conn.getresponse().status
    conn.close()
    return status


def measure(portal: Portal, app: str, path: str, options: argparse.Namespace) -> tuple:
    """(requests, CPU seconds of the gunicorn processes, non-2xx answers) over the measured
    seconds after the warm-up, and the status of one more request."""
    portal.start(app=app)
    try:
        load(portal.port, path, options.warmup)
        pids = portal.pids()
        before = CpuSnapshot.take()
        out = load(portal.port, path, options.seconds)
        after = CpuSnapshot.take()
        requests = REQUESTS.search(out)
        if requests is None or before is None or after is None:
            raise BenchError(f"no request count (or no /proc) from wrk:\n{out}")
        bad = NOT_2XX.search(out)
        cpu = sum(after.used_since(before, pid) for pid in pids)
        status = status_of(portal.port, path)
        return int(requests.group(1)), cpu, int(bad.group(1)) if bad else 0, status
    finally:
        portal.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=10, help="measured seconds each [10]")
    parser.add_argument("--warmup", type=float, default=3, help="untimed seconds first [3]")
    options = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        print("benchmark failed: wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    try:
        with Scratch("zs-bench-floor-") as scratch:
            portal = scratch.portal(scratch.database("portal"))
            portal.env.update(
                DJANGO_SETTINGS_MODULE="settings",  # the portal's, with /floor/ok
                PYTHONPATH=os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")])),
            )
            portal.migrate()
            for app, path, label in MEASURES:
                requests, cpu, bad, status = measure(portal, app, path, options)
                print(
                    f"{label + f' [{status}]':48} {requests:7d} requests "
                    f"{cpu * 1000 / requests:6.3f} ms CPU each (non-2xx: {bad})"
                )
    except (BenchError, OSError, subprocess.CalledProcessError) as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
