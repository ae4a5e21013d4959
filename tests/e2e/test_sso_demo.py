"""The demo of single sign-on in a browser, as `make run` sets it up: the demo data loaded (its
demo client registered, var/demo/relyingparty.json written), the demo relying party started the
way the runner starts it (its own process, Authlib), and demo people logging in to it through the
live portal: a Demobedrijf user with password + SMS, a Demozorg beheerder stepped up to the app.
The relying party's pages show the claims it received; its *Uitloggen* logs out of both
(RP-Initiated Logout, back with its state checked); they are looked at at 1280 and 390 px."""

from __future__ import annotations

import io
import json
import re
import stat

import pytest
import requests

from support import free_port, wait_for_port
from zorgsleutel import runner
from zorgsleutel.clients import app as phone
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.demo import APP_PIN, PASSWORD
from zorgsleutel.demo.load import load, relying_party_config, state_file
from zorgsleutel.oidc.models import Client, LogoutDelivery
from zorgsleutel.organisations.models import Organisation

from .lookpages import at_both_widths

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def loaded(live_server, vault_service, settings, tmp_path, monkeypatch):
    """`make run`'s demo data, loaded against the live portal; the relying party's port."""
    settings.DEBUG = True
    settings.SITE_URL = live_server.url
    settings.VAR_DIR = tmp_path
    rp_port = free_port()
    monkeypatch.setenv("DEMO_RP_PORT", str(rp_port))
    assert load()["sso_clients"] == 1
    return rp_port


@pytest.fixture
def demo(loaded):
    """The demo relying party, started as the runner starts it; its URL."""
    rp_port = loaded
    process = runner.demo_relying_party(rp_port, relying_party_config())
    try:
        wait_for_port(rp_port, process)
        yield f"http://127.0.0.1:{rp_port}"
    finally:
        process.terminate()
        process.wait(10)


def _sms_code(portal: str, hint_end: str) -> str:
    """The newest SMS code to the number ending in `hint_end`, from the dev mailbox."""
    messages = requests.get(f"{portal}/dev/mailbox.json", timeout=10).json()["messages"]
    body = next(m["body"] for m in messages if m["kind"] == "sms" and m["to"].endswith(hint_end))
    return re.search(r"\b(\d{6})\b", body).group(1)


def _rows(page, caption: str) -> dict[str, str]:
    table = page.locator("table", has=page.locator("caption", has_text=caption))
    return {
        row.locator("th code").inner_text(): row.locator("td").inner_text()
        for row in table.locator("tbody tr").all()
    }


def _to_the_login_page(page, demo):
    page.goto(demo + "/")
    page.get_by_role("link", name="Inloggen met Zorgsleutel").click()
    page.check()
    assert "Log in om verder te gaan naar Demo-applicatie." in page.locator("main").inner_text()


def _password(page, email):
    page.get_by_label("E-mailadres").fill(email)
    page.get_by_label("Wachtwoord", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Inloggen").click()
    page.check()


def _consent(page, demo):
    """The first sign-in to the demo application asks the person's consent (docs/oidc.md)."""
    page.wait_for_url("**/oidc/authorize?**", timeout=10000)
    page.check()
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Demo-applicatie toestaan uw gegevens te ontvangen?"
    page.get_by_role("button", name="Toestaan").click()
    page.wait_for_url(demo + "/", timeout=10000)


CLAIMS = [
    "acr", "amr", "at_hash", "aud", "auth_time", "email", "email_verified", "exp", "family_name",
    "given_name", "iat", "iss", "jti", "name", "nonce", "organization", "sid", "sub",
]  # fmt: skip
USERINFO = [
    "email", "email_verified", "family_name", "given_name", "name", "organization", "sub",
]  # fmt: skip


def test_a_demobedrijf_user_logs_in_to_the_demo_application_and_sees_their_claims(
    demo, browser_page, live_server
):
    portal = live_server.url
    config = json.loads(relying_party_config().read_text())
    assert stat.S_IMODE(relying_party_config().stat().st_mode) == 0o600
    assert (config["issuer"], config["redirect_uri"]) == (portal, f"{demo}/callback")
    assert config["post_logout_redirect_uri"] == f"{demo}/"
    client = Client.objects.get(application__client_id=config["client_id"])
    assert client.backchannel_logout_uri == f"{demo}/backchannel-logout"
    business = Organisation.objects.get(kvk_number="90000002", kind=Organisation.BUSINESS)
    page = browser_page()
    page.goto(demo + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welkom bij de demo-applicatie"
    at_both_widths(page, "demo-rp-home")

    _to_the_login_page(page, demo)
    _password(page, "gebruiker1@demobedrijf.nl")
    page.get_by_label("Sms-code").fill(_sms_code(portal, "08"))
    page.get_by_role("button", name="Controleren").click()
    _consent(page, demo)
    page.check()
    assert page.get_by_role("heading", level=1).inner_text() == "U bent ingelogd als Gijs Gebruiker"
    claims = _rows(page, "ID-token")
    assert sorted(claims) == CLAIMS
    assert {k: claims[k] for k in ("iss", "aud", "acr", "amr", "name", "email")} == {
        "iss": portal,
        "aud": config["client_id"],
        "acr": "http://eidas.europa.eu/LoA/low",
        "amr": '["pwd", "sms"]',
        "name": "Gijs Gebruiker",
        "email": "gebruiker1@demobedrijf.nl",
    }
    organization = f'{{"id": "{business.public_id}", "name": "Demobedrijf BV", "kvk": "90000002"}}'
    assert claims["organization"] == organization
    assert len(claims["sub"]) == 43  # pairwise
    userinfo = _rows(page, "Userinfo")
    assert userinfo == {
        "sub": claims["sub"],
        "name": "Gijs Gebruiker",
        "given_name": "Gijs",
        "family_name": "Gebruiker",
        "email": "gebruiker1@demobedrijf.nl",
        "email_verified": "true",
        "organization": organization,
    }
    assert sorted(userinfo) == USERINFO
    at_both_widths(page, "demo-rp-claims")

    # Uitloggen: here, and at Zorgsleutel (its ID token the hint of this very session: no
    # question), back on the home page with the state it sent.
    page.get_by_role("button", name="Uitloggen").click()
    page.wait_for_url(re.compile(re.escape(demo) + r"/\?state=[A-Za-z0-9_-]{43}$"), timeout=10000)
    page.check()
    assert page.get_by_role("heading", level=1).inner_text() == "U bent uitgelogd"
    assert "U bent uitgelogd bij de demo-applicatie en bij Zorgsleutel." in page.inner_text("main")
    at_both_widths(page, "demo-rp-logged-out")
    (event,) = AuditEvent.objects.filter(action="sso.logged_out")
    assert (event.organisation, event.details["client_id"]) == (
        business.audit_ref,
        config["client_id"],
    )
    page.reload()  # the state was good once
    assert page.get_by_role("heading", level=1).inner_text() == "Uitloggen is niet bevestigd"
    page.goto(demo + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welkom bij de demo-applicatie"
    page.goto(portal + "/mijn")  # Zorgsleutel asks to log in again
    assert page.url.startswith(portal + "/inloggen")
    assert page.get_by_role("heading", level=1).inner_text() == "Inloggen"


def test_a_demozorg_beheerder_is_stepped_up_to_the_app(
    demo, browser_page, tmp_path, live_server, run_worker
):
    care = Organisation.objects.get(ura="90000001")
    page = browser_page()
    _to_the_login_page(page, demo)
    # A care provider's beheerder needs the app: a password is not enough for the role.
    _password(page, "beheerder@demozorg.nl")
    error = "Uw rol vereist de Zorgsleutel-app: log in met de app."
    assert error in page.locator("main").inner_text()
    page.get_by_role("link", name="Inloggen met de Zorgsleutel-app").click()
    page.check()
    screenshot = str(tmp_path / "qr.png")
    page.screenshot(path=screenshot, full_page=True)
    state = phone.State(state_file("beheerder@demozorg.nl"))
    answer = phone.login(screenshot, state=state, pin=APP_PIN, yes=True, out=io.StringIO())
    assert answer["result"] == "ok"
    _consent(page, demo)
    page.check()
    assert page.get_by_role("heading", level=1).inner_text() == "U bent ingelogd als Bram Beheerder"
    claims = _rows(page, "ID-token")
    assert {k: claims[k] for k in ("acr", "amr", "name", "email", "organization")} == {
        "acr": "http://eidas.europa.eu/LoA/substantial",
        "amr": '["swk", "pin"]',
        "name": "Bram Beheerder",
        "email": "beheerder@demozorg.nl",
        "organization": f'{{"id": "{care.public_id}", "name": "Demozorg", '
        '"ura": "90000001", "kvk": "90000001"}',
    }

    # Back-Channel Logout: a forged logout token ends nothing; the portal's own Uitloggen
    # does, through the worker's POST to the demo application.
    forged = requests.post(
        f"{demo}/backchannel-logout", data={"logout_token": "forged"}, timeout=10
    )
    assert (forged.status_code, forged.text) == (400, "invalid logout token")
    assert requests.get(f"{demo}/backchannel-logout", timeout=10).status_code == 405
    page.goto(demo + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "U bent ingelogd als Bram Beheerder"
    page.goto(live_server.url + "/mijn")
    page.locator("form.zs-logout").get_by_role("button", name="Uitloggen").click()
    page.wait_for_url("**/inloggen**")
    run_worker()
    delivery = LogoutDelivery.objects.get()
    assert (delivery.status, delivery.reason, delivery.attempts) == ("sent", "logout", 1)
    page.goto(demo + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welkom bij de demo-applicatie"


def test_the_demo_application_refuses_an_answer_it_did_not_ask_for(demo, browser_page, live_server):
    """A forged or replayed answer (no state of this browser's), or one from another issuer:
    refused with a page, and nobody is logged in."""
    page = browser_page()
    for query, error in [
        (f"code=stolen&state=forged&iss={live_server.url}", "mismatching_state"),
        ("code=stolen&state=forged&iss=https://evil.example", "invalid_issuer"),
        ("error=access_denied&state=forged", "invalid_issuer"),  # no iss (RFC 9207)
    ]:
        response = page.goto(f"{demo}/callback?{query}")
        assert response.status == 400
        assert page.get_by_role("heading", level=1).inner_text() == "Inloggen is niet gelukt"
        assert page.locator("main code").inner_text() == error
        if error == "mismatching_state":
            at_both_widths(page, "demo-rp-refused")
        page.goto(demo + "/")
        assert page.get_by_role("heading", level=1).inner_text() == "Welkom bij de demo-applicatie"
    # A return from a logout this browser never asked for (a forged or replayed state).
    response = page.goto(f"{demo}/?state=forged")
    assert response.status == 400
    assert page.get_by_role("heading", level=1).inner_text() == "Uitloggen is niet bevestigd"
    assert page.locator("main code").inner_text() == "mismatching_state"
    # Uitloggen is a form with a CSRF token: another site's request logs nobody out.
    forged = requests.post(f"{demo}/uitloggen", timeout=10, allow_redirects=False)
    assert forged.status_code == 403
    assert requests.get(f"{demo}/uitloggen", timeout=10).status_code == 405


def test_loading_the_demo_again_keeps_its_client_and_its_secret(loaded):
    """Idempotent: `make run` again changes nothing; with the file lost, the demo's old
    registration goes and a new one comes (the relying party cannot know the old secret), both
    audited; an operator's application of the same name stays."""
    from zorgsleutel.accounts.models import User
    from zorgsleutel.oidc import clients

    before = json.loads(relying_party_config().read_text())
    assert load()["sso_clients"] == 0
    assert json.loads(relying_party_config().read_text()) == before
    # A registration from before the demo logged out of Zorgsleutel (no post-logout URI):
    # registered again, with it.
    Client.objects.filter(application__client_id=before["client_id"]).update(
        post_logout_redirect_uris=""
    )
    assert load()["sso_clients"] == 1
    again = json.loads(relying_party_config().read_text())
    assert again["client_id"] != before["client_id"]
    assert again["post_logout_redirect_uri"] == before["post_logout_redirect_uri"]
    assert (
        Client.objects.get(application__client_id=again["client_id"]).post_logout_redirect_uris
        == (before["post_logout_redirect_uri"])
    )
    assert load()["sso_clients"] == 0
    deleted = AuditEvent.objects.filter(action="sso_client.deleted")
    assert {e.details["client_id"] for e in deleted} == {before["client_id"]}
    first, before = before, again
    operator = User.objects.get(email="operator@zorgsleutel.test")
    alike = clients.register_client(
        actor=operator,
        name="Demo-applicatie",
        redirect_uris="https://elders.example.nl/callback",
        organisations=list(Organisation.objects.filter(ura="90000001")),
        minimum_acr="low",
    )
    relying_party_config().unlink()
    assert load()["sso_clients"] == 1
    after = json.loads(relying_party_config().read_text())
    assert after["client_id"] != before["client_id"]
    assert sorted(
        Client.objects.filter(application__name="Demo-applicatie").values_list(
            "application__client_id", flat=True
        )
    ) == sorted([after["client_id"], alike.client_id])
    deleted = AuditEvent.objects.filter(action="sso_client.deleted")
    assert {e.details["client_id"] for e in deleted} == {first["client_id"], before["client_id"]}
