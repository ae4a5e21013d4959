"""An operator's suspension or reinstatement that the organisation's state refuses (two
operators at once, a second click) is audited in the platform's log, with its code, and changes
nothing."""

from __future__ import annotations

import pytest

from zorgsleutel.accounts.models import User
from zorgsleutel.core.errors import Conflict
from zorgsleutel.core.models import AuditEvent
from zorgsleutel.organisations.flows import suspension
from zorgsleutel.organisations.models import Organisation

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(db):
    return User.objects.create(
        email="ops@zorgsleutel.test", name="Ops", state=User.ACTIVE, is_operator=True
    )


def _denied() -> list[tuple]:
    return [
        (e.action, e.organisation, e.target, e.details)
        for e in AuditEvent.objects.filter(outcome="denied").order_by("seq")
    ]


def test_suspending_twice(organisation, operator):
    suspension.suspend_organisation(
        actor=operator, public_id=organisation.public_id, reason="Fraude gemeld"
    )
    with pytest.raises(Conflict) as refused:
        suspension.suspend_organisation(
            actor=operator, public_id=organisation.public_id, reason="Nog een keer"
        )
    assert refused.value.code == "already_suspended"
    assert _denied() == [
        (
            "permission.denied",
            "",
            organisation.audit_ref,
            {"action": "organisations.suspend", "reason": "already_suspended"},
        )
    ]
    assert Organisation.objects.get(pk=organisation.pk).suspension_reason == "Fraude gemeld"


def test_reinstating_an_organisation_that_is_not_suspended(organisation, operator):
    with pytest.raises(Conflict) as refused:
        suspension.reinstate_organisation(actor=operator, public_id=organisation.public_id)
    assert refused.value.code == "not_suspended"
    assert _denied() == [
        (
            "permission.denied",
            "",
            organisation.audit_ref,
            {"action": "organisations.suspend", "reason": "not_suspended"},
        )
    ]
