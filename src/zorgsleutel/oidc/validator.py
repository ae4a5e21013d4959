"""django-oauth-toolkit's request validator, narrowed and completed for Zorgsleutel (docs/oidc.md).

What changes against the toolkit's:

- **Clients.** Secrets compare as SHA-256 digests (clients.py says why); a client registered
  for private_key_jwt authenticates with an assertion instead (`authenticate_client`,
  assertions.py), never with a secret, and a secret client never with an assertion; a redirect
  URI must be one of the registered ones character for character (the toolkit lets a loopback
  URI use any port), and the authorization request must name it (OpenID Connect Core 3.1.2.1);
  only `response_type=code`, and `grant_type` `authorization_code` or `refresh_token`, for
  clients registered with the authorization code grant.
- **Codes.** Each code's sign-in (models.SignIn) is written with it, from what the person's
  session had proved (authorize.py passes it in). Its expiry follows core.clock. A code is
  exchanged once: the exchange locks its grant, deletes it and marks the sign-in redeemed; a
  second exchange finds that sign-in, revokes the access token the first one got (RFC 6749
  4.1.2) and is audited as `sso.code_reused`. A code presented by another client than its own
  is refused and revokes nothing (that client holds no secret of the first).
- **Refresh tokens.** Issued with every code exchange and every refresh; a sign-in
  (models.SignIn) is their family. A refresh locks the sign-in, then its refresh token; the
  token is rotated (the toolkit revokes it and its access token, and mints a new pair of the
  same family, no grace period). A refresh token that was rotated already comes again: the
  whole family is revoked (families.revoke_family) and `sso.refresh_reused` audited. A refresh
  token of another client is refused and revokes nothing. Refused too: one older than
  policies.OIDC_REFRESH_TOKEN_TTL, a sign-in older than policies.OIDC_REFRESH_FAMILY_TTL, and a
  person `still_allowed` no longer allows (that revokes the family). The new ID token keeps the
  sign-in's acr, amr, auth_time, sub and organisation (OpenID Connect Core 12.2).
- **ID tokens.** Signed with the current key of keys.py for the client's algorithm (RS256, or
  ES256 for a client registered for it; its `kid` in the header); `iss` is
  SITE_URL, `acr`/`amr`/`auth_time` come from the sign-in, never from user.last_login; `iat`
  and `exp` from core.clock.
- **Access tokens.** Expire by core.clock; answer userinfo and introspection only while the
  person is still an active member of the sign-in's organisation and the application may still
  receive its people (tenancy holds after the login too). Introspection answers a client only
  about its own tokens.
"""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from contextvars import ContextVar
from urllib.parse import unquote_plus

from django.conf import settings
from django.db.models import Exists, F, OuterRef
from django.urls import reverse
from jwcrypto import jws, jwt
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.oauth2_validators import OAuth2Validator

from zorgsleutel import policies
from zorgsleutel.core import audit, clock
from zorgsleutel.oidc import assertions, claims, clients, families, keys
from zorgsleutel.oidc.models import Client, SignIn
from zorgsleutel.people.models import Membership

Grant = get_grant_model()
AccessToken = get_access_token_model()
IDToken = get_id_token_model()
RefreshToken = get_refresh_token_model()


# Why the token request in progress was refused, in our words (for its audit event: views.py).
_REFUSAL: ContextVar[str] = ContextVar("sso_token_refusal", default="")


def start_request() -> None:
    _REFUSAL.set("")


def refusal_reason() -> str:
    return _REFUSAL.get()


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def issuer() -> str:
    """The issuer: SITE_URL, read at every use (one value on every node: settings.py)."""
    return settings.SITE_URL


def token_endpoint() -> str:
    return issuer() + reverse("oidc:token")


def _named_client_id(validator, request) -> str:
    """The client ID a refused secret authentication named (basic, else the body)."""
    basic = validator._extract_basic_auth(request)
    if basic:
        try:
            return unquote_plus(base64.b64decode(basic).decode().split(":", 1)[0])
        except (ValueError, UnicodeDecodeError):
            return ""
    return getattr(request, "client_id", None) or ""


def still_allowed(person, sign_in: SignIn, client: Client) -> bool:
    """Whether the application may still receive this person acting for the sign-in's
    organisation: an active account, an active membership there, the application still
    registered for it, the organisation not suspended (policies.sso_refusal). One statement:
    the membership with its organisation, and whether the application is registered for it."""
    if not person.is_active:
        return False
    registered = Client.organisations.through.objects.filter(
        client=client, organisation=OuterRef("organisation")
    )
    membership = (
        Membership.objects.select_related("organisation")
        .filter(user=person, organisation=sign_in.organisation_id)
        .annotate(registered=Exists(registered))
        .first()
    )
    if membership is None:
        return False
    allowed = {membership.organisation_id} if membership.registered else set()
    return policies.sso_refusal(membership, allowed) is None


class Validator(OAuth2Validator):
    oidc_claim_scope = None  # claims.py decides per scope

    # --- Clients ------------------------------------------------------------------------------

    def _check_secret(self, provided_secret, stored_secret):
        return clients.secret_matches(provided_secret, stored_secret)

    def client_authentication_required(self, request, *args, **kwargs):
        if assertions.presented(request):
            return True  # the toolkit's would look for a secret only
        return super().client_authentication_required(request, *args, **kwargs)

    def authenticate_client(self, request, *args, **kwargs):
        """A client secret (the toolkit's: basic, else in the body) or a private_key_jwt
        assertion (assertions.py), whichever the client is registered for; never both in one
        request (RFC 6749 2.3). Why a refusal was one goes to the audit log (views.py)."""
        secret = bool(self._extract_basic_auth(request) or getattr(request, "client_secret", None))
        if assertions.presented(request):
            if secret:
                _REFUSAL.set("several_client_auth_methods")
                return False
            try:
                client = assertions.authenticate(request, audiences=(issuer(), token_endpoint()))
            except assertions.Refused as refused:
                _REFUSAL.set(refused.reason)
                return False
            request.client = client.application
            request.client_id = request.client_id or client.application.client_id
            return True
        if super().authenticate_client(request, *args, **kwargs):
            return True
        named = _named_client_id(self, request)  # a private_key_jwt client has no secret:
        if (
            named
            and Client.objects.filter(  # say why it failed
                application__client_id=named, token_endpoint_auth_method=Client.PRIVATE_KEY_JWT
            ).exists()
        ):
            _REFUSAL.set("secret_by_private_key_jwt_client")
        return False

    def validate_redirect_uri(self, client_id, redirect_uri, request, *args, **kwargs):
        return redirect_uri in request.client.redirect_uris.split()

    def get_default_redirect_uri(self, client_id, request, *args, **kwargs):
        return None  # no default: the request names its redirect URI

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code" and client.allows_grant_type(client.GRANT_AUTHORIZATION_CODE)

    def validate_grant_type(self, client_id, grant_type, client, request, *args, **kwargs):
        """The code and its refreshes, for a client registered with the code grant only (the
        toolkit would let a refresh token of any grant type through)."""
        return grant_type in ("authorization_code", "refresh_token") and (
            client.authorization_grant_type == client.GRANT_AUTHORIZATION_CODE
        )

    def is_pkce_required(self, client_id, request):
        return True

    # --- The authorization request (authorize.py has decided before oauthlib is asked) -------

    def validate_silent_login(self, request):
        return True  # authorize.py lets only a logged-in session reach here

    def validate_silent_authorization(self, request):
        return True  # no consent page yet: operators register the applications

    def validate_user_match(self, id_token_hint, scopes, claims, request):
        return True  # id_token_hint is not used (docs/oidc.md, "Not built yet")

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        now = clock.now()
        expires = now + policies.OIDC_CODE_TTL
        self._create_authorization_code(request, code, expires=expires)
        facts = request.zs_sign_in  # authorize.py: what the session proved, and for whom
        SignIn.objects.create(
            user=request.user,
            application=request.client,
            organisation=facts.organisation,
            acr=facts.acr,
            amr=list(facts.amr),
            authenticated_at=facts.at,
            sid=facts.sid,
            session_digest=facts.session_digest,
            dezi=facts.card or {},
            code_digest=digest(code["code"]),
            code_expires_at=expires,
            created_at=now,
            scope=" ".join(request.scopes),
            token_family=uuid.uuid4(),
        )

    # --- The token request ----------------------------------------------------------------

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        grant = (
            Grant.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(code=code, application=client)
            .first()
        )
        if grant is None:
            self._spent(code, client, request)
            return False
        if grant.expires <= clock.now():
            _REFUSAL.set("code_expired")
            return False
        sign_in = (
            SignIn.objects.select_related("organisation")
            .filter(code_digest=digest(code), application=client)
            .first()
        )
        if sign_in is None or sign_in.user_id != grant.user_id:
            return False
        if sign_in.ended_at is not None:  # its session ended (logout.py)
            return False
        sign_in.user = grant.user
        request.scopes = grant.scope.split()
        request.user = grant.user
        request.nonce = grant.nonce or None
        request.zs_grant = grant
        request.zs_sign_in = sign_in
        request.zs_client = Client.objects.get(application=client)
        return True

    # oauthlib asks about the code's grant four more times after validate_code (PKCE challenge
    # and method, redirect URI, nonce); the toolkit reads the row again for each. The row
    # validate_code read and locked answers them: the same row, in the same transaction.

    def _grant(self, code, request):
        grant = getattr(request, "zs_grant", None)
        if grant is not None and grant.code == code and grant.application_id == request.client.pk:
            return grant
        return Grant.objects.filter(code=code, application=request.client).first()

    def get_code_challenge(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge or None) if grant is not None else None

    def get_code_challenge_method(self, code, request):
        grant = self._grant(code, request)
        return (grant.code_challenge_method or None) if grant is not None else None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        grant = self._grant(code, request)
        return grant is not None and grant.redirect_uri_allowed(redirect_uri)

    def get_authorization_code_nonce(self, client_id, code, redirect_uri, request):
        grant = self._grant(code, request)
        return (grant.nonce or None) if grant is not None else None

    def _spent(self, code, client, request) -> None:
        """A code without its grant: never issued, expired and purged, exchanged already (the
        tokens of that exchange are revoked), or another client's."""
        sign_in = (
            SignIn.objects.select_for_update()
            .select_related("organisation", "user")
            .filter(code_digest=digest(code))
            .first()
        )
        if sign_in is None or sign_in.redeemed_at is None:
            _REFUSAL.set("code_unknown")
            return
        if sign_in.application_id != client.pk:
            _REFUSAL.set("code_of_another_client")
            return
        revoked = families.revoke_family(sign_in)
        audit.record(
            "sso.code_reused",
            actor=Client.objects.get(application=client),
            organisation=sign_in.organisation,
            target=sign_in.user,
            outcome=audit.DENIED,
            details={"client_id": client.client_id, "revoked": revoked},
        )
        _REFUSAL.set("code_reused")

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        sign_in = request.zs_sign_in
        sign_in.redeemed_at = clock.now()
        sign_in.refresh_issued_at = sign_in.redeemed_at
        sign_in.access_token = request.zs_access_token
        sign_in.save(update_fields=["redeemed_at", "refresh_issued_at", "access_token"])
        audit.record(
            "sso.code_exchanged",
            actor=request.zs_client,
            organisation=sign_in.organisation,
            target=sign_in.user,
            details={"client_id": request.client.client_id},
        )

    # --- The refresh ------------------------------------------------------------------------

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """The refresh token, live, this client's, of a sign-in that may still be refreshed;
        a rotated one presented again revokes its family (docstring above)."""
        found = (
            RefreshToken.objects.filter(token_checksum=digest(refresh_token))
            .order_by(F("revoked").desc(nulls_first=True))
            .values("pk", "application_id", "token_family")
            .first()
        )
        if found is None:
            _REFUSAL.set("refresh_unknown")
            return False
        if found["application_id"] != client.pk:
            _REFUSAL.set("refresh_of_another_client")
            return False
        sign_in = (
            SignIn.objects.select_for_update(of=("self",))  # not the person's, not the org's
            .select_related("organisation", "user")
            .filter(token_family=found["token_family"], application=client)
            .first()
            if found["token_family"] is not None
            else None
        )
        if sign_in is None:  # a family of no sign-in (purged, or not made here)
            _REFUSAL.set("refresh_unknown")
            return False
        # Read again after the sign-in's lock: a parallel refresh of this token has committed.
        token = (
            RefreshToken.objects.select_for_update(of=("self",))
            .select_related("user")
            .get(pk=found["pk"])
        )
        zs_client = Client.objects.get(application=client)
        if sign_in.revoked_at is not None:
            _REFUSAL.set("family_revoked")
            return False
        if token.revoked is not None:
            revoked = families.revoke_family(sign_in)
            audit.record(
                "sso.refresh_reused",
                actor=zs_client,
                organisation=sign_in.organisation,
                target=sign_in.user,
                outcome=audit.DENIED,
                details={"client_id": client.client_id, "revoked": revoked},
            )
            _REFUSAL.set("refresh_reused")
            return False
        now = clock.now()
        if sign_in.refresh_issued_at is None or (
            now >= sign_in.refresh_issued_at + policies.OIDC_REFRESH_TOKEN_TTL
        ):
            _REFUSAL.set("refresh_expired")
            return False
        if now >= sign_in.authenticated_at + policies.OIDC_REFRESH_FAMILY_TTL:
            _REFUSAL.set("sign_in_expired")
            return False
        if not still_allowed(token.user, sign_in, zs_client):
            families.revoke_family(sign_in)
            _REFUSAL.set("no_longer_allowed")
            return False
        request.user = token.user
        request.refresh_token = refresh_token
        request.refresh_token_instance = token
        request.zs_sign_in, request.zs_client = sign_in, zs_client
        return True

    def get_original_scopes(self, refresh_token, request, *args, **kwargs):
        return request.zs_sign_in.scope.split()

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous):
        """The next refresh token of the sign-in's family (the toolkit would start a family of
        its own at the code exchange)."""
        refresh_token = RefreshToken(
            user=request.user,
            application=request.client,
            access_token=access_token,
            token_family=request.zs_sign_in.token_family,
        )
        self._set_token_value(refresh_token, refresh_token_code)
        refresh_token.save()
        return refresh_token

    def save_bearer_token(self, token, request, *args, **kwargs):
        """The toolkit's (the pair, the old refresh token revoked with its access token); a
        refresh then moves the sign-in to the new pair and is audited."""
        super().save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type != "refresh_token":
            return  # the code exchange: invalidate_authorization_code records it
        sign_in = request.zs_sign_in
        sign_in.refresh_issued_at = clock.now()
        sign_in.access_token = request.zs_access_token
        sign_in.save(update_fields=["refresh_issued_at", "access_token"])
        audit.record(
            "sso.token_refreshed",
            actor=request.zs_client,
            organisation=sign_in.organisation,
            target=sign_in.user,
            details={"client_id": request.client.client_id},
        )

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = AccessToken(
            user=request.user,
            scope=token["scope"],
            expires=clock.now() + policies.OIDC_ACCESS_TOKEN_TTL,
            id_token=getattr(request, "zs_id_token", None),
            application=request.client,
            source_refresh_token=source_refresh_token,
            resource=getattr(request, "resource", []),
        )
        self._set_token_value(access_token, token["access_token"])
        access_token.save()
        request.zs_access_token = access_token
        return access_token

    def get_oidc_issuer_endpoint(self, request):
        return issuer()

    def finalize_id_token(self, id_token, token, token_handler, request):
        """oauthlib made `aud`, `iat`, `nonce` and `at_hash`; the claims, the times and the
        signature are ours."""
        now = clock.now()
        expires = now + policies.OIDC_ID_TOKEN_TTL
        sign_in = request.zs_sign_in
        jti = str(uuid.uuid4())
        id_token.update(claims.for_scopes(request.user, request.zs_client, sign_in, request.scopes))
        id_token.update(claims.authentication(sign_in))
        if sign_in.sid:  # Back-Channel Logout 1.0, 2.1 (logout.py)
            id_token["sid"] = sign_in.sid
        id_token.update(
            iss=issuer(),
            aud=request.client.client_id,  # oauthlib leaves it empty at a refresh
            iat=int(now.timestamp()),
            exp=int(expires.timestamp()),
            jti=jti,
        )
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        key = keys.signing_key(request.zs_client.id_token_algorithm)
        signed = jwt.JWT(
            header=json.dumps({"typ": "JWT", "alg": key.algorithm, "kid": key.kid}),
            claims=json.dumps(id_token),
        )
        signed.make_signed_token(key.key)
        request.zs_id_token = IDToken.objects.create(
            user=request.user,
            scope=" ".join(request.scopes),
            expires=expires,
            jti=jti,
            application=request.client,
        )
        return signed.serialize()

    def _get_key_for_token(self, token):
        """The published key an ID token names (the toolkit's asks the client's own key)."""
        try:
            unverified = jws.JWS()
            unverified.deserialize(token)
            kid = unverified.jose_header.get("kid")
        except Exception:
            return None
        return keys.verification_key(kid) if isinstance(kid, str) else None

    # --- Using an access token ------------------------------------------------------------

    def _usable_token(self, token: str):
        """The access token, its sign-in and client, while all still hold; else None."""
        if not token:
            return None
        found = self._load_access_token(token)
        if found is None or found.expires <= clock.now() or found.user is None:
            return None
        sign_in = (
            SignIn.objects.select_related("organisation", "application__zs_client")
            .filter(access_token=found, application=found.application_id)
            .first()
        )
        client = getattr(sign_in.application, "zs_client", None) if sign_in is not None else None
        if client is None or not still_allowed(found.user, sign_in, client):
            return None
        return found, sign_in, client

    def validate_bearer_token(self, token, scopes, request):
        usable = self._usable_token(token)
        if usable is None or not usable[0].allow_scopes(scopes):
            return False
        access_token, sign_in, client = usable
        request.client = access_token.application
        request.user = access_token.user
        request.scopes = access_token.scope.split()
        request.access_token = access_token
        request.zs_sign_in, request.zs_client = sign_in, client
        return True

    def get_userinfo_claims(self, request):
        return claims.for_scopes(
            request.user, request.zs_client, request.zs_sign_in, request.scopes
        )

    def introspect_token(self, token, token_type_hint, request, *args, **kwargs):
        usable = self._usable_token(token)
        if usable is None or usable[0].application_id != request.client.pk:
            return None  # {"active": false}: unknown, expired, or another client's
        access_token, _sign_in, client = usable
        return {
            "scope": access_token.scope,
            "client_id": request.client.client_id,
            "token_type": "Bearer",
            "exp": int(access_token.expires.timestamp()),
            "iat": int((access_token.expires - policies.OIDC_ACCESS_TOKEN_TTL).timestamp()),
            "sub": claims.subject(access_token.user, client),
            "aud": request.client.client_id,
            "iss": issuer(),
        }

    def revoke_token(self, token, token_type_hint, request, *args, **kwargs):
        """RFC 7009: an access or refresh token of the calling client (another client's is
        answered the same, and nothing changes). The application gives up the sign-in: every
        token of its family is revoked (RFC 7009 2.1 lets revoking an access token revoke the
        refresh token, and asks revoking a refresh token to revoke the grant's access tokens),
        audited when there was one."""
        checksum = digest(token)
        access = (
            AccessToken.objects.filter(token_checksum=checksum, application=request.client)
            .values_list("pk", flat=True)
            .first()
        )
        refresh = (
            RefreshToken.objects.filter(token_checksum=checksum, application=request.client)
            .values_list("token_family", flat=True)
            .first()
        )
        if access is not None:
            found = SignIn.objects.filter(access_token=access, application=request.client)
        elif refresh is not None:
            found = SignIn.objects.filter(token_family=refresh, application=request.client)
        else:
            return
        sign_in = found.select_related("organisation", "user").first()
        if sign_in is None or sign_in.revoked_at is not None:
            return
        families.revoke_family(sign_in)
        audit.record(
            "sso.token_revoked",
            actor=Client.objects.get(application=request.client),
            organisation=sign_in.organisation,
            target=sign_in.user,
            details={"client_id": request.client.client_id},
        )
