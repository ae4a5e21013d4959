"""What a presented card is for. Capabilities register a handler for their purpose at start-up
(AppConfig.ready), so this package needs to know none of them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from zorgsleutel.core.errors import DomainError


@dataclass(frozen=True)
class Presentation:
    """A verified UZI card: its identity (zorgsleutel.uzi) and how it was presented."""

    identity: Any
    means: str  # "card" (signed challenge) or "tls" (client certificate at the proxy)


# handler(challenge, presentation) -> details for the result; raise DomainError to refuse.
Handler = Callable[[Any, Presentation], dict]
_handlers: dict[str, Handler] = {}
# describe(challenge) -> what the card holder is asked to approve, shown by the card client.
_descriptions: dict[str, Callable[[Any], str]] = {}


def register(purpose: str, handler: Handler, describe: Callable[[Any], str] | None = None) -> None:
    _handlers[purpose] = handler
    if describe is not None:
        _descriptions[purpose] = describe


def describe(challenge) -> str:
    describer = _descriptions.get(challenge.purpose)
    return describer(challenge) if describer else challenge.purpose


def handler_for(purpose: str) -> Handler:
    try:
        return _handlers[purpose]
    except KeyError:
        raise DomainError("unknown_purpose", "This challenge has no handler.") from None
