"""`zorgsleutel smartcard-ca init|show|blank-card`: the smartcard CA's token (docs/smartcards.md).

init (development, tests, the demo): a SoftHSM2 token of our own under --softhsm-dir with the
two CA keys made on it, and the certificates as PEM in --dir. show: opens the token with its PIN
and prints the chain, as a check of a production set-up (an HSM's module with --module).
blank-card (development, the demo): a blank card on a SoftHSM2 token of its own, --label, its
transport code --transport-pin (random and printed when not given); prints its serial.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path

from cryptography.hazmat.primitives import hashes

from zorgsleutel.smartcards import ca as smartcard_ca
from zorgsleutel.smartcards.blankcard import make_blank_card
from zorgsleutel.uzi.testcard import SoftHsm, TokenError

CA_LABEL = "Zorgsleutel smartcard CA"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zorgsleutel smartcard-ca")
    parser.add_argument("action", choices=["init", "show", "blank-card"])
    parser.add_argument("--dir", type=Path, default=Path("var/smartcard-ca"), help="PEM files")
    parser.add_argument("--softhsm-dir", type=Path, default=Path("var/softhsm"))
    parser.add_argument("--module", help="PKCS#11 module (default: SoftHSM2's)")
    parser.add_argument("--token", default=CA_LABEL, help=f"token label [{CA_LABEL}]")
    parser.add_argument("--pin", help="token PIN (default: $SMARTCARD_CA_PIN)")
    parser.add_argument("--url", default="http://127.0.0.1:8000", help="the portal's address")
    parser.add_argument("--label", help="blank-card: the card's token label")
    parser.add_argument("--transport-pin", help="blank-card: its transport code [random]")
    return parser


def blank_card(options, out) -> int:
    if not options.label:
        print("error: give the blank card's label with --label", file=sys.stderr)
        return 2
    transport_pin = options.transport_pin or f"{secrets.randbelow(10**8):08d}"
    softhsm = SoftHsm(options.softhsm_dir, **({"module": options.module} if options.module else {}))
    try:
        serial = make_blank_card(softhsm, label=options.label, transport_pin=transport_pin)
    except TokenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(serial, file=out)
    if not options.transport_pin:
        print(f"transport code {transport_pin}", file=out)
    return 0


def main(argv: list[str], out=None) -> int:
    out = out or sys.stdout
    options = _parser().parse_args(argv)
    if options.action == "blank-card":
        return blank_card(options, out)
    pin = options.pin or os.environ.get("SMARTCARD_CA_PIN")
    if not pin:
        print("error: give the token PIN with --pin or SMARTCARD_CA_PIN", file=sys.stderr)
        return 2
    softhsm = SoftHsm(options.softhsm_dir, **({"module": options.module} if options.module else {}))
    try:
        token = softhsm.token(options.token)
        if options.action == "init":
            if token is not None:
                raise smartcard_ca.CaError(f"token {options.token!r} exists: a CA is made once")
            token = softhsm.init_token(options.token, pin=pin, so_pin=pin + "-so")
            opened = smartcard_ca.init_development(
                token, pin=pin, directory=options.dir, base_url=options.url
            )
        else:
            if token is None:
                raise smartcard_ca.CaError(f"no token {options.token!r}")
            opened = smartcard_ca.open_ca(
                token, pin=pin, directory=options.dir, base_url=options.url
            )
    except (smartcard_ca.CaError, TokenError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    try:
        for name in smartcard_ca.CHAIN:
            certificate = opened.certificates[name]
            fingerprint = certificate.fingerprint(hashes.SHA256()).hex(":").upper()
            print(f"{name:8} {certificate.subject.rfc4514_string()}", file=out)
            print(f"         SHA-256 {fingerprint}", file=out)
    finally:
        opened.close()
    return 0
