"""Authenticate signed requests (see signing.py): key per client, time window, nonce once."""

from __future__ import annotations

import hmac
import random
import re
import time

from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone

from zorgsleutel import vaultprotocol as signing
from zorgsleutel.vault import hotpath, policies
from zorgsleutel.vault.errors import VaultError
from zorgsleutel.vault.models import UsedNonce

_NONCE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_TIMESTAMP = re.compile(r"^[0-9]{1,12}$")
_SIGNATURE = re.compile(r"^[0-9a-f]{64}$")


def _unauthorised(code: str, message: str) -> VaultError:
    return VaultError(code, message, status=401)


def authenticate(request: HttpRequest, body: bytes) -> str:
    """The calling client's id, or VaultError(401). Records the nonce in the current transaction."""
    meta = request.headers
    client = meta.get(signing.HEADER_CLIENT, "")
    timestamp = meta.get(signing.HEADER_TIMESTAMP, "")
    nonce = meta.get(signing.HEADER_NONCE, "")
    given = meta.get(signing.HEADER_SIGNATURE, "")
    if not (client and timestamp and nonce and given):
        raise _unauthorised("unsigned", "This request is not signed.")
    key = settings.VAULT_CLIENT_KEYS.get(client)
    if key is None or not (_TIMESTAMP.match(timestamp) and _NONCE.match(nonce)):
        raise _unauthorised("bad_signature", "The request signature is not valid.")
    if not _SIGNATURE.match(given):
        raise _unauthorised("bad_signature", "The request signature is not valid.")
    expected = signing.signature(
        key,
        client=client,
        method=request.method or "",
        path=request.get_full_path(),
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    if not hmac.compare_digest(expected, given):
        raise _unauthorised("bad_signature", "The request signature is not valid.")
    if abs(time.time() - int(timestamp)) > policies.REQUEST_MAX_SKEW.total_seconds():
        raise _unauthorised("stale_request", "The request timestamp is outside the allowed window.")
    now = timezone.now()
    with connection.cursor() as cursor:
        if not hotpath.remember_nonce(cursor, client=client, nonce=nonce, now=now):
            raise _unauthorised("replayed", "This request was already received.")
    if random.random() < 0.001:  # noqa: S311 (housekeeping, not security)
        UsedNonce.objects.filter(seen_at__lt=now - policies.NONCE_RETENTION).delete()
    return client
