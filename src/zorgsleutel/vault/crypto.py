"""Encryption of numbers and keyed hashes of numbers and codes.

- Numbers: AES-256-GCM, a fresh 96-bit nonce per encryption, the enrolment id and key version
  as associated data (a ciphertext copied to another row does not decrypt). Keys are versioned;
  the first configured key encrypts, all configured keys decrypt, `rotate-keys` re-encrypts.
- Number index: HMAC-SHA256 of the E.164 number under VAULT_INDEX_KEY. It lets the vault count
  sends per number without a readable number; without the key it cannot be brute-forced offline.
- Codes: HMAC-SHA256 of "challenge id:code" under VAULT_CODE_KEY; compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings


def _aad(enrolment_id: str, version: str) -> bytes:
    return f"zs-vault-number:{enrolment_id}:{version}".encode()


def encrypt_number(e164: str, *, enrolment_id: str) -> tuple[bytes, str]:
    version = settings.VAULT_CURRENT_KEY_VERSION
    nonce = os.urandom(12)
    sealed = AESGCM(settings.VAULT_ENCRYPTION_KEYS[version]).encrypt(
        nonce, e164.encode(), _aad(enrolment_id, version)
    )
    return nonce + sealed, version


def decrypt_number(ciphertext: bytes, *, enrolment_id: str, version: str) -> str:
    key = settings.VAULT_ENCRYPTION_KEYS[version]
    data = bytes(ciphertext)
    return AESGCM(key).decrypt(data[:12], data[12:], _aad(enrolment_id, version)).decode()


def number_index(e164: str) -> str:
    return hmac.new(settings.VAULT_INDEX_KEY, e164.encode(), hashlib.sha256).hexdigest()


def code_hash(challenge_id: str, code: str) -> str:
    message = f"{challenge_id}:{code}".encode()
    return hmac.new(settings.VAULT_CODE_KEY, message, hashlib.sha256).hexdigest()


def code_matches(challenge_id: str, code: str, stored_hash: str) -> bool:
    return hmac.compare_digest(code_hash(challenge_id, code), stored_hash)
