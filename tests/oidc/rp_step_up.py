"""A relying party in a process of its own that asks for more than the person's session has,
for tests/oidc/test_rp_step_up.py: on Authlib and joserfc like rp.py, whose checks it reuses.

It reads one JSON command a line on stdin and answers each with one JSON line on stdout:

- {"do": "start", "issuer", "client_id", "client_secret", "redirect_uri", "acr_values",
  "cookie_name", "cookie_value"}: an authorization request (code + PKCE S256, state, nonce,
  acr_values) that the browser with that session cookie follows; answers where the portal sent
  the browser (the login page of a stronger means, when it steps the person up) and the
  session cookie the browser holds after it.
- {"do": "resume", "cookie_value"}: the same request followed again by the browser, after the
  person logged in with that means (a new session id); answers the ID token as the party
  verified it (signature against the JWKS, iss, aud, exp, iat, nonce, at_hash) and the state.
- {"do": "quit"}.
"""

from __future__ import annotations

import json
import os
import sys
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc.jwk import KeySet
from rp import verify


def browser_follows(url: str, cookie: tuple[str, str]) -> dict:
    """What a browser with the session cookie gets back, and its session cookie after it (a
    step-up logs the session out: the portal sets a new one, which the browser keeps)."""
    response = requests.get(url, cookies=dict([cookie]), allow_redirects=False, timeout=30)
    location = response.headers.get("Location", "")
    answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    kept = response.cookies.get(cookie[0]) or cookie[1]
    return {"status": response.status_code, "location": location, "cookie": kept, **answer}


def main() -> None:
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the test server is plain http on loopback
    asked: dict = {}
    for line in sys.stdin:
        command = json.loads(line)
        if command["do"] == "quit":
            return
        if command["do"] == "start":
            asked = dict(command)
            issuer = command["issuer"]
            asked["metadata"] = metadata = requests.get(
                f"{issuer}/.well-known/openid-configuration", timeout=30
            ).json()
            asked["keys"] = KeySet.import_key_set(
                requests.get(metadata["jwks_uri"], timeout=30).json()
            )
            asked["session"] = OAuth2Session(
                command["client_id"],
                command["client_secret"],
                scope="openid profile",
                redirect_uri=command["redirect_uri"],
                code_challenge_method="S256",
                token_endpoint_auth_method="client_secret_basic",
            )
            asked["verifier"] = "v" * 20 + os.urandom(24).hex()
            asked["nonce"] = os.urandom(16).hex()
            asked["url"], asked["state"] = asked["session"].create_authorization_url(
                metadata["authorization_endpoint"],
                code_verifier=asked["verifier"],
                nonce=asked["nonce"],
                acr_values=command["acr_values"],
            )
            went = browser_follows(asked["url"], (command["cookie_name"], command["cookie_value"]))
            answer = {k: went[k] for k in ("status", "location", "cookie")}
        else:  # resume
            metadata = asked["metadata"]
            went = browser_follows(asked["url"], (asked["cookie_name"], command["cookie_value"]))
            token = asked["session"].fetch_token(
                metadata["token_endpoint"], code=went["code"], code_verifier=asked["verifier"]
            )
            checked = verify(
                token["id_token"],
                asked["keys"],
                issuer=metadata["issuer"],
                client_id=asked["client_id"],
                nonce=asked["nonce"],
                access_token=token["access_token"],
            )
            answer = {"state_matches": went.get("state") == asked["state"], **checked}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
