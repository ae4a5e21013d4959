"""WSGI entry point of the vault (gunicorn zorgsleutel.vault.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zorgsleutel.vault.settings")
application = get_wsgi_application()
