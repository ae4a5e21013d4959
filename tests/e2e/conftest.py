"""Browser tests: Playwright driving Debian's Chromium against a live portal and a live vault.

Every page a test visits is checked with axe-core; a serious or critical WCAG violation fails
the test. On failure a screenshot is kept under test-artifacts/.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from proxy.nginx import nginx_pki, nginx_proxy  # noqa: F401
from smartcard_fixtures import _portal_ca_files, care, portal_ca  # noqa: F401
from support import CHROMIUM, require_binary
from uzi.softhsm_fixtures import softhsm, uzi_test_ca, uzi_trust_settings  # noqa: F401

ARTIFACTS = Path(os.environ.get("ZS_ARTIFACTS", "test-artifacts"))

# Playwright's sync API runs an event loop in this thread; Django's ORM is used synchronously.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def chromium():
    require_binary("chromium", CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()


class AccessiblePage:
    """A Playwright page that runs axe-core after every navigation it is asked to check."""

    def __init__(self, page, base_url: str):
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.base_url = base_url
        self.axe = Axe()
        self.checked: list[str] = []

    def goto(self, path: str):
        response = self.page.goto(path if path.startswith("http") else self.base_url + path)
        self.check()
        return response

    def check(self) -> None:
        self.page.wait_for_load_state("load")
        results = self.axe.run(self.page)
        bad = [
            v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
        ]
        self.checked.append(self.page.url)
        assert not bad, f"axe: {self.page.url}: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']}" for v in bad
        )

    def __getattr__(self, name):
        return getattr(self.page, name)


@pytest.fixture
def browser_page(chromium, live_server, vault_service, settings, request):
    """`browser_page()`: a fresh browser (own cookies) on the live portal, axe-checked."""
    settings.DEBUG = True  # the dev mailbox
    settings.SITE_URL = live_server.url  # links in mails point at the live server
    opened = []

    def open_page() -> AccessiblePage:
        context = chromium.new_context(locale="nl-NL")
        opened.append(context)
        return AccessiblePage(context.new_page(), live_server.url)

    yield open_page
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.nodeid)
        for n, context in enumerate(opened):
            for m, tab in enumerate(context.pages):
                tab.screenshot(path=str(ARTIFACTS / f"{name}-{n}-{m}.png"), full_page=True)
    for context in opened:
        context.close()


@pytest.fixture
def page(browser_page):
    return browser_page()


@pytest.hookimpl(tryfirst=True, hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
