"""Benchmark: the portal's CPU for single sign-on, per step, in one thread of one process (not a
test).

Issue 18's goals (docs/benchmarks.md, "Single sign-on"): authorization-code exchanges at the
token endpoint, and refreshes, at least 240 per second per core each (twice Keycloak's sizing
figure of 120 per vCPU); a complete round trip for a person already logged in (authorize →
code → token → userinfo) at least 100 per second per core.

As bench/smartcard_login_steps.py does, this calls the portal's WSGI application
(zorgsleutel.wsgi: the status app in front, Django's handler, every middleware) in this
process, one round trip at a time, and reads the thread's CPU clock around each request. It
leaves out the HTTP server's share (gunicorn: about 0.25–0.3 ms per request, "The floor" in
docs/benchmarks.md) and, with PostgreSQL, the database server's CPU.

Setup: DEBUG off behind a TLS proxy, one organisation, --warmup + --rounds people each with a
logged-in session as `complete_login` leaves it (password + sms, acr low) and their own
workstation address, one application registered as an operator registers it (a secret, one
redirect URI, pairwise subjects) that each person has allowed (their consent). Each round,
for the next person:

    browser  GET  /oidc/authorize?…     the session is logged in: a redirect with the code
    client   POST /oidc/token           the code and its PKCE verifier, the secret (Basic)
    client   GET  /oidc/userinfo        the access token
    client   POST /oidc/token           the refresh token: a new pair (rotation)

Every answer is checked (the state, the code, the ID token's nonce and audience; the first ID
token's signature against the JWKS; the userinfo's sub; the refresh's new tokens).

    .venv/bin/python bench/oidc_steps.py [--database-url postgres://…] [--redis-url redis://…]
        [--rounds 1000] [--profile FILE] [--json]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import secrets
import statistics
import sys
from urllib.parse import parse_qs, urlencode, urlsplit

from _common import (
    BenchError,
    Profiles,
    Scratch,
    WsgiClient,
    add_database_options,
    add_members,
    new_report,
    parse_options,
    run_main,
    speaker,
)

REDIRECT = "https://epd.bench.test/callback"
SCOPE = "openid profile email"
STEPS = ("authorize", "token", "userinfo", "refresh")
FORM = "application/x-www-form-urlencoded"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def claims_of(id_token: str) -> dict:
    """The ID token's claims, unverified (the first one is verified in full: verify_first)."""
    payload = id_token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def verify_first(id_token: str, client_id: str, nonce: str, issuer: str) -> None:
    """One ID token checked as a relying party does: signature against the JWKS, iss, aud,
    nonce (the steps after it only check the nonce and the audience)."""
    from jwcrypto import jwk, jwt

    from zorgsleutel.oidc import keys

    key_set = jwk.JWKSet.from_json(json.dumps(keys.key_set()))
    token = jwt.JWT(jwt=id_token, key=key_set, algs=["RS256", "ES256"])
    claims = json.loads(token.claims)
    if claims["iss"] != issuer or claims["aud"] != client_id or claims["nonce"] != nonce:
        raise BenchError(f"the ID token's claims: {claims}")


class Round:
    """One relying party's view of a round: what it asked, what it got."""

    def __init__(self, client_id: str, secret: str, scope: str):
        self.client_id, self.scope = client_id, scope
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.basic = {"authorization": f"Basic {basic}"}

    def authorize(self, browser: WsgiClient) -> tuple[str, str, str, float]:
        """(code, verifier, nonce, CPU seconds)."""
        verifier, challenge = pkce()
        state, nonce = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": REDIRECT,
                "scope": self.scope,
                "state": state,
                "nonce": nonce,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        status, body, used = browser.request("authorize", "GET", f"/oidc/authorize?{query}")
        location = dict((k.lower(), v) for k, v in browser.headers).get("location", "")
        params = parse_qs(urlsplit(location).query)
        if status != 302 or not location.startswith(REDIRECT) or params.get("state") != [state]:
            raise BenchError(f"authorize: {status} {location or body[:300]!r}")
        return params["code"][0], verifier, nonce, used

    def token(self, client: WsgiClient, step: str, form: dict) -> tuple[dict, float]:
        status, body, used = client.request(
            step, "POST", "/oidc/token", urlencode(form).encode(), FORM, self.basic
        )
        if status != 200:
            raise BenchError(f"{step}: {status} {body[:300]!r}")
        return json.loads(body), used


def one_round(rp: Round, browser: WsgiClient, client: WsgiClient, first: bool) -> dict:
    used: dict[str, float] = {}
    code, verifier, nonce, used["authorize"] = rp.authorize(browser)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
    }
    tokens, used["token"] = rp.token(client, "token", form)
    claims = claims_of(tokens["id_token"])
    if claims["nonce"] != nonce or claims["aud"] != rp.client_id:
        raise BenchError(f"the ID token: {claims}")
    if first:
        from django.conf import settings

        verify_first(tokens["id_token"], rp.client_id, nonce, settings.SITE_URL)
    bearer = {"authorization": f"Bearer {tokens['access_token']}"}
    status, body, used["userinfo"] = client.request(
        "userinfo", "GET", "/oidc/userinfo", headers=bearer
    )
    if status != 200 or json.loads(body).get("sub") != claims["sub"]:
        raise BenchError(f"userinfo: {status} {body[:300]!r}")
    if "refresh_token" in tokens:
        form = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
        renewed, used["refresh"] = rp.token(client, "refresh", form)
        if renewed.get("refresh_token") in (None, tokens["refresh_token"]):
            raise BenchError(f"the refresh did not rotate: {sorted(renewed)}")
    return used


def setup(count: int) -> tuple:
    """The organisation, its people with a logged-in session each, the application."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth.models import AnonymousUser
    from django.test import RequestFactory

    from _common import model
    from zorgsleutel.authn import sessions
    from zorgsleutel.oidc import clients, keys

    organisation = model("organisations.Organisation").objects.create(
        name="Benchzorg", kind="care_provider", ura="90001234", state="validated"
    )
    user_model = model("accounts.User")
    operator = user_model.objects.create(
        email="operator@bench.test", name="Otto Operator", state="active", is_operator=True
    )
    people = add_members(
        organisation,
        [
            user_model(email=f"p{i}@bench.test", name=f"Persoon {i}", state="active")
            for i in range(count)
        ],
    )
    keys.rotate(start=True)
    registered = clients.register_client(
        actor=operator,
        name="Bench-EPD",
        redirect_uris=REDIRECT,
        organisations=[organisation],
        minimum_acr="low",
    )
    # Each person has allowed the application before (its consent page is a once-per-person
    # page, not part of a round trip): the row "Toestaan" leaves.
    now = organisation.created_at
    model("oidc.Consent").objects.bulk_create(
        [
            model("oidc.Consent")(
                user=person,
                client=registered.client,
                organisation=organisation,
                scopes=sorted(SCOPE.split()),
                granted_at=now,
                updated_at=now,
            )
            for person in people
        ],
        batch_size=1000,
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore
    logged_in = []
    for number, person in enumerate(people):
        request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1")
        request.session, request.user = store(), AnonymousUser()
        sessions.complete_login(request, person, "sms")
        address = f"10.{number // 65536 % 256}.{number // 256 % 256}.{number % 256}"
        logged_in.append((request.session.session_key, address))
    return registered, logged_in


def run(options: argparse.Namespace) -> dict:
    report = new_report("oidc_steps", load_before=True)
    say = speaker(options.json)
    steps: dict[str, list[float]] = {}
    with Scratch("zs-bench-oidc-", options.database_url, options.redis_url) as scratch:
        portal = scratch.portal(scratch.database("portal"))
        say("setup: migrating …")
        portal.migrate()
        portal.django()
        count = options.warmup + options.rounds
        say(f"setup: {count} people, each with a logged-in session …")
        registered, people = setup(count)
        from django.conf import settings

        from zorgsleutel.wsgi import application

        host = settings.SITE_URL.split("//", 1)[1]
        browser = WsgiClient(application, host, "text/html")
        client = WsgiClient(application, host, "application/json")
        client.address = "192.0.2.10"  # the application's server
        rp = Round(registered.client_id, registered.secret, SCOPE)
        report["scope"] = rp.scope
        for number, (session, address) in enumerate(people[: options.warmup]):
            browser.cookies, browser.address = {settings.SESSION_COOKIE_NAME: session}, address
            one_round(rp, browser, client, first=number == 0)
        profiles = Profiles(STEPS) if options.profile else None
        if profiles is not None:
            browser.watchers = client.watchers = [profiles]
        say(f"timed: {options.rounds} round trips, one at a time …")
        for session, address in people[options.warmup :]:
            browser.cookies, browser.address = {settings.SESSION_COOKIE_NAME: session}, address
            for step, seconds in one_round(rp, browser, client, first=False).items():
                steps.setdefault(step, []).append(seconds)
        report["server"] = {"database": scratch.describe(), "cache": scratch.describe_cache()}
    if profiles is not None:
        profiles.dump(options.profile)
    round_trip = [
        sum(parts)
        for parts in zip(steps["authorize"], steps["token"], steps["userinfo"], strict=True)
    ]
    report["rounds"] = options.rounds
    report["cpu_ms"] = {
        step: {
            "mean": round(statistics.fmean(values) * 1000, 3),
            "median": round(statistics.median(values) * 1000, 3),
        }
        for step, values in {**steps, "round trip": round_trip}.items()
    }
    report["per_cpu_second"] = {
        "code exchanges": round(1 / statistics.fmean(steps["token"]), 1),
        "round trips": round(1 / statistics.fmean(round_trip), 1),
    }
    if "refresh" in steps:
        report["per_cpu_second"]["refreshes"] = round(1 / statistics.fmean(steps["refresh"]), 1)
    return report


def print_summary(report: dict) -> None:
    m = report["machine"]
    print()
    print("Single sign-on: the portal's CPU per step (one thread, in process)")
    print(
        f"  machine   {m['nproc']} cores, {m['cpu_model']}; code {m['code']['commit']}; "
        f"load average before the run {report.get('loadavg_before', '?')}"
    )
    print(f"  database  {report['server']['database']}")
    print(f"  cache     {report['server']['cache']}")
    for step, cpu in report["cpu_ms"].items():
        print(f"  {step:<10} mean {cpu['mean']:>7} ms   median {cpu['median']:>7} ms")
    for what, rate in report["per_cpu_second"].items():
        print(f"  = {rate} {what} per CPU second (per core)")
    print(f"  {report['rounds']} round trips")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="The portal's CPU per single sign-on step (docs/benchmarks.md)."
    )
    add_database_options(parser, redis=True)
    parser.add_argument("--rounds", type=int, default=1000, help="timed round trips [1000]")
    parser.add_argument("--warmup", type=int, default=50, help="untimed round trips first [50]")
    parser.add_argument("--profile", default="", help="cProfile each step into FILE.<step>")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parse_options(parser, argv)
    if not 1 <= options.rounds <= 50_000:
        parser.error("--rounds must be 1..50000")
    return options


def main(argv: list[str] | None = None) -> int:
    return run_main(argv, parse_args, run, print_summary)


if __name__ == "__main__":
    sys.exit(main())
