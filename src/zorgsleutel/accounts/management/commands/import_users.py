"""zorgsleutel import-users FILE.csv --organisation ORG [--send-activation-at DATETIME]"""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zorgsleutel.accounts.flows import importing


class Command(BaseCommand):
    help = (
        "Import existing users (CSV with columns name,email,role[,password_hash]"
        "[,application_roles]) and send each an activation mail, optionally at a chosen time."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--organisation", required=True, help="URA, KvK number or id")
        parser.add_argument("--send-activation-at", help="e.g. 2027-01-07T08:00 (Europe/Amsterdam)")

    def handle(self, *args, **options):
        organisation = importing.find_organisation(options["organisation"])
        if organisation is None:
            raise CommandError(
                f"No organisation with URA, KvK number or id {options['organisation']!r}."
            )
        send_at = None
        if options["send_activation_at"]:
            try:
                send_at = datetime.fromisoformat(options["send_activation_at"])
            except ValueError:
                raise CommandError("--send-activation-at must look like 2027-01-07T08:00") from None
            if timezone.is_naive(send_at):
                send_at = timezone.make_aware(send_at)
        try:
            with open(options["file"], encoding="utf-8-sig") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {options['file']}: {exc}") from None
        rows, problems = importing.read_rows(text)
        if problems:
            raise CommandError("; ".join(f"line {line}: {msg}" for line, msg in problems))
        self.stdout.write(f"Importing {len(rows)} row(s) into {organisation.name}…")
        report = importing.import_users(
            organisation=organisation,
            rows=rows,
            send_activation_at=send_at,
            progress=lambda n: self.stdout.write(f"  {n}/{len(rows)}"),
        )
        for line, message in report.errors:
            self.stderr.write(f"line {line}: {message}")
        when = send_at.isoformat() if send_at else "now"
        self.stdout.write(
            f"Imported {report.imported}, already there {report.already_there}, "
            f"refused {len(report.errors)}. Activation mails go out {when}."
        )
        if report.errors:
            raise CommandError(f"{len(report.errors)} row(s) refused; the others were imported.")
