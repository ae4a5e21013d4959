"""private_key_jwt: an application authenticates with a JWT it signed with its own private key
(OpenID Connect Core 9, RFC 7523 2.2 and 3), instead of a client secret (docs/oidc.md,
"Client authentication").

The operator registers the application's public keys as a JWKS, pasted (`check_jwks`): no
private part, RSA of at least policies.OIDC_CLIENT_RSA_MIN_BITS or EC P-256, each with its own
`kid`, at most policies.OIDC_CLIENT_JWKS_KEYS_MAX. Zorgsleutel never fetches a `jwks_uri` (the
portal makes no requests to addresses an application names at run time); a new key is a new
registration for now.

At the token, revocation and introspection endpoints (`authenticate`, called by the
validator's `authenticate_client`) the request carries `client_assertion_type`
`urn:ietf:params:oauth:client-assertion-type:jwt-bearer` and `client_assertion`, a compact JWS:

- `alg` RS256 or ES256 (never `none`, never HS*: an HMAC "signed" with the public key as its
  secret would verify against a key anyone can read), verified with the registered key its
  `kid` names (with the key of that type when the client registered only one, no `kid` needed);
- `iss` = `sub` = the client ID (and = `client_id` when the request names one as well);
- `aud`: the token endpoint's URL or the issuer (a string, or a list holding one of them);
  OpenID Connect Core 9 says the token endpoint, RFC 7523 "a value that identifies the
  authorization server", and the audience-injection advice (2025) moves to the issuer: both are
  Zorgsleutel's own names, so either is accepted, at all three endpoints;
- `exp` required, in the future, at most policies.OIDC_CLIENT_ASSERTION_MAX_AHEAD ahead;
  `iat` and `nbf`, when given, not later than now + policies.OIDC_CLIENT_ASSERTION_LEEWAY;
- `jti` required and used once (models.UsedAssertion, in the database until `exp`).

A client registered for private_key_jwt has no secret and cannot use one; a client with a
secret cannot use an assertion; a request that carries both is refused. Every refusal is
`invalid_client` (401) to the application and its reason, in our words, goes to the audit log
(`sso.token_refused`): the REASONS below.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _
from jwcrypto import jwk, jws

from zorgsleutel import policies
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError
from zorgsleutel.oidc.models import Client, UsedAssertion

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALGORITHMS = {"RS256": "RSA", "ES256": "EC"}  # alg: the key type it needs
# A JWK's private members (RFC 7518 6.2.2, 6.3.2, 6.4.1; "k": a symmetric key is all secret).
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
# What a registered key keeps: the public members of its type, its kid, and `alg`/`use` when
# given (each checked).
PUBLIC_MEMBERS = {"RSA": ("kty", "kid", "n", "e"), "EC": ("kty", "kid", "crv", "x", "y")}

# Why a client's authentication was refused (the audit's `reason`; the application reads only
# `invalid_client`).
REASONS = (
    "several_client_auth_methods",  # a secret and an assertion in one request (RFC 6749 2.3)
    "secret_by_private_key_jwt_client",
    "assertion_by_secret_client",
    "assertion_type_unsupported",
    "assertion_malformed",
    "assertion_alg_refused",
    "assertion_iss_sub_mismatch",
    "assertion_client_mismatch",  # the request's client_id is not the assertion's iss
    "assertion_client_unknown",
    "assertion_kid_unknown",
    "assertion_signature_invalid",
    "assertion_aud_invalid",
    "assertion_exp_missing",
    "assertion_expired",
    "assertion_exp_too_far",
    "assertion_issued_in_future",
    "assertion_not_yet_valid",
    "assertion_jti_missing",
    "assertion_replayed",
)


class Refused(Exception):
    def __init__(self, reason: str):
        assert reason in REASONS, reason
        super().__init__(reason)
        self.reason = reason


# --- Registration: the public keys an operator pastes ---------------------------------------------


def _refusal(code: str, message) -> DomainError:
    return DomainError(code, message, field="jwks")


def check_jwks(text: str) -> dict:
    """The key set `text` holds, as the client keeps it (public members only); raises
    DomainError (field `jwks`) on the first thing wrong."""
    try:
        found = json.loads(text)
    except (ValueError, RecursionError):
        found = None
    if not isinstance(found, dict) or not isinstance(found.get("keys"), list):
        raise _refusal(
            "jwks_invalid",
            _('Paste the public keys as a JWKS: JSON of the form {"keys": [...]}.'),
        )
    given = found["keys"]
    if not given:
        raise _refusal("jwks_empty", _("Paste at least one public key."))
    if len(given) > policies.OIDC_CLIENT_JWKS_KEYS_MAX:
        raise _refusal(
            "jwks_too_many",
            _("Register at most %(max)s keys.") % {"max": policies.OIDC_CLIENT_JWKS_KEYS_MAX},
        )
    kept, kids = [], set()
    for key in given:
        public = _public_key(key)
        if public["kid"] in kids:
            raise _refusal("jwks_kid_twice", _("Give each key its own kid."))
        kids.add(public["kid"])
        kept.append(public)
    return {"keys": kept}


def _public_key(key) -> dict:
    if not isinstance(key, dict):
        raise _refusal("jwks_invalid", _("Every key of the JWKS is a JSON object."))
    if any(member in key for member in PRIVATE_MEMBERS):
        raise _refusal(
            "jwks_private_key",
            _(
                "This is a private key: paste only the public keys. Keep the private key with "
                "the application, and consider it known now if it was sent to anyone."
            ),
        )
    kid = key.get("kid")
    if not isinstance(kid, str) or not kid.strip() or len(kid) > 200:
        raise _refusal("jwks_kid_required", _("Give every key a kid (its name)."))
    kty = key.get("kty")
    if kty not in PUBLIC_MEMBERS or (kty == "EC" and key.get("crv") != "P-256"):
        raise _refusal(
            "jwks_key_type",
            _("%(kid)s: only RSA keys and EC keys on P-256 can be registered.") % {"kid": kid},
        )
    if key.get("alg", ALGORITHM_OF[kty]) != ALGORITHM_OF[kty] or key.get("use", "sig") != "sig":
        raise _refusal(
            "jwks_key_type",
            _("%(kid)s: a key here signs (use sig) with RS256 (RSA) or ES256 (EC).") % {"kid": kid},
        )
    public = {member: key.get(member) for member in PUBLIC_MEMBERS[kty]}
    try:
        imported = jwk.JWK(**public)
        size = imported.get_op_key("verify").key_size
    except Exception:  # jwcrypto and cryptography refuse a key in many ways
        raise _refusal(
            "jwks_key_invalid", _("%(kid)s: this is not a usable key.") % {"kid": kid}
        ) from None
    if kty == "RSA" and size < policies.OIDC_CLIENT_RSA_MIN_BITS:
        raise _refusal(
            "jwks_weak_key",
            _("%(kid)s: an RSA key has at least %(bits)s bits.")
            % {"kid": kid, "bits": policies.OIDC_CLIENT_RSA_MIN_BITS},
        )
    public.update({k: key[k] for k in ("alg", "use") if k in key})
    return public


ALGORITHM_OF = {kty: alg for alg, kty in ALGORITHMS.items()}


def describe(jwks: dict) -> list[dict]:
    """The registered keys as the console and the audit log name them: kid, type and size."""
    described = []
    for key in jwks.get("keys", []):
        if key["kty"] == "RSA":
            bits = jwk.JWK(**key).get_op_key("verify").key_size
            described.append({"kid": key["kid"], "kty": "RSA", "size": bits})
        else:
            described.append({"kid": key["kid"], "kty": "EC", "size": "P-256"})
    return described


# --- Authentication: the assertion at the token, revocation and introspection endpoints ----------


def presented(request) -> bool:
    """Whether the request tries an assertion (either parameter given)."""
    return bool(
        getattr(request, "client_assertion", None)
        or getattr(request, "client_assertion_type", None)
    )


# A JWS in compact serialization and nothing else: three base64url parts. jwcrypto also reads
# the JSON serialization, and urlsafe_b64decode skips characters outside its alphabet, so a JSON
# document wrapping an old signed assertion could read as fresh claims here while jwcrypto
# verifies the old ones. Only this form is read, and the claims checked are the verified ones.
COMPACT = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")  # alg none: no signature


def _b64_json(part: str):
    padded = part + "=" * (-len(part) % 4)
    return json.loads(base64.b64decode(padded.encode("ascii"), altchars=b"-_", validate=True))


def unverified(assertion: str) -> tuple[dict, dict]:
    """The header and claims of a compact JWS, not verified yet; raises Refused."""
    if not isinstance(assertion, str) or not COMPACT.fullmatch(assertion):
        raise Refused("assertion_malformed")
    parts = assertion.split(".")
    try:
        header, claims = _b64_json(parts[0]), _b64_json(parts[1])
    except (ValueError, UnicodeError, RecursionError):
        raise Refused("assertion_malformed") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Refused("assertion_malformed")
    if "crit" in header or "b64" in header:  # no extensions: the claims are what is signed
        raise Refused("assertion_malformed")
    return header, claims


def claimed_client_id(assertion: str) -> str:
    """The client ID an assertion claims to come from (its `iss`), for the audit log of a
    refusal; "" when it names none."""
    try:
        iss = unverified(assertion)[1].get("iss")
    except Refused:
        return ""
    return iss[:100] if isinstance(iss, str) else ""


def authenticate(request, *, audiences: tuple[str, ...]) -> Client:
    """The client whose valid assertion the request carries (the module's docstring says what
    valid is), its `jti` now used; raises Refused with the reason."""
    if getattr(request, "client_assertion_type", None) != ASSERTION_TYPE:
        raise Refused("assertion_type_unsupported")
    assertion = getattr(request, "client_assertion", None) or ""
    header, claims = unverified(assertion)
    alg = header.get("alg")
    if alg not in ALGORITHMS:  # none, HS256 (the public key as an HMAC secret), PS256, ...
        raise Refused("assertion_alg_refused")
    iss, sub = claims.get("iss"), claims.get("sub")
    if not isinstance(iss, str) or iss != sub:
        raise Refused("assertion_iss_sub_mismatch")
    named = getattr(request, "client_id", None)
    if named and named != iss:
        raise Refused("assertion_client_mismatch")
    client = Client.objects.select_related("application").filter(application__client_id=iss).first()
    if client is None:
        raise Refused("assertion_client_unknown")
    if client.token_endpoint_auth_method != Client.PRIVATE_KEY_JWT:
        raise Refused("assertion_by_secret_client")
    key = _key(client, header, ALGORITHMS[alg])
    checker = jws.JWS()
    checker.allowed_algs = [alg]
    try:
        checker.deserialize(assertion, key=key, alg=alg)
        signed = json.loads(checker.payload)
    except Exception:  # jwcrypto: InvalidJWSSignature, InvalidJWSObject, ...
        raise Refused("assertion_signature_invalid") from None
    if signed != claims or checker.jose_header != header:  # what was read is what was signed
        raise Refused("assertion_malformed")
    _check_claims(signed, audiences)
    _use_once(client, signed["jti"], signed["exp"])
    return client


def _key(client: Client, header: dict, kty: str) -> jwk.JWK:
    kid = header.get("kid")
    keys = [k for k in client.jwks.get("keys", []) if k["kty"] == kty]
    if kid is None and len(keys) == 1:
        found = keys[0]
    else:
        found = next((k for k in keys if k["kid"] == kid), None)
    if found is None:
        raise Refused("assertion_kid_unknown")
    return jwk.JWK(**{m: found[m] for m in PUBLIC_MEMBERS[kty]})


def _number(value) -> bool:
    """A NumericDate: a finite number (JSON may carry NaN and Infinity, Python reads both)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_claims(claims: dict, audiences: tuple[str, ...]) -> None:
    aud = claims.get("aud")
    named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if not any(isinstance(one, str) and one in audiences for one in named):
        raise Refused("assertion_aud_invalid")
    now = clock.now().timestamp()
    exp = claims.get("exp")
    if not _number(exp):
        raise Refused("assertion_exp_missing")
    if exp <= now:
        raise Refused("assertion_expired")
    if exp > now + policies.OIDC_CLIENT_ASSERTION_MAX_AHEAD.total_seconds():
        raise Refused("assertion_exp_too_far")
    leeway = policies.OIDC_CLIENT_ASSERTION_LEEWAY.total_seconds()
    for claim, reason in (
        ("iat", "assertion_issued_in_future"),
        ("nbf", "assertion_not_yet_valid"),
    ):
        if claim in claims and (not _number(claims[claim]) or claims[claim] > now + leeway):
            raise Refused(reason)
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise Refused("assertion_jti_missing")


def _use_once(client: Client, jti: str, exp: float) -> None:
    """Keep the jti until the assertion expires; a second use is refused. The unique
    constraint decides between two requests with one assertion (on PostgreSQL the second
    waits for the first's transaction and then fails)."""
    try:
        with transaction.atomic():
            UsedAssertion.objects.create(
                client=client,
                jti_digest=hashlib.sha256(jti.encode("utf-8", "surrogatepass")).hexdigest(),
                expires_at=datetime.fromtimestamp(exp, tz=UTC),
            )
    except IntegrityError:
        raise Refused("assertion_replayed") from None
