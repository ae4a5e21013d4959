"""The session engine (SESSION_ENGINE): Django's database sessions, written once per change.

A login step stores its session inside the transaction of its audit event (the rotated session
of `sessions.complete_login`, the pending step of the password); then Django's session middleware
saves the same session again when it answers, in a write transaction of its own, with nothing
changed. This store is Django's (`db`, or `cached_db` in front of Redis) with two differences, in
the documented methods of a session engine:

- `save()`: saving exactly what this store last wrote, under the same key, writes nothing;
- `exists()`: a new key is not first looked up. Django's `create()` inserts it and, should
  the key be taken (1 in 2^165 for 32 random characters of [a-z0-9]), the primary key refuses
  the row and `create()` draws another, as it does when two processes race for one key.

Everything else — keys, `cycle_key()` (a new id at every login, the old row deleted), expiry,
logout deleting the row — is Django's own.

On the benchmark host this took the login from four write transactions to two, as many as it
had before (docs/benchmarks.md, "Django's public API on the security path");
tests/accounts/test_login_writes.py pins that the session is still written whenever its data or
key changed.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib.sessions.backends import cached_db, db
from django.db import transaction

_BASE = db.SessionStore if not settings.REDIS_URL else cached_db.SessionStore


class SessionStore(_BASE):
    _written: tuple[str | None, str] | None = None  # (key, data) as this store last saved them

    def exists(self, session_key: str) -> bool:
        return False  # the INSERT of create() is the check (see above)

    def save(self, must_create: bool = False) -> None:
        if self.session_key is not None and not must_create and self._snapshot() == self._written:
            return
        super().save(must_create=must_create)
        written = self._snapshot()
        # Inside a transaction the row exists only once it commits: a rollback must leave the
        # next save (the middleware's) to write it again.
        transaction.on_commit(lambda: setattr(self, "_written", written))

    def _snapshot(self) -> tuple[str | None, str]:
        return self.session_key, json.dumps(dict(self.items()), sort_keys=True, default=str)
