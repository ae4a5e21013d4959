"""Fixtures shared by both test sessions (vault and portal); portal imports stay inside them."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.parse

import pytest

from support import free_port, wait_for_port


@pytest.fixture(autouse=True)
def clients_speak_english(monkeypatch):
    """The reference clients take their language from LANGUAGE, LC_ALL, LC_MESSAGES or LANG
    (clients/i18n.py): English in every test whatever the machine's locale, unless a test
    chooses; and no test's choice outlives it."""
    from zorgsleutel.clients import i18n

    monkeypatch.setenv("LANGUAGE", "en")
    yield
    i18n.deactivate()


# --- Portal-side fixtures (imports stay inside, so the vault session never loads the portal) ---


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
    env["DJANGO_SETTINGS_MODULE"] = "zorgsleutel.vault.settings"
    drop = None
    base = os.environ.get("VAULT_DATABASE_URL", "")
    if base.startswith(("postgres://", "postgresql://")):
        env["VAULT_DATABASE_URL"], drop = _scratch_postgres(base, "livetest")
    else:
        env["VAULT_DATABASE_URL"] = f"sqlite:///{env['ZS_VAR_DIR']}/vault.sqlite3"
    subprocess.run(
        [sys.executable, "-m", "zorgsleutel.cli", "vault", "migrate", "--noinput", "-v", "0"],
        env=env,
        check=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "zorgsleutel.vault.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--log-level",
            "warning",
        ],
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
        async def handle_DATA(self, server, session, envelope):
            received.append(
                {
                    "peer": session.peer,
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
            "db_worker",
            "--batch",
            "--no-startup-delay",
            "--queue-name",
            "*",
            "--no-reload",
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


# --- Secrets must never reach the portal's logs ---------------------------------------------------
# Tests register every phone number they type and every SMS code they read (support.py); every
# log record of the whole session is kept, and at the end none may contain any of them.

import logging  # noqa: E402

import support  # noqa: E402


def pytest_configure(config):
    handler = support.KeepEverything(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    logging.getLogger().addHandler(handler)


def pytest_sessionfinish(session, exitstatus):
    leaked = support.secrets_in("\n".join(support.LOG_LINES))
    if leaked:
        session.exitstatus = 1
        print(f"\nSECRETS IN LOGS: {len(leaked)} phone numbers or codes appeared in log records")


from applicants import card_key, hierarchy, trust  # noqa: E402, F401
from people import fresh_number, login_as, mailed_link, person, sms_code  # noqa: E402, F401
