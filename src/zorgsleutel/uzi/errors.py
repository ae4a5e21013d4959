"""One error for everything the UZI checks refuse: a stable `code` and a message for the person."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Stable codes: the portal's API returns them and its audit log records them.
MALFORMED = "malformed"
NOT_UZI = "not_uzi"
BAD_UZI_FIELD = "bad_uzi_field"
EXPIRED = "expired"
NOT_YET_VALID = "not_yet_valid"
UNTRUSTED = "untrusted"
KEY_USAGE = "key_usage"
POLICY = "policy"
REVOKED = "revoked"
REVOCATION_UNKNOWN = "revocation_unknown"
SIGNATURE = "signature"

MESSAGES: dict[str, str | Promise] = {
    MALFORMED: _("This is not a readable certificate."),
    NOT_UZI: _("This is not a UZI certificate."),
    BAD_UZI_FIELD: _("The UZI fields in this certificate are not valid."),
    EXPIRED: _("This certificate has expired."),
    NOT_YET_VALID: _("This certificate is not valid yet."),
    UNTRUSTED: _("This certificate was not issued by a trusted UZI-register CA."),
    KEY_USAGE: _("This is not the card's authentication certificate."),
    POLICY: _("This certificate's policy is not accepted here."),
    REVOKED: _("This certificate has been revoked."),
    REVOCATION_UNKNOWN: _("The revocation status of this certificate could not be checked."),
    SIGNATURE: _("A signature in this certificate chain is not valid."),
}


class UziError(Exception):
    """A refused certificate: `code` (stable), `message` (lazy, translated), `detail` (English).

    `detail` says exactly what was wrong, for logs and the `uzi inspect` command; it may name
    certificate fields, so the portal shows the person `message`, never `detail`.
    """

    def __init__(self, code: str, message: str | Promise | None = None, *, detail: str = ""):
        super().__init__(code, detail)
        self.code = code
        self.message = message if message is not None else MESSAGES[code]
        self.detail = detail

    def __str__(self) -> str:
        text = str(self.message)
        return f"{text} ({self.detail})" if self.detail else text

    def as_dict(self) -> dict:
        return {"error": self.code, "message": str(self.message)}
