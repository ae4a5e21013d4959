"""The trust store: which CAs the portal accepts UZI certificates from (docs/uzi.md).

One folder of PEM or DER files (any name, any number of certificates per PEM file). Self-signed
certificates are trust anchors; the others are CA certificates the portal vouches for itself.
The issuing CA of an accepted certificate must be one of the folder's certificates: a CA the card
sends along helps build the path but never decides what is trusted. That is what keeps the other
PKIoverheid providers under the same Staat der Nederlanden root out.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm

from zorgsleutel.uzi.certificates import fingerprint, load_certificates
from zorgsleutel.uzi.errors import UziError


@dataclass(frozen=True)
class TrustStore:
    anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()

    @classmethod
    def from_certificates(cls, certificates: list[x509.Certificate]) -> TrustStore:
        anchors = tuple(c for c in certificates if _self_signed(c))
        others = tuple(c for c in certificates if not _self_signed(c))
        return cls(anchors=anchors, intermediates=others)

    @classmethod
    def from_dir(cls, path: Path | str) -> TrustStore:
        """Every certificate in the folder's files; an unreadable file is an error, not skipped."""
        folder = Path(path)
        if not folder.is_dir():
            return cls(anchors=())
        return _load_dir(folder, _stamp(folder))

    @property
    def certificates(self) -> tuple[x509.Certificate, ...]:
        return self.anchors + self.intermediates

    def contains(self, certificate: x509.Certificate) -> bool:
        return fingerprint(certificate) in self._fingerprints

    @functools.cached_property
    def _fingerprints(self) -> frozenset[str]:
        return frozenset(fingerprint(c) for c in self.certificates)


def _self_signed(certificate: x509.Certificate) -> bool:
    if certificate.subject != certificate.issuer:
        return False
    try:
        certificate.verify_directly_issued_by(certificate)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _stamp(folder: Path) -> tuple:
    """Names, sizes and times of the folder's files: a changed trust dir is read again."""
    return tuple((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.iterdir()))


@functools.lru_cache(maxsize=8)
def _load_dir(folder: Path, stamp: tuple) -> TrustStore:
    certificates: list[x509.Certificate] = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            certificates.extend(load_certificates(path.read_bytes()))
        except UziError as exc:
            raise ValueError(f"trust dir: {path} holds no readable certificate") from exc
    return TrustStore.from_certificates(certificates)
