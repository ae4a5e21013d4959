"""The mail outbox: one row per mail, written in the transaction of the change that causes it."""

from __future__ import annotations

import uuid

from django.db import models


class OutboxMail(models.Model):
    PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"

    message_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    template = models.CharField(max_length=80)
    locale = models.CharField(max_length=5)
    to = models.EmailField(max_length=254)
    subject = models.CharField(max_length=250)
    body_text = models.TextField()
    body_html = models.TextField()
    status = models.CharField(max_length=10, default=PENDING, db_index=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.template} to {self.to} ({self.status})"
