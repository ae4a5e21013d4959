"""zorgsleutel audit verify: recompute the audit hash chain and report the first break."""

from django.core.management.base import BaseCommand, CommandError

from zorgsleutel.core import audit


class Command(BaseCommand):
    help = "Audit log tools. 'verify' checks the hash chain."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        report = audit.verify_chain()
        if report.ok:
            self.stdout.write(f"Audit chain intact: {report.checked} event(s) verified.")
            return
        raise CommandError(
            f"Audit chain BROKEN at event {report.broken_at}: {report.reason} "
            f"({report.checked} event(s) verified before it)."
        )
