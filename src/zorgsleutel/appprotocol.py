"""The Zorgsleutel app protocol's shared definitions (docs/app-protocol.md).

Used by the portal (zorgsleutel.mobileapp) and the reference client (zorgsleutel.clients.app),
so both compute exactly the same bytes. Imports nothing of either.

PIN protection follows the tiqr design: the 256-bit app secret S is stored on the phone as
S XOR HKDF-SHA256(PIN, salt). There is no check value, so *every* PIN turns the stored bytes into
*some* 256-bit value; only the server, which knows S and allows 3 wrong PINs, can tell which PIN
was right. A stolen phone or state file therefore cannot be brute-forced offline.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SCHEME = "zorgsleutel"
PIN_LENGTH = 6
SECRET_BYTES = 32


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pin_pad(pin: str, salt: bytes) -> bytes:
    if len(pin) != PIN_LENGTH or not pin.isdigit():
        raise ValueError("the PIN has 6 digits")
    return HKDF(
        algorithm=hashes.SHA256(), length=SECRET_BYTES, salt=salt, info=b"zorgsleutel-app-pin"
    ).derive(pin.encode())


def protect_secret(secret: bytes, pin: str, salt: bytes) -> bytes:
    return bytes(a ^ b for a, b in zip(secret, pin_pad(pin, salt), strict=True))


unprotect_secret = protect_secret  # XOR is its own inverse


def login_message(*, challenge_id: str, challenge: bytes, host: str) -> bytes:
    """What the app's HMAC (with S) and signature (with the device key) are computed over."""
    return b"|".join([b"zorgsleutel-login-v1", challenge_id.encode(), host.encode(), challenge])


def response(secret: bytes, message: bytes) -> str:
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def enrol_url(*, server: str, code: str) -> str:
    return f"{SCHEME}://enrol?" + urllib.parse.urlencode({"server": server, "code": code})


def login_url(*, server: str, challenge_id: str, challenge: bytes) -> str:
    query = {"server": server, "id": challenge_id, "c": b64(challenge)}
    return f"{SCHEME}://login?" + urllib.parse.urlencode(query)


def parse_url(url: str) -> tuple[str, dict[str, str]]:
    """("enrol" | "login", parameters) of a QR code's URL; ValueError if it is not ours."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme != SCHEME or parts.netloc not in ("enrol", "login"):
        raise ValueError("this is not a Zorgsleutel QR code")
    params = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
    server = urllib.parse.urlsplit(params.get("server", ""))
    if server.scheme not in ("http", "https") or not server.netloc:
        raise ValueError("the QR code names no valid server")
    return parts.netloc, params
