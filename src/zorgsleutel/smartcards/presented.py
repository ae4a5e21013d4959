"""A presented Zorgsleutel smartcard: its certificate checked against the portal's own CA, and
the card's state in the portal, which is the CA's status (the CRL and OCSP publish the same).

The chain is the portal's own: root.pem and issuing.pem in settings.SMARTCARD_CA_DIR (checking a
card needs no token). Every answer comes from the card's row as it stands now: a blocked card is
refused at once, whatever an OCSP cache elsewhere still says.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from zorgsleutel.core.errors import DomainError
from zorgsleutel.smartcards.models import Smartcard
from zorgsleutel.smartcards.runtime import unavailable

REFUSALS = {
    "smartcard_unknown": _("This smartcard is not (or no longer) known. Make a new one."),
    "smartcard_blocked": _(
        "This smartcard is blocked. Your administrator or manager can unblock it."
    ),
    "smartcard_revoked": _("This smartcard has been revoked. Make a new one."),
    "smartcard_expired": _("This smartcard's certificate has expired. Make a new one."),
}


def refusal(code: str) -> DomainError:
    return DomainError(code, REFUSALS[code])


@dataclass(frozen=True)
class PresentedSmartcard:
    card: Smartcard
    certificate: x509.Certificate

    def audit_summary(self) -> dict:
        """What the audit log keeps of it (the fields of a presented UZI card)."""
        return {
            "uzi_number": self.card.uzi_number,
            "ura": self.card.organisation.ura,
            "pas_type": "",
            "role": "",
            "certificate": self.card.fingerprint,
        }


_cache: dict[str, tuple[float, x509.Certificate]] = {}
_cache_lock = threading.Lock()


def issuing_certificate() -> x509.Certificate:
    """The issuing CA's certificate, read again when its file changes."""
    path = settings.SMARTCARD_CA_DIR / "issuing.pem"
    try:
        changed = path.stat().st_mtime
    except OSError:
        raise unavailable() from None
    with _cache_lock:
        held = _cache.get(str(path))
        if held is None or held[0] != changed:
            held = (changed, x509.load_pem_x509_certificate(path.read_bytes()))
            _cache[str(path)] = held
        return held[1]


def _leaf(certificates: list) -> x509.Certificate:
    first = certificates[0] if certificates else None
    if isinstance(first, x509.Certificate):
        return first
    try:
        return x509.load_pem_x509_certificate(str(first).encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise DomainError("malformed", _("Send the card's certificates.")) from None


def issued_by_us(certificates: list) -> bool:
    """Whether the card's certificate names our issuing CA as its issuer (not yet: trusted)."""
    try:
        return _leaf(certificates).issuer == issuing_certificate().subject
    except DomainError:
        return False


def serial_hex(certificate: x509.Certificate) -> str:
    return format(certificate.serial_number, "x")


def verify(certificates: list, *, at: datetime) -> PresentedSmartcard:
    """The card whose certificate this is, if our CA issued it, it is valid at `at`, and the
    card works now; else DomainError (REFUSALS, or "untrusted" for a forged issuer name)."""
    leaf = _leaf(certificates)
    try:
        leaf.verify_directly_issued_by(issuing_certificate())
    except (ValueError, TypeError, InvalidSignature):
        raise DomainError(
            "untrusted", _("This card's certificate was not issued by a trusted authority.")
        ) from None
    if not leaf.not_valid_before_utc <= at <= leaf.not_valid_after_utc:
        raise refusal("smartcard_expired")
    card = (
        Smartcard.objects.select_related("organisation")  # its person: smartcards/login.py
        .filter(serial=serial_hex(leaf))
        .first()
    )
    if card is None or card.fingerprint != leaf.fingerprint(hashes.SHA256()).hex():
        raise refusal("smartcard_unknown")
    if card.state == Smartcard.BLOCKED:
        raise refusal("smartcard_blocked")
    if card.state == Smartcard.REVOKED:
        raise refusal("smartcard_revoked")
    return PresentedSmartcard(card, leaf)
