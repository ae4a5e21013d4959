"""The smartcard CA's OCSP answers through the shipped nginx: GET answers (RFC 5019, no nonce)
are kept by nginx for a few seconds and then revalidated with the responder; POSTed answers (with
a nonce) are never kept. A block shows through the cache once its seconds are over, and at once
to a request with a nonce."""

from __future__ import annotations

import base64
import time
import urllib.parse
from datetime import UTC, datetime

import pytest
from cryptography.x509 import ReasonFlags, ocsp
from django.db import transaction

from smartcard_fixtures import _portal_ca_files, portal_ca  # noqa: F401
from smartcards.publishing import card, request, status_app_server
from uzi.softhsm_fixtures import softhsm, uzi_test_ca  # noqa: F401
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.smartcards import publication
from zorgsleutel.smartcards.models import Smartcard

pytestmark = [pytest.mark.django_db(transaction=True)]

CACHE_SECONDS = 5  # proxy_cache_valid 200 5s in deploy/nginx/zorgsleutel.conf


@pytest.fixture
def proxy(nginx_proxy, portal_ca):  # noqa: F811
    with status_app_server() as responder:
        yield nginx_proxy(responder, status=responder)


def _get(proxy, der: bytes):
    encoded = urllib.parse.quote(base64.b64encode(der).decode(), safe="")
    return proxy.request(f"{proxy.portal_url}/smartcards/ocsp/{encoded}")


def _post(proxy, der: bytes):
    return proxy.request(
        f"{proxy.portal_url}/smartcards/ocsp",
        method="POST",
        body=der,
        headers={"Content-Type": "application/ocsp-request"},
    )


def _status(response) -> tuple:
    answer = ocsp.load_der_ocsp_response(response.body)
    return response.status, answer.certificate_status, answer.revocation_reason


def _block(row: Smartcard) -> None:
    with transaction.atomic():
        row.state = Smartcard.BLOCKED
        row.state_changed_at = datetime.now(UTC).replace(microsecond=0)
        row.save()
        publication.card_changed(row)


def test_get_answers_are_kept_seconds_and_a_block_shows_after_them(proxy, portal_ca):  # noqa: F811
    organisation = Organisation.objects.create(
        name="Zorggroep Cache", kind=Organisation.CARE_PROVIDER, ura="90000333"
    )
    row, issued = card(organisation)
    issuer = portal_ca["certificates"]["issuing"]
    without_nonce = request(issued, issuer, nonce=None)

    first, second = _get(proxy, without_nonce), _get(proxy, without_nonce)
    assert [r.headers.get("x-cache-status") for r in (first, second)] == ["MISS", "HIT"]
    assert second.body == first.body
    assert _status(second) == (200, ocsp.OCSPCertStatus.GOOD, None)

    posted = [_post(proxy, request(issued, issuer, nonce=n)) for n in (b"first nonce 0001", b"x")]
    assert [r.headers.get("x-cache-status") for r in posted] == [None, None]  # never kept
    assert posted[0].body != posted[1].body

    blocked_at = time.monotonic()
    _block(row)
    held = (200, ocsp.OCSPCertStatus.REVOKED, ReasonFlags.certificate_hold)
    assert _status(_post(proxy, request(issued, issuer, nonce=b"after the block1"))) == held
    kept = _get(proxy, without_nonce)
    if time.monotonic() - blocked_at < CACHE_SECONDS - 1:  # the trade-off, pinned
        assert (kept.headers.get("x-cache-status"), kept.body) == ("HIT", first.body)
    # nginx counts in whole seconds: an entry is stale once the clock's second is past its last.
    time.sleep(max(CACHE_SECONDS + 1.1 - (time.monotonic() - blocked_at), 0))
    fresh = _get(proxy, without_nonce)
    assert (fresh.headers.get("x-cache-status"), _status(fresh)) == ("EXPIRED", held)
    again = _get(proxy, without_nonce)
    assert (again.headers.get("x-cache-status"), again.body) == ("HIT", fresh.body)
