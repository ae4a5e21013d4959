"""App IDs (devices), each organisation's decisions about them, and one-time enrolment codes.

Who governs an app ID (docs/accounts.md, "Who governs an authenticator"): the app ID is the
person's; every organisation where the person accepted a membership decides about it for itself
(AppDecision). An app ID works for an organisation while it works at all (AppDevice.state) and
that organisation has no decision about it; a decision never reaches another organisation."""

from __future__ import annotations

from django.db import models


class AppDevice(models.Model):
    """One enrolled Zorgsleutel app: its public key and (encrypted) secret, and its state."""

    # The app ID itself, for every organisation at once: ACTIVE; BLOCKED after the wrong PINs
    # (policies.APP_MAX_WRONG_PINS), until an organisation unblocks it for itself; REVOKED: the
    # person removed it. What an organisation decided for itself is an AppDecision.
    ACTIVE, BLOCKED, REVOKED = "active", "blocked", "revoked"

    public_id = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="app_devices")
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


class AppDecision(models.Model):
    """What one organisation decided about a person's app ID, for itself only (seed 003: the
    administrator "beheert de ID's onder de verantwoordelijkheid van de zorgorganisatie").

    No row: the organisation relies on the app ID as it is. BLOCKED, REVOKED ("verwijderd"):
    the app ID does not work for this organisation. RELEASED: removed, and the organisation
    lets the person link a new app. PENDING: linked while this organisation held the person's
    app (blocked or removed, not released): it works here only once the organisation allows it
    (docs/app-protocol.md, "No fallback")."""

    BLOCKED, REVOKED, RELEASED, PENDING = "blocked", "revoked", "released", "pending"

    device = models.ForeignKey(AppDevice, on_delete=models.CASCADE, related_name="decisions")
    organisation = models.ForeignKey(
        "organisations.Organisation", on_delete=models.CASCADE, related_name="app_decisions"
    )
    state = models.CharField(max_length=10)
    decided_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["device", "organisation"], name="one_app_decision_per_organisation"
            )
        ]

    def __str__(self) -> str:
        return f"{self.device_id} in {self.organisation_id}: {self.state}"


class AppEnrolment(models.Model):
    """A one-time enrolment code shown as a QR code: hashed, 5 minutes, single use.

    The app posts to the code; the browser that shows it waits on its cross-device challenge
    (authn.challenges, kind enrolment.ENROL_KIND), which the enrolment answers: only that
    browser's session collects it, once."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    code_hash = models.CharField(max_length=64, unique=True)
    # Expires with it; purge.py deletes the enrolments first, so that deleting the challenges
    # stays one DELETE (a cascade would make Django load every expired challenge first).
    challenge = models.OneToOneField(
        "authn.Challenge", on_delete=models.DO_NOTHING, related_name="app_enrolment"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    device = models.ForeignKey(AppDevice, null=True, blank=True, on_delete=models.SET_NULL)
    # The assurance of the session that showed the code ("" without one: the validating browser,
    # the demo): a new app linked from below the person's required level after a reset by mail
    # waits for consent (policies.new_app_waits).
    session_acr = models.CharField(max_length=12, blank=True, default="")
