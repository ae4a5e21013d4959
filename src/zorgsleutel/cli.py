"""The `zorgsleutel` command: one entry point for the portal, the vault and the reference clients.

zorgsleutel run                   migrate, load the demo, start portal + vault + worker
zorgsleutel migrate               migrate the portal database (and its cache table)
zorgsleutel demo                  load the demo data (idempotent; DEBUG only)
zorgsleutel audit verify          check the audit hash chain
zorgsleutel mail send-test EMAIL  queue a test mail
zorgsleutel purge                 delete expired sessions, challenges and dead links
zorgsleutel vault migrate|serve|rotate-keys|purge
zorgsleutel uzi inspect|make-test-card    UZI certificates (operators, development)
zorgsleutel app …  /  card …      reference clients of the app and card protocols
zorgsleutel <django command>      any other Django management command of the portal
"""

from __future__ import annotations

import os
import sys

VAULT_SETTINGS = "zorgsleutel.vault.settings"
PORTAL_SETTINGS = "zorgsleutel.settings"


def _django(settings_module: str, argv: list[str]) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(__doc__)
        return
    command, rest = argv[0], argv[1:]
    if command == "run":
        from zorgsleutel.runner import main as run

        sys.exit(run(rest))
    if command == "app":
        from zorgsleutel.clients.app import main as app_client

        sys.exit(app_client(rest))
    if command == "card":
        from zorgsleutel.clients.card import main as card_client

        sys.exit(card_client(rest))
    if command == "vault":
        if not rest:
            print("usage: zorgsleutel vault migrate|serve|rotate-keys|purge")
            sys.exit(2)
        sub = rest[0].replace("-", "_")
        if sub == "serve":
            from zorgsleutel.runner import serve_vault

            sys.exit(serve_vault(rest[1:]))
        _django(VAULT_SETTINGS, ["zorgsleutel vault", sub, *rest[1:]])
        return
    _django(PORTAL_SETTINGS, ["zorgsleutel", command.replace("-", "_"), *rest])


if __name__ == "__main__":
    main()
