"""Helpers shared by the test sessions (importable as `support`; pytest puts tests/ on the path).

A test that needs a system package (Chromium, nginx, SoftHSM2, …) asks `require()`: when it is
missing the test skips with the one apt-get line of scripts/system-packages, the list `make test`
installs as root. ZS_STRICT=1 (set by .ci/run) turns that skip into a failure, so CI can never go
green by skipping the browser, card or proxy tests.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

STRICT = os.environ.get("ZS_STRICT", "") == "1"
SYSTEM_PACKAGES = Path(__file__).resolve().parents[1] / "scripts" / "system-packages"
CHROMIUM = "/usr/bin/chromium"  # Debian's; Playwright's own browser download is never used


@functools.cache
def install_line() -> str:
    """The apt-get line for the system packages `make test` still lacks ('' when none)."""
    result = subprocess.run(
        [SYSTEM_PACKAGES, "--hint", "test"], capture_output=True, text=True, check=False
    )
    return result.stdout.strip()


def require(condition: bool, what: str) -> None:
    """Skip when a system component is missing locally; fail in CI (ZS_STRICT=1)."""
    if condition:
        return
    line = install_line()
    message = f"{what} is missing; install the system packages first: {line}"
    if not line:  # installed as far as dpkg knows, yet not where the tests look
        message = f"{what} is missing (the packages scripts/system-packages lists are installed)"
    if STRICT:
        pytest.fail(message)
    pytest.skip(message)


def require_binary(name: str, path: str | None = None) -> str:
    """The path of a program from a system package, or skip (fail under ZS_STRICT=1)."""
    found = path if path and os.path.exists(path) else shutil.which(name)
    require(bool(found), name)
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


# --- Secrets registry: phone numbers typed and codes read by tests ------------------------------
SECRETS: set[str] = set()
LOG_LINES: list[str] = []


class KeepEverything(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        # A record that cannot be formatted holds nothing to check.
        with contextlib.suppress(Exception):
            LOG_LINES.append(self.format(record))


def forms_of(value: str) -> set[str]:
    """The ways a code or Dutch mobile number can be written, as digit runs."""
    digits = re.sub(r"\D", "", value)
    if len(digits) == 6:
        return {digits}
    national = digits[-9:]  # 6xxxxxxxx
    return {national, "0" + national, "31" + national} if national else set()


def register_secret(value: str) -> str:
    """Remember a phone number or an SMS code for the end-of-session log check."""
    SECRETS.update(forms_of(value))
    return value


def secrets_in(text: str, secrets: set[str] | None = None) -> list[str]:
    """Registered secrets found in `text`, also when written with spaces, dots or dashes."""
    text = text + "\n" + re.sub(r"(?<=\d)[ .\-\u00a0]+(?=\d)", "", text)
    return sorted(
        s
        for s in (SECRETS if secrets is None else secrets)
        if re.search(rf"(?<!\d){s}(?!\d)", text)
    )


def shows_code_page(response) -> bool:
    """The password step's answer is the code page itself (200, its form posts to
    /inloggen/code): the password was right and a code was sent."""
    return response.status_code == 200 and 'action="/inloggen/code"' in response.content.decode()
