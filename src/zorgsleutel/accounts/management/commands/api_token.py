"""zorgsleutel api-token create --organisation ORG --user EMAIL --name NAME | revoke ID"""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from zorgsleutel.accounts.api.auth import issue_token
from zorgsleutel.accounts.flows.importing import find_organisation
from zorgsleutel.accounts.models import ApiToken, Membership
from zorgsleutel.core import audit, clock


class Command(BaseCommand):
    help = "Create or revoke a per-organisation API token (acts as the given manager)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "revoke"])
        parser.add_argument("id", nargs="?", type=int)
        parser.add_argument("--organisation")
        parser.add_argument("--user")
        parser.add_argument("--name", default="API")

    def handle(self, *args, **options):
        if options["action"] == "revoke":
            with transaction.atomic():
                token = ApiToken.objects.filter(pk=options["id"], revoked_at=None).first()
                if token is None:
                    raise CommandError("No such open token.")
                token.revoked_at = clock.now()
                token.save(update_fields=["revoked_at"])
                audit.record(
                    "apitoken.revoked", actor="cli", organisation=token.organisation, target=token
                )
            self.stdout.write(f"Token {token.pk} revoked.")
            return
        organisation = find_organisation(options["organisation"] or "")
        if organisation is None:
            raise CommandError("--organisation: no such organisation (URA, KvK number or id).")
        membership = (
            Membership.objects.select_related("user")
            .filter(organisation=organisation, user__email=(options["user"] or "").lower())
            .first()
        )
        if membership is None or membership.state != Membership.ACTIVE:
            raise CommandError("--user must be an active member of that organisation.")
        raw = issue_token(organisation=organisation, user=membership.user, name=options["name"])
        self.stdout.write(f"Token (shown once; send it as X-Zorgsleutel-Token):\n{raw}")
