"""zorgsleutel mail send-test EMAIL | requeue: outbox tools for operators."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.db import transaction

from zorgsleutel.core import audit
from zorgsleutel.messaging import outbox, tasks


class Command(BaseCommand):
    help = "Outbox tools: 'send-test EMAIL' queues a test mail; 'requeue' re-queues stranded mail."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["send-test", "requeue"])
        parser.add_argument("email", nargs="?")
        parser.add_argument("--locale", choices=["nl", "en"], default="nl")
        parser.add_argument(
            "--older-than",
            type=int,
            default=15 * 60,
            metavar="SECONDS",
            help="requeue: only mails stuck at least this long (default 900)",
        )

    def handle(self, *args, **options):
        if options["action"] == "requeue":
            older = timedelta(seconds=max(options["older_than"], 0))
            self.stdout.write(f"Re-queued {tasks.requeue_stranded(older_than=older)} mail(s).")
            return
        email = options["email"] or ""
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"Not an e-mail address: {email!r}") from None
        with transaction.atomic():
            mail = outbox.enqueue_mail(
                template="test", to=email, context={}, locale=options["locale"]
            )
            audit.record("mail.test_queued", actor="cli", target=f"mail:{mail.message_id}")
        self.stdout.write(f"Queued test mail {mail.message_id} to {email}.")
