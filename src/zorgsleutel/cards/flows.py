"""Presenting a UZI card: a cross-device challenge (authn/challenges.py) the card answers.

Both ways of presenting a card end in `_present()` (the TLS path's certificate only once the
browser that started the challenge claimed it: hold, then release, docs/card-protocol.md): the
chain is verified against the configured UZI trust anchors (zorgsleutel.uzi), a signed answer
must be over this challenge's message, and then the purpose's handler acts inside a savepoint,
so a refusal undoes everything it did. The refusal itself is kept (the browser shows it) and
audited.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from zorgsleutel import cardprotocol, policies
from zorgsleutel.authn import challenges
from zorgsleutel.cards import purposes, verification
from zorgsleutel.core import audit
from zorgsleutel.core.errors import DomainError, NotFound

KIND = "card"


def _invalid() -> NotFound:
    return NotFound(
        "unknown_challenge",
        _("This code is not valid (any more). Start again on the page in your browser."),
    )


@dataclass(frozen=True)
class ChallengeStarted:
    challenge_id: str
    code: str  # formatted for display, e.g. "K7QM-2XDA"
    url: str  # for the QR code
    expires_at: object


def start_challenge(
    *, session_key: str, host: str, purpose: str, subject: str, ttl=None
) -> ChallengeStarted:
    """A challenge for this browser session; the page shows its code and QR code."""
    challenge = challenges.start(
        kind=KIND,
        session_key=session_key,
        host=host,
        ttl=ttl or policies.CARD_CHALLENGE_TTL,
        prefix="card_",
        purpose=purpose,
        subject=subject,
        code_alphabet=cardprotocol.CODE_ALPHABET,
    )
    url = cardprotocol.present_url(server=settings.SITE_URL, code=challenge.code)
    return ChallengeStarted(
        challenge.public_id, cardprotocol.format_code(challenge.code), url, challenge.expires_at
    )


def presentation_url(*, session_key: str, challenge_id: str) -> str:
    """The URL a QR code of this open challenge carries, for the browser session that started
    it only (the page shows the QR code on request: smartcards/views.py)."""
    challenge = _pending(public_id=challenge_id[:40])
    if not session_key or not hmac.compare_digest(
        challenge.session_hash, challenges.session_hash(session_key)
    ):
        raise _invalid()
    return cardprotocol.present_url(server=settings.SITE_URL, code=challenge.code)


def _pending(*, lock: bool = False, **lookup):
    return challenges.pending(KIND, lock=lock, invalid_error=_invalid, **lookup)


def challenge_info(*, code: str) -> dict:
    """What the card client shows before it asks the PIN."""
    code = cardprotocol.normalise_code(code)
    if not code:
        raise _invalid()
    challenge = _pending(code=code[:8])
    return {
        "id": challenge.public_id,
        "challenge": cardprotocol.b64(bytes(challenge.challenge)),
        "host": challenge.host,
        "purpose": challenge.purpose,
        "description": purposes.describe(challenge),
        "expires_at": challenge.expires_at.isoformat(),
    }


def answer_with_signature(
    *, challenge_id: str, certificates: list[str], signature: bytes, algorithm: str
) -> dict:
    """The card client's answer: the card's certificates and its signature over the message."""
    return _present(
        challenge_id,
        certificates=certificates,
        means="card",
        signature=signature,
        algorithm=algorithm,
    )


def tls_presentation(*, challenge_id: str) -> dict:
    """What the UZI host's page shows before the card holder presents the card."""
    challenge = _pending(public_id=challenge_id)
    return {
        "description": purposes.describe(challenge),
        "host": challenge.host,
        "expires_at": challenge.expires_at,
    }


def hold_tls_certificate(*, challenge_id: str, certificate: x509.Certificate) -> str:
    """A client certificate the reverse proxy received in the TLS handshake (which proved the
    key), on the UZI host: held for the browser that started the challenge (challenges.hold).
    Returns the one-time value this browser carries back to the portal."""
    pem = certificate.public_bytes(Encoding.PEM).decode("ascii")
    return challenges.hold(
        KIND, public_id=challenge_id, held={"certificate": pem}, invalid_error=_invalid
    )


def answer_with_held_tls_certificate(*, challenge_id: str, session_key: str, value: str) -> dict:
    """Back on the portal, in the browser that started the challenge with the value the UZI
    host handed it: the held certificate is verified (its chain, as for the card client) and
    answers. Any other browser is refused ("other_browser", audited) and changes nothing."""
    try:
        held = challenges.release(
            KIND,
            public_id=challenge_id,
            session_key=session_key,
            value=value,
            invalid_error=_invalid,
        )
    except DomainError as error:
        if error.code == "other_browser":
            audit.record(
                "card.other_browser",
                actor="anonymous",
                outcome=audit.DENIED,
                details={"challenge": challenge_id},
            )
        raise
    certificate = x509.load_pem_x509_certificate(held["certificate"].encode("ascii"))
    return _present(challenge_id, certificates=[certificate], means="tls")


def _present(
    challenge_id: str,
    *,
    certificates: list,
    means: str,
    signature: bytes = b"",
    algorithm: str = "",
) -> dict:
    refusal: DomainError | None = None
    details: dict = {}
    asked = _pending(public_id=challenge_id)  # fail fast, before the CPU work
    verify = purposes.verifier_for(asked.purpose) or verification.verify_certificates
    try:
        identity, leaf = verify(certificates)
    except DomainError as error:
        if error.code in verification.UNREADABLE:
            raise  # bad input: the challenge stays open for a proper answer
        identity, leaf, refusal = None, None, error
    with transaction.atomic():
        challenge = _pending(lock=True, public_id=challenge_id)
        try:
            if refusal is not None:
                raise refusal
            if means == "card":
                message = cardprotocol.message(
                    challenge_id=challenge.public_id,
                    challenge=bytes(challenge.challenge),
                    host=challenge.host,
                )
                verification.require_signature(leaf, message, signature, algorithm)
            presentation = purposes.Presentation(identity=identity, means=means)
            with transaction.atomic():  # a refusal undoes whatever the handler did
                details = purposes.handler_for(challenge.purpose)(challenge, presentation)
        except DomainError as error:
            refusal = error
        facts = {"purpose": challenge.purpose, "subject": challenge.subject, "means": means}
        if identity is not None:
            facts.update(verification.summary(identity))
        challenges.answer(challenge, result={**details, "identity": facts}, refusal=refusal)
        if refusal is not None:
            audit.record(
                "card.refused",
                actor=challenge,
                target=challenge,
                outcome=audit.DENIED,
                details={**facts, "error": refusal.code},
            )
        else:
            audit.record("card.accepted", actor=challenge, target=challenge, details=facts)
    if refusal is not None:
        raise refusal
    return {"status": "accepted", "message": str(_("Card accepted. Continue in your browser."))}


def answer_with_csr(*, challenge_id: str, csr: str, card_serial: str) -> dict:
    """The card client making a card: a certificate signing request made and signed on the card,
    for the challenge's purpose (its `csr` handler issues the certificate). Returns what the
    client writes to the card; a refusal is kept for the browser, audited, and raised."""
    refusal: DomainError | None = None
    answer: dict = {}
    with transaction.atomic():
        challenge = _pending(lock=True, public_id=challenge_id)
        handle = purposes.csr_handler_for(challenge.purpose)
        facts = {"purpose": challenge.purpose, "subject": challenge.subject, "means": "card"}
        try:
            with transaction.atomic():  # a refusal undoes whatever the handler did
                details, answer = handle(challenge, csr, card_serial)
        except DomainError as error:
            if error.code in CSR_UNREADABLE:
                raise  # bad input: the challenge stays open for a proper request
            refusal, details = error, {}
        challenges.answer(challenge, result={**details, "identity": facts}, refusal=refusal)
        if refusal is not None:
            audit.record(
                "card.refused",
                actor=challenge,
                target=challenge,
                outcome=audit.DENIED,
                details={**facts, "error": refusal.code},
            )
    if refusal is not None:
        raise refusal
    return {"status": "accepted", **answer}


# No verdict on the request: it is not a readable request at all (a 400); the challenge stays
# open for a proper one.
CSR_UNREADABLE = frozenset({"bad_csr"})
