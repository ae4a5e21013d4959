"""private_key_jwt (docs/oidc.md, "Client authentication"; oidc/assertions.py): an application
registered with its public keys exchanges a code and refreshes with assertions it signs; every
refusal is `invalid_client` (401), spends nothing, and names its reason in `sso.token_refused`.
The assertions here are made with jwcrypto and by hand (alg none, the HS256 confusion), never
with the portal's code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client as Browser
from jwcrypto import jwk, jwt

from sso import REDIRECT, claims_of, code_for, log_in, register
from zorgsleutel.core import clock
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.oidc.models import SignIn, UsedAssertion

pytestmark = pytest.mark.django_db

TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
TOKEN_ENDPOINT = "https://zorgsleutel.test/oidc/token"
AT = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
NOW = 1796635800  # AT as a Unix time

RSA = jwk.JWK.generate(kty="RSA", size=2048, kid="lab-2026")
EC = jwk.JWK.generate(kty="EC", crv="P-256", kid="lab-ec")
IMPOSTOR = jwk.JWK.generate(kty="RSA", size=2048, kid="lab-2026")  # the same kid, another key
ROOSTER = jwk.JWK.generate(kty="RSA", size=2048, kid="rooster-1")


def jwks(*keys) -> str:
    return json.dumps({"keys": [json.loads(key.export_public()) for key in keys]})


@pytest.fixture
def lab(operator, care):
    """Labviewer: private_key_jwt with an RSA and an EC key, for Zorggroep Noord."""
    return register(
        operator,
        [care],
        name="Labviewer",
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks(RSA, EC),
    )


def signed(client_id: str, key=RSA, alg="RS256", header=None, **override) -> str:
    """An assertion as an application makes it: iss = sub = client_id, aud the token endpoint,
    iat now, exp in a minute, a random jti; `override` changes or (None) drops claims."""
    now = int(clock.now().timestamp())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_ENDPOINT,
        "iat": now,
        "exp": now + 60,
        "jti": str(uuid.uuid4()),
    }
    claims.update(override)
    claims = {k: v for k, v in claims.items() if v is not None}
    token = jwt.JWT(header=header or {"alg": alg, "kid": key.kid}, claims=claims)
    token.make_signed_token(key)
    return token.serialize()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def by_hand(header: dict, claims: dict, sign=lambda signing_input: b"") -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def claims_for(client_id: str) -> dict:
    now = int(clock.now().timestamp())
    return {"iss": client_id, "sub": client_id, "aud": TOKEN_ENDPOINT, "exp": now + 60,
            "jti": str(uuid.uuid4())}  # fmt: skip


def token_request(data: dict, **headers) -> tuple[int, dict]:
    response = Browser().post("/oidc/token", data, headers=headers)  # the application's server
    return response.status_code, json.loads(response.content)


def exchange(app, code: str, verifier: str, assertion: str | None, **override):
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_id": app.client_id,
        "client_assertion_type": TYPE,
        "client_assertion": assertion,
    }
    data.update(override)
    return token_request({k: v for k, v in data.items() if v is not None})


def userinfo(access_token: str) -> int:
    bearer = {"authorization": f"Bearer {access_token}"}
    return Browser().get("/oidc/userinfo", headers=bearer).status_code


def refusals() -> list[tuple[str, dict]]:
    return [
        (e.actor, e.details)
        for e in AuditEvent.objects.filter(action="sso.token_refused").order_by("seq")
    ]


def refused(app, reason: str) -> list:
    return [
        (
            app.client.audit_ref,
            {"client_id": app.client_id, "error": "invalid_client", "reason": reason},
        )
    ]


# --- What works -------------------------------------------------------------------------------


def test_a_private_key_jwt_client_exchanges_a_code_and_refreshes(client, lab, mira):
    assert lab.secret == ""  # none made, none shown
    assert lab.client.application.client_secret == ""
    with clock.frozen(AT):
        log_in(client, mira)
        code, asked = code_for(client, lab)
        status, tokens = exchange(lab, code, asked.verifier, signed(lab.client_id))
    assert status == 200, tokens
    assert claims_of(tokens["id_token"])["aud"] == lab.client_id
    with clock.frozen(AT + timedelta(minutes=5)):  # the EC key, no client_id: iss names it
        status, renewed = token_request(
            {
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_assertion_type": TYPE,
                "client_assertion": signed(lab.client_id, key=EC, alg="ES256"),
            }
        )
    assert status == 200, renewed
    assert renewed["refresh_token"] != tokens["refresh_token"]
    assert claims_of(renewed["id_token"])["sub"] == claims_of(tokens["id_token"])["sub"]
    assert refusals() == []
    assert [
        e.action for e in AuditEvent.objects.filter(actor=lab.client.audit_ref).order_by("seq")
    ] == [
        "sso.code_exchanged",
        "sso.token_refreshed",
    ]
    # Each jti kept until its exp, then purged.
    assert sorted(UsedAssertion.objects.values_list("expires_at", flat=True)) == [
        AT + timedelta(seconds=60),
        AT + timedelta(minutes=5, seconds=60),
    ]
    from zorgsleutel.purge import purge_expired

    with clock.frozen(AT + timedelta(minutes=6)):
        assert purge_expired()["sso_tokens"] == 1
    with clock.frozen(AT + timedelta(minutes=6, seconds=1)):
        assert purge_expired()["sso_tokens"] == 1
    assert UsedAssertion.objects.count() == 0


@pytest.mark.parametrize(
    "aud",
    [
        TOKEN_ENDPOINT,
        "https://zorgsleutel.test",  # the issuer (RFC 7523 3; the audience-injection advice)
        ["https://rp.example.nl", TOKEN_ENDPOINT],
    ],
)
def test_the_audience_is_the_token_endpoint_or_the_issuer(client, lab, mira, aud):
    log_in(client, mira)
    code, asked = code_for(client, lab)
    assert exchange(lab, code, asked.verifier, signed(lab.client_id, aud=aud))[0] == 200


def test_a_private_key_jwt_client_revokes_and_introspects_with_assertions(client, lab, mira):
    log_in(client, mira)
    code, asked = code_for(client, lab)
    tokens = exchange(lab, code, asked.verifier, signed(lab.client_id))[1]
    access = tokens["access_token"]

    def call(path, assertion, **extra):
        data = {"token": access, "client_assertion_type": TYPE, "client_assertion": assertion}
        response = Browser().post(path, {**data, **extra})
        return response.status_code, json.loads(response.content or b"{}")

    status, found = call("/oidc/introspect", signed(lab.client_id))
    assert (status, found["active"], found["client_id"]) == (200, True, lab.client_id)
    assert call("/oidc/introspect", signed(lab.client_id, key=IMPOSTOR)) == (
        401,
        {"error": "invalid_client"},
    )
    assert call("/oidc/revoke", signed(lab.client_id, exp=int(clock.now().timestamp()) - 1)) == (
        401,
        {"error": "invalid_client"},
    )
    assert userinfo(access) == 200  # nothing revoked
    assert [details for _actor, details in refusals()] == [
        {
            "client_id": lab.client_id,
            "error": "invalid_client",
            "reason": "assertion_signature_invalid",
            "endpoint": "introspection",
        },
        {
            "client_id": lab.client_id,
            "error": "invalid_client",
            "reason": "assertion_expired",
            "endpoint": "revocation",
        },
    ]
    assert call("/oidc/revoke", signed(lab.client_id)) == (200, {})
    assert userinfo(access) == 401


# --- Every refusal: invalid_client, its reason audited, the code not spent ----------------------


def _hs256_with_the_public_key(client_id: str) -> str:
    """The classic confusion: HS256 whose HMAC secret is the public key (its PEM), which a
    verifier that takes `alg` from the token would check with the key it holds."""
    secret = RSA.export_to_pem()  # the public key, PEM

    def sign(signing_input: bytes) -> bytes:
        return hmac.new(secret, signing_input, hashlib.sha256).digest()

    return by_hand({"alg": "HS256", "kid": RSA.kid}, claims_for(client_id), sign)


NOT_YET = NOW + 31


CASES = {
    "wrong key": (lambda c: signed(c, key=IMPOSTOR), "assertion_signature_invalid"),
    "unknown kid": (lambda c: signed(c, key=ROOSTER), "assertion_kid_unknown"),
    "EC key named for RS256": (
        lambda c: signed(c, header={"alg": "RS256", "kid": "lab-ec"}),
        "assertion_kid_unknown",
    ),
    "alg none": (lambda c: by_hand({"alg": "none"}, claims_for(c)), "assertion_alg_refused"),
    "alg none with a kid": (
        lambda c: by_hand({"alg": "none", "kid": RSA.kid}, claims_for(c)),
        "assertion_alg_refused",
    ),
    "HS256 with the public key": (_hs256_with_the_public_key, "assertion_alg_refused"),
    "PS256": (lambda c: signed(c, alg="PS256"), "assertion_alg_refused"),
    "aud another endpoint": (
        lambda c: signed(c, aud="https://zorgsleutel.test/oidc/userinfo"),
        "assertion_aud_invalid",
    ),
    "aud another server": (
        lambda c: signed(c, aud="https://idp.example.nl/token"),
        "assertion_aud_invalid",
    ),
    "aud missing": (lambda c: signed(c, aud=None), "assertion_aud_invalid"),
    "sub another": (lambda c: signed(c, sub="someone-else"), "assertion_iss_sub_mismatch"),
    "sub missing": (lambda c: signed(c, sub=None), "assertion_iss_sub_mismatch"),
    "iss another": (lambda c: signed(c, iss="someone-else"), "assertion_iss_sub_mismatch"),
    "expired": (lambda c: signed(c, exp=NOW), "assertion_expired"),
    "exp missing": (lambda c: signed(c, exp=None), "assertion_exp_missing"),
    "exp a string": (lambda c: signed(c, exp=str(NOW + 60)), "assertion_exp_missing"),
    "exp not a number": (lambda c: signed(c, exp=float("nan")), "assertion_exp_missing"),
    "exp infinite": (lambda c: signed(c, exp=float("inf")), "assertion_exp_missing"),
    "a crit header": (
        lambda c: by_hand(
            {"alg": "RS256", "kid": RSA.kid, "crit": ["b64"], "b64": False}, claims_for(c)
        ),
        "assertion_malformed",
    ),
    "exp too far ahead": (lambda c: signed(c, exp=NOW + 301), "assertion_exp_too_far"),
    "iat in the future": (lambda c: signed(c, iat=NOT_YET), "assertion_issued_in_future"),
    "nbf in the future": (lambda c: signed(c, nbf=NOT_YET), "assertion_not_yet_valid"),
    "jti missing": (lambda c: signed(c, jti=None), "assertion_jti_missing"),
    "jti empty": (lambda c: signed(c, jti=""), "assertion_jti_missing"),
    "not a JWT": (lambda c: "not.a.jwt", "assertion_malformed"),
    "a JWE-like five parts": (lambda c: "a.b.c.d.e", "assertion_malformed"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_bad_assertion_is_invalid_client_with_its_reason(client, lab, mira, case):
    make, reason = CASES[case]
    with clock.frozen(AT):
        log_in(client, mira)
        code, asked = code_for(client, lab)
        assert exchange(lab, code, asked.verifier, make(lab.client_id)) == (
            401,
            {"error": "invalid_client"},
        )
        assert refused(lab, reason) == refusals()
        assert UsedAssertion.objects.count() == 0
        # Nothing spent: the code is still the application's.
        assert SignIn.objects.get().redeemed_at is None
        assert exchange(lab, code, asked.verifier, signed(lab.client_id))[0] == 200


def test_the_limits_in_time_are_five_minutes_ahead_and_thirty_seconds_early(client, lab, mira):
    """policies.OIDC_CLIENT_ASSERTION_MAX_AHEAD and OIDC_CLIENT_ASSERTION_LEEWAY."""
    with clock.frozen(AT):
        log_in(client, mira)
        for override, status in [
            ({"exp": NOW + 300}, 200),
            ({"exp": NOW + 301}, 401),
            ({"iat": NOW + 30, "nbf": NOW + 30}, 200),
            ({"iat": NOW + 31}, 401),
            ({"exp": NOW + 1}, 200),
        ]:
            code, asked = code_for(client, lab)
            assertion = signed(lab.client_id, **override)
            assert exchange(lab, code, asked.verifier, assertion)[0] == status, override


def test_an_assertion_is_used_once(client, lab, mira):
    log_in(client, mira)
    assertion = signed(lab.client_id)
    code, asked = code_for(client, lab)
    assert exchange(lab, code, asked.verifier, assertion)[0] == 200
    code, asked = code_for(client, lab)
    assert exchange(lab, code, asked.verifier, assertion) == (401, {"error": "invalid_client"})
    assert refusals() == refused(lab, "assertion_replayed")
    assert SignIn.objects.filter(redeemed_at=None).count() == 1  # the second code not spent


def test_a_private_key_jwt_client_cannot_use_a_secret(client, lab, mira):
    log_in(client, mira)
    code, asked = code_for(client, lab)
    for secret in ["", "anything"]:
        status, answer = exchange(
            lab,
            code,
            asked.verifier,
            None,
            client_assertion_type=None,
            client_secret=secret,
        )
        assert (status, answer) == (401, {"error": "invalid_client"})
    basic = base64.b64encode(f"{lab.client_id}:".encode()).decode()
    status, _answer = token_request(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": asked.verifier,
        },
        authorization=f"Basic {basic}",
    )
    assert status == 401
    assert refusals() == refused(lab, "secret_by_private_key_jwt_client") * 3
    assert SignIn.objects.get().redeemed_at is None


def test_a_secret_client_cannot_use_an_assertion(client, app, mira):
    """Declaratieportaal has a secret and no keys: an assertion, even one signed with a key it
    never registered, authenticates nothing."""
    log_in(client, mira)
    code, asked = code_for(client, app)
    assert exchange(app, code, asked.verifier, signed(app.client_id)) == (
        401,
        {"error": "invalid_client"},
    )
    assert refusals() == refused(app, "assertion_by_secret_client")


def test_a_secret_and_an_assertion_together_are_refused(client, app, lab, mira):
    log_in(client, mira)
    code, asked = code_for(client, lab)
    status, _ = exchange(lab, code, asked.verifier, signed(lab.client_id), client_secret="x")
    assert status == 401
    code, asked = code_for(client, app)
    status, _ = exchange(app, code, asked.verifier, signed(app.client_id), client_secret=app.secret)
    assert status == 401
    assert refusals() == (
        refused(lab, "several_client_auth_methods") + refused(app, "several_client_auth_methods")
    )


def test_another_client_s_assertion_is_refused(client, lab, mira, operator, care):
    rooster = register(
        operator,
        [care],
        name="Rooster",
        uris=REDIRECT,
        token_endpoint_auth_method="private_key_jwt",
        jwks=jwks(ROOSTER),
    )
    log_in(client, mira)
    code, asked = code_for(client, rooster)
    # Labviewer's valid assertion, presented for Rooster's code.
    assert exchange(rooster, code, asked.verifier, signed(lab.client_id)) == (
        401,
        {"error": "invalid_client"},
    )
    # Rooster signs claims of Labviewer with its own key: not a key Labviewer registered.
    assert exchange(lab, code, asked.verifier, signed(lab.client_id, key=ROOSTER)) == (
        401,
        {"error": "invalid_client"},
    )
    # Without a client_id the assertion alone names the client: Labviewer, whose it is not.
    assert exchange(rooster, code, asked.verifier, signed(lab.client_id), client_id=None) == (
        400,
        {"error": "invalid_grant"},
    )
    assert refusals() == [
        (
            rooster.client.audit_ref,
            {
                "client_id": rooster.client_id,
                "error": "invalid_client",
                "reason": "assertion_client_mismatch",
            },
        ),
        *refused(lab, "assertion_kid_unknown"),
        (
            lab.client.audit_ref,
            {"client_id": lab.client_id, "error": "invalid_grant", "reason": "code_unknown"},
        ),
    ]
    assert exchange(rooster, code, asked.verifier, signed(rooster.client_id, key=ROOSTER))[0] == 200


@pytest.mark.parametrize(
    ("assertion_type", "assertion"),
    [
        ("urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "signed"),
        (None, "signed"),
        (TYPE, None),
    ],
)
def test_an_assertion_of_another_type_or_missing_is_refused(
    client, lab, mira, assertion_type, assertion
):
    log_in(client, mira)
    code, asked = code_for(client, lab)
    made = signed(lab.client_id) if assertion else None
    data = {"client_assertion_type": assertion_type}
    status, answer = exchange(lab, code, asked.verifier, made, **data)
    assert (status, answer) == (401, {"error": "invalid_client"})
    assert [details["reason"] for _actor, details in refusals()] == (
        ["assertion_type_unsupported"] if assertion_type != TYPE else ["assertion_malformed"]
    )


def test_an_unknown_client_s_assertion_is_refused(client, lab, mira):
    log_in(client, mira)
    code, asked = code_for(client, lab)
    status, _ = exchange(lab, code, asked.verifier, signed("nobody"), client_id=None)
    assert status == 401
    assert refusals() == [
        (
            "system",  # no client of that name
            {
                "client_id": "nobody",
                "error": "invalid_client",
                "reason": "assertion_client_unknown",
            },
        )
    ]


# --- Registration ---------------------------------------------------------------------------------

FORM = {
    "name": "Labviewer",
    "redirect_uris": "https://lab.example.nl/oidc/callback",
    "minimum_acr": "low",
    "subject_type": "pairwise",
    "token_endpoint_auth_method": "private_key_jwt",
}


def _console(client, operator):
    from appids import app_id

    log_in(client, operator, "app", authenticator=app_id(operator).public_id)


def test_an_operator_registers_a_private_key_jwt_client(client, operator, care):
    from zorgsleutel.oidc.models import Client

    _console(client, operator)
    pasted = json.loads(jwks(RSA, EC))
    pasted["keys"][0]["alg"], pasted["keys"][0]["use"] = "RS256", "sig"
    response = client.post(
        "/operator/single-sign-on/nieuw",
        {**FORM, "jwks": json.dumps(pasted), "organisations": [care.pk]},
    )
    html = response.content.decode()
    assert "<h1>Labviewer is geregistreerd</h1>" in html
    assert 'id="client-secret"' not in html and "client-geheim nu" not in html  # none to show
    assert "<code>lab-2026</code> (RSA 2048 bits)" in html
    assert "<code>lab-ec</code> (EC P-256)" in html
    row = Client.objects.select_related("application").get()
    assert (row.token_endpoint_auth_method, row.application.client_secret) == (
        "private_key_jwt",
        "",
    )
    rsa, ec = json.loads(RSA.export_public()), json.loads(EC.export_public())
    assert row.jwks == {
        "keys": [
            {"kty": "RSA", "kid": "lab-2026", "n": rsa["n"], "e": "AQAB", "alg": "RS256",
             "use": "sig"},
            {"kty": "EC", "kid": "lab-ec", "crv": "P-256", "x": ec["x"], "y": ec["y"]},
        ]
    }  # fmt: skip
    page = client.get(f"/operator/single-sign-on/{row.public_id}").content.decode()
    assert "private_key_jwt: geen client-geheim" in page
    assert "<code>lab-2026</code> (RSA 2048 bits)" in page
    (event,) = AuditEvent.objects.filter(action="sso_client.registered")
    assert (event.details["token_endpoint_auth_method"], event.details["jwks"]) == (
        "private_key_jwt",
        [
            {"kid": "lab-2026", "kty": "RSA", "size": 2048},
            {"kid": "lab-ec", "kty": "EC", "size": "P-256"},
        ],
    )


def _key(**change) -> dict:
    key = json.loads(RSA.export_public())
    key.update(change)
    return {k: v for k, v in key.items() if v is not None}


def _private(key) -> dict:
    return json.loads(key.export_private())


WEAK = jwk.JWK.generate(kty="RSA", size=1024, kid="weak")
P384 = jwk.JWK.generate(kty="EC", crv="P-384", kid="p384")
SHAPE = 'Plak de publieke sleutels als JWKS: JSON van de vorm {"keys": [...]}.'
PRIVATE = "Dit is een privésleutel: plak alleen de publieke sleutels."
CURVE = "alleen RSA-sleutels en EC-sleutels op P-256 kunnen worden geregistreerd."
SIX = {"keys": [_key(kid=f"k{n}") for n in range(6)]}
FIVE = {"keys": [_key(kid=f"k{n}") for n in range(5)]}


@pytest.mark.parametrize(
    ("pasted", "message"),
    [
        ("{not json", SHAPE),
        (json.dumps(_key()), SHAPE),
        ('{"keys": []}', "Plak ten minste één publieke sleutel."),
        (json.dumps({"keys": [_private(RSA)]}), PRIVATE),
        (json.dumps({"keys": [_private(EC)]}), PRIVATE),
        (json.dumps({"keys": [_key(p="AQAB")]}), PRIVATE),
        (json.dumps({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]}),
         PRIVATE),
        (jwks(WEAK), "weak: een RSA-sleutel heeft ten minste 2048 bits."),
        (jwks(P384), f"p384: {CURVE}"),
        (json.dumps({"keys": [_key(kid=None)]}), "Geef elke sleutel een kid (zijn naam)."),
        (json.dumps({"keys": [_key(kid="")]}), "Geef elke sleutel een kid (zijn naam)."),
        (json.dumps({"keys": [_key(), _key()]}), "Geef elke sleutel een eigen kid."),
        (json.dumps(SIX), "Registreer ten hoogste 5 sleutels."),
        (json.dumps({"keys": [_key(alg="HS256")]}),
         "lab-2026: een sleutel hier ondertekent (use sig) met RS256 (RSA) of ES256 (EC)."),
        (json.dumps({"keys": [_key(use="enc")]}),
         "lab-2026: een sleutel hier ondertekent (use sig) met RS256 (RSA) of ES256 (EC)."),
        (json.dumps({"keys": [_key(n="AQAB")]}), "lab-2026: dit is geen bruikbare sleutel."),
        ("", "Plak de publieke sleutels (JWKS) van de applicatie voor private_key_jwt."),
    ],
)  # fmt: skip
def test_a_bad_key_set_is_refused_and_nothing_registered(client, operator, care, pasted, message):
    from zorgsleutel.oidc.models import Client

    _console(client, operator)
    response = client.post(
        "/operator/single-sign-on/nieuw", {**FORM, "jwks": pasted, "organisations": [care.pk]}
    )
    html = response.content.decode().replace("&quot;", '"').replace("&#x27;", "'")
    assert "Er is 1 fout in het formulier" in html
    assert message in html
    assert Client.objects.count() == 0
    assert not AuditEvent.objects.filter(action="sso_client.registered").exists()


def test_the_form_offers_both_methods(client, operator, care):
    _console(client, operator)
    html = client.get("/operator/single-sign-on/nieuw").content.decode()
    assert "geen geheim: plak in plaats daarvan hieronder haar publieke sleutels." in html
    assert "client-geheim (standaard)" in html
    assert "Publieke sleutels (JWKS, voor private_key_jwt)" in html
    client.cookies["django_language"] = "en"
    html = client.get("/operator/single-sign-on/nieuw").content.decode()
    assert "RSA of at least 2048 bits or EC P-256, each with its kid, at most 5 keys." in html


def test_keys_for_a_secret_client_are_refused(client, operator, care):
    from zorgsleutel.oidc.models import Client

    _console(client, operator)
    response = client.post(
        "/operator/single-sign-on/nieuw",
        {**FORM, "token_endpoint_auth_method": "client_secret", "jwks": jwks(RSA),
         "organisations": [care.pk]},
    )  # fmt: skip
    html = response.content.decode()
    assert "Publieke sleutels zijn alleen voor private_key_jwt: laat dit veld leeg." in html
    assert Client.objects.count() == 0


def test_five_keys_are_the_most(operator, care):
    """policies.OIDC_CLIENT_JWKS_KEYS_MAX (six: above) and OIDC_CLIENT_RSA_MIN_BITS (1024:
    above; 2048 is the fixture's)."""
    made = register(
        operator,
        [care],
        name="Vijf",
        token_endpoint_auth_method="private_key_jwt",
        jwks=json.dumps(FIVE),
    )
    assert [key["kid"] for key in made.client.jwks["keys"]] == ["k0", "k1", "k2", "k3", "k4"]


def test_register_client_refuses_what_the_form_would(operator, care):
    from zorgsleutel.core.errors import DomainError
    from zorgsleutel.oidc.models import Client

    for method, pasted, code in [
        ("private_key_jwt", json.dumps({"keys": [_private(RSA)]}), "jwks_private_key"),
        ("private_key_jwt", "", "jwks_required"),
        ("client_secret", jwks(RSA), "jwks_not_used"),
        ("client_secret_jwt", "", "token_endpoint_auth_method_invalid"),
    ]:
        with pytest.raises(DomainError) as refused_with:
            register(operator, [care], token_endpoint_auth_method=method, jwks=pasted)
        codes = [e.code for e in getattr(refused_with.value, "errors", [refused_with.value])]
        assert codes == [code]
    assert Client.objects.count() == 0


# --- One assertion in two requests at once -------------------------------------------------------


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the race needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_one_assertion_sent_twice_at_once_authenticates_once(lab, mira, monkeypatch):
    """Two portal processes see the same jti: the unique constraint makes the second wait for
    the first's transaction, then refuses it."""
    from zorgsleutel.oidc import validator

    browser = Browser()
    log_in(browser, mira)
    code, asked = code_for(browser, lab)
    access = exchange(lab, code, asked.verifier, signed(lab.client_id))[1]["access_token"]
    introspect = validator.Validator.introspect_token

    def slowly(*args, **kwargs):  # the first holds its transaction (and the jti) a while
        time.sleep(0.5)
        return introspect(*args, **kwargs)

    monkeypatch.setattr(validator.Validator, "introspect_token", slowly)
    data = {
        "token": access,
        "client_assertion_type": TYPE,
        "client_assertion": signed(lab.client_id),
    }
    start = threading.Barrier(2)
    statuses = []

    def one():
        try:
            start.wait()
            statuses.append(Browser().post("/oidc/introspect", data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [200, 401]
    assert [details["reason"] for _actor, details in refusals()] == ["assertion_replayed"]


def _wrapped(old: str, fresh_claims: dict) -> str:
    """An old signed assertion inside a JWS JSON document whose first member's name reads, to a
    lenient base64url decoder, as a compact JWS with fresh claims (a security review's attack)."""
    protected, payload, signature = old.split(".")
    fake = f"{b64(json.dumps({'alg': 'RS256', 'kid': RSA.kid}).encode())}."
    fake += f"{b64(json.dumps(fresh_claims).encode())}."
    return json.dumps(
        {fake: "x", "payload": payload, "protected": protected, "signature": signature}
    )


def test_an_old_signature_wrapped_with_fresh_claims_authenticates_nobody(client, lab, mira):
    with clock.frozen(AT):
        # Signed by the client once, for another server, long expired.
        old = signed(lab.client_id, aud="https://another-as.example", exp=NOW - 3600)
        log_in(client, mira)
        code, asked = code_for(client, lab)
        wrapped = _wrapped(old, claims_for(lab.client_id))
        assert exchange(lab, code, asked.verifier, wrapped) == (401, {"error": "invalid_client"})
        assert refusals() == refused(lab, "assertion_malformed")
        assert SignIn.objects.get().redeemed_at is None
        assert exchange(lab, code, asked.verifier, signed(lab.client_id))[0] == 200
