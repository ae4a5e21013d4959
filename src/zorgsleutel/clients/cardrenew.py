"""`zorgsleutel card renew`: a new key and certificate on the same smartcard, in the last 60 days
of its certificate (docs/card-protocol.md, "Renewing a smartcard").

The holder logs in with the smartcard and opens *Smartcard vernieuwen*; its code (purpose
smartcard_renew) names the card being renewed. Opened with its PIN, the card makes a new P-256
key pair under a new CKA_ID beside the old one and signs a CSR carrying the challenge, sent to
the same endpoint as for `card init`. Accepted: the new certificate goes under the new key's id,
the CA certificates become the portal's, and only then are the old key and certificate deleted.
Refused, or the portal unreachable: the new key is deleted again; the old key and certificate
were never touched, and the card logs in as before.

Exit codes as `card present`: 0 renewed, 1 refused by the portal, 2 usage, a wrong PIN, a card or
network problem.
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
from zorgsleutel.clients.cardinit import answer_certificates
from zorgsleutel.clients.cardsetup import (
    KEY_LABEL,
    check_certificates,
    common_name,
    find_token,
    library,
    logged_in,
    new_key_request,
    state,
    write_certificate,
)
from zorgsleutel.clients.i18n import gettext as _

COMMANDS = ("renew",)


def _keeps_working() -> str:
    return _("The card keeps its current key and certificate: it works as before.")


def renew(
    target: str | None,
    *,
    code: str | None = None,
    server: str = card.DEFAULT_SERVER,
    module: str = card.DEFAULT_MODULE,
    token: str | None = None,
    pin: str | None = None,
    out=None,
    ask=getpass.getpass,
) -> dict:
    """Renew the smartcard in the reader for one challenge; returns the portal's answer."""
    out = out or sys.stdout
    server, code = card.challenge_address(target, code=code, server=server)
    info = card.read_challenge(server, code)
    what = info.get("description") or info.get("purpose", "")
    if info.get("purpose") != proto.SMARTCARD_RENEW:
        command = "init" if info.get("purpose") == proto.SMARTCARD_CREATE else "present"
        raise ClientError(
            _(
                "code %(code)s is not for renewing a smartcard but for: %(what)s (answer it "
                "with `zorgsleutel card %(command)s`)"
            )
            % {"code": proto.format_code(code), "what": what, "command": command}
        )
    found = find_token(library(module), token)
    if state(found) != "smartcard":
        raise ClientError(_("this card is not a smartcard (make one with `zorgsleutel card init`)"))
    serial = proto.token_serial(found.serial)
    print(
        _("%(host)s asks to renew your smartcard: %(what)s") % {"host": info["host"], "what": what},
        file=out,
    )
    print(
        "  " + _("card %(label)r, serial %(serial)s") % {"label": found.label, "serial": serial},
        file=out,
    )
    if pin is None:
        pin = os.environ.get("ZS_CARD_PIN") or ask(
            _("PIN of card %(label)r: ") % {"label": found.label}
        )
    wrong = _("Wrong card PIN; nothing was changed")
    with logged_in(found, user_pin=pin, wrong=wrong) as session:
        if not _has_authentication_key(session):
            raise ClientError(_("this card holds no authentication certificate with its key"))
        request = new_key_request(session, challenge=info["challenge"], serial=serial)
    try:
        status, answer = common.http_json(
            "POST",
            server.rstrip("/") + proto.API_PREFIX + proto.csr_path(info["id"]),
            {
                "csr": request.csr.public_bytes(serialization.Encoding.PEM).decode("ascii"),
                "card_serial": request.serial,
            },
        )
    except BaseException:  # unreachable, or interrupted: the new key goes, the old one stays
        _discard(found, pin=pin, key_id=request.key_id)
        print(_keeps_working(), file=out)
        raise
    if status != 200 or answer.get("status") != "accepted":
        _discard(found, pin=pin, key_id=request.key_id)
        print(_keeps_working(), file=out)
        raise Refused(answer.get("error", f"http_{status}"), answer.get("message", ""))
    try:
        certificates = answer_certificates(answer)
        with logged_in(found, user_pin=pin, wrong=_("Wrong card PIN")) as session:
            check_certificates(session, key_id=request.key_id, certificates=certificates)
            _replace(session, key_id=request.key_id, certificates=certificates)
    except ClientError as exc:  # the card is left as it is: the old certificate is superseded
        raise ClientError(
            _(
                "%(error)s. The portal renewed the card, so its old certificate no longer "
                "works: report the card lost under My Zorgsleutel, Your smartcards, and make "
                "a new one"
            )
            % {"error": exc}
        ) from None
    print(answer.get("message") or _("Your smartcard is renewed."), file=out)
    return answer


# --- The card -------------------------------------------------------------------------------------


def _has_authentication_key(session) -> bool:
    """Whether an authentication certificate on the card has its private key beside it."""
    from pkcs11 import Attribute, ObjectClass

    private = session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})
    keys = {key[Attribute.ID] for key in private}
    for item in session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
        try:
            certificate = x509.load_der_x509_certificate(item[Attribute.VALUE])
        except ValueError:
            continue  # not one we can read
        if item[Attribute.ID] in keys and card.purpose(certificate) == "authentication":
            return True
    return False


def _replace(session, *, key_id: bytes, certificates: list[x509.Certificate]) -> None:
    """The new certificate under `key_id`; every other key and certificate deleted; the portal's
    CA certificates written as `card init` writes them (`ca-1`, `ca-2`)."""
    from pkcs11 import Attribute, ObjectClass

    leaf, *cas = certificates
    write_certificate(session, leaf, label=KEY_LABEL, object_id=key_id)
    for kind in (ObjectClass.CERTIFICATE, ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
        for item in list(session.get_objects({Attribute.CLASS: kind})):
            if item[Attribute.ID] != key_id:
                item.destroy()  # the old key pair, its certificate, the CA certificates
    for n, ca in enumerate(cas, start=1):
        write_certificate(session, ca, label=common_name(ca), object_id=b"ca-%d" % n)


def _discard(token, *, pin: str, key_id: bytes) -> None:
    """Delete the new key pair (under `key_id`): the card is as it was."""
    from pkcs11 import Attribute

    with logged_in(token, user_pin=pin, wrong=_("Wrong card PIN")) as session:
        for item in list(session.get_objects({Attribute.ID: key_id})):
            item.destroy()


# --- The command line -----------------------------------------------------------------------------


def add_parser(sub, *, server: str, module: str, token: str | None) -> None:
    """`renew` on `zorgsleutel card`'s subcommands."""
    parser = sub.add_parser("renew", help="a new key and certificate on your smartcard")
    parser.add_argument("target", nargs="?", help="the QR code's URL, or an image of it")
    parser.add_argument("--code", help="the code shown on the page, e.g. K7QM-2XDA")
    parser.add_argument("--server", default=server, help="with --code")
    parser.add_argument("--module", default=module, help="PKCS#11 module (ZS_PKCS11_MODULE)")
    parser.add_argument("--token", default=token, help="card label")
    parser.add_argument("--pin", help="card PIN (or env ZS_CARD_PIN; asked otherwise)")


def run(options) -> None:
    renew(
        options.target,
        code=options.code,
        server=options.server,
        module=options.module,
        token=options.token,
        pin=options.pin,
    )
