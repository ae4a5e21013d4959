"""API authentication: the user's session (CSRF-protected) or a per-organisation API token."""

from __future__ import annotations

import secrets

from django.db import transaction
from django.http import HttpRequest
from ninja.security import APIKeyHeader, SessionAuth

from zorgsleutel.accounts import tokens
from zorgsleutel.accounts.models import ApiToken, User
from zorgsleutel.authn import sessions
from zorgsleutel.core import audit, clock
from zorgsleutel.people.models import Organisation

HEADER = "X-Zorgsleutel-Token"


class TokenAuth(APIKeyHeader):
    param_name = HEADER

    def authenticate(self, request: HttpRequest, key: str | None):
        if not key or len(key) > 100:
            return None
        token = (
            ApiToken.objects.select_related("created_by", "organisation")
            .filter(token_hash=tokens.digest(key), revoked_at=None)
            .first()
        )
        if token is None or token.created_by.state != User.ACTIVE:
            return None
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=clock.now())
        request.api_token = token
        return token.created_by


class LoggedInSession(SessionAuth):
    """Django's session with ninja's CSRF check; only sessions the login flow completed."""

    def authenticate(self, request: HttpRequest, key: str | None):
        user = super().authenticate(request, key)
        if user is not None and request.session.get(sessions.ACR):
            request.api_token = None
            return user
        return None


def issue_token(*, organisation: Organisation, user: User, name: str) -> str:
    """Create an API token for `user` in `organisation`; the raw value is returned once."""
    raw = "zs_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            organisation=organisation,
            created_by=user,
            name=name,
            token_hash=tokens.digest(raw),
            created_at=clock.now(),
        )
        audit.record(
            "apitoken.created",
            actor=user,
            organisation=organisation,
            target=token,
            details={"name": name},
        )
    return raw
