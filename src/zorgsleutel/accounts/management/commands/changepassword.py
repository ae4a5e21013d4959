"""Disabled: nobody but the person sets a password (seed 000: "niet te wijzigen door de beheerder").

People set their own password through their activation or reset link; operators start with
`zorgsleutel createoperator`. This replaces Django's own `changepassword`.
"""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Not available in Zorgsleutel: people set their own passwords via a mailed link."

    def add_arguments(self, parser):
        parser.add_argument("args", nargs="*")

    def handle(self, *args, **options):
        raise CommandError(
            "Not available: passwords are set only by the person, through their activation or "
            "reset link. Use 'zorgsleutel createoperator EMAIL' or 'Wachtwoord vergeten'."
        )
