"""Re-encrypt every stored number under the current key version (VAULT_ENCRYPTION_KEYS' first)."""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from zorgsleutel.vault import crypto
from zorgsleutel.vault.models import Enrolment, VaultEvent


class Command(BaseCommand):
    help = "Re-encrypt stored phone numbers with the current encryption key."

    def handle(self, *args, **options):
        current = settings.VAULT_CURRENT_KEY_VERSION
        done = 0
        stale = Enrolment.objects.exclude(key_version=current).values_list("pk", flat=True)
        for enrolment_id in list(stale):
            with transaction.atomic():
                enrolment = Enrolment.objects.select_for_update().filter(pk=enrolment_id).first()
                if enrolment is None or enrolment.key_version == current:
                    continue
                number = crypto.decrypt_number(
                    enrolment.number_ciphertext,
                    enrolment_id=enrolment.id,
                    version=enrolment.key_version,
                )
                enrolment.number_ciphertext, enrolment.key_version = crypto.encrypt_number(
                    number, enrolment_id=enrolment.id
                )
                enrolment.save(update_fields=["number_ciphertext", "key_version"])
                done += 1
        VaultEvent.objects.create(
            at=timezone.now(),
            client="cli",
            action="rotate-keys",
            outcome="success",
            detail=f"{done} re-encrypted to key {current}",
        )
        self.stdout.write(f"Re-encrypted {done} number(s) with key version {current}.")
