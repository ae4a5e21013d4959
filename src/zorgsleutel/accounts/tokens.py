"""Link tokens for mails: random, stored as a hash, single use, expiring (see LinkToken)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from django.db import transaction

from zorgsleutel.accounts.models import LinkToken, User
from zorgsleutel.core import clock


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue(
    *,
    user: User,
    purpose: str,
    ttl: timedelta,
    send_at: datetime | None = None,
    membership=None,
    at: datetime | None = None,
    reason: str = "",
    about: str = "",
) -> str:
    """Revoke the open links of this purpose (for this membership, when the link belongs to
    one) and return a fresh raw token. A *Dit was ik niet* link revokes nothing: each answers
    its own event, which happened `at` (its created_at; now by default)."""
    now = clock.now()
    starts = max(send_at or now, now)
    if purpose != LinkToken.NOT_ME:
        LinkToken.objects.filter(
            user=user, purpose=purpose, membership=membership, used_at=None, revoked_at=None
        ).update(revoked_at=now)
    raw = secrets.token_urlsafe(32)
    LinkToken.objects.create(
        user=user,
        purpose=purpose,
        token_hash=digest(raw),
        created_at=at or now,
        expires_at=starts + ttl,
        send_at=send_at,
        membership=membership,
        reason=reason,
        about=about[:100],
    )
    return raw


def find_open(raw: str, purpose: str) -> LinkToken | None:
    """The open token for this raw value, or None (unknown, used, revoked or expired)."""
    if not raw or len(raw) > 100:
        return None
    token = (
        LinkToken.objects.select_related("user")
        .filter(token_hash=digest(raw), purpose=purpose)
        .first()
    )
    if token is None or not token.is_open(clock.now()):
        return None
    return token


def lock_open(token_id: int) -> LinkToken | None:
    """Inside a transaction: the token row locked, if it is still open."""
    assert transaction.get_connection().in_atomic_block
    token = LinkToken.objects.select_for_update().filter(pk=token_id).first()
    if token is None or not token.is_open(clock.now()):
        return None
    return token
