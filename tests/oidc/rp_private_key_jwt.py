"""A relying party in a process of its own that authenticates with private_key_jwt, for
tests/oidc/test_rp_private_key_jwt.py: Authlib's `PrivateKeyJWT` client authentication and
joserfc keys, the ID token checks of rp.py.

It reads one JSON object on stdin (issuer, client_id, its private key as a JWK, redirect_uri,
the name and value of a browser's Zorgsleutel session cookie) and prints one JSON object of
results: discovery names private_key_jwt; a code exchanged and the ID token verified; userinfo;
a refresh; introspection and revocation with assertions too; one assertion sent twice (the
second refused); and Authlib's PrivateKeyJWT as it comes (an assertion valid for an hour, no
kid), which the portal refuses: its assertions live at most 5 minutes.
"""

from __future__ import annotations

import json
import os
import sys

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7523 import PrivateKeyJWT, private_key_jwt_sign
from joserfc.jwk import KeySet, RSAKey
from rp import browser_follows, verify

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


class ShortLivedPrivateKeyJWT(PrivateKeyJWT):
    """Authlib's PrivateKeyJWT with what the portal asks: the key's kid in the header and an
    assertion valid for a minute (Authlib's default is an hour). A new jti every time."""

    def sign(self, auth, token_endpoint):
        return private_key_jwt_sign(
            auth.client_secret,
            client_id=auth.client_id,
            token_endpoint=token_endpoint,
            alg="RS256",
            header={"kid": auth.client_secret.kid},
            expires_in=60,
        )


def session_for(given: dict, key: RSAKey, auth, token_endpoint: str) -> OAuth2Session:
    session = OAuth2Session(
        given["client_id"],
        key,
        scope="openid profile",
        redirect_uri=given["redirect_uri"],
        code_challenge_method="S256",
        token_endpoint_auth_method="private_key_jwt",
        # Authlib's default for revocation is client_secret_basic with the "secret" it holds:
        # here the private key itself would go out as a password. Say it.
        revocation_endpoint_auth_method="private_key_jwt",
    )
    session.register_client_auth_method(auth(token_endpoint))
    return session


def code_of(session: OAuth2Session, metadata: dict, given: dict) -> tuple[dict, dict]:
    asked = {"verifier": "v" * 20 + os.urandom(24).hex(), "nonce": os.urandom(16).hex()}
    url, asked["state"] = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=asked["verifier"], nonce=asked["nonce"]
    )
    went = browser_follows(url, (given["cookie_name"], given["cookie_value"]))
    return asked, went


def bearer(metadata: dict, access_token: str) -> int:
    headers = {"Authorization": f"Bearer {access_token}"}
    return requests.get(metadata["userinfo_endpoint"], headers=headers, timeout=30).status_code


def main() -> None:
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the test server is plain http on loopback
    given = json.loads(sys.stdin.readline())
    issuer = given["issuer"]
    metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=30).json()
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=30).json())
    key = RSAKey.import_key(given["private_jwk"])
    token_endpoint = metadata["token_endpoint"]
    results: dict = {
        "advertised": "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
        and "RS256" in metadata["token_endpoint_auth_signing_alg_values_supported"],
    }

    # Sign in: the code exchanged with an assertion, the ID token verified.
    session = session_for(given, key, ShortLivedPrivateKeyJWT, token_endpoint)
    asked, went = code_of(session, metadata, given)
    results["state_matches"] = went.get("state") == asked["state"]
    results["iss_matches"] = went.get("iss") == metadata["issuer"]
    token = session.fetch_token(token_endpoint, code=went["code"], code_verifier=asked["verifier"])
    checked = verify(
        token["id_token"],
        keys,
        issuer=metadata["issuer"],
        client_id=given["client_id"],
        nonce=asked["nonce"],
        access_token=token["access_token"],
    )
    results["claims"] = checked["claims"]
    results["userinfo"] = bearer(metadata, token["access_token"])

    # Refresh, with a new assertion.
    renewed = session.refresh_token(token_endpoint, refresh_token=token["refresh_token"])
    again = verify(
        renewed["id_token"],
        keys,
        issuer=metadata["issuer"],
        client_id=given["client_id"],
        nonce=None,
        access_token=renewed["access_token"],
    )
    results["refreshed_sub"] = again["claims"]["sub"]
    results["old_access_after_refresh"] = bearer(metadata, token["access_token"])

    # Introspection and revocation authenticate the same way.
    found = session.introspect_token(
        metadata["introspection_endpoint"], token=renewed["access_token"]
    )
    results["introspected"] = [found.status_code, found.json().get("active")]

    # One assertion sent twice: the second is a replay.
    assertion = private_key_jwt_sign(
        key,
        client_id=given["client_id"],
        token_endpoint=token_endpoint,
        alg="RS256",
        header={"kid": key.kid},
        expires_in=60,
    )
    form = {
        "token": renewed["access_token"],
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }
    results["same_assertion_twice"] = [
        requests.post(metadata["introspection_endpoint"], data=form, timeout=30).status_code,
        requests.post(metadata["introspection_endpoint"], data=form, timeout=30).json(),
    ]

    revoked = session.revoke_token(metadata["revocation_endpoint"], token=renewed["refresh_token"])
    results["revoked"] = revoked.status_code
    results["access_after_revocation"] = bearer(metadata, renewed["access_token"])

    # Authlib's PrivateKeyJWT as it comes: exp an hour ahead, no kid.
    stock = session_for(given, key, PrivateKeyJWT, token_endpoint)
    asked, went = code_of(stock, metadata, given)
    try:
        stock.fetch_token(token_endpoint, code=went["code"], code_verifier=asked["verifier"])
        results["stock_authlib"] = "accepted"
    except OAuthError as error:
        results["stock_authlib"] = error.error
    print(json.dumps(results), flush=True)


if __name__ == "__main__":
    main()
