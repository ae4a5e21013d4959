"""The one entry point for a presented UZI card: who it is, and whether to trust it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from zorgsleutel.uzi.certificates import load_chain
from zorgsleutel.uzi.chain import DEFAULT_POLICY_OIDS, verify_chain
from zorgsleutel.uzi.identity import UziIdentity, parse_identity
from zorgsleutel.uzi.revocation import TIMEOUT_SECONDS, check_revocation
from zorgsleutel.uzi.trust import TrustStore

Presented = bytes | str | x509.Certificate


def verify_presentation(
    certificates: list[Presented],
    *,
    at: datetime,
    trust: TrustStore,
    policy_oids: tuple[str, ...] | list[str] = DEFAULT_POLICY_OIDS,
    check_crl: bool = False,
    check_ocsp: bool = False,
    timeout: float = TIMEOUT_SECONDS,
) -> tuple[UziIdentity, x509.Certificate]:
    """(identity, leaf) of a presented chain (leaf first, then any CA certificates the card sent).

    Raises UziError with the first failing check's code: malformed, not_uzi, bad_uzi_field,
    key_usage, policy, expired, not_yet_valid, untrusted, signature, revoked, revocation_unknown.
    Whether the pas type, URA or role fit the purpose is the caller's decision, not checked here.
    A naive `at` is taken as UTC.
    """
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    leaf, *intermediates = load_chain(certificates)
    identity = parse_identity(leaf)
    chain = verify_chain(leaf, intermediates, trust=trust, at=at, policy_oids=policy_oids)
    if check_crl or check_ocsp:
        check_revocation(chain, at=at, crl=check_crl, ocsp_check=check_ocsp, timeout=timeout)
    return identity, leaf


@dataclass(frozen=True)
class UziValidator:
    """The portal's configured checks (from_settings), so callers pass only the certificates."""

    trust: TrustStore
    policy_oids: tuple[str, ...] = DEFAULT_POLICY_OIDS
    check_crl: bool = False
    check_ocsp: bool = False

    def verify(
        self, certificates: list[Presented], *, at: datetime
    ) -> tuple[UziIdentity, x509.Certificate]:
        return verify_presentation(
            certificates,
            at=at,
            trust=self.trust,
            policy_oids=self.policy_oids,
            check_crl=self.check_crl,
            check_ocsp=self.check_ocsp,
        )


def from_settings() -> UziValidator:
    """UZI_TRUST_DIR, UZI_POLICY_OIDS, UZI_CHECK_CRL and UZI_OCSP; the trust dir is re-read
    when its files change."""
    from django.conf import settings

    return UziValidator(
        trust=TrustStore.from_dir(Path(settings.UZI_TRUST_DIR)),
        policy_oids=tuple(settings.UZI_POLICY_OIDS) or DEFAULT_POLICY_OIDS,
        check_crl=bool(settings.UZI_CHECK_CRL),
        check_ocsp=bool(settings.UZI_OCSP),
    )
