"""Business customers (seed 000): an operator creates them and invites their first manager."""

from __future__ import annotations

import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.accounts.flows import memberships
from zorgsleutel.core import audit
from zorgsleutel.core.errors import Conflict, DomainError
from zorgsleutel.organisations.flows.operators import require_operator
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.people.models import Membership, User

KVK = re.compile(r"^[0-9]{8}$")


def create_business_customer(
    *, actor: User | str, name: str, kvk_number: str, manager_name: str, manager_email: str
) -> Membership:
    """A business customer and an activation mail for its first manager."""
    require_operator(actor, "organisations.create_business")
    name = " ".join(name.split())
    kvk_number = kvk_number.strip()
    if not name:
        raise DomainError("name_required", _("Fill in a name."), field="name")
    if not KVK.match(kvk_number):
        raise DomainError("invalid_kvk", _("A KvK number has 8 digits."), field="kvk_number")
    email = manager_email.strip().lower()
    try:
        with transaction.atomic():
            organisation = Organisation.objects.create(
                name=name, kind=Organisation.BUSINESS, kvk_number=kvk_number
            )
            memberships.check_business_email(email, organisation)
            audit.record(
                "organisation.created",
                actor=actor,
                organisation=organisation,
                target=organisation,
                details={"kind": "business", "kvk": kvk_number},
            )
            membership = memberships.add_invited_membership(
                organisation=organisation,
                email=email,
                name=" ".join(manager_name.split()) or email,
                role=policies.MANAGER,
            )
            audit.record(
                "member.created",
                actor=actor,
                organisation=organisation,
                target=membership.user,
                details={"role": policies.MANAGER, "first_manager": True},
            )
    except IntegrityError:
        raise Conflict(
            "kvk_taken", _("A business customer with this KvK number exists."), field="kvk_number"
        ) from None
    return membership
