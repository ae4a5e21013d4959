"""Who a UZI certificate names: the subjectAltName otherName 2.5.5.5 and the subject (CPS §7.1).

The otherName's value is an IA5String
`<OID CA>-<versie>-<UZI-nr>-<pastype>-<abonneenummer>-<rol>-<AGB-code>`, e.g.
`2.16.528.1.1007.99.217-1-900016528-Z-90000382-01.000-00000000`. The abonneenummer of a care
provider is its URA. The subject repeats the UZI number in serialNumber; a certificate where the
two differ is refused as malformed. What the CPS rules out is refused with `bad_uzi_field`: another
string type than IA5String, a layout version other than 1, a UZI number that is not 9 digits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import core
from asn1crypto import x509 as asn1_x509
from cryptography import x509

from zorgsleutel.uzi import professions
from zorgsleutel.uzi.certificates import der, fingerprint, load_certificate
from zorgsleutel.uzi.errors import BAD_UZI_FIELD, MALFORMED, NOT_UZI, UziError

UZI_NAME_OID = "2.5.5.5"

PAS_TYPES = {
    "Z": "Zorgverlenerpas",
    "N": "Medewerkerpas op naam",
    "M": "Medewerkerpas niet op naam",
    "S": "Servercertificaat",
}
NO_AGB = "00000000"

# The seven dash-separated fields, in order, with the pattern each must match. The CPS defines
# layout version 1 only: a later version may order or mean the fields differently, so it is
# refused rather than read as if it were 1. UZI numbers are 9 digits.
FIELDS = (
    ("ca_oid", re.compile(r"[0-2](\.(0|[1-9][0-9]*))+")),
    ("version", re.compile(r"1")),
    ("uzi_number", re.compile(r"[0-9]{9}")),
    ("pas_type", re.compile(r"[ZNMS]")),
    ("ura", re.compile(r"[0-9]{8}")),
    ("role", re.compile(r"[0-9]{2}\.[0-9]{3}")),
    ("agb", re.compile(r"[0-9]{8}")),
)


@dataclass(frozen=True)
class UziIdentity:
    """The UZI-register fields of one certificate. Parsing checks form, not trust (see chain)."""

    uzi_number: str
    ura: str
    pas_type: str
    role: str
    profession: str | None
    agb: str | None
    ca_oid: str
    version: str
    given_name: str
    surname: str
    common_name: str
    organisation_name: str
    title: str
    not_before: datetime
    not_after: datetime
    fingerprint_sha256: str

    @property
    def full_name(self) -> str:
        joined = " ".join(part for part in (self.given_name, self.surname) if part)
        return joined or self.common_name

    @property
    def pas_type_name(self) -> str:
        return PAS_TYPES[self.pas_type]

    def as_dict(self) -> dict:
        """JSON-ready: datetimes as ISO 8601 strings."""
        return {
            "uzi_number": self.uzi_number,
            "ura": self.ura,
            "pas_type": self.pas_type,
            "pas_type_name": self.pas_type_name,
            "role": self.role,
            "profession": self.profession,
            "agb": self.agb,
            "ca_oid": self.ca_oid,
            "version": self.version,
            "full_name": self.full_name,
            "given_name": self.given_name,
            "surname": self.surname,
            "common_name": self.common_name,
            "organisation_name": self.organisation_name,
            "title": self.title,
            "not_before": self.not_before.isoformat(),
            "not_after": self.not_after.isoformat(),
            "fingerprint_sha256": self.fingerprint_sha256,
        }


def parse_identity(certificate: x509.Certificate | bytes | str) -> UziIdentity:
    """The UZI identity in a certificate (PEM/DER or loaded); UziError when it holds none."""
    certificate = load_certificate(certificate)
    try:
        parsed = asn1_x509.Certificate.load(der(certificate))
        san = parsed.subject_alt_name_value
        subject = _subject(parsed)
    except (ValueError, TypeError) as exc:
        raise UziError(MALFORMED, detail=f"cannot decode the certificate: {exc}") from None
    fields = _uzi_fields(_uzi_name(san))
    serial = subject.get("serial_number", "")
    if serial != fields["uzi_number"]:
        raise UziError(
            MALFORMED,
            detail=f"subject serialNumber {serial!r} differs from UZI number "
            f"{fields['uzi_number']!r}",
        )
    return UziIdentity(
        uzi_number=fields["uzi_number"],
        ura=fields["ura"],
        pas_type=fields["pas_type"],
        role=fields["role"],
        profession=professions.profession(fields["role"]),
        agb=None if fields["agb"] == NO_AGB else fields["agb"],
        ca_oid=fields["ca_oid"],
        version=fields["version"],
        given_name=subject.get("given_name", ""),
        surname=subject.get("surname", ""),
        common_name=subject.get("common_name", ""),
        organisation_name=subject.get("organization_name", ""),
        title=subject.get("title", ""),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        fingerprint_sha256=fingerprint(certificate),
    )


def _subject(parsed: asn1_x509.Certificate) -> dict[str, str]:
    """Subject attributes by asn1crypto name; the first value of each (UZI subjects have one)."""
    values: dict[str, str] = {}
    for rdn in parsed.subject.chosen:
        for attribute in rdn:
            value = attribute["value"].native
            if isinstance(value, str):
                values.setdefault(attribute["type"].native, value.strip())
    return values


def _uzi_name(san: asn1_x509.GeneralNames | None) -> str:
    """The IA5String value of the one otherName of type 2.5.5.5 (the CPS names no other type)."""
    found = [
        name.chosen["value"]
        for name in (san or [])
        if name.name == "other_name" and name.chosen["type_id"].dotted == UZI_NAME_OID
    ]
    if not found:
        raise UziError(NOT_UZI, detail="no subjectAltName otherName 2.5.5.5")
    if len(found) > 1:
        raise UziError(BAD_UZI_FIELD, detail="more than one otherName 2.5.5.5")
    try:
        value = found[0].parsed
    except (ValueError, TypeError):
        raise UziError(BAD_UZI_FIELD, detail="otherName 2.5.5.5 cannot be decoded") from None
    if not isinstance(value, core.IA5String):
        kind = type(value).__name__
        raise UziError(BAD_UZI_FIELD, detail=f"otherName 2.5.5.5 is a {kind}, not an IA5String")
    try:
        return value.native
    except ValueError:  # bytes outside ASCII: not an IA5String after all
        raise UziError(BAD_UZI_FIELD, detail="otherName 2.5.5.5 is not ASCII") from None


def _uzi_fields(value: str) -> dict[str, str]:
    parts = value.split("-")
    if len(parts) != len(FIELDS):
        raise UziError(
            BAD_UZI_FIELD, detail=f"{value!r} has {len(parts)} fields, expected {len(FIELDS)}"
        )
    fields = {}
    for (name, pattern), part in zip(FIELDS, parts, strict=True):
        if not pattern.fullmatch(part):
            raise UziError(BAD_UZI_FIELD, detail=f"field {name} {part!r} in {value!r}")
        fields[name] = part
    # CPS: a zorgverlenerpas names a profession; employee passes and servers carry 00.000.
    if fields["pas_type"] == "Z" and fields["role"].startswith("00"):
        raise UziError(BAD_UZI_FIELD, detail=f"zorgverlenerpas without a role: {value!r}")
    if fields["pas_type"] != "Z" and fields["role"] != professions.NO_ROLE:
        raise UziError(
            BAD_UZI_FIELD, detail=f"pas type {fields['pas_type']} with role {fields['role']}"
        )
    return fields
