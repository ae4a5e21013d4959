"""Under parallel use a code is accepted once and wrong attempts are never lost."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import F

from zorgsleutel.vault.models import Challenge, DevSms, SmsSend

pytestmark = pytest.mark.django_db(transaction=True)


def _in_parallel(make_request, count: int) -> list[dict]:
    results: list[dict] = []
    barrier = threading.Barrier(count)

    def run() -> None:
        try:
            barrier.wait()
            results.append(make_request())
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_the_right_code_sent_eight_times_at_once_is_accepted_once(vault, make_client, last_code):
    sent = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    code = last_code()

    def verify() -> dict:
        client = make_client()
        return client.post(f"/v1/challenges/{sent['challenge']}/verify", {"code": code}).json()

    results = [r["result"] for r in _in_parallel(verify, 8)]
    assert sorted(results) == ["expired"] * 7 + ["ok"]
    assert list(SmsSend.objects.values_list("status", flat=True)) == ["answered"]  # given back once


def test_a_code_verified_while_a_new_one_is_sent_gives_back_one_send(vault, make_client, last_code):
    """Four verifications of the first code race four resends on its challenge (the resend
    wait is lifted for the test): whichever order they run in, every request is answered (on
    PostgreSQL verify and send lock the enrolment before the challenge: in the other order a
    verification that confirms the enrolment deadlocked with a resend), at most one send is
    answered, and only the one whose code was typed."""
    sent = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    code = last_code()
    Challenge.objects.update(last_sent_at=F("last_sent_at") - timedelta(seconds=31))

    def verify() -> dict:
        return make_client().post(f"/v1/challenges/{sent['challenge']}/verify", {"code": code})

    def resend() -> dict:
        return make_client().post(f"/v1/enrolments/{sent['enrolment']}/challenge", {})

    requests, taking = iter([verify, resend] * 4), threading.Lock()

    def one() -> dict:
        with taking:
            request = next(requests)
        return request().json()

    answers = _in_parallel(one, 8)
    assert len(answers) == 8
    assert {a.get("result") or a.get("error") or "sent" for a in answers} <= {
        "ok", "expired", "wrong", "sent", "resend_too_soon", "sms_cap_unconfirmed"
    }  # fmt: skip
    statuses = list(SmsSend.objects.order_by("pk").values_list("status", flat=True))
    assert statuses.count("answered") <= 1
    if statuses.count("answered"):
        assert statuses[0] == "answered"  # the first code's send, the only one that was typed


def test_parallel_wrong_codes_count_every_attempt(vault, make_client, last_code):
    sent = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    wrong = f"{(int(last_code()) + 1) % 1_000_000:06d}"

    def verify() -> dict:
        client = make_client()
        return client.post(f"/v1/challenges/{sent['challenge']}/verify", {"code": wrong}).json()

    results = [r["result"] for r in _in_parallel(verify, 8)]
    assert (results.count("wrong"), results.count("blocked")) == (4, 4)  # 5 attempts per code
    challenge = Challenge.objects.get()
    assert (challenge.attempts, challenge.status) == (5, "blocked")


def test_parallel_enrolments_of_one_number_stay_under_its_unconfirmed_cap(make_client):
    """Eight enrolments of one number at once: three codes go out (PostgreSQL serialises them
    with a per-number lock, SQLite serialises all writes)."""

    def enrol() -> dict:
        response = make_client().post("/v1/enrolments", {"phone": "0612345678"})
        return {"status": response.status_code, "error": response.json().get("error")}

    results = sorted((r["status"], r["error"]) for r in _in_parallel(enrol, 8))
    assert results == [(201, None)] * 3 + [(429, "sms_cap_unconfirmed")] * 5
    assert DevSms.objects.count() == 3
