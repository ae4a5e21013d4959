"""clientcert: the header is believed from trusted proxies only, judged on the socket peer."""

from __future__ import annotations

import logging
import urllib.parse

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import RequestFactory

from zorgsleutel.core import clientcert


def request_from(address: str, header: str | None = None, **meta):
    if header is not None:
        meta["HTTP_X_SSL_CLIENT_CERT"] = header
    return RequestFactory().get("/uzi/tls/abc", REMOTE_ADDR=address, **meta)


@pytest.fixture
def trusted(settings):
    settings.UZI_TRUSTED_PROXIES = ["127.0.0.1"]
    settings.UZI_CLIENT_CERT_HEADER = "X-SSL-Client-Cert"
    return settings


def test_certificate_from_a_trusted_proxy(trusted, nginx_pki):
    card = nginx_pki.card
    certificate = clientcert.client_certificate(request_from("127.0.0.1", card.escaped_pem))
    assert certificate == card.certificate


def test_no_header_is_no_certificate(trusted, caplog):
    assert clientcert.client_certificate(request_from("127.0.0.1")) is None
    assert clientcert.client_certificate(request_from("203.0.113.9")) is None
    assert clientcert.client_certificate(request_from("127.0.0.1", "")) is None
    assert not [r for r in caplog.records if r.name == "zorgsleutel.security"]


def test_header_from_an_untrusted_address_is_refused_and_logged(trusted, nginx_pki, caplog):
    caplog.set_level(logging.WARNING, logger="zorgsleutel.security")
    with pytest.raises(clientcert.UntrustedProxy) as refused:
        clientcert.client_certificate(request_from("203.0.113.9", nginx_pki.stranger.escaped_pem))
    assert refused.value.code == "untrusted_proxy"
    assert refused.value.status == 403
    assert refused.value.peer == "203.0.113.9"
    assert isinstance(refused.value, clientcert.ClientCertificateError)
    [record] = [r for r in caplog.records if r.name == "zorgsleutel.security"]
    assert record.levelno == logging.WARNING
    assert "203.0.113.9" in record.getMessage()
    assert "Mallory" not in record.getMessage()  # the forged value itself is not logged


def test_forwarded_for_does_not_make_a_peer_trusted(trusted, nginx_pki):
    """Trust follows REMOTE_ADDR, the socket peer; X-Forwarded-For is written by the client."""
    forged = request_from(
        "203.0.113.9",
        nginx_pki.stranger.escaped_pem,
        HTTP_X_FORWARDED_FOR="127.0.0.1",
        HTTP_X_REAL_IP="127.0.0.1",
    )
    with pytest.raises(clientcert.UntrustedProxy) as refused:
        clientcert.client_certificate(forged)
    assert refused.value.code == "untrusted_proxy"
    proxied = request_from(
        "127.0.0.1", nginx_pki.card.escaped_pem, HTTP_X_FORWARDED_FOR="203.0.113.9"
    )
    assert clientcert.client_certificate(proxied) == nginx_pki.card.certificate


def test_nothing_is_trusted_by_default(settings, nginx_pki):
    settings.UZI_TRUSTED_PROXIES = []
    with pytest.raises(clientcert.UntrustedProxy) as refused:
        clientcert.client_certificate(request_from("127.0.0.1", nginx_pki.card.escaped_pem))
    assert refused.value.code == "untrusted_proxy"


@pytest.mark.parametrize(
    "value",
    [
        "garbage",
        urllib.parse.quote("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"),
        "%FF%FE",  # not UTF-8 once unescaped
        urllib.parse.quote("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"),
        "caf%C3%A9",
    ],
)
def test_malformed_header_from_a_trusted_proxy(trusted, value, caplog):
    caplog.set_level(logging.WARNING, logger="zorgsleutel.security")
    with pytest.raises(clientcert.MalformedCertificate) as malformed:
        clientcert.client_certificate(request_from("127.0.0.1", value))
    assert malformed.value.code == "malformed_certificate"
    assert malformed.value.status == 400
    assert malformed.value.as_dict()["error"] == "malformed_certificate"
    assert any(r.name == "zorgsleutel.security" for r in caplog.records)


def test_two_certificates_in_one_header_are_malformed(trusted, nginx_pki):
    both = nginx_pki.card.escaped_pem + nginx_pki.stranger.escaped_pem
    with pytest.raises(clientcert.MalformedCertificate) as malformed:
        clientcert.client_certificate(request_from("127.0.0.1", both))
    assert malformed.value.code == "malformed_certificate"


def test_truncated_certificate_is_malformed(trusted, nginx_pki):
    pem = urllib.parse.unquote(nginx_pki.card.escaped_pem)
    cut = pem[:200] + pem[-30:]
    with pytest.raises(clientcert.MalformedCertificate) as malformed:
        clientcert.client_certificate(request_from("127.0.0.1", urllib.parse.quote(cut)))
    assert malformed.value.code == "malformed_certificate"


@pytest.mark.parametrize(
    ("proxies", "peer", "believed"),
    [
        (["::1"], "::1", True),
        (["::1"], "127.0.0.1", False),
        (["127.0.0.1"], "::1", False),
        (["2001:db8:10::/48"], "2001:db8:10::7", True),
        (["2001:db8:10::/48"], "2001:db8:11::7", False),
        (["10.8.0.0/16"], "10.8.200.1", True),
        (["10.8.0.0/16"], "10.9.0.1", False),
        (["10.8.0.1/16"], "10.8.3.4", True),  # host bits set: still the /16
        (["192.0.2.10", "10.8.0.0/16"], "192.0.2.10", True),
        (["127.0.0.1"], "::ffff:127.0.0.1", True),  # dual-stack listener
        (["127.0.0.1"], "", False),  # unix socket: no peer address
        (["127.0.0.1"], "localhost", False),
    ],
)
def test_trusted_addresses_and_networks(settings, nginx_pki, proxies, peer, believed):
    settings.UZI_TRUSTED_PROXIES = proxies
    request = request_from(peer, nginx_pki.card.escaped_pem)
    if believed:
        assert clientcert.client_certificate(request) == nginx_pki.card.certificate
    else:
        with pytest.raises(clientcert.UntrustedProxy) as refused:
            clientcert.client_certificate(request)
        assert refused.value.code == "untrusted_proxy"


def test_header_name_comes_from_settings(trusted, nginx_pki):
    trusted.UZI_CLIENT_CERT_HEADER = "X-Client-Certificate"
    assert clientcert.header_key() == "HTTP_X_CLIENT_CERTIFICATE"
    old_name = request_from("127.0.0.1", nginx_pki.card.escaped_pem)
    assert clientcert.client_certificate(old_name) is None
    new_name = request_from("127.0.0.1", HTTP_X_CLIENT_CERTIFICATE=nginx_pki.card.escaped_pem)
    assert clientcert.client_certificate(new_name) == nginx_pki.card.certificate


def test_a_bad_trusted_proxy_entry_is_a_configuration_error(settings, nginx_pki):
    settings.UZI_TRUSTED_PROXIES = ["nginx.internal"]
    with pytest.raises(ImproperlyConfigured, match=r"nginx\.internal"):
        clientcert.client_certificate(request_from("127.0.0.1", nginx_pki.card.escaped_pem))
