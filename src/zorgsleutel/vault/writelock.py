"""One writer at a time on SQLite, without SQLite's sleeping busy handler.

Two vault processes writing to one SQLite file contend for its lock; the loser sleeps in SQLite's
busy handler (with growing back-off) even after the winner has committed, which cost half the
throughput and gave second-long tail latencies in bench/vault_verify.py. An flock on a file beside
the database hands the lock over as soon as it is released. On other databases it does nothing:
they have row locks.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from collections.abc import Iterator

from django.db import connection

_thread_lock = threading.Lock()
_lock_fd: int | None = None


def _lock_file() -> int:
    global _lock_fd
    if _lock_fd is None:
        path = f"{connection.settings_dict['NAME']}.writelock"
        _lock_fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    return _lock_fd


@contextlib.contextmanager
def serialised_writes() -> Iterator[None]:
    if connection.vendor != "sqlite":
        yield
        return
    with _thread_lock:
        fd = _lock_file()
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
