"""The error answers of the machine protocols (/api/app/v1, /api/card/v1): a DomainError as
{"error": code, "message": text} with its status; any invalid body as one stable 400."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import ValidationError

from zorgsleutel.core.errors import DomainError


def install(api: NinjaAPI) -> None:
    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError):
        response = api.create_response(request, exc.as_dict(), status=exc.status)
        for name, value in exc.headers().items():
            response[name] = value
        return response

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError):
        return api.create_response(
            request,
            {"error": "invalid_request", "message": _("The request is not valid.")},
            status=400,
        )
