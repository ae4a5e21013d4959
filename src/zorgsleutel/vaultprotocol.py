"""Request signing between the portal (or another client) and the vault: the shared protocol.

Each request carries four headers: the client id, a Unix timestamp, a random nonce and an
HMAC-SHA256 over a canonical string (method, path with query, timestamp, nonce and the SHA-256
of the body) under that client's key. The vault refuses a request whose signature does not
match, whose timestamp is more than REQUEST_MAX_SKEW away from its clock, or whose nonce it has
seen before (replay). This module holds only the canonical form, so both sides share it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SCHEME = "ZS-VAULT-HMAC-SHA256"
HEADER_CLIENT = "X-ZS-Client"
HEADER_TIMESTAMP = "X-ZS-Timestamp"
HEADER_NONCE = "X-ZS-Nonce"
HEADER_SIGNATURE = "X-ZS-Signature"


def string_to_sign(
    *, client: str, method: str, path: str, timestamp: str, nonce: str, body: bytes
) -> bytes:
    parts = [
        SCHEME,
        client,
        method.upper(),
        path,
        timestamp,
        nonce,
        hashlib.sha256(body).hexdigest(),
    ]
    return "\n".join(parts).encode()


def signature(key: bytes, **parts) -> str:
    return hmac.new(key, string_to_sign(**parts), hashlib.sha256).hexdigest()


def sign_headers(*, client: str, key: bytes, method: str, path: str, body: bytes) -> dict[str, str]:
    """The headers a client sends with a request to `path` (path plus query string)."""
    timestamp = str(int(time.time()))
    nonce = secrets.token_hex(16)
    sig = signature(
        key, client=client, method=method, path=path, timestamp=timestamp, nonce=nonce, body=body
    )
    return {
        HEADER_CLIENT: client,
        HEADER_TIMESTAMP: timestamp,
        HEADER_NONCE: nonce,
        HEADER_SIGNATURE: sig,
    }
