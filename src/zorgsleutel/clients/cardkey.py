"""The card's private key as `cryptography` sees it, so its CSR builder has the card sign
(clients/cardsetup.py): the key never leaves the card."""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from zorgsleutel.clients.common import ClientError
from zorgsleutel.clients.i18n import gettext as _


class CardKey(ec.EllipticCurvePrivateKey):
    """The card's private key for cryptography's CSR builder: `sign()` asks the card. Cards (and
    SoftHSM 2.6) lack CKM_ECDSA_SHA256: the digest is made here, CKM_ECDSA signs it there."""

    def __init__(self, key, public_key: ec.EllipticCurvePublicKey):
        self._key = key  # a pkcs11 PrivateKey of an open session
        self._public = public_key

    @property
    def curve(self) -> ec.EllipticCurve:
        return self._public.curve

    @property
    def key_size(self) -> int:
        return self._public.key_size

    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._public

    def sign(self, data, signature_algorithm) -> bytes:
        from pkcs11 import Mechanism
        from pkcs11.util.ec import encode_ecdsa_signature

        if not isinstance(getattr(signature_algorithm, "algorithm", None), hashes.SHA256):
            raise ClientError(_("the card signs ECDSA with SHA-256 only"))
        raw = self._key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
        return encode_ecdsa_signature(raw)

    def exchange(self, algorithm, peer_public_key) -> bytes:
        raise ClientError(_("the card's key only signs"))

    def private_numbers(self):
        raise ClientError(_("the private key cannot leave the card"))

    def private_bytes(self, encoding, format, encryption_algorithm) -> bytes:
        raise ClientError(_("the private key cannot leave the card"))

    def __copy__(self) -> CardKey:
        return self

    def __deepcopy__(self, memo) -> CardKey:
        return self
