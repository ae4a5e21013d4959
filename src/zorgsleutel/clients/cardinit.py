"""`zorgsleutel card init` and `card unblock-pin`: make a Zorgsleutel smartcard of a blank card,
and give it a new PIN with its PUK (docs/card-protocol.md, "Making a smartcard").

`init` reads a card challenge of purpose smartcard_create and shows who asks; on a blank card it
asks the transport code and the new PIN (twice), sets them with a random PUK, which it prints
once, at once; the card makes its key and signs a CSR carrying the challenge (clients/cardsetup.py);
the portal answers with the card's certificate and chain, which go onto the card. A card the portal
refused keeps its PINs and its key without a certificate: `card init --pin <its PIN>` with a new
code replaces that key. `unblock-pin` opens the card with the PUK and sets a new PIN.

Exit codes (as `card present`): 0 done, 1 refused by the portal, 2 usage, a wrong code or PIN, a
card or network problem; nothing on the card changes on a wrong code or a PIN not allowed.
"""

from __future__ import annotations

import getpass
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from zorgsleutel import cardprotocol as proto
from zorgsleutel.clients import card, common
from zorgsleutel.clients.card import ClientError, Refused
from zorgsleutel.clients.cardsetup import (
    check_blank,
    check_pin,
    find_token,
    library,
    logged_in,
    make_request,
    new_pin,
    set_pins,
    state,
    store_certificates,
)
from zorgsleutel.clients.i18n import gettext as _

COMMANDS = ("init", "unblock-pin")
TRANSPORT_ENV = "ZS_CARD_TRANSPORT_PIN"


# --- Commands -------------------------------------------------------------------------------------


def answer_certificates(answer: dict) -> list[x509.Certificate]:
    """The certificates of the portal's accepted answer, the card's first."""
    try:
        found = [x509.load_pem_x509_certificate(pem.encode()) for pem in answer["certificates"]]
    except (KeyError, TypeError, ValueError, AttributeError):
        found = []
    if not found:
        raise ClientError(_("the portal's answer holds no certificates; nothing written"))
    return found


def init(
    target: str | None,
    *,
    code: str | None = None,
    server: str = card.DEFAULT_SERVER,
    module: str = card.DEFAULT_MODULE,
    token: str | None = None,
    transport_pin: str | None = None,
    pin: str | None = None,
    out=None,
    ask=getpass.getpass,
) -> dict:
    """Make a smartcard of a blank card for one challenge; returns the portal's answer."""
    out = out or sys.stdout
    server, code = card.challenge_address(target, code=code, server=server)
    info = card.read_challenge(server, code)
    what = info.get("description") or info.get("purpose", "")
    if info.get("purpose") != proto.SMARTCARD_CREATE:
        raise ClientError(
            _(
                "code %(code)s is not for making a smartcard but for: %(what)s (answer it with "
                "`zorgsleutel card present`)"
            )
            % {"code": proto.format_code(code), "what": what}
        )
    found = find_token(library(module), token, blank=True)
    serial = proto.token_serial(found.serial)
    current = state(found)
    if current == "smartcard":
        raise ClientError(_("this card is already a smartcard"))
    print(
        _("%(host)s asks to make a smartcard: %(what)s") % {"host": info["host"], "what": what},
        file=out,
    )
    print(
        "  " + _("card %(label)r, serial %(serial)s") % {"label": found.label, "serial": serial},
        file=out,
    )
    if current == "blank":
        if transport_pin is None:
            transport_pin = os.environ.get(TRANSPORT_ENV) or ask(_("Transport code of the card: "))
        check_blank(found, transport_pin=transport_pin)
        pin = new_pin(pin, ask)
        puk = set_pins(found, transport_pin=transport_pin, pin=pin)
        print(_("Your PUK: %(puk)s") % {"puk": puk}, file=out)
        print(
            _(
                "Keep this PUK safe, apart from the card: it sets a new PIN when you forget "
                "yours (zorgsleutel card unblock-pin). It is shown only this once."
            ),
            file=out,
        )
    else:
        print(
            _("This card has a key but no certificate (an earlier attempt): a new key."),
            file=out,
        )
        if pin is None:
            pin = os.environ.get("ZS_CARD_PIN") or ask(
                _("PIN of card %(label)r: ") % {"label": found.label}
            )
    request = make_request(found, pin=pin, challenge=info["challenge"])
    status, answer = common.http_json(
        "POST",
        server.rstrip("/") + proto.API_PREFIX + proto.csr_path(info["id"]),
        {
            "csr": request.csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            "card_serial": request.serial,
        },
    )
    if status != 200 or answer.get("status") != "accepted":
        print(
            _(
                "The card keeps its PIN. With a new code from the portal, run `zorgsleutel "
                "card init` again: it asks the card's PIN instead of the transport code."
            ),
            file=out,
        )
        raise Refused(answer.get("error", f"http_{status}"), answer.get("message", ""))
    store_certificates(
        found, pin=pin, key_id=request.key_id, certificates=answer_certificates(answer)
    )
    print(answer.get("message") or _("Your smartcard is ready."), file=out)
    return answer


def unblock(
    *,
    module: str = card.DEFAULT_MODULE,
    token: str | None = None,
    puk: str | None = None,
    pin: str | None = None,
    out=None,
    ask=getpass.getpass,
) -> None:
    """A new PIN for the card, set with its PUK."""
    out = out or sys.stdout
    if pin is not None:
        check_pin(pin)
    found = find_token(library(module), token)
    if puk is None:
        puk = ask(_("PUK of card %(label)r: ") % {"label": found.label})
    with logged_in(found, so_pin=puk, wrong=_("Wrong PUK; nothing was changed")) as session:
        session.init_pin(new_pin(pin, ask))  # C_InitPIN: the SO sets the user PIN
    print(_("Card %(label)r has its new PIN.") % {"label": found.label}, file=out)


def add_parsers(sub, *, server: str, module: str, token: str | None) -> None:
    """`init` and `unblock-pin` on `zorgsleutel card`'s subcommands."""
    init_parser = sub.add_parser("init", help="make a Zorgsleutel smartcard of a blank card")
    init_parser.add_argument("target", nargs="?", help="the QR code's URL, or an image of it")
    init_parser.add_argument("--code", help="the code shown on the page, e.g. K7QM-2XDA")
    init_parser.add_argument("--server", default=server, help="with --code")
    init_parser.add_argument(
        "--transport-pin", help=f"the blank card's transport code (or env {TRANSPORT_ENV})"
    )
    init_parser.add_argument(
        "--pin", help="the new PIN (asked twice otherwise); a card refused before: its PIN"
    )
    unblock_parser = sub.add_parser("unblock-pin", help="set a new card PIN with the PUK")
    unblock_parser.add_argument("--puk", help="the PUK printed when the card was made")
    unblock_parser.add_argument("--pin", help="the new PIN (asked twice otherwise)")
    for parser in (init_parser, unblock_parser):
        parser.add_argument("--module", default=module, help="PKCS#11 module (ZS_PKCS11_MODULE)")
        parser.add_argument("--token", default=token, help="card label")


def run(options) -> None:
    if options.command == "init":
        init(
            options.target,
            code=options.code,
            server=options.server,
            module=options.module,
            token=options.token,
            transport_pin=options.transport_pin,
            pin=options.pin,
        )
    else:
        unblock(module=options.module, token=options.token, puk=options.puk, pin=options.pin)
