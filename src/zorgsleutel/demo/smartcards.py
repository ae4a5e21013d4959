"""The demo's smartcards (README, "Smartcards"): the smartcard CA on a SoftHSM2 token, a blank
card shipped to Demozorg, and the identity of medewerker1@demozorg.nl checked in person by
Demozorg's administrator, so a newcomer can make a smartcard and log in with it at once."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from zorgsleutel import cardprotocol
from zorgsleutel.accounts.models import User
from zorgsleutel.core import audit, clock
from zorgsleutel.organisations.models import Organisation
from zorgsleutel.smartcards import blankcard, creation
from zorgsleutel.smartcards import ca as smartcard_ca
from zorgsleutel.smartcards.models import BlankCard, CardOrder, IdentityCheck, Smartcard
from zorgsleutel.uzi.testcard import SoftHsm, TokenError

CARD_LABEL = "Demo smartcard"
TRANSPORT_CODE = "12345678"
HOLDER = "medewerker1@demozorg.nl"
CHECKED_BY = "admin@demozorg.nl"
ORGANISATION_URA = "90000001"


def prepare() -> str:
    """Make what is missing (idempotent); what it did, in one line."""
    softhsm = SoftHsm(settings.VAR_DIR / "softhsm")
    if not softhsm.installed:
        return "No demo smartcards: install SoftHSM2 (apt-get install softhsm2) and run again."
    try:
        _ca(softhsm)
        token = softhsm.token(CARD_LABEL)
        if token is None:
            serial = blankcard.make_blank_card(
                softhsm, label=CARD_LABEL, transport_pin=TRANSPORT_CODE
            )
        else:
            serial = cardprotocol.token_serial(token.serial)
    except (TokenError, smartcard_ca.CaError) as error:
        return f"No demo smartcards: {error}"
    _ship_and_check(serial.upper())
    return (
        f"Demo smartcards: blank card {CARD_LABEL!r} (serial {serial.upper()}, transport code "
        f"{TRANSPORT_CODE}) shipped to Demozorg; {HOLDER}'s identity is checked."
    )


def _ca(softhsm: SoftHsm) -> None:
    if softhsm.token(settings.SMARTCARD_CA_TOKEN) is not None:
        return
    pin = settings.SMARTCARD_CA_PIN
    token = softhsm.init_token(settings.SMARTCARD_CA_TOKEN, pin=pin, so_pin=pin + "0")
    opened = smartcard_ca.init_development(
        token, pin=pin, directory=settings.SMARTCARD_CA_DIR, base_url=settings.SMARTCARD_STATUS_URL
    )
    opened.close()


def _ship_and_check(serial: str) -> None:
    organisation = Organisation.objects.filter(ura=ORGANISATION_URA).first()
    holder = User.objects.filter(email=HOLDER).first()
    checker = User.objects.filter(email=CHECKED_BY).first()
    if organisation is None or holder is None or checker is None:
        return
    now = clock.now()
    with transaction.atomic():
        if not BlankCard.objects.filter(serial=serial).exists():
            order = CardOrder.objects.create(
                public_id=f"demo-{serial.lower()}",
                organisation=organisation,
                quantity=1,
                delivery_address="Demozorg, Demostraat 1, 3511 AA Utrecht",
                ordered_by=checker,
                ordered_at=now,
                state=CardOrder.SHIPPED,
                state_changed_at=now,
            )
            BlankCard.objects.create(serial=serial, order=order, organisation=organisation)
            audit.record(
                "card_order.shipped",
                actor="demo",
                organisation=organisation,
                target=order,
                details={"quantity": 1, "serials": [serial]},
            )
        has_card = Smartcard.objects.filter(user=holder).exclude(state=Smartcard.REVOKED)
        if has_card.exists() or creation.proof_for(holder, organisation) is not None:
            return
        IdentityCheck.objects.create(
            user=holder,
            organisation=organisation,
            method=IdentityCheck.IN_PERSON,
            confirmed_by=checker,
            confirmed_by_name=checker.name,
            confirmed_at=now,
        )
        audit.record(
            "smartcard.identity_confirmed",
            actor=checker,
            organisation=organisation,
            target=holder,
            details={"method": IdentityCheck.IN_PERSON},
        )
