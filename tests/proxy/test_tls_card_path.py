"""The TLS card path through the shipped nginx (deploy/nginx) in front of the live portal: the
card's certificate arrives on the UZI host in a real TLS handshake, and two browsers keep their
cookies per host, as a browser does.

A GET on the UZI host shows the page and answers nothing; its POST (CSRF token, the card) holds
the certificate and sends the browser back to the portal's host with a one-time value; there
only the browser that opened the validation page answers, with a POST. Another browser that
comes back with the value (a relayed link) is refused as `other_browser`: 403, challenge open.
"""

from __future__ import annotations

import html
import re
import urllib.parse
from http.cookies import SimpleCookie

import pytest

from applicants import approved_application, card
from proxy.nginx import trust_test_origins
from proxy.pki import client_identity
from zorgsleutel.authn.models import Challenge
from zorgsleutel.organisations.models import Application

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("trust")]


class Browser:
    """Cookies per host (names only: enough for the session and CSRF cookies), and requests
    through nginx as a browser sends them."""

    def __init__(self, proxy, card=None):
        self.proxy, self.card, self.jar = proxy, card, {}

    def _send(self, method: str, url: str, form: dict | None = None):
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        cookies = self.jar.setdefault(origin, {})
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            headers |= {"Content-Type": "application/x-www-form-urlencoded", "Origin": origin}
        client = self.card if origin == self.proxy.uzi_url else None
        response = self.proxy.request(url, client=client, headers=headers, method=method, body=body)
        for line in response.all("set-cookie"):
            for name, morsel in SimpleCookie(line).items():
                cookies[name] = morsel.value
        return response

    def get(self, url: str):
        return self._send("GET", url)

    def post(self, url: str, form: dict):
        return self._send("POST", url, form)


def form_fields(body: bytes) -> dict:
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', body.decode())
    }


@pytest.fixture
def portal(live_server, nginx_proxy, settings, monkeypatch, hierarchy, card_key, tmp_path):
    """nginx in front of the live portal, the portal set up as behind it in production, an
    approved application and the applicant's UZI card as a TLS client identity."""
    proxy = nginx_proxy(live_server.url)
    settings.SITE_URL = proxy.portal_url
    settings.UZI_TLS_URL = proxy.uzi_url
    settings.UZI_TRUSTED_PROXIES = ["127.0.0.1"]
    trust_test_origins(proxy, settings, monkeypatch)
    _application, link = approved_application()
    identity = client_identity(tmp_path, "uzi-card", card(hierarchy, card_key), card_key)
    return proxy, link, identity


def open_validation(browser: Browser, link: str) -> tuple[str, str]:
    """The validation page in this browser: its challenge id and its link to the UZI host."""
    page = browser.get(link)
    assert page.status == 200
    tls_link = html.unescape(re.search(r'id="tls-link" href="([^"]+)"', page.body.decode())[1])
    return re.search(r"/uzi/tls/([\w-]+)\?", tls_link)[1], tls_link


def present_card(browser: Browser, tls_link: str) -> str:
    """On the UZI host: the page (a GET, nothing answered), then its button. Where it leads."""
    challenge_id = re.search(r"/uzi/tls/([\w-]+)\?", tls_link)[1]
    page = browser.get(tls_link)
    assert page.status == 200, page.body
    assert "Huisartsenpraktijk De Linde (URA 90000382) valideren" in page.body.decode()
    assert Challenge.objects.get(public_id=challenge_id).status == "pending"
    presented = browser.post(tls_link.split("?")[0], form_fields(page.body))
    assert presented.status == 303, presented.body
    return presented.headers["location"]


def come_back(browser: Browser, location: str):
    page = browser.get(location)
    assert page.status == 200
    return browser.post(location.split("?")[0], form_fields(page.body))


def test_the_browser_that_started_it_answers_through_nginx(portal):
    proxy, link, identity = portal
    applicant = Browser(proxy, card=identity)
    challenge_id, tls_link = open_validation(applicant, link)
    assert tls_link.startswith(proxy.uzi_url + "/uzi/tls/")
    location = present_card(applicant, tls_link)
    assert location.startswith(f"{proxy.portal_url}/uzi/terug/{challenge_id}?handoff=")
    answered = come_back(applicant, location)
    assert answered.status == 302, answered.body
    back_to = urllib.parse.urlsplit(link).path + f"?kaart={challenge_id}"
    assert answered.headers["location"] == back_to  # the page that names its challenge
    assert Challenge.objects.get(public_id=challenge_id).status == "accepted"
    assert applicant.get(proxy.portal_url + back_to).status == 302  # the page collects it
    assert Application.objects.get().state == Application.VALIDATED


def test_a_relayed_link_presented_in_another_browser_is_refused_through_nginx(portal):
    proxy, link, identity = portal
    starter = Browser(proxy)  # opens the validation page, has no card
    challenge_id, tls_link = open_validation(starter, link)
    card_holder = Browser(proxy, card=identity)  # gets the UZI link sent to them
    refused = come_back(card_holder, present_card(card_holder, tls_link))
    assert refused.status == 403, refused.body
    assert "Dit kan alleen worden afgerond in de browser waarin het is gestart" in (
        refused.body.decode()
    )
    assert Challenge.objects.get(public_id=challenge_id).status == "pending"
    # The starter, without the value: refused too.
    back = f"{proxy.portal_url}/uzi/terug/{challenge_id}?next=/"
    page = starter.get(back)
    assert starter.post(back.split("?")[0], form_fields(page.body)).status == 403
    assert Challenge.objects.get(public_id=challenge_id).status == "pending"
    assert not Application.objects.filter(state=Application.VALIDATED).exists()


def test_without_the_pages_csrf_token_the_uzi_host_holds_nothing(portal):
    proxy, link, identity = portal
    applicant = Browser(proxy, card=identity)
    challenge_id, tls_link = open_validation(applicant, link)
    applicant.get(tls_link)  # the CSRF cookie is set, but a cross-site form has no token
    forged = applicant.post(tls_link.split("?")[0], {"next": "/"})
    assert forged.status == 403
    challenge = Challenge.objects.get(public_id=challenge_id)
    assert (challenge.status, challenge.held) == ("pending", {})
