"""Step-up as a real relying party sees it (tests/oidc/rp_step_up.py, its own process): a
person logged in with password + sms code (low) is asked for `substantial` and logs in with the
Zorgsleutel app; another is asked for `high` and logs in with their smartcard. Each time the
portal sends the browser to that means' login page, the login lands back on the party's
request, and the ID token the party verifies carries the new acr and amr. The logins are the
real ones: the reference app (zorgsleutel.clients.app) linked and answering over HTTP with its
key and PIN, the smartcard's signature through the card API with a certificate of the portal's
CA on SoftHSM2."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

from smartcard_fixtures import _portal_ca_files, portal_ca  # noqa: F401
from smartcardwork import issue_card, page_code, present
from sso import log_in, member_of, register
from support import free_port
from uzi.softhsm_fixtures import softhsm, uzi_test_ca  # noqa: F401
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.clients import app as reference_app
from zorgsleutel.core import clock
from zorgsleutel.organisations.models import Organisation

RP = Path(__file__).with_name("rp_step_up.py")
APP_PIN = "135790"


@pytest.fixture
def portal(live_server, settings):
    settings.SITE_URL = live_server.url  # the issuer, and the server the app's QR codes name
    return live_server.url


class RelyingParty:
    def __init__(self, **given):
        self.given = given
        self.process = subprocess.Popen(
            [sys.executable, str(RP)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps({**self.given, **command}) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, self.process.stderr.read()
        return json.loads(line)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write('{"do": "quit"}\n')
            self.process.stdin.close()
            self.process.wait(timeout=30)


@pytest.mark.usefixtures("portal_ca")
def test_a_relying_party_steps_people_up_to_the_app_and_to_a_smartcard(
    portal, transactional_db, tmp_path
):
    org = Organisation.objects.create(
        name="Zorggroep Noord", kind=Organisation.CARE_PROVIDER, ura="90000111", state="validated"
    )
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Otto", state=User.ACTIVE, is_operator=True
    )
    redirect_uri = f"http://127.0.0.1:{free_port()}/oidc/callback"
    app = register(operator, [org], uris=redirect_uri)
    mira = member_of(org, email="mira@noord.nl", name="Mira van der Berg")
    carla = member_of(org, email="carla@noord.nl", name="Carla Zorg")
    Membership.objects.update(accepted_at=clock.now())
    party = RelyingParty(
        issuer=portal,
        client_id=app.client_id,
        client_secret=app.secret,
        redirect_uri=redirect_uri,
        cookie_name="zs_session",
    )
    try:
        # --- low → substantial: Mira, password + sms, has linked the app -----------------------
        browser = Client()
        log_in(browser, mira, "sms")
        linking = browser.get("/mijn/app-koppelen").context
        phone = reference_app.State(tmp_path / "app.json")
        quiet = io.StringIO()
        reference_app.enrol(
            linking["url"], state=phone, pin=APP_PIN, yes=True, name="Telefoon", out=quiet
        )
        assert browser.get(linking["status_url"]).json()["status"] == "ok"

        sent = party.ask(do="start", acr_values="substantial", cookie_value=_cookie(browser))
        assert (sent["status"], sent["location"]) == (302, "/inloggen/app")
        # The step-up logged the session out; the browser keeps the new one it was given.
        assert sent["cookie"] != _cookie(browser)
        browser.cookies["zs_session"] = sent["cookie"]
        login = browser.get("/inloggen/app").context
        reference_app.login(login["url"], state=phone, pin=APP_PIN, yes=True, out=quiet)
        landed = browser.get(login["status_url"]).json()
        assert landed["status"] == "ok" and landed["next"].startswith("/oidc/authorize?")
        verified = party.ask(do="resume", cookie_value=_cookie(browser))
        claims = verified["claims"]
        assert verified["state_matches"] is True
        assert (claims["acr"], claims["amr"], claims["name"]) == (
            "http://eidas.europa.eu/LoA/substantial",
            ["pwd", "sms", "swk", "pin"],  # what the session proved first is kept
            "Mira van der Berg",
        )

        # --- low → high: Carla, password + sms, holds a smartcard ------------------------------
        key, certificate, _card = issue_card(None, holder=carla, organisation=org)
        browser = Client()
        log_in(browser, carla, "sms")
        sent = party.ask(do="start", acr_values="high", cookie_value=_cookie(browser))
        assert (sent["status"], sent["location"]) == (302, "/inloggen/smartcard")
        browser.cookies["zs_session"] = sent["cookie"]
        shown = page_code(browser.get("/inloggen/smartcard"))
        assert present(shown["code"], key, certificate).status_code == 200
        landed = browser.get(shown["status"]).json()
        assert landed["status"] == "ok" and landed["next"].startswith("/oidc/authorize?")
        verified = party.ask(do="resume", cookie_value=_cookie(browser))
        claims = verified["claims"]
        assert (claims["acr"], claims["amr"], claims["name"]) == (
            "http://eidas.europa.eu/LoA/high",
            ["pwd", "sms", "sc", "hwk", "pin"],
            "Carla Zorg",
        )
    finally:
        party.close()


def _cookie(browser: Client) -> str:
    return browser.cookies["zs_session"].value
