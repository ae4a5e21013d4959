"""End to end: a real nginx (the shipped config) in front of a live Django server.

nginx connects upstream from 127.0.0.2 and only that address is trusted, so the same server also
shows what happens to a request that reaches it directly (from 127.0.0.1) with a forged header.
"""

from __future__ import annotations

import http.client
import subprocess
import urllib.parse

import pytest

from support import require_binary

pytestmark = pytest.mark.urls("proxy.urls")

PROXY_SOURCE = "127.0.0.2"


@pytest.fixture
def proxy(live_server, nginx_proxy, settings):
    settings.UZI_TRUSTED_PROXIES = [PROXY_SOURCE]
    settings.TRUSTED_PROXIES = [PROXY_SOURCE]
    return nginx_proxy(live_server.url, bind_address=PROXY_SOURCE)


def test_the_card_arrives_through_the_uzi_host(proxy):
    response = proxy.request(proxy.uzi_url + "/uzi/tls/ch-1", client=proxy.pki.card)
    assert response.status == 200
    seen = response.json()
    assert seen["certificate"]["sha256"] == proxy.pki.card.sha256
    assert "CN=Test Zorgverlener" in seen["certificate"]["subject"]
    assert seen["challenge_id"] == "ch-1"
    assert seen["remote_addr"] == PROXY_SOURCE
    assert seen["forwarded_proto"] == "https"
    assert seen["secure"] is True  # nginx is a trusted proxy: its X-Forwarded-Proto counts


def test_no_card_no_header(proxy):
    response = proxy.request(proxy.uzi_url + "/uzi/tls/ch-1")
    assert response.status == 200
    assert response.json()["certificate"] is None
    assert response.json()["header_present"] is False


@pytest.mark.parametrize("name", ["X-SSL-Client-Cert", "x-ssl-client-cert", "X_SSL_Client_Cert"])
def test_a_header_sent_by_the_client_never_passes_nginx(proxy, name):
    forged = {name: proxy.pki.stranger.escaped_pem}
    without_card = proxy.request(proxy.uzi_url + "/uzi/tls/ch-1", headers=forged)
    assert without_card.status == 200
    assert without_card.json()["header_present"] is False
    with_card = proxy.request(
        proxy.uzi_url + "/uzi/tls/ch-1", headers=forged, client=proxy.pki.card
    )
    assert with_card.json()["certificate"]["sha256"] == proxy.pki.card.sha256


def test_the_portal_host_clears_the_header_and_sends_the_uzi_path_on(proxy):
    forged = {"X-SSL-Client-Cert": proxy.pki.stranger.escaped_pem}
    elsewhere = proxy.request(proxy.portal_url + "/elsewhere/ch-1", headers=forged)
    assert elsewhere.status == 200
    assert elsewhere.json()["header_present"] is False
    uzi_path = proxy.request(proxy.portal_url + "/uzi/tls/ch-1?x=1", headers=forged)
    assert uzi_path.status == 307
    assert uzi_path.headers["location"] == proxy.uzi_url + "/uzi/tls/ch-1?x=1"


def test_the_uzi_host_proxies_nothing_else(proxy):
    response = proxy.request(proxy.uzi_url + "/elsewhere/ch-1", client=proxy.pki.card)
    assert response.status == 301
    assert response.headers["location"] == proxy.portal_url + "/elsewhere/ch-1"


def test_a_forged_header_straight_to_the_portal_is_refused(proxy, live_server, caplog):
    """From 127.0.0.1, not the proxy: refused with a code, also when X-Forwarded-For lies."""
    parts = urllib.parse.urlsplit(live_server.url)
    connection = http.client.HTTPConnection("127.0.0.1", parts.port, timeout=10)
    try:
        connection.request(
            "GET",
            "/uzi/tls/ch-1",
            headers={
                "X-SSL-Client-Cert": proxy.pki.card.escaped_pem,
                "X-Forwarded-For": PROXY_SOURCE,
                "X-Forwarded-Proto": "https",
            },
        )
        response = connection.getresponse()
        body = response.read()
    finally:
        connection.close()
    assert response.status == 403, body
    assert b'"error": "untrusted_proxy"' in body
    assert b'"secure": false' in body  # and its X-Forwarded-Proto was not believed either
    assert any(
        r.name == "zorgsleutel.security" and "127.0.0.1" in r.getMessage() for r in caplog.records
    )


def test_nginx_names_the_uzi_ca_as_acceptable_issuer(proxy):
    """optional_no_ca verifies nothing, but the CA list still goes to the browser as a hint."""
    openssl = require_binary("openssl")
    result = subprocess.run(
        [openssl, "s_client", "-connect", f"127.0.0.1:{proxy.uzi_port}"],
        input="",
        capture_output=True,
        text=True,
        timeout=10,
    )
    output = result.stdout + result.stderr
    assert "Acceptable client certificate CA names" in output, output
    assert "TEST UZI-register Zorgverlener CA" in output
