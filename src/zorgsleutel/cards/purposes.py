"""What a presented card is for. Capabilities register a handler for their purpose at start-up
(AppConfig.ready), so this package needs to know none of them.

A purpose may bring its own `verify` (the certificates of a card that is not a UZI card: a
Zorgsleutel smartcard, whose CA is the portal's own) and its own `csr` handler (a card being
made: the card client sends a certificate signing request instead of a signature)."""

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


# verify(certificates) -> (identity, leaf certificate); raise DomainError to refuse the card.
Verifier = Callable[[list], tuple[Any, Any]]
# csr(challenge, csr PEM, card serial) -> (details for the result, answer for the client).
CsrHandler = Callable[[Any, str, str], tuple[dict, dict]]
_verifiers: dict[str, Verifier] = {}
_csr_handlers: dict[str, CsrHandler] = {}


# handler(challenge, presentation) -> details for the result; raise DomainError to refuse.
Handler = Callable[[Any, Presentation], dict]
_handlers: dict[str, Handler] = {}
# describe(challenge) -> what the card holder is asked to approve, shown by the card client.
_descriptions: dict[str, Callable[[Any], str]] = {}


def register(
    purpose: str,
    handler: Handler | None,
    describe: Callable[[Any], str] | None = None,
    *,
    verify: Verifier | None = None,
    csr: CsrHandler | None = None,
) -> None:
    if handler is not None:
        _handlers[purpose] = handler
    if describe is not None:
        _descriptions[purpose] = describe
    if verify is not None:
        _verifiers[purpose] = verify
    if csr is not None:
        _csr_handlers[purpose] = csr


def verifier_for(purpose: str) -> Verifier | None:
    """The purpose's own check of a presented card's certificates, or None (a UZI card)."""
    return _verifiers.get(purpose)


def csr_handler_for(purpose: str) -> CsrHandler:
    try:
        return _csr_handlers[purpose]
    except KeyError:
        raise DomainError(
            "unknown_purpose", "This challenge does not make a card: present your card instead."
        ) from None


def describe(challenge) -> str:
    describer = _descriptions.get(challenge.purpose)
    return describer(challenge) if describer else challenge.purpose


def handler_for(purpose: str) -> Handler:
    try:
        return _handlers[purpose]
    except KeyError:
        raise DomainError("unknown_purpose", "This challenge has no handler.") from None
