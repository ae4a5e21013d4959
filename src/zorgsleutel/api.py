"""The JSON API under /api/v1 (django-ninja, OpenAPI at /api/v1/openapi.json).

Errors are always {"error": code, "message": text}: domain errors keep their stable code,
validation errors become "invalid_request" with the offending fields.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from zorgsleutel.core.errors import DomainError

api = NinjaAPI(
    title="Zorgsleutel API",
    version="1",
    urls_namespace="api",
    docs_url="/docs",
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError):
    fields = [
        {
            "field": ".".join(str(p) for p in e.get("loc", []) if p not in ("body", "payload")),
            "message": e.get("msg", ""),
        }
        for e in exc.errors
    ]
    return api.create_response(
        request,
        {"error": "invalid_request", "message": "The request is not valid.", "fields": fields},
        status=400,
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request, {"error": "unauthenticated", "message": "Log in first."}, status=401
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    return api.create_response(
        request, {"error": "http_error", "message": str(exc)}, status=exc.status_code
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    return api.create_response(request, {"error": "not_found", "message": "Not found."}, status=404)


@api.get("/health", auth=None, tags=["meta"])
def health(request: HttpRequest) -> dict:
    """Liveness of the API itself (see /healthz for database and vault)."""
    return {"status": "ok"}


def _register_routers() -> None:
    from zorgsleutel.accounts.api.members import router as members_router

    api.add_router("/", members_router)


_register_routers()
