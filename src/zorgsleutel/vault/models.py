"""Vault models. A phone number exists only here, and only encrypted (AES-256-GCM)."""

from __future__ import annotations

from django.db import models


class Enrolment(models.Model):
    """One phone number of one person, registered by a client (the portal)."""

    PENDING, CONFIRMED = "pending", "confirmed"

    id = models.CharField(primary_key=True, max_length=40)
    client = models.CharField(max_length=40)
    number_ciphertext = models.BinaryField()
    key_version = models.CharField(max_length=16)
    number_index = models.CharField(max_length=64, db_index=True)
    hint = models.CharField(max_length=40)
    region = models.CharField(max_length=2)
    locale = models.CharField(max_length=8, default="nl")
    status = models.CharField(max_length=12, default=PENDING)
    created_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]


class Challenge(models.Model):
    """An SMS code sent to an enrolment's number: keyed hash only, expiring, limited attempts."""

    OPEN, VERIFIED, BLOCKED = "open", "verified", "blocked"

    id = models.CharField(primary_key=True, max_length=40)
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="challenges")
    code_hash = models.CharField(max_length=64)
    status = models.CharField(max_length=12, default=OPEN)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    last_sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["enrolment", "status"])]


class SmsSend(models.Model):
    """One SMS sent (or tried): a code or a notice. Kept after erasure, by keyed hash only, to
    enforce hourly caps; `enrolment_status` is the enrolment's status at the time, because sends
    to pending and to confirmed enrolments are capped apart (policies.py).

    Only `sent` counts towards the caps. A code typed in correctly becomes `answered` (once, when
    its challenge is verified): only the number's owner can do that, and their own logins must
    never use up what an attacker's unanswered codes are capped by."""

    SENT, FAILED, ANSWERED = "sent", "failed", "answered"
    CODE, NOTICE = "code", "notice"

    number_index = models.CharField(max_length=64)
    enrolment_ref = models.CharField(max_length=40)
    enrolment_status = models.CharField(max_length=12, default=Enrolment.PENDING)
    challenge_ref = models.CharField(max_length=40)  # "" for a notice
    kind = models.CharField(max_length=12, default=CODE)
    status = models.CharField(max_length=12, default=SENT)
    gateway = models.CharField(max_length=40, blank=True)
    sent_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["number_index", "sent_at"]),
            models.Index(fields=["enrolment_ref", "sent_at"]),
        ]


class DeliveryAttempt(models.Model):
    """What one gateway answered for one send; failover tries the next gateway."""

    send = models.ForeignKey(SmsSend, on_delete=models.CASCADE, related_name="attempts")
    gateway = models.CharField(max_length=40)
    ok = models.BooleanField()
    reference = models.CharField(max_length=120, blank=True)
    error = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField()


class DevSms(models.Model):
    """The development gateway's outbox: masked number and text, shown in the dev mailbox."""

    hint = models.CharField(max_length=40)
    body = models.CharField(max_length=400)
    sent_at = models.DateTimeField(db_index=True)


class UsedNonce(models.Model):
    """Nonces of accepted signed requests, kept until their timestamps fall out of the window."""

    client = models.CharField(max_length=40)
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "nonce"], name="vault_nonce_once")]


class VaultEvent(models.Model):
    """The vault's own audit trail: which client did what to which enrolment, and how it ended."""

    at = models.DateTimeField(db_index=True)
    client = models.CharField(max_length=40)
    action = models.CharField(max_length=40)
    enrolment_ref = models.CharField(max_length=40, blank=True, db_index=True)
    outcome = models.CharField(max_length=20)
    detail = models.CharField(max_length=200, blank=True)
