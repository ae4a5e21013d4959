"""Accounts: the links mailed to people and the organisations' API tokens.

The person and the membership themselves live in zorgsleutel.people (below authn); they are
re-exported here for the accounts code.
"""

from __future__ import annotations

from django.db import models

from zorgsleutel.people.models import Membership, User, UserManager

__all__ = ["ApiToken", "LinkToken", "Membership", "User", "UserManager"]


class LinkToken(models.Model):
    """A link sent by mail (activation, password reset).

    The token is 256 random bits (`secrets.token_urlsafe(32)`); only its SHA-256 is stored, so a
    copy of the database does not hold usable links (no salt is needed for full-entropy secrets).
    A token is valid until `expires_at`, becomes useless once `used_at` or `revoked_at` is set
    (both written under a row lock, so two parallel submissions cannot both use it), and sending a
    new link revokes the open ones.
    """

    ACTIVATION, PASSWORD_RESET, INVITATION = "activation", "password_reset", "invitation"
    NOT_ME = "not_me"
    PURPOSES = [
        (ACTIVATION, "activation"),
        (PASSWORD_RESET, "password reset"),
        (INVITATION, "invitation"),
        (NOT_ME, "this was not me"),
    ]

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="link_tokens")
    purpose = models.CharField(max_length=20, choices=PURPOSES)
    # Activation and invitation links belong to one membership: the one they accept.
    membership = models.ForeignKey(
        "Membership", null=True, blank=True, on_delete=models.CASCADE, related_name="link_tokens"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # When a campaign sends the link later (migration cut-over date); null = already sent.
    send_at = models.DateTimeField(null=True, blank=True)
    # A *Dit was ik niet* link answers one event, at created_at: what it was (REASONS) and, for
    # a linked authenticator, its name (shown on the link's page before anything is done).
    CREDENTIALS_RESET, AUTHENTICATOR_LINKED = "credentials_reset", "authenticator_linked"
    reason = models.CharField(max_length=30, blank=True)
    about = models.CharField(max_length=100, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "purpose"])]

    def __str__(self) -> str:
        return f"{self.purpose} link for {self.user_id}"

    def is_open(self, at) -> bool:
        return self.used_at is None and self.revoked_at is None and at < self.expires_at


class ApiToken(models.Model):
    """A per-organisation API key. It acts as the member who created it, with their permissions
    in that organisation only; stored as a SHA-256 of 256 random bits, shown once."""

    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="api_tokens"
    )
    created_by = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"API token {self.name}"

    @property
    def audit_ref(self) -> str:
        return f"apitoken:{self.pk}"
