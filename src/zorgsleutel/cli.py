"""The `zorgsleutel` command: one entry point for the portal, the vault and the reference clients.

zorgsleutel run                   migrate, load the demo, start portal + vault + worker
zorgsleutel migrate               migrate the portal database (and its cache table)
zorgsleutel demo                  load the demo data (idempotent; DEBUG only)
zorgsleutel audit verify          check the audit hash chain
zorgsleutel mail send-test EMAIL  queue a test mail
zorgsleutel purge                 delete expired sessions, challenges and dead links
zorgsleutel oidc rotate-keys      advance the single sign-on signing keys (daily; --start)
zorgsleutel vault migrate|serve|rotate-keys|purge
zorgsleutel uzi inspect|make-test-card    UZI certificates (operators, development)
zorgsleutel app …  /  card …      reference clients of the app and card protocols
zorgsleutel smartcard-ca init|show|blank-card  the smartcard CA's token; blank test cards
zorgsleutel smartcard-ca serve           the CA's OCSP responder and CRL alone (granian)
zorgsleutel <django command>      any other Django management command of the portal

Exit status 2 and one line on stderr (`zorgsleutel: configuration error: ...`) when the
environment does not make a valid configuration, for every command.
"""

from __future__ import annotations

import importlib
import os
import sys

from django.core.exceptions import ImproperlyConfigured

VAULT_SETTINGS = "zorgsleutel.vault.settings"
PORTAL_SETTINGS = "zorgsleutel.settings"
CONFIGURATION_ERROR = 2


def _load_settings(*modules: str) -> None:
    """Import settings modules now, so their checks raise here and not deep inside Django.

    Django catches ImproperlyConfigured at its first settings access and raises it again later
    from wherever settings are next read, as a traceback.
    """
    for module in modules:
        importlib.import_module(module)


def _django(settings_module: str, argv: list[str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    _load_settings(settings_module)
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


def _dispatch(command: str, rest: list[str]) -> int | None:
    """Run one command; its exit status (None: 0)."""
    if command == "run":
        # run's steps are child processes: check both configurations first, so a bad one is
        # this one line rather than a failed step.
        _load_settings(PORTAL_SETTINGS, VAULT_SETTINGS)
        from zorgsleutel.runner import main as run

        return run(rest)
    if command == "app":
        from zorgsleutel.clients.app import main as app_client

        return app_client(rest)
    if command == "card":
        from zorgsleutel.clients.card import main as card_client

        return card_client(rest)
    if command == "smartcard-ca" and rest[:1] == ["serve"]:
        _load_settings(PORTAL_SETTINGS)  # before granian replaces this process
        from zorgsleutel.runner import serve_status

        return serve_status(rest[1:])
    if command == "smartcard-ca":
        from zorgsleutel.smartcards.command import main as smartcard_ca

        return smartcard_ca(rest)
    if command == "uzi" and rest[:1] == ["inspect"]:
        # Offline: a certificate file and a trust dir. Never the portal's settings, so it runs
        # where the portal's secrets are not (docs/uzi.md).
        from zorgsleutel.uzi.inspection import main as inspect

        return inspect(rest[1:])
    if command == "vault":
        if not rest:
            print("usage: zorgsleutel vault migrate|serve|rotate-keys|purge", file=sys.stderr)
            return 2
        sub = rest[0].replace("-", "_")
        if sub == "serve":
            _load_settings(VAULT_SETTINGS)  # before gunicorn replaces this process
            from zorgsleutel.runner import serve_vault

            return serve_vault(rest[1:])
        _django(VAULT_SETTINGS, ["zorgsleutel vault", sub, *rest[1:]])
        return None
    _django(PORTAL_SETTINGS, ["zorgsleutel", command.replace("-", "_"), *rest])
    return None


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return
    try:
        status = _dispatch(argv[0], argv[1:])
    except ImproperlyConfigured as exc:
        # The operator's mistake, not the program's: what to fix, no traceback.
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"zorgsleutel: configuration error: {message}", file=sys.stderr)
        sys.exit(CONFIGURATION_ERROR)
    if status:
        sys.exit(status)


if __name__ == "__main__":
    main()
