"""The one verification core both ways of presenting a card share (zorgsleutel.uzi does the
certificate work; this turns its verdicts into the portal's errors)."""

from __future__ import annotations

import logging

from django.utils.translation import gettext_lazy as _

from zorgsleutel import cardprotocol, uzi
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError, ServiceUnavailable

logger = logging.getLogger(__name__)

# No verdict on the card: input that is not a (UZI) certificate at all (a 400), or the portal
# cannot check cards right now (a 503). The challenge stays open for a proper answer.
UNREADABLE = frozenset({"malformed", "not_uzi", "bad_uzi_field", "uzi_unavailable"})


def verify_certificates(certificates: list):
    """(identity, leaf certificate) of a chain that holds now, or DomainError with the reason."""
    if not certificates or len(certificates) > 10:
        raise DomainError("malformed", _("Send the card's certificates."))
    try:
        validator = uzi.from_settings()
    except (OSError, ValueError):  # an unreadable trust dir: the operator must fix it
        logger.exception("the UZI trust dir cannot be read")
        raise ServiceUnavailable(
            "uzi_unavailable", _("UZI cards cannot be checked right now. Please try again later.")
        ) from None
    try:
        return validator.verify(certificates, at=clock.now())
    except uzi.UziError as error:
        raise DomainError(error.code, error.message) from None


def require_signature(leaf, message: bytes, signature: bytes, algorithm: str) -> None:
    if algorithm not in cardprotocol.SIGNATURE_ALGORITHMS or not uzi.verify_signature(
        leaf, message, signature, algorithm
    ):
        raise DomainError(
            "bad_signature",
            _("The card's signature does not belong to this challenge. Start again."),
        )


def summary(identity) -> dict:
    """What the audit log keeps of a presented card (a card of another kind says it itself)."""
    if hasattr(identity, "audit_summary"):
        return identity.audit_summary()
    return {
        "uzi_number": identity.uzi_number,
        "ura": identity.ura,
        "pas_type": identity.pas_type,
        "role": identity.role,
        "certificate": identity.fingerprint_sha256,
    }
