"""The demo relying party: an application of a care organisation that logs people in through
Zorgsleutel, as `make run` starts it beside the portal (127.0.0.1:8002, `DEMO_RP_PORT`).

It is an application of its own, in its own process: it imports nothing of the portal and knows
the portal only by its issuer URL, its client ID and its client secret, read from the JSON file
`DEMO_RP_CONFIG` names (the demo loader writes it, mode 0600, under var/demo/). Everything a
relying party must check is Authlib's Django client: discovery, state, PKCE S256, nonce, the code
exchange (client_secret_basic) and the ID token's signature against the JWKS, `iss`, `aud`, `exp`
and `at_hash`. It adds the RFC 9207 check Authlib leaves out: the answer's `iss` is the issuer.

A single-file Django project (`settings.configure`): one gunicorn worker, sessions in its memory
under their own cookie name (cookies do not tell ports apart, and the portal on the same host has
its own session and CSRF cookies).

*Uitloggen* (a form: a POST with Django's CSRF token, so no other site can log anyone out) ends
the session here and sends the browser to Zorgsleutel's end-session endpoint (RP-Initiated
Logout 1.0; the endpoint from discovery) with the ID token it received as `id_token_hint`, its
home page as `post_logout_redirect_uri` (registered by the demo loader) and a fresh `state`,
which the home page checks when the browser comes back ("U bent uitgelogd").

The other way round, Back-Channel Logout 1.0: when the Zorgsleutel session it signed in through
ends (the portal's own *Uitloggen*, a blocked membership, ...), Zorgsleutel's worker POSTs a
logout token to `/backchannel-logout`. The token is checked as section 2.6 says (the signature
against the JWKS, RS256, `typ` logout+jwt, `iss`, `aud`, `iat`, `exp`, `jti`, the logout event,
no `nonce`, a `sid`), and the session that ID token's `sid` named is deleted: each login keeps
sid → session key in the cache. (A `jti` seen twice is not looked for: a replayed token ends a
session that has ended already.)

    DEMO_RP_CONFIG=var/demo/relyingparty.json python -m gunicorn \\
        'zorgsleutel.demo.relyingparty:application()' --bind 127.0.0.1:8002 --workers 1
"""

from __future__ import annotations

import functools
import hmac
import json
import os
import secrets
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import django
from authlib.integrations.django_client import OAuth, OAuthError
from django.conf import settings
from django.contrib.sessions.backends.cache import SessionStore
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.urls import path
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact
from requests import RequestException

COOKIE = "zs_demo_rp"
SID = "demo-rp-sid:"  # cache key prefix: Zorgsleutel's sid -> this application's session key
EVENT = "http://schemas.openid.net/event/backchannel-logout"
# What each claim says, for a newcomer reading the table (docs/oidc.md, Claims).
MEANING = {
    "iss": "uitgever: de Zorgsleutel waar u inlogde",
    "aud": "voor wie het ID-token is: de client-ID van deze applicatie",
    "sub": "uw vaste pseudoniem bij deze applicatie",
    "iat": "uitgegeven om",
    "exp": "geldig tot",
    "auth_time": "wanneer u bij Zorgsleutel inlogde",
    "acr": "betrouwbaarheidsniveau (eIDAS)",
    "amr": "de middelen waarmee u inlogde",
    "nonce": "de eenmalige willekeurige waarde van deze aanvraag",
    "at_hash": "de vingerafdruk van het access token",
    "jti": "het kenmerk van dit ID-token",
    "sid": "de Zorgsleutel-sessie waarin u inlogde (uitloggen noemt haar)",
    "organization": "de organisatie waarvoor u inlogt",
    "name": "naam",
    "given_name": "voornaam",
    "family_name": "achternaam",
    "email": "e-mailadres",
    "email_verified": "e-mailadres bevestigd",
}
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:0 auto;padding:1rem;max-width:60rem;"
    "color:#1a1a1a;line-height:1.5}a.knop{display:inline-block;padding:.75rem 1.25rem;"
    "min-height:44px;box-sizing:border-box;background:#01689b;color:#fff;text-decoration:none;"
    "border-radius:4px}a.knop:focus{outline:3px solid #1a1a1a;outline-offset:2px}"
    "button{font:inherit;padding:.75rem 1.25rem;min-height:44px;background:#fff;color:#01689b;"
    "border:2px solid #01689b;border-radius:4px;cursor:pointer}"
    "button:focus{outline:3px solid #1a1a1a;outline-offset:2px}"
    "table{border-collapse:collapse;width:100%;table-layout:fixed}"
    "th,td{text-align:left;vertical-align:top;padding:.4rem;border-bottom:1px solid #767676;"
    "overflow-wrap:anywhere}th:first-child{width:40%}th span{font-weight:normal}"
    "code{font-size:1rem}caption{text-align:left;font-weight:bold;padding:.5rem 0}"
)


def _page(title: str, body: str, status: int = 200):

    html = format_html(
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{} – Demo-applicatie</title><style>{}</style></head>"
        "<body><header><p>Demo-applicatie (een relying party van Zorgsleutel)</p></header>"
        "<main><h1>{}</h1>{}</main></body></html>",
        title,
        STYLE,
        title,
        body,
    )
    return HttpResponse(html, status=status)


def _shown(name: str, value) -> str:
    """A claim's value as text: strings as they are, times with their date, the rest as JSON."""
    if name in ("iat", "exp", "auth_time") and isinstance(value, int):
        return f"{value} ({datetime.fromtimestamp(value, UTC):%Y-%m-%d %H:%M:%S} UTC)"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _table(caption: str, claims: dict) -> str:

    rows = format_html_join(
        "",
        '<tr><th scope="row"><code>{}</code><br><span>{}</span></th><td>{}</td></tr>',
        ((name, MEANING.get(name, ""), _shown(name, value)) for name, value in claims.items()),
    )
    return format_html(
        '<table><caption>{}</caption><thead><tr><th scope="col">Claim (betekenis)</th>'
        '<th scope="col">Waarde</th></tr></thead>'
        "<tbody>{}</tbody></table>",
        caption,
        rows,
    )


def application():
    """The WSGI application (gunicorn's factory): Django configured for this one file."""
    config = json.loads(Path(os.environ["DEMO_RP_CONFIG"]).read_text())
    os.environ.pop("DJANGO_SETTINGS_MODULE", None)  # the portal's, inherited from make run
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")  # plain http on loopback (DEBUG)
    settings.configure(
        SECRET_KEY=secrets.token_urlsafe(32),  # sessions end when the process does
        ALLOWED_HOSTS=["127.0.0.1", "localhost", "[::1]"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        CSRF_USE_SESSIONS=True,  # no cookie of its own beside the portal's on the same host
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
        SESSION_COOKIE_NAME=COOKIE,
        SESSION_COOKIE_SAMESITE="Lax",
        CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}},
        USE_TZ=True,
        DEMO_RP=config,
    )
    django.setup()
    return get_wsgi_application()


@functools.cache
def _client():
    """Authlib's client for Zorgsleutel; the discovery document and JWKS are fetched once."""
    config = settings.DEMO_RP
    oauth = OAuth()
    return oauth.register(
        "zorgsleutel",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        server_metadata_url=config["issuer"] + "/.well-known/openid-configuration",
        client_kwargs={"scope": "openid profile email", "code_challenge_method": "S256"},
    )


def home(request):
    signed_in = request.session.get("id_token")
    if signed_in:
        return _page(
            f"U bent ingelogd als {signed_in.get('name', signed_in['sub'])}",
            format_html(
                "<p>Zorgsleutel gaf deze applicatie het ID-token en de userinfo hieronder; "
                "de applicatie controleerde de handtekening (JWKS), iss, aud, exp, nonce en "
                'PKCE.</p>{}{}<form method="post" action="/uitloggen">'
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                "<p>Uitloggen logt u hier uit en ook bij Zorgsleutel.</p>"
                "<button>Uitloggen</button></form>",
                _table("ID-token", signed_in),
                _table("Userinfo", request.session.get("userinfo", {})),
                get_token(request),
            ),
        )
    if "state" in request.GET:
        return _back_from_logout(request)
    return _page(
        "Welkom bij de demo-applicatie",
        mark_safe(
            "<p>Deze applicatie laat zien wat Zorgsleutel over u doorgeeft als u via single "
            "sign-on inlogt.</p>"
            '<p><a class="knop" href="/inloggen">Inloggen met Zorgsleutel</a></p>'
        ),
    )


def log_in(request):
    return _client().authorize_redirect(request, settings.DEMO_RP["redirect_uri"])


def callback(request):
    """The authorization answer: state, iss (RFC 9207), the code exchange with the PKCE
    verifier, the ID token checked by Authlib; then userinfo with the access token."""
    client = _client()
    try:
        issuer = settings.DEMO_RP["issuer"]  # discovered, and in every answer (RFC 9207)
        if {client.load_server_metadata()["issuer"], request.GET.get("iss")} != {issuer}:
            raise OAuthError("invalid_issuer", "not the issuer this application trusts")
        token = client.authorize_access_token(request)
        userinfo = client.userinfo(token=token)
    except (OAuthError, JoseError, RequestException) as exc:  # refused, a check failed, or down
        return _page(
            "Inloggen is niet gelukt",
            format_html(
                "<p>Zorgsleutel of deze applicatie weigerde: <code>{}</code>.</p>"
                '<p><a href="/">Terug naar het begin</a></p>',
                getattr(exc, "error", "") or type(exc).__name__,
            ),
            status=400,
        )
    request.session.cycle_key()
    request.session["id_token"] = dict(token["userinfo"])  # Authlib's checked ID token claims
    request.session["id_token_hint"] = token["id_token"]  # as received, for the logout
    if token["userinfo"].get("sid"):  # the session a back-channel logout will name
        cache.set(SID + token["userinfo"]["sid"], request.session.session_key, None)
    request.session["userinfo"] = dict(userinfo)
    return HttpResponseRedirect("/")


@require_POST
def log_out(request):
    """End the session here, then ask Zorgsleutel to end its own (module docstring); a session
    without an ID token (or a registration without the home page) ends here only."""
    hint = request.session.get("id_token_hint")
    request.session.flush()
    back = settings.DEMO_RP.get("post_logout_redirect_uri")
    if not (hint and back):
        return HttpResponseRedirect("/")
    try:
        endpoint = _client().load_server_metadata()["end_session_endpoint"]
    except (KeyError, RequestException):  # Zorgsleutel down: logged out here at least
        return HttpResponseRedirect("/")
    state = secrets.token_urlsafe(32)
    request.session["logout_state"] = state
    query = urlencode({"id_token_hint": hint, "post_logout_redirect_uri": back, "state": state})
    return HttpResponseRedirect(f"{endpoint}?{query}")


def _back_from_logout(request):
    """Zorgsleutel sent the browser back after the logout: with the state this browser's
    logout sent (once), or it is not believed."""
    sent = request.session.pop("logout_state", "")
    if not (sent and hmac.compare_digest(sent, request.GET["state"])):
        return _page(
            "Uitloggen is niet bevestigd",
            mark_safe(
                "<p>Deze terugkeer hoort niet bij een uitlog van deze browser: "
                "<code>mismatching_state</code>.</p>"
                '<p><a href="/">Terug naar het begin</a></p>'
            ),
            status=400,
        )
    return _page(
        "U bent uitgelogd",
        mark_safe(
            "<p>U bent uitgelogd bij de demo-applicatie en bij Zorgsleutel.</p>"
            '<p><a class="knop" href="/inloggen">Opnieuw inloggen met Zorgsleutel</a></p>'
        ),
    )


@csrf_exempt  # Zorgsleutel's server POSTs it; the signed token is what is checked
@require_POST
def backchannel_logout(request):
    """Back-Channel Logout 1.0 (module docstring): 200 when the token is good (whether or not
    its session is still here), 400 otherwise; never cached."""
    try:
        claims = _logout_claims(request.POST.get("logout_token", ""))
    except (JoseError, ValueError, KeyError, RequestException):
        response = HttpResponse("invalid logout token", status=400, content_type="text/plain")
    else:
        session_key = cache.get(SID + claims["sid"])
        if session_key:
            SessionStore(session_key).delete()
            cache.delete(SID + claims["sid"])
        response = HttpResponse(status=200)
    response["Cache-Control"] = "no-store"
    return response


def _logout_claims(token: str) -> dict:
    client, config = _client(), settings.DEMO_RP
    decoded = jwt.decode(token, _keys(token), algorithms=["RS256"])
    if decoded.header.get("typ") != "logout+jwt":
        raise ValueError("not a logout token")
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": client.load_server_metadata()["issuer"]},
        aud={"essential": True, "value": config["client_id"]},
        iat={"essential": True},
        exp={"essential": True},
        jti={"essential": True},
        sid={"essential": True},
    ).validate(decoded.claims)
    if decoded.claims.get("events", {}).get(EVENT) != {} or "nonce" in decoded.claims:
        raise ValueError("not a back-channel logout event")
    return decoded.claims


def _keys(token: str) -> KeySet:
    """The provider's published keys; fetched again once for a key not seen yet (a rotation)."""
    client = _client()
    keys = KeySet.import_key_set(client.fetch_jwk_set())
    kid = extract_compact(token.encode()).headers().get("kid")
    if kid and all(key.kid != kid for key in keys.keys):
        keys = KeySet.import_key_set(client.fetch_jwk_set(force=True))
    return keys


urlpatterns = [
    path("", home),
    path("inloggen", log_in),
    path("callback", callback),
    path("uitloggen", log_out),
    path("backchannel-logout", backchannel_logout),
]
