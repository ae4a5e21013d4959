"""SMS abuse: sends to unconfirmed numbers have their own cap, and the resend wait holds across
challenges. An attacker can enrol any number (the portal's activation form takes any) but never
confirm it without the code, so nothing they do may stop the number's owner from logging in."""

from __future__ import annotations

import pytest

from zorgsleutel.vault.models import Challenge, DevSms, Enrolment, SmsSend

FORMATS = ["06 1234 5678", "+31612345678", "0031612345678", "+31 6 12345678", "06-12345678"]


def _login_code(vault, enrolment: str):
    return vault.post(f"/v1/enrolments/{enrolment}/challenge", {})


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_enrol_attempts_for_a_number_never_lock_its_owner_out(vault, confirmed, clock, last_code):
    owner = confirmed("0612345678")
    attempts = [vault.post("/v1/enrolments", {"phone": FORMATS[n % 5]}) for n in range(20)]

    # The owner typed their activation code: it does not count. Three unanswered codes an hour.
    assert [a.status_code for a in attempts] == [201] * 3 + [429] * 17
    assert {a.json()["error"] for a in attempts[3:]} == {"sms_cap_unconfirmed"}
    assert attempts[3].json()["message"] == (
        "Too many SMS codes were sent to this number before it was confirmed. Try again in "
        "60 minutes."
    )
    assert DevSms.objects.count() == 4
    assert Enrolment.objects.filter(status=Enrolment.PENDING).count() == 3

    clock.advance(seconds=31)
    login = _login_code(vault, owner["enrolment"])
    assert login.status_code == 201, login.json()
    assert login.json()["hint"] == "06 •• •• •• 78"
    verdict = vault.post(
        f"/v1/challenges/{login.json()['challenge']}/verify", {"code": last_code()}
    )
    assert verdict.json()["result"] == "ok"


def test_the_unconfirmed_cap_counts_resends_of_pending_enrolments_too(vault, clock):
    first = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    clock.advance(seconds=31)
    assert _login_code(vault, first["enrolment"]).status_code == 201
    assert vault.post("/v1/enrolments", {"phone": "06 1234 5678"}).status_code == 201
    clock.advance(seconds=31)
    capped = _login_code(vault, first["enrolment"])
    assert capped.status_code == 429 and capped.json()["error"] == "sms_cap_unconfirmed"
    # Another number is not affected, and after the hour the number may be enrolled again.
    assert vault.post("/v1/enrolments", {"phone": "0612345679"}).status_code == 201
    clock.advance(minutes=60)
    assert vault.post("/v1/enrolments", {"phone": "0612345678"}).status_code == 201


def test_login_codes_are_capped_per_number_among_confirmed_enrolments_only(vault, confirmed, clock):
    """Three people (accounts) confirmed the same number: 10 codes an hour between them."""
    enrolments = [confirmed("0612345678")["enrolment"] for _ in range(3)]
    answers = []
    for enrolment in [enrolments[0]] * 4 + [enrolments[1]] * 4 + [enrolments[2]] * 3:
        clock.advance(seconds=31)
        answers.append(_login_code(vault, enrolment))
    assert [a.status_code for a in answers] == [201] * 10 + [429]
    assert answers[-1].json()["error"] == "sms_cap_number"
    assert SmsSend.objects.filter(enrolment_status="confirmed").count() == 10
    assert SmsSend.objects.filter(enrolment_status="pending").count() == 3


def test_a_confirmed_enrolment_keeps_its_own_cap(vault, confirmed, clock):
    """Codes nobody types (an attacker who has the password) count: the 6th of an hour is
    refused, with the wait until the oldest leaves the hour."""
    enrolment = confirmed("0612345678")["enrolment"]  # its activation code was typed: free
    answers = []
    for _ in range(6):
        clock.advance(seconds=31)
        answers.append(_login_code(vault, enrolment))
    assert [a.status_code for a in answers] == [201] * 5 + [429]
    refused = answers[-1]
    assert refused.json()["error"] == "sms_cap_enrolment"
    # The first unanswered code went out 155 s before: it leaves the hour in 3,445 s.
    assert 3440 <= refused.json()["retry_after"] <= 3445
    assert refused["Retry-After"] == str(refused.json()["retry_after"])
    assert refused.json()["message"] == (
        "Too many SMS codes were sent for your account. Try again in 58 minutes."
    )


def test_a_blocked_challenge_does_not_skip_the_resend_wait(vault, confirmed, clock, last_code):
    enrolment = confirmed("0612345678")["enrolment"]
    clock.advance(seconds=31)
    login = _login_code(vault, enrolment).json()
    wrong = _wrong(last_code())
    results = [
        vault.post(f"/v1/challenges/{login['challenge']}/verify", {"code": wrong}).json()["result"]
        for _ in range(5)
    ]
    assert results == ["wrong"] * 4 + ["blocked"]

    too_soon = _login_code(vault, enrolment)
    assert too_soon.status_code == 429
    assert too_soon.json()["error"] == "resend_too_soon"
    assert 20 <= too_soon.json()["retry_after"] <= 30
    assert too_soon["Retry-After"] == str(too_soon.json()["retry_after"])
    assert DevSms.objects.count() == 2

    clock.advance(seconds=31)
    fresh = _login_code(vault, enrolment)
    assert fresh.status_code == 201
    assert fresh.json()["challenge"] != login["challenge"]
    verdict = vault.post(
        f"/v1/challenges/{fresh.json()['challenge']}/verify", {"code": last_code()}
    )
    assert verdict.json()["result"] == "ok"


def test_a_pending_enrolment_waits_after_a_blocked_challenge_too(vault, clock, last_code):
    sent = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    for _ in range(5):
        vault.post(f"/v1/challenges/{sent['challenge']}/verify", {"code": _wrong(last_code())})
    assert Challenge.objects.get().status == Challenge.BLOCKED
    assert _login_code(vault, sent["enrolment"]).json()["error"] == "resend_too_soon"
    clock.advance(seconds=31)
    assert _login_code(vault, sent["enrolment"]).status_code == 201


def test_a_used_code_ends_the_wait(vault, confirmed):
    """The person who just typed the code may log in again at once: only a verified code ends
    the wait (an attacker cannot verify, and a blocked or still open challenge keeps it)."""
    enrolment = confirmed("0612345678")["enrolment"]
    again = _login_code(vault, enrolment)
    assert again.status_code == 201


@pytest.mark.parametrize("phone", FORMATS)
def test_every_way_of_writing_the_number_counts_as_the_same_number(vault, phone):
    for _ in range(3):
        assert vault.post("/v1/enrolments", {"phone": "0612345678"}).status_code == 201
    capped = vault.post("/v1/enrolments", {"phone": phone})
    assert capped.status_code == 429 and capped.json()["error"] == "sms_cap_unconfirmed"
