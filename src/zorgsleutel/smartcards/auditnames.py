"""Smartcards and card orders in the audit logs (people/auditlog.py): a card by the number on
it (its own serial) with its holder, an order by what it holds. An organisation's log names its
own cards and orders only."""

from __future__ import annotations

from zorgsleutel.core import auditphrases
from zorgsleutel.people.auditlog import Named
from zorgsleutel.smartcards.models import CardOrder, Smartcard


def _ids(references: set[str]) -> list[str]:
    return [reference.partition(":")[2] for reference in references]


def smartcards(references: set[str], organisation) -> dict[str, Named]:
    found = Smartcard.objects.filter(public_id__in=_ids(references))
    if organisation is not None:
        found = found.filter(organisation=organisation)
    return {
        f"smartcard:{public_id}": Named(card_serial, owner=f"user:{holder}")
        for public_id, card_serial, holder in found.values_list(
            "public_id", "card_serial", "user__public_id"
        )
    }


def orders(references: set[str], organisation) -> dict[str, Named]:
    found = CardOrder.objects.filter(public_id__in=_ids(references))
    if organisation is not None:
        found = found.filter(organisation=organisation)
    quantity = auditphrases.FIELDS["quantity"]
    return {
        f"cardorder:{public_id}": Named(quantity(number))
        for public_id, number in found.values_list("public_id", "quantity")
    }
