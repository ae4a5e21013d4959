"""SMS gateways, configured as an alias dict (SMS_GATEWAYS) in failover order.

`deliver()` tries each gateway in turn until one accepts the message and returns every attempt;
the caller records them (service.py, in one short transaction after the send).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from zorgsleutel.vault.gateways.base import GatewayError, SmsGateway, SmsMessage

__all__ = ["GatewayError", "SmsGateway", "SmsMessage", "configured_gateways", "deliver"]


@dataclass(frozen=True)
class Attempt:
    gateway: str
    ok: bool
    reference: str
    error: str
    at: datetime


@dataclass(frozen=True)
class Outcome:
    ok: bool
    attempts: tuple[Attempt, ...]
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


def deliver(*, send_id: int, to: str, hint: str, body: str) -> Outcome:
    """Hand the message to each gateway in turn until one accepts it. Writes nothing."""
    message = SmsMessage(
        to=to, hint=hint, body=body, sender=settings.VAULT_SMS_SENDER, reference=str(send_id)
    )
    errors, attempts = [], []
    for gateway in configured_gateways():
        try:
            reference = gateway.send(message)
        except GatewayError as exc:
            errors.append(f"{gateway.alias}: {exc}")
            attempts.append(Attempt(gateway.alias, False, "", str(exc), timezone.now()))
            continue
        attempts.append(Attempt(gateway.alias, True, reference, "", timezone.now()))
        return Outcome(True, tuple(attempts), gateway.alias)
    return Outcome(False, tuple(attempts), error="; ".join(errors) or "no SMS gateway configured")
