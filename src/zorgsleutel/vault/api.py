"""The vault's HTTP API. Every endpoint is signed (auth.py); none returns a number or a code.

POST /v1/enrolments                 {"phone", "locale"} -> enrolment, hint, challenge
POST /v1/enrolments/<id>/challenge  {}                  -> challenge (new code; resend after 30 s)
POST /v1/enrolments/<id>/notices    {"kind", "locale"}  -> notice sent (a fixed text)
GET  /v1/enrolments/<id>                                -> hint
DELETE /v1/enrolments/<id>                              -> erased
POST /v1/challenges/<id>/verify     {"code"}            -> ok | wrong (n left) | expired | blocked
GET  /v1/health                                         -> database reachable
GET  /v1/dev/sms[?since=ISO time]   (DEBUG only)        -> the dev gateway's outbox, masked
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from pydantic import BaseModel, ConfigDict, StringConstraints

from zorgsleutel.vault import auth, jsonbody, notices, policies, service, writelock
from zorgsleutel.vault.errors import VaultError
from zorgsleutel.vault.models import DevSms

logger = logging.getLogger(__name__)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class EnrolIn(_Strict):
    phone: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    locale: Literal["nl", "en"] = "nl"


class VerifyIn(_Strict):
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")]


class NoticeIn(_Strict):
    kind: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    locale: Literal["nl", "en"] = "nl"


class EmptyIn(_Strict):
    pass


def endpoint(
    methods: dict[str, tuple[type[_Strict] | None, Callable]],
    *,
    delivers: Callable[[object], dict] | None = None,
    with_request: bool = False,
) -> Callable:
    """A signed JSON endpoint: method dispatch, auth, body validation, errors as JSON.

    Requests are authenticated and handled in one transaction (one lock, one commit). A request
    refused inside the transaction (e.g. 404) rolls its nonce back too; replaying it changes
    nothing either. Where an SMS is sent (`delivers`), the handler only prepares the send in
    that transaction (service.prepare_*, notices.prepare_notice; their refusals come before any
    write and keep the nonce) and `delivers(prepared)` calls the gateway after the commit: a
    gateway call must not hold database locks.
    """

    def view(request: HttpRequest, **kwargs) -> JsonResponse:
        try:
            if request.method not in methods:
                raise VaultError("method_not_allowed", "Method not allowed.", status=405)
            schema, handler = methods[request.method]
            body = jsonbody.read(request)
            if delivers:
                refused = None
                with writelock.serialised_writes(), transaction.atomic():
                    client = auth.authenticate(request, body)
                    try:
                        payload = jsonbody.parse(schema, body) if schema else None
                        prepared = handler(client=client, payload=payload, **kwargs)
                    except VaultError as exc:  # nothing written but the nonce: keep it
                        refused = exc
                if refused is not None:
                    raise refused
                status, data = 201, delivers(prepared)
            else:
                with writelock.serialised_writes(), transaction.atomic():
                    client = auth.authenticate(request, body)
                    payload = jsonbody.parse(schema, body) if schema else None
                    if with_request:
                        kwargs["request"] = request
                    status, data = handler(client=client, payload=payload, **kwargs)
            return JsonResponse(data, status=status)
        except VaultError as exc:
            response = JsonResponse(exc.as_dict(), status=exc.status)
            if exc.status == 429 and "retry_after" in exc.extra:
                response["Retry-After"] = str(exc.extra["retry_after"])
            return response

    view.csrf_exempt = True  # type: ignore[attr-defined]  # signed API, no cookies
    return view


def _deliver_code(prepared: service.PreparedSend) -> dict:
    sent = service.deliver(prepared)
    return {
        "enrolment": sent.enrolment,
        "challenge": sent.challenge,
        "hint": sent.hint,
        "expires_at": sent.expires_at.isoformat(),
        "resend_after": sent.resend_after.isoformat(),
    }


def _enrol(*, client: str, payload: EnrolIn) -> service.PreparedSend:
    return service.prepare_enrolment(client=client, phone=payload.phone, locale=payload.locale)


def _challenge(*, client: str, payload: EmptyIn, enrolment_id: str) -> service.PreparedSend:
    return service.prepare_challenge(client=client, enrolment_id=enrolment_id)


def _notice(*, client: str, payload: NoticeIn, enrolment_id: str) -> notices.PreparedNotice:
    return notices.prepare_notice(
        client=client, enrolment_id=enrolment_id, kind=payload.kind, locale=payload.locale
    )


def _deliver_notice(prepared: notices.PreparedNotice) -> dict:
    sent = notices.deliver_notice(prepared)
    return {"enrolment": sent.enrolment, "notice": sent.notice, "hint": sent.hint}


def _hint(*, client: str, payload: None, enrolment_id: str) -> tuple[int, dict]:
    return 200, service.hint(client=client, enrolment_id=enrolment_id)


def _erase(*, client: str, payload: None, enrolment_id: str) -> tuple[int, dict]:
    service.erase(client=client, enrolment_id=enrolment_id)
    return 200, {"enrolment": enrolment_id, "erased": True}


def _verify(*, client: str, payload: VerifyIn, challenge_id: str) -> tuple[int, dict]:
    verdict = service.verify(client=client, challenge_id=challenge_id, code=payload.code)
    return 200, {
        "result": verdict.result,
        "attempts_left": verdict.attempts_left,
        "enrolment": verdict.enrolment,
    }


def _health(*, client: str, payload: None) -> tuple[int, dict]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return 200, {"status": "ok"}


def _dev_sms(*, client: str, payload: None, request: HttpRequest) -> tuple[int, dict]:
    if not settings.DEBUG:
        raise VaultError("not_found", "Not found.", status=404)
    rows = DevSms.objects.order_by("-sent_at", "-pk")
    since = request.GET.get("since")
    if since:  # only messages sent at or after this moment (ISO 8601 with offset)
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            raise VaultError(
                "invalid_field", "since: not an ISO 8601 time", field="since"
            ) from None
        if moment.tzinfo is None:
            raise VaultError("invalid_field", "since: needs a UTC offset", field="since")
        rows = rows.filter(sent_at__gte=moment)
    rows = rows[: policies.DEV_OUTBOX_LIMIT]
    return 200, {
        "messages": [
            {"to": sms.hint, "body": sms.body, "sent_at": sms.sent_at.isoformat()} for sms in rows
        ]
    }


enrolments = endpoint({"POST": (EnrolIn, _enrol)}, delivers=_deliver_code)
enrolment = endpoint({"GET": (None, _hint), "DELETE": (None, _erase)})
challenge = endpoint({"POST": (EmptyIn, _challenge)}, delivers=_deliver_code)
notices_of = endpoint({"POST": (NoticeIn, _notice)}, delivers=_deliver_notice)
verify = endpoint({"POST": (VerifyIn, _verify)})
health = endpoint({"GET": (None, _health)})
dev_sms = endpoint({"GET": (None, _dev_sms)}, with_request=True)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"error": "not_found", "message": "Not found."}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"error": "server_error", "message": "Internal error."}, status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"error": "bad_request", "message": "Bad request."}, status=400)
