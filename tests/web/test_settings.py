"""Settings come from the environment; with DEBUG off the portal refuses unsafe defaults."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

PROBE = """
import json, os, django
os.environ['DJANGO_SETTINGS_MODULE'] = 'zorgsleutel.settings'
django.setup()
from django.conf import settings
from django.test import Client
from django.test.utils import setup_test_environment
response = Client().get('/', secure=True, headers={'host': 'portal.example.nl'})
print(json.dumps({
    'status': response.status_code,
    'headers': dict(response.headers),
    'session_secure': settings.SESSION_COOKIE_SECURE,
    'csrf_secure': settings.CSRF_COOKIE_SECURE,
    'dev_mailbox': 'zorgsleutel.devtools' in settings.INSTALLED_APPS,
}))
"""

SAFE = {
    "DEBUG": "0",
    "SECRET_KEY": "q7Vf2kLx9RmT4wZp8NcB3hJd6GsY1aEu5XoW0iKv-lM_nQrPtC",  # 50, random-looking
    "ALLOWED_HOSTS": "portal.example.nl",
    "VAULT_CLIENT_KEY": "Zk3uR8pQ1wXy6TnB4mLc9VsD2hGf7JaE",  # 32
    "SITE_URL": "https://portal.example.nl",
}


def _run(tmp_path, probe=PROBE, **env):
    base = {"PATH": "/usr/bin:/bin", "ZS_VAR_DIR": str(tmp_path), "ZS_BASE_DIR": str(tmp_path)}
    if "PYTHONPATH" in os.environ:  # a worktree's checkout, not the editable install's
        base["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return subprocess.run(
        [sys.executable, "-c", probe],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def _refusal(result) -> str:
    """The last line of a start-up that failed: the exception Django's settings raised."""
    return result.stderr.strip().splitlines()[-1]


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        (
            {"SECRET_KEY": "dev-only-insecure-secret-key-change-me"},
            "SECRET_KEY is the development value",
        ),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is shorter than 50 characters"),
        # The review's example: long enough for the old 32-character rule, and worthless.
        ({"SECRET_KEY": "a" * 32}, "SECRET_KEY is shorter than 50 characters"),
        ({"SECRET_KEY": "a" * 64}, "SECRET_KEY has fewer than 5 different characters"),
        ({"SECRET_KEY": "abcd" * 16}, "SECRET_KEY has fewer than 5 different characters"),
        # One character short of the limit.
        (
            {"SECRET_KEY": "q7Vf2kLx9RmT4wZp8NcB3hJd6GsY1aEu5XoW0iKv-lM_nQrPt"},
            "SECRET_KEY is shorter than 50 characters",
        ),
        ({"VAULT_CLIENT_KEY": ""}, "VAULT_CLIENT_KEY is not set"),
        (
            {"VAULT_CLIENT_KEY": "dev-only-vault-client-key"},
            "VAULT_CLIENT_KEY is the development value",
        ),
        ({"VAULT_CLIENT_KEY": "secret"}, "VAULT_CLIENT_KEY is shorter than 32 characters"),
        ({"VAULT_CLIENT_KEY": "ab" * 20}, "VAULT_CLIENT_KEY has fewer than 5 different characters"),
    ],
)
def test_refuses_weak_or_development_secrets_when_debug_is_off(tmp_path, override, message):
    result = _run(tmp_path, **{**SAFE, **override})
    assert result.returncode == 1
    length = "50" if message.startswith("SECRET_KEY") else "32"
    assert _refusal(result) == (
        f"django.core.exceptions.ImproperlyConfigured: {message}: set it to a random value of at "
        f"least {length} characters when DEBUG is off."
    )


def test_refuses_to_start_without_allowed_hosts_when_debug_is_off(tmp_path):
    result = _run(tmp_path, **{**SAFE, "ALLOWED_HOSTS": ""})
    assert result.returncode == 1
    assert _refusal(result) == (
        "django.core.exceptions.ImproperlyConfigured: ALLOWED_HOSTS must be set when DEBUG is off."
    )


SITE_URL_REQUIRED = (
    "django.core.exceptions.ImproperlyConfigured: SITE_URL must be set when DEBUG is off: the "
    "portal's public https address (e.g. https://zorgsleutel.example), the same on every portal "
    "node and the worker."
)


def _site_url_refused(value: str) -> str:
    return (
        "django.core.exceptions.ImproperlyConfigured: SITE_URL must be an https address with a "
        "host and nothing after it (e.g. https://zorgsleutel.example; no path and no trailing "
        f"slash) when DEBUG is off, not {value!r}."
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        # Unset: each process would name itself by its own port (issue 18), and the OpenID
        # Connect issuer would differ between portal nodes and the worker.
        (None, SITE_URL_REQUIRED),
        ("", SITE_URL_REQUIRED),
        ("http://portal.example.nl", _site_url_refused("http://portal.example.nl")),
        ("https://portal.example.nl/", _site_url_refused("https://portal.example.nl/")),
        ("https://portal.example.nl/sso", _site_url_refused("https://portal.example.nl/sso")),
        ("https://portal.example.nl?x=1", _site_url_refused("https://portal.example.nl?x=1")),
        ("https://", _site_url_refused("https://")),
        ("https://me@portal.example.nl", _site_url_refused("https://me@portal.example.nl")),
        ("https://portal.example.nl:x", _site_url_refused("https://portal.example.nl:x")),
        ("portal.example.nl", _site_url_refused("portal.example.nl")),
    ],
)
def test_refuses_to_start_without_a_public_https_site_url_when_debug_is_off(
    tmp_path, value, message
):
    env = {key: item for key, item in SAFE.items() if key != "SITE_URL"}
    if value is not None:
        env["SITE_URL"] = value
    result = _run(tmp_path, **env)
    assert result.returncode == 1
    assert _refusal(result) == message


@pytest.mark.parametrize("value", ["https://portal.example.nl", "https://portal.example.nl:8443"])
def test_a_public_https_site_url_is_the_issuer(tmp_path, value):
    probe = """
import os, django
os.environ['DJANGO_SETTINGS_MODULE'] = 'zorgsleutel.settings'
django.setup()
from zorgsleutel.oidc.validator import issuer
print(issuer())
"""
    result = _run(tmp_path, probe, **{**SAFE, "SITE_URL": value})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == value


def test_in_development_site_url_defaults_to_this_process_s_port(tmp_path):
    probe = """
import os, django
os.environ['DJANGO_SETTINGS_MODULE'] = 'zorgsleutel.settings'
django.setup()
from django.conf import settings
print(settings.SITE_URL)
"""
    result = _run(tmp_path, probe, DEBUG="1", PORT="8123")
    assert result.stdout.strip() == "http://127.0.0.1:8123"


@pytest.mark.parametrize("name", ["TRUSTED_PROXIES", "UZI_TRUSTED_PROXIES"])
def test_refuses_to_start_on_a_trusted_proxy_that_is_not_an_address(tmp_path, name):
    result = _run(tmp_path, **{**SAFE, name: "127.0.0.1,nginx.internal"})
    assert result.returncode == 1
    assert _refusal(result) == (
        f"django.core.exceptions.ImproperlyConfigured: {name}: 'nginx.internal' is not an IP "
        "address or network."
    )


def test_debug_unset_means_debug_off(tmp_path):
    """No DEBUG variable at all is production: the development secrets are refused."""
    env = {key: value for key, value in SAFE.items() if key != "DEBUG"}
    result = _run(tmp_path, **{**env, "SECRET_KEY": "a" * 32})
    assert result.returncode == 1
    assert _refusal(result) == (
        "django.core.exceptions.ImproperlyConfigured: SECRET_KEY is shorter than 50 characters: "
        "set it to a random value of at least 50 characters when DEBUG is off."
    )
    assert _run(tmp_path, **env).returncode == 0


def test_production_settings_are_strict(tmp_path):
    result = _run(tmp_path, **SAFE)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    headers = probe["headers"]
    assert headers["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
    csp = headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
    assert probe["session_secure"] and probe["csrf_secure"]
    assert not probe["dev_mailbox"]


def test_passwords_are_hashed_with_argon2id_at_owasp_parameters(db):
    from django.contrib.auth.hashers import make_password

    encoded = make_password("Zorgsleutel-demo-2026")
    assert encoded.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")


def test_imported_pbkdf2_hashes_work_and_are_upgraded_on_login(db):
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from zorgsleutel.accounts.models import User

    legacy = PBKDF2PasswordHasher().encode("Legacy-password-1", "somesalt1234", iterations=100_000)
    user = User.objects.create(email="legacy@demozorg.nl", name="Legacy", password=legacy)
    assert user.check_password("Legacy-password-1")
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")


def test_the_database_cache_does_not_cull_rate_limits_and_approvals(db, settings):
    """Django's database cache culls at 300 entries by default, which silently dropped QR-login
    approvals under load (found by bench/qr_login.py). Counters must survive many entries."""
    from django.core.cache import cache

    if "redis" in settings.CACHES["default"]["BACKEND"].lower():
        return  # Redis does not cull this way
    cache.clear()
    cache.set("first", "kept", 600)
    for n in range(400):
        cache.set(f"other-{n}", n, 600)
    assert cache.get("first") == "kept"
    cache.clear()


SMARTCARD_STATUS = """
import os, django
os.environ['DJANGO_SETTINGS_MODULE'] = 'zorgsleutel.settings'
django.setup()
from django.conf import settings
print(settings.SMARTCARD_STATUS_URL)
"""


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SITE_URL": "https://zorgsleutel.example"}, "http://zorgsleutel.example"),
        # (an http SITE_URL is refused with DEBUG off: above)
        ({"SITE_URL": "https://127.0.0.1:8443"}, "http://127.0.0.1:8443"),
        (
            {"SITE_URL": "https://zorgsleutel.example", "SMARTCARD_STATUS_URL": "http://ocsp.ex"},
            "http://ocsp.ex",
        ),
    ],
)
def test_card_certificates_name_the_status_over_plain_http(tmp_path, env, expected):
    result = _run(tmp_path, SMARTCARD_STATUS, **{**SAFE, **env})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


HEALTH_CHECKS = """
import os, django
os.environ['DJANGO_SETTINGS_MODULE'] = 'zorgsleutel.settings'
django.setup()
from django.conf import settings
print(settings.DATABASES['default']['CONN_HEALTH_CHECKS'])
"""


@pytest.mark.parametrize(
    ("env", "expected"), [({}, "True"), ({"DATABASE_HEALTH_CHECKS": "0"}, "False")]
)
def test_the_connection_ping_per_request_can_be_turned_off(tmp_path, env, expected):
    result = _run(tmp_path, HEALTH_CHECKS, **SAFE, **env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_the_ocsp_responder_runs_without_the_ping(monkeypatch):
    """`zorgsleutel smartcard-ca serve` becomes granian on the status app, its connections
    unpinged (a third of an answer on PostgreSQL, docs/benchmarks.md)."""
    import os

    from zorgsleutel import runner

    ran = []
    monkeypatch.delenv("DATABASE_HEALTH_CHECKS", raising=False)
    monkeypatch.setattr(os, "execv", lambda path, command: ran.append(command))
    runner.serve_status(["--port", "8123", "--workers", "3", "--threads", "2"])
    assert os.environ["DATABASE_HEALTH_CHECKS"] == "0"
    (command,) = ran
    assert command[1:] == [
        *("-m", "granian", "--interface", "wsgi", "--no-ws", "--host", "127.0.0.1"),
        *("--port", "8123", "--workers", "3", "--blocking-threads", "2"),
        *("--log-level", "warning", "--workers-kill-timeout", "5"),
        "zorgsleutel.status_wsgi:application",
    ]
