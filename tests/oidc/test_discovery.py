"""The discovery document and the key set, against OpenID Connect Discovery 1.0 (section 3,
Provider Metadata) and RFC 7517, written out."""

from __future__ import annotations

import json

import pytest

from zorgsleutel.oidc import keys

pytestmark = pytest.mark.django_db

# OpenID Connect Discovery 1.0, section 3: REQUIRED for every provider (token_endpoint is
# required unless only the implicit flow is used, which is never here).
REQUIRED = [
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
]
RECOMMENDED = ["userinfo_endpoint", "scopes_supported", "claims_supported"]


def test_the_discovery_document(client):
    response = client.get("/.well-known/openid-configuration")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Access-Control-Allow-Origin"] == "*"
    document = json.loads(response.content)
    assert [name for name in REQUIRED + RECOMMENDED if name not in document] == []
    assert document == {
        "issuer": "https://zorgsleutel.test",
        "authorization_endpoint": "https://zorgsleutel.test/oidc/authorize",
        "token_endpoint": "https://zorgsleutel.test/oidc/token",
        "userinfo_endpoint": "https://zorgsleutel.test/oidc/userinfo",
        "jwks_uri": "https://zorgsleutel.test/oidc/jwks",
        "revocation_endpoint": "https://zorgsleutel.test/oidc/revoke",
        "introspection_endpoint": "https://zorgsleutel.test/oidc/introspect",
        "end_session_endpoint": "https://zorgsleutel.test/oidc/logout",
        "scopes_supported": ["openid", "profile", "email", "roles", "dezi"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise", "public"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "revocation_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "revocation_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "introspection_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "introspection_endpoint_auth_signing_alg_values_supported": ["RS256", "ES256"],
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": [
            "http://eidas.europa.eu/LoA/low",
            "http://eidas.europa.eu/LoA/substantial",
            "http://eidas.europa.eu/LoA/high",
        ],
        "claims_supported": [
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "at_hash",
            "name",
            "given_name",
            "family_name",
            "email",
            "email_verified",
            "organization",
            "roles",
            "application_roles",
            "sid",
            "dezi_nummer",
            "abonnee_nummer",
            "abonnee_naam",
            "rol_code",
            "rol_naam",
            "loa_dezi",
        ],
        "prompt_values_supported": ["none", "login", "consent", "select_account"],
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
    }


def test_the_issuer_is_site_url_at_every_request(client, settings):
    settings.SITE_URL = "https://sso.zorgsleutel.example"
    document = json.loads(client.get("/.well-known/openid-configuration").content)
    assert document["issuer"] == "https://sso.zorgsleutel.example"
    assert document["token_endpoint"] == "https://sso.zorgsleutel.example/oidc/token"


def test_the_key_set(client):
    kid = keys.signing_key().kid
    response = client.get("/oidc/jwks")
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=3600"
    assert response["Access-Control-Allow-Origin"] == "*"
    (key,) = json.loads(response.content)["keys"]
    assert sorted(key) == ["alg", "e", "kid", "kty", "n", "use"]  # no d, p, q, dp, dq, qi
    assert (key["kty"], key["alg"], key["use"], key["kid"], key["e"]) == (
        "RSA",
        "RS256",
        "sig",
        kid,
        "AQAB",
    )
    assert len(key["n"]) == 342  # 2048 bits, base64url without padding

    # The kid is the key's RFC 7638 thumbprint, computed here from n and e alone.
    import base64
    import hashlib

    canonical = json.dumps(
        {"e": key["e"], "kty": "RSA", "n": key["n"]}, separators=(",", ":"), sort_keys=True
    )
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest())
    assert kid == thumbprint.rstrip(b"=").decode()


def test_discovery_and_keys_take_get_only(client):
    assert client.post("/.well-known/openid-configuration").status_code == 405
    assert client.post("/oidc/jwks").status_code == 405


def test_the_key_set_is_never_empty(client):
    """A relying party that reads the key set before anyone ever signed in must not cache an
    empty one (found by tests/oidc/rp.py): the first key is made then."""
    from zorgsleutel.oidc.models import SigningKey

    assert SigningKey.objects.count() == 0
    (key,) = json.loads(client.get("/oidc/jwks").content)["keys"]
    assert key["kid"] == SigningKey.objects.get(state="current").kid
