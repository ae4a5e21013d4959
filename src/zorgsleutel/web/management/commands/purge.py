"""zorgsleutel purge: delete expired sessions, challenges, dead mail links and cache entries once
(zorgsleutel/purge.py; `zorgsleutel run` does it every policies.PURGE_INTERVAL)."""

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Delete expired sessions, challenges, used or expired mail links and cache entries."

    def handle(self, *args, **options):
        from zorgsleutel.purge import purge_expired  # knows every capability's tables

        removed = purge_expired()
        self.stdout.write(
            "Purged: " + ", ".join(f"{name} {count}" for name, count in removed.items()) + "."
        )
