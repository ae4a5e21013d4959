"""One rule for an e-mail address, whichever way it comes in (pages, API, imports, commands).

Django's `validate_email` checks the shape (a dot-atom local part, a domain with a top-level
label); on top of it the lengths SMTP can carry (RFC 5321: 64 for the local part, 254 for the
whole path, 63 a domain label): "0@0" or an address with a 250-character domain is refused
before anything is stored or mailed. Domains are held to policies.EMAIL_DOMAIN_MAX_LENGTH: DNS
allows 253 characters, but no business domain comes near that, and a longer one is abuse.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from zorgsleutel import policies
from zorgsleutel.core.errors import DomainError

MAX_LENGTH = 254
LOCAL_MAX_LENGTH = 64
LABEL_MAX_LENGTH = 63
INVALID = _("Enter a valid e-mail address, such as name@organisation.nl.")


def is_valid(value: str) -> bool:
    if not value or len(value) > MAX_LENGTH:
        return False
    local, _at, domain = value.rpartition("@")
    if len(local) > LOCAL_MAX_LENGTH or "." not in domain:
        return False
    if len(domain) > policies.EMAIL_DOMAIN_MAX_LENGTH:
        return False
    if any(not label or len(label) > LABEL_MAX_LENGTH for label in domain.split(".")):
        return False
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def normalise(value: str, *, field: str = "email") -> str:
    """The address lower-cased and stripped, or `invalid_email`."""
    email = (value or "").strip().lower()
    if not is_valid(email):
        raise DomainError("invalid_email", INVALID, field=field)
    return email


def _validate(value: str) -> None:
    if not is_valid((value or "").strip().lower()):
        raise ValidationError(INVALID, code="invalid")


class EmailField(forms.EmailField):
    """The form field with the same rule as the API and the imports."""

    default_validators = [_validate]

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_LENGTH)
        super().__init__(**kwargs)
