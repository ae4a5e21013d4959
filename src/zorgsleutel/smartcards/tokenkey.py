"""A P-256 private key that never leaves its PKCS#11 token, for cryptography's builders.

`TokenKey` is an `ec.EllipticCurvePrivateKey` whose `sign()` asks the token: certificate, CRL
and OCSP builders sign through it as they would with a key in memory. SoftHSM 2.6 (and many
cards and HSMs) have no CKM_ECDSA_SHA256, so the digest is made here and the token signs it
with CKM_ECDSA; its raw r‖s becomes the DER signature X.509 wants. Nothing can read the key:
`private_numbers()` and `private_bytes()` refuse, as the token does (CKA_SENSITIVE).
"""

from __future__ import annotations

import hashlib

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


class KeyStaysInToken(Exception):
    """The private key was asked for something only its token may do."""


class TokenKey(ec.EllipticCurvePrivateKey):
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

        algorithm = getattr(signature_algorithm, "algorithm", None)
        if not isinstance(signature_algorithm, ec.ECDSA) or not isinstance(
            algorithm, hashes.SHA256
        ):
            raise KeyStaysInToken("the token key signs ECDSA with SHA-256 only")
        raw = self._key.sign(hashlib.sha256(data).digest(), mechanism=Mechanism.ECDSA)
        half = len(raw) // 2  # r and s, big-endian, each as long as the curve's order
        return encode_dss_signature(
            int.from_bytes(raw[:half], "big"), int.from_bytes(raw[half:], "big")
        )

    def exchange(self, algorithm, peer_public_key) -> bytes:
        raise KeyStaysInToken("the token key only signs")

    def private_numbers(self):
        raise KeyStaysInToken("the private key cannot leave its token")

    def private_bytes(self, encoding, format, encryption_algorithm) -> bytes:
        raise KeyStaysInToken("the private key cannot leave its token")

    def __copy__(self) -> TokenKey:
        return self

    def __deepcopy__(self, memo) -> TokenKey:
        return self
