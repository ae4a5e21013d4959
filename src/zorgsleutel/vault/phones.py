"""Phone number validation (mobile numbers of allowed countries) and masked hints."""

from __future__ import annotations

from dataclasses import dataclass

import phonenumbers
from django.conf import settings
from phonenumbers import PhoneNumberType

from zorgsleutel.vault.errors import VaultError

_MOBILE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


@dataclass(frozen=True)
class PhoneNumber:
    e164: str
    region: str
    hint: str


def parse_mobile(raw: str) -> PhoneNumber:
    """Parse what a person typed ("06 1234 5678", "+31612345678") into an allowed mobile number."""
    default_region = (
        settings.VAULT_ALLOWED_COUNTRIES[0] if settings.VAULT_ALLOWED_COUNTRIES else None
    )
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise VaultError("invalid_phone", "This is not a phone number.", field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise VaultError("invalid_phone", "This is not a valid phone number.", field="phone")
    region = phonenumbers.region_code_for_number(number) or ""
    if region not in settings.VAULT_ALLOWED_COUNTRIES:
        raise VaultError(
            "phone_country_not_allowed",
            "Numbers from this country are not accepted.",
            field="phone",
        )
    if phonenumbers.number_type(number) not in _MOBILE:
        raise VaultError("phone_not_mobile", "This is not a mobile number.", field="phone")
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return PhoneNumber(e164=e164, region=region, hint=mask(e164, region))


def mask(e164: str, region: str) -> str:
    """'06 •• •• •• 78' for Dutch mobiles; '+32 •• •• •• 78' elsewhere. Only two digits show."""
    number = phonenumbers.parse(e164)
    last_two = e164[-2:]
    if region == "NL":
        return f"06 •• •• •• {last_two}"
    return f"+{number.country_code} •• •• •• {last_two}"
