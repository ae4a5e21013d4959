"""With DEBUG off the vault refuses to start on missing, short or development keys."""

from __future__ import annotations

import subprocess
import sys

import pytest

PROBE = (
    "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'zorgsleutel.vault.settings'; "
    "django.setup(); print('started')"
)
# The development keys (what the vault uses in DEBUG), written out: base64 of
# SHA-256("zorgsleutel-dev-aes" / "-index" / "-code").
DEV_AES = "YjkOA9obOOuoLQLXsZaxzGtYLFEXokZzpj/RDeUyW5Q="
DEV_INDEX = "EsEew3NkErqPqY10QpRYVh0ESFLFNNQj7w83xmxk2rw="
DEV_CODE = "SFytEaLUGRdF1xJnTyf1FFXyirXrXkkvsaTtaBQl9JQ="

SAFE = {
    "VAULT_CLIENT_KEYS": "portal:" + "p" * 32,
    "VAULT_ENCRYPTION_KEYS": "1:ZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWVlZWU=",  # b"e" * 32
    "VAULT_INDEX_KEY": "aWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWk=",  # b"i" * 32
    "VAULT_CODE_KEY": "Y2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2M=",  # b"c" * 32
    "VAULT_SMS_GATEWAYS": '{"dev": {"BACKEND": "zorgsleutel.vault.gateways.dev.DevOutboxGateway"}}',
}


def _start(tmp_path, **env) -> subprocess.CompletedProcess:
    """Load the vault's settings in a fresh process, DEBUG (and VAULT_DEBUG) unset."""
    base = {"PATH": "/usr/bin:/bin", "ZS_VAR_DIR": str(tmp_path), "ZS_BASE_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_vault_starts_with_strong_keys(tmp_path):
    result = _start(tmp_path, **SAFE)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "started\n"


@pytest.mark.parametrize(
    ("override", "message"),
    [
        (
            {"VAULT_CLIENT_KEYS": "portal:x"},
            "VAULT_CLIENT_KEYS: the key of client 'portal' is shorter than 32 characters.",
        ),
        (
            {"VAULT_CLIENT_KEYS": f"portal:{'p' * 32},app:{'a' * 31}"},
            "VAULT_CLIENT_KEYS: the key of client 'app' is shorter than 32 characters.",
        ),
        (
            {"VAULT_CLIENT_KEYS": "portal:dev-only-vault-client-key"},
            "VAULT_CLIENT_KEYS: the key of client 'portal' is the development key.",
        ),
        (
            {"VAULT_ENCRYPTION_KEYS": f"1:{DEV_AES}"},
            "VAULT_ENCRYPTION_KEYS: key version '1' is a development key.",
        ),
        (
            {"VAULT_ENCRYPTION_KEYS": f"2:{SAFE['VAULT_INDEX_KEY']},1:{DEV_INDEX}"},
            "VAULT_ENCRYPTION_KEYS: key version '1' is a development key.",
        ),
        ({"VAULT_INDEX_KEY": DEV_INDEX}, "VAULT_INDEX_KEY is a development key."),
        ({"VAULT_CODE_KEY": DEV_CODE}, "VAULT_CODE_KEY is a development key."),
        ({"VAULT_CODE_KEY": DEV_AES}, "VAULT_CODE_KEY is a development key."),
        (
            {"VAULT_INDEX_KEY": "c3Nzc3Nzc3Nzc3Nzc3Nzcw=="},  # 16 bytes
            "VAULT_INDEX_KEY must decode to 32 bytes (AES-256 / HMAC-SHA256).",
        ),
        (
            {"VAULT_ENCRYPTION_KEYS": "1:c3Nzc3Nzc3Nzc3Nzc3Nzcw=="},
            "VAULT_ENCRYPTION_KEYS: key version '1' must decode to 32 bytes"
            " (AES-256 / HMAC-SHA256).",
        ),
        ({"VAULT_CODE_KEY": ""}, "The vault needs VAULT_CODE_KEY when DEBUG is off."),
        (
            {"VAULT_CLIENT_KEYS": "", "VAULT_INDEX_KEY": ""},
            "The vault needs VAULT_CLIENT_KEYS, VAULT_INDEX_KEY when DEBUG is off.",
        ),
    ],
)
def test_the_vault_refuses_weak_or_development_keys_when_debug_is_off(tmp_path, override, message):
    result = _start(tmp_path, **{**SAFE, **override})
    assert result.returncode == 1
    assert result.stdout == ""
    last_line = result.stderr.strip().splitlines()[-1]
    assert last_line == f"django.core.exceptions.ImproperlyConfigured: {message}"
    assert "p" * 32 not in result.stderr  # the keys themselves are never printed


def test_debug_keeps_the_development_keys(tmp_path):
    result = _start(tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
