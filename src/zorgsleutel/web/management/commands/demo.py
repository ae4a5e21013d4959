"""zorgsleutel demo: load the demo organisations and people (idempotent; DEBUG only)."""

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from zorgsleutel import vaultclient
from zorgsleutel.demo import APPLICATION, banner
from zorgsleutel.demo.load import DemoRefused, load


class Command(BaseCommand):
    help = "Load the demo data of the README (two organisations, demo people, demo phones)."

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
        if counts["applications"]:
            self.stdout.write(f"Demo application of {APPLICATION.organisation_name}: approved.")
        if counts["sso_clients"]:
            self.stdout.write("Demo relying party: registered for single sign-on.")
        self.make_test_card()
        from zorgsleutel.demo import smartcards

        self.stdout.write(smartcards.prepare())
        if options["verbosity"] > 1:
            self.stdout.write("\n".join(banner(settings.SITE_URL)))

    def make_test_card(self) -> None:
        """The demo applicant's UZI card on a SoftHSM2 token; the demo works on without it."""
        try:
            call_command(
                "uzi",
                "make-test-card",
                token_label=APPLICATION.card_label,
                pin=APPLICATION.card_pin,
                ura=APPLICATION.ura,
                uzi_number=APPLICATION.uzi_number,
                name=APPLICATION.applicant_name,
                organisation=APPLICATION.organisation_name,
                stdout=self.stdout,
            )
        except CommandError as exc:
            self.stdout.write(
                f"No demo UZI card: {exc}. The rest of the demo works; to validate the demo "
                "application, install SoftHSM2 (apt-get install softhsm2) and run `make run` again."
            )
