"""The cross-device challenge: one row per QR code or card code a browser shows (challenges.py)."""

from __future__ import annotations

from django.db import models


class Challenge(models.Model):
    """A browser shows it (a QR code, a code to type), another device answers it (the app, the
    card client, the browser's own TLS handshake), and only the browser session that asked may
    collect the outcome, once. `kind` says which capability answers it (challenges.KINDS)."""

    PENDING, ACCEPTED, REFUSED, CONSUMED = "pending", "accepted", "refused", "consumed"

    kind = models.CharField(max_length=20)
    public_id = models.CharField(max_length=40, unique=True)
    code = models.CharField(max_length=8, null=True, blank=True, unique=True)  # typed in a client
    challenge = models.BinaryField()  # the random bytes the answering device signs
    # The browser session that asked, by a hash of its key: only it can collect the outcome.
    session_hash = models.CharField(max_length=64, db_index=True)
    host = models.CharField(max_length=200)
    browser = models.CharField(max_length=200, blank=True)
    purpose = models.CharField(max_length=40, blank=True)  # what an accepted answer does
    subject = models.CharField(max_length=64, blank=True)  # what it acts on (an application)
    status = models.CharField(max_length=10, default=PENDING)
    # After an answer: what the answering side found (an identity, an app ID), or the refusal's
    # code and message in each language.
    result = models.JSONField(default=dict, blank=True)
    # An answer presented where the browser's session is not (the UZI host, another origin),
    # held until the browser that asked brings back the one-time value handed to the presenting
    # browser (challenges.hold / release): the value's hash, and what was presented.
    held_hash = models.CharField(max_length=64, blank=True, default="")
    held = models.JSONField(default=dict, blank=True)
    person = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["expires_at"], name="challenge_expires")]

    def __str__(self) -> str:
        return f"{self.kind} challenge {self.public_id} ({self.status})"

    @property
    def audit_ref(self) -> str:
        return f"challenge:{self.public_id}"
