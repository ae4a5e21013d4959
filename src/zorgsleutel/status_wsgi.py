"""The smartcard CA's status endpoints alone (OCSP, CRL, the CA certificate), for
`zorgsleutel smartcard-ca serve`: the responder's own processes, to which a reverse proxy sends
/smartcards/ocsp, /smartcards/ca.crl and /smartcards/ca.cer (deploy/nginx; docs/deployment.md).
Any other path is answered 404 here: the portal's pages are never served by this application.

On PostgreSQL each process keeps the cards' states in its memory (smartcards/statemirror.py),
started at its first request: granian's workers are processes of their own, and a thread
started before they fork would not be in them."""

import os
from collections.abc import Callable, Iterable

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zorgsleutel.settings")
django.setup()

from zorgsleutel.smartcards import statemirror, status_app  # noqa: E402


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    statemirror.start()  # once per process; SQLite: nothing, the answers read the table
    return status_app.application(environ, start_response)


__all__ = ["application"]
