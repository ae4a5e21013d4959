"""The session engine (SESSION_ENGINE): Django's database sessions, one write per change.

Django's database store writes a rotated session three times (`cycle_key()`: a SELECT for a
free key, an INSERT of the new row, a DELETE of the old one; then the middleware's UPDATE),
each in a transaction of its own. Here `cycle_key()` only draws the new key; the next `save()`
inserts the new row and deletes the old one in one transaction — the caller's, when a flow
saves the session together with the audit event of the change (accounts/views.py) — and saving
unchanged data again writes nothing.

What stays: the session id changes at login (the old row is gone when the new one exists; a
stolen pre-login id is worth nothing), keys are 32 characters of [a-z0-9] (165 random bits)
drawn with `secrets`; instead of asking the database whether a key is free, the INSERT is
refused on the primary key and a new key drawn. Logout deletes the row, so a copied cookie dies
with it (signed-cookie sessions could not do that: docs/accounts.md). Where the cache is not
the database (Redis), sessions are cached in front of the database (`cached_db`).
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.contrib.sessions.backends import cached_db, db
from django.contrib.sessions.backends.base import VALID_KEY_CHARS, CreateError, UpdateError
from django.db import DatabaseError, IntegrityError, router, transaction
from django.utils.crypto import get_random_string

logger = logging.getLogger("django.contrib.sessions")
_CACHE_IS_DATABASE = (
    settings.CACHES[settings.SESSION_CACHE_ALIAS]["BACKEND"]
    == "django.core.cache.backends.db.DatabaseCache"
)
_BASE = db.SessionStore if _CACHE_IS_DATABASE else cached_db.SessionStore


class SessionStore(_BASE):
    _old_key: str | None = None  # the stored row a rotation replaces, deleted on the next save
    _must_create = False
    _saved: tuple[str, str] | None = None  # (key, data) as last written by this store

    def _get_new_session_key(self) -> str:
        return get_random_string(32, VALID_KEY_CHARS)

    def cycle_key(self) -> None:
        data = self._session
        if self._old_key is None and not self._must_create:
            self._old_key = self.session_key  # the row in the database, if any
        self._session_key = self._get_new_session_key()
        self._session_cache = data
        self._must_create = True
        self.modified = True

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        must_create = must_create or self._must_create
        data = self._get_session(no_load=must_create)
        snapshot = (self.session_key, json.dumps(data, sort_keys=True, default=str))
        if not must_create and self._old_key is None and snapshot == self._saved:
            return None
        obj = self.create_model_instance(data)
        using = router.db_for_write(self.model, instance=obj)
        # savepoint=False: no SAVEPOINT statements inside a flow's transaction. A key collision
        # (2^-165) then fails the whole transaction instead of drawing again: a 500, once.
        with transaction.atomic(using=using, savepoint=False):
            try:
                obj.save(force_insert=must_create, force_update=not must_create, using=using)
            except IntegrityError:
                if must_create:
                    raise CreateError from None
                raise
            except DatabaseError:
                if not must_create:
                    raise UpdateError from None
                raise
            if self._old_key:
                self._delete_row(self._old_key)
        if not _CACHE_IS_DATABASE:
            try:
                self._cache.set(self.cache_key, self._session, self.get_expiry_age())
            except Exception:  # as cached_db does: the database holds the session
                logger.exception("Error saving to cache (%s)", self._cache)
        self._old_key, self._must_create, self._saved = None, False, snapshot
        return None

    def _delete_row(self, session_key: str) -> None:
        """One DELETE (Django's store reads the row first)."""
        self.model.objects.filter(session_key=session_key).delete()
        if not _CACHE_IS_DATABASE:
            self._cache.delete(self.cache_key_prefix + session_key)

    def flush(self) -> None:
        if self._old_key:  # a rotation not saved yet: the stored row is the old one
            self._delete_row(self._old_key)
            self._old_key = None
        super().flush()
        self._must_create, self._saved = False, None
