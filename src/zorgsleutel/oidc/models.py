"""Single sign-on (docs/oidc.md): the applications that log people in through Zorgsleutel, the
keys that sign their ID tokens, and each sign-in.

django-oauth-toolkit's own models hold the protocol's state: its `Application` (client ID,
hashed secret, redirect URIs), `Grant` (an authorization code, single use, PKCE challenge,
nonce), `AccessToken` and `IDToken` (stored as SHA-256 checksums only: RFC 9700 token storage).
Ours add what the portal decides: for which organisations an application may receive people and
at which assurance (`Client`), what a person's session had proved when it signed in (`SignIn`),
and the signing keys, sealed at rest (`SigningKey`, `ProviderSecret`; keys.py).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

# The scopes an operator may allow an application beyond `openid` (which every one has), in
# the order the registration form lists them, and those a new registration allows unless the
# operator ticks otherwise (docs/oidc.md, "Clients").
GRANTABLE_SCOPES = ("profile", "email", "roles", "dezi")
DEFAULT_SCOPES = ("openid", "profile", "email")


def default_scopes() -> list[str]:
    return list(DEFAULT_SCOPES)


class Client(models.Model):
    """A single sign-on application, as an operator (or an organisation's administrator, for
    that organisation: `owner`) registered it: its django-oauth-toolkit `Application` and the
    portal's rules for it."""

    PAIRWISE, PUBLIC = "pairwise", "public"
    SUBJECT_TYPES = [
        (PAIRWISE, _("pairwise: a different identifier for each application (default)")),
        (PUBLIC, _("public: the same identifier in every application")),
    ]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="zs_client"
    )
    # Tenancy: the application receives only active members of these organisations.
    organisations = models.ManyToManyField("organisations.Organisation", related_name="+")
    # The assurance every sign-in to it must have reached (policies.ASSURANCE_ORDER).
    minimum_acr = models.CharField(max_length=12, default="low")
    subject_type = models.CharField(max_length=12, choices=SUBJECT_TYPES, default=PAIRWISE)
    # The pairwise subject's sector (OpenID Connect Core 8.1): the client ID it was registered
    # with. It never changes, or every `sub` the application knows would.
    sector = models.CharField(max_length=255)
    # How its ID tokens are signed: RS256 (every relying party supports it), or ES256 (P-256)
    # for one that asks (OpenID Connect Registration's id_token_signed_response_alg).
    id_token_algorithm = models.CharField(
        max_length=5, choices=[("RS256", "RS256"), ("ES256", "ES256")], default="RS256"
    )
    # Back-Channel Logout 1.0: where a logout token is POSTed when a session that signed in to
    # the application ends ("" = the application is not told). https (loopback http only in
    # development), checked like the redirect URIs (clients.py).
    backchannel_logout_uri = models.CharField(max_length=500, blank=True, default="")
    # RP-Initiated Logout 1.0: where /oidc/logout may send the browser back, space-separated,
    # compared character for character (logout.py).
    post_logout_redirect_uris = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # The organisation that registered it in Beheer (its administrators may delete it; it is
    # allowed for that organisation only); null: an operator registered it. An organisation
    # deleted leaves it to the operators (it receives nobody: its organisations are gone).
    owner = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Shown on the consent page: the application's address (https) and its logo, uploaded by
    # the operator and kept here re-encoded as a small PNG (clients.py: `logo_png`), served
    # from the portal itself (never fetched from elsewhere, never hotlinked: privacy, CSP).
    url = models.CharField(max_length=300, blank=True, default="")
    logo = models.BinaryField(null=True, blank=True, editable=False)
    # The scopes the application may receive (`openid` always, and those of GRANTABLE_SCOPES
    # the operator ticked): a request's others are dropped (authorize.py: `validate`).
    allowed_scopes = models.JSONField(default=default_scopes)
    # How it authenticates at the token, revocation and introspection endpoints: with its client
    # secret (basic or post), or with a JWT signed by one of its `jwks`, the public keys the
    # operator registered (private_key_jwt: oidc/assertions.py; such a client has no secret).
    CLIENT_SECRET, PRIVATE_KEY_JWT = "client_secret", "private_key_jwt"
    AUTH_METHODS = [
        (CLIENT_SECRET, _("client secret (default)")),
        (PRIVATE_KEY_JWT, _("private_key_jwt: a JWT signed with the application's own key")),
    ]
    token_endpoint_auth_method = models.CharField(
        max_length=20, choices=AUTH_METHODS, default=CLIENT_SECRET
    )
    jwks = models.JSONField(default=dict, blank=True)  # {"keys": [public JWKs]}; {} for a secret

    def __str__(self) -> str:
        return self.application.name

    @property
    def audit_ref(self) -> str:
        return f"sso_client:{self.public_id}"


class SignIn(models.Model):
    """One sign-in of a person to an application: made with the authorization code, from what
    the person's session had proved then (authn/sessions.py: `authentication`), for the one
    organisation the person acts for. The code itself is not kept, only its SHA-256: a second
    exchange finds the sign-in it was spent on, and the tokens issued from it are revoked.

    It is also the token family (families.py): the code, the access token and refresh token it
    was exchanged for, and every pair a refresh of those rotated to (the toolkit's
    `RefreshToken.token_family` is the sign-in's `token_family`). At most one access token and
    one refresh token of a family are live at a time: `access_token` is the live one."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    application = models.ForeignKey(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="+"
    )
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    acr = models.CharField(max_length=12)
    amr = models.JSONField(default=list)
    authenticated_at = models.DateTimeField()  # the session's login: the ID token's auth_time
    # The Zorgsleutel session it came from (logout.py): `sid`, random and kept in the session
    # across its key's rotations (the ID token's and the logout token's `sid` claim), and the
    # SHA-256 of the session key at the code's issue (never the key: it is a bearer secret).
    sid = models.CharField(max_length=43, blank=True, default="", db_index=True)
    session_digest = models.CharField(max_length=64, blank=True, default="")
    # When its session ended (logout.end_sign_ins): its tokens were revoked then.
    ended_at = models.DateTimeField(null=True, blank=True)
    code_digest = models.CharField(max_length=64, unique=True)
    code_expires_at = models.DateTimeField()
    redeemed_at = models.DateTimeField(null=True, blank=True)
    # The access token the code was exchanged for (deleted when revoked or purged).
    access_token = models.OneToOneField(
        "oauth2_provider.AccessToken",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="zs_sign_in",
    )
    created_at = models.DateTimeField()
    # The scope the code was issued for: what a refresh may ask again (or less of).
    scope = models.CharField(max_length=255, blank=True, default="")
    # The toolkit's refresh token family of this sign-in (validator.py: _create_refresh_token).
    token_family = models.UUIDField(null=True, blank=True, unique=True, editable=False)
    # When the live refresh token was issued (the code exchange, then each refresh): it is
    # exchanged within policies.OIDC_REFRESH_TOKEN_TTL of this.
    refresh_issued_at = models.DateTimeField(null=True, blank=True)
    # When every token of the family was revoked (families.revoke_family): for good.
    revoked_at = models.DateTimeField(null=True, blank=True)
    # The UZI card the session's login presented, when it did (authn/sessions.py: CARD):
    # uzi_number, ura, organisation_name, role, pas_type; {} when none. Scope `dezi`'s claims
    # (claims.py: `dezi`), never the certificate.
    dezi = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="sign_in_created")]


class LogoutDelivery(models.Model):
    """One back-channel logout to send (the outbox, backchannel.py): written in the
    transaction that ended the session, POSTed by the worker, retried with backoff
    (policies.OIDC_LOGOUT_RETRY_BACKOFF), given up after policies.OIDC_LOGOUT_MAX_ATTEMPTS.
    The logout token is made at each attempt (a fresh `iat`, `exp` and `jti`, the key that
    signs then), so a retry never sends an expired one."""

    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
    STATES = [(PENDING, "pending"), (SENDING, "sending"), (SENT, "sent"), (FAILED, "failed")]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    # Whose session ended, and in which organisation's log its events go.
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    sub = models.CharField(max_length=64)  # as the application knows the person (claims.subject)
    sid = models.CharField(max_length=43, blank=True, default="")
    reason = models.CharField(max_length=30)  # logout.REASONS
    status = models.CharField(max_length=10, choices=STATES, default=PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"], name="logout_delivery_due")]


class SigningKey(models.Model):
    """A key that signs ID tokens (keys.py). NEXT: published in the JWKS, not signing yet;
    CURRENT: signs (one per algorithm at a time); RETIRED: published until `retired_at` +
    policies.OIDC_KEY_KEEP_RETIRED, so tokens it signed still verify. The private key is
    sealed (AES-256-GCM under a key derived from SECRET_KEY, its kid the associated data)."""

    NEXT, CURRENT, RETIRED = "next", "current", "retired"
    STATES = [(NEXT, "next"), (CURRENT, "current"), (RETIRED, "retired")]

    kid = models.CharField(max_length=64, unique=True)  # the JWK thumbprint (RFC 7638)
    algorithm = models.CharField(max_length=10, default="RS256")
    state = models.CharField(max_length=10, choices=STATES)
    sealed_private_key = models.BinaryField()
    public_jwk = models.JSONField()
    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # One signing and one upcoming key per algorithm (RS256; ES256 for clients that ask).
            models.UniqueConstraint(
                fields=["algorithm", "state"],
                condition=models.Q(state="current"),
                name="one_current_key_per_algorithm",
            ),
            models.UniqueConstraint(
                fields=["algorithm", "state"],
                condition=models.Q(state="next"),
                name="one_next_key_per_algorithm",
            ),
        ]

    @property
    def audit_ref(self) -> str:
        return f"sso_key:{self.kid}"


class ProviderSecret(models.Model):
    """A random secret of the provider, made once and sealed like the signing keys: "subject"
    keys the pairwise `sub` (claims.py), which must never change."""

    name = models.CharField(max_length=40, unique=True)
    sealed = models.BinaryField()
    created_at = models.DateTimeField()


class Consent(models.Model):
    """A person's consent to an application (docs/oidc.md, "Consent"): the scopes they allowed
    it, and the organisation they chose to act for there (remembered per application, so the
    next login goes straight through: `select_account` asks again). One row per person and
    application; a request for a scope not in `scopes` asks again, for the new ones. Revoked in
    Mijn Zorgsleutel → Gekoppelde applicaties, which deletes the row."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    # The organisation last chosen for this application; none when it was deleted since.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    scopes = models.JSONField(default=list)  # sorted
    granted_at = models.DateTimeField()  # the first consent
    updated_at = models.DateTimeField()  # the last scope added

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "client"], name="one_consent_per_client")
        ]

    @property
    def audit_ref(self) -> str:
        return self.client.audit_ref


class UsedAssertion(models.Model):
    """A client assertion's `jti`, once it authenticated its client (oidc/assertions.py): a
    second assertion with it is refused until `expires_at` (its `exp`), after which the
    assertion is refused as expired anyway and the purge deletes the row. In the database, not
    the cache: every portal node must see it, and the unique constraint decides between two
    requests that race with one assertion."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="+")
    jti_digest = models.CharField(max_length=64)  # SHA-256 of the jti: any length, one width
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["client", "jti_digest"], name="one_use_per_jti")
        ]
