"""Organisations: care providers (validated with a UZI card) and business customers."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from zorgsleutel.people.models import Organisation

__all__ = ["Application", "Organisation"]


class Application(models.Model):
    """A care provider's application (seed 003, step 2), reviewed by an operator (step 3) and
    validated by the applicant with a UZI card (step 5). The validation link's token is stored
    only as a SHA-256 hash, is single use and expires (policies.VALIDATION_LINK_TTL)."""

    SUBMITTED, APPROVED, REJECTED, VALIDATED = "submitted", "approved", "rejected", "validated"
    STATES = [
        (SUBMITTED, _("submitted")),
        (APPROVED, _("approved")),
        (REJECTED, _("rejected")),
        (VALIDATED, _("validated")),
    ]
    OPEN_STATES = (SUBMITTED, APPROVED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=12, choices=STATES, default=SUBMITTED)
    organisation_name = models.CharField(_("organisation name"), max_length=200)
    kvk_number = models.CharField(_("KvK number"), max_length=8)
    ura = models.CharField(_("URA"), max_length=8)
    agb_code = models.CharField(_("AGB code"), max_length=8, blank=True)
    street = models.CharField(_("street and number"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=7)
    city = models.CharField(_("city"), max_length=100)
    applicant_name = models.CharField(_("your name"), max_length=200)
    applicant_email = models.EmailField(_("business e-mail address"), max_length=254)
    applicant_uzi_number = models.CharField(_("your UZI number"), max_length=9)
    language = models.CharField(max_length=5, default="nl")
    submitted_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rejection_reason = models.TextField(blank=True)
    validation_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    validation_expires_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    organisation = models.OneToOneField(
        Organisation, null=True, blank=True, on_delete=models.SET_NULL, related_name="application"
    )
    # The validation made the administrator's account (the address had none): until that
    # administrator links an app, the card holder may come back through the link to link one.
    # An account that existed before is reached only from its own session (docs/organisations.md).
    new_account = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["ura"],
                condition=models.Q(state__in=["submitted", "approved"]),
                name="application_one_open_per_ura",
            )
        ]
        indexes = [models.Index(fields=["state", "submitted_at"])]

    def __str__(self) -> str:
        return f"{self.organisation_name} ({self.ura}, {self.state})"

    @property
    def audit_ref(self) -> str:
        return f"application:{self.public_id}"

    @property
    def reference(self) -> str:
        """The kenmerk people quote: the public id's first 8 hex digits in capitals ("3F2A9C1B"),
        as the mails, the confirmation page and the operator console show it."""
        return str(self.public_id)[:8].upper()

    def validation_link_open(self, at) -> bool:
        return (
            self.state == self.APPROVED
            and bool(self.validation_token_hash)
            and self.validation_expires_at is not None
            and at < self.validation_expires_at
        )
