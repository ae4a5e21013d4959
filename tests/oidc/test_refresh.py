"""Refresh tokens (docs/oidc.md, "Refresh tokens"): each refresh rotates the pair and keeps the
sign-in (acr, amr, auth_time, sub, organisation); a rotated refresh token that comes again
revokes the whole family (the sign-in's every token); another client's refresh token is
refused and revokes nothing; a refresh token lives 30 minutes, a family 12 hours after the
login; a person the application may no longer receive ends the family."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client as Browser
from oauth2_provider.models import AccessToken, RefreshToken

from sso import answer, authorize_url, claims_of, code_for, exchange, log_in, member_of, register
from zorgsleutel.accounts.models import Membership
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import SignIn

AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
EPOCH_AT = 1796635800  # AT as a Unix time


def at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


def refresh(client, app, refresh_token: str, **override) -> tuple[int, dict]:
    data = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": app.client_id,
        "client_secret": app.secret,
    }
    data.update(override)
    response = Browser().post("/oidc/token", data)  # the application's server: no cookies
    return response.status_code, json.loads(response.content)


def signed_in(client, app, person, *, at=AT):
    """The tokens of a sign-in: logged in at `at`, the code exchanged a minute later."""
    with clock.frozen(at):
        log_in(client, person)
    with clock.frozen(at + timedelta(minutes=1)):
        code, asked = code_for(client, app)
        status, tokens = exchange(client, app, code, asked.verifier)
    assert status == 200, tokens
    return tokens


def userinfo(client, access_token: str) -> int:
    return (
        Browser()
        .get("/oidc/userinfo", headers={"authorization": f"Bearer {access_token}"})
        .status_code
    )


def refusals() -> list[tuple[str, dict]]:
    return [
        (e.actor, e.details)
        for e in AuditEvent.objects.filter(action="sso.token_refused").order_by("seq")
    ]


@pytest.mark.django_db
def test_a_refresh_rotates_the_pair_and_keeps_the_sign_in(client, app, mira, care):
    first = signed_in(client, app, mira)
    with clock.frozen(AT + timedelta(minutes=20)):
        status, tokens = refresh(client, app, first["refresh_token"])
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
    assert tokens["refresh_token"] != first["refresh_token"]
    assert tokens["access_token"] != first["access_token"]
    before, after = claims_of(first["id_token"]), claims_of(tokens["id_token"])
    jti = after.pop("jti")
    assert jti != before["jti"]
    assert after.pop("sid") == before["sid"]  # the same Zorgsleutel session (logout.py)
    assert after == {
        "iss": "https://zorgsleutel.test",
        "aud": app.client_id,
        "sub": before["sub"],
        "iat": EPOCH_AT + 1200,
        "exp": EPOCH_AT + 1200 + 600,
        "auth_time": EPOCH_AT,  # the login, not the refresh (OpenID Connect Core 12.2)
        "at_hash": at_hash(tokens["access_token"]),
        "acr": "http://eidas.europa.eu/LoA/low",
        "amr": ["pwd", "sms"],
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
    }  # no nonce: a refresh is no authentication request
    with clock.frozen(AT + timedelta(minutes=21)):
        assert (
            userinfo(client, first["access_token"]),
            userinfo(client, tokens["access_token"]),
        ) == (
            401,
            200,
        )
    # Stored as checksums only, one family: the sign-in's.
    sign_in = SignIn.objects.get()
    rows = RefreshToken.objects.order_by("pk")
    assert [(r.token, r.token_family, r.revoked is None) for r in rows] == [
        ("", sign_in.token_family, False),
        ("", sign_in.token_family, True),
    ]
    assert rows[1].token_checksum == hashlib.sha256(tokens["refresh_token"].encode()).hexdigest()
    assert sign_in.access_token.token_checksum == (
        hashlib.sha256(tokens["access_token"].encode()).hexdigest()
    )
    assert sign_in.refresh_issued_at == AT + timedelta(minutes=20)
    (event,) = AuditEvent.objects.filter(action="sso.token_refreshed")
    assert (event.organisation, event.actor, event.target, event.outcome) == (
        care.audit_ref,
        app.client.audit_ref,
        mira.audit_ref,
        "success",
    )
    assert event.details == {
        "client_id": app.client_id,
        "names": {mira.audit_ref: "mira@noord.nl"},
    }


@pytest.mark.django_db
def test_a_refresh_may_ask_less_never_more(client, app, mira, operator, care):
    first = signed_in(client, app, mira)
    with clock.frozen(AT + timedelta(minutes=2)):
        assert refresh(client, app, first["refresh_token"], scope="openid openid_extra") == (
            400,
            {"error": "invalid_scope"},
        )
        status, tokens = refresh(client, app, first["refresh_token"], scope="openid")
    assert (status, tokens["scope"]) == (200, "openid")
    assert "email" not in claims_of(tokens["id_token"])


@pytest.mark.django_db
def test_a_rotated_refresh_token_presented_again_revokes_the_family(client, app, mira, care):
    first = signed_in(client, app, mira)
    with clock.frozen(AT + timedelta(minutes=5)):
        second = refresh(client, app, first["refresh_token"])[1]
        assert userinfo(client, second["access_token"]) == 200

        assert refresh(client, app, first["refresh_token"]) == (400, {"error": "invalid_grant"})
        # The newest pair, which the thief or the application holds, no longer works.
        assert userinfo(client, second["access_token"]) == 401
        assert refresh(client, app, second["refresh_token"]) == (400, {"error": "invalid_grant"})
    (reused,) = AuditEvent.objects.filter(action="sso.refresh_reused")
    assert (reused.organisation, reused.actor, reused.target, reused.outcome) == (
        care.audit_ref,
        app.client.audit_ref,
        mira.audit_ref,
        "denied",
    )
    assert reused.details == {
        "client_id": app.client_id,
        "revoked": 2,  # the newest access token and refresh token
        "names": {mira.audit_ref: "mira@noord.nl"},
    }
    # The reuse is one event with its revocation; the newest refresh token is then refused as
    # a token of a revoked family.
    assert refusals() == [
        (
            app.client.audit_ref,
            {"client_id": app.client_id, "error": "invalid_grant", "reason": "family_revoked"},
        )
    ]
    assert (AccessToken.objects.count(), RefreshToken.objects.filter(revoked=None).count()) == (
        0,
        0,
    )
    assert SignIn.objects.get().revoked_at == AT + timedelta(minutes=5)
    # A third time: refused again, nothing left to revoke, no second reuse event.
    assert refresh(client, app, first["refresh_token"]) == (400, {"error": "invalid_grant"})
    assert AuditEvent.objects.filter(action="sso.refresh_reused").count() == 1


@pytest.mark.django_db
def test_the_code_once_more_after_a_refresh_revokes_the_refreshed_pair(client, app, mira):
    with clock.frozen(AT):
        log_in(client, mira)
        code, asked = code_for(client, app)
        first = exchange(client, app, code, asked.verifier)[1]
        second = refresh(client, app, first["refresh_token"])[1]
        assert exchange(client, app, code, asked.verifier) == (400, {"error": "invalid_grant"})
        assert userinfo(client, second["access_token"]) == 401
        assert refresh(client, app, second["refresh_token"]) == (400, {"error": "invalid_grant"})
    assert AuditEvent.objects.get(action="sso.code_reused").details["revoked"] == 2


@pytest.mark.django_db
def test_another_client_cannot_use_a_refresh_token_and_revokes_nothing(
    client, app, mira, operator, care
):
    other = register(operator, [care], name="Labviewer")
    first = signed_in(client, app, mira)
    with clock.frozen(AT + timedelta(minutes=2)):
        assert refresh(
            client,
            other,
            first["refresh_token"],
        ) == (400, {"error": "invalid_grant"})
        assert refusals() == [
            (
                other.client.audit_ref,
                {
                    "client_id": other.client_id,
                    "error": "invalid_grant",
                    "reason": "refresh_of_another_client",
                },
            )
        ]
        assert userinfo(client, first["access_token"]) == 200
        assert refresh(client, app, first["refresh_token"])[0] == 200
    assert not AuditEvent.objects.filter(action="sso.refresh_reused").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["x" * 30, ""])
def test_an_unknown_refresh_token_is_refused(client, app, mira, token):
    first = signed_in(client, app, mira)
    assert refresh(client, app, token) == (400, {"error": "invalid_grant"})
    assert refusals()[-1][1]["reason"] == "refresh_unknown"
    with clock.frozen(AT + timedelta(minutes=2)):
        assert refresh(client, app, first["refresh_token"])[0] == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("after", "status"), [(timedelta(minutes=29, seconds=59), 200), (timedelta(minutes=30), 400)]
)
def test_a_refresh_token_lives_30_minutes(client, app, mira, after, status):
    first = signed_in(client, app, mira)  # issued at AT + 1 minute
    with clock.frozen(AT + timedelta(minutes=1) + after):
        found = refresh(client, app, first["refresh_token"])
    assert found[0] == status
    if status == 400:
        assert found[1] == {"error": "invalid_grant"}
        assert refusals()[-1][1]["reason"] == "refresh_expired"


@pytest.mark.django_db
def test_no_refresh_carries_a_sign_in_past_12_hours_after_the_login(client, app, mira):
    tokens = signed_in(client, app, mira)
    at = AT + timedelta(minutes=1)
    while at + timedelta(minutes=25) < AT + timedelta(hours=11, minutes=59):
        at += timedelta(minutes=25)
        with clock.frozen(at):
            status, tokens = refresh(client, app, tokens["refresh_token"])
        assert status == 200, (at, tokens)
    with clock.frozen(AT + timedelta(hours=11, minutes=59, seconds=59)):
        status, tokens = refresh(client, app, tokens["refresh_token"])
    assert status == 200
    assert claims_of(tokens["id_token"])["auth_time"] == EPOCH_AT
    with clock.frozen(AT + timedelta(hours=12)):
        assert refresh(client, app, tokens["refresh_token"]) == (400, {"error": "invalid_grant"})
    assert refusals()[-1][1]["reason"] == "sign_in_expired"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "change", ["membership_blocked", "account_blocked", "organisation_suspended", "unregistered"]
)
def test_a_person_the_application_may_no_longer_receive_ends_the_family(
    client, app, care, business, mira, change
):
    tokens = signed_in(client, app, mira)
    if change == "membership_blocked":
        Membership.objects.filter(user=mira).update(state=Membership.BLOCKED)
    elif change == "account_blocked":
        type(mira).objects.filter(pk=mira.pk).update(state="blocked")
    elif change == "organisation_suspended":
        care.suspended_at = AT
        care.save()
    else:  # the operator takes Zorggroep Noord off the application
        app.client.organisations.set([business])
    with clock.frozen(AT + timedelta(minutes=2)):
        assert refresh(client, app, tokens["refresh_token"]) == (400, {"error": "invalid_grant"})
    assert refusals()[-1] == (
        app.client.audit_ref,
        {"client_id": app.client_id, "error": "invalid_grant", "reason": "no_longer_allowed"},
    )
    # Ended for good: put back, the family stays revoked.
    Membership.objects.filter(user=mira).update(state=Membership.ACTIVE)
    type(mira).objects.filter(pk=mira.pk).update(state="active")
    care.suspended_at = None
    care.save()
    app.client.organisations.set([care])
    with clock.frozen(AT + timedelta(minutes=3)):
        assert refresh(client, app, tokens["refresh_token"]) == (400, {"error": "invalid_grant"})
        assert userinfo(client, tokens["access_token"]) == 401
    assert refusals()[-1][1]["reason"] == "family_revoked"
    assert (AccessToken.objects.count(), RefreshToken.objects.filter(revoked=None).count()) == (
        0,
        0,
    )


@pytest.mark.django_db
def test_only_a_client_registered_for_the_code_grant_refreshes(client, app, mira):
    tokens = signed_in(client, app, mira)
    app.client.application.authorization_grant_type = "client-credentials"
    app.client.application.save()
    with clock.frozen(AT + timedelta(minutes=2)):
        assert refresh(client, app, tokens["refresh_token"]) == (
            400,
            {"error": "unauthorized_client"},
        )
    assert RefreshToken.objects.filter(revoked=None).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("which", ["refresh_token", "access_token"])
def test_revoking_either_token_ends_the_sign_in(client, app, mira, operator, care, which):
    other = register(operator, [care], name="Labviewer")
    tokens = signed_in(client, app, mira)
    with clock.frozen(AT + timedelta(minutes=2)):
        # Another client's revocation: answered 200 (RFC 7009), nothing changes.
        response = client.post(
            "/oidc/revoke",
            {"token": tokens[which], "client_id": other.client_id, "client_secret": other.secret},
        )
        assert response.status_code == 200
        assert userinfo(client, tokens["access_token"]) == 200
        response = client.post(
            "/oidc/revoke",
            {"token": tokens[which], "client_id": app.client_id, "client_secret": app.secret},
        )
        assert response.status_code == 200
        assert userinfo(client, tokens["access_token"]) == 401
        assert refresh(client, app, tokens["refresh_token"]) == (400, {"error": "invalid_grant"})
    assert refusals()[-1][1]["reason"] == "family_revoked"
    assert AuditEvent.objects.filter(action="sso.token_revoked").count() == 1
    assert not AuditEvent.objects.filter(action="sso.refresh_reused").exists()


# --- Two refreshes of one token at once ----------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_refreshes_of_one_token_at_once_only_one_wins(app, mira, monkeypatch):
    from zorgsleutel.oidc import validator

    browser = Browser()
    tokens = signed_in(browser, app, mira, at=clock.now() - timedelta(minutes=2))
    allowed = validator.still_allowed

    def slowly(*args):  # widens the window between the check and the new pair
        time.sleep(0.5)
        return allowed(*args)

    monkeypatch.setattr(validator, "still_allowed", slowly)
    start = threading.Barrier(2)
    results = []

    def one():
        try:
            start.wait()
            results.append(refresh(Browser(), app, tokens["refresh_token"]))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(status for status, _body in results) == [200, 400]
    (loser,) = [body for status, body in results if status == 400]
    assert loser == {"error": "invalid_grant"}
    # The loser came with a rotated token: a reuse, so the winner's pair is revoked too.
    (winner,) = [body for status, body in results if status == 200]
    assert refresh(browser, app, winner["refresh_token"]) == (400, {"error": "invalid_grant"})
    assert AuditEvent.objects.filter(action="sso.token_refreshed").count() == 1
    assert AuditEvent.objects.filter(action="sso.refresh_reused").count() == 1
    assert RefreshToken.objects.filter(revoked=None).count() == 0


@pytest.mark.django_db
def test_a_refresh_stays_with_the_organisation_of_the_sign_in(operator, care, business):
    """Tenancy: the sign-in's organisation is the family's; what happens in the person's other
    organisation neither ends it nor moves it there."""
    both = register(operator, [care, business], name="Labviewer")
    mira = member_of(care, business, email="mira@noord.nl")
    browser = Browser()
    with clock.frozen(AT):
        log_in(browser, mira)
    asked = authorize_url(both.client_id)
    with clock.frozen(AT + timedelta(minutes=1)):
        assert browser.get(asked.url).status_code == 200  # the choice page
        response = browser.post(asked.url, {"organisation": str(care.public_id)})
        tokens = exchange(browser, both, answer(response)["code"], asked.verifier)[1]
    business.suspended_at = AT
    business.save()
    with clock.frozen(AT + timedelta(minutes=2)):
        status, tokens = refresh(browser, both, tokens["refresh_token"])
    assert status == 200
    assert claims_of(tokens["id_token"])["organization"]["name"] == "Zorggroep Noord"
    Membership.objects.filter(user=mira, organisation=care).update(state=Membership.BLOCKED)
    with clock.frozen(AT + timedelta(minutes=3)):
        assert refresh(browser, both, tokens["refresh_token"]) == (
            400,
            {"error": "invalid_grant"},
        )


@pytest.mark.django_db
def test_revoke_family_ends_every_token_of_a_sign_in_once(client, app, mira):
    """What a session that ends calls for each of its sign-ins (back-channel logout)."""
    from zorgsleutel.oidc import families

    first = signed_in(client, app, mira)
    with clock.frozen(AT + timedelta(minutes=2)):
        second = refresh(client, app, first["refresh_token"])[1]
    sign_in = SignIn.objects.get()
    with clock.frozen(AT + timedelta(minutes=3)):
        assert families.revoke_family(sign_in) == 2  # the live access and refresh token
        assert families.revoke_family(sign_in) == 0
        assert userinfo(client, second["access_token"]) == 401
        assert refresh(client, app, second["refresh_token"]) == (400, {"error": "invalid_grant"})
    assert refusals()[-1][1]["reason"] == "family_revoked"
    sign_in.refresh_from_db()
    assert (sign_in.revoked_at, sign_in.access_token_id) == (AT + timedelta(minutes=3), None)
