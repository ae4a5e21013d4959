"""The card pages show the QR code on request: the login page carries no QR code of its own,
only a link to one, which answers the browser session that started the challenge alone."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from smartcardwork import issue_card, page_code, present
from zorgsleutel.core import clock

LOGIN = "/inloggen/smartcard"

pytestmark = pytest.mark.django_db(transaction=True)


def qr_link(response) -> str:
    found = re.search(
        r'<details class="qr-later"><summary>[^<]+</summary><img data-src="([^"]+)"',
        response.content.decode(),
    )
    return found.group(1)


def test_the_login_page_makes_no_qr_code_until_asked(client, portal_ca):
    page = client.get(LOGIN)
    assert page.status_code == 200
    assert "<svg" not in page.content.decode()
    link = qr_link(page)
    assert re.fullmatch(r"/inloggen/smartcard/qr/card_[A-Za-z0-9_-]{22}\.svg", link)
    assert "QR-code tonen" in page.content.decode()


def test_the_qr_code_answers_the_browser_that_started_the_challenge(client, portal_ca):
    link = qr_link(client.get(LOGIN))
    image = client.get(link)
    assert image.status_code == 200
    assert image["Content-Type"] == "image/svg+xml"
    assert image.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>\n<svg xmlns=')
    assert b'width="225" height="225"' in image.content


def test_one_address_gets_60_qr_codes_a_minute(client, portal_ca):
    start = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)  # the start of a minute
    with clock.frozen(start):
        link = qr_link(client.get(LOGIN))
        for _ in range(60):
            assert client.get(link).status_code == 200
        refused = client.get(link)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == 60
    with clock.frozen(start + timedelta(minutes=1)):
        assert client.get(link).status_code == 200


def test_another_browser_gets_no_qr_code(client, portal_ca):
    link = qr_link(client.get(LOGIN))
    other = Client()
    other.get(LOGIN)  # a session of its own
    assert other.get(link).status_code == 404
    assert Client().get(link).status_code == 404  # no session at all


def test_no_qr_code_once_the_challenge_is_answered_or_expired(client, portal_ca, care):
    page = client.get(LOGIN)
    link, shown = qr_link(page), page_code(page)
    key, certificate, _card = issue_card(care)
    assert present(shown["code"], key, certificate).status_code == 200
    assert client.get(link).status_code == 404
    later = qr_link(client.get(LOGIN))
    with clock.frozen(clock.now() + timedelta(minutes=6)):
        assert client.get(later).status_code == 404
