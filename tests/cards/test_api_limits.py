"""The card API's rate limits (cards/api.py, policies.RATE_LIMITS "card.request": "60/m/ip" and
"card.answer": "5/m/challenge"): requests per client address, answers per challenge.

Fixed windows of a minute, counted on the frozen clock: each test starts at a minute's first
second and moves the clock to the next minute to show that a refusal lasts that minute only.
The challenges are real (an approved applicant opens the validation page, seed 003) and so is
the card that answers (a certificate of a test UZI hierarchy and its private key).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from django.core.cache import cache
from django.test import Client

from applicants import approved_application, card, open_page
from zorgsleutel import cardprotocol
from zorgsleutel.core import clock
from zorgsleutel.organisations.models import Application
from zorgsleutel.uzi import testca

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("trust")]

API = "/api/card/v1/challenges"
JUNK = {"certificates": ["not a certificate"], "signature": "AA", "algorithm": "rsa-pkcs1-sha256"}
RATE_LIMITED = {
    "error": "rate_limited",
    "message": "Te veel verzoeken. Probeer het over 60 seconden opnieuw.",
    "retry_after": 60,
}


@pytest.fixture(autouse=True)
def minute():
    """The clock frozen at the first second of a minute; the counters start empty."""
    cache.clear()
    with clock.frozen(datetime.now(UTC).replace(second=0, microsecond=0)):
        yield
    cache.clear()


@pytest.fixture
def validation_path(db):
    _application, url = approved_application()
    return "/" + url.split("/", 3)[3]


def signed_answer(info: dict, hierarchy, key) -> dict:
    """The applicant's card over this challenge: its certificate and its signature."""
    certificate = card(hierarchy, key)
    message = cardprotocol.message(
        challenge_id=info["id"], challenge=cardprotocol.unb64(info["challenge"]), host=info["host"]
    )
    signature = key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return {
        "certificates": [testca.pem(certificate)],
        "signature": cardprotocol.b64(signature),
        "algorithm": "rsa-pkcs1-sha256",
    }


def answer(card_client: Client, challenge_id: str, body: dict):
    return card_client.post(f"{API}/{challenge_id}/answer", body, content_type="application/json")


def test_one_address_gets_60_requests_a_minute(validation_path):
    page = open_page(Client(), validation_path)
    card_client = Client(REMOTE_ADDR="192.0.2.10")
    reads = [card_client.get(f"{API}/{page['code']}") for _ in range(61)]
    assert [read.status_code for read in reads] == [200] * 60 + [429]
    assert reads[-1].json() == RATE_LIMITED
    assert reads[-1]["Retry-After"] == "60"
    # Answers count against the same budget: refused before the card is looked at.
    info = reads[0].json()
    assert answer(card_client, info["id"], JUNK).status_code == 429
    # Another address is not slowed.
    other = Client(REMOTE_ADDR="192.0.2.11")
    assert other.get(f"{API}/{page['code']}").status_code == 200
    assert answer(other, info["id"], JUNK).json()["error"] == "malformed"
    # The next minute the first address may ask again.
    clock.advance(timedelta(minutes=1))
    assert card_client.get(f"{API}/{page['code']}").status_code == 200


def test_an_ipv6_client_is_counted_by_its_64_network(validation_path):
    """policies.IPV6_LIMIT_PREFIX = 64: walking the addresses of one's own /64 gives no budget."""
    page = open_page(Client(), validation_path)
    reads = [
        Client(REMOTE_ADDR=f"2001:db8:1:2::{n:x}").get(f"{API}/{page['code']}").status_code
        for n in range(1, 62)
    ]
    assert reads == [200] * 60 + [429]
    assert Client(REMOTE_ADDR="2001:db8:1:3::1").get(f"{API}/{page['code']}").status_code == 200


def test_a_challenge_takes_5_answers_a_minute_from_all_addresses_together(
    validation_path, hierarchy, card_key
):
    browser = Client()
    page = open_page(browser, validation_path)
    owner = Client(REMOTE_ADDR="192.0.2.20")
    info = owner.get(f"{API}/{page['code']}").json()
    # Unreadable answers leave the challenge open; from six addresses, each well within its
    # own budget, the sixth is refused: the limit is the challenge's.
    answers = [answer(Client(REMOTE_ADDR=f"192.0.2.{30 + n}"), info["id"], JUNK) for n in range(6)]
    assert [(a.status_code, a.json()["error"]) for a in answers] == [(400, "malformed")] * 5 + [
        (429, "rate_limited")
    ]
    assert answers[-1].json() == RATE_LIMITED
    # That minute the owner's right answer is refused too, and changes nothing.
    assert answer(owner, info["id"], signed_answer(info, hierarchy, card_key)).json() == (
        RATE_LIMITED
    )
    assert browser.get(page["status"]).json()["status"] == "waiting"
    # Another challenge is not slowed.
    other = owner.get(f"{API}/{open_page(Client(), validation_path)['code']}").json()
    assert answer(owner, other["id"], JUNK).json()["error"] == "malformed"
    # The next minute the owner's card answers the first challenge and validates.
    clock.advance(timedelta(minutes=1))
    accepted = answer(owner, info["id"], signed_answer(info, hierarchy, card_key))
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert browser.get(page["status"]).json()["status"] == "ok"
    assert Application.objects.get().state == Application.VALIDATED


def test_the_tls_path_keeps_the_same_limits(validation_path, settings):
    """nginx's TLS path presents a card too (cards/views.py): its POSTs count as answers, 5 a
    minute per challenge whoever sends them; its pages count against the address's budget of
    the card API (60 a minute)."""
    settings.UZI_TRUSTED_PROXIES = ["127.0.0.1"]
    page = open_page(Client(), validation_path)
    challenge_id = page["status"].rsplit("/", 1)[-1]
    proxied = Client(REMOTE_ADDR="127.0.0.1")
    answers = [proxied.post(f"/uzi/tls/{challenge_id}", {"next": "/"}) for _ in range(6)]
    assert [a.status_code for a in answers] == [400] * 5 + [429]  # no certificate sent, then
    assert answers[-1]["Retry-After"] == "60"
    assert (
        "Te veel verzoeken. Probeer het over 60 seconden opnieuw." in answers[-1].content.decode()
    )
    # Showing the page is no answer: still allowed, for the address's budget.
    assert proxied.get(f"/uzi/tls/{challenge_id}").status_code == 200
    with clock.frozen(clock.now() + timedelta(minutes=1)):
        assert proxied.post(f"/uzi/tls/{challenge_id}", {"next": "/"}).status_code == 400
    pages = [proxied.get(f"/uzi/tls/{challenge_id}").status_code for _ in range(54)]
    assert pages == [200] * 53 + [429]  # 7 requests above, then the 61st of the minute
