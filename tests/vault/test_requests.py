"""Signed requests only; replays, forgeries and bad input are refused and change nothing."""

from __future__ import annotations

import io
import json
import time
from datetime import timedelta

import pytest
from django.test import Client

from zorgsleutel import vaultprotocol as signing
from zorgsleutel.vault.models import Enrolment

ENDPOINTS = [
    ("POST", "/v1/enrolments"),
    ("GET", "/v1/enrolments/enr_x"),
    ("DELETE", "/v1/enrolments/enr_x"),
    ("POST", "/v1/enrolments/enr_x/challenge"),
    ("POST", "/v1/enrolments/enr_x/notices"),
    ("POST", "/v1/challenges/chl_x/verify"),
    ("GET", "/v1/health"),
    ("GET", "/v1/dev/sms"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_unsigned_requests_get_401(method, path):
    response = Client().generic(method, path, data=b"{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["error"] == "unsigned"


def test_a_replayed_request_is_refused(vault):
    body = json.dumps({"phone": "0612345678"}).encode()
    first = vault.post("/v1/enrolments", raw=body)
    assert first.status_code == 201
    replay = Client().generic(
        "POST",
        "/v1/enrolments",
        data=body,
        content_type="application/json",
        headers=vault.last_headers,
    )
    assert replay.status_code == 401 and replay.json()["error"] == "replayed"
    assert Enrolment.objects.count() == 1


def test_a_tampered_body_is_refused(vault):
    headers = signing.sign_headers(
        client="portal",
        key=vault.key,
        method="POST",
        path="/v1/enrolments",
        body=b'{"phone": "0612345678"}',
    )
    response = Client().generic(
        "POST",
        "/v1/enrolments",
        data=b'{"phone": "0687654321"}',
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 401 and response.json()["error"] == "bad_signature"
    assert not Enrolment.objects.exists()


def test_a_wrong_key_or_unknown_client_is_refused(vault, make_client):
    assert make_client("portal", b"x" * 32).get("/v1/health").json()["error"] == "bad_signature"
    assert make_client("intruder", b"x" * 32).get("/v1/health").status_code == 401


def test_a_stale_timestamp_is_refused(vault):
    stale = str(int(time.time()) - 3600)
    nonce = "a" * 32
    sig = signing.signature(
        vault.key,
        client="portal",
        method="GET",
        path="/v1/health",
        timestamp=stale,
        nonce=nonce,
        body=b"",
    )
    headers = {
        signing.HEADER_CLIENT: "portal",
        signing.HEADER_TIMESTAMP: stale,
        signing.HEADER_NONCE: nonce,
        signing.HEADER_SIGNATURE: sig,
    }
    response = Client().get("/v1/health", headers=headers)
    assert response.status_code == 401 and response.json()["error"] == "stale_request"


def test_a_signed_health_check_passes(vault):
    response = vault.get("/v1/health")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        (b"\xff\xfe", 400, "invalid_json"),
        (b'{"phone": 612345678}', 400, "invalid_field"),
        (b'{"phone": "0612345678", "admin": true}', 400, "unknown_field"),
        (b'{"phone": "0612345678", "locale": "fr"}', 400, "invalid_field"),
        (b'{"phone": ""}', 400, "invalid_field"),
        (b"{}", 400, "invalid_field"),
        (json.dumps({"phone": "0" * 20_000}).encode(), 413, "body_too_large"),
    ],
)
def test_bad_input_gets_a_clear_4xx_and_changes_nothing(vault, raw, status, code):
    response = vault.post("/v1/enrolments", raw=raw)
    assert response.status_code == status
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert not Enrolment.objects.exists()


def test_a_signed_body_of_5000_nested_brackets_is_refused_as_bad_json(vault):
    """json.loads recurses once per level: this body used to raise RecursionError (a 500)."""
    response = vault.post("/v1/enrolments", raw=b"[" * 5000)
    assert response.status_code == 400
    assert response.json() == {"error": "invalid_json", "message": "The body nests too deeply."}
    assert not Enrolment.objects.exists()


def _nested(levels: int) -> bytes:
    """{"phone": [[...]]}: `levels` of nesting in all, the outer object included."""
    return b'{"phone": ' + b"[" * (levels - 1) + b"]" * (levels - 1) + b"}"


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (_nested(32), "invalid_field"),  # the limit itself: parsed, then refused by the schema
        (_nested(33), "invalid_json"),
        (b'{"phone": [{"a": [{"b": ' + b"[" * 29 + b"]" * 29 + b"}]}]}", "invalid_json"),
        # Brackets inside strings are text, not nesting: these are parsed (an unknown key),
        # also after an escaped quote; after an escaped backslash the string has ended.
        (b'{"phone": "0612345678", "' + b"[" * 100 + b'": 1}', "unknown_field"),
        (rb'{"phone": "0612345678", "\"' + b"{" * 100 + b'": 1}', "unknown_field"),
        (rb'{"phone": "0612345678", "\\"' + b"[" * 100 + b'": 1}', "invalid_json"),
        # A number longer than Python's int limit (4,300 digits) was a ValueError, a 500.
        (b'{"phone": 1' + b"0" * 5000 + b"}", "invalid_json"),
    ],
)
def test_nesting_is_limited_to_32_levels_outside_strings(vault, raw, code):
    response = vault.post("/v1/enrolments", raw=raw)
    assert response.status_code == 400
    assert response.json()["error"] == code
    assert not Enrolment.objects.exists()


@pytest.mark.parametrize("code", ["12345", "1234567", "abcdef", 123456, None, "12 345"])
def test_malformed_codes_are_refused_without_counting_an_attempt(vault, code):
    sent = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    response = vault.post(f"/v1/challenges/{sent['challenge']}/verify", {"code": code})
    assert response.status_code == 400 and response.json()["error"] == "invalid_field"
    from zorgsleutel.vault.models import Challenge

    assert Challenge.objects.get().attempts == 0


def test_unknown_paths_and_methods(vault):
    assert vault.get("/v1/nothing").status_code == 404
    assert vault.get("/v1/nothing").json()["error"] == "not_found"
    response = vault.request("PUT", "/v1/enrolments", {})
    assert response.status_code == 405 and response.json()["error"] == "method_not_allowed"


def test_dev_outbox_is_gone_when_debug_is_off(vault, settings):
    settings.DEBUG = False
    assert vault.get("/v1/dev/sms").status_code == 404


def test_dev_outbox_shows_masked_numbers_only(vault, settings):
    settings.DEBUG = True
    vault.post("/v1/enrolments", {"phone": "0612345678"})
    messages = vault.get("/v1/dev/sms").json()["messages"]
    assert messages[0]["to"] == "06 •• •• •• 78"
    assert "12345678" not in json.dumps(messages)


def _signed_health(vault, *, offset: int, nonce: str):
    """GET /v1/health signed with a timestamp `offset` seconds from now."""
    timestamp = str(int(time.time()) + offset)
    sig = signing.signature(
        vault.key,
        client="portal",
        method="GET",
        path="/v1/health",
        timestamp=timestamp,
        nonce=nonce,
        body=b"",
    )
    headers = {
        signing.HEADER_CLIENT: "portal",
        signing.HEADER_TIMESTAMP: timestamp,
        signing.HEADER_NONCE: nonce,
        signing.HEADER_SIGNATURE: sig,
    }
    return Client().get("/v1/health", headers=headers)


@pytest.mark.parametrize(("offset", "status"), [(-58, 200), (58, 200), (-62, 401), (62, 401)])
def test_a_timestamp_may_differ_a_minute_from_the_vault_s_clock(vault, offset, status):
    """policies.REQUEST_MAX_SKEW: 60 seconds either way (a second's margin for the test)."""
    response = _signed_health(vault, offset=offset, nonce=f"{offset + 100:032d}")
    assert response.status_code == status
    if status == 401:
        assert response.json()["error"] == "stale_request"


def test_nonces_are_remembered_two_minutes(vault):
    """policies.NONCE_RETENTION: twice the skew, so a request replayed within its window is
    always recognised; the purge forgets older ones."""
    from django.core.management import call_command
    from django.utils import timezone

    from zorgsleutel.vault.models import UsedNonce

    now = timezone.now()
    for nonce, age in (("kept", 115), ("gone", 125)):
        UsedNonce.objects.create(client="portal", nonce=nonce, seen_at=now - timedelta(seconds=age))
    call_command("purge", stdout=io.StringIO())
    assert list(UsedNonce.objects.values_list("nonce", flat=True)) == ["kept"]


def test_the_development_outbox_shows_the_newest_200_texts(vault, settings):
    """policies.DEV_OUTBOX_LIMIT (DEBUG only): a long-running development vault answers fast."""
    from django.utils import timezone

    from zorgsleutel.vault.models import DevSms

    settings.DEBUG = True
    start = timezone.now() - timedelta(hours=1)
    DevSms.objects.bulk_create(
        DevSms(hint="06 •• •• •• 01", body=f"sms {n}", sent_at=start + timedelta(seconds=n))
        for n in range(201)
    )
    messages = vault.get("/v1/dev/sms").json()["messages"]
    assert len(messages) == 200
    assert (messages[0]["body"], messages[-1]["body"]) == ("sms 200", "sms 1")
