"""Seed 003 in a browser: link the Zorgsleutel app from a screenshot of the QR code, then log in
with it; the page continues by itself once the reference client (the "phone") has answered."""

from __future__ import annotations

import io

import pytest

from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.clients import app as phone
from zorgsleutel.mobileapp.models import AppDevice
from zorgsleutel.organisations.models import Organisation

from .browsersession import logged_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def administrator():
    organisation = Organisation.objects.create(
        name="Zorggroep QR", kind=Organisation.CARE_PROVIDER, ura="90000333"
    )
    user = User.objects.create(email="admin@zorggroep-qr.nl", name="Ada Admin", state=User.ACTIVE)
    Membership.objects.create(user=user, organisation=organisation, role="administrator")
    return user


def _screenshot(page, tmp_path, name):
    path = tmp_path / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return str(path)


def test_link_the_app_then_log_in_by_scanning(page, browser_page, administrator, tmp_path):
    state = phone.State(tmp_path / "phone.json")

    # Stap 4: link the app — the page shows a QR code; the phone scans the screenshot.
    logged_in(page, administrator, acr="low")
    page.goto("/mijn/app-koppelen")
    assert page.locator("svg.qr").is_visible()
    # It waits on the enrolment's cross-device challenge, polled like every QR code's.
    assert (
        page.locator("[data-status-url]")
        .get_attribute("data-status-url")
        .startswith("/wachten/en_")
    )
    phone.enrol(
        _screenshot(page, tmp_path, "enrol"),
        state=state,
        pin="123456",
        yes=True,
        name="Telefoon van Ada",
        out=io.StringIO(),
    )
    # Her role needs the app, so the SMS session ends and she logs in with the new app.
    page.wait_for_url("**/inloggen/app", timeout=5000)
    page.check()
    assert "Log nu in met de app" in page.locator(".messages").inner_text()
    phone.login(
        _screenshot(page, tmp_path, "first-login"),
        state=state,
        pin="123456",
        yes=True,
        out=io.StringIO(),
    )
    # Alone in her organisation, she lands on Aan de slag (authn/landing.py).
    page.wait_for_url("**/aan-de-slag", timeout=3000)
    page.goto("/mijn/apps")
    assert "Telefoon van Ada" in page.locator("tr.device").inner_text()

    # Stap 5-6: log in in another browser by scanning the QR code with the app.
    browser = browser_page()
    browser.goto("/inloggen")
    browser.get_by_role("link", name="Inloggen met de Zorgsleutel-app").click()
    browser.check()
    screenshot = _screenshot(browser, tmp_path, "login")
    out = io.StringIO()
    answer = phone.login(screenshot, state=state, pin="123456", yes=True, out=out)
    assert answer["result"] == "ok"
    assert "Chrome" in out.getvalue() and browser.base_url.split("//")[1] in out.getvalue()
    browser.wait_for_url("**/aan-de-slag", timeout=3000)  # by itself, no reload
    browser.check()
    assert browser.get_by_role("heading", level=1).inner_text() == "Aan de slag"
    assert AppDevice.objects.get(user=administrator).last_used_at is not None


def test_a_wrong_pin_leaves_the_browser_waiting(page, administrator, tmp_path):
    state = phone.State(tmp_path / "phone.json")
    logged_in(page, administrator, acr="low")
    page.goto("/mijn/app-koppelen")
    phone.enrol(
        _screenshot(page, tmp_path, "enrol"),
        state=state,
        pin="123456",
        yes=True,
        name="Telefoon",
        out=io.StringIO(),
    )
    page.context.clear_cookies()
    page.goto("/inloggen/app")
    answer = phone.login(
        _screenshot(page, tmp_path, "login"), state=state, pin="654321", yes=True, out=io.StringIO()
    )
    assert answer == {"result": "wrong_pin", "attempts_left": 2}
    page.wait_for_timeout(1500)
    assert page.url.endswith("/inloggen/app")
    assert "Wachten op de app" in page.locator("#qr-status").inner_text()
