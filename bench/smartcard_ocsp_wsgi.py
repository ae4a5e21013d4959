"""The portal without smartcards/status_app.py in front (zorgsleutel/wsgi.py mounts it): the
status endpoints through Django's views and middleware, for bench/smartcard_ocsp.py."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zorgsleutel.settings")
application = get_wsgi_application()
