"""/api/app/v1: what the Zorgsleutel app talks to (no cookies; every call names its object)."""

from __future__ import annotations

from typing import Annotated

from django.http import HttpRequest
from ninja import NinjaAPI, Schema, Status
from pydantic import ConfigDict, StringConstraints

from zorgsleutel import appprotocol
from zorgsleutel.core import apierrors, ratelimit
from zorgsleutel.core.errors import DomainError
from zorgsleutel.core.requestcontext import client_ip
from zorgsleutel.mobileapp import enrolment as app_enrolment
from zorgsleutel.mobileapp import flows

api = NinjaAPI(
    title="Zorgsleutel app protocol", version="1", urls_namespace="appapi", docs_url="/docs"
)

B64 = Annotated[
    str, StringConstraints(min_length=1, max_length=400, pattern=r"^[A-Za-z0-9_-]+={0,2}$")
]


class _Strict(Schema):
    model_config = ConfigDict(extra="forbid", strict=True)


class EnrolIn(_Strict):
    public_key: B64
    secret: B64
    name: Annotated[str, StringConstraints(max_length=100)] = "App"


class AnswerIn(_Strict):
    device: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    response: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
    signature: B64


apierrors.install(api)


def _limit(request: HttpRequest, *actions: str) -> None:
    for action in ("app.request", *actions):
        ratelimit.consume(action=action, ip=client_ip(request))


@api.get("/enrolments/{code}")
def enrolment(request: HttpRequest, code: str):
    _limit(request, "app.enrol")
    return app_enrolment.enrolment_info(code=code)


@api.post("/enrolments/{code}", response={201: dict})
def enrol(request: HttpRequest, code: str, payload: EnrolIn):
    _limit(request, "app.enrol")
    try:
        public_key, secret = (
            appprotocol.unb64(payload.public_key),
            appprotocol.unb64(payload.secret),
        )
    except ValueError:
        raise DomainError("invalid_request", "Bad base64.") from None
    device = app_enrolment.complete_enrolment(
        code=code, public_key=public_key, secret=secret, name=payload.name
    )
    return Status(201, {"device": device.public_id})


@api.get("/logins/{challenge_id}")
def login(request: HttpRequest, challenge_id: str):
    _limit(request)
    return flows.login_info(challenge_id=challenge_id)


@api.post("/logins/{challenge_id}")
def answer(request: HttpRequest, challenge_id: str, payload: AnswerIn):
    _limit(request)  # the per-app-ID limit counts signed answers only (flows.answer_login)
    try:
        signature = appprotocol.unb64(payload.signature)
    except ValueError:
        raise DomainError("invalid_request", "Bad base64.") from None
    result = flows.answer_login(
        challenge_id=challenge_id,
        device_id=payload.device,
        response=payload.response,
        signature=signature,
    )
    return {"result": result.result, "attempts_left": result.attempts_left}
