"""The portal's own settings, with one more URL: /floor/ok, a view that does nothing."""

from zorgsleutel.settings import *  # noqa: F403

ROOT_URLCONF = "urls"
