"""Append-only, hash-chained audit log.

Every state change calls `record()` inside the transaction that makes the change, so an event
exists exactly when the change does. Each event stores the hash of the previous one; the chain
head row is locked while appending, so concurrent writers are serialised and the chain never
forks. `verify_chain()` recomputes every hash: an edited, deleted or inserted row breaks it.
The events of one `record_in()` (one per organisation) are appended under one lock of the head;
which organisations an event about a person goes to is people's to know
(people/personevents.py).

Every event's type is in `core/auditevents.py` (its detail fields, who reads it); recording
anything else raises there, before the chain is touched.

An event recorded for an organisation keeps, in its detail `names`, the e-mail address of each
person it names (actor, target) whom that organisation knows (policies.known_to: a membership
of theirs in any state), so that its log still reads after it deleted the membership; the log
shows everyone else by their pseudonym (accounts/audit_views.py).

A refusal is recorded with `refused()`; inside `atomic()` it undoes what the block wrote and
keeps its event, which a plain `transaction.atomic()` that the refusal leaves would roll back.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from zorgsleutel import policies
from zorgsleutel.core import auditevents, clock, requestcontext
from zorgsleutel.core.errors import DomainError
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
    auditevents.check(action, details, for_organisation=organisation is not None)
    return _append([organisation], action, actor, target, outcome, details)[0]


def record_in(
    organisations: list,
    action: str,
    *,
    actor: Any = None,
    target: Any = None,
    outcome: str = SUCCESS,
    details: dict | None = None,
    member: Any = None,
) -> list[AuditEvent]:
    """Append the same event once for each of `organisations` (None: the platform's log),
    together, under one lock of the chain head: an event of a type organisations read, about
    a person whose organisations the caller knows. `member`: a person the caller knows to be a
    member of each of them (their name is kept without asking)."""
    auditevents.check(action, details, for_organisation=True)
    return _append(list(organisations), action, actor, target, outcome, details, member=member)


def _names(organisation: Any, named: tuple, member: Any = None) -> dict[str, str]:
    """The people of an event whom `organisation` knows, by their e-mail address (what it typed
    or sees in its list): the names its log shows, kept with the event. `member`: someone known
    to be its member (no need to ask)."""
    names: dict[str, str] = {}
    if organisation is None:
        return names
    for thing in named:
        reference = ref(thing)
        if not reference.startswith("user:") or reference in names:
            continue
        if reference == ref(member) or policies.known_to(organisation, thing):
            names[reference] = thing.email
    return names


# --- Refusals ------------------------------------------------------------------------------------
# Inside atomic(): the refusals made there, recorded once its block has rolled back.
_deferring: ContextVar[bool] = ContextVar("audit_deferring_refusals", default=False)


def refused(
    action: str,
    error: DomainError,
    *,
    actor: Any = None,
    organisation: Any = None,
    target: Any = None,
    organisations: list | None = None,
    member: Any = None,
    details: dict | None = None,
) -> DomainError:
    """Record the refusal `error` as `action` (outcome denied; the detail `reason` is its code
    unless `details` gives a more precise one) and return it to raise: for `organisation`, or
    in each of `organisations` as record_in does. Inside `atomic()` it is recorded once that
    block has rolled back."""
    details = {"reason": error.code, **(details or {})}
    # Checked now, also when the event is recorded later: a wrong event fails where it is made.
    for_organisation = organisation is not None or organisations is not None
    auditevents.check(action, details, for_organisation=for_organisation)
    if organisations is not None:
        write = functools.partial(
            record_in, organisations, action, actor=actor, target=target, member=member
        )
    else:
        write = functools.partial(
            record, action, actor=actor, organisation=organisation, target=target
        )
    write = functools.partial(write, outcome=DENIED, details=details)
    if _deferring.get():
        error.audit_event = write
    else:
        write()
    return error


@contextmanager
def atomic() -> Iterator[None]:
    """transaction.atomic() for a flow that may refuse after it has locked and read rows: a
    refusal raised in the block as `raise audit.refused(...)` undoes what the block wrote, its
    event is recorded and committed, and then it is raised. Any other error rolls everything
    back, as transaction.atomic() does."""
    refusal: DomainError | None = None
    token = _deferring.set(True)
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():  # a savepoint: what the block wrote
                    yield
            except DomainError as error:
                write: Callable[[], Any] | None = getattr(error, "audit_event", None)
                if write is None:
                    raise
                # Recorded here, after the savepoint rolled back. An enclosing atomic() rolls
                # this event back with its own block and records it again: it is kept once.
                write()
                refusal = error
    finally:
        _deferring.reset(token)
    if refusal is not None:
        raise refusal


def _append(
    organisations: list,
    action: str,
    actor,
    target,
    outcome: str,
    details: dict | None,
    member: Any = None,
) -> list[AuditEvent]:
    """Append one event per organisation: lock the chain head, insert the events together, move
    the head: three statements through Django's public ORM (bench/audit_append.py measured
    0.6 ms more CPU per append than hand-written SQL, about 2 % of a login's server CPU:
    docs/benchmarks.md)."""
    context = requestcontext.current()
    now = clock.now()
    clean = json.loads(json.dumps(details or {}, default=str))
    # Looked up before the head is locked (a query for a person loaded without memberships).
    rows = []
    for organisation in organisations:
        names = _names(organisation, (actor, target), member)
        rows.append((organisation, {**clean, auditevents.NAMES: names} if names else clean))
    # savepoint=False: inside a caller's transaction a failed append fails that transaction,
    # which is what it must do (no change without its event).
    with transaction.atomic(savepoint=False):
        head = _lock_head()
        events = []
        prev_hash, seq = head.last_hash, head.last_seq
        for organisation, stored in rows:
            seq += 1
            event = AuditEvent(
                occurred_at=now,
                actor=ref(actor) or "system",
                organisation=ref(organisation),
                action=action,
                target=ref(target),
                outcome=outcome,
                ip=context.ip,
                user_agent=context.user_agent,
                details=stored,
                prev_hash=prev_hash,
                seq=seq,
            )
            event.hash = prev_hash = compute_hash(event)
            events.append(event)
        # bulk_create inserts without Model.save(), which refuses (append-only): the one way in.
        AuditEvent.objects.bulk_create(events)
        AuditChainHead.objects.filter(pk=head.pk).update(last_hash=prev_hash, last_seq=seq)
    return events


def _lock_head() -> AuditChainHead:
    """The chain head, locked until the transaction ends (FOR UPDATE on PostgreSQL; SQLite's
    write transaction serialises appenders), so concurrent writers keep one linear chain."""
    head = AuditChainHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # the very first event: create the head (races resolve in get_or_create)
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(
            pk=1, defaults={"last_hash": GENESIS}
        )
    return head


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


def for_organisation(organisation: Any, *, reader: str = auditevents.ADMINISTRATOR):
    """The events of one organisation that `reader` (a role there) may read, newest first."""
    return AuditEvent.objects.filter(
        organisation=ref(organisation), action__in=auditevents.read_by(reader)
    ).order_by("-seq")
