"""WSGI entry point of the vault (gunicorn zorgsleutel.vault.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

# Always the vault's own settings, whatever the environment says: it is an island.
os.environ["DJANGO_SETTINGS_MODULE"] = "zorgsleutel.vault.settings"
application = get_wsgi_application()
