"""UZI certificates: parse the UZI-register fields, verify the chain (docs/uzi.md).

    from zorgsleutel import uzi
    identity, leaf = uzi.from_settings().verify(certificates, at=clock.now())
    uzi.verify_signature(leaf, message, signature, algorithm)

Imports nothing of the portal; reads Django settings only in `from_settings()`.
"""

from zorgsleutel.uzi.certificates import fingerprint, load_certificate, load_certificates, pem
from zorgsleutel.uzi.chain import DEFAULT_POLICY_OIDS, TEST_AUTHENTICATION_POLICY, verify_chain
from zorgsleutel.uzi.errors import UziError
from zorgsleutel.uzi.identity import PAS_TYPES, UziIdentity, parse_identity
from zorgsleutel.uzi.signatures import algorithm_for, verify_signature
from zorgsleutel.uzi.trust import TrustStore
from zorgsleutel.uzi.verify import UziValidator, from_settings, verify_presentation

__all__ = [
    "DEFAULT_POLICY_OIDS",
    "PAS_TYPES",
    "TEST_AUTHENTICATION_POLICY",
    "TrustStore",
    "UziError",
    "UziIdentity",
    "UziValidator",
    "algorithm_for",
    "fingerprint",
    "from_settings",
    "load_certificate",
    "load_certificates",
    "parse_identity",
    "pem",
    "verify_chain",
    "verify_presentation",
    "verify_signature",
]
