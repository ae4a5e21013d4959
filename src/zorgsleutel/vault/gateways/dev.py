"""Development gateway: SMS go to the vault's dev outbox, shown (masked) in the dev mailbox."""

from __future__ import annotations

from django.utils import timezone

from zorgsleutel.vault.gateways.base import GatewayError, SmsGateway, SmsMessage
from zorgsleutel.vault.models import DevSms


class DevOutboxGateway(SmsGateway):
    def send(self, message: SmsMessage) -> str:
        sms = DevSms.objects.create(hint=message.hint, body=message.body, sent_at=timezone.now())
        return f"dev-{sms.pk}"


class FailingGateway(SmsGateway):
    """Always refuses: for failover drills and tests (`{"BACKEND": ...FailingGateway}`)."""

    def send(self, message: SmsMessage) -> str:
        raise GatewayError(self.options.get("reason", "gateway is down"))
