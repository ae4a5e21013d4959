"""zorgsleutel uzi inspect FILE | make-test-card: UZI certificates for operators and developers."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zorgsleutel.uzi import testcard
from zorgsleutel.uzi.certificates import fingerprint, load_certificates, pem
from zorgsleutel.uzi.chain import DEFAULT_POLICY_OIDS, certificate_policies, verify_chain
from zorgsleutel.uzi.errors import UziError
from zorgsleutel.uzi.identity import parse_identity
from zorgsleutel.uzi.revocation import check_revocation
from zorgsleutel.uzi.testca import TestHierarchy
from zorgsleutel.uzi.trust import TrustStore

# Exit codes: 0 valid, 1 refused (negative verdict), 2 unusable input, 3 SoftHSM2 missing.
REFUSED, UNUSABLE, NO_SOFTHSM = 1, 2, 3


class Command(BaseCommand):
    help = (
        "'inspect FILE' shows a UZI certificate's fields and chain verdict; "
        "'make-test-card' makes a development CA and a test UZI card on a SoftHSM2 token."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        inspect = sub.add_parser("inspect", help="parse and verify a certificate (PEM or DER)")
        inspect.add_argument("file", help="the certificate; a PEM file may hold the chain too")
        inspect.add_argument("--at", help="verify at this time (ISO 8601; default now)")
        inspect.add_argument("--trust", type=Path, help="trust dir (default UZI_TRUST_DIR)")
        inspect.add_argument("--crl", action="store_true", default=None, help="check CRLs")
        inspect.add_argument("--ocsp", action="store_true", default=None, help="ask OCSP")

        card = sub.add_parser("make-test-card", help="a test UZI card on a SoftHSM2 token")
        card.add_argument("--token-label", default="Zorgsleutel test card")
        card.add_argument("--pin", default="123456")
        card.add_argument("--so-pin", default="12345678")
        card.add_argument("--ura", default="90000001")
        card.add_argument("--uzi-number", default="900000001")
        card.add_argument("--pas-type", choices=["Z", "N", "M", "S"], default="Z")
        card.add_argument("--role", help="NN.NNN (default 01.000 for Z, 00.000 otherwise)")
        card.add_argument("--name", default="Jan Test", help='"Given Surname"')
        card.add_argument("--organisation", default="Zorgsleutel Testzorg")
        card.add_argument("--valid-days", type=int, default=365)
        card.add_argument("--key-type", choices=["rsa", "ec"], default="rsa")
        card.add_argument("--out", type=Path, help="write the card's certificates here (PEM)")
        card.add_argument("--trust", type=Path, help="trust dir (default UZI_TRUST_DIR)")
        card.add_argument("--ca-dir", type=Path, help="test CA keys (default var/uzi/ca)")
        card.add_argument("--softhsm-dir", type=Path, help="SoftHSM2 tokens (default var/softhsm)")
        card.add_argument(
            "--module",
            default=os.environ.get("ZS_PKCS11_MODULE", testcard.DEFAULT_MODULE),
            help="PKCS#11 module (env ZS_PKCS11_MODULE)",
        )

    def handle(self, *args, **options):
        if options["action"] == "inspect":
            self.inspect(options)
        else:
            self.make_test_card(options)

    # --- inspect ----------------------------------------------------------------------------------

    def inspect(self, options) -> None:
        at = _parse_time(options["at"])
        trust_dir = options["trust"] or Path(settings.UZI_TRUST_DIR)
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror}", returncode=UNUSABLE) from None
        try:
            leaf, *intermediates = load_certificates(data)
            identity = parse_identity(leaf)
        except UziError as exc:
            raise CommandError(f"{path}: {exc.code}: {exc}", returncode=UNUSABLE) from None
        try:
            trust = TrustStore.from_dir(trust_dir)
        except ValueError as exc:
            raise CommandError(str(exc), returncode=UNUSABLE) from None
        verdict = {"at": at.isoformat(), "trust_dir": str(trust_dir)}
        try:
            chain = verify_chain(
                leaf,
                intermediates,
                trust=trust,
                at=at,
                policy_oids=tuple(settings.UZI_POLICY_OIDS) or DEFAULT_POLICY_OIDS,
            )
            crl = settings.UZI_CHECK_CRL if options["crl"] is None else options["crl"]
            ocsp = settings.UZI_OCSP if options["ocsp"] is None else options["ocsp"]
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
        report = {
            "file": str(path),
            "identity": identity.as_dict(),
            "certificate": _describe(leaf),
            "verdict": verdict,
        }
        self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
        if not verdict["ok"]:
            message = f"refused: {verdict['code']}: {verdict['reason']}"
            raise CommandError(message, returncode=REFUSED)

    # --- make-test-card ---------------------------------------------------------------------------

    def make_test_card(self, options) -> None:
        if not settings.DEBUG:
            # It writes a development root into the trust dir: never on a production portal.
            raise CommandError("make-test-card is for development (DEBUG=1)", returncode=UNUSABLE)
        var = Path(settings.VAR_DIR)
        softhsm = testcard.SoftHsm(options["softhsm_dir"] or var / "softhsm", options["module"])
        if not softhsm.installed:
            raise CommandError(testcard.NOT_INSTALLED, returncode=NO_SOFTHSM)
        trust_dir = (options["trust"] or Path(settings.UZI_TRUST_DIR)).resolve()
        ca_dir = (options["ca_dir"] or var / "uzi" / "ca").resolve()
        if ca_dir == trust_dir or trust_dir in ca_dir.parents:
            raise CommandError("keep the CA keys out of the trust dir", returncode=UNUSABLE)
        hierarchy, made = TestHierarchy.load_or_create(ca_dir)
        hierarchy.write_trust(trust_dir)
        try:
            card = testcard.make_test_card(
                softhsm=softhsm,
                hierarchy=hierarchy,
                token_label=options["token_label"],
                pin=options["pin"],
                so_pin=options["so_pin"],
                ura=options["ura"],
                uzi_number=options["uzi_number"],
                pas_type=options["pas_type"],
                role=options["role"],
                name=options["name"],
                organisation=options["organisation"],
                valid_days=options["valid_days"],
                key_type=options["key_type"],
            )
        except (testcard.TokenError, UziError) as exc:
            raise CommandError(str(exc), returncode=UNUSABLE) from None
        slug = re.sub(r"[^a-z0-9]+", "-", card.token_label.lower()).strip("-") or "card"
        out = options["out"] or var / "uzi" / "cards" / slug
        out.mkdir(parents=True, exist_ok=True)
        (out / "authentication.pem").write_text(pem(card.certificate))
        (out / "chain.pem").write_text(
            "".join(pem(c) for c in [card.certificate, *hierarchy.ca_certificates])
        )
        who = card.identity
        lines = [
            f"Test UZI card {'made' if card.created else 'reused (already on the token)'}.",
            f"  token        {card.token_label!r} in slot {card.slot_id}, PIN {card.pin}",
            f"  card holder  {who.full_name}, UZI {who.uzi_number}, URA {who.ura}, "
            f"pas {who.pas_type}, role {who.role} ({who.profession or '-'})",
            f"  valid        {who.not_before:%Y-%m-%d} to {who.not_after:%Y-%m-%d}",
            f"  trust dir    {trust_dir} (development CA certificates)",
            f"  CA keys      {ca_dir} ({'made' if made else 'reused'}; development only)",
            f"  certificates {out}/authentication.pem, chain.pem",
            f"  module       {card.module}",
            "The card client needs:",
            f"  export SOFTHSM2_CONF={card.conf}",
            f'  zorgsleutel card present --token "{card.token_label}" --code CODE',
        ]
        self.stdout.write("\n".join(lines))


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--at {value!r} is not an ISO 8601 date or time", returncode=UNUSABLE
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _describe(certificate) -> dict:
    from cryptography import x509

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
