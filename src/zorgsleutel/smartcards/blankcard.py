"""Blank smartcards for development, tests and the demo: a SoftHSM2 token as a card leaves the
factory, its transport code both SO PIN and user PIN, nothing on it.

`zorgsleutel card init` makes a Zorgsleutel smartcard of it (docs/card-protocol.md, "Making a
smartcard"); its serial is the one a blank-card order ships.
"""

from __future__ import annotations

from zorgsleutel import cardprotocol
from zorgsleutel.uzi.testcard import SoftHsm, TokenError


def make_blank_card(softhsm: SoftHsm, *, label: str, transport_pin: str) -> str:
    """A new blank card on its own token; returns its serial (as the card client reads it)."""
    if softhsm.token(label) is not None:
        raise TokenError(f"token {label!r} exists: choose another --label")
    token = softhsm.init_token(label, pin=transport_pin, so_pin=transport_pin)
    return cardprotocol.token_serial(token.serial)
