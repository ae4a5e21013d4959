"""What an order of blank cards and its shipment may say: the quantity, the delivery address and
the cards' serial numbers (smartcards/orders.py; the pages and any API call the flows, which ask
these). Each refusal names its field and, for a serial, the serial."""

from __future__ import annotations

import re

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zorgsleutel import policies
from zorgsleutel.core.errors import Conflict, DomainError

# A card's own serial (its PKCS#11 token serial), compared in upper case.
SERIAL = re.compile(r"^[A-Za-z0-9-]{1,32}$")
# A delivery address as a label holds it: a few lines, none of them a novel.
ADDRESS_MAX_LENGTH = 400
ADDRESS_MAX_LINES = 8
SERIALS_NAMED = 10  # at most this many in one message


def quantity(value: int | str) -> int:
    """The number of cards ordered: 1 to policies.SMARTCARD_ORDER_MAX."""
    text = str(value).strip()
    if not text:
        raise DomainError("quantity_required", _("Fill in the number of cards."), field="quantity")
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= policies.SMARTCARD_ORDER_MAX):
        raise DomainError(
            "invalid_quantity",
            _("Order between 1 and %(max)s cards.") % {"max": policies.SMARTCARD_ORDER_MAX},
            field="quantity",
        )
    return int(text)


def delivery_address(text: str) -> str:
    """The address tidied: spaces collapsed, empty lines out; required, at most 8 lines and 400
    characters, all printable."""
    lines = [" ".join(line.split()) for line in (text or "").splitlines()]
    lines = [line for line in lines if line]
    address = "\n".join(lines)
    if not address:
        raise DomainError(
            "address_required",
            _("Fill in the address the cards are delivered to."),
            field="delivery_address",
        )
    if len(address) > ADDRESS_MAX_LENGTH or len(lines) > ADDRESS_MAX_LINES:
        raise DomainError(
            "address_too_long",
            _("A delivery address has at most 8 lines and 400 characters."),
            field="delivery_address",
        )
    if not all(character.isprintable() for character in address.replace("\n", "")):
        raise DomainError(
            "invalid_address",
            _("The delivery address contains characters that cannot be printed."),
            field="delivery_address",
        )
    return address


def order_errors(*, quantity_given: int | str, address_given: str) -> list[DomainError]:
    """Everything wrong with an order at once (the form shows each): its quantity's error and
    its delivery address's."""
    errors = []
    for check, given in ((quantity, quantity_given), (delivery_address, address_given)):
        try:
            check(given)
        except DomainError as error:
            errors.append(error)
    return errors


def parse_serials(text: str) -> list[str]:
    """Serial numbers as an operator pastes them: one per line or separated by commas."""
    return [part.strip() for part in re.split(r"[,\n\r]", text or "") if part.strip()]


def serials(given: str | list[str], *, count: int) -> list[str]:
    """The serials in upper case: each valid, none twice, exactly `count` of them."""
    parts = parse_serials(given) if isinstance(given, str) else [str(s).strip() for s in given]
    if not parts:
        raise DomainError(
            "serials_required", _("Fill in the serial numbers of the cards."), field="serials"
        )
    for part in parts:
        if not SERIAL.match(part):
            shown = part if len(part) <= 40 else part[:40] + "…"
            raise DomainError(
                "invalid_serial",
                _('"%(serial)s" is not a serial number: use 1 to 32 letters, digits or hyphens.')
                % {"serial": shown},
                field="serials",
            )
    wanted = [part.upper() for part in parts]
    seen: set[str] = set()
    for serial in wanted:
        if serial in seen:
            raise DomainError(
                "duplicate_serial",
                _("Serial number %(serial)s is listed twice.") % {"serial": serial},
                field="serials",
            )
        seen.add(serial)
    if len(wanted) != count:
        raise DomainError(
            "serial_count",
            ngettext(
                "This order is for %(quantity)s card, and you entered %(count)s serial numbers.",
                "This order is for %(quantity)s cards, and you entered %(count)s serial numbers.",
                count,
            )
            % {"quantity": count, "count": len(wanted)},
            field="serials",
        )
    return wanted


def serials_taken(taken: list[str]) -> Conflict:
    """The refusal of serials shipped before (named; none: another shipment just took one)."""
    if not taken:
        return Conflict(
            "serial_taken",
            _("One of these serial numbers was just shipped with another order. Check them."),
            field="serials",
        )
    named = ", ".join(taken[:SERIALS_NAMED]) + (" …" if len(taken) > SERIALS_NAMED else "")
    return Conflict(
        "serial_taken",
        ngettext(
            "Serial number %(serials)s was shipped before: each card has its own.",
            "Serial numbers %(serials)s were shipped before: each card has its own.",
            len(taken),
        )
        % {"serials": named},
        field="serials",
    )
