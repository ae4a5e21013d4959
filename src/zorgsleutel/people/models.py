"""The people everyone needs: a person (User), an organisation, and the membership between them.

These models sit below every capability (accounts, organisations, mobileapp, cards) and below
`authn`, so that logging in, the policy rules and the audit log can read a person's
organisations without importing a capability (pyproject.toml, the layers contract). They keep
their apps' labels and tables (`accounts.User`, `accounts.Membership`,
`organisations.Organisation`): the migrations stay where they are.
"""

from __future__ import annotations

import uuid

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from zorgsleutel.core import clock


class UserManager(BaseUserManager):
    def get_by_natural_key(self, email: str):
        return self.get(email__iexact=email)

    def create_user(self, email: str, name: str = "", **fields):
        user = self.model(email=self.normalize_email(email).lower(), name=name, **fields)
        user.set_unusable_password()
        user.save()
        return user


class User(AbstractBaseUser):
    """A person. Passwords are Argon2id hashes; the phone number lives only in the vault."""

    INVITED, ACTIVE, BLOCKED, DELETED = "invited", "active", "blocked", "deleted"
    STATES = [
        (INVITED, _("invited")),
        (ACTIVE, _("active")),
        (BLOCKED, _("blocked")),
        (DELETED, _("deleted")),
    ]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(_("e-mail address"), max_length=254, unique=True)
    name = models.CharField(_("name"), max_length=200)
    state = models.CharField(max_length=12, choices=STATES, default=INVITED)
    is_operator = models.BooleanField(default=False)
    language = models.CharField(max_length=5, default="nl")
    # Opaque id of the vault enrolment holding this person's mobile number (never the number).
    phone_enrolment = models.CharField(max_length=40, blank=True)
    # Raised to end every session of this person at once (block, password reset).
    auth_epoch = models.PositiveIntegerField(default=0)
    # When a mailed link last reset this person's password and phone (None: never): a mailbox
    # alone never reaches the app-required level (policies.new_app_waits).
    credentials_reset_at = models.DateTimeField(null=True, blank=True)
    # The UZI number of the person's UZI card, bound the first time they present it while logged
    # in (docs/smartcards.md): that card then logs them in. One account per number (Meta: a
    # partial unique index, which SQLite adds without rebuilding the table and its triggers;
    # SQLite adds only a nullable column without a rebuild, hence null rather than "").
    uzi_number = models.CharField(max_length=9, null=True, blank=True)  # noqa: DJ001 (see above)
    created_at = models.DateTimeField(auto_now_add=True)

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    objects = UserManager()

    class Meta:
        app_label = "accounts"
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.UniqueConstraint(
                fields=["uzi_number"],
                condition=models.Q(uzi_number__isnull=False),
                name="one_account_per_uzi_number",
            ),
        ]
        # Beheer lists people by name: pages walk this index (bench/members.py).
        indexes = [models.Index(fields=["name", "email"], name="user_name_email")]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs):
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def audit_ref(self) -> str:
        return f"user:{self.public_id}"

    @property
    def is_active(self) -> bool:  # Django's auth reads this
        return self.state == self.ACTIVE

    def get_session_auth_hash(self) -> str:
        """Sessions carry this; a new password or a raised auth_epoch invalidates them all."""
        return salted_hmac(
            "zorgsleutel.accounts.session",
            f"{self.password}:{self.auth_epoch}:{self.state}",
            algorithm="sha256",
        ).hexdigest()


class Membership(models.Model):
    """A person's place in an organisation: a role, plus the organisation's application roles.

    The membership is what an organisation controls (docs/accounts.md, "Tenancy"): it is
    invited until the person accepts (activating a new account accepts it too), and the
    organisation blocks and unblocks it. The account itself (e-mail, password, phone) is the
    person's own: nothing an organisation does changes it.
    """

    ADMINISTRATOR, MANAGER, MEMBER = "administrator", "manager", "member"
    ROLES = [
        (ADMINISTRATOR, _("administrator")),
        (MANAGER, _("manager")),
        (MEMBER, _("member")),
    ]
    INVITED, ACTIVE, BLOCKED = "invited", "active", "blocked"
    STATES = [(INVITED, _("invited")), (ACTIVE, _("active")), (BLOCKED, _("blocked"))]

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=ROLES, default=MEMBER)
    application_roles = models.JSONField(default=list, blank=True)
    state = models.CharField(max_length=12, choices=STATES, default=ACTIVE)
    # What the organisation typed when it invited the person: all it sees until they accept.
    invited_name = models.CharField(max_length=200, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        app_label = "accounts"
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="membership_once")
        ]
        # The few invitations (never accepted) of an organisation, found without reading its
        # members (accounts/queries: listed under the name the organisation typed).
        indexes = [
            models.Index(
                fields=["organisation"],
                condition=models.Q(accepted_at__isnull=True),
                name="membership_invited",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role}, {self.state})"

    def save(self, *args, **kwargs):
        if self.state == self.ACTIVE and self.accepted_at is None:
            self.accepted_at = clock.now()  # created accepted (a validation, the demo)
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "accepted_at"}
        super().save(*args, **kwargs)

    @property
    def is_active(self) -> bool:
        return self.state == self.ACTIVE

    @property
    def display_name(self) -> str:
        """What the organisation sees: until the person accepts (blocked or not), only the name
        it typed."""
        if self.accepted_at is None and self.invited_name:
            return self.invited_name
        return self.user.name

    @property
    def is_accepted(self) -> bool:
        """The person took it up (an invitation the organisation blocked never was)."""
        return self.accepted_at is not None


class Organisation(models.Model):
    CARE_PROVIDER, BUSINESS = "care_provider", "business"
    KINDS = [(CARE_PROVIDER, _("care provider")), (BUSINESS, _("business customer"))]
    # Business customers are "active" once created; care providers "validated" by a UZI card.
    ACTIVE, VALIDATED = "active", "validated"
    STATES = [(ACTIVE, _("active")), (VALIDATED, _("validated"))]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(max_length=20, choices=KINDS)
    state = models.CharField(max_length=20, choices=STATES, default=ACTIVE)
    kvk_number = models.CharField(_("KvK number"), max_length=8, blank=True)
    ura = models.CharField(_("URA"), max_length=8, blank=True)
    agb_code = models.CharField(_("AGB code"), max_length=8, blank=True)
    allowed_email_domains = models.JSONField(default=list, blank=True)
    application_roles = models.JSONField(default=list, blank=True)
    # "substantial": every member must log in with the Zorgsleutel app (docs/app-protocol.md).
    required_acr = models.CharField(max_length=12, default="low")
    created_at = models.DateTimeField(auto_now_add=True)
    # Set by an operator: nobody acts in or logs in through a suspended organisation.
    suspended_at = models.DateTimeField(null=True, blank=True)
    suspension_reason = models.TextField(blank=True)

    class Meta:
        app_label = "organisations"
        constraints = [
            models.UniqueConstraint(
                fields=["ura"], condition=~models.Q(ura=""), name="organisation_ura_unique"
            ),
            models.UniqueConstraint(
                fields=["kvk_number"],
                condition=models.Q(kind="business") & ~models.Q(kvk_number=""),
                name="organisation_business_kvk_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_ref(self) -> str:
        return f"organisation:{self.public_id}"

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None
