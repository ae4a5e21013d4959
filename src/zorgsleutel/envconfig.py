"""Reading settings from the environment (and an optional `.env` file).

Shared by the portal's and the vault's settings modules, so it imports nothing of either. A value
that cannot be read raises ImproperlyConfigured naming the variable: the `zorgsleutel` command
turns that into one line and exit status 2 (cli.py).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(os.environ.get("ZS_BASE_DIR", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("ZS_VAR_DIR", BASE_DIR / "var")).resolve()

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def load_dotenv(path: Path | None = None) -> None:
    """Put KEY=VALUE lines of `.env` into os.environ; real environment variables win."""
    path = path or BASE_DIR / ".env"
    if not path.is_file():
        return
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        os.environ.setdefault(key.strip(), value.strip().strip("'\""))


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {value!r}.")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}.") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_database(name: str, default_sqlite: Path, *, health_checks: bool = True) -> dict:
    """A Django DATABASES entry from a URL; SQLite files get WAL and sane timeouts.

    `health_checks` pings a reused connection at the start of each request (one extra
    round-trip); a service that must be fast can turn it off and lose one request on a dead
    connection instead.
    """
    url = os.environ.get(name) or f"sqlite:///{default_sqlite}"
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=health_checks)
    except ValueError as exc:
        # Not the URL itself in the message: it may hold the database password.
        raise ImproperlyConfigured(f"{name} is not a usable database URL: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        if config["NAME"] and config["NAME"] != ":memory:":
            path = Path(config["NAME"])
            path.parent.mkdir(parents=True, exist_ok=True)
            # A file (not Django's in-memory default) so tests can inspect what is on disk and
            # live servers in other threads or processes see the same data.
            config["TEST"] = {"NAME": str(path.with_name(f"test_{path.name}"))}
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    return config


def require_strong_secret(name: str, value: str, *, min_length: int, development: str) -> None:
    """Refuse to start (ImproperlyConfigured, one line) on a missing, development or weak secret.

    Weak follows Django's security.W009 rule for SECRET_KEY: shorter than `min_length` or fewer
    than 5 distinct characters ("a" * 50 is long and worthless). Called only with DEBUG off.
    """
    if not value:
        problem = "is not set"
    elif value == development:
        problem = "is the development value"
    elif len(value) < min_length:
        problem = f"is shorter than {min_length} characters"
    elif len(set(value)) < 5:
        problem = "has fewer than 5 different characters"
    else:
        return
    raise ImproperlyConfigured(
        f"{name} {problem}: set it to a random value of at least {min_length} characters "
        "when DEBUG is off."
    )


def require_public_url(name: str, value: str) -> str:
    """The portal's public address with DEBUG off: set, https, a host and nothing after it (no
    path, query, fragment or trailing slash). It is the OpenID Connect issuer, which relying
    parties compare character for character, and the base of every link in mail and QR code,
    so every portal node and the worker must be given the same one. Called only with DEBUG off;
    ImproperlyConfigured (one line) otherwise."""
    example = "e.g. https://zorgsleutel.example"
    if not value:
        raise ImproperlyConfigured(
            f"{name} must be set when DEBUG is off: the portal's public https address ({example}),"
            " the same on every portal node and the worker."
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises ValueError on a port that is no number)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme != "https"
        or not parts.hostname
        or parts.path
        or parts.query
        or parts.fragment
        or "@" in parts.netloc
    ):
        raise ImproperlyConfigured(
            f"{name} must be an https address with a host and nothing after it ({example}; no "
            f"path and no trailing slash) when DEBUG is off, not {value!r}."
        )
    return value
