"""Remove unconfirmed enrolments past their lifetime and expired nonces."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from zorgsleutel.vault import policies, service
from zorgsleutel.vault.models import UsedNonce


class Command(BaseCommand):
    help = "Purge unconfirmed enrolments and old request nonces."

    def handle(self, *args, **options):
        enrolments = service.purge_pending()
        cutoff = timezone.now() - policies.NONCE_RETENTION
        nonces, _ = UsedNonce.objects.filter(seen_at__lt=cutoff).delete()
        self.stdout.write(f"Purged {enrolments} unconfirmed enrolment(s) and {nonces} nonce(s).")
