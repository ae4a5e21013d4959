"""A code its owner typed in no longer counts towards the hourly caps; unanswered codes do.

Only the person who has the phone can type its code, so their own logins never use up the caps
that stop an attacker's unanswered codes (docs/vault.md, "Hourly caps")."""

from __future__ import annotations

from django.db import connection

from zorgsleutel.vault import hotpath
from zorgsleutel.vault.gateways.base import GatewayError, SmsGateway
from zorgsleutel.vault.models import DevSms, SmsSend


class DownGateway(SmsGateway):
    def send(self, message) -> str:
        raise GatewayError("down for the test")


def _login_code(vault, enrolment: str):
    return vault.post(f"/v1/enrolments/{enrolment}/challenge", {})


def _verify(vault, challenge: str, code: str) -> str:
    return vault.post(f"/v1/challenges/{challenge}/verify", {"code": code}).json()["result"]


def _statuses() -> list[str]:
    return list(SmsSend.objects.order_by("pk").values_list("status", flat=True))


def test_twenty_logins_in_an_hour_each_get_their_code(vault, confirmed, last_code):
    enrolment = confirmed("0612345678")["enrolment"]
    results = []
    for _ in range(20):  # a verified code ends the resend wait: no waiting between logins
        sent = _login_code(vault, enrolment)
        assert sent.status_code == 201, sent.json()
        results.append(_verify(vault, sent.json()["challenge"], last_code()))
    assert results == ["ok"] * 20
    assert DevSms.objects.count() == 21
    assert _statuses() == ["answered"] * 21


def test_unanswered_codes_still_count_after_answered_ones(vault, confirmed, clock, last_code):
    enrolment = confirmed("0612345678")["enrolment"]
    for _ in range(3):
        sent = _login_code(vault, enrolment).json()
        assert _verify(vault, sent["challenge"], last_code()) == "ok"
    answers = []
    for _ in range(6):
        clock.advance(seconds=31)
        answers.append(_login_code(vault, enrolment))
    assert [a.status_code for a in answers] == [201] * 5 + [429]
    assert answers[-1].json()["error"] == "sms_cap_enrolment"
    assert _statuses() == ["answered"] * 4 + ["sent"] * 5


def test_only_the_send_of_the_typed_code_is_given_back(vault, confirmed, clock, last_code):
    """A resend on the open challenge replaces its code: the replaced send stays counted."""
    enrolment = confirmed("0612345678")["enrolment"]
    clock.advance(seconds=31)
    first = _login_code(vault, enrolment).json()
    clock.advance(seconds=31)
    again = _login_code(vault, enrolment).json()
    assert again["challenge"] == first["challenge"]
    assert _verify(vault, first["challenge"], last_code()) == "ok"
    assert _statuses() == ["answered", "sent", "answered"]


def test_a_verified_code_is_given_back_once(vault, confirmed, clock, last_code):
    enrolment = confirmed("0612345678")["enrolment"]
    clock.advance(seconds=31)
    sent = _login_code(vault, enrolment).json()
    clock.advance(seconds=31)
    _login_code(vault, enrolment)  # the same challenge, a new code (the first stays counted)
    code = last_code()
    assert _verify(vault, sent["challenge"], code) == "ok"
    assert _verify(vault, sent["challenge"], code) == "expired"  # used: nothing more back
    with connection.cursor() as cursor:  # had verify run twice, it would find nothing to give
        again = hotpath.answer_send(cursor, enrolment_id=enrolment, challenge_id=sent["challenge"])
    assert again is False
    assert _statuses() == ["answered", "sent", "answered"]


def test_after_a_failed_resend_the_code_in_force_is_given_back(
    vault, confirmed, clock, last_code, sms_gateways
):
    enrolment = confirmed("0612345678")["enrolment"]
    clock.advance(seconds=31)
    sent = _login_code(vault, enrolment).json()
    code = last_code()
    clock.advance(seconds=31)
    sms_gateways({"down": {"BACKEND": f"{__name__}.DownGateway"}})
    assert _login_code(vault, enrolment).status_code == 503  # the previous code is back
    assert _verify(vault, sent["challenge"], code) == "ok"
    assert _statuses() == ["answered", "answered", "failed"]


def test_a_wrong_code_gives_nothing_back(vault, confirmed, clock, last_code):
    enrolment = confirmed("0612345678")["enrolment"]
    clock.advance(seconds=31)
    sent = _login_code(vault, enrolment).json()
    wrong = f"{(int(last_code()) + 1) % 1_000_000:06d}"
    assert _verify(vault, sent["challenge"], wrong) == "wrong"
    assert _statuses() == ["answered", "sent"]


def test_an_answered_activation_code_leaves_the_number_its_unconfirmed_cap(vault, last_code):
    """The owner re-enrols their number (a password reset) and types the code: an attacker still
    gets three unanswered codes to it an hour, no more, and the owner's cost them nothing."""
    owner = vault.post("/v1/enrolments", {"phone": "0612345678"}).json()
    assert _verify(vault, owner["challenge"], last_code()) == "ok"
    attempts = [vault.post("/v1/enrolments", {"phone": "06 1234 5678"}) for _ in range(4)]
    assert [a.status_code for a in attempts] == [201, 201, 201, 429]
    assert attempts[-1].json()["error"] == "sms_cap_unconfirmed"
