"""`zorgsleutel card`: the reference card client — what a UZI card reader program does.

    zorgsleutel card present (--code CODE [--server URL] | URL | QR-IMAGE)
                             [--module PATH] [--token LABEL] [--pin PIN]
    zorgsleutel card info [--module PATH] [--token LABEL] [--pin PIN]
    zorgsleutel card init (--code CODE [--server URL] | URL | QR-IMAGE) [--module PATH]
                          [--token LABEL] [--transport-pin CODE] [--pin PIN]
    zorgsleutel card unblock-pin [--module PATH] [--token LABEL] [--puk PUK] [--pin PIN]
    zorgsleutel card renew (--code CODE [--server URL] | URL | QR-IMAGE) [--module PATH]
                           [--token LABEL] [--pin PIN]
    (each with [--language nl|en]; default from LANG and the like: clients/i18n.py)

`present` reads a challenge from the portal, shows who asks and why, signs the challenge with the
card's authentication key (the PIN unlocks the card; the key never leaves it) and sends the
signature with the card's certificates (docs/card-protocol.md, docs/uzi.md). The card is any
PKCS#11 token: a UZI card through its middleware, or a SoftHSM2 test card (`zorgsleutel uzi
make-test-card`; set SOFTHSM2_CONF as it says). The PIN comes from --pin, ZS_CARD_PIN or a prompt.
`init` makes a Zorgsleutel smartcard of a blank card, `unblock-pin` sets a new PIN with the PUK
(clients/cardinit.py); `renew` gives a smartcard a new key and certificate in the last 60 days of
its certificate (clients/cardrenew.py).

Exit codes: 0 accepted, 1 refused by the portal, 2 usage, unreachable server or card problem.
"""

from __future__ import annotations

import argparse
import getpass
import hashlib
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from zorgsleutel import cardprotocol as proto
from zorgsleutel.clients import common, i18n
from zorgsleutel.clients.i18n import gettext as _
from zorgsleutel.clients.i18n import gettext_noop

DEFAULT_MODULE = "/usr/lib/softhsm/libsofthsm2.so"
DEFAULT_SERVER = "http://127.0.0.1:8000"


ClientError = common.ClientError  # usage, network or card problem: exit 2
_http = common.http_json


def read_qr(value: str) -> str:
    """The URL in a QR code: given as text, or decoded from an image file."""
    return common.read_qr(value, proto.SCHEME)


class Refused(Exception):
    """The portal said no: exit 1."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


# --- Where the challenge is -----------------------------------------------------------------------


def challenge_address(target: str | None, *, code: str | None, server: str) -> tuple[str, str]:
    """(server, code) from --code and --server, or from a QR code's URL or image."""
    if code and target:
        raise ClientError(_("give either --code or a QR code, not both"))
    if code:
        code = proto.normalise_code(code)
        if len(code) != proto.CODE_LENGTH or set(code) - set(proto.CODE_ALPHABET):
            raise ClientError(_("%(code)r is not a card code (like K7QM-2XDA)") % {"code": code})
        return server, code
    if not target:
        raise ClientError(_("give the code shown on the page (--code) or its QR code"))
    try:
        found = proto.parse_url(read_qr(target))
    except ValueError as exc:
        raise ClientError(common.protocol_message(exc)) from None
    return found["server"], found["code"]


# --- HTTP -----------------------------------------------------------------------------------------


def _api(server: str, path: str) -> str:
    return server.rstrip("/") + proto.API_PREFIX + path


# --- The card -------------------------------------------------------------------------------------


class Card:
    """A PKCS#11 token opened with its PIN: `with Card(module, token, pin) as card: ...`."""

    def __init__(self, module: str, token_label: str | None, pin: str | None):
        self.module = module
        self.token_label = token_label
        self.pin = pin
        self._session = None

    def __enter__(self) -> Card:
        import pkcs11
        from pkcs11 import exceptions as errors

        if not Path(self.module).is_file():
            raise ClientError(
                _("PKCS#11 module not found: %(module)s (--module)") % {"module": self.module}
            )
        token = self._token(pkcs11.lib(self.module))
        pin = self.pin if self.pin is not None else os.environ.get("ZS_CARD_PIN")
        if pin is None:
            pin = getpass.getpass(_("PIN of card %(label)r: ") % {"label": token.label})
        try:
            self._session = token.open(user_pin=pin)
        except (errors.PinIncorrect, errors.PinInvalid, errors.PinLenRange):
            raise ClientError(_("Wrong card PIN")) from None
        except errors.PinLocked:
            raise ClientError(_("The card is locked: too many wrong PINs")) from None
        except errors.PKCS11Error as exc:
            raise ClientError(
                _("cannot open the card: %(error)s") % {"error": type(exc).__name__}
            ) from None
        return self

    def __exit__(self, *exc_info) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def _token(self, lib):
        from pkcs11 import TokenFlag

        tokens = [
            slot.get_token()
            for slot in lib.get_slots(token_present=True)
            if slot.get_token().flags & TokenFlag.TOKEN_INITIALIZED
        ]
        if self.token_label:
            tokens = [t for t in tokens if t.label == self.token_label]
            if not tokens:
                raise ClientError(
                    _("no card %(label)r in the card reader") % {"label": self.token_label}
                )
        if not tokens:
            raise ClientError(_("no card in the card reader"))
        if len(tokens) > 1:
            labels = ", ".join(repr(t.label) for t in tokens)
            raise ClientError(
                _("several cards (%(labels)s): choose one with --token") % {"labels": labels}
            )
        return tokens[0]

    def certificates(self) -> list[tuple[bytes, x509.Certificate]]:
        """(CKA_ID, certificate) of every certificate on the card."""
        from pkcs11 import Attribute, ObjectClass

        found = []
        for item in self._session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE}):
            try:
                certificate = x509.load_der_x509_certificate(item[Attribute.VALUE])
            except ValueError:
                continue  # not an X.509 certificate we can read
            found.append((item[Attribute.ID], certificate))
        return found

    def authentication(self):
        """(certificate, private key) of the authentication certificate: the one for
        digitalSignature without nonRepudiation, with a private key under the same CKA_ID."""
        from pkcs11 import ObjectClass
        from pkcs11 import exceptions as errors

        # The newest first: a renewal interrupted before the old certificate went leaves both.
        newest_first = sorted(
            self.certificates(), key=lambda found: found[1].not_valid_before_utc, reverse=True
        )
        for key_id, certificate in newest_first:
            if purpose(certificate) != "authentication":
                continue
            try:
                key = self._session.get_key(object_class=ObjectClass.PRIVATE_KEY, id=key_id)
            except (errors.NoSuchKey, errors.MultipleObjectsReturned):
                continue
            return certificate, key
        raise ClientError(_("no authentication certificate with its key on this card"))

    def ca_certificates(self) -> list[x509.Certificate]:
        return [c for _, c in self.certificates() if purpose(c) == "CA"]

    def sign(self, message: bytes) -> tuple[x509.Certificate, bytes, str]:
        """(certificate, signature, algorithm): the card's authentication key signs `message`."""
        from cryptography.hazmat.primitives.asymmetric import ec, rsa
        from pkcs11 import Mechanism
        from pkcs11 import exceptions as errors
        from pkcs11.util.ec import encode_ecdsa_signature

        certificate, key = self.authentication()
        public = certificate.public_key()
        try:
            if isinstance(public, rsa.RSAPublicKey):
                signature = key.sign(message, mechanism=Mechanism.SHA256_RSA_PKCS)
                return certificate, signature, "rsa-pkcs1-sha256"
            if isinstance(public, ec.EllipticCurvePublicKey):
                # Many cards (and SoftHSM 2.6) have no CKM_ECDSA_SHA256: hash here, sign there.
                raw = key.sign(hashlib.sha256(message).digest(), mechanism=Mechanism.ECDSA)
                return certificate, encode_ecdsa_signature(raw), "ecdsa-sha256"
        except errors.PKCS11Error as exc:
            raise ClientError(
                _("the card could not sign: %(error)s") % {"error": type(exc).__name__}
            ) from None
        raise ClientError(_("the card's key is neither RSA nor EC"))


# The purposes `info` prints, in the reader's language (purpose() returns the English keys).
PURPOSES = {
    "authentication": gettext_noop("authentication"),
    "signing": gettext_noop("signing"),
    "encryption": gettext_noop("encryption"),
    "other": gettext_noop("other"),
    "CA": "CA",
}


def purpose(certificate: x509.Certificate) -> str:
    """authentication, signing, encryption or CA, by key usage (UZI cards hold one of each)."""
    try:
        if certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return "CA"
    except x509.ExtensionNotFound:
        pass
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return "other"
    if usage.content_commitment:
        return "signing"
    if usage.digital_signature:
        return "authentication"
    if usage.key_encipherment or usage.data_encipherment:
        return "encryption"
    return "other"


def _pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")


# --- Commands -------------------------------------------------------------------------------------


def read_challenge(server: str, code: str) -> dict:
    """The portal's challenge for this code (its "challenge" checked to be base64url)."""
    status, info = _http("GET", _api(server, f"/challenges/{urllib.parse.quote(code)}"))
    if status != 200:
        raise Refused(info.get("error", f"http_{status}"), info.get("message", f"HTTP {status}"))
    incomplete = ClientError(_("the server's challenge is incomplete"))
    if not all(isinstance(info.get(field), str) for field in ("id", "host", "challenge")):
        raise incomplete
    try:
        proto.unb64(info["challenge"])
    except ValueError:
        raise incomplete from None
    return info


def present(
    target: str | None,
    *,
    code: str | None = None,
    server: str = DEFAULT_SERVER,
    module: str = DEFAULT_MODULE,
    token: str | None = None,
    pin: str | None = None,
    out=None,
) -> dict:
    """Answer one card challenge; returns the portal's answer, raises Refused or ClientError."""
    out = out or sys.stdout
    server, code = challenge_address(target, code=code, server=server)
    info = read_challenge(server, code)
    challenge_id, host = info["id"], info["host"]
    challenge = proto.unb64(info["challenge"])
    what = info.get("description") or info.get("purpose", "")
    print(_("%(host)s asks for your card: %(what)s") % {"host": host, "what": what}, file=out)
    if info.get("expires_at"):
        print(
            "  "
            + _("code %(code)s, valid until %(time)s")
            % {"code": proto.format_code(code), "time": info["expires_at"]},
            file=out,
        )
    message = proto.message(challenge_id=challenge_id, challenge=challenge, host=host)
    with Card(module, token, pin) as card:
        certificate, signature, algorithm = card.sign(message)
        chain = [certificate, *card.ca_certificates()]
    status, answer = _http(
        "POST",
        _api(server, f"/challenges/{urllib.parse.quote(challenge_id)}/answer"),
        {
            "certificates": [_pem(c) for c in chain],
            "signature": proto.b64(signature),
            "algorithm": algorithm,
        },
    )
    if status != 200 or answer.get("status") != "accepted":
        raise Refused(answer.get("error", f"http_{status}"), answer.get("message", ""))
    print(answer.get("message") or _("Accepted: the page continues by itself."), file=out)
    return answer


def info(*, module: str, token: str | None, pin: str | None, out=None) -> None:
    """List the certificates on the card, with the UZI fields of each."""
    out = out or sys.stdout
    from zorgsleutel.uzi.errors import UziError
    from zorgsleutel.uzi.identity import parse_identity

    with Card(module, token, pin) as card:
        certificates = card.certificates()
    order = ["authentication", "signing", "encryption", "other", "CA"]
    certificates.sort(key=lambda item: order.index(purpose(item[1])))
    for key_id, certificate in certificates:
        subject = certificate.subject.rfc4514_string()
        shown = _(PURPOSES[purpose(certificate)])
        print(f"[{shown}] id {key_id.hex()}  {subject}", file=out)
        print(
            "    "
            + _("valid from %(start)s to %(end)s")
            % {
                "start": f"{certificate.not_valid_before_utc:%Y-%m-%d}",
                "end": f"{certificate.not_valid_after_utc:%Y-%m-%d}",
            },
            file=out,
        )
        if purpose(certificate) == "CA":
            continue
        try:
            who = parse_identity(certificate)
        except UziError as exc:  # its detail is plain English; the message needs Django's i18n
            print(
                "    "
                + _("not a UZI certificate (%(code)s: %(detail)s)")
                % {"code": exc.code, "detail": exc.detail},
                file=out,
            )
            continue
        print(
            "    "
            + _(
                "%(name)s: UZI number %(uzi)s, URA %(ura)s, card type %(type)s (%(type_name)s), "
                "role %(role)s (%(profession)s)"
            )
            % {
                "name": who.full_name,
                "uzi": who.uzi_number,
                "ura": who.ura,
                "type": who.pas_type,
                "type_name": who.pas_type_name,
                "role": who.role,
                "profession": who.profession or "-",
            },
            file=out,
        )


def main(argv: list[str]) -> int:
    from zorgsleutel.clients import cardinit, cardrenew

    parser = argparse.ArgumentParser(prog="zorgsleutel card", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    commands = {
        "present": sub.add_parser("present", help="answer a card challenge of the portal"),
        "info": sub.add_parser("info", help="list the certificates on the card"),
    }
    server = os.environ.get("SITE_URL", DEFAULT_SERVER)
    module = os.environ.get("ZS_PKCS11_MODULE", DEFAULT_MODULE)
    token = os.environ.get("ZS_CARD_TOKEN")
    present_parser = commands["present"]
    present_parser.add_argument("target", nargs="?", help="the QR code's URL, or an image of it")
    present_parser.add_argument("--code", help="the code shown on the page, e.g. K7QM-2XDA")
    present_parser.add_argument("--server", default=server, help="with --code")
    for command in commands.values():
        command.add_argument("--module", default=module, help="PKCS#11 module (ZS_PKCS11_MODULE)")
        command.add_argument("--token", default=token, help="card label")
        command.add_argument("--pin", help="card PIN (or env ZS_CARD_PIN; asked otherwise)")
    cardinit.add_parsers(sub, server=server, module=module, token=token)
    cardrenew.add_parser(sub, server=server, module=module, token=token)
    for command in sub.choices.values():
        i18n.add_language_option(command)
    options = parser.parse_args(argv)
    i18n.activate(options.language)
    try:
        if options.command in cardinit.COMMANDS:
            cardinit.run(options)
        elif options.command in cardrenew.COMMANDS:
            cardrenew.run(options)
        elif options.command == "present":
            present(
                options.target,
                code=options.code,
                server=options.server,
                module=options.module,
                token=options.token,
                pin=options.pin,
            )
        else:
            info(module=options.module, token=options.token, pin=options.pin)
    except Refused as exc:
        print(
            _("refused: %(code)s: %(message)s") % {"code": exc.code, "message": exc.message},
            file=sys.stderr,
        )
        return 1
    except ClientError as exc:
        print(_("error: %(message)s") % {"message": exc}, file=sys.stderr)
        return 2
    except (EOFError, KeyboardInterrupt):
        print("\n" + _("error: %(message)s") % {"message": _("cancelled")}, file=sys.stderr)
        return 2
    return 0
