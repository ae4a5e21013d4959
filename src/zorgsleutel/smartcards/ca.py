"""The Zorgsleutel smartcard CA: a root and an issuing CA, their keys in a PKCS#11 token
(SoftHSM2 in development, tests and the demo; an HSM in production: the same code, another module
path), and the delegated OCSP responders the issuing CA certifies (smartcards/responder.py).
docs/smartcards.md has the certificate profile.

`init_development` makes the two keys on the token (P-256, CKA_SENSITIVE, never extractable),
signs the two certificates through the token and writes them as PEM beside it. `open_ca` opens
the token by label with its PIN and loads the certificates from that directory, whether
`init_development` made them or production put existing ones there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from zorgsleutel.smartcards.tokenkey import TokenKey
from zorgsleutel.uzi.certificates import key_usage, pem

ROOT, ISSUING, OCSP = "root", "issuing", "ocsp"
CHAIN = (ROOT, ISSUING)
NAMES = {
    ROOT: "Zorgsleutel Smartcard Root CA",
    ISSUING: "Zorgsleutel Smartcard CA",
    OCSP: "Zorgsleutel Smartcard OCSP",
}
# Development lifetimes of the CA's own certificates; a card's is policies.SMARTCARD_VALIDITY,
# a responder's policies.SMARTCARD_RESPONDER_VALIDITY.
CA_VALIDITY = {ROOT: timedelta(days=20 * 365), ISSUING: timedelta(days=10 * 365)}


class CaError(Exception):
    """Something an operator can fix: a missing token, a wrong PIN, a missing certificate."""


@dataclass(frozen=True)
class Urls:
    """Where relying parties find the CA's status and certificates (AIA and CDP)."""

    base: str  # the portal's public address, e.g. https://zorgsleutel.nl

    @property
    def ocsp(self) -> str:
        return f"{self.base}/smartcards/ocsp"

    @property
    def crl(self) -> str:
        return f"{self.base}/smartcards/ca.crl"

    @property
    def ca_issuers(self) -> str:
        return f"{self.base}/smartcards/ca.cer"


@dataclass
class SmartcardCa:
    """An open CA: certificates loaded, keys usable through the token's session."""

    session: object  # a pkcs11 Session, logged in
    certificates: dict[str, x509.Certificate]
    urls: Urls
    # Each key's handle, found once per session: finding an object on the token costs as much
    # as a signature (docs/benchmarks.md, OCSP). A new session (runtime) is a new SmartcardCa.
    _keys: dict[str, TokenKey] = field(default_factory=dict, repr=False)
    # The OCSP responder this process certified with this CA (smartcards/responder.py): it goes
    # with the session, so a CA opened anew (other settings, a dropped session) certifies anew.
    responder: object | None = field(default=None, repr=False)

    def key(self, name: str) -> TokenKey:
        if name not in self._keys:
            self._keys[name] = TokenKey(
                _private(self.session, name), self.certificates[name].public_key()
            )
        return self._keys[name]

    def close(self) -> None:
        self.session.close()


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NL"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Zorgsleutel"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _generate(session, label: str):
    """A P-256 key pair made on the token under `label`: its public key."""
    from pkcs11 import Attribute, KeyType
    from pkcs11.util.ec import encode_ec_public_key, encode_named_curve_parameters

    parameters = session.create_domain_parameters(
        KeyType.EC, {Attribute.EC_PARAMS: encode_named_curve_parameters("secp256r1")}, local=True
    )
    public, _ = parameters.generate_keypair(
        id=label.encode(),
        label=label,
        store=True,
        private_template={
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.SIGN: True,
            Attribute.PRIVATE: True,
        },
    )
    return serialization.load_der_public_key(encode_ec_public_key(public))


def _ca_certificate(
    name: str, public_key, *, issuer: x509.Certificate | None, signer: TokenKey, now: datetime
) -> x509.Certificate:
    subject = _name(NAMES[name])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + CA_VALIDITY[name])
        .add_extension(
            x509.BasicConstraints(ca=True, path_length=0 if issuer else 1), critical=True
        )
        .add_extension(key_usage("key_cert_sign", "crl_sign"), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if issuer is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),
            critical=False,
        )
    return builder.sign(signer, hashes.SHA256())


def responder_certificate(
    public_key, *, issuer: x509.Certificate, signer: TokenKey, now: datetime, validity: timedelta
) -> x509.Certificate:
    """A delegated responder (RFC 6960 4.2.2.2): OCSPSigning, and id-pkix-ocsp-nocheck so a
    client does not ask about the responder's own status; for that, short-lived (4.2.2.2.1)."""
    return (
        x509.CertificateBuilder()
        .subject_name(_name(NAMES[OCSP]))
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + validity)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage("digital_signature"), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.OCSP_SIGNING]), critical=True)
        .add_extension(x509.OCSPNoCheck(), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.public_key()),
            critical=False,
        )
        .sign(signer, hashes.SHA256())
    )


def init_development(token, *, pin: str, directory: Path, base_url: str) -> SmartcardCa:
    """Make the CA on an empty token: two keys on it, two certificates signed through it,
    written as PEM to `directory` (root.pem, issuing.pem)."""
    from pkcs11 import Attribute, ObjectClass

    session = token.open(user_pin=pin, rw=True)
    if list(session.get_objects({Attribute.CLASS: ObjectClass.PRIVATE_KEY})):
        session.close()
        raise CaError(f"token {token.label!r} already holds keys: a CA is made once")
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    public = {name: _generate(session, name) for name in CHAIN}
    ca = SmartcardCa(session, {}, Urls(base_url.rstrip("/")))
    root_key = TokenKey(_private(session, ROOT), public[ROOT])
    root = _ca_certificate(ROOT, public[ROOT], issuer=None, signer=root_key, now=now)
    ca.certificates[ROOT] = root
    issuing = _ca_certificate(ISSUING, public[ISSUING], issuer=root, signer=root_key, now=now)
    ca.certificates[ISSUING] = issuing
    directory.mkdir(parents=True, exist_ok=True)
    for name, certificate in ca.certificates.items():
        (directory / f"{name}.pem").write_text(pem(certificate))
    return ca


def _private(session, label: str):
    from pkcs11 import ObjectClass

    return session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=label)


def open_ca(token, *, pin: str, directory: Path, base_url: str) -> SmartcardCa:
    """The CA of this token and the certificates in `directory`, each checked against its key."""
    certificates = {}
    for name in CHAIN:
        path = directory / f"{name}.pem"
        if not path.is_file():
            raise CaError(f"{path} is missing: run `zorgsleutel smartcard-ca init` first")
        certificates[name] = x509.load_pem_x509_certificate(path.read_bytes())
    from pkcs11 import exceptions as errors

    try:
        session = token.open(user_pin=pin)
    except (errors.PinIncorrect, errors.PinInvalid, errors.PinLenRange):
        raise CaError(f"wrong PIN for token {token.label!r}") from None
    opened = SmartcardCa(session, certificates, Urls(base_url.rstrip("/")))
    for name in CHAIN:
        try:
            signature = opened.key(name).sign(b"check", ec.ECDSA(hashes.SHA256()))
            certificates[name].public_key().verify(signature, b"check", ec.ECDSA(hashes.SHA256()))
        except (errors.NoSuchKey, InvalidSignature):
            opened.close()
            raise CaError(f"{name}.pem does not belong to the token's key {name!r}") from None
    return opened
