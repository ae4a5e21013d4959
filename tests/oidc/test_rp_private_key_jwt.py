"""private_key_jwt as a real relying party does it (tests/oidc/rp_private_key_jwt.py, its own
process, Authlib's PrivateKeyJWT): registered with its public key only, it signs a person in,
refreshes, introspects and revokes with assertions it signs; an assertion sent twice is
refused the second time, and Authlib's assertion as it comes (valid an hour) is refused."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from django.test import Client
from jwcrypto import jwk

from sso import log_in, member_of, register
from support import free_port
from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import UsedAssertion
from zorgsleutel.organisations.models import Organisation

RP = Path(__file__).with_name("rp_private_key_jwt.py")


def test_a_relying_party_signs_in_with_private_key_jwt(live_server, settings, transactional_db):
    settings.SITE_URL = live_server.url
    org = Organisation.objects.create(
        name="Zorggroep Noord", kind=Organisation.CARE_PROVIDER, ura="90000111", state="validated"
    )
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Otto", state=User.ACTIVE, is_operator=True
    )
    key = jwk.JWK.generate(kty="RSA", size=2048, kid="lab-2026")
    redirect_uri = f"http://127.0.0.1:{free_port()}/oidc/callback"
    app = register(
        operator,
        [org],
        name="Labviewer",
        uris=redirect_uri,
        token_endpoint_auth_method="private_key_jwt",
        jwks=json.dumps({"keys": [json.loads(key.export_public())]}),
    )
    mira = member_of(org, email="mira@noord.nl", name="Mira van der Berg")
    Membership.objects.update(accepted_at=clock.now())
    browser = Client()
    log_in(browser, mira, "sms")
    given = {
        "issuer": live_server.url,
        "client_id": app.client_id,
        "private_jwk": json.loads(key.export_private()),
        "redirect_uri": redirect_uri,
        "cookie_name": "zs_session",
        "cookie_value": browser.cookies["zs_session"].value,
    }
    ran = subprocess.run(
        [sys.executable, str(RP)],
        input=json.dumps(given) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ran.returncode == 0, ran.stderr
    results = json.loads(ran.stdout)
    claims = results.pop("claims")
    assert (claims["aud"], claims["iss"], claims["name"]) == (
        app.client_id,
        live_server.url,
        "Mira van der Berg",
    )
    assert results == {
        "advertised": True,
        "state_matches": True,
        "iss_matches": True,
        "userinfo": 200,
        "refreshed_sub": claims["sub"],
        "old_access_after_refresh": 401,
        "introspected": [200, True],
        "same_assertion_twice": [200, {"error": "invalid_client"}],
        "revoked": 200,
        "access_after_revocation": 401,
        "stock_authlib": "invalid_client",
    }
    reasons = [
        (e.details["reason"], e.details.get("endpoint", "token"))
        for e in AuditEvent.objects.filter(action="sso.token_refused").order_by("seq")
    ]
    assert reasons == [
        ("assertion_replayed", "introspection"),
        ("assertion_exp_too_far", "token"),
    ]
    # The jti of every assertion accepted was kept: the exchange, the refresh, introspection
    # (Authlib's), the one sent twice (once), the revocation.
    assert UsedAssertion.objects.count() == 5
