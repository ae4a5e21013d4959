"""SMS gateways, configured as an alias dict (SMS_GATEWAYS) in failover order.

`deliver()` tries each gateway in turn until one accepts the message, recording every attempt.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from zorgsleutel.vault.gateways.base import GatewayError, SmsGateway, SmsMessage
from zorgsleutel.vault.models import DeliveryAttempt, SmsSend

__all__ = ["GatewayError", "SmsGateway", "SmsMessage", "configured_gateways", "deliver"]


@dataclass(frozen=True)
class Outcome:
    ok: bool
    gateway: str = ""
    error: str = ""


@cache
def configured_gateways() -> tuple[SmsGateway, ...]:
    loaded = []
    for alias, config in settings.SMS_GATEWAYS.items():
        cls = import_string(config["BACKEND"])
        loaded.append(cls(alias=alias, **config.get("OPTIONS", {})))
    return tuple(loaded)


def reset() -> None:
    configured_gateways.cache_clear()


def deliver(*, send: SmsSend, to: str, hint: str, body: str) -> Outcome:
    message = SmsMessage(
        to=to, hint=hint, body=body, sender=settings.VAULT_SMS_SENDER, reference=str(send.pk)
    )
    errors = []
    for gateway in configured_gateways():
        try:
            reference = gateway.send(message)
        except GatewayError as exc:
            errors.append(f"{gateway.alias}: {exc}")
            DeliveryAttempt.objects.create(
                send=send, gateway=gateway.alias, ok=False, error=str(exc)[:300], at=timezone.now()
            )
            continue
        DeliveryAttempt.objects.create(
            send=send, gateway=gateway.alias, ok=True, reference=reference[:120], at=timezone.now()
        )
        return Outcome(True, gateway.alias)
    return Outcome(False, error="; ".join(errors) or "no SMS gateway configured")
