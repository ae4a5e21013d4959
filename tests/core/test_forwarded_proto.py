"""X-Forwarded-Proto counts only from our own proxy (settings.TRUSTED_PROXIES).

The attack: reach gunicorn directly (not through nginx) and claim `X-Forwarded-Proto: https`.
Django's SECURE_PROXY_SSL_HEADER believed that from anyone; now only the socket peers listed in
TRUSTED_PROXIES are believed, and from others the header is removed before any view sees it.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

pytestmark = [pytest.mark.urls("proxy.urls"), pytest.mark.django_db]


def _seen(peer: str, proto: str | None = "https") -> dict:
    headers = {} if proto is None else {"x-forwarded-proto": proto}
    response = Client(REMOTE_ADDR=peer).get(
        "/elsewhere/ch-1", headers={**headers, "host": "portal.example.nl"}
    )
    assert response.status_code == 200
    return response.json()


@pytest.fixture(autouse=True)
def portal_host(settings):
    settings.ALLOWED_HOSTS = ["portal.example.nl"]


def test_a_client_that_is_not_our_proxy_cannot_claim_https(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    seen = _seen("203.0.113.9")
    assert seen["secure"] is False
    assert seen["forwarded_proto"] is None  # removed: nothing later can read it
    assert seen["absolute_uri"] == "http://portal.example.nl/elsewhere/ch-1"


def test_our_proxy_is_believed(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1", "::1"]
    seen = _seen("127.0.0.1")
    assert seen["secure"] is True
    assert seen["absolute_uri"] == "https://portal.example.nl/elsewhere/ch-1"
    assert _seen("127.0.0.1", proto="http")["secure"] is False
    assert _seen("127.0.0.1", proto=None)["secure"] is False


@pytest.mark.parametrize(
    ("trusted", "peer", "secure"),
    [
        (["10.0.0.0/8"], "10.20.30.40", True),
        (["10.0.0.0/8"], "11.0.0.1", False),
        (["127.0.0.1"], "::ffff:127.0.0.1", True),  # a dual-stack listener's view of loopback
        (["2001:db8::/32"], "2001:db8::7", True),
        ([], "127.0.0.1", False),
        (["127.0.0.1"], "", False),  # a unix socket has no peer address: never trusted
    ],
)
def test_trusted_proxies_are_addresses_or_networks(settings, trusted, peer, secure):
    settings.TRUSTED_PROXIES = trusted
    assert _seen(peer)["secure"] is secure


@pytest.mark.parametrize("value", ["https, http", "HTTPS ", "ftp", ""])
def test_only_a_plain_scheme_from_the_proxy_counts(settings, value):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    expected = {"https, http": False, "HTTPS ": True, "ftp": False, "": False}[value]
    assert _seen("127.0.0.1", proto=value)["secure"] is expected


def test_without_a_tls_proxy_the_header_is_never_believed(settings):
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.BEHIND_TLS_PROXY = False
    seen = _seen("127.0.0.1")
    assert seen["secure"] is False and seen["forwarded_proto"] is None


def test_a_bad_entry_in_trusted_proxies_is_a_configuration_error(settings):
    settings.TRUSTED_PROXIES = ["nginx.internal"]
    refusal = r"^TRUSTED_PROXIES: 'nginx\.internal' is not an IP address or network\.$"
    with pytest.raises(ImproperlyConfigured, match=refusal):
        _seen("127.0.0.1")


def test_in_production_an_untrusted_https_claim_is_still_redirected(settings):
    """With SECURE_SSL_REDIRECT (DEBUG off) the claim no longer skips the redirect to https."""
    settings.TRUSTED_PROXIES = ["127.0.0.1"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 63072000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    forged = Client(REMOTE_ADDR="203.0.113.9").get(
        "/elsewhere/ch-1", headers={"x-forwarded-proto": "https", "host": "portal.example.nl"}
    )
    assert forged.status_code == 301
    assert forged["Location"] == "https://portal.example.nl/elsewhere/ch-1"
    assert "Strict-Transport-Security" not in forged.headers
    proxied = Client(REMOTE_ADDR="127.0.0.1").get(
        "/elsewhere/ch-1", headers={"x-forwarded-proto": "https", "host": "portal.example.nl"}
    )
    assert proxied.status_code == 200
    assert proxied["Strict-Transport-Security"] == "max-age=63072000; includeSubDomains"
