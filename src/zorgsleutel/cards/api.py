"""/api/card/v1: what the card client talks to (docs/card-protocol.md; no cookies)."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import NinjaAPI, Schema
from pydantic import ConfigDict, Field, StringConstraints

from zorgsleutel import cardprotocol
from zorgsleutel.cards import flows
from zorgsleutel.core import apierrors, ratelimit
from zorgsleutel.core.errors import DomainError
from zorgsleutel.core.requestcontext import client_ip

api = NinjaAPI(
    title="Zorgsleutel card protocol", version="1", urls_namespace="cardapi", docs_url="/docs"
)

PEM = Annotated[str, StringConstraints(min_length=1, max_length=12000)]


class AnswerIn(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)

    certificates: list[PEM] = Field(min_length=1, max_length=10)
    signature: Annotated[
        str, StringConstraints(min_length=1, max_length=1400, pattern=r"^[A-Za-z0-9_-]+={0,2}$")
    ]
    algorithm: Annotated[str, StringConstraints(max_length=40)]


class CsrIn(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)

    csr: Annotated[str, StringConstraints(min_length=1, max_length=4000)]
    card_serial: Annotated[
        str, StringConstraints(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")
    ]


apierrors.install(api)


def _limit(request: HttpRequest) -> None:
    ratelimit.consume(action="card.request", ip=client_ip(request))


@api.get("/challenges/{code}")
def challenge(request: HttpRequest, code: str):
    _limit(request)
    return flows.challenge_info(code=code[:20])


@api.post("/challenges/{challenge_id}/answer")
def answer(request: HttpRequest, challenge_id: str, payload: AnswerIn):
    _limit(request)
    ratelimit.consume(action="card.answer", challenge=challenge_id[:40])
    try:
        signature = cardprotocol.unb64(payload.signature)
    except ValueError:
        raise DomainError("invalid_request", "Bad base64.") from None
    return flows.answer_with_signature(
        challenge_id=challenge_id[:40],
        certificates=payload.certificates,
        signature=signature,
        algorithm=payload.algorithm,
    )


@api.post("/challenges/{challenge_id}/csr")
def csr(request: HttpRequest, challenge_id: str, payload: CsrIn):
    """Making a card: the card's certificate signing request (docs/card-protocol.md)."""
    _limit(request)
    ratelimit.consume(action="card.answer", challenge=challenge_id[:40])
    return flows.answer_with_csr(
        challenge_id=challenge_id[:40], csr=payload.csr, card_serial=payload.card_serial
    )
