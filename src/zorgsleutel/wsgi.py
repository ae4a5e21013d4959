"""WSGI entry point of the portal (gunicorn zorgsleutel.wsgi)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zorgsleutel.settings")
application = get_wsgi_application()
