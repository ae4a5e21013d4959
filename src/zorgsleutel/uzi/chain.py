"""Is this the card's authentication certificate, and does it chain to a trusted UZI CA?

Checks, in order, each with its own error code: key usage (authentication: digitalSignature,
never nonRepudiation), certificate policy, the leaf's validity at `at`, then the path to a trust
anchor with cryptography's verifier (signatures, CA constraints, every CA's validity), and last
that the issuing CA is one the trust store holds itself (trust.py says why).
"""

from __future__ import annotations

from datetime import datetime

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from zorgsleutel.uzi.errors import (
    EXPIRED,
    KEY_USAGE,
    NOT_YET_VALID,
    POLICY,
    SIGNATURE,
    UNTRUSTED,
    UziError,
)
from zorgsleutel.uzi.trust import TrustStore

# Certificate policies of UZI authentication certificates (matched as OID prefixes).
# Production: the UZI-register's policies under the PKIoverheid arc 2.16.528.1.1003.1.2.8.
# TEST: the policy of TEST authentication certificates (.212 signing and .213 encryption are not
# accepted). Accepting both is safe only because the trust anchors decide: a TEST certificate
# validates only where a TEST root is in the trust dir, which production never has.
PRODUCTION_POLICY_ARC = "2.16.528.1.1003.1.2.8"
TEST_AUTHENTICATION_POLICY = "2.16.528.1.1007.99.211"
DEFAULT_POLICY_OIDS = (PRODUCTION_POLICY_ARC, TEST_AUTHENTICATION_POLICY)

MAX_CHAIN_DEPTH = 6


def check_key_usage(certificate: x509.Certificate) -> None:
    """An authentication certificate: digitalSignature, not nonRepudiation, not a CA, and
    clientAuth among its extended key usages when it lists any."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        raise UziError(KEY_USAGE, detail="no key usage extension") from None
    if not usage.digital_signature:
        raise UziError(KEY_USAGE, detail="key usage lacks digitalSignature")
    if usage.content_commitment:
        raise UziError(KEY_USAGE, detail="a signing (nonRepudiation) certificate")
    if usage.key_cert_sign:
        raise UziError(KEY_USAGE, detail="a CA certificate")
    try:
        purposes = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return
    if not {ExtendedKeyUsageOID.CLIENT_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE} & set(
        purposes
    ):
        raise UziError(KEY_USAGE, detail="extended key usage lacks clientAuth")


def certificate_policies(certificate: x509.Certificate) -> list[str]:
    try:
        policies = certificate.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return []
    return [p.policy_identifier.dotted_string for p in policies]


def check_policy(certificate: x509.Certificate, accepted: tuple[str, ...] | list[str]) -> None:
    found = certificate_policies(certificate)
    for oid in found:
        if any(oid == prefix or oid.startswith(prefix + ".") for prefix in accepted):
            return
    raise UziError(POLICY, detail=f"policies {found or 'none'} not in {list(accepted)}")


def check_validity(certificate: x509.Certificate, at: datetime, what: str = "certificate") -> None:
    if at > certificate.not_valid_after_utc:
        raise UziError(EXPIRED, detail=f"{what} expired {certificate.not_valid_after_utc:%Y-%m-%d}")
    if at < certificate.not_valid_before_utc:
        raise UziError(
            NOT_YET_VALID, detail=f"{what} valid from {certificate.not_valid_before_utc:%Y-%m-%d}"
        )


def verify_chain(
    leaf: x509.Certificate,
    intermediates: list[x509.Certificate],
    *,
    trust: TrustStore,
    at: datetime,
    policy_oids: tuple[str, ...] | list[str] = DEFAULT_POLICY_OIDS,
) -> list[x509.Certificate]:
    """The verified chain, leaf first and trust anchor last; UziError with the first failure."""
    check_key_usage(leaf)
    check_policy(leaf, policy_oids or DEFAULT_POLICY_OIDS)
    check_validity(leaf, at)
    if not trust.anchors:
        raise UziError(UNTRUSTED, detail="the trust store holds no trust anchor")
    pool = [*trust.intermediates, *intermediates]
    verifier = (
        PolicyBuilder()
        .store(Store(list(trust.anchors)))
        .time(at)
        .max_chain_depth(MAX_CHAIN_DEPTH)
        .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=_EE_POLICY)
        .build_client_verifier()
    )
    try:
        chain = list(verifier.verify(leaf, pool).chain)
    except VerificationError as exc:
        raise _explain(exc, leaf, pool, trust, at) from None
    if len(chain) < 2 or not trust.contains(chain[1]):
        raise UziError(
            UNTRUSTED, detail=f"issuing CA {leaf.issuer.rfc4514_string()} is not in the trust store"
        )
    return chain


def _not_a_ca(policy, certificate, constraints: x509.BasicConstraints) -> None:
    if constraints.ca:
        raise ValueError("end-entity certificate is a CA")


def _needs_subject_alt_name(policy, certificate, names: x509.SubjectAlternativeName) -> None:
    if not names.get_values_for_type(x509.OtherName):
        raise ValueError("no otherName in subjectAltName")


# UZI certificates are not web PKI certificates: no DNS names, and EKUs for mail and smartcard
# logon besides clientAuth. The end-entity policy asks what a UZI authentication certificate has
# (key usage and the otherName); CA certificates get the web PKI rules, which the UZI-register's
# CAs (TEST G3 and production) meet.
_EE_POLICY = (
    ExtensionPolicy.permit_all()
    .require_present(x509.KeyUsage, Criticality.AGNOSTIC, None)
    .require_present(x509.SubjectAlternativeName, Criticality.AGNOSTIC, _needs_subject_alt_name)
    .may_be_present(x509.BasicConstraints, Criticality.AGNOSTIC, _not_a_ca)
)


def _explain(
    exc: VerificationError,
    leaf: x509.Certificate,
    pool: list[x509.Certificate],
    trust: TrustStore,
    at: datetime,
) -> UziError:
    """Turn the verifier's failure into our code: walk up by issuer name to see what broke."""
    candidates = [*pool, *trust.anchors]
    current = leaf
    for _depth in range(MAX_CHAIN_DEPTH + 1):
        issuers = [c for c in candidates if c.subject == current.issuer]
        if not issuers:
            return UziError(
                UNTRUSTED, detail=f"no trusted CA certificate {current.issuer.rfc4514_string()}"
            )
        signed = [c for c in issuers if _issued_by(current, c)]
        if not signed:
            return UziError(
                SIGNATURE, detail=f"{current.subject.rfc4514_string()} not signed by its issuer"
            )
        issuer = signed[0]
        if issuer.subject == issuer.issuer and issuer not in trust.anchors:
            return UziError(
                UNTRUSTED, detail=f"root {issuer.subject.rfc4514_string()} is not a trust anchor"
            )
        try:
            check_validity(issuer, at, what=f"CA {issuer.subject.rfc4514_string()}")
        except UziError as error:
            return error
        if issuer in trust.anchors:
            break
        current = issuer
    return UziError(UNTRUSTED, detail=str(exc).split(" (encountered", 1)[0])


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True
