"""What the card client does, for the portal's smartcard tests: a P-256 key standing in for the
card's (the portal cannot tell; tests/smartcards/test_card_client*.py and the Chromium test use
a real SoftHSM2 card), its CSR with the challenge, its signed answer, over HTTP with a
cookie-less client."""

from __future__ import annotations

import re

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AttributeOID, NameOID
from django.test import Client

from zorgsleutel import cardprotocol


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def csr(key, challenge: str, *, tampered: bool = False) -> str:
    """A PKCS#10 request for `key` carrying `challenge` (challengePassword). `tampered`: its
    signature's last byte changed, so the card's key did not sign what it says."""
    request = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Zorgsleutel")]))
        .add_attribute(AttributeOID.CHALLENGE_PASSWORD, challenge.encode())
        .sign(key, hashes.SHA256())
    )
    der = request.public_bytes(serialization.Encoding.DER)
    if tampered:
        der = der[:-1] + bytes([der[-1] ^ 0x01])
    return x509.load_der_x509_csr(der).public_bytes(serialization.Encoding.PEM).decode()


def challenge_of(code: str) -> dict:
    return Client().get(f"/api/card/v1/challenges/{code}").json()


def send_csr(
    code: str, key, *, card_serial: str, challenge: str | None = None, tampered: bool = False
):
    """GET the challenge, POST the CSR: the response."""
    info = challenge_of(code)
    request = csr(key, challenge or info["challenge"], tampered=tampered)
    return Client().post(
        f"/api/card/v1/challenges/{info['id']}/csr",
        {"csr": request, "card_serial": card_serial},
        content_type="application/json",
    )


def present(code: str, key, certificate_pem: str, *, chain: tuple = ()):
    """The card's signature over the challenge, with its certificate."""
    info = challenge_of(code)
    message = cardprotocol.message(
        challenge_id=info["id"], challenge=cardprotocol.unb64(info["challenge"]), host=info["host"]
    )
    signature = key.sign(message, ec.ECDSA(hashes.SHA256()))
    return Client().post(
        f"/api/card/v1/challenges/{info['id']}/answer",
        {
            "certificates": [certificate_pem, *chain],
            "signature": cardprotocol.b64(signature),
            "algorithm": "ecdsa-sha256",
        },
        content_type="application/json",
    )


def page_code(response) -> dict:
    """The card code and the status URL a page shows."""
    html = response.content.decode()
    code = re.search(r'id="card-code">([A-Z0-9-]+)<', html).group(1)
    status = re.search(r'data-status-url="([^"]+)"', html).group(1).replace("&amp;", "&")
    return {"code": code, "status": status}
