"""Helpers shared by the test sessions (importable as `support`; pytest puts tests/ on the path).

ZS_STRICT=1 (set by .ci/run) turns every "component missing" skip into a failure, so CI can
never go green by skipping the browser, SMTP or PostgreSQL tests.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest

STRICT = os.environ.get("ZS_STRICT", "") == "1"


def require(condition: bool, what: str) -> None:
    """Skip when a component is missing locally; fail in CI (ZS_STRICT=1)."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"required component missing: {what}")
    pytest.skip(f"component missing: {what}")


def require_binary(name: str, path: str | None = None, package: str | None = None) -> str:
    found = path if path and os.path.exists(path) else shutil.which(name)
    require(bool(found), f"{name} (apt-get install {package or name})")
    return found or ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen | None = None, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port}")
