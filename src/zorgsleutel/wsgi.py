"""WSGI entry point of the portal (gunicorn zorgsleutel.wsgi).

The smartcard CA's status endpoints (OCSP, CRL, CA certificate) are answered in front of
Django's middleware: relying parties ask them often, with no session (smartcards/status_app.py).
"""

import os

from django.core.wsgi import get_wsgi_application

from zorgsleutel.smartcards import status_app

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zorgsleutel.settings")
application = status_app.mount(get_wsgi_application())
