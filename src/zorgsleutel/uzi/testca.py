"""A development CA hierarchy shaped like the UZI-register's TEST chain, and cards it issues.

Root → level-2 "persoon" CA → zorgverlener CA → card certificates, like TEST Zorg CSP Root CA G3.
The names say Zorgsleutel development and never CIBG; the card certificates carry the real
TEST authentication policy and CA OID, so they pass the same checks as TEST cards — and only
where this hierarchy's root is in the trust dir. CA keys are software keys (development only),
kept apart from the trust dir. Tests use these functions without a token.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import core
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

from zorgsleutel.uzi import professions
from zorgsleutel.uzi.certificates import key_usage, pem
from zorgsleutel.uzi.chain import TEST_AUTHENTICATION_POLICY
from zorgsleutel.uzi.identity import UZI_NAME_OID

ORGANISATION = "Zorgsleutel development (not CIBG)"
PREFIX = "Zorgsleutel DEV"
# The CA OID in the 2.5.5.5 field of TEST zorgverlener cards (TEST UZI-register Zorgverlener CA).
TEST_ZORGVERLENER_CA_OID = "2.16.528.1.1007.99.217"
TEST_POLICIES = {
    "authentication": TEST_AUTHENTICATION_POLICY,
    "signing": "2.16.528.1.1007.99.212",
    "encryption": "2.16.528.1.1007.99.213",
}
UPN_OID = ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")
DOCUMENT_SIGNING_OID = ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")
USAGES = {
    "authentication": ("digital_signature",),
    "signing": ("content_commitment",),
    "encryption": ("key_encipherment", "data_encipherment"),
}


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: rsa.RSAPrivateKey

    @property
    def name(self) -> str:
        return self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


@dataclass(frozen=True)
class TestHierarchy:
    root: CertificateAuthority
    persoon: CertificateAuthority
    zorgverlener: CertificateAuthority

    FILES = ("root", "persoon", "zorgverlener")
    __test__ = False  # not a pytest test class

    @property
    def ca_certificates(self) -> list[x509.Certificate]:
        """Issuing CA first, root last: the order a card holds them in."""
        return [self.zorgverlener.certificate, self.persoon.certificate, self.root.certificate]

    @classmethod
    def generate(
        cls, *, prefix: str = PREFIX, crl_base_url: str | None = None, key_size: int = 2048
    ) -> TestHierarchy:
        """A fresh hierarchy; `crl_base_url` adds CRL distribution points (revocation tests)."""
        start = datetime.now(UTC) - timedelta(days=1)
        crl = (lambda name: f"{crl_base_url}/{name}.crl") if crl_base_url else (lambda _: None)
        root = issue_ca(
            f"{prefix} Zorg CSP Root CA", not_before=start, days=20 * 365, key_size=key_size
        )
        persoon = issue_ca(
            f"{prefix} Zorg CSP Level 2 Persoon CA",
            issuer=root,
            not_before=start,
            days=15 * 365,
            crl_url=crl("root"),
            key_size=key_size,
        )
        zorgverlener = issue_ca(
            f"{prefix} UZI-register Zorgverlener CA",
            issuer=persoon,
            not_before=start,
            days=10 * 365,
            path_length=0,
            crl_url=crl("persoon"),
            key_size=key_size,
        )
        return cls(root, persoon, zorgverlener)

    @classmethod
    def load_or_create(cls, directory: Path) -> tuple[TestHierarchy, bool]:
        """The hierarchy kept in `directory` (keys mode 0600), made there if absent; (it, made)."""
        paths = {name: (directory / f"{name}.pem", directory / f"{name}.key") for name in cls.FILES}
        if all(cert.exists() and key.exists() for cert, key in paths.values()):
            loaded = {
                name: CertificateAuthority(
                    x509.load_pem_x509_certificate(cert.read_bytes()),
                    serialization.load_pem_private_key(key.read_bytes(), password=None),
                )
                for name, (cert, key) in paths.items()
            }
            return cls(**loaded), False
        hierarchy = cls.generate()
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        for name, (cert_path, key_path) in paths.items():
            ca = getattr(hierarchy, name)
            cert_path.write_text(pem(ca.certificate))
            _write_private(
                key_path,
                ca.key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                ),
            )
        return hierarchy, True

    def write_trust(self, trust_dir: Path) -> list[Path]:
        """Write the CA certificates (never keys) into a trust dir; the same names every time."""
        trust_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for name, certificate in zip(self.FILES, reversed(self.ca_certificates), strict=True):
            path = trust_dir / f"zorgsleutel-dev-{name}.pem"
            path.write_text(pem(certificate))
            written.append(path)
        return written


def issue_card_certificate(
    public_key,
    *,
    ca: CertificateAuthority,
    ura: str,
    uzi_number: str,
    pas_type: str = "Z",
    role: str | None = None,
    name: str = "Jan Test",
    organisation: str = "Zorgsleutel Testzorg",
    title: str | None = None,
    agb: str = "00000000",
    usage: str = "authentication",
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    valid_days: int = 365,
    ca_oid: str = TEST_ZORGVERLENER_CA_OID,
    policy_oid: str | None = None,
    subject_serial: str | None = None,
    uzi_field: str | None = None,
    uzi_field_type: type[core.AbstractString] = core.IA5String,
    crl_url: str | None = None,
    ocsp_url: str | None = None,
) -> x509.Certificate:
    """A card certificate shaped like the TEST card's (subject, SAN, key usage, policy).

    `usage` is authentication (digitalSignature), signing (nonRepudiation) or encryption.
    `subject_serial` and `uzi_field` override what is derived, and `uzi_field_type` the otherName's
    string type (the CPS: IA5String), to make malformed certificates.
    """
    role = role or ("01.000" if pas_type == "Z" else professions.NO_ROLE)
    if title is None:
        title = professions.profession(role) or ""
    not_before = not_before or datetime.now(UTC) - timedelta(minutes=5)
    not_after = not_after or not_before + timedelta(days=valid_days)
    field = uzi_field or f"{ca_oid}-1-{uzi_number}-{pas_type}-{ura}-{role}-{agb}"
    subject = _card_subject(name, pas_type, organisation, title, subject_serial or uzi_number)
    names: list[x509.GeneralName] = [
        x509.OtherName(ObjectIdentifier(UZI_NAME_OID), uzi_field_type(field).dump())
    ]
    if usage == "authentication":
        upn = core.UTF8String(f"{uzi_number}@{ura}").dump()
        names.insert(0, x509.OtherName(UPN_OID, upn))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(key_usage(*USAGES[usage]), critical=True)
        .add_extension(x509.ExtendedKeyUsage(_extended_usage(usage)), critical=False)
        .add_extension(
            x509.CertificatePolicies(
                [x509.PolicyInformation(ObjectIdentifier(policy_oid or TEST_POLICIES[usage]), None)]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if crl_url:
        builder = builder.add_extension(_crl_points(crl_url), critical=False)
    if ocsp_url:
        builder = builder.add_extension(
            x509.AuthorityInformationAccess(
                [
                    x509.AccessDescription(
                        x509.oid.AuthorityInformationAccessOID.OCSP,
                        x509.UniformResourceIdentifier(ocsp_url),
                    )
                ]
            ),
            critical=False,
        )
    return builder.sign(ca.key, hashes.SHA256())


# --- Building blocks ------------------------------------------------------------------------------


def issue_ca(
    common_name: str,
    *,
    issuer: CertificateAuthority | None = None,
    not_before: datetime | None = None,
    days: int = 365,
    path_length: int | None = None,
    crl_url: str | None = None,
    key_size: int = 2048,
) -> CertificateAuthority:
    """A CA with a new key: a root when `issuer` is None, else issued by `issuer`."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=key_size)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANISATION),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    signer = issuer.key if issuer else key
    not_before = not_before or datetime.now(UTC) - timedelta(minutes=5)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage("key_cert_sign", "crl_sign"), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )
    if issuer:
        policies = [
            x509.PolicyInformation(ObjectIdentifier(o), None) for o in TEST_POLICIES.values()
        ]
        builder = builder.add_extension(x509.CertificatePolicies(policies), critical=False)
    if crl_url:
        builder = builder.add_extension(_crl_points(crl_url), critical=False)
    return CertificateAuthority(builder.sign(signer, hashes.SHA256()), key)


def _card_subject(
    name: str, pas_type: str, organisation: str, title: str, serial: str
) -> x509.Name:
    given, _, surname = name.strip().partition(" ")
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ]
    if title:
        attributes.append(x509.NameAttribute(NameOID.TITLE, title))
    if pas_type in ("Z", "N") and surname:  # passes on a person's name
        attributes += [
            x509.NameAttribute(NameOID.SURNAME, surname),
            x509.NameAttribute(NameOID.GIVEN_NAME, given),
        ]
    attributes += [
        x509.NameAttribute(NameOID.SERIAL_NUMBER, serial),
        x509.NameAttribute(NameOID.COMMON_NAME, name.strip()),
    ]
    return x509.Name(attributes)


def _extended_usage(usage: str) -> list[ObjectIdentifier]:
    return {
        "authentication": [
            ExtendedKeyUsageOID.CLIENT_AUTH,
            ExtendedKeyUsageOID.EMAIL_PROTECTION,
            DOCUMENT_SIGNING_OID,
        ],
        "signing": [ExtendedKeyUsageOID.EMAIL_PROTECTION, DOCUMENT_SIGNING_OID],
        "encryption": [ExtendedKeyUsageOID.EMAIL_PROTECTION],
    }[usage]


def _crl_points(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o600)
