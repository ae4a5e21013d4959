"""Chromium presents a client certificate to the shipped nginx, as the UZI browser test will.

Playwright sends client certificates through its own TLS proxy: with the private server CA it
needs ignore_https_errors, or goto() returns Playwright's own 503 instead of raising.
"""

from __future__ import annotations

import json

import pytest

from support import require_binary

pytestmark = [pytest.mark.urls("proxy.urls"), pytest.mark.browser]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def test_chromium_presents_the_card_only_on_the_uzi_host(live_server, nginx_proxy, settings):
    require_binary("chromium", CHROMIUM)
    from playwright.sync_api import sync_playwright

    settings.UZI_TRUSTED_PROXIES = ["127.0.0.1"]  # as in production: nginx on the same host
    proxy = nginx_proxy(live_server.url)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            with_card = browser.new_context(
                client_certificates=proxy.playwright_client_certificates(),
                ignore_https_errors=True,
            )
            page = with_card.new_page()
            # A relative link on the portal's host leads through nginx's redirect to the UZI host.
            response = page.goto(proxy.portal_url + "/uzi/tls/ch-7")
            assert response.status == 200, response.text()
            assert page.url == proxy.uzi_url + "/uzi/tls/ch-7"
            seen = json.loads(response.text())
            assert seen["certificate"]["sha256"] == proxy.pki.card.sha256
            assert seen["remote_addr"] == "127.0.0.1"

            response = page.goto(proxy.portal_url + "/elsewhere/ch-7")
            assert response.status == 200
            assert json.loads(response.text())["certificate"] is None

            without_card = browser.new_context(ignore_https_errors=True).new_page()
            response = without_card.goto(proxy.uzi_url + "/uzi/tls/ch-7")
            assert response.status == 200, response.text()
            assert json.loads(response.text())["certificate"] is None
        finally:
            browser.close()
