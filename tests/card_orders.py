"""The world of blank-card orders in one call: two validated care providers, a business customer,
their people and an operator (tests/smartcards/test_orders*.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from people import someone

ADDRESS = "Zorggroep Oost\nt.a.v. ICT-beheer\nDorpsstraat 1\n1234 AB Oostdorp"


@dataclass
class Shop:
    own: Any  # Zorggroep Oost: validated care provider
    other: Any  # Zorggroep West: another validated care provider
    business: Any  # Bedrijf BV: a business customer
    administrator: Any
    second_administrator: Any
    manager: Any
    member: Any
    other_administrator: Any
    business_administrator: Any
    operator: Any


@pytest.fixture
def shop(db, settings):
    from zorgsleutel.accounts.models import User
    from zorgsleutel.organisations.models import Organisation

    settings.OPERATOR_EMAIL = "operators@zorgsleutel.test"

    def care_provider(name: str, ura: str):
        return Organisation.objects.create(
            name=name, kind=Organisation.CARE_PROVIDER, state="validated", ura=ura
        )

    own = care_provider("Zorggroep Oost", "90000301")
    other = care_provider("Zorggroep West", "90000302")
    business = Organisation.objects.create(
        name="Bedrijf BV", kind=Organisation.BUSINESS, kvk_number="12340301"
    )
    return Shop(
        own=own,
        other=other,
        business=business,
        administrator=someone(own, "administrator", email="admin@oost.nl", name="Anna Admin"),
        second_administrator=someone(own, "administrator", email="admin2@oost.nl", name="Bart"),
        manager=someone(own, "manager", email="beheer@oost.nl", name="Mira Manager"),
        member=someone(own, "member", email="zorg@oost.nl", name="Zeno Zorg"),
        other_administrator=someone(other, "administrator", email="admin@west.nl", name="Wim"),
        business_administrator=someone(
            business, "administrator", email="admin@bedrijf.nl", name="Bea"
        ),
        operator=User.objects.create(
            email="operator@zorgsleutel.test", name="Olga", state=User.ACTIVE, is_operator=True
        ),
    )
