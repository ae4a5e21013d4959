"""The portal with the smartcard status endpoints answered in front of Django
(smartcards/status_app.py), for bench/smartcard_ocsp.py: what zorgsleutel/wsgi.py would be."""

import os

from django.core.wsgi import get_wsgi_application

from zorgsleutel.smartcards import status_app

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zorgsleutel.settings")
application = status_app.mount(get_wsgi_application())
