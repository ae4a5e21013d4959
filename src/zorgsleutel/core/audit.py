"""Append-only, hash-chained audit log.

Every state change calls `record()` inside the transaction that makes the change, so an event
exists exactly when the change does. Each event stores the hash of the previous one; the chain
head row is locked while appending, so concurrent writers are serialised and the chain never
forks. `verify_chain()` recomputes every hash: an edited, deleted or inserted row breaks it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from zorgsleutel.core import clock, requestcontext
from zorgsleutel.core.models import AuditChainHead, AuditEvent

GENESIS = "0" * 64
SUCCESS, FAILURE, DENIED = "success", "failure", "denied"


def ref(obj: Any) -> str:
    """A stable, pseudonymous reference for an actor or target ("user:<uuid>", "system")."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return obj
    audit_ref = getattr(obj, "audit_ref", None)
    if audit_ref:
        return audit_ref
    return f"{obj._meta.label_lower}:{obj.pk}"


def _canonical(event: AuditEvent) -> bytes:
    payload = {
        "seq": event.seq,
        "at": event.occurred_at.isoformat(timespec="microseconds"),
        "actor": event.actor,
        "organisation": event.organisation,
        "action": event.action,
        "target": event.target,
        "outcome": event.outcome,
        "ip": event.ip,
        "user_agent": event.user_agent,
        "details": event.details,
        "prev": event.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def compute_hash(event: AuditEvent) -> str:
    return hashlib.sha256(_canonical(event)).hexdigest()


def record(
    action: str,
    *,
    actor: Any = None,
    organisation: Any = None,
    target: Any = None,
    outcome: str = SUCCESS,
    details: dict | None = None,
) -> AuditEvent:
    """Append one event to the chain, in the caller's transaction."""
    context = requestcontext.current()
    with transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS}
        )
        event = AuditEvent(
            occurred_at=clock.now(),
            actor=ref(actor) or "system",
            organisation=ref(organisation),
            action=action,
            target=ref(target),
            outcome=outcome,
            ip=context.ip,
            user_agent=context.user_agent,
            details=json.loads(json.dumps(details or {}, default=str)),
            prev_hash=head.last_hash,
            seq=head.last_seq + 1,
        )
        event.hash = compute_hash(event)
        event.save_new()
        head.last_hash = event.hash
        head.last_seq = event.seq
        head.save(update_fields=["last_hash", "last_seq"])
    return event


def record_for_person(action: str, *, person: Any, **kwargs) -> None:
    """Record an event about one person once in each of their organisations (so every
    organisation's administrators see their own people's logins), or once without one."""
    organisations = [m.organisation for m in person.memberships.select_related("organisation")]
    for organisation in organisations or [None]:
        record(action, organisation=organisation, **kwargs)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    broken_at: int | None = None
    reason: str = ""


def verify_chain() -> ChainReport:
    """Recompute the chain from the first event; report the first break, if any."""
    previous = GENESIS
    checked = 0
    last_seq = 0
    for event in AuditEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != last_seq + 1:
            return ChainReport(False, checked, event.seq, f"event {last_seq + 1} is missing")
        if event.prev_hash != previous:
            return ChainReport(False, checked, event.seq, "previous hash does not match")
        if compute_hash(event) != event.hash:
            return ChainReport(False, checked, event.seq, "event content does not match its hash")
        previous = event.hash
        last_seq = event.seq
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and (head.last_hash != previous or head.last_seq != last_seq):
        return ChainReport(False, checked, last_seq or None, "events missing at the end")
    return ChainReport(True, checked)


def for_organisation(organisation: Any):
    """Events of one organisation, newest first."""
    return AuditEvent.objects.filter(organisation=ref(organisation)).order_by("-seq")
