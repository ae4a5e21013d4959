"""Core models: the audit log and its chain head."""

from __future__ import annotations

from django.db import models


class AppendOnlyError(Exception):
    """Raised on any attempt to change or remove an audit event."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def delete(self):
        raise AppendOnlyError("audit events are append-only")


class AuditEvent(models.Model):
    """One thing that happened: who, in which organisation, did what to whom, from where."""

    seq = models.BigIntegerField(unique=True)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.CharField(max_length=80, db_index=True)
    organisation = models.CharField(max_length=80, blank=True, db_index=True)
    action = models.CharField(max_length=80, db_index=True)
    target = models.CharField(max_length=120, blank=True, db_index=True)
    outcome = models.CharField(max_length=16)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=400, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor}"

    def save(self, *args, **kwargs):
        raise AppendOnlyError("use zorgsleutel.core.audit.record() to write audit events")

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("audit events are append-only")

    def save_new(self) -> None:
        if self.pk is not None:
            raise AppendOnlyError("audit events are append-only")
        super().save(force_insert=True)


class AuditChainHead(models.Model):
    """The hash of the newest event; locked while appending so the chain stays linear."""

    last_hash = models.CharField(max_length=64)
    last_seq = models.BigIntegerField(default=0)
