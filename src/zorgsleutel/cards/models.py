"""Challenges a UZI card answers: shown in a browser, signed by the card client (or replaced by
a TLS client certificate at the reverse proxy), collected by the browser that asked."""

from __future__ import annotations

from django.db import models


class CardChallenge(models.Model):
    PENDING, ACCEPTED, REFUSED, CONSUMED = "pending", "accepted", "refused", "consumed"

    public_id = models.CharField(max_length=40, unique=True)
    code = models.CharField(max_length=8, unique=True)  # typed into the card client
    challenge = models.BinaryField()
    # The browser session that asked, by a hash of its key: only it can collect the result.
    session_hash = models.CharField(max_length=64, db_index=True)
    host = models.CharField(max_length=200)
    purpose = models.CharField(max_length=40)
    subject = models.CharField(max_length=64)  # what the purpose acts on, e.g. an application
    status = models.CharField(max_length=10, default=PENDING)
    # After an answer: the parsed UZI identity, or the refusal's code and message.
    result = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"card challenge {self.public_id} ({self.status})"

    @property
    def audit_ref(self) -> str:
        return f"cardchallenge:{self.public_id}"
