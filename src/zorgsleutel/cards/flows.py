"""Presenting a UZI card: start a challenge, verify an answer, let the browser collect the result.

Both ways of presenting a card end in `_present()`: the chain is verified against the configured
UZI trust anchors (zorgsleutel.uzi), a signed answer must be over this challenge's message, and
then the purpose's handler acts inside a savepoint, so a refusal undoes everything it did. The
refusal itself is kept (the browser shows it) and audited.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from zorgsleutel import cardprotocol, policies
from zorgsleutel.cards import purposes, verification
from zorgsleutel.cards.models import CardChallenge
from zorgsleutel.core import audit, clock
from zorgsleutel.core.errors import DomainError, NotFound


def session_hash(session_key: str) -> str:
    return hashlib.sha256(("zs-card-session:" + session_key).encode()).hexdigest()


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


def start_challenge(*, session_key: str, host: str, purpose: str, subject: str) -> ChallengeStarted:
    """A challenge for this browser session; the page shows its code and QR code."""
    now = clock.now()
    for _attempt in range(5):  # a code collision is rare (31^8); try another
        code = "".join(secrets.choice(cardprotocol.CODE_ALPHABET) for _ in range(8))
        try:
            with transaction.atomic():
                challenge = CardChallenge.objects.create(
                    public_id="card_" + secrets.token_urlsafe(16),
                    code=code,
                    challenge=secrets.token_bytes(32),
                    session_hash=session_hash(session_key),
                    host=host[:200],
                    purpose=purpose,
                    subject=subject,
                    created_at=now,
                    expires_at=now + policies.CARD_CHALLENGE_TTL,
                )
            break
        except IntegrityError:
            continue
    else:  # pragma: no cover - five collisions in a row
        raise DomainError("try_again", _("Please try again."))
    url = cardprotocol.present_url(server=settings.SITE_URL, code=code)
    return ChallengeStarted(
        challenge.public_id, cardprotocol.format_code(code), url, challenge.expires_at
    )


def _pending(rows, **lookup) -> CardChallenge:
    challenge = rows.filter(**lookup).first()
    if (
        challenge is None
        or challenge.status != CardChallenge.PENDING
        or clock.now() >= challenge.expires_at
    ):
        raise _invalid()
    return challenge


def challenge_info(*, code: str) -> dict:
    """What the card client shows before it asks the PIN."""
    code = cardprotocol.normalise_code(code)
    challenge = _pending(CardChallenge.objects, code=code[:8]) if code else None
    if challenge is None:
        raise _invalid()
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


def answer_with_tls_certificate(*, challenge_id: str, certificate) -> dict:
    """A client certificate the reverse proxy received in the TLS handshake (which proved the
    key); the portal verifies its chain all the same."""
    return _present(challenge_id, certificates=[certificate], means="tls")


def _messages(message) -> dict:
    out = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            out[language] = str(message)
    return out


def _present(
    challenge_id: str,
    *,
    certificates: list,
    means: str,
    signature: bytes = b"",
    algorithm: str = "",
) -> dict:
    refusal: DomainError | None = None
    _pending(CardChallenge.objects, public_id=challenge_id)  # fail fast, before the CPU work
    try:
        identity, leaf = verification.verify_certificates(certificates)
    except DomainError as error:
        if error.code in verification.UNREADABLE:
            raise  # bad input: the challenge stays open for a proper answer
        identity, leaf, refusal = None, None, error
    with transaction.atomic():
        challenge = _pending(CardChallenge.objects.select_for_update(), public_id=challenge_id)
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
        if refusal is not None:
            challenge.status = CardChallenge.REFUSED
            challenge.result = {"error": refusal.code, "message": _messages(refusal.message)}
            audit.record(
                "card.refused",
                actor=challenge,
                target=challenge,
                outcome=audit.DENIED,
                details={**facts, "error": refusal.code},
            )
        else:
            challenge.status = CardChallenge.ACCEPTED
            challenge.result = {**details, "identity": facts}
            audit.record("card.accepted", actor=challenge, target=challenge, details=facts)
        challenge.save(update_fields=["status", "result"])
        flag_ttl = int(policies.CARD_CHALLENGE_TTL.total_seconds()) + 60
        done = challenge.public_id
        transaction.on_commit(lambda: cache.set(_flag(done), "answered", flag_ttl))
    if refusal is not None:
        raise refusal
    return {"status": "accepted", "message": str(_("Card accepted. Continue in your browser."))}


def _flag(challenge_id: str) -> str:
    return f"card-answered:{challenge_id}"


def maybe_answered(challenge_id: str) -> bool:
    """The waiting page's cheap poll: one cache read."""
    return cache.get(_flag(challenge_id)) is not None


@dataclass(frozen=True)
class Collected:
    status: str  # "waiting" | "accepted" | "refused"
    result: dict
    purpose: str = ""
    subject: str = ""


def collect(*, session_key: str, challenge_id: str) -> Collected:
    """The browser that asked: the outcome, once (an accepted challenge is then consumed)."""
    with transaction.atomic():
        challenge = (
            CardChallenge.objects.select_for_update()
            .filter(public_id=challenge_id[:40], session_hash=session_hash(session_key))
            .first()
        )
        if challenge is None or challenge.status == CardChallenge.CONSUMED:
            raise _invalid()
        if challenge.status == CardChallenge.PENDING:
            if clock.now() >= challenge.expires_at:
                raise NotFound("challenge_expired", _("The code has expired. Reload the page."))
            return Collected("waiting", {})
        if challenge.status == CardChallenge.ACCEPTED:
            challenge.status = CardChallenge.CONSUMED
            challenge.save(update_fields=["status"])
            return Collected("accepted", challenge.result, challenge.purpose, challenge.subject)
        return Collected("refused", challenge.result, challenge.purpose, challenge.subject)


def refusal_message(result: dict) -> str:
    messages = result.get("message") or {}
    return messages.get(translation.get_language() or "nl") or messages.get("nl", "")
