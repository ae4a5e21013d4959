"""Blank smartcards ordered (seed 003's webshop step: "Lege ZORG-ID Smartcards zijn aan te vragen
via deze webshop"; docs/smartcards.md, "Blank cards").

An administrator of a validated care provider orders N blank cards for a delivery address
(`place_card_order`); the operators get a mail and see the queue in the Operatorconsole. An
operator ships the order with the cards' serial numbers (`ship_card_order`): each serial becomes
a BlankCard of that organisation, all or none. Until then the organisation or an operator may
cancel it. Either way the organisation's administrators get a mail. Each step writes its audit
event and queues its mails in the transaction that makes it.

A shipped card becomes a smartcard for its organisation only: the issuance asks
`blank_card_for(serial, organisation)` before it makes one. A serial is the card's own (the
PKCS#11 token serial its reader reports): 1 to 32 letters, digits or hyphens, compared without
regard to case and stored in upper case, so the card that reports "0a1b" is the one an operator
typed as "0A1B".
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import Conflict, DomainError, NotFound, PermissionDenied
from zorgsleutel.messaging import outbox
from zorgsleutel.people import permissions
from zorgsleutel.people.models import Membership, Organisation, User
from zorgsleutel.smartcards import orderinput
from zorgsleutel.smartcards.models import BlankCard, CardOrder

REASON_MIN_LENGTH, REASON_MAX_LENGTH = 5, 500

# Why an organisation may not order (policies.card_order_refusal), in the words it reads.
REFUSALS = {
    "smartcard_not_care_provider": _(
        "Smartcards are for care providers that validated with a UZI card; a business customer "
        "cannot order them."
    ),
    "organisation_not_validated": _(
        "Your organisation can order smartcards once it has been validated with a UZI card."
    ),
}
# What the issuance reads when a card may not become a smartcard here (blank_card_for).
CARD_REFUSALS = {
    "card_not_shipped": _(
        "Zorgsleutel did not supply this card. Use a blank card your organisation ordered "
        "(Management → Order smartcards)."
    ),
    # Never which organisation: a serial number must not tell who ordered it.
    "card_other_organisation": _(
        "This card was supplied to another organisation and can become a smartcard only there. "
        "Use a blank card your organisation ordered."
    ),
    "card_used": _("This card has already been made into a smartcard. Use another blank card."),
}


def order_refusal(organisation: Organisation) -> DomainError | None:
    """Why this organisation may not order blank cards now (the page says it), or None."""
    code = policies.card_order_refusal(organisation)
    return PermissionDenied(code, REFUSALS[code]) if code else None


def place_card_order(
    *, actor: User, organisation: Organisation, quantity: int | str, delivery_address: str
) -> CardOrder:
    """An administrator orders `quantity` blank cards for `delivery_address`; the operators
    are mailed."""
    permissions.require(actor, "smartcards.order", organisation)
    refusal = order_refusal(organisation)
    if refusal is not None:
        raise audit.refused(
            "permission.denied",
            refusal,
            actor=actor,
            organisation=organisation,
            details={"action": "smartcards.order"},
        )
    count = orderinput.quantity(quantity)
    address = orderinput.delivery_address(delivery_address)
    now = clock.now()
    with transaction.atomic():
        order = CardOrder.objects.create(
            public_id=_new_reference(),
            organisation=organisation,
            quantity=count,
            delivery_address=address,
            ordered_by=actor,
            ordered_at=now,
            state=CardOrder.ORDERED,
            state_changed_at=now,
        )
        audit.record(
            "card_order.placed",
            actor=actor,
            organisation=organisation,
            target=order,
            details={"quantity": count},
        )
        context = {
            "reference": order.public_id,
            "organisation": organisation.name,
            "ura": organisation.ura,
            "quantity": count,
            "address": address,
            "ordered_by": actor.name,
            "ordered_by_email": actor.email,
            "url": settings.SITE_URL + reverse("card_order_console:order", args=[order.public_id]),
        }
        for email, locale in _operators():
            outbox.enqueue_mail(
                template="card_order_placed", to=email, locale=locale, context=context
            )
    return order


def cancel_card_order(*, actor: User, organisation: Organisation, order_id: str) -> CardOrder:
    """The organisation's administrator cancels its order before it ships."""
    permissions.require(actor, "smartcards.order", organisation)
    with transaction.atomic():
        order = _locked(order_id, organisation=organisation)
        return _cancel(order, actor=actor, by="organisation", reason="")


def cancel_reason(reason: str) -> str:
    """The operator's reason for a cancellation, tidied, if it may be sent (the console's
    confirmation page asks this before it asks the operator)."""
    reason = " ".join((reason or "").split())
    if not reason:
        raise DomainError("reason_required", _("Fill in the reason."), field="reason")
    if not REASON_MIN_LENGTH <= len(reason) <= REASON_MAX_LENGTH:
        raise DomainError(
            "reason_required",
            _("Give the organisation a reason (5 to 500 characters)."),
            field="reason",
        )
    return reason


def cancel_card_order_as_operator(*, actor: User | str, order_id: str, reason: str) -> CardOrder:
    """An operator cancels an order before it ships (an address that does not exist, a double
    order), with the reason the administrators read."""
    permissions.require_operator(actor, "card_orders.handle")
    reason = cancel_reason(reason)
    with transaction.atomic():
        return _cancel(_locked(order_id), actor=actor, by="operator", reason=reason)


def ship_card_order(*, actor: User | str, order_id: str, serials: str | list[str]) -> CardOrder:
    """An operator ships an order: one serial number per card, as many as were ordered, none
    shipped before. All become the organisation's blank cards, or none does."""
    permissions.require_operator(actor, "card_orders.handle")
    with transaction.atomic():
        order = _locked(order_id)
        _still_ordered(order)
        wanted = orderinput.serials(serials, count=order.quantity)
        taken = sorted(BlankCard.objects.filter(serial__in=wanted).values_list("serial", flat=True))
        if taken:
            raise orderinput.serials_taken(taken)
        try:
            with transaction.atomic():  # a savepoint: another ship of the same serial won
                BlankCard.objects.bulk_create(
                    BlankCard(serial=serial, order=order, organisation=order.organisation)
                    for serial in wanted
                )
        except IntegrityError:
            raise orderinput.serials_taken([]) from None
        order.state, order.state_changed_at = CardOrder.SHIPPED, clock.now()
        order.save(update_fields=["state", "state_changed_at"])
        audit.record(
            "card_order.shipped",
            actor=actor,
            organisation=order.organisation,
            target=order,
            details={"quantity": order.quantity, "serials": wanted},
        )
        _mail_administrators(order, "card_order_shipped", {"serials": wanted})
    return order


def blank_card_for(serial: str, organisation: Organisation, *, lock: bool = False) -> BlankCard:
    """The blank card with this serial that was shipped to `organisation` and is not yet a
    smartcard (what the issuance asks before it makes one; `lock`: held until the transaction
    ends); else DomainError card_not_shipped, card_other_organisation or card_used."""
    serial = (serial or "").strip()
    rows = BlankCard.objects.filter(serial=serial.upper())
    valid = orderinput.SERIAL.match(serial)
    card = (rows.select_for_update() if lock else rows).first() if valid else None
    if card is None:
        code = "card_not_shipped"
    elif card.organisation_id != organisation.pk:
        code = "card_other_organisation"
    elif card.smartcard_id is not None:
        code = "card_used"
    else:
        return card
    raise DomainError(code, CARD_REFUSALS[code])


# --- Helpers -------------------------------------------------------------------------------------


def _locked(order_id: str, *, organisation: Organisation | None = None) -> CardOrder:
    rows = CardOrder.objects.select_for_update().filter(public_id=str(order_id))
    if organisation is not None:  # an organisation reaches its own orders only
        rows = rows.filter(organisation=organisation)
    order = rows.select_related("organisation").first()
    if order is None:
        raise NotFound("order_not_found", _("This order does not exist (or not here)."))
    return order


def _still_ordered(order: CardOrder) -> None:
    if order.state == CardOrder.SHIPPED:
        raise Conflict("order_shipped", _("This order has been shipped already."))
    if order.state == CardOrder.CANCELLED:
        raise Conflict("order_cancelled", _("This order has been cancelled."))


def _cancel(order: CardOrder, *, actor, by: str, reason: str) -> CardOrder:
    if order.state == CardOrder.SHIPPED:
        raise Conflict(
            "order_shipped", _("This order has been shipped already and cannot be cancelled.")
        )
    _still_ordered(order)
    order.state, order.state_changed_at = CardOrder.CANCELLED, clock.now()
    order.save(update_fields=["state", "state_changed_at"])
    audit.record(
        "card_order.cancelled",
        actor=actor,
        organisation=order.organisation,
        target=order,
        details={"by": by, "reason": reason} if reason else {"by": by},
    )
    # An operator's name stays with Zorgsleutel: the mail says Zorgsleutel cancelled it.
    cancelled_by = actor.name if by == "organisation" else ""
    _mail_administrators(
        order, "card_order_cancelled", {"cancelled_by": cancelled_by, "reason": reason}
    )
    return order


def _mail_administrators(order: CardOrder, template: str, extra: dict) -> None:
    administrators = User.objects.filter(
        state=User.ACTIVE,
        memberships__organisation=order.organisation,
        memberships__role=Membership.ADMINISTRATOR,
        memberships__state=Membership.ACTIVE,
    ).order_by("email")
    for administrator in administrators:
        outbox.enqueue_mail(
            template=template,
            to=administrator.email,
            locale=administrator.language,
            context={
                "name": administrator.name,
                "reference": order.public_id,
                "organisation": order.organisation.name,
                "quantity": order.quantity,
                "ordered_at": order.ordered_at,
                "address": order.delivery_address,
                **extra,
            },
        )


def _operators() -> list[tuple[str, str]]:
    """Where mail for the operators goes: settings.OPERATOR_EMAIL, else every active operator."""
    if settings.OPERATOR_EMAIL:
        return [(settings.OPERATOR_EMAIL, "nl")]
    operators = User.objects.filter(is_operator=True, state=User.ACTIVE).order_by("email")
    return [(operator.email, operator.language) for operator in operators]


# Unambiguous when read aloud or typed from a packing slip: no 0/O, 1/I/L.
_REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def _new_reference() -> str:
    """An order's public reference, e.g. "K7QF-2M9X" (31^8: about 40 bits, unique by the
    table's constraint)."""
    letters = "".join(secrets.choice(_REFERENCE_ALPHABET) for _position in range(8))
    return f"{letters[:4]}-{letters[4:]}"
