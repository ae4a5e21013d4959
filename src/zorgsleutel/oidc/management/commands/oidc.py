"""zorgsleutel oidc rotate-keys [--start]: advance the signing keys' schedule (oidc/keys.py).
zorgsleutel oidc requeue-logouts: queue again the back-channel logouts a dead worker left
behind (oidc/backchannel.py; run it as often as `zorgsleutel mail requeue`).

Run it daily (cron, or a systemd timer; `zorgsleutel run` runs it at start-up): it makes the
first key, publishes a successor ahead of use, lets it sign once published long enough,
removes retired keys after their overlap, and seals keys again after a SECRET_KEY rotation.
--start publishes a successor now (an early, planned rotation). Prints one line per change."""

from django.core.management.base import BaseCommand, CommandError

from zorgsleutel.oidc import backchannel, keys


class Command(BaseCommand):
    help = (
        "Single sign-on: 'rotate-keys' advances the ID token signing keys' schedule; "
        "'requeue-logouts' queues again the back-channel logouts a dead worker left behind."
    )

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["rotate-keys", "requeue-logouts"])
        parser.add_argument("--start", action="store_true", help="publish a successor key now")

    def handle(self, *args, **options):
        if options["action"] == "requeue-logouts":
            self.stdout.write(f"queued again: {backchannel.requeue_stranded()}")
            return
        try:
            done = keys.rotate(start=options["start"])
        except ValueError as error:  # a key sealed under a SECRET_KEY that is gone
            raise CommandError(
                f"{error}: put the SECRET_KEY it was sealed with in "
                "SECRET_KEY_FALLBACKS and run this again."
            ) from None
        for line in done or ["nothing to do: the keys are on schedule"]:
            self.stdout.write(line)
