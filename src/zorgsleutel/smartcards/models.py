"""Zorgsleutel smartcards: issued cards, identity checks in person, blank-card orders, and the
CA's published status (docs/smartcards.md).

A smartcard is one person's, registered under the one organisation it was created for (its
certificate names that organisation): that organisation's administrators and managers block,
unblock and delete it (seed 003). Its certificate's status follows the card's state: ACTIVE is
good, BLOCKED is on hold (certificateHold), REVOKED is revoked for good (with its reason)."""

from __future__ import annotations

from django.db import models


class Smartcard(models.Model):
    ACTIVE, BLOCKED, REVOKED = "active", "blocked", "revoked"
    # RFC 5280 reason codes a revoked card keeps (x509.ReasonFlags' names).
    UNSPECIFIED, KEY_COMPROMISE, SUPERSEDED, CESSATION = (
        "unspecified",
        "key_compromise",
        "superseded",
        "cessation_of_operation",
    )

    public_id = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="smartcards")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="smartcards"
    )
    serial = models.CharField(max_length=40, unique=True)  # the certificate's, lower-case hex
    card_serial = models.CharField(max_length=32)  # the card's own (PKCS#11 token serial)
    certificate = models.BinaryField()  # DER
    fingerprint = models.CharField(max_length=64)  # SHA-256 of the DER, hex
    uzi_number = models.CharField(max_length=9, blank=True)  # in the subject when proved
    not_after = models.DateTimeField()
    issued_at = models.DateTimeField()
    route = models.CharField(max_length=20)  # IdentityCheck.method of the proof it used
    # The proof the card was made with (who confirmed, and when, is there).
    identity_check = models.ForeignKey(
        "smartcards.IdentityCheck", null=True, blank=True, on_delete=models.SET_NULL
    )
    state = models.CharField(max_length=10, default=ACTIVE)
    state_changed_at = models.DateTimeField()
    revocation_reason = models.CharField(max_length=30, blank=True)
    renews = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="renewed_by"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "state"], name="smartcard_user_state")]

    def __str__(self) -> str:
        return f"smartcard {self.serial} ({self.state})"

    @property
    def audit_ref(self) -> str:
        return f"smartcard:{self.public_id}"


class IdentityCheck(models.Model):
    """How a member proved who they are, for one smartcard of one organisation (seed 003):
    IN_PERSON, an administrator or manager of the organisation saw their identity document (who
    confirmed and when; never the document's number); or UZI, the member presented their own
    UZI card of that organisation's URA (its UZI number). One card creation uses it up
    (`used_at`); it expires unused (policies.SMARTCARD_PROOF_TTL)."""

    IN_PERSON, UZI = "in_person", "uzi"

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    method = models.CharField(max_length=12)
    uzi_number = models.CharField(max_length=9, blank=True)
    confirmed_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by_name = models.CharField(max_length=200, blank=True)  # kept if it is deleted
    confirmed_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    @property
    def audit_ref(self) -> str:
        return f"identitycheck:{self.pk}"


class CardOrder(models.Model):
    """Blank smartcards an administrator ordered (the seed's webshop step); an operator ships
    them with their serial numbers, or the organisation cancels before that."""

    ORDERED, SHIPPED, CANCELLED = "ordered", "shipped", "cancelled"

    public_id = models.CharField(max_length=40, unique=True)
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="card_orders"
    )
    quantity = models.PositiveSmallIntegerField()
    delivery_address = models.TextField()
    ordered_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    ordered_at = models.DateTimeField()
    state = models.CharField(max_length=10, default=ORDERED)
    state_changed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"order {self.public_id} ({self.state})"

    @property
    def audit_ref(self) -> str:
        return f"cardorder:{self.public_id}"


class BlankCard(models.Model):
    """A card shipped to an organisation, by its serial: it can be made into a smartcard for
    that organisation only."""

    serial = models.CharField(max_length=32, unique=True)
    order = models.ForeignKey(CardOrder, on_delete=models.CASCADE, related_name="cards")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="+"
    )
    smartcard = models.OneToOneField(
        Smartcard, null=True, blank=True, on_delete=models.SET_NULL, related_name="blank"
    )


class PublishedStatus(models.Model):
    """What the CA published last (one row): the CRL and its number, regenerated on every change
    of a card's state and before its nextUpdate."""

    crl_number = models.PositiveBigIntegerField(default=0)
    crl = models.BinaryField(default=b"")
    crl_next_update = models.DateTimeField(null=True)
    changed_at = models.DateTimeField(null=True)
