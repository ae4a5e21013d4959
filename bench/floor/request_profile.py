"""gunicorn config: each request's thread CPU by route (pre_request to post_request hook: the view,
Django and writing the answer; not gunicorn's accept/poll loop), and with REQUEST_PROFILE=1 a
cProfile of every request, in the thread that runs it (gthread workers: one profile per thread).
cProfile's clock is the wall clock (a CPU clock costs a system call per event: far too slow):
with several threads a request's wait for a database lock counts as the statement's time, so
profile one sync worker (--portal-workers 1 --portal-threads 1), where nothing waits for another.

    GUNICORN_CMD_ARGS="--config bench/floor/request_profile.py"   (bench/smartcard_login.py
    --request-cpu or --profile sets it)

A request is counted under its X-Bench-Step header when it has one (the benchmark names the
steps of a login: a poll that collects and one that waits share a path), else its route: the
path with its ids left out (a segment of 8 or more characters holding a digit,
an upper-case letter or an underscore: /wachten/<id>). Each worker
writes its sums and profiles to $REQUEST_PROFILE_DIR when it exits (a graceful stop); a new
run starts from nothing. `request_cpu(dir)` sums the workers' CPU, `merge(dir, file)` their
profiles (pstats). cProfile slows the worker by about half: its shares are relative.
"""

import collections
import cProfile
import json
import os
import pstats
import re
import tempfile
import threading
import time
from pathlib import Path

OUT = Path(os.environ.get("REQUEST_PROFILE_DIR") or Path(tempfile.gettempdir()) / "zs-profile")
PROFILE = os.environ.get("REQUEST_PROFILE") == "1"
ID = re.compile(r"/(?=[^/]{8,})[^/]*[0-9A-Z_][^/]*")
_sums: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
_profiles: list[cProfile.Profile] = []
_lock = threading.Lock()
_local = threading.local()


def route(method: str, path: str) -> str:
    return f"{method} {ID.sub('/<id>', path)}"


def on_starting(server):
    """A new run: forget the sums of earlier runs."""
    OUT.mkdir(parents=True, exist_ok=True)
    for file in [*OUT.glob("*.json"), *OUT.glob("*.prof")]:
        file.unlink()


def pre_request(worker, req):
    if PROFILE:
        profile = getattr(_local, "profile", None)
        if profile is None:
            profile = _local.profile = cProfile.Profile()
            with _lock:
                _profiles.append(profile)
        profile.enable()
    _local.step = next((value for name, value in req.headers if name == "X-BENCH-STEP"), "")
    _local.started = time.thread_time()


def post_request(worker, req, environ, resp):
    seconds = time.thread_time() - getattr(_local, "started", time.thread_time())
    if PROFILE and getattr(_local, "profile", None) is not None:
        _local.profile.disable()
    with _lock:
        entry = _sums[getattr(_local, "step", "") or route(req.method, req.path)]
        entry[0] += 1
        entry[1] += seconds


def worker_exit(server, worker):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{os.getpid()}.json").write_text(json.dumps(_sums))
    for n, profile in enumerate(_profiles):
        profile.create_stats()
        profile.dump_stats(OUT / f"{os.getpid()}-{n}.prof")


def request_cpu(directory: Path) -> dict:
    """{route: {count, cpu_ms (per request)}} summed over the workers, the costliest first."""
    total: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
    for file in Path(directory).glob("*.json"):
        for key, (count, seconds) in json.loads(file.read_text()).items():
            total[key][0] += count
            total[key][1] += seconds
    ordered = sorted(total.items(), key=lambda kv: -kv[1][1])
    return {
        key: {"count": count, "cpu_ms": round(seconds / count * 1000, 3)}
        for key, (count, seconds) in ordered
    }


def merge(directory: Path, target: Path) -> dict:
    """The workers' profiles as one pstats file `target`; how many there were."""
    files = sorted(str(f) for f in Path(directory).glob("*.prof"))
    if not files:
        return {"profiles": 0}
    stats = pstats.Stats(files[0])
    for file in files[1:]:
        stats.add(file)
    stats.dump_stats(str(target))
    return {"profiles": len(files), "seconds": round(stats.total_tt, 2)}
