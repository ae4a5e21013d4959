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
from zorgsleutel.core import clock
from zorgsleutel.smartcards import profile, runtime
from zorgsleutel.smartcards.models import Smartcard
from zorgsleutel.uzi.certificates import pem


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


def issue_card(care, *, holder=None, now=None, organisation=None) -> tuple:
    """(key, certificate PEM, Smartcard) of a smartcard issued through the portal's CA."""
    from smartcardwork import csr

    holder = holder or care.member
    organisation = organisation or care.org
    key = new_key()
    request = x509.load_pem_x509_csr(csr(key, "-").encode())
    person = profile.Holder(
        name=holder.name,
        public_id=str(holder.public_id),
        organisation=organisation.name,
        ura=organisation.ura,
    )
    moment = now or clock.now()
    certificate = runtime.with_ca(lambda ca: profile.issue(ca, request, person, now=moment))
    card = Smartcard.objects.create(
        public_id=f"sc_{certificate.serial_number % 10**8}",
        user=holder,
        organisation=organisation,
        serial=format(certificate.serial_number, "x"),
        card_serial=f"KAART-{certificate.serial_number % 10**4}",
        certificate=b"",
        fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
        not_after=certificate.not_valid_after_utc,
        issued_at=moment,
        route="in_person",
        state_changed_at=moment,
    )
    return key, pem(certificate), card
