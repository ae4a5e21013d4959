"""The card presentation protocol's shared definitions (docs/card-protocol.md).

Used by the portal (zorgsleutel.cards) and the reference card client (zorgsleutel.clients.card),
so both compute exactly the same bytes. Imports nothing of either.

A browser page that needs a UZI card (organisation validation) shows a challenge: a short code to
type and a QR code holding `present_url(...)`. The card client

1. reads the challenge:  GET  {server}/api/card/v1/challenges/{code}
   -> 200 {"id", "challenge" (base64url), "host", "purpose", "expires_at"}
   -> 404 {"error": "unknown_challenge", "message"}   (unknown, expired or already answered)
2. asks the card PIN and signs `message(...)` with the card's authentication key,
3. answers:             POST {server}/api/card/v1/challenges/{id}/answer
   {"certificates": [PEM, ...] (the authentication certificate first, then any CA certificates
    found on the card), "signature": base64url, "algorithm": one of SIGNATURE_ALGORITHMS}
   -> 200 {"status": "accepted", "message"}
   -> 4xx {"error": stable code, "message": text for the person at the card reader}

and the browser page, which polls, continues by itself. A TLS client certificate presented to the
reverse proxy on the UZI path reaches the same verification core without a signature (the TLS
handshake proved the key).

Making a Zorgsleutel smartcard of a blank card (`zorgsleutel card init`) reads a challenge of
purpose SMARTCARD_CREATE the same way, then sends a CSR made and signed by the card's new key,
its PKCS#9 challengePassword the challenge exactly as read:

4. POST {server}/api/card/v1/challenges/{id}/csr  (`csr_path`)
   {"csr": PEM, "card_serial": `token_serial(...)` of the card}
   -> 200 {"status": "accepted", "message", "certificates": [card, issuing CA, root] (PEM)}
   -> 4xx {"error": stable code, "message"}

Renewing a smartcard (`zorgsleutel card renew`) does the same with a challenge of purpose
SMARTCARD_RENEW, the card's new key beside its old one.
"""

from __future__ import annotations

import base64
import urllib.parse

SCHEME = "zorgsleutel-card"
API_PREFIX = "/api/card/v1"
# RSA keys (UZI cards): PKCS#1 v1.5 over SHA-256 (PKCS#11 CKM_SHA256_RSA_PKCS).
# EC keys: ECDSA over SHA-256, DER-encoded signature (hash on the host; CKM_ECDSA on the card).
SIGNATURE_ALGORITHMS = ("rsa-pkcs1-sha256", "ecdsa-sha256")
# The short code shown on the page: 8 characters from an alphabet without look-alikes.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 8

# Making a smartcard: the challenge's purpose, and the holder's PIN (digits only; the client
# checks it, the card stores it; the portal never sees it).
SMARTCARD_CREATE = "smartcard_create"
# Renewing one (`zorgsleutel card renew`): a new key on the same card, the same CSR endpoint.
SMARTCARD_RENEW = "smartcard_renew"
PIN_MIN_LENGTH = 6
PIN_MAX_LENGTH = 8


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def format_code(code: str) -> str:
    """`K7QM2XDA` -> `K7QM-2XDA` for display; `normalise_code` undoes it."""
    return f"{code[:4]}-{code[4:]}"


def normalise_code(text: str) -> str:
    return "".join(ch for ch in text.upper() if ch.isalnum())


def message(*, challenge_id: str, challenge: bytes, host: str) -> bytes:
    """The bytes the card signs: bound to this challenge and to the site that asked."""
    return b"|".join([b"zorgsleutel-card-v1", challenge_id.encode(), host.encode(), challenge])


def csr_path(challenge_id: str) -> str:
    """Where the card client sends a smartcard's CSR, under API_PREFIX."""
    return f"/challenges/{urllib.parse.quote(challenge_id, safe='')}/csr"


def token_serial(raw: bytes) -> str:
    """A card's serial as both sides write it: PKCS#11's CK_TOKEN_INFO serialNumber (16 bytes,
    padded with blanks), decoded and stripped."""
    return raw.decode("ascii", "replace").strip()


def present_url(*, server: str, code: str) -> str:
    return f"{SCHEME}://present?" + urllib.parse.urlencode({"server": server, "code": code})


def parse_url(url: str) -> dict[str, str]:
    """{"server", "code"} of a card QR code's URL; ValueError if it is not ours."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme != SCHEME or parts.netloc != "present":
        raise ValueError("this is not a Zorgsleutel card QR code")
    params = {k: v[0] for k, v in urllib.parse.parse_qs(parts.query).items()}
    server = urllib.parse.urlsplit(params.get("server", ""))
    if server.scheme not in ("http", "https") or not server.netloc or not params.get("code"):
        raise ValueError("the QR code names no valid server or code")
    return {"server": params["server"], "code": normalise_code(params["code"])}
