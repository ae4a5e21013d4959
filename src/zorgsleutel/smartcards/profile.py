"""The certificate a Zorgsleutel smartcard holds (docs/smartcards.md, "Certificate profile").

`issue` signs a card's public key, taken from a CSR whose signature the card's key made, for one
holder in one organisation: the person by name and public id (and UZI number when they proved
one), the organisation by URA (care providers) or KvK number; digitalSignature and clientAuth
only; our policy (policies.SMARTCARD_POLICY_OID); OCSP, caIssuers and CRL addresses; a random
serial; policies.SMARTCARD_VALIDITY.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

from zorgsleutel import policies
from zorgsleutel.smartcards.ca import ISSUING, SmartcardCa
from zorgsleutel.uzi.certificates import key_usage


class ProfileError(Exception):
    """A request the profile refuses: not signed by its key, or not a P-256 key."""


@dataclass(frozen=True)
class Holder:
    name: str
    public_id: str  # the person's pseudonymous id (User.public_id)
    organisation: str
    ura: str = ""  # a care provider's; else the business customer's KvK number
    kvk: str = ""
    uzi_number: str = ""  # when the holder proved one with their UZI card


def organisation_identifier(holder: Holder) -> str:
    """ETSI EN 319 412-1 style: the register, then the number."""
    return f"URA-{holder.ura}" if holder.ura else f"NTRNL-{holder.kvk}"


def subject(holder: Holder) -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, holder.organisation),
        x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, organisation_identifier(holder)),
        x509.NameAttribute(NameOID.COMMON_NAME, holder.name),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, holder.public_id),
    ]
    if holder.uzi_number:
        attributes.append(x509.NameAttribute(NameOID.USER_ID, f"UZI-{holder.uzi_number}"))
    return x509.Name(attributes)


def issue(
    ca: SmartcardCa, csr: x509.CertificateSigningRequest, holder: Holder, *, now=None
) -> x509.Certificate:
    if not csr.is_signature_valid:
        raise ProfileError("the request is not signed by its key")
    key = csr.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise ProfileError("a card key is ECDSA P-256")
    issuer = ca.certificates[ISSUING]
    start = (now or datetime.now(UTC)).replace(microsecond=0) - timedelta(minutes=5)
    return (
        x509.CertificateBuilder()
        .subject_name(subject(holder))
        .issuer_name(issuer.subject)
        .public_key(key)
        .serial_number(x509.random_serial_number())  # 159 random bits
        .not_valid_before(start)
        .not_valid_after(start + policies.SMARTCARD_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage("digital_signature"), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(x509.ObjectIdentifier(policies.SMARTCARD_POLICY_OID), None)]
            ),
            critical=False,
        )
        .add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(ca.urls.ocsp),
                    ),
                    x509.AccessDescription(
                        AuthorityInformationAccessOID.CA_ISSUERS,
                        x509.UniformResourceIdentifier(ca.urls.ca_issuers),
                    ),
                ]
            ),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [
                    x509.DistributionPoint(
                        full_name=[x509.UniformResourceIdentifier(ca.urls.crl)],
                        relative_name=None,
                        reasons=None,
                        crl_issuer=None,
                    )
                ]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),
            critical=False,
        )
        .sign(ca.key(ISSUING), hashes.SHA256())
    )
