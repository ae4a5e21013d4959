"""The smartcard CA's status endpoints alone (OCSP, CRL, the CA certificate), for
`zorgsleutel smartcard-ca serve`: the responder's own processes, to which a reverse proxy sends
/smartcards/ocsp, /smartcards/ca.crl and /smartcards/ca.cer (deploy/nginx; docs/deployment.md).
Any other path is answered 404 here: the portal's pages are never served by this application."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zorgsleutel.settings")
django.setup()

from zorgsleutel.smartcards.status_app import application  # noqa: E402

__all__ = ["application"]
