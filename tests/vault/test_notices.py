"""Notices: a fixed text to a confirmed number (before the portal erases an old enrolment)."""

from __future__ import annotations

import json

import pytest

from zorgsleutel.vault import policies
from zorgsleutel.vault.models import DevSms, SmsSend, VaultEvent

NOTICE_NL = (
    "Zorgsleutel: uw wachtwoord en mobiele telefoonnummer zijn gewijzigd. Was u dit niet? "
    "Gebruik de "
    "link 'Dit was ik niet' in de e-mail die wij u stuurden, of neem contact op met uw beheerder."
)
NOTICE_EN = (
    "Zorgsleutel: your password and mobile number have been changed. Was this not you? Use the "
    "link 'This was not me' in the e-mail we sent you, or contact your manager."
)


def _notify(vault, enrolment: str, payload=None):
    body = payload if payload is not None else {"kind": "credentials_changed", "locale": "nl"}
    return vault.post(f"/v1/enrolments/{enrolment}/notices", body)


def test_a_notice_goes_to_the_confirmed_number_with_the_fixed_text(vault, confirmed, settings):
    enrolment = confirmed("0612345678")["enrolment"]
    response = _notify(vault, enrolment)
    assert response.status_code == 201
    assert response.json() == {
        "enrolment": enrolment,
        "notice": "credentials_changed",
        "hint": "06 •• •• •• 78",
    }
    assert "12345678" not in response.content.decode()
    sms = DevSms.objects.order_by("-pk").first()
    assert (sms.hint, sms.body) == ("06 •• •• •• 78", NOTICE_NL)
    send = SmsSend.objects.order_by("-pk").first()
    assert (send.kind, send.enrolment_status, send.challenge_ref, send.gateway) == (
        "notice",
        "confirmed",
        "",
        "dev",
    )
    event = VaultEvent.objects.get(action="notice")
    assert (event.enrolment_ref, event.outcome, event.detail) == (
        enrolment,
        "success",
        "credentials_changed",
    )
    settings.DEBUG = True
    outbox = vault.get("/v1/dev/sms").json()["messages"]
    assert (outbox[0]["to"], outbox[0]["body"]) == ("06 •• •• •• 78", NOTICE_NL)
    assert "12345678" not in json.dumps(outbox)


def test_the_english_notice(vault, confirmed):
    enrolment = confirmed("0612345678")["enrolment"]
    sent = _notify(vault, enrolment, {"kind": "credentials_changed", "locale": "en"})
    assert sent.status_code == 201
    assert DevSms.objects.order_by("-pk").first().body == NOTICE_EN


def test_the_allowed_kinds(vault):
    assert policies.NOTICE_KINDS == ("credentials_changed", "authenticator_linked")


def test_the_notice_of_a_linked_app(vault, confirmed):
    enrolment = confirmed("0612345679")["enrolment"]
    sent = _notify(vault, enrolment, {"kind": "authenticator_linked", "locale": "nl"})
    assert sent.status_code == 201
    assert DevSms.objects.order_by("-pk").first().body == (
        "Zorgsleutel: er is een app aan uw account gekoppeld. Was u dit niet? Gebruik de link "
        "'Dit was ik niet' in de e-mail die wij u stuurden, of neem contact op met uw beheerder."
    )


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"kind": "anything", "locale": "nl"}, "unknown_notice_kind"),
        ({"kind": "Credentials_changed"}, "unknown_notice_kind"),
        ({"kind": "credentials_changed", "text": "Bel 0900-1234 voor uw pincode"}, "unknown_field"),
        ({"kind": "credentials_changed", "locale": "de"}, "invalid_field"),
        ({"kind": ""}, "invalid_field"),
        ({}, "invalid_field"),
    ],
)
def test_unknown_kinds_and_free_text_are_refused(vault, confirmed, payload, code):
    enrolment = confirmed("0612345678")["enrolment"]
    response = _notify(vault, enrolment, payload)
    assert response.status_code == 400 and response.json()["error"] == code
    assert DevSms.objects.count() == 1  # only the activation code
    assert not VaultEvent.objects.filter(action="notice").exists()


def test_only_confirmed_enrolments_get_notices(vault, make_client, settings):
    pending = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()["enrolment"]
    refused = _notify(vault, pending)
    assert refused.status_code == 409 and refused.json()["error"] == "enrolment_not_confirmed"
    assert _notify(vault, "enr_nope").json()["error"] == "unknown_enrolment"
    assert DevSms.objects.count() == 1


def test_another_clients_enrolment_is_unknown(vault, confirmed, make_client, settings):
    enrolment = confirmed("0612345678")["enrolment"]
    settings.VAULT_CLIENT_KEYS = {**settings.VAULT_CLIENT_KEYS, "other": b"o" * 32}
    other = make_client("other", b"o" * 32)
    response = _notify(other, enrolment)
    assert response.status_code == 404 and response.json()["error"] == "unknown_enrolment"
    assert DevSms.objects.count() == 1


def test_notices_count_towards_the_enrolments_cap(vault, confirmed, clock):
    enrolment = confirmed("0612345678")["enrolment"]  # its activation code was typed: free
    answers = [_notify(vault, enrolment) for _ in range(6)]
    assert [a.status_code for a in answers] == [201] * 5 + [429]
    assert answers[-1].json()["error"] == "sms_cap_enrolment"
    clock.advance(seconds=31)
    login = vault.post(f"/v1/enrolments/{enrolment}/challenge", {})
    assert login.status_code == 429 and login.json()["error"] == "sms_cap_enrolment"


def test_a_notice_neither_waits_for_nor_starts_the_resend_wait(vault, confirmed, clock):
    enrolment = confirmed("0612345678")["enrolment"]
    clock.advance(seconds=31)
    assert vault.post(f"/v1/enrolments/{enrolment}/challenge", {}).status_code == 201
    assert _notify(vault, enrolment).status_code == 201  # right after a code
    clock.advance(seconds=31)
    assert _notify(vault, enrolment).status_code == 201
    assert vault.post(f"/v1/enrolments/{enrolment}/challenge", {}).status_code == 201


def test_a_notice_no_gateway_takes_is_503_and_recorded(vault, confirmed, sms_gateways):
    enrolment = confirmed("0612345678")["enrolment"]
    sms_gateways(
        {"down": {"BACKEND": "zorgsleutel.vault.gateways.dev.FailingGateway", "OPTIONS": {}}}
    )
    response = _notify(vault, enrolment)
    assert response.status_code == 503 and response.json()["error"] == "sms_unavailable"
    assert SmsSend.objects.get(kind="notice").status == "failed"
    failure = VaultEvent.objects.get(action="sms.send")
    assert (failure.enrolment_ref, failure.outcome, failure.detail) == (
        enrolment,
        "failure",
        "down: gateway is down",
    )
