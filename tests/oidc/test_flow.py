"""The code flow end to end in one process: what the application receives, claim by claim, and
what the portal records. (tests/oidc/test_rp.py runs a relying party in its own process.)"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from appids import app_id
from sso import (
    REDIRECT,
    answer,
    authorize_url,
    claims_of,
    code_for,
    exchange,
    log_in,
    member_of,
    register,
)
from zorgsleutel.accounts.models import User
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import Client, SignIn

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
EPOCH_AT = 1796635800  # AT as a Unix time


def at_hash(access_token: str) -> str:
    """OpenID Connect Core 3.1.3.6: the left half of SHA-256 of the token, base64url."""
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def test_the_application_learns_who_signed_in_and_how(client, app, mira, care):
    assert datetime.fromtimestamp(EPOCH_AT, UTC) == AT
    mira.last_login = AT - timedelta(days=3)  # never the source of auth_time
    mira.save()
    with clock.frozen(AT):
        log_in(client, mira, "sms")
    asked = authorize_url(app.client_id)
    with clock.frozen(AT + timedelta(minutes=5)):
        found = answer(client.get(asked.url))
        assert found["_to"] == REDIRECT
        assert set(found) == {"_to", "code", "state", "iss"}
        assert found["iss"] == "https://zorgsleutel.test"
        assert found["state"] == asked.state
        status, tokens = exchange(client, app, found["code"], asked.verifier)
    assert status == 200, tokens
    assert set(tokens) == {
        "access_token",
        "expires_in",
        "token_type",
        "scope",
        "id_token",
        "refresh_token",
    }
    assert (tokens["expires_in"], tokens["token_type"], tokens["scope"]) == (
        600,
        "Bearer",
        "openid profile email",
    )
    claims = claims_of(tokens["id_token"])
    sub = claims.pop("sub")
    jti = claims.pop("jti")
    sid = claims.pop("sid")  # the session's (Back-Channel Logout 1.0), random: checked below
    assert claims == {
        "iss": "https://zorgsleutel.test",
        "aud": app.client_id,
        "iat": EPOCH_AT + 300,
        "exp": EPOCH_AT + 300 + 600,
        "auth_time": EPOCH_AT,
        "nonce": asked.nonce,
        "at_hash": at_hash(tokens["access_token"]),
        "acr": "http://eidas.europa.eu/LoA/low",
        "amr": ["pwd", "sms"],
        "name": "Mira van der Berg",
        "given_name": "Mira",
        "family_name": "van der Berg",
        "email": "mira@noord.nl",
        "email_verified": True,
        "organization": {"id": str(care.public_id), "name": "Zorggroep Noord", "ura": "90000111"},
    }
    assert len(jti) == 36
    assert len(sub) == 43 and sub != str(mira.public_id)  # pairwise: not the stable id itself

    with clock.frozen(AT + timedelta(minutes=6)):
        response = client.get(
            "/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
        )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert json.loads(response.content) == {
        "sub": sub,
        "name": "Mira van der Berg",
        "given_name": "Mira",
        "family_name": "van der Berg",
        "email": "mira@noord.nl",
        "email_verified": True,
        "organization": {"id": str(care.public_id), "name": "Zorggroep Noord", "ura": "90000111"},
    }

    # The portal's record: the sign-in, and one event per step in the organisation's log.
    sign_in = SignIn.objects.get()
    assert (sign_in.acr, sign_in.amr, sign_in.authenticated_at) == ("low", ["pwd", "sms"], AT)
    assert sign_in.redeemed_at == AT + timedelta(minutes=5)
    assert (len(sid), sign_in.sid) == (43, sid)
    session_key = client.cookies["zs_session"].value
    assert sign_in.session_digest == hashlib.sha256(session_key.encode()).hexdigest()
    events = AuditEvent.objects.filter(action__startswith="sso.").order_by("seq")
    assert [(e.action, e.organisation, e.actor, e.target, e.outcome) for e in events] == [
        ("sso.code_issued", care.audit_ref, mira.audit_ref, app.client.audit_ref, "success"),
        ("sso.code_exchanged", care.audit_ref, app.client.audit_ref, mira.audit_ref, "success"),
    ]
    assert events[0].details == {
        "client_id": app.client_id,
        "acr": "low",
        "names": {mira.audit_ref: "mira@noord.nl"},
    }


def test_scopes_decide_the_claims(client, app, mira, care):
    log_in(client, mira)
    code, asked = code_for(client, app, scope="openid")
    _status, tokens = exchange(client, app, code, asked.verifier)
    claims = claims_of(tokens["id_token"])
    assert sorted(claims) == [
        "acr", "amr", "at_hash", "aud", "auth_time", "exp", "iat", "iss", "jti", "nonce",
        "organization", "sid", "sub",
    ]  # fmt: skip
    response = client.get(
        "/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
    )
    assert sorted(json.loads(response.content)) == ["organization", "sub"]


def test_the_app_and_the_uzi_card_give_their_own_acr_and_amr(client, app, mira):
    device = app_id(mira)
    for means, authenticator, acr, amr in [
        ("app", device.public_id, "http://eidas.europa.eu/LoA/substantial", ["swk", "pin"]),
        ("uzi", "", "http://eidas.europa.eu/LoA/high", ["sc", "hwk", "pin"]),
    ]:
        log_in(client, mira, means, authenticator=authenticator)
        code, asked = code_for(client, app)
        claims = claims_of(exchange(client, app, code, asked.verifier)[1]["id_token"])
        assert (claims["acr"], claims["amr"]) == (acr, amr)


def test_a_one_word_name_has_no_given_and_family_name(client, app, care):
    cher = member_of(care, email="cher@noord.nl", name="Cher")
    log_in(client, cher)
    code, asked = code_for(client, app)
    claims = claims_of(exchange(client, app, code, asked.verifier)[1]["id_token"])
    assert (claims["name"], "given_name" in claims, "family_name" in claims) == (
        "Cher",
        False,
        False,
    )


def test_sub_is_pairwise_per_application_and_stable(client, operator, care, mira):
    first = register(operator, [care], name="Declaratieportaal")
    second = register(operator, [care], name="Labviewer", uris="https://lab.example.nl/cb")
    public = register(
        operator, [care], name="Intranet", uris="https://intra.example.nl/cb", subject_type="public"
    )
    log_in(client, mira)

    def sub(app, **extra):
        code, asked = code_for(client, app, redirect_uri=extra.get("uri", REDIRECT))
        _status, tokens = exchange(
            client, app, code, asked.verifier, redirect_uri=extra.get("uri", REDIRECT)
        )
        return claims_of(tokens["id_token"])["sub"]

    one, again = sub(first), sub(first)
    other = sub(second, uri="https://lab.example.nl/cb")
    assert one == again  # the same person, the same application: the same sub
    assert one != other  # two applications cannot link her by it
    assert sub(public, uri="https://intra.example.nl/cb") == str(mira.public_id)
    # Neither changes with her e-mail address or name.
    User.objects.filter(pk=mira.pk).update(email="mira.berg@noord.nl", name="Mira Berg")
    assert sub(first) == one
    assert Client.objects.get(pk=first.client.pk).sector == first.client_id


def test_fragment_response_mode_answers_in_the_fragment(client, app, mira):
    log_in(client, mira)
    asked = authorize_url(app.client_id, response_mode="fragment")
    response = client.get(asked.url)
    location = response["Location"]
    assert location.startswith(REDIRECT + "#")
    found = answer(response)
    assert set(found) == {"_to", "code", "state", "iss"}


@pytest.mark.parametrize(("seconds", "status"), [(599, 200), (601, 401)])
def test_an_access_token_answers_for_ten_minutes(client, app, mira, seconds, status):
    log_in(client, mira)
    at = clock.now()
    with clock.frozen(at):
        code, asked = code_for(client, app)
        tokens = exchange(client, app, code, asked.verifier)[1]
    with clock.frozen(at + timedelta(seconds=seconds)):
        response = client.get(
            "/oidc/userinfo", headers={"authorization": f"Bearer {tokens['access_token']}"}
        )
    assert response.status_code == status
