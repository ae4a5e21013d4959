"""The real `zorgsleutel` entry point on a bare environment: one line and exit 2 for a bad
configuration, and `uzi inspect` that needs none of the portal's secrets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from uzi.softhsm_fixtures import uzi_test_ca  # noqa: F401
from zorgsleutel.uzi import pem
from zorgsleutel.uzi.testca import issue_card_certificate

# The console script pyproject.toml installs (`zorgsleutel = "zorgsleutel.cli:main"`).
ZORGSLEUTEL = Path(sys.executable).with_name("zorgsleutel")
FIXTURES = Path(__file__).parent / "uzi" / "fixtures"
CARD = FIXTURES / "uzi-test-card" / "Authenticiteit.cer"
TRUST = FIXTURES / "uzi-test-trust"

PORTAL_SECRET = (
    "zorgsleutel: configuration error: SECRET_KEY is not set: set it to a random value of at "
    "least 50 characters when DEBUG is off."
)
VAULT_SECRETS = (
    "zorgsleutel: configuration error: The vault needs VAULT_CLIENT_KEYS, VAULT_ENCRYPTION_KEYS, "
    "VAULT_INDEX_KEY, VAULT_CODE_KEY, VAULT_SMS_GATEWAYS when DEBUG is off."
)


def bare_environment(home: Path, **variables: str) -> dict[str, str]:
    """Only PATH, and a base dir without a .env: DEBUG unset, no secrets, no database."""
    return {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "ZS_BASE_DIR": str(home),
        "LANG": "C.UTF-8",
        **variables,
    }


def run_all(runs: dict[str, tuple[list[str], dict[str, str]]], cwd: Path) -> dict:
    """Start every run at once (each loads Django: about a second), then collect them."""
    assert ZORGSLEUTEL.is_file(), f"{ZORGSLEUTEL} missing: pip install -e ."
    started = {
        name: subprocess.Popen(
            [str(ZORGSLEUTEL), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=cwd,
        )
        for name, (args, env) in runs.items()
    }
    results = {}
    for name, process in started.items():
        stdout, stderr = process.communicate(timeout=120)
        results[name] = (process.returncode, stdout, stderr)
    return results


def test_every_command_reports_missing_secrets_in_one_line(tmp_path):
    env = bare_environment(tmp_path)
    commands = {
        "migrate": (["migrate"], PORTAL_SECRET),
        "demo": (["demo"], PORTAL_SECRET),
        "audit verify": (["audit", "verify"], PORTAL_SECRET),
        "mail send-test": (["mail", "send-test", "x@y.nl"], PORTAL_SECRET),
        "purge": (["purge"], PORTAL_SECRET),
        "oidc rotate-keys": (["oidc", "rotate-keys"], PORTAL_SECRET),
        "uzi make-test-card": (["uzi", "make-test-card"], PORTAL_SECRET),
        "django fallback": (["check"], PORTAL_SECRET),
        "run": (["run"], PORTAL_SECRET),
        "vault migrate": (["vault", "migrate"], VAULT_SECRETS),
        "vault serve": (["vault", "serve"], VAULT_SECRETS),
        "vault rotate-keys": (["vault", "rotate-keys"], VAULT_SECRETS),
    }
    results = run_all({name: (args, env) for name, (args, _) in commands.items()}, tmp_path)
    for name, (_, expected) in commands.items():
        status, stdout, stderr = results[name]
        assert (name, status, stderr.splitlines(), stdout) == (name, 2, [expected], "")
    # Stopped before any database was opened.
    assert sorted(tmp_path.rglob("*.sqlite3*")) == []


def test_bad_values_name_the_variable_in_one_line(tmp_path):
    debug = {"DEBUG": "1"}
    runs = {
        "database url": (
            ["migrate"],
            bare_environment(tmp_path, **debug, DATABASE_URL="postgres://zs:s3cretpw@db:port/zs"),
        ),
        "unknown scheme": (
            ["audit", "verify"],
            bare_environment(tmp_path, **debug, DATABASE_URL="nosuchdb://zs:s3cretpw@db/zs"),
        ),
        "proxy": (["migrate"], bare_environment(tmp_path, **debug, TRUSTED_PROXIES="10.0.0.300")),
        "debug": (["mail", "send-test", "x@y.nl"], bare_environment(tmp_path, DEBUG="maybe")),
        "port": (["run"], bare_environment(tmp_path, **debug, PORT="eighty")),
        "vault timeout": (
            ["migrate"],
            bare_environment(tmp_path, **debug, VAULT_TIMEOUT_SECONDS="x"),
        ),
        "vault database": (
            ["vault", "migrate"],
            bare_environment(tmp_path, **debug, VAULT_DATABASE_URL="vaultdb://x"),
        ),
        "vault gateways": (
            ["vault", "migrate"],
            bare_environment(tmp_path, **debug, VAULT_SMS_GATEWAYS="{"),
        ),
    }
    expected = {
        "database url": "zorgsleutel: configuration error: DATABASE_URL is not a usable database "
        "URL: This string is not a valid url",
        "unknown scheme": "zorgsleutel: configuration error: DATABASE_URL is not a usable "
        "database URL: Scheme 'nosuchdb://' is unknown.",
        "proxy": "zorgsleutel: configuration error: TRUSTED_PROXIES: '10.0.0.300' is not an IP "
        "address or network.",
        "debug": "zorgsleutel: configuration error: DEBUG must be a boolean (1/0, true/false), "
        "not 'maybe'.",
        "port": "zorgsleutel: configuration error: PORT must be a whole number, not 'eighty'.",
        "vault timeout": "zorgsleutel: configuration error: VAULT_TIMEOUT_SECONDS must be a "
        "number, not 'x'.",
        "vault database": "zorgsleutel: configuration error: VAULT_DATABASE_URL is not a usable "
        "database URL: ",
        "vault gateways": "zorgsleutel: configuration error: VAULT_SMS_GATEWAYS is not valid "
        "JSON: ",
    }
    results = run_all(runs, tmp_path)
    for name, prefix in expected.items():
        status, stdout, stderr = results[name]
        lines = stderr.splitlines()
        assert (name, status, len(lines), stdout) == (name, 2, 1, ""), stderr
        assert lines[0].startswith(prefix), (name, lines[0])
        assert "Traceback" not in stderr
        assert "s3cretpw" not in stderr  # a database URL's password never reaches the terminal
    assert sorted(tmp_path.rglob("*.sqlite3*")) == []


# --- uzi inspect: offline, without the portal's settings ------------------------------------------


def test_uzi_inspect_runs_without_portal_secrets(tmp_path, uzi_test_ca):  # noqa: F811
    eight_digits = issue_card_certificate(
        ec.generate_private_key(ec.SECP256R1()).public_key(),
        ca=uzi_test_ca.hierarchy.zorgverlener,
        ura="90000001",
        uzi_number="90000001",
    )
    short = tmp_path / "short.pem"
    short.write_text(pem(eight_digits))
    bare = bare_environment(tmp_path)
    at = ["--at", "2019-06-01"]
    runs = {
        "valid": (["uzi", "inspect", str(CARD), *at, "--trust", str(TRUST)], bare),
        # An operator's shell that names the portal's settings: still not loaded.
        "settings named": (
            ["uzi", "inspect", str(CARD), *at, "--trust", str(TRUST)],
            {**bare, "DJANGO_SETTINGS_MODULE": "zorgsleutel.settings"},
        ),
        "trust from UZI_TRUST_DIR": (
            ["uzi", "inspect", str(CARD), *at],
            {**bare, "UZI_TRUST_DIR": str(TRUST)},
        ),
        "expired": (["uzi", "inspect", str(CARD), "--trust", str(TRUST)], bare),
        "eight digits": (["uzi", "inspect", str(short), *at, "--trust", str(TRUST)], bare),
        "bad switch": (["uzi", "inspect", str(CARD)], {**bare, "UZI_OCSP": "perhaps"}),
    }
    results = run_all(runs, tmp_path)

    for name in ("valid", "settings named", "trust from UZI_TRUST_DIR"):
        status, stdout, stderr = results[name]
        assert (name, status, stderr) == (name, 0, "")
        report = json.loads(stdout)
        identity = report["identity"]
        assert (identity["uzi_number"], identity["ura"]) == ("900016528", "90000382")
        assert (identity["pas_type"], identity["role"], identity["profession"]) == (
            "Z",
            "01.000",
            "Arts",
        )
        assert identity["full_name"] == "Jan test-90014548"
        assert report["verdict"]["code"] == "valid"
        assert report["verdict"]["trust_dir"] == str(TRUST)
        assert report["verdict"]["chain"][-1] == "CN=TEST Zorg CSP Root CA G3,O=CIBG,C=NL"

    status, stdout, stderr = results["expired"]
    assert (status, json.loads(stdout)["verdict"]["code"]) == (1, "expired")
    assert len(stderr.splitlines()) == 1 and stderr.startswith("refused: expired: ")

    status, stdout, stderr = results["eight digits"]
    assert (status, stdout, len(stderr.splitlines())) == (2, "", 1)
    assert stderr.startswith(f"{short}: bad_uzi_field: ")
    assert "field uzi_number '90000001'" in stderr

    status, stdout, stderr = results["bad switch"]
    expected = (
        "zorgsleutel: configuration error: UZI_OCSP must be a boolean (1/0, true/false), "
        "not 'perhaps'.\n"
    )
    assert (status, stdout, stderr) == (2, "", expected)
    assert all("Traceback" not in stderr for _, _, stderr in results.values())


def test_vault_without_a_subcommand_is_usage(tmp_path):
    runs = {"usage": (["vault"], bare_environment(tmp_path))}
    status, stdout, stderr = run_all(runs, tmp_path)["usage"]
    assert (status, stdout) == (2, "")
    assert stderr == "usage: zorgsleutel vault migrate|serve|rotate-keys|purge\n"
