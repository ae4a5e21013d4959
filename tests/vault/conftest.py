"""Vault tests run in their own session with --ds=zorgsleutel.vault.settings."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from zorgsleutel import vaultprotocol as signing
from zorgsleutel.vault import gateways


class SignedClient:
    """Django's test client, signing every request like the portal's vault client does."""

    def __init__(self, client_id: str = "portal", key: bytes | None = None):
        # Default arguments let `make_client()` give a fresh portal client (e.g. per thread).
        self.client_id = client_id
        self.key = key if key is not None else settings.VAULT_CLIENT_KEYS[client_id]
        self.http = Client()
        self.last_headers: dict[str, str] = {}

    def request(
        self, method: str, path: str, payload=None, *, raw: bytes | None = None, headers=None
    ):
        body = (
            raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        )
        signed = signing.sign_headers(
            client=self.client_id, key=self.key, method=method, path=path, body=body
        )
        signed.update(headers or {})
        self.last_headers = signed
        return self.http.generic(
            method,
            path,
            data=body,
            content_type="application/json",
            headers=signed,
        )

    def post(self, path, payload=None, **kw):
        return self.request("POST", path, payload, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


@pytest.fixture
def vault(db) -> SignedClient:
    return SignedClient()


@pytest.fixture
def make_client(db):
    """`make_client(client_id, key)`: a signed client for another (or a forged) identity."""
    return SignedClient


@pytest.fixture
def sms_gateways(settings):
    """Set SMS_GATEWAYS for one test: `sms_gateways({...})`."""

    def configure(config: dict) -> None:
        settings.SMS_GATEWAYS = config
        gateways.reset()

    yield configure
    gateways.reset()


@pytest.fixture
def last_code():
    """`last_code(hint=None)`: the code in the newest dev-outbox SMS (optionally for one number)."""
    from zorgsleutel.vault.models import DevSms

    def read(hint: str | None = None) -> str:
        rows = DevSms.objects.order_by("-pk")
        if hint:
            rows = rows.filter(hint=hint)
        body = rows.first().body
        words = body.replace(".", " ").split()
        return next(word for word in words if word.isdigit() and len(word) == 6)

    return read


class Clock:
    """The vault's time (it reads `django.utils.timezone.now`), moved forward on request."""

    def __init__(self, monkeypatch):
        self.offset = timedelta(0)
        real_now = timezone.now
        monkeypatch.setattr(timezone, "now", lambda: real_now() + self.offset)

    def advance(self, **delta) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """`clock.advance(seconds=31)`: everything the vault does from then on happens later.
    (Signed requests keep the real Unix time: the vault checks those against time.time().)"""
    return Clock(monkeypatch)


@pytest.fixture
def confirmed(vault, last_code):
    """`confirmed(phone)`: a confirmed enrolment of this number (enrolled, code verified)."""

    def make(phone: str = "0612345678") -> dict:
        sent = vault.post("/v1/enrolments", {"phone": phone, "locale": "nl"}).json()
        verdict = vault.post(f"/v1/challenges/{sent['challenge']}/verify", {"code": last_code()})
        assert verdict.json()["result"] == "ok"
        return sent

    return make
