"""Sending a code: prepared in the request's transaction, handed to the gateway after it commits.

The send path is written out in SQL (vault/hotpath.py, docs/benchmarks.md); these tests pin what
that must keep: refusals keep their nonce, a send counts towards the caps before the gateway is
asked, a failed resend gives the previous code back, and how few statements a send takes.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zorgsleutel.vault import crypto
from zorgsleutel.vault.gateways.base import GatewayError, SmsGateway
from zorgsleutel.vault.models import Challenge, DevSms, SmsSend, VaultEvent

SEEN_AT_SEND: list[tuple[int, int]] = []


class CountingGateway(SmsGateway):
    """Notes what the caps see while the message is being sent, then accepts it."""

    def send(self, message) -> str:
        sent = SmsSend.objects.filter(status=SmsSend.SENT)
        SEEN_AT_SEND.append((sent.count(), Challenge.objects.count()))
        return "counted"


class DownGateway(SmsGateway):
    def send(self, message) -> str:
        raise GatewayError("down for the test")


@pytest.fixture
def enrolled(vault):
    return vault.post("/v1/enrolments", {"phone": "0612345678", "locale": "nl"}).json()


def _resend(vault, enrolled):
    return vault.post(f"/v1/enrolments/{enrolled['enrolment']}/challenge", {})


def _replay(vault, path):
    return Client().generic(
        "POST", path, data=b"{}", content_type="application/json", headers=vault.last_headers
    )


def test_a_refused_send_keeps_its_nonce(vault, enrolled):
    path = f"/v1/enrolments/{enrolled['enrolment']}/challenge"
    too_soon = vault.post(path, {})
    assert too_soon.status_code == 429
    Challenge.objects.update(last_sent_at=timezone.now() - timedelta(seconds=31))
    replay = _replay(vault, path)  # would send an SMS had the refusal dropped the nonce
    assert replay.status_code == 401 and replay.json()["error"] == "replayed"
    assert DevSms.objects.count() == 1


def test_an_unknown_enrolment_sends_nothing(vault):
    response = vault.post("/v1/enrolments/enr_nope/challenge", {})
    assert response.status_code == 404 and response.json()["error"] == "unknown_enrolment"
    assert not SmsSend.objects.exists() and not DevSms.objects.exists()


def test_a_send_counts_towards_the_caps_before_the_gateway_is_asked(vault, sms_gateways):
    sms_gateways({"count": {"BACKEND": f"{__name__}.CountingGateway"}})
    SEEN_AT_SEND.clear()
    assert vault.post("/v1/enrolments", {"phone": "0612345678"}).status_code == 201
    assert SEEN_AT_SEND == [(1, 1)]  # committed: a parallel send would already count it
    assert SmsSend.objects.get().gateway == "count"


def test_a_failed_resend_gives_the_previous_code_back(vault, enrolled, last_code, sms_gateways):
    code = last_code()
    before = Challenge.objects.values_list("code_hash", "last_sent_at", "expires_at").get()
    Challenge.objects.update(last_sent_at=before[1] - timedelta(seconds=31))
    before = Challenge.objects.values_list("code_hash", "last_sent_at", "expires_at").get()
    sms_gateways({"down": {"BACKEND": f"{__name__}.DownGateway"}})

    failed = _resend(vault, enrolled)

    assert failed.status_code == 503 and failed.json()["error"] == "sms_unavailable"
    assert Challenge.objects.values_list("code_hash", "last_sent_at", "expires_at").get() == before
    assert Challenge.objects.get().code_hash == crypto.code_hash(enrolled["challenge"], code)
    assert list(SmsSend.objects.order_by("pk").values_list("status", flat=True)) == [
        SmsSend.SENT,
        SmsSend.FAILED,
    ]
    event = VaultEvent.objects.get(action="sms.send")
    assert event.outcome == "failure" and "down for the test" in event.detail


def test_a_failed_first_send_on_a_new_challenge_removes_it(
    vault, enrolled, last_code, sms_gateways
):
    vault.post(f"/v1/challenges/{enrolled['challenge']}/verify", {"code": last_code()})
    sms_gateways({"down": {"BACKEND": f"{__name__}.DownGateway"}})
    assert _resend(vault, enrolled).status_code == 503
    assert list(Challenge.objects.values_list("id", flat=True)) == [enrolled["challenge"]]


def test_a_send_takes_two_short_write_transactions(vault, confirmed, clock):
    """The hot path's shape (not its speed): nonce, lookup, caps, challenge, send record and
    event in one transaction; the gateway's answer in a second one. Measured on a login's
    resend (a confirmed enrolment: pending ones also take a per-number lock on PostgreSQL)."""
    enrolment = confirmed()["enrolment"]
    clock.advance(seconds=31)
    assert _resend(vault, {"enrolment": enrolment}).status_code == 201
    clock.advance(seconds=31)
    with CaptureQueriesContext(connection) as queries:
        assert _resend(vault, {"enrolment": enrolment}).status_code == 201
    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    # The dev gateway's own outbox row is the one INSERT outside them.
    assert statements.count("INSERT") == 5  # nonce, send, event, dev outbox, delivery attempt
    assert statements.count("SELECT") == 2  # enrolment + open challenge, caps
    assert statements.count("UPDATE") == 2  # challenge, send's gateway
    assert len(statements) <= 13, statements


def test_the_dev_outbox_can_show_only_newer_messages(vault, settings):
    settings.DEBUG = True
    vault.post("/v1/enrolments", {"phone": "0612345678"})
    cut = timezone.now()
    vault.post("/v1/enrolments", {"phone": "0612345679"})
    since = cut.isoformat().replace("+", "%2B")
    messages = vault.get(f"/v1/dev/sms?since={since}").json()["messages"]
    assert [m["to"] for m in messages] == ["06 •• •• •• 79"]
    assert len(vault.get("/v1/dev/sms").json()["messages"]) == 2
    assert vault.get("/v1/dev/sms?since=yesterday").status_code == 400
