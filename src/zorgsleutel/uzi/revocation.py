"""Revocation: CRLs from the distribution points, and OCSP (both off by default; docs/uzi.md).

Enabled checks fail closed: a CRL or OCSP answer that cannot be fetched, is not signed by the
issuing CA, or is out of date refuses the certificate (`revocation_unknown`) rather than letting
it through. CRLs are cached in memory until their nextUpdate (at most CRL_CACHE_SECONDS).
"""

from __future__ import annotations

import itertools
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from zorgsleutel.uzi.errors import REVOCATION_UNKNOWN, REVOKED, UziError

TIMEOUT_SECONDS = 5.0
CRL_CACHE_SECONDS = 3600
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # production UZI CRLs run to megabytes
CLOCK_SKEW = timedelta(minutes=5)

_crl_cache: dict[str, tuple[float, x509.CertificateRevocationList]] = {}
_crl_lock = threading.Lock()


def check_revocation(
    chain: list[x509.Certificate],
    *,
    at: datetime,
    crl: bool = False,
    ocsp_check: bool = False,
    timeout: float = TIMEOUT_SECONDS,
) -> None:
    """Raise `revoked` or `revocation_unknown` for a verified chain (leaf first, anchor last)."""
    pairs = list(itertools.pairwise(chain))  # (certificate, its issuer); the anchor is no subject
    if ocsp_check and pairs:
        check_ocsp(*pairs[0], at=at, timeout=timeout)
    if crl:
        for certificate, issuer in pairs:
            check_crl(certificate, issuer, at=at, timeout=timeout)


# --- CRL ------------------------------------------------------------------------------------------


def crl_urls(certificate: x509.Certificate) -> list[str]:
    try:
        points = certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [
        name.value
        for point in points
        for name in point.full_name or []
        if isinstance(name, x509.UniformResourceIdentifier)
        and name.value.startswith(("http://", "https://"))
    ]


def check_crl(
    certificate: x509.Certificate, issuer: x509.Certificate, *, at: datetime, timeout: float
) -> None:
    urls = crl_urls(certificate)
    if not urls:
        raise UziError(REVOCATION_UNKNOWN, detail=f"{_name(certificate)} names no CRL")
    problems = []
    for url in urls:
        try:
            crl = _fresh_crl(url, issuer, at=at, timeout=timeout)
        except ValueError as exc:
            problems.append(f"{url}: {exc}")
            continue
        entry = crl.get_revoked_certificate_by_serial_number(certificate.serial_number)
        if entry is not None and entry.revocation_date_utc <= at:
            raise UziError(
                REVOKED, detail=f"{_name(certificate)} revoked {entry.revocation_date_utc:%Y-%m-%d}"
            )
        return
    raise UziError(REVOCATION_UNKNOWN, detail="; ".join(problems))


def _fresh_crl(
    url: str, issuer: x509.Certificate, *, at: datetime, timeout: float
) -> x509.CertificateRevocationList:
    with _crl_lock:
        cached = _crl_cache.get(url)
    if cached and cached[0] > time.monotonic():
        crl = cached[1]
    else:
        data = _fetch(url, timeout=timeout)
        crl = (
            x509.load_pem_x509_crl(data)
            if data.lstrip().startswith(b"-----")
            else x509.load_der_x509_crl(data)
        )
        lifetime = CRL_CACHE_SECONDS
        if crl.next_update_utc is not None:
            remaining = crl.next_update_utc - datetime.now(UTC)
            lifetime = max(0, min(lifetime, remaining.total_seconds()))
        with _crl_lock:
            _crl_cache[url] = (time.monotonic() + lifetime, crl)
    if crl.issuer != issuer.subject or not crl.is_signature_valid(issuer.public_key()):
        raise ValueError("CRL not signed by the issuing CA")
    if crl.next_update_utc is not None and crl.next_update_utc + CLOCK_SKEW < at:
        raise ValueError(f"CRL out of date since {crl.next_update_utc:%Y-%m-%d %H:%M}")
    return crl


def clear_cache() -> None:
    with _crl_lock:
        _crl_cache.clear()


# --- OCSP -----------------------------------------------------------------------------------------


def ocsp_urls(certificate: x509.Certificate) -> list[str]:
    try:
        access = certificate.extensions.get_extension_for_class(x509.AuthorityInformationAccess)
    except x509.ExtensionNotFound:
        return []
    return [
        d.access_location.value
        for d in access.value
        if d.access_method == AuthorityInformationAccessOID.OCSP
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
        and d.access_location.value.startswith(("http://", "https://"))
    ]


def check_ocsp(
    certificate: x509.Certificate, issuer: x509.Certificate, *, at: datetime, timeout: float
) -> None:
    urls = ocsp_urls(certificate)
    if not urls:
        raise UziError(REVOCATION_UNKNOWN, detail=f"{_name(certificate)} names no OCSP responder")
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate(certificate, issuer, hashes.SHA1())  # noqa: S303 (CertID per RFC 6960)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    try:
        data = _fetch(urls[0], timeout=timeout, body=request)
        response = ocsp.load_der_ocsp_response(data)
    except ValueError as exc:
        raise UziError(REVOCATION_UNKNOWN, detail=f"OCSP {urls[0]}: {exc}") from None
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        raise UziError(REVOCATION_UNKNOWN, detail=f"OCSP status {response.response_status.name}")
    if not _ocsp_signed_for(response, issuer):
        raise UziError(REVOCATION_UNKNOWN, detail="OCSP answer not signed for the issuing CA")
    single = next(
        (r for r in response.responses if r.serial_number == certificate.serial_number), None
    )
    if single is None:
        raise UziError(REVOCATION_UNKNOWN, detail="OCSP answer is about another certificate")
    if single.this_update_utc > at + CLOCK_SKEW or (
        single.next_update_utc is not None and single.next_update_utc + CLOCK_SKEW < at
    ):
        raise UziError(REVOCATION_UNKNOWN, detail="OCSP answer out of date")
    if single.certificate_status == ocsp.OCSPCertStatus.REVOKED:
        raise UziError(REVOKED, detail=f"OCSP: {_name(certificate)} revoked")
    if single.certificate_status != ocsp.OCSPCertStatus.GOOD:
        raise UziError(REVOCATION_UNKNOWN, detail="OCSP: status unknown")


def _ocsp_signed_for(response: ocsp.OCSPResponse, issuer: x509.Certificate) -> bool:
    """Signed by the issuing CA itself, or by a responder certificate it issued for OCSP."""
    signers = [issuer]
    for delegate in response.certificates:
        try:
            usages = delegate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in usages and _verifies(
            issuer.public_key(),
            delegate.signature,
            delegate.tbs_certificate_bytes,
            delegate.signature_hash_algorithm,
        ):
            signers.append(delegate)
    return any(
        _verifies(
            signer.public_key(),
            response.signature,
            response.tbs_response_bytes,
            response.signature_hash_algorithm,
        )
        for signer in signers
    )


def _verifies(key, signature: bytes, data: bytes, algorithm) -> bool:
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


# --- Fetching -------------------------------------------------------------------------------------


def _fetch(url: str, *, timeout: float, body: bytes | None = None) -> bytes:
    """GET (or POST an OCSP request to) an http(s) URL; ValueError for every failure."""
    if not url.startswith(("http://", "https://")):
        raise ValueError("not an http(s) URL")
    headers = {"Content-Type": "application/ocsp-request"} if body is not None else {}
    request = urllib.request.Request(url, data=body, headers=headers)  # noqa: S310 (http(s) only)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data = response.read(MAX_RESPONSE_BYTES + 1)
    except OSError as exc:  # URLError, HTTPError, timeouts
        raise ValueError(f"cannot fetch: {exc}") from None
    if len(data) > MAX_RESPONSE_BYTES:
        raise ValueError("response too large")
    return data


def _name(certificate: x509.Certificate) -> str:
    return certificate.subject.rfc4514_string()
