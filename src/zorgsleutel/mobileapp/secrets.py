"""App secrets at rest: AES-256-GCM under a key derived from SECRET_KEY (HKDF, own label).

Rotating SECRET_KEY therefore means re-enrolling apps; the device id is the associated data, so a
ciphertext copied to another device row does not decrypt.
"""

from __future__ import annotations

import os
from functools import cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings


@cache
def _key() -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"zorgsleutel-app-secrets-v1"
    ).derive(settings.SECRET_KEY.encode())


def seal(secret: bytes, *, device_id: str) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_key()).encrypt(nonce, secret, device_id.encode())


def unseal(data: bytes, *, device_id: str) -> bytes:
    data = bytes(data)
    return AESGCM(_key()).decrypt(data[:12], data[12:], device_id.encode())
