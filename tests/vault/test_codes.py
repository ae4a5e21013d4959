"""SMS codes: six digits, keyed hash, five minutes, five attempts, resend after 30 s.

The hourly caps and the resend wait across challenges: test_sms_abuse.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from zorgsleutel.vault import crypto
from zorgsleutel.vault.models import Challenge, DevSms, Enrolment, VaultEvent


@pytest.fixture
def enrolled(vault):
    return vault.post("/v1/enrolments", {"phone": "0612345678", "locale": "nl"}).json()


def verify(vault, challenge: str, code: str):
    return vault.post(f"/v1/challenges/{challenge}/verify", {"code": code})


def test_the_sms_holds_a_six_digit_code_that_is_stored_only_as_a_keyed_hash(enrolled, last_code):
    code = last_code()
    assert len(code) == 6 and code.isdigit()
    challenge = Challenge.objects.get(pk=enrolled["challenge"])
    assert code not in challenge.code_hash
    assert challenge.code_hash == crypto.code_hash(challenge.id, code)
    assert "5 minuten" in DevSms.objects.get().body


def test_the_right_code_confirms_the_enrolment_once(vault, enrolled, last_code):
    code = last_code()
    first = verify(vault, enrolled["challenge"], code)
    assert first.status_code == 200
    assert first.json() == {"result": "ok", "attempts_left": 5, "enrolment": enrolled["enrolment"]}
    assert Enrolment.objects.get().status == Enrolment.CONFIRMED
    again = verify(vault, enrolled["challenge"], code).json()
    assert again["result"] == "expired"  # a used challenge never says ok twice


def test_a_wrong_code_counts_down_and_then_blocks(vault, enrolled, last_code):
    code = last_code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    answers = [verify(vault, enrolled["challenge"], wrong).json() for _ in range(5)]
    assert [a["result"] for a in answers] == ["wrong"] * 4 + ["blocked"]
    assert [a["attempts_left"] for a in answers] == [4, 3, 2, 1, 0]
    # Once blocked, even the right code is refused.
    assert verify(vault, enrolled["challenge"], code).json()["result"] == "blocked"
    assert Enrolment.objects.get().status == Enrolment.PENDING
    assert VaultEvent.objects.filter(action="verify", outcome="blocked").count() == 2


def test_an_expired_code_is_refused(vault, enrolled, last_code):
    Challenge.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    answer = verify(vault, enrolled["challenge"], last_code()).json()
    assert answer["result"] == "expired"
    assert Enrolment.objects.get().status == Enrolment.PENDING


def test_codes_live_five_minutes(enrolled):
    challenge = Challenge.objects.get()
    assert challenge.expires_at - challenge.last_sent_at == timedelta(minutes=5)


def test_resend_waits_30_seconds_then_sends_a_new_code_on_the_same_challenge(
    vault, enrolled, last_code
):
    old_code = last_code()
    too_soon = vault.post(f"/v1/enrolments/{enrolled['enrolment']}/challenge", {})
    assert too_soon.status_code == 429
    assert too_soon.json()["error"] == "resend_too_soon"
    assert 1 <= int(too_soon["Retry-After"]) <= 30
    Challenge.objects.update(last_sent_at=timezone.now() - timedelta(seconds=31))
    resent = vault.post(f"/v1/enrolments/{enrolled['enrolment']}/challenge", {})
    assert resent.status_code == 201
    assert resent.json()["challenge"] == enrolled["challenge"]
    new_code = last_code()
    assert DevSms.objects.count() == 2
    if new_code != old_code:
        assert verify(vault, enrolled["challenge"], old_code).json()["result"] == "wrong"
    assert verify(vault, enrolled["challenge"], new_code).json()["result"] == "ok"


def test_a_new_challenge_after_the_old_one_is_used(vault, enrolled, last_code):
    verify(vault, enrolled["challenge"], last_code())
    fresh = vault.post(f"/v1/enrolments/{enrolled['enrolment']}/challenge", {})
    assert fresh.status_code == 201
    assert fresh.json()["challenge"] != enrolled["challenge"]
    assert verify(vault, fresh.json()["challenge"], last_code()).json()["result"] == "ok"


def test_the_english_sms(vault):
    vault.post("/v1/enrolments", {"phone": "0612345678", "locale": "en"})
    assert DevSms.objects.get().body.startswith("Your SMS code for Zorgsleutel is ")


def test_purge_removes_unconfirmed_enrolments_after_a_day(vault, enrolled):
    from django.core.management import call_command

    call_command("purge")
    assert Enrolment.objects.count() == 1
    Enrolment.objects.update(created_at=timezone.now() - timedelta(hours=23, minutes=59))
    call_command("purge")
    assert Enrolment.objects.count() == 1
    Enrolment.objects.update(created_at=timezone.now() - timedelta(hours=24, minutes=1))
    call_command("purge")
    assert not Enrolment.objects.exists()
