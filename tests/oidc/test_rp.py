"""A real relying party in its own process (tests/oidc/rp.py, on Authlib and joserfc) signs a
person in through a live portal: code + PKCE, iss, aud, exp, nonce, at_hash and the signature
against the JWKS, userinfo; then a reused code and a wrong verifier; then a refresh (rotation)
and the old refresh token replayed, which ends the sign-in; then RP-initiated logout. One
process start. A second one hears of a logout over the back channel."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sso import log_in, member_of, register
from support import free_port
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.organisations.models import Organisation

RP = Path(__file__).with_name("rp.py")


@pytest.fixture
def portal(live_server, settings):
    settings.SITE_URL = live_server.url  # the issuer the relying party discovers
    return live_server.url


def test_a_relying_party_in_its_own_process_signs_a_person_in(portal, transactional_db, client):
    from zorgsleutel.accounts.models import User

    care = Organisation.objects.create(
        name="Zorggroep Noord", kind=Organisation.CARE_PROVIDER, ura="90000111", state="validated"
    )
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Otto", state=User.ACTIVE, is_operator=True
    )
    redirect_uri = f"http://127.0.0.1:{free_port()}/oidc/callback"
    after_logout = redirect_uri.replace("/oidc/callback", "/logged-out")
    app = register(operator, [care], uris=redirect_uri, post_logout_redirect_uris=after_logout)
    mira = member_of(care, email="mira@noord.nl", name="Mira van der Berg")
    session_key = log_in(client, mira, "sms")

    given = {
        "issuer": portal,
        "client_id": app.client_id,
        "client_secret": app.secret,
        "redirect_uri": redirect_uri,
        "cookie_name": "zs_session",
        "cookie_value": session_key,
        "post_logout_redirect_uri": after_logout,
    }
    result = subprocess.run(
        [sys.executable, str(RP)],
        input=json.dumps(given),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)

    assert out["discovered_issuer"] == portal
    assert out["authorization"] == {
        "status": 302,
        "to": redirect_uri,
        "state_matches": True,
        "iss": portal,
    }
    assert out["token_keys"] == [
        "access_token",
        "expires_at",
        "expires_in",
        "id_token",
        "refresh_token",
        "scope",
        "token_type",
    ]  # fmt: skip  (expires_at is Authlib's own)
    header, claims = out["id_token"]["header"], out["id_token"]["claims"]
    assert (header["alg"], header["typ"], len(header["kid"])) == ("RS256", "JWT", 43)
    assert (claims["iss"], claims["aud"], claims["exp"] - claims["iat"]) == (
        portal,
        app.client_id,
        600,
    )
    assert (claims["acr"], claims["amr"], claims["email"], claims["name"]) == (
        "http://eidas.europa.eu/LoA/low",
        ["pwd", "sms"],
        "mira@noord.nl",
        "Mira van der Berg",
    )
    assert out["userinfo"] == {
        "status": 200,
        "body": {
            "sub": claims["sub"],
            "name": "Mira van der Berg",
            "given_name": "Mira",
            "family_name": "van der Berg",
            "email": "mira@noord.nl",
            "email_verified": True,
            "organization": {
                "id": str(care.public_id),
                "name": "Zorggroep Noord",
                "ura": "90000111",
            },
        },
    }
    # The relying party's checks are real: each catches what it must.
    assert out["caught"] == {
        "other_nonce": True,
        "other_audience": True,
        "forged_signature": True,
        "expired": True,
    }
    assert out["reused"] == {"status": 400, "body": {"error": "invalid_grant"}}
    assert out["userinfo_after_reuse"] == 401
    assert out["wrong_verifier"] == {"status": 400, "body": {"error": "invalid_grant"}}
    # The refresh: a new pair, the same person and login in a new ID token without a nonce.
    assert out["refresh"] == {
        "token_keys": [
            "access_token",
            "expires_at",
            "expires_in",
            "id_token",
            "refresh_token",
            "scope",
            "token_type",
        ],
        "rotated": True,
        "new_access_token": True,
        "same": {
            "sub": True,
            "auth_time": True,
            "acr": True,
            "amr": True,
            "organization": True,
            "aud": True,
            "iss": True,
        },
        "nonce": None,
        "userinfo_old": 401,
        "userinfo_new": 200,
    }
    # The old refresh token replayed: refused, and the family revoked.
    assert out["replayed"] == {
        "status": 400,
        "body": {"error": "invalid_grant"},
        "newest_refresh": {"status": 400, "body": {"error": "invalid_grant"}},
        "newest_userinfo": 401,
    }
    (reused,) = AuditEvent.objects.filter(action="sso.refresh_reused")
    assert (reused.organisation, reused.target, reused.details["revoked"]) == (
        care.audit_ref,
        mira.audit_ref,
        2,
    )
    assert AuditEvent.objects.filter(action="sso.token_refreshed").count() == 1
    # RP-initiated logout with the ID token as the hint: back with state, tokens revoked, and
    # the next sign-in request is sent to log in.
    assert out["rp_logout"] == {
        "status": 302,
        "to": after_logout,
        "state_matches": True,
        "userinfo_after": 401,
        "next_sign_in": "/inloggen",
    }


def test_a_second_relying_party_hears_of_the_logout_when_a_manager_blocks_the_person(
    portal, transactional_db, client, settings, run_worker
):
    """Back-Channel Logout 1.0 end to end: an application in its own process signs Mira in,
    her manager blocks her, the worker POSTs the logout token to the application's back-channel
    URI, and the application checks it against the JWKS (typ, iss, aud, events, sid, sub)."""
    from zorgsleutel.accounts.flows import members
    from zorgsleutel.accounts.models import User
    from zorgsleutel.core.models import AuditEvent
    from zorgsleutel.oidc.models import LogoutDelivery

    settings.OIDC_LOOPBACK_HTTP_REDIRECTS = True  # development: the application is on loopback
    care = Organisation.objects.create(
        name="Zorggroep Noord", kind=Organisation.CARE_PROVIDER, ura="90000111", state="validated"
    )
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Otto", state=User.ACTIVE, is_operator=True
    )
    port = free_port()
    redirect_uri = f"http://127.0.0.1:{free_port()}/oidc/callback"
    lab = register(
        operator,
        [care],
        name="Labviewer",
        uris=redirect_uri,
        backchannel_logout_uri=f"http://127.0.0.1:{port}/backchannel",
    )
    mira = member_of(care, email="mira@noord.nl", name="Mira van der Berg")
    manager = member_of(care, email="bea@noord.nl", name="Bea Beheerder", role="manager")
    session_key = log_in(client, mira, "sms")

    given = {
        "issuer": portal,
        "client_id": lab.client_id,
        "client_secret": lab.secret,
        "redirect_uri": redirect_uri,
        "cookie_name": "zs_session",
        "cookie_value": session_key,
        "backchannel_port": port,
    }
    rp = subprocess.Popen(
        [sys.executable, str(RP)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        rp.stdin.write(json.dumps(given))
        rp.stdin.close()
        first = rp.stdout.readline()
        assert first, rp.stderr.read()
        signed_in = json.loads(first)["signed_in"]

        members.block_member(actor=manager, membership=mira.memberships.get())
        assert LogoutDelivery.objects.get().status == "pending"  # queued, not sent by the block
        run_worker()  # the worker tells the application

        rp.wait(timeout=120)
        out_text, errors = rp.stdout.read(), rp.stderr.read()
    finally:
        if rp.poll() is None:
            rp.kill()
    assert rp.returncode == 0, errors
    out = json.loads(out_text)
    assert out["metadata"] == {
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }
    assert out["request"] == {
        "path": "/backchannel",
        "content_type": "application/x-www-form-urlencoded",
        "fields": ["logout_token"],
    }
    header, claims = out["logout_token"]["header"], out["logout_token"]["claims"]
    assert (header["typ"], header["alg"], len(header["kid"])) == ("logout+jwt", "RS256", 43)
    assert sorted(claims) == ["aud", "events", "exp", "iat", "iss", "jti", "sid", "sub"]
    assert (claims["iss"], claims["aud"], claims["exp"] - claims["iat"]) == (
        portal,
        lab.client_id,
        120,
    )
    assert (claims["sid"], claims["sub"]) == (signed_in["sid"], signed_in["sub"])
    assert claims["events"] == {"http://schemas.openid.net/event/backchannel-logout": {}}
    assert out["caught"] == {
        "forged_signature": True,
        "other_session": True,
        "other_audience": True,
        "id_token_as_logout_token": True,
    }
    assert out["userinfo_after_logout"] == 401
    assert LogoutDelivery.objects.get().status == "sent"
    (event,) = AuditEvent.objects.filter(action="sso.logout_sent")
    assert (event.organisation, event.target, event.details["reason"]) == (
        care.audit_ref,
        mira.audit_ref,
        "membership_blocked",
    )
