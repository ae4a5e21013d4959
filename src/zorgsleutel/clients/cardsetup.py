"""The card work of `zorgsleutel card init`, `unblock-pin` (clients/cardinit.py) and `renew`
(clients/cardrenew.py), on a PKCS#11 token: a blank card's PINs, the key pair the card makes,
the CSR it signs, the certificates it keeps (docs/card-protocol.md, "Making a smartcard").

A blank card leaves the factory with its transport code as both SO PIN and user PIN, holding
nothing. `set_pins` gives it the holder's PIN (C_InitPIN) and a random PUK as SO PIN (C_SetPIN);
`make_request` (`new_key_request` in an open session) has the card generate a P-256 key pair
(sensitive, never extractable) and sign a CSR carrying the portal's challenge;
`store_certificates` puts the portal's certificates beside the key, where `card present` finds
them as on a UZI card. A real card counts wrong tries: no code is ever tried on a card to find
out what it is.
"""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import AttributeOID, NameOID

from zorgsleutel import cardprotocol as proto
from zorgsleutel.clients import card
from zorgsleutel.clients.card import ClientError
from zorgsleutel.clients.cardkey import CardKey
from zorgsleutel.clients.i18n import gettext as _

KEY_LABEL = "Zorgsleutel authenticatie"
PUK_LENGTH = 8
DIGITS = frozenset("0123456789")


@dataclass(frozen=True)
class CardRequest:
    """What the card made for the portal: the CSR, under which CKA_ID its key is, and the card."""

    csr: x509.CertificateSigningRequest
    key_id: bytes
    serial: str


# --- PINs -----------------------------------------------------------------------------------------


def check_pin(pin: str) -> str:
    """The PIN if it is 6 to 8 digits; ClientError otherwise."""
    if set(pin) - DIGITS:
        raise ClientError(_("the PIN may contain digits only; nothing was changed"))
    if not proto.PIN_MIN_LENGTH <= len(pin) <= proto.PIN_MAX_LENGTH:
        raise ClientError(
            _("the PIN must be %(min)s to %(max)s digits long; nothing was changed")
            % {"min": proto.PIN_MIN_LENGTH, "max": proto.PIN_MAX_LENGTH}
        )
    return pin


def new_pin(given: str | None, ask) -> str:
    """The new PIN: --pin as given (automation), or asked twice."""
    if given is not None:
        return check_pin(given)
    pin = check_pin(
        ask(
            _("New PIN for the card (%(min)s to %(max)s digits): ")
            % {"min": proto.PIN_MIN_LENGTH, "max": proto.PIN_MAX_LENGTH}
        )
    )
    if ask(_("The new PIN again: ")) != pin:
        raise ClientError(_("the two PINs differ; nothing was changed"))
    return pin


# --- The card -------------------------------------------------------------------------------------


def library(module: str):
    import pkcs11

    if not Path(module).is_file():
        raise ClientError(_("PKCS#11 module not found: %(module)s (--module)") % {"module": module})
    return pkcs11.lib(module)


def _public_objects(token) -> list:
    """Object classes anyone can see on the card, without a PIN."""
    with token.open() as session:
        return [item.object_class for item in session.get_objects()]


def find_token(lib, label: str | None, *, blank: bool = False):
    """The card by --token, or the only card present; with several, `blank` picks the only one
    showing no objects (a blank card). No code is tried on a card to find it: a real card (a
    UZI card beside the blank one) counts wrong tries."""
    from pkcs11 import TokenFlag

    tokens = [
        slot.get_token()
        for slot in lib.get_slots(token_present=True)
        if slot.get_token().flags & TokenFlag.TOKEN_INITIALIZED
    ]
    if label:
        tokens = [t for t in tokens if t.label == label]
        if not tokens:
            raise ClientError(_("no card %(label)r in the card reader") % {"label": label})
    if blank and len(tokens) > 1:
        empty = [t for t in tokens if not _public_objects(t)]
        tokens = empty if len(empty) == 1 else tokens
    if not tokens:
        raise ClientError(_("no card in the card reader"))
    if len(tokens) > 1:
        labels = ", ".join(repr(t.label) for t in tokens)
        raise ClientError(
            _("several cards (%(labels)s): choose one with --token") % {"labels": labels}
        )
    return tokens[0]


@contextmanager
def logged_in(token, *, wrong: str, user_pin: str | None = None, so_pin: str | None = None):
    """A read/write session, logged in. Read/write: python-pkcs11 leaves the session of a failed
    login open, and a read-only one would keep every later SO login out."""
    from pkcs11 import exceptions as errors

    try:
        session = token.open(rw=True, user_pin=user_pin, so_pin=so_pin)
    except (errors.PinIncorrect, errors.PinInvalid, errors.PinLenRange):
        raise ClientError(wrong) from None
    except errors.PinLocked:
        raise ClientError(_("the card is locked: too many wrong tries")) from None
    except errors.PKCS11Error as exc:
        raise ClientError(
            _("cannot open the card: %(error)s") % {"error": type(exc).__name__}
        ) from None
    try:
        yield session
    except errors.PKCS11Error as exc:
        raise ClientError(
            _("the card refused: %(error)s") % {"error": type(exc).__name__}
        ) from None
    finally:
        session.close()


def state(token) -> str:
    """blank (nothing on it), started (a key without a certificate) or smartcard."""
    from pkcs11 import ObjectClass

    found = _public_objects(token)
    if ObjectClass.CERTIFICATE in found:
        return "smartcard"
    return "started" if found else "blank"


def check_blank(token, *, transport_pin: str) -> None:
    """The transport code opens the card, and nothing is on it (private objects included)."""
    with logged_in(
        token, user_pin=transport_pin, wrong=_("Wrong transport code; nothing was changed")
    ) as session:
        if list(session.get_objects()):
            raise ClientError(_("this card is not blank: it holds objects; nothing was changed"))


def set_pins(token, *, transport_pin: str, pin: str) -> str:
    """The holder's PIN, then a random PUK in place of the transport code; returns the PUK.

    In this order, a card that lost power in between still opens with its transport code as SO.
    """
    check_pin(pin)
    if pin == transport_pin:
        raise ClientError(_("choose a PIN other than the transport code; nothing was changed"))
    puk = "".join(secrets.choice("0123456789") for _ in range(PUK_LENGTH))
    with logged_in(
        token, so_pin=transport_pin, wrong=_("Wrong transport code; nothing was changed")
    ) as session:
        session.init_pin(pin)
        session.set_pin(transport_pin, puk)
    return puk


def make_request(token, *, pin: str, challenge: str) -> CardRequest:
    """A new key pair made by the card (replacing keys without a certificate) and a CSR it
    signed, its challengePassword `challenge` exactly as the portal sent it."""
    from pkcs11 import Attribute, ObjectClass

    serial = proto.token_serial(token.serial)
    with logged_in(token, user_pin=pin, wrong=_("Wrong card PIN")) as session:
        if list(session.get_objects({Attribute.CLASS: ObjectClass.CERTIFICATE})):
            raise ClientError(_("this card is already a smartcard"))
        for item in list(session.get_objects()):
            if item.object_class in (ObjectClass.PRIVATE_KEY, ObjectClass.PUBLIC_KEY):
                item.destroy()  # an earlier attempt's, which got no certificate
        return new_key_request(session, challenge=challenge, serial=serial)


def new_key_request(session, *, challenge: str, serial: str) -> CardRequest:
    """A P-256 key pair the card makes under a new random CKA_ID (the private key sensitive,
    never extractable) and the CSR it signs. The subject names the card only: the portal writes
    the certificate's subject from what it knows."""
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

    key_id = secrets.token_bytes(8)
    parameters = session.create_domain_parameters(
        KeyType.EC,
        {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")},
        local=True,
    )
    public, private = parameters.generate_keypair(
        id=key_id,
        label=KEY_LABEL,
        store=True,
        public_template={Attribute.PRIVATE: False, Attribute.VERIFY: True},
        private_template={
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.DERIVE: False,
        },
    )
    public_key = serialization.load_der_public_key(encode_ec_public_key(public))
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, serial)]))
        .add_attribute(AttributeOID.CHALLENGE_PASSWORD, challenge.encode())  # UTF8String
        .sign(CardKey(private, public_key), hashes.SHA256())
    )
    return CardRequest(csr=csr, key_id=key_id, serial=serial)


def store_certificates(
    token, *, pin: str, key_id: bytes, certificates: list[x509.Certificate]
) -> None:
    """The card's certificate under its key's CKA_ID, then the CA certificates, readable
    without the PIN (as on a UZI card). Nothing is written if the first is not the
    authentication certificate of the key under `key_id`."""
    leaf, *cas = certificates
    with logged_in(token, user_pin=pin, wrong=_("Wrong card PIN")) as session:
        check_certificates(session, key_id=key_id, certificates=certificates)
        write_certificate(session, leaf, label=KEY_LABEL, object_id=key_id)
        for n, ca in enumerate(cas, start=1):
            write_certificate(session, ca, label=common_name(ca), object_id=b"ca-%d" % n)


def check_certificates(session, *, key_id: bytes, certificates: list[x509.Certificate]) -> None:
    """ClientError unless the first is the authentication certificate of the key under
    `key_id` and the others are CA certificates."""
    from pkcs11 import ObjectClass
    from pkcs11.util.ec import encode_ec_public_key

    leaf, *cas = certificates
    public = session.get_key(object_class=ObjectClass.PUBLIC_KEY, id=key_id)
    if leaf.public_key() != serialization.load_der_public_key(encode_ec_public_key(public)):
        raise ClientError(_("the portal's certificate is not for this card's key; nothing written"))
    if card.purpose(leaf) != "authentication" or any(card.purpose(c) != "CA" for c in cas):
        raise ClientError(_("the portal sent no authentication certificate; nothing written"))


def write_certificate(session, certificate: x509.Certificate, *, label: str, object_id: bytes):
    """A CKO_CERTIFICATE on the card, readable without the PIN."""
    from pkcs11 import Attribute
    from pkcs11.util.x509 import decode_x509_certificate

    attributes = decode_x509_certificate(certificate.public_bytes(serialization.Encoding.DER))
    attributes.update(
        {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.LABEL: label,
            Attribute.ID: object_id,
        }
    )
    session.create_object(attributes)


def common_name(certificate: x509.Certificate) -> str:
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else "CA"
