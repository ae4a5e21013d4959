"""Smartcards for the publication tests: real certificates of the portal's CA (settings point
at the session's SoftHSM2 token: the `portal_ca` fixture), each from a software P-256 key's CSR,
and their rows made directly (the issuance flow is tested on its own)."""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp
from cryptography.x509.oid import NameOID

from people import someone
from zorgsleutel.smartcards import profile, runtime
from zorgsleutel.smartcards.models import Smartcard

_numbers = itertools.count(1)
NONCE = b"publication-test"


def certificate(organisation, user) -> x509.Certificate:
    """A card certificate of the portal's CA for `user` (its key a software key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "card")])
    csr = x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256())
    holder = profile.Holder(
        name=user.name, public_id=str(user.public_id), organisation=organisation.name, ura="1"
    )
    return runtime.with_ca(lambda ca: profile.issue(ca, csr, holder))


def card(organisation, *, state=Smartcard.ACTIVE, reason="", at=None):
    """A smartcard row in `state` with a real certificate: (the row, its certificate)."""
    number = next(_numbers)
    user = someone(organisation, email=f"kaart{number}@publicatie.nl", name=f"Kaart {number}")
    issued = certificate(organisation, user)
    at = at or datetime.now(UTC).replace(microsecond=0)
    row = Smartcard.objects.create(
        public_id=f"sc-{number}",
        user=user,
        organisation=organisation,
        serial=f"{issued.serial_number:x}",
        card_serial=f"card-{number}",
        certificate=issued.public_bytes(serialization.Encoding.DER),
        fingerprint=issued.fingerprint(hashes.SHA256()).hex(),
        not_after=issued.not_valid_after_utc,
        issued_at=at,
        route="in_person",  # IdentityCheck.IN_PERSON
        state=state,
        state_changed_at=at,
        revocation_reason=reason,
    )
    return row, issued


def request(issued: x509.Certificate, issuer: x509.Certificate, *, nonce=NONCE, sha=None):
    """An OCSP request (DER) for `issued`, with a nonce unless `nonce` is None."""
    builder = ocsp.OCSPRequestBuilder().add_certificate(
        issued,
        issuer,
        sha or hashes.SHA1(),  # noqa: S303 (RFC 5019's CertID)
    )
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


@contextlib.contextmanager
def status_app_server():
    """A live server like pytest-django's (same thread, same test database) serving the portal
    as zorgsleutel/wsgi.py does: smartcards/status_app.py mounted in front. Yields its URL."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from pytest_django.live_server_helper import LiveServer

    from zorgsleutel.smartcards import status_app

    server = LiveServer("127.0.0.1:0", start=False)
    server.thread.static_handler = lambda portal: status_app.mount(StaticFilesHandler(portal))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()
