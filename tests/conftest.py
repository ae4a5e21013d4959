"""Shared by both test sessions (vault and portal). Imports nothing of either at module level.

ZS_STRICT=1 (set by .ci/run) turns every "component missing" skip into a failure, so CI can
never go green by skipping the browser, SMTP or PostgreSQL tests.
"""

from __future__ import annotations

import os
import shutil

import pytest

STRICT = os.environ.get("ZS_STRICT", "") == "1"


def require(condition: bool, what: str) -> None:
    """Skip when a component is missing locally; fail in CI (ZS_STRICT=1)."""
    if condition:
        return
    if STRICT:
        pytest.fail(f"required component missing: {what}")
    pytest.skip(f"component missing: {what}")


def require_binary(name: str, path: str | None = None) -> str:
    found = path if path and os.path.exists(path) else shutil.which(name)
    require(bool(found), f"{name} (apt-get install {name})")
    return found or ""


# --- Portal-side fixtures (imports stay inside, so the vault session never loads the portal) ---

import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import urllib.parse  # noqa: E402


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


def _scratch_postgres(url: str, suffix: str):
    """Create a scratch database next to the one in `url`; return (its url, drop function)."""
    import psycopg

    parts = urllib.parse.urlsplit(url)
    name = f"{parts.path.lstrip('/')}_{suffix}"
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return parts._replace(path=f"/{name}").geturl(), drop


@pytest.fixture(scope="session")
def live_vault(tmp_path_factory):
    """A real vault process (gunicorn, own database) for portal tests; yields its URL."""
    env = {**os.environ, "DEBUG": "1", "ZS_VAR_DIR": str(tmp_path_factory.mktemp("vault"))}
    drop = None
    base = os.environ.get("VAULT_DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        env["VAULT_DATABASE_URL"], drop = _scratch_postgres(base, "livetest")
    else:
        env["VAULT_DATABASE_URL"] = f"sqlite:///{env['ZS_VAR_DIR']}/vault.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "zorgsleutel.cli", "vault", "migrate", "--noinput", "-v", "0"],
        env=env, check=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "zorgsleutel.vault.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", "1", "--threads", "4", "--log-level", "warning"],
        env=env,
    )
    try:
        wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
        if drop:
            drop()


@pytest.fixture
def vault_service(live_vault, settings):
    """Point the portal's vault client at the live vault for one test."""
    from zorgsleutel.vaultclient import client

    settings.VAULT_URL = live_vault
    client.get.cache_clear()
    yield client.get()
    client.get.cache_clear()


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free port; yields (url, received messages)."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd API)
            received.append(
                {
                    "from": envelope.mail_from,
                    "to": envelope.rcpt_tos,
                    "message": message_from_bytes(envelope.content, policy=policy.default),
                }
            )
            return "250 OK"

    port = free_port()
    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield f"smtp://127.0.0.1:{port}", received
    finally:
        controller.stop()


@pytest.fixture
def run_worker():
    """Run the real task worker until the queue is drained (tasks due now only)."""
    from django.core.management import call_command

    def run() -> None:
        call_command(
            "db_worker", "--batch", "--no-startup-delay", "--queue-name", "*", "--no-reload",
            verbosity=0,
        )

    return run


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Build test databases without the audit triggers: tests flush tables between cases."""
    from django.conf import settings

    settings.AUDIT_DATABASE_GUARD = False


@pytest.fixture
def audit_db_guard(db):
    """Install the audit table's append-only triggers for one test."""
    from django.db import connection

    from zorgsleutel.core import dbguard

    dbguard.install(connection)
    yield
    dbguard.remove(connection)
