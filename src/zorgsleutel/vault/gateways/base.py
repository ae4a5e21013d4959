"""What every SMS gateway implements."""

from __future__ import annotations

from dataclasses import dataclass


class GatewayError(Exception):
    """The gateway did not accept the message (network error, refusal, bad answer)."""


@dataclass(frozen=True)
class SmsMessage:
    to: str  # E.164, e.g. "+31612345678"; never logged
    hint: str  # masked number, safe to log and show
    body: str
    sender: str
    reference: str  # our id for this send, passed to providers that accept one

    def __repr__(self) -> str:  # keep numbers and codes out of logs and tracebacks
        return f"SmsMessage(to={self.hint!r}, reference={self.reference!r})"


class SmsGateway:
    """Send one SMS; return the provider's message reference or raise GatewayError."""

    def __init__(self, *, alias: str, **options):
        self.alias = alias
        self.options = options

    def send(self, message: SmsMessage) -> str:
        raise NotImplementedError
