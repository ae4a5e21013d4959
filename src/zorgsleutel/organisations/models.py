"""Organisations: care providers (validated with a UZI card) and business customers."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    CARE_PROVIDER, BUSINESS = "care_provider", "business"
    KINDS = [(CARE_PROVIDER, _("care provider")), (BUSINESS, _("business customer"))]
    ACTIVE, VALIDATED, SUSPENDED = "active", "validated", "suspended"
    STATES = [(ACTIVE, _("active")), (VALIDATED, _("validated")), (SUSPENDED, _("suspended"))]

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(max_length=20, choices=KINDS)
    state = models.CharField(max_length=20, choices=STATES, default=ACTIVE)
    kvk_number = models.CharField(_("KvK number"), max_length=8, blank=True)
    ura = models.CharField(_("URA"), max_length=8, blank=True)
    agb_code = models.CharField(_("AGB code"), max_length=8, blank=True)
    allowed_email_domains = models.JSONField(default=list, blank=True)
    application_roles = models.JSONField(default=list, blank=True)
    # "substantial": every member must log in with the Zorgsleutel app (DESIGN.md).
    required_acr = models.CharField(max_length=12, default="low")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
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
