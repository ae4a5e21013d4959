"""zorgsleutel create-business --name N --kvk 12345678 --manager-email E --manager-name M"""

from django.core.management.base import BaseCommand, CommandError

from zorgsleutel.core.errors import DomainError
from zorgsleutel.organisations.flows import create_business_customer


class Command(BaseCommand):
    help = "Create a business customer (seed 000) and invite its first manager."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True)
        parser.add_argument("--kvk", required=True)
        parser.add_argument("--manager-email", required=True)
        parser.add_argument("--manager-name", default="")

    def handle(self, *args, **options):
        try:
            membership = create_business_customer(
                actor="cli",
                name=options["name"],
                kvk_number=options["kvk"],
                manager_name=options["manager_name"],
                manager_email=options["manager_email"],
            )
        except DomainError as error:
            raise CommandError(f"{error.field or 'error'}: {error.message}") from None
        self.stdout.write(
            f"{membership.organisation.name} created; {membership.user.email} receives an "
            "activation mail as its first manager."
        )
