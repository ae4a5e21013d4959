"""Logging in with a smartcard through the shipped nginx: the card's certificate as the TLS
client certificate on the UZI host (the same two-step path as a UZI card's, cards/views.py), the
browser back on the portal's host logged in at `high`."""

from __future__ import annotations

import html
import re

import pytest
from cryptography.hazmat.primitives.serialization import load_pem_private_key  # noqa: F401

from proxy.nginx import trust_test_origins
from proxy.pki import client_identity
from proxy.test_tls_card_path import Browser, come_back, form_fields
from smartcard_fixtures import _portal_ca_files, care, portal_ca  # noqa: F401
from smartcardwork import issue_card
from uzi.softhsm_fixtures import softhsm, uzi_test_ca  # noqa: F401
from zorgsleutel.core.models import AuditEvent

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def portal(live_server, nginx_proxy, settings, monkeypatch, portal_ca, care, tmp_path):  # noqa: F811
    proxy = nginx_proxy(live_server.url)
    settings.SITE_URL = proxy.portal_url
    settings.UZI_TLS_URL = proxy.uzi_url
    settings.UZI_TRUSTED_PROXIES = ["127.0.0.1"]
    trust_test_origins(proxy, settings, monkeypatch)
    return proxy


def log_in_through_nginx(proxy, identity) -> tuple[Browser, object]:
    browser = Browser(proxy, card=identity)
    page = browser.get(proxy.portal_url + "/inloggen/smartcard")
    assert page.status == 200
    tls_link = html.unescape(re.search(r'id="tls-link" href="([^"]+)"', page.body.decode())[1])
    shown = browser.get(tls_link)
    assert shown.status == 200, shown.body
    assert "Inloggen bij Zorgsleutel" in shown.body.decode()
    presented = browser.post(tls_link.split("?")[0], form_fields(shown.body))
    assert presented.status == 303, presented.body
    answered = come_back(browser, presented.headers["location"])
    return browser, answered


def test_a_smartcard_logs_in_as_tls_client_certificate(portal, care, tmp_path):  # noqa: F811
    key, certificate_pem, _card = issue_card(care)
    from cryptography import x509

    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    identity = client_identity(tmp_path, "smartcard", certificate, key)
    browser, answered = log_in_through_nginx(portal, identity)
    assert answered.status == 302, answered.body
    back = answered.headers["location"]
    assert back.startswith("/inloggen/smartcard?kaart=card_")
    collected = browser.get(portal.portal_url + back)
    assert (collected.status, collected.headers["location"]) == (302, "/mijn")
    mine = browser.get(portal.portal_url + "/mijn")
    assert "Carla Zorg" in mine.body.decode()
    login = AuditEvent.objects.get(action="login.succeeded")
    assert (login.details["acr"], login.details["amr"]) == ("high", ["sc", "hwk", "pin"])
    assert AuditEvent.objects.get(action="card.accepted").details["means"] == "tls"


def test_a_blocked_smartcard_is_refused_through_nginx(portal, care, tmp_path):  # noqa: F811
    from cryptography import x509

    key, certificate_pem, card = issue_card(care)
    card.state = "blocked"
    card.save()
    certificate = x509.load_pem_x509_certificate(certificate_pem.encode())
    identity = client_identity(tmp_path, "smartcard", certificate, key)
    browser, answered = log_in_through_nginx(portal, identity)
    back = answered.headers["location"]
    page = browser.get(portal.portal_url + back)
    assert page.status == 200  # the login page again, with why
    assert "Deze smartcard is geblokkeerd." in page.body.decode()
    assert not AuditEvent.objects.filter(action="login.succeeded").exists()
