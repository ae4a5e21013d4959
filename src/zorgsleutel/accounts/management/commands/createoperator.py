"""zorgsleutel createoperator EMAIL --name NAME: bootstrap an operator (activation by mail)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from zorgsleutel.accounts.flows import memberships
from zorgsleutel.accounts.models import User
from zorgsleutel.core import audit


class Command(BaseCommand):
    help = "Create an operator account; the person activates it with the mailed link."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("--name", default="")

    def handle(self, *args, **options):
        email = options["email"].strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Not an e-mail address: {email!r}") from None
        with transaction.atomic():
            if User.objects.filter(email=email).exists():
                raise CommandError(f"An account for {email} already exists.")
            user = User.objects.create(
                email=email,
                name=options["name"] or email.split("@")[0],
                state=User.INVITED,
                is_operator=True,
            )
            user.set_unusable_password()
            user.save(update_fields=["password"])
            audit.record("operator.created", actor="cli", target=user)
            memberships.send_activation(user=user, organisation=None)
        self.stdout.write(f"Operator {email} created; the activation mail is on its way.")
