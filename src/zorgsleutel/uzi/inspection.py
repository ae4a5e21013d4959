"""`zorgsleutel uzi inspect FILE`: one certificate's UZI fields and chain verdict, offline.

An operator's tool: it reads a file and a trust dir, nothing else. So the `zorgsleutel` command
runs `main` without the portal's settings (no database, no secrets: it works on a machine that
holds only the trust dir), while the management command `uzi inspect` calls `inspect_file` with
the portal's settings. Exit codes: 0 valid, 1 refused (negative verdict), 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from zorgsleutel.envconfig import VAR_DIR, env_bool, env_list, env_str, load_dotenv
from zorgsleutel.uzi.certificates import fingerprint, load_certificates
from zorgsleutel.uzi.chain import DEFAULT_POLICY_OIDS, certificate_policies, verify_chain
from zorgsleutel.uzi.errors import UziError
from zorgsleutel.uzi.identity import parse_identity
from zorgsleutel.uzi.revocation import check_revocation
from zorgsleutel.uzi.trust import TrustStore

VALID, REFUSED, UNUSABLE = 0, 1, 2


class Unusable(Exception):
    """Input that cannot be inspected (missing file, not a UZI certificate, bad --at): one line."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options, shared by the standalone command and the management command."""
    parser.add_argument("file", help="the certificate; a PEM file may hold the chain too")
    parser.add_argument("--at", help="verify at this time (ISO 8601; default now)")
    parser.add_argument("--trust", type=Path, help="trust dir (default UZI_TRUST_DIR)")
    parser.add_argument("--crl", action="store_true", default=None, help="check CRLs")
    parser.add_argument("--ocsp", action="store_true", default=None, help="ask OCSP")


def parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Unusable(f"--at {value!r} is not an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def inspect_file(
    path: Path,
    *,
    at: datetime,
    trust_dir: Path,
    policy_oids: tuple[str, ...] = DEFAULT_POLICY_OIDS,
    crl: bool = False,
    ocsp: bool = False,
) -> dict:
    """The report (identity, certificate, verdict); Unusable when there is nothing to judge."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unusable(f"cannot read {path}: {exc.strerror}") from None
    try:
        leaf, *intermediates = load_certificates(data)
        identity = parse_identity(leaf)
    except UziError as exc:
        raise Unusable(f"{path}: {exc.code}: {exc}") from None
    try:
        trust = TrustStore.from_dir(trust_dir)
    except ValueError as exc:
        raise Unusable(str(exc)) from None
    verdict = {"at": at.isoformat(), "trust_dir": str(trust_dir)}
    try:
        chain = verify_chain(leaf, intermediates, trust=trust, at=at, policy_oids=policy_oids)
        if crl or ocsp:
            check_revocation(chain, at=at, crl=crl, ocsp_check=ocsp)
    except UziError as exc:
        verdict.update(ok=False, code=exc.code, reason=str(exc))
    else:
        verdict.update(
            ok=True,
            code="valid",
            reason="valid UZI authentication certificate",
            chain=[c.subject.rfc4514_string() for c in chain],
            revocation_checked=bool(crl or ocsp),
        )
    return {
        "file": str(path),
        "identity": identity.as_dict(),
        "certificate": _describe(leaf),
        "verdict": verdict,
    }


def refusal(report: dict) -> str | None:
    """The stderr line of a negative verdict, None when valid."""
    verdict = report["verdict"]
    return None if verdict["ok"] else f"refused: {verdict['code']}: {verdict['reason']}"


def main(argv: list[str]) -> int:
    """`zorgsleutel uzi inspect ...` without the portal: defaults from the environment (.env)."""
    parser = argparse.ArgumentParser(
        prog="zorgsleutel uzi inspect",
        description="Parse a UZI certificate (PEM or DER) and verify its chain; JSON on stdout.",
    )
    add_arguments(parser)
    options = parser.parse_args(argv)
    _configure_django()
    # The same variables and defaults as the portal's settings.py (UZI_*), read without it, so
    # an operator's inspection judges as the portal would. A bad value is ImproperlyConfigured,
    # which cli.py prints as one line.
    load_dotenv()
    trust_dir = options.trust or Path(env_str("UZI_TRUST_DIR", str(VAR_DIR / "uzi" / "trust")))
    policy_oids = tuple(env_list("UZI_POLICY_OIDS")) or DEFAULT_POLICY_OIDS
    crl = env_bool("UZI_CHECK_CRL", False) if options.crl is None else options.crl
    ocsp = env_bool("UZI_OCSP", False) if options.ocsp is None else options.ocsp
    try:
        at = parse_time(options.at)
        report = inspect_file(
            Path(options.file),
            at=at,
            trust_dir=trust_dir,
            policy_oids=policy_oids,
            crl=crl,
            ocsp=ocsp,
        )
    except Unusable as exc:
        print(exc, file=sys.stderr)
        return UNUSABLE
    print(json.dumps(report, indent=2, ensure_ascii=False))
    line = refusal(report)
    if line:
        print(line, file=sys.stderr)
        return REFUSED
    return VALID


def _configure_django() -> None:
    """Bare Django settings for the lazy UZI error messages (English), never the portal's."""
    from django.conf import settings

    if not settings.configured:
        settings.configure(USE_I18N=False)


def _describe(certificate: x509.Certificate) -> dict:
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
        names = ("digital_signature", "content_commitment", "key_encipherment", "data_encipherment")
        key_usage = [n for n in names if getattr(usage, n)]
    except x509.ExtensionNotFound:
        key_usage = []
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "serial_number": format(certificate.serial_number, "x"),
        "key_usage": key_usage,
        "policies": certificate_policies(certificate),
        "fingerprint_sha256": fingerprint(certificate),
    }
