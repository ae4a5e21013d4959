"""Vault settings: its own process, database, keys and SMS gateways. Imports nothing of the portal.

Environment:
  DEBUG                     development defaults for keys and the dev SMS outbox; with DEBUG
                            off the vault refuses to start without keys, with a development
                            key, or with a client key shorter than 32 characters
  VAULT_DATABASE_URL        the vault's own database (default: SQLite under var/)
  VAULT_CLIENT_KEYS         "client:key,client2:key2" (per-client HMAC request keys)
  VAULT_ENCRYPTION_KEYS     "version:base64key,..."; the first is current, older ones decrypt
  VAULT_INDEX_KEY           base64 key for the keyed hash that indexes numbers (caps)
  VAULT_CODE_KEY            base64 key for the keyed hash of SMS codes
  VAULT_ALLOWED_COUNTRIES   ISO codes of allowed mobile numbers (default NL)
  VAULT_SMS_GATEWAYS        JSON alias dict, in failover order (see docs/vault.md)
  VAULT_SMS_SENDER          sender name shown on the phone
"""

from __future__ import annotations

import base64
import hashlib
import json
import os

from django.core.exceptions import ImproperlyConfigured

from zorgsleutel.envconfig import VAR_DIR, env_bool, env_database, env_list, env_str, load_dotenv
from zorgsleutel.vault import policies

load_dotenv()

DEBUG = env_bool("VAULT_DEBUG", env_bool("DEBUG", False))
DEV_CLIENT_KEY = "dev-only-vault-client-key"


def _dev_key(purpose: str) -> str:
    return base64.b64encode(hashlib.sha256(f"zorgsleutel-dev-{purpose}".encode()).digest()).decode()


def _key(value: str, name: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except ValueError:
        raise ImproperlyConfigured(f"{name} is not valid base64.") from None
    if len(key) != 32:
        raise ImproperlyConfigured(f"{name} must decode to 32 bytes (AES-256 / HMAC-SHA256).")
    return key


def _pairs(name: str, default: str) -> dict[str, str]:
    pairs = {}
    for item in env_list(name, default):
        ident, sep, value = item.partition(":")
        if not sep or not ident or not value:
            raise ImproperlyConfigured(f"{name} entries must look like 'name:value'")
        pairs[ident.strip()] = value.strip()
    return pairs


SECRET_KEY = env_str("VAULT_SECRET_KEY", "") or hashlib.sha256(os.urandom(32)).hexdigest()
ALLOWED_HOSTS = env_list("VAULT_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]")
# No per-request connection ping: it cost a quarter of a verification on PostgreSQL.
DATABASES = {
    "default": env_database("VAULT_DATABASE_URL", VAR_DIR / "vault.sqlite3", health_checks=False)
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["zorgsleutel.vault"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "zorgsleutel.vault.urls"
WSGI_APPLICATION = "zorgsleutel.vault.wsgi.application"
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = False
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 1024
APPEND_SLASH = False

VAULT_CLIENT_KEYS = {
    client: key.encode()
    for client, key in _pairs(
        "VAULT_CLIENT_KEYS", f"portal:{DEV_CLIENT_KEY}" if DEBUG else ""
    ).items()
}
_encryption = _pairs("VAULT_ENCRYPTION_KEYS", f"1:{_dev_key('aes')}" if DEBUG else "")
VAULT_ENCRYPTION_KEYS = {
    version: _key(key, f"VAULT_ENCRYPTION_KEYS: key version {version!r}")
    for version, key in _encryption.items()
}
VAULT_CURRENT_KEY_VERSION = next(iter(VAULT_ENCRYPTION_KEYS), "")


def _single_key(name: str, purpose: str) -> bytes:
    value = env_str(name, _dev_key(purpose) if DEBUG else "")
    return _key(value, name) if value else b""


VAULT_INDEX_KEY = _single_key("VAULT_INDEX_KEY", "index")
VAULT_CODE_KEY = _single_key("VAULT_CODE_KEY", "code")
VAULT_ALLOWED_COUNTRIES = [c.upper() for c in env_list("VAULT_ALLOWED_COUNTRIES", "NL")]
VAULT_SMS_SENDER = env_str("VAULT_SMS_SENDER", "Zorgsleutel")

_gateways = env_str("VAULT_SMS_GATEWAYS")
if _gateways:
    try:
        SMS_GATEWAYS = json.loads(_gateways)
    except json.JSONDecodeError as exc:
        raise ImproperlyConfigured(f"VAULT_SMS_GATEWAYS is not valid JSON: {exc}") from exc
elif DEBUG:
    SMS_GATEWAYS = {"dev": {"BACKEND": "zorgsleutel.vault.gateways.dev.DevOutboxGateway"}}
else:
    SMS_GATEWAYS = {}

if not DEBUG:
    missing = [
        name
        for name, value in [
            ("VAULT_CLIENT_KEYS", VAULT_CLIENT_KEYS),
            ("VAULT_ENCRYPTION_KEYS", VAULT_ENCRYPTION_KEYS),
            ("VAULT_INDEX_KEY", VAULT_INDEX_KEY),
            ("VAULT_CODE_KEY", VAULT_CODE_KEY),
            ("VAULT_SMS_GATEWAYS", SMS_GATEWAYS),
        ]
        if not value
    ]
    if missing:
        raise ImproperlyConfigured(f"The vault needs {', '.join(missing)} when DEBUG is off.")
    # The development keys are public (they are in this file): none may guard real numbers.
    for client, key in VAULT_CLIENT_KEYS.items():
        if key == DEV_CLIENT_KEY.encode():
            raise ImproperlyConfigured(
                f"VAULT_CLIENT_KEYS: the key of client {client!r} is the development key."
            )
        if len(key) < policies.MIN_CLIENT_KEY_CHARS:
            raise ImproperlyConfigured(
                f"VAULT_CLIENT_KEYS: the key of client {client!r} is shorter than "
                f"{policies.MIN_CLIENT_KEY_CHARS} characters."
            )
    _dev_keys = {base64.b64decode(_dev_key(purpose)) for purpose in ("aes", "index", "code")}
    for version, key in VAULT_ENCRYPTION_KEYS.items():
        if key in _dev_keys:
            raise ImproperlyConfigured(
                f"VAULT_ENCRYPTION_KEYS: key version {version!r} is a development key."
            )
    for name, key in [("VAULT_INDEX_KEY", VAULT_INDEX_KEY), ("VAULT_CODE_KEY", VAULT_CODE_KEY)]:
        if key in _dev_keys:
            raise ImproperlyConfigured(f"{name} is a development key.")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s vault %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.request": {"level": "ERROR"}},
}
