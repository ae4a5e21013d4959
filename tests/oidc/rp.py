"""A relying party in a process of its own, on Authlib (and joserfc): what an application of a
care organisation does with Zorgsleutel, for tests/oidc/test_rp.py.

It reads one JSON object on stdin (issuer, client_id, client_secret, redirect_uri, the name
and value of a browser's Zorgsleutel session cookie) and prints one JSON object of results.
The browser's part (following the authorization request with the session cookie) is a plain
HTTP client; everything an application checks is Authlib's and joserfc's: the discovery
document, PKCE S256, state, the RFC 9207 `iss`, the code exchange (client_secret_basic), the
ID token's signature against the JWKS and its iss, aud, exp, iat, nonce and at_hash, then
userinfo; the refresh (Authlib's refresh_token: a new pair, the new ID token checked the same
way), then what a thief replaying the old refresh token causes. Then RP-initiated logout. Several
flows in one run keep the test's process starts to one.

Given a `backchannel_port`, it is a second application instead: it signs the person in, prints
a line, listens on that port for the provider's Back-Channel Logout POST and checks the logout
token as an application must (section 2.6), then prints what it received and checked.
"""

from __future__ import annotations

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet


def browser_follows(url: str, cookie: tuple[str, str]) -> dict:
    """What a browser with the session cookie gets back at the redirect URI."""
    response = requests.get(url, cookies=dict([cookie]), allow_redirects=False, timeout=30)
    location = response.headers.get("Location", "")
    answer = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    return {"status": response.status_code, "location": location, **answer}


def verify(id_token: str, keys: KeySet, *, issuer, client_id, nonce, access_token) -> dict:
    """The ID token checked as an application must; `nonce` None for a refresh's (there is no
    authentication request to bind it to)."""
    token = jwt.decode(id_token, keys, algorithms=["RS256"])
    claims = CodeIDToken(
        token.claims,
        token.header,
        options={
            "iss": {"essential": True, "value": issuer},
            "aud": {"essential": True, "value": client_id},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": nonce is not None},
            "at_hash": {"essential": True},
        },
        params={"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    claims.validate()
    if "at_hash" not in claims:  # Authlib checks it when present; this application wants it
        raise ValueError("no at_hash")
    return {"header": token.header, "claims": dict(claims)}


# --- Back-Channel Logout 1.0: the application's side --------------------------------------------

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def check_logout_token(token: str, keys: KeySet, *, issuer, client_id, sid, sub) -> dict:
    """Section 2.6, as an application validates a logout token: the signature against the
    provider's JWKS (RS256), typ logout+jwt, iss, aud, iat, exp, a jti, the logout event, no
    nonce, and the sid and sub of the sign-in it ends."""
    decoded = jwt.decode(token, keys, algorithms=["RS256"])
    if decoded.header.get("typ") != "logout+jwt":
        raise ValueError("not a logout token")
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        iat={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
    ).validate(decoded.claims)
    claims = decoded.claims
    if claims.get("events", {}).get(EVENT) != {}:
        raise ValueError("no back-channel logout event")
    if "nonce" in claims:
        raise ValueError("a logout token carries no nonce")
    if claims.get("sid") != sid or claims.get("sub") != sub:
        raise ValueError("not the session this application signed in")
    return {"header": decoded.header, "claims": claims}


def receive_one_logout(port: int, timeout: float) -> tuple[str, dict]:
    """Listen on 127.0.0.1:`port` for the provider's one POST; (its logout_token, its request
    as seen: path, content type)."""
    got: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            form = parse_qs(self.rfile.read(length).decode())
            got["token"] = form.get("logout_token", [""])[0]
            got["request"] = {
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "fields": sorted(form),
            }
            self.send_response(200)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", port), Handler)
    server.timeout = timeout
    server.handle_request()
    server.server_close()
    return got.get("token", ""), got.get("request", {})


def backchannel(given: dict) -> None:
    """Sign the person in, say so (one line: the ID token's sid and sub), then wait for the
    provider's logout token at the back-channel URI and check it (a second line)."""
    issuer, cookie = given["issuer"], (given["cookie_name"], given["cookie_value"])
    metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=30).json()
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=30).json())
    session = OAuth2Session(
        given["client_id"],
        given["client_secret"],
        scope="openid",
        redirect_uri=given["redirect_uri"],
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier, nonce = "b" * 20 + os.urandom(24).hex(), os.urandom(16).hex()
    url, _state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    answer = browser_follows(url, cookie)
    token = session.fetch_token(
        metadata["token_endpoint"], code=answer["code"], code_verifier=verifier
    )
    id_token = verify(
        token["id_token"],
        keys,
        issuer=issuer,
        client_id=given["client_id"],
        nonce=nonce,
        access_token=token["access_token"],
    )["claims"]
    sid, sub = id_token["sid"], id_token["sub"]
    print(json.dumps({"signed_in": {"sid": sid, "sub": sub}}), flush=True)

    logout_token, request = receive_one_logout(given["backchannel_port"], timeout=90)
    out: dict = {"request": request, "metadata": {
        name: metadata.get(name)
        for name in ("backchannel_logout_supported", "backchannel_logout_session_supported")
    }}  # fmt: skip
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=30).json())
    expected = {"issuer": issuer, "client_id": given["client_id"], "sid": sid, "sub": sub}
    out["logout_token"] = check_logout_token(logout_token, keys, **expected)
    # The application's checks are real: each catches what it must.
    caught = {}
    header, payload, signature = logout_token.split(".")
    forged = ".".join(
        [header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature]
    )
    for name, value, options in [
        ("forged_signature", forged, expected),
        ("other_session", logout_token, {**expected, "sid": "another-session"}),
        ("other_audience", logout_token, {**expected, "client_id": "another-application"}),
        ("id_token_as_logout_token", token["id_token"], expected),
    ]:
        try:
            check_logout_token(value, keys, **options)
            caught[name] = False
        except (JoseError, ValueError):
            caught[name] = True
    out["caught"] = caught
    # The access token the sign-in got is revoked with it.
    after = requests.get(
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=30,
    )
    out["userinfo_after_logout"] = after.status_code
    print(json.dumps(out), flush=True)


def main() -> None:
    given = json.load(sys.stdin)
    if "backchannel_port" in given:
        os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"
        backchannel(given)
        return
    os.environ["AUTHLIB_INSECURE_TRANSPORT"] = "1"  # the test server is plain http on loopback
    issuer, cookie = given["issuer"], (given["cookie_name"], given["cookie_value"])
    out: dict = {}

    metadata = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=30).json()
    out["discovered_issuer"] = metadata["issuer"]
    keys = KeySet.import_key_set(requests.get(metadata["jwks_uri"], timeout=30).json())
    session = OAuth2Session(
        given["client_id"],
        given["client_secret"],
        scope="openid profile email",
        redirect_uri=given["redirect_uri"],
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )

    # 1. A sign-in, checked the way an application must.
    verifier = "v" * 20 + os.urandom(24).hex()
    nonce = os.urandom(16).hex()
    url, state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    answer = browser_follows(url, cookie)
    out["authorization"] = {
        "status": answer["status"],
        "to": answer["location"].split("?")[0],
        "state_matches": answer.get("state") == state,
        "iss": answer.get("iss"),
    }
    token = session.fetch_token(
        metadata["token_endpoint"], code=answer["code"], code_verifier=verifier
    )
    out["token_keys"] = sorted(token)
    checked = verify(
        token["id_token"],
        keys,
        issuer=metadata["issuer"],
        client_id=given["client_id"],
        nonce=nonce,
        access_token=token["access_token"],
    )
    out["id_token"] = checked
    userinfo = session.get(metadata["userinfo_endpoint"])
    out["userinfo"] = {"status": userinfo.status_code, "body": userinfo.json()}

    # 2. What an application's checks would catch: another nonce, another audience, a token
    # signed by someone else (its payload changed), an ID token past its exp.
    caught = {}
    for name, change in [
        ("other_nonce", {"nonce": "not-the-one-sent"}),
        ("other_audience", {"client_id": "another-application"}),
    ]:
        try:
            verify(
                token["id_token"],
                keys,
                **{
                    "issuer": metadata["issuer"],
                    "client_id": given["client_id"],
                    "nonce": nonce,
                    "access_token": token["access_token"],
                    **change,
                },
            )
            caught[name] = False
        except JoseError:
            caught[name] = True
    header, payload, signature = token["id_token"].split(".")
    forged = ".".join(
        [header, payload[:-4] + ("AAAA" if payload[-4:] != "AAAA" else "BBBB"), signature]
    )
    try:
        jwt.decode(forged, keys, algorithms=["RS256"])
        caught["forged_signature"] = False
    except (JoseError, ValueError):
        caught["forged_signature"] = True
    try:
        decoded = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
        CodeIDToken(decoded.claims, decoded.header, {"exp": {"essential": True}}).validate(
            now=decoded.claims["exp"] + 1
        )
        caught["expired"] = False
    except JoseError:
        caught["expired"] = True
    out["caught"] = caught

    # 3. The code once more: refused, and the access token of its first use revoked.
    again = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": answer["code"],
            "redirect_uri": given["redirect_uri"],
            "code_verifier": verifier,
        },
        auth=(given["client_id"], given["client_secret"]),
        timeout=30,
    )
    out["reused"] = {"status": again.status_code, "body": again.json()}
    after = requests.get(
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=30,
    )
    out["userinfo_after_reuse"] = after.status_code

    # 4. A sign-in whose verifier is not the one its challenge was made of.
    verifier2 = "w" * 20 + os.urandom(24).hex()
    url, _state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier2, nonce=nonce
    )
    code = browser_follows(url, cookie)["code"]
    wrong = requests.post(
        metadata["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": given["redirect_uri"],
            "code_verifier": verifier,
        },
        auth=(given["client_id"], given["client_secret"]),
        timeout=30,
    )
    out["wrong_verifier"] = {"status": wrong.status_code, "body": wrong.json()}

    # 5. A sign-in refreshed: a new pair (rotation), the new ID token checked as the first
    # one, the same person and login; then the old refresh token replayed (as a thief who
    # copied it would): refused, and the newest pair the application holds stops working.
    verifier3 = "r" * 20 + os.urandom(24).hex()
    url, _state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier3, nonce=nonce
    )
    code = browser_follows(url, cookie)["code"]
    signed_in = session.fetch_token(metadata["token_endpoint"], code=code, code_verifier=verifier3)
    first = jwt.decode(signed_in["id_token"], keys, algorithms=["RS256"]).claims
    renewed = session.refresh_token(
        metadata["token_endpoint"], refresh_token=signed_in["refresh_token"]
    )
    again = verify(
        renewed["id_token"],
        keys,
        issuer=metadata["issuer"],
        client_id=given["client_id"],
        nonce=None,
        access_token=renewed["access_token"],
    )["claims"]
    out["refresh"] = {
        "token_keys": sorted(renewed),
        "rotated": renewed["refresh_token"] != signed_in["refresh_token"],
        "new_access_token": renewed["access_token"] != signed_in["access_token"],
        "same": {
            name: again.get(name) == first.get(name)
            for name in ("sub", "auth_time", "acr", "amr", "organization", "aud", "iss")
        },
        "nonce": again.get("nonce"),
        "userinfo_old": bearer(metadata, signed_in["access_token"]),
        "userinfo_new": bearer(metadata, renewed["access_token"]),
    }
    replayed = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": signed_in["refresh_token"]},
        auth=(given["client_id"], given["client_secret"]),
        timeout=30,
    )
    newest = requests.post(
        metadata["token_endpoint"],
        data={"grant_type": "refresh_token", "refresh_token": renewed["refresh_token"]},
        auth=(given["client_id"], given["client_secret"]),
        timeout=30,
    )
    out["replayed"] = {
        "status": replayed.status_code,
        "body": replayed.json(),
        "newest_refresh": {"status": newest.status_code, "body": newest.json()},
        "newest_userinfo": bearer(metadata, renewed["access_token"]),
    }

    # 6. RP-initiated logout: a fresh sign-in, then the end-session endpoint with its ID token
    # as the hint; the browser comes back with state, the tokens are revoked, and the next
    # sign-in request finds nobody logged in.
    verifier4 = "x" * 20 + os.urandom(24).hex()
    url, _state = session.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier4, nonce=nonce
    )
    last = session.fetch_token(
        metadata["token_endpoint"],
        code=browser_follows(url, cookie)["code"],
        code_verifier=verifier4,
    )
    logout_state = os.urandom(8).hex()
    ended = requests.get(
        metadata["end_session_endpoint"],
        params={
            "id_token_hint": last["id_token"],
            "post_logout_redirect_uri": given["post_logout_redirect_uri"],
            "state": logout_state,
        },
        cookies=dict([cookie]),
        allow_redirects=False,
        timeout=30,
    )
    back = urlsplit(ended.headers.get("Location", ""))
    out["rp_logout"] = {
        "status": ended.status_code,
        "to": f"{back.scheme}://{back.netloc}{back.path}",
        "state_matches": parse_qs(back.query).get("state") == [logout_state],
        "userinfo_after": requests.get(
            metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {last['access_token']}"},
            timeout=30,
        ).status_code,
        "next_sign_in": urlsplit(browser_follows(url, cookie)["location"]).path,
    }
    json.dump(out, sys.stdout)


def bearer(metadata: dict, access_token: str) -> int:
    """The userinfo endpoint's status for this access token."""
    return requests.get(
        metadata["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
    ).status_code


if __name__ == "__main__":
    main()
