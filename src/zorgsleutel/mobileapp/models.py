"""App IDs (devices), their one-time enrolment codes, and QR login challenges."""

from __future__ import annotations

from django.db import models


class AppDevice(models.Model):
    """One enrolled Zorgsleutel app: its public key and (encrypted) secret, and its state."""

    # REVOKED: removed (by the person, or a manager); the person may not link a new app by
    # themselves while one is held like this. RELEASED: removed, and a manager let the person
    # link a new one (docs/app-protocol.md, "No fallback").
    ACTIVE, BLOCKED, REVOKED, RELEASED = "active", "blocked", "revoked", "released"

    public_id = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="app_devices")
    # The organisation responsible for this app ID (seed 003: the administrator "beheert de ID's
    # onder de verantwoordelijkheid van de zorgorganisatie"): only its administrators and
    # managers block, unblock or delete it. None: the person's own (an operator's, say).
    organisation = models.ForeignKey(
        "organisations.Organisation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="app_devices",
    )
    name = models.CharField(max_length=100)
    public_key = models.BinaryField()  # SubjectPublicKeyInfo DER, ECDSA P-256
    secret_ciphertext = models.BinaryField()  # AES-256-GCM under the portal's app key
    state = models.CharField(max_length=10, default=ACTIVE)
    wrong_pins = models.PositiveSmallIntegerField(default=0)
    enrolled_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.state})"

    @property
    def audit_ref(self) -> str:
        return f"appdevice:{self.public_id}"


class AppEnrolment(models.Model):
    """A one-time enrolment code shown as a QR code: hashed, 5 minutes, single use."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    device = models.ForeignKey(AppDevice, null=True, blank=True, on_delete=models.SET_NULL)
