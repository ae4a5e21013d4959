"""A browser logged in without walking a login flow: the session a completed login leaves."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

from zorgsleutel.authn import sessions
from zorgsleutel.core import clock


def logged_in(page, user, *, acr: str) -> None:
    """Give `page`'s browser a session of `user` at `acr` (password + SMS: low; the app:
    substantial; a card: high)."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    now = clock.now().timestamp()
    store.update(
        {
            SESSION_KEY: str(user.pk),
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
            sessions.AUTH_AT: now,
            sessions.SEEN_AT: now,
            sessions.ACR: acr,
        }
    )
    store.save()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": store.session_key, "url": page.base_url}]
    )
