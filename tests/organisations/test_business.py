"""Business customers (seed 000): an operator creates them and invites the first manager."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from zorgsleutel.accounts.models import Membership, User
from zorgsleutel.core.errors import DomainError, PermissionDenied
from zorgsleutel.messaging.models import OutboxMail
from zorgsleutel.organisations.flows import create_business_customer
from zorgsleutel.organisations.models import Organisation

pytestmark = pytest.mark.django_db


def test_an_operator_creates_a_business_customer_and_invites_its_manager():
    operator = User.objects.create(
        email="ops@zorgsleutel.test", name="Ops", state=User.ACTIVE, is_operator=True
    )
    membership = create_business_customer(
        actor=operator,
        name="Zakelijk  BV",
        kvk_number="11223344",
        manager_name="Mia Manager",
        manager_email="Mia@Zakelijk.nl",
    )
    assert membership.organisation.kind == Organisation.BUSINESS
    assert (membership.role, membership.user.email) == ("manager", "mia@zakelijk.nl")
    assert OutboxMail.objects.get(to="mia@zakelijk.nl").template == "activation"
    with pytest.raises(DomainError) as taken:
        create_business_customer(
            actor=operator,
            name="Ander",
            kvk_number="11223344",
            manager_name="X",
            manager_email="x@ander.nl",
        )
    assert taken.value.code == "kvk_taken"


def test_non_operators_cannot(organisation):
    user = User.objects.create(email="m@zorggroep.nl", name="M", state=User.ACTIVE)
    Membership.objects.create(user=user, organisation=organisation, role="administrator")
    with pytest.raises(PermissionDenied) as refused:
        create_business_customer(
            actor=user, name="X", kvk_number="12121212", manager_name="X", manager_email="x@x.nl"
        )
    assert refused.value.code == "forbidden"
    assert not Organisation.objects.filter(kvk_number="12121212").exists()


@pytest.mark.parametrize(
    ("kvk", "email", "field"),
    [
        ("1234", "a@b.nl", "kvk"),
        ("12345678", "a@gmail.com", "email"),
        ("abcdefgh", "a@b.nl", "kvk"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_saved(kvk, email, field):
    with pytest.raises(CommandError, match=field):
        call_command("create_business", name="X BV", kvk=kvk, manager_email=email)
    assert not Organisation.objects.exists() and not User.objects.exists()
