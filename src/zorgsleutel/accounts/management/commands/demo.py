"""zorgsleutel demo: load the demo organisations and people (idempotent; DEBUG only)."""

from django.core.management.base import BaseCommand, CommandError

from zorgsleutel import vaultclient
from zorgsleutel.demo import banner
from zorgsleutel.demo.load import DemoRefused, load


class Command(BaseCommand):
    help = "Load the demo data of DESIGN.md (two organisations, demo people, demo phones)."

    def handle(self, *args, **options):
        try:
            counts = load()
        except DemoRefused as exc:
            raise CommandError(str(exc)) from None
        except vaultclient.VaultError as exc:
            raise CommandError(f"The vault is needed for the demo phones: {exc}") from None
        self.stdout.write(
            "Demo data: {organisations} organisation(s), {people} person(s), "
            "{phones} phone(s), {apps} app(s) added.".format(**counts)
        )
        if options["verbosity"] > 1:
            self.stdout.write("\n".join(banner()))
