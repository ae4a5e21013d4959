"""Aan de slag: what an organisation's administrator does after the validation (seed 003, the
text of step 6: "U kunt nu bijvoorbeeld beheerders registreren", the care workers make their own
smartcard, blank smartcards come from the webshop), each item ticked once it is done. Here, in
the layer that assembles the product, because it reads three capabilities: the memberships
(accounts), the blank-card orders (smartcards) and what may be ordered (policies)."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.people.models import Membership
from zorgsleutel.smartcards.models import CardOrder


@dataclass(frozen=True)
class NextStep:
    key: str
    title: str
    text: str
    url: str
    link: str
    done: bool


def next_steps(organisation) -> list[NextStep]:
    """The organisation's next steps, in the seed's order: appoint a manager (done once one is
    appointed, invited or active), let the care workers in (done once anyone has the role
    member), and, for a care provider that may order them, order blank smartcards (done once
    an order was placed and not cancelled)."""
    roles = set(
        Membership.objects.filter(organisation=organisation)
        .order_by()
        .values_list("role", flat=True)
        .distinct()
    )
    new_member = reverse("accounts:new_member", args=[organisation.public_id])
    steps = [
        NextStep(
            key="manager",
            title=_("Appoint a manager"),
            text=_(
                "A manager (beheerder) manages your care workers in the portal: invites, "
                "blocks, unblocks and deletes them. A manager logs in with the Zorgsleutel app."
            ),
            url=f"{new_member}?rol={policies.MANAGER}",
            link=_("Appoint a manager"),
            done=policies.MANAGER in roles,
        ),
        NextStep(
            key="members",
            title=_("Invite your care workers"),
            text=_(
                "Each care worker receives an e-mail with a link to start, and then makes their "
                "own smartcard or links the Zorgsleutel app."
            ),
            url=f"{new_member}?rol={policies.MEMBER}",
            link=_("Invite a care worker"),
            done=policies.MEMBER in roles,
        ),
    ]
    if policies.card_order_refusal(organisation) is None:
        ordered = (
            CardOrder.objects.filter(organisation=organisation)
            .exclude(state=CardOrder.CANCELLED)
            .exists()
        )
        steps.append(
            NextStep(
                key="smartcards",
                title=_("Order blank smartcards"),
                text=_("Your care workers make their own smartcard on a blank card you order."),
                url=reverse("card_orders:orders", args=[organisation.public_id]),
                link=_("Order blank smartcards"),
                done=ordered,
            )
        )
    return steps
