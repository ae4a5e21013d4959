"""Registering and deleting single sign-on applications (Operatorconsole → Single sign-on, and
Beheer → Applicaties for an organisation's own).

An operator registers an application: its name, its redirect URIs (compared character for
character when it asks for a login), the organisations whose people it may receive, and the
assurance every login to it must have reached. It gets a client ID and a client secret; the
secret is shown once and kept only as its SHA-256 (`hash_secret`). Or, registered for
private_key_jwt with its public keys (assertions.py), no secret at all.

An organisation's administrator registers the organisation's own applications the same way
(policies "sso_clients.register"): allowed for that organisation alone (`owner`), never for
another, and deletes those; one an operator registered it may see, not delete.

Why SHA-256 and not the password hasher: django-oauth-toolkit hashes client secrets with
Django's first password hasher, here Argon2id at OWASP's parameters, made to slow down guessing
a password a person chose. A client secret is 256 random bits: nobody guesses it, so a slow hash
buys nothing and would cost tens of milliseconds of CPU at every code exchange (the token
endpoint's goal is 240 a second per core). Like our link tokens (accounts/tokens.py), it is kept
as a plain SHA-256; the toolkit is told not to hash it (`hash_client_secret=False`) and the
validator compares digests (validator.py: `_check_secret`).
"""

from __future__ import annotations

import hashlib
import hmac
import io
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from oauth2_provider.models import get_application_model

from zorgsleutel import policies
from zorgsleutel.core import audit
from zorgsleutel.core.errors import DomainError, NotFound, PermissionDenied, raise_all
from zorgsleutel.oidc import assertions, keys
from zorgsleutel.oidc.models import DEFAULT_SCOPES, GRANTABLE_SCOPES, Client
from zorgsleutel.people.models import Organisation
from zorgsleutel.people.permissions import require, require_operator

Application = get_application_model()

SECRET_PREFIX = "sha256$"  # noqa: S105 (a format, no secret)
NAME_MAX = 100
URL_MAX = 300
LOOPBACK_HOSTS = ("127.0.0.1", "[::1]", "localhost")


def hash_secret(raw: str) -> str:
    return SECRET_PREFIX + hashlib.sha256(raw.encode()).hexdigest()


def secret_matches(provided: str, stored: str) -> bool:
    """Whether `provided` is the secret kept as `stored`; anything not kept our way (a secret in
    clear, another hasher's) never matches."""
    if not stored.startswith(SECRET_PREFIX) or not isinstance(provided, str):
        return False
    return hmac.compare_digest(hash_secret(provided), stored)


# --- What an operator typed -----------------------------------------------------------------------


def redirect_uri_errors(text: str) -> tuple[list[str], list[DomainError]]:
    """The redirect URIs of `text` (one per line), and what is wrong with them: https with a host
    (plain http only to this machine, and only in development), no fragment, no user name, no
    wildcard; at most policies.OIDC_REDIRECT_URIS_MAX, none twice."""
    uris = [line.strip() for line in text.splitlines() if line.strip()]
    if not uris:
        return [], [DomainError("redirect_uris_required", _("Give at least one redirect URI."),
                                field="redirect_uris")]  # fmt: skip
    if len(uris) > policies.OIDC_REDIRECT_URIS_MAX:
        message = _("Give at most %(max)s redirect URIs.") % {
            "max": policies.OIDC_REDIRECT_URIS_MAX
        }
        return uris, [DomainError("redirect_uris_too_many", message, field="redirect_uris")]
    for uri in uris:
        problem = _uri_problem(uri)
        if problem is not None:
            message = _("%(uri)s: %(problem)s") % {"uri": uri[:200], "problem": problem}
            return uris, [DomainError("redirect_uri_invalid", message, field="redirect_uris")]
    if len(set(uris)) != len(uris):
        message = _("Give each redirect URI once.")
        return uris, [DomainError("redirect_uris_twice", message, field="redirect_uris")]
    return uris, []


# What is wrong with a back-channel logout URI, in its own words (the redirect URIs' below).
_BACKCHANNEL_WORDS = {
    "fragment": _("a back-channel logout URI has no fragment (#)."),
    "user": _("a back-channel logout URI has no user name or password."),
    "wildcard": _("a back-channel logout URI has no wildcards."),
    "scheme": _("a back-channel logout URI starts with https://."),
}


def _backchannel_problem(uri: str):
    return _uri_problem(uri, words=_BACKCHANNEL_WORDS)


def _uri_problem(uri: str, words: dict | None = None):
    words = words or {
        "fragment": _("a redirect URI has no fragment (#)."),
        "user": _("a redirect URI has no user name or password."),
        "wildcard": _("a redirect URI has no wildcards."),
        "scheme": _("a redirect URI starts with https://."),
    }
    if len(uri) > 500 or any(c.isspace() for c in uri):
        return _("not a usable address.")
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 (raises ValueError on a port that is no number)
    except ValueError:
        return _("not a usable address.")
    if not parts.hostname:
        return _("not a usable address.")
    if parts.fragment or "#" in uri:
        return words["fragment"]
    if "@" in parts.netloc:
        return words["user"]
    if "*" in uri:
        return words["wildcard"]
    if parts.scheme == "https":
        return None
    loopback = parts.netloc.rsplit(":", 1)[0] if parts.port else parts.netloc
    if (
        parts.scheme == "http"
        and settings.OIDC_LOOPBACK_HTTP_REDIRECTS
        and loopback in LOOPBACK_HOSTS
    ):
        return None
    return words["scheme"]


def url_problem(url: str) -> DomainError | None:
    """The application's address, shown on its consent page: https with a host, no user name,
    no fragment; empty: none."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError on a port that is no number)
    except ValueError:
        parts = None
    if (
        parts is None
        or len(url) > URL_MAX
        or any(c.isspace() for c in url)
        or parts.scheme != "https"
        or not parts.hostname
        or "@" in parts.netloc
        or parts.fragment
    ):
        return DomainError(
            "url_invalid",
            _("Give the application's address starting with https://, or leave it empty."),
            field="url",
        )
    return None


def logo_refusal() -> DomainError:
    return DomainError(
        "logo_invalid",
        _("The logo must be a PNG or JPEG image of at most %(kb)s KB and %(side)s pixels a side.")
        % {"kb": policies.OIDC_LOGO_MAX_BYTES // 1024, "side": policies.OIDC_LOGO_MAX_SIDE},
        field="logo",
    )


def logo_png(data: bytes) -> bytes:
    """An uploaded logo as the portal keeps it: decoded (PNG or JPEG only; an SVG could carry
    script), at most policies.OIDC_LOGO_MAX_SIDE pixels a side before it is decoded, scaled to
    fit a square of policies.OIDC_LOGO_SIDE pixels (transparent around it) and encoded again as
    a PNG without metadata. Raises
    DomainError(logo_invalid)."""
    from PIL import Image, UnidentifiedImageError

    refused = logo_refusal()
    if len(data) > policies.OIDC_LOGO_MAX_BYTES:
        raise refused
    try:
        with Image.open(io.BytesIO(data), formats=["PNG", "JPEG"]) as image:
            if max(image.size) > policies.OIDC_LOGO_MAX_SIDE:
                raise refused
            image.load()
            picture = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise refused from None
    side = policies.OIDC_LOGO_SIDE
    picture.thumbnail((side, side))
    square = Image.new("RGBA", (side, side), (0, 0, 0, 0))  # the page shows it square
    square.paste(picture, ((side - picture.width) // 2, (side - picture.height) // 2))
    out = io.BytesIO()
    square.save(out, format="PNG", optimize=True)
    return out.getvalue()


def logout_uri_errors(
    backchannel: str, post_logout: str
) -> tuple[str, list[str], list[DomainError]]:
    """The back-channel logout URI (optional: https, or loopback http in development, no
    fragment, no user name, no wildcard: Back-Channel Logout 1.0 section 2.2) and the
    post-logout redirect URIs (optional, one per line, each like a redirect URI), and what is
    wrong with them."""
    errors = []
    backchannel = backchannel.strip()
    if backchannel:
        problem = _backchannel_problem(backchannel)
        if problem is not None:
            message = _("%(uri)s: %(problem)s") % {"uri": backchannel[:200], "problem": problem}
            errors.append(
                DomainError(
                    "backchannel_logout_uri_invalid", message, field="backchannel_logout_uri"
                )
            )
    uris = [line.strip() for line in post_logout.splitlines() if line.strip()]
    field = "post_logout_redirect_uris"
    if len(uris) > policies.OIDC_REDIRECT_URIS_MAX:
        message = _("Give at most %(max)s redirect URIs.") % {
            "max": policies.OIDC_REDIRECT_URIS_MAX
        }
        errors.append(DomainError("post_logout_redirect_uris_too_many", message, field=field))
        return backchannel, uris, errors
    for uri in uris:
        problem = _uri_problem(uri)
        if problem is not None:
            message = _("%(uri)s: %(problem)s") % {"uri": uri[:200], "problem": problem}
            errors.append(DomainError("post_logout_redirect_uri_invalid", message, field=field))
            break
    else:
        if len(set(uris)) != len(uris):
            message = _("Give each redirect URI once.")
            errors.append(DomainError("post_logout_redirect_uris_twice", message, field=field))
    return backchannel, uris, errors


def scopes_allowed(chosen) -> list[str]:
    """The scopes an application may receive: `openid` and those chosen of GRANTABLE_SCOPES, in
    that order; DomainError(scopes_invalid) for any other."""
    chosen = set(chosen) - {"openid"}
    if chosen - set(GRANTABLE_SCOPES):
        raise DomainError("scopes_invalid", _("Choose scopes from the list."),
                          field="allowed_scopes")  # fmt: skip
    return ["openid", *(scope for scope in GRANTABLE_SCOPES if scope in chosen)]


def auth_method_errors(method: str, jwks: str) -> list[DomainError]:
    """How the client authenticates: a client secret (no keys), or private_key_jwt with its
    public keys (assertions.check_jwks)."""
    if method == Client.CLIENT_SECRET:
        if jwks.strip():
            message = _("Public keys are only for private_key_jwt: leave them empty.")
            return [DomainError("jwks_not_used", message, field="jwks")]
        return []
    if method != Client.PRIVATE_KEY_JWT:
        message = _("Choose how the application authenticates.")
        return [DomainError("token_endpoint_auth_method_invalid", message,
                            field="token_endpoint_auth_method")]  # fmt: skip
    if not jwks.strip():
        message = _("Paste the application's public keys (JWKS) for private_key_jwt.")
        return [DomainError("jwks_required", message, field="jwks")]
    try:
        assertions.check_jwks(jwks)
    except DomainError as error:
        return [error]
    return []


def check_input(
    *,
    name: str,
    redirect_uris: str,
    organisations,
    minimum_acr: str,
    url: str = "",
    backchannel_logout_uri: str = "",
    post_logout_redirect_uris: str = "",
    token_endpoint_auth_method: str = Client.CLIENT_SECRET,
    jwks: str = "",
) -> list[str]:
    """Every error of a registration at once (FieldErrors); the redirect URIs when none."""
    errors = [] if url_problem(url) is None else [url_problem(url)]
    errors += auth_method_errors(token_endpoint_auth_method, jwks)
    if not name.strip():
        errors.append(DomainError("name_required", _("Give the application's name."),
                                  field="name"))  # fmt: skip
    elif len(name.strip()) > NAME_MAX:
        message = _("A name has at most %(max)s characters.") % {"max": NAME_MAX}
        errors.append(DomainError("name_too_long", message, field="name"))
    uris, uri_errors = redirect_uri_errors(redirect_uris)
    errors += uri_errors
    errors += logout_uri_errors(backchannel_logout_uri, post_logout_redirect_uris)[2]
    if not organisations:
        errors.append(
            DomainError(
                "organisations_required",
                _("Choose the organisations whose people this application may receive."),
                field="organisations",
            )
        )
    if minimum_acr not in policies.ACR_URIS:
        errors.append(DomainError("minimum_acr_invalid", _("Choose a level of assurance."),
                                  field="minimum_acr"))  # fmt: skip
    raise_all(errors)
    return uris


# --- The flows ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registered:
    client: Client
    client_id: str
    secret: str  # in clear: shown once, never again ("" for private_key_jwt: it has none)


def register_client(
    *,
    actor,
    name: str,
    redirect_uris: str,
    organisations: list[Organisation],
    minimum_acr: str,
    subject_type: str = Client.PAIRWISE,
    url: str = "",
    logo: bytes | None = None,
    id_token_algorithm: str = keys.RS256,
    backchannel_logout_uri: str = "",
    post_logout_redirect_uris: str = "",
    owner: Organisation | None = None,
    allowed_scopes=DEFAULT_SCOPES,
    token_endpoint_auth_method: str = Client.CLIENT_SECRET,
    jwks: str = "",
) -> Registered:
    """Register an application; its secret in clear, once. Audited in each organisation it may
    receive people of (their administrators read which applications those are). `url` and
    `logo` (an upload's bytes: `logo_png`) are shown on its consent page. `owner`: the
    organisation whose administrator registers it (for that organisation alone); none: an
    operator does. `allowed_scopes`: what it may receive (`scopes_allowed`); a request's other
    scopes are dropped. A private_key_jwt client (`jwks`: its public keys, pasted JSON) gets no
    secret at all."""
    _may_register(actor, owner, organisations)
    url = url.strip()
    allowed_scopes = scopes_allowed(allowed_scopes)
    uris = check_input(
        name=name,
        redirect_uris=redirect_uris,
        organisations=organisations,
        minimum_acr=minimum_acr,
        url=url,
        backchannel_logout_uri=backchannel_logout_uri,
        post_logout_redirect_uris=post_logout_redirect_uris,
        token_endpoint_auth_method=token_endpoint_auth_method,
        jwks=jwks,
    )
    pkjwt = token_endpoint_auth_method == Client.PRIVATE_KEY_JWT
    key_set = assertions.check_jwks(jwks) if pkjwt else {}
    backchannel, post_logout, _errors = logout_uri_errors(
        backchannel_logout_uri, post_logout_redirect_uris
    )
    logo = logo_png(logo) if logo else None
    if subject_type not in (Client.PAIRWISE, Client.PUBLIC):
        raise DomainError("subject_type_invalid", _("Choose a kind of identifier."),
                          field="subject_type")  # fmt: skip
    if id_token_algorithm not in keys.ALGORITHMS:
        raise DomainError("id_token_algorithm_invalid", _("Choose a signing algorithm."),
                          field="id_token_algorithm")  # fmt: skip
    secret = "" if pkjwt else secrets.token_urlsafe(32)
    with transaction.atomic():
        application = Application.objects.create(
            name=name.strip(),
            redirect_uris=" ".join(uris),
            client_type=Application.CLIENT_CONFIDENTIAL,
            authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
            algorithm=Application.RS256_ALGORITHM,
            hash_client_secret=False,
            client_secret=hash_secret(secret) if secret else "",  # "" never matches
            skip_authorization=True,
        )
        client = Client.objects.create(
            application=application,
            minimum_acr=minimum_acr,
            subject_type=subject_type,
            id_token_algorithm=id_token_algorithm,
            sector=application.client_id,
            backchannel_logout_uri=backchannel,
            post_logout_redirect_uris=" ".join(post_logout),
            created_by=actor if not isinstance(actor, str) else None,
            owner=owner,
            url=url,
            logo=logo,
            allowed_scopes=allowed_scopes,
            token_endpoint_auth_method=token_endpoint_auth_method,
            jwks=key_set,
        )
        client.organisations.set(organisations)
        keys_named = {"jwks": assertions.describe(key_set)} if pkjwt else {}
        audit.record_in(
            sorted(organisations, key=lambda o: o.pk),
            "sso_client.registered",
            actor=actor,
            target=client,
            details={
                "name": application.name,
                "client_id": application.client_id,
                "redirect_uris": uris,
                "minimum_acr": minimum_acr,
                "subject_type": subject_type,
                "url": url,
                "logo": logo is not None,
                "id_token_algorithm": id_token_algorithm,
                "backchannel_logout_uri": backchannel,
                "post_logout_redirect_uris": post_logout,
                "allowed_scopes": allowed_scopes,
                "token_endpoint_auth_method": token_endpoint_auth_method,
                **keys_named,
            },
        )
        if id_token_algorithm == keys.ES256:
            keys.signing_key(keys.ES256)  # its first key, published before its first ID token
    return Registered(client=client, client_id=application.client_id, secret=secret)


def _may_register(actor, owner: Organisation | None, organisations: list[Organisation]) -> None:
    """Operators register for any organisations; an organisation's administrator for that
    organisation alone (tenancy: never another's people). Else audit and refuse."""
    if owner is None:
        require_operator(actor, "sso_clients.manage")
        return
    require(actor, "sso_clients.register", owner)
    if [organisation.pk for organisation in organisations] != [owner.pk]:
        raise audit.refused(
            "permission.denied",
            PermissionDenied(
                "sso_client_other_organisation",
                _("Your organisation's application is for your organisation's people only."),
            ),
            actor=actor,
            organisation=owner,
            details={"action": "sso_clients.register"},
        )


def clients_of(organisation: Organisation):
    """The applications an organisation's administrators see in Beheer: those that may receive
    its people (an operator's, shared or not) and those it registered itself."""
    return (
        Client.objects.filter(Q(organisations=organisation) | Q(owner=organisation))
        .distinct()
        .select_related("application", "created_by", "owner")
        .order_by("application__name", "pk")
    )


def client_of(organisation: Organisation, public_id) -> Client:
    """One of `clients_of(organisation)`; another organisation's is not found (404), as if it
    did not exist."""
    client = clients_of(organisation).filter(public_id=public_id).first()
    if client is None:
        raise NotFound("not_found", _("This application does not exist (any more)."))
    return client


def get_client(public_id) -> Client:
    client = (
        Client.objects.select_related("application")
        .prefetch_related("organisations")
        .filter(public_id=public_id)
        .first()
    )
    if client is None:
        raise NotFound("not_found", _("This application does not exist (any more)."))
    return client


def delete_client(*, actor, public_id, organisation: Organisation | None = None) -> str:
    """Delete an application: its codes and tokens go with it, so it receives nobody any more.
    Returns its name. `organisation`: its administrator deletes one the organisation registered
    itself (one an operator registered, they only see); none: an operator deletes any."""
    if organisation is None:
        require_operator(actor, "sso_clients.manage")
    else:
        require(actor, "sso_clients.register", organisation)
    with audit.atomic():  # a refusal's event is kept
        if organisation is None:
            client = get_client(public_id)
        else:
            client = client_of(organisation, public_id)
            if client.owner_id != organisation.pk:
                raise _not_own(actor, organisation, client)
        organisations = sorted(client.organisations.all(), key=lambda o: o.pk)
        application = client.application
        audit.record_in(
            organisations or [None],  # an application whose organisations are all gone
            "sso_client.deleted",
            actor=actor,
            target=client,
            details={"name": application.name, "client_id": application.client_id},
        )
        application.delete()  # cascades: the client, its grants, tokens and sign-ins
    return application.name


def _not_own(actor, organisation: Organisation, client: Client) -> DomainError:
    return audit.refused(
        "permission.denied",
        PermissionDenied(
            "sso_client_not_own",
            _("Only Zorgsleutel's operators delete an application they registered."),
        ),
        actor=actor,
        organisation=organisation,
        target=client,
        details={"action": "sso_clients.register"},
    )
