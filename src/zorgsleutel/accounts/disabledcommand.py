"""Django's own password commands, replaced: nobody but the person sets a password.

Seed 000: "Deze gegevens zijn niet te wijzigen door de beheerder". People set their own password
through their activation or reset link; operators start with `zorgsleutel createoperator`.
"""

from django.core.management.base import BaseCommand, CommandError


class DisabledPasswordCommand(BaseCommand):
    help = "Not available in Zorgsleutel: people set their own passwords via a mailed link."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*")

    def handle(self, *args, **options):
        raise CommandError(
            "Not available: passwords are set only by the person, through their activation or "
            "reset link. Use 'zorgsleutel createoperator EMAIL' or 'Wachtwoord vergeten'."
        )
