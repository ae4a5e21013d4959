"""Settings come from the environment; with DEBUG off the portal refuses unsafe defaults."""

from __future__ import annotations

import json
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
    "SECRET_KEY": "k" * 50,
    "ALLOWED_HOSTS": "portal.example.nl",
    "VAULT_CLIENT_KEY": "v" * 40,
}


def _run(tmp_path, **env):
    base = {"PATH": "/usr/bin:/bin", "ZS_VAR_DIR": str(tmp_path), "ZS_BASE_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("override", "complaint"),
    [
        ({"SECRET_KEY": ""}, "SECRET_KEY"),
        ({"SECRET_KEY": "dev-only-insecure-secret-key-change-me"}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"ALLOWED_HOSTS": ""}, "ALLOWED_HOSTS"),
        ({"VAULT_CLIENT_KEY": ""}, "VAULT_CLIENT_KEY"),
    ],
)
def test_refuses_to_start_on_unsafe_settings_when_debug_is_off(tmp_path, override, complaint):
    result = _run(tmp_path, **{**SAFE, **override})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and complaint in result.stderr


def test_production_settings_are_strict(tmp_path):
    result = _run(tmp_path, **SAFE)
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout.strip().splitlines()[-1])
    headers = probe["headers"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
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
