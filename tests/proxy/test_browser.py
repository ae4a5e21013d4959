"""Chromium presents a client certificate to the shipped nginx, as the UZI browser test will.

Playwright sends client certificates through its own TLS proxy: with the private server CA it
needs ignore_https_errors, or goto() returns Playwright's own 503 instead of raising.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from support import CHROMIUM, require_binary

pytestmark = [pytest.mark.urls("proxy.urls"), pytest.mark.browser]

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def in_own_thread(function):
    """Run Playwright's sync API in a thread of its own: it refuses to start in a thread where
    another instance runs (tests/e2e keeps one open for the whole session)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function).result(timeout=120)


def test_chromium_presents_the_card_only_on_the_uzi_host(live_server, nginx_proxy, settings):
    require_binary("chromium", CHROMIUM)
    from playwright.sync_api import sync_playwright

    settings.UZI_TRUSTED_PROXIES = ["127.0.0.1"]  # as in production: nginx on the same host
    proxy = nginx_proxy(live_server.url)

    def browse() -> dict:
        seen = {}
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                with_card = browser.new_context(
                    client_certificates=proxy.playwright_client_certificates(),
                    ignore_https_errors=True,
                ).new_page()
                # A relative link on the portal's host leads through nginx to the UZI host.
                response = with_card.goto(proxy.portal_url + "/uzi/tls/ch-7")
                seen["card"] = (response.status, with_card.url, response.text())
                response = with_card.goto(proxy.portal_url + "/elsewhere/ch-7")
                seen["card elsewhere"] = (response.status, with_card.url, response.text())
                without_card = browser.new_context(ignore_https_errors=True).new_page()
                response = without_card.goto(proxy.uzi_url + "/uzi/tls/ch-7")
                seen["no card"] = (response.status, without_card.url, response.text())
            finally:
                browser.close()
        return seen

    seen = in_own_thread(browse)

    status, url, body = seen["card"]
    assert status == 200, body
    assert url == proxy.uzi_url + "/uzi/tls/ch-7"
    assert json.loads(body)["certificate"]["sha256"] == proxy.pki.card.sha256
    assert json.loads(body)["remote_addr"] == "127.0.0.1"
    status, url, body = seen["card elsewhere"]
    assert (status, url) == (200, proxy.portal_url + "/elsewhere/ch-7"), body
    assert json.loads(body)["certificate"] is None
    status, url, body = seen["no card"]
    assert status == 200, body
    assert json.loads(body)["certificate"] is None
