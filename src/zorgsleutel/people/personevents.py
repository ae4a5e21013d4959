"""Audit events about one person, in the log of every organisation that person accepted.

An event about a person (a login, a linked app, a refused QR approval) goes once to each
organisation where they accepted a membership, so every organisation's administrators see their
own people's events and an organisation that only invited an address sees nothing of that
person; a person without one has their events in the platform's log. The events are appended
together, under one lock of the chain (core/audit.py's `record_in`), and each keeps the person's
name: these organisations know them.
"""

from __future__ import annotations

from typing import Any

from zorgsleutel import policies
from zorgsleutel.core import audit
from zorgsleutel.core.errors import DomainError


def organisations_of(person: Any) -> list:
    """The organisations whose logs hold events about `person` (None: the platform's log)."""
    accepted = policies.accepted_memberships(person)
    return [m.organisation for m in accepted] or [None]


def record_for_person(
    action: str,
    *,
    person: Any,
    actor: Any = None,
    target: Any = None,
    outcome: str = audit.SUCCESS,
    details: dict | None = None,
) -> None:
    """Record an event about `person` once in each of their organisations' logs."""
    audit.record_in(
        organisations_of(person),
        action,
        actor=actor,
        target=target,
        outcome=outcome,
        details=details,
        member=person,
    )


def refused_for_person(
    action: str,
    error: DomainError,
    *,
    person: Any,
    actor: Any = None,
    target: Any = None,
    details: dict | None = None,
) -> DomainError:
    """audit.refused for a refusal about `person`, in each of their organisations' logs."""
    return audit.refused(
        action,
        error,
        organisations=organisations_of(person),
        member=person,
        actor=actor,
        target=target,
        details=details,
    )
