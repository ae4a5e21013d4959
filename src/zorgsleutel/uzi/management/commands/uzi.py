"""zorgsleutel uzi inspect FILE | make-test-card: UZI certificates for operators and developers."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from zorgsleutel.uzi import inspection, testcard
from zorgsleutel.uzi.certificates import pem
from zorgsleutel.uzi.chain import DEFAULT_POLICY_OIDS
from zorgsleutel.uzi.errors import UziError
from zorgsleutel.uzi.inspection import REFUSED, UNUSABLE
from zorgsleutel.uzi.testca import TestHierarchy

# Exit codes: 0 valid, 1 refused (negative verdict), 2 unusable input, 3 SoftHSM2 missing.
NO_SOFTHSM = 3


class Command(BaseCommand):
    help = (
        "'inspect FILE' shows a UZI certificate's fields and chain verdict; "
        "'make-test-card' makes a development CA and a test UZI card on a SoftHSM2 token."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        inspection.add_arguments(
            sub.add_parser("inspect", help="parse and verify a certificate (PEM or DER)")
        )

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
        # Shared with the standalone `zorgsleutel uzi inspect` (no portal settings needed there);
        # here the defaults come from the portal's settings.
        crl = settings.UZI_CHECK_CRL if options["crl"] is None else options["crl"]
        ocsp = settings.UZI_OCSP if options["ocsp"] is None else options["ocsp"]
        try:
            report = inspection.inspect_file(
                Path(options["file"]),
                at=inspection.parse_time(options["at"]),
                trust_dir=options["trust"] or Path(settings.UZI_TRUST_DIR),
                policy_oids=tuple(settings.UZI_POLICY_OIDS) or DEFAULT_POLICY_OIDS,
                crl=crl,
                ocsp=ocsp,
            )
        except inspection.Unusable as exc:
            raise CommandError(str(exc), returncode=UNUSABLE) from None
        self.stdout.write(json.dumps(report, indent=2, ensure_ascii=False))
        line = inspection.refusal(report)
        if line:
            raise CommandError(line, returncode=REFUSED)

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
