"""gunicorn config: CPU time of each request by method and path (thread CPU from the worker's
pre_request to post_request hook: the view and Django, not gunicorn's accept/poll loop).

    .venv/bin/python bench/login.py --gunicorn-args "--config $PWD/bench/floor/request_cpu.py"
    .venv/bin/python bench/floor/request_cpu.py        # sums what the workers wrote

Warm-up requests count too. Each worker writes its sums to $REQUEST_CPU_DIR (default:
zs-request-cpu in the temporary directory) when it exits; a new run starts from nothing.
"""

import collections
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

OUT = Path(os.environ.get("REQUEST_CPU_DIR") or Path(tempfile.gettempdir()) / "zs-request-cpu")
_sums: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
_lock = threading.Lock()
_local = threading.local()


def on_starting(server):
    """A new run: forget the sums of earlier runs."""
    for file in OUT.glob("*.json"):
        file.unlink()


def pre_request(worker, req):
    _local.started = time.thread_time()


def post_request(worker, req, environ, resp):
    seconds = time.thread_time() - getattr(_local, "started", time.thread_time())
    with _lock:
        entry = _sums[f"{req.method} {req.path}"]
        entry[0] += 1
        entry[1] += seconds


def worker_exit(server, worker):
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{os.getpid()}.json").write_text(json.dumps(_sums))


if __name__ == "__main__":
    total: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])
    for file in OUT.glob("*.json"):
        for key, (count, seconds) in json.loads(file.read_text()).items():
            total[key][0] += count
            total[key][1] += seconds
    for key, (count, seconds) in sorted(total.items(), key=lambda kv: -kv[1][1]):
        sys.stdout.write(f"{key:40} {count:8d} {seconds / count * 1000:8.2f} ms CPU\n")
