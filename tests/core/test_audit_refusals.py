"""A refusal keeps its audit event, also when it is decided inside a transaction: audit.refused
records it (its code as `reason`), audit.atomic undoes what the block wrote, commits the event
and then raises. Any other error still rolls everything back."""

from __future__ import annotations

import pytest
from django.db import transaction

from zorgsleutel.core import audit
from zorgsleutel.core.errors import Conflict, DomainError
from zorgsleutel.core.models import AuditEvent

pytestmark = pytest.mark.django_db


def _events() -> list[tuple[str, str, dict]]:
    return [(e.action, e.outcome, e.details) for e in AuditEvent.objects.order_by("seq")]


def test_a_refusal_outside_a_transaction_is_recorded_at_once():
    error = audit.refused(
        "permission.denied",
        Conflict("already_suspended", "x"),
        actor="cli",
        details={"action": "a"},
    )
    assert error.code == "already_suspended"
    assert _events() == [
        ("permission.denied", "denied", {"action": "a", "reason": "already_suspended"})
    ]


def test_inside_atomic_the_block_is_undone_and_only_the_refusal_stays():
    with pytest.raises(Conflict) as refused, audit.atomic():
        audit.record("operator.created", actor="cli")  # what the block wrote
        raise audit.refused(
            "permission.denied",
            Conflict("not_blocked", "x"),
            actor="cli",
            details={"action": "members.unblock"},
        )
    assert refused.value.code == "not_blocked"
    assert _events() == [
        ("permission.denied", "denied", {"action": "members.unblock", "reason": "not_blocked"})
    ]
    assert audit.verify_chain().ok


def test_a_plain_transaction_would_have_lost_it():
    """Why audit.atomic exists: the review's finding, reproduced."""
    with pytest.raises(Conflict), transaction.atomic():
        raise audit.refused("permission.denied", Conflict("not_blocked", "x"), actor="cli")
    assert _events() == []


def test_nested_blocks_keep_the_refusal_once():
    with pytest.raises(Conflict), audit.atomic():
        audit.record("operator.created", actor="cli")
        with audit.atomic():
            audit.record("mail.test_queued", actor="cli")
            raise audit.refused("permission.denied", Conflict("not_invited", "x"), actor="cli")
    assert _events() == [("permission.denied", "denied", {"reason": "not_invited"})]


def test_any_other_error_rolls_everything_back():
    with pytest.raises(DomainError), audit.atomic():
        audit.record("operator.created", actor="cli")
        raise DomainError("name_required", "x")  # bad input, not an audited refusal
    with pytest.raises(ZeroDivisionError), audit.atomic():
        audit.record("operator.created", actor="cli")
        1 / 0  # noqa: B018
    assert _events() == []


def test_a_block_that_refuses_nothing_commits_its_work():
    with audit.atomic():
        audit.record("operator.created", actor="cli")
    assert _events() == [("operator.created", "success", {})]


def test_a_more_precise_reason_may_be_given():
    audit.refused(
        "app.enrolment_refused",
        DomainError("enrolment_invalid", "x"),
        actor="cli",
        details={"reason": "account_blocked"},
    )
    assert _events() == [("app.enrolment_refused", "denied", {"reason": "account_blocked"})]
