"""The JSON API under /api/v1 (django-ninja, OpenAPI at /api/v1/openapi.json).

Errors are always {"error": code, "message": text}: domain errors keep their stable code,
validation errors become "invalid_request" with the offending fields.

Interactive docs (Swagger UI at /api/*/docs) exist only with settings.API_DOCS (DEBUG), for every
NinjaAPI of the portal, and come from django-ninja's own static files ("ninja" is an installed
app then): ninja's fallback page loads Swagger UI from a CDN, which our CSP (script-src 'self')
blocks. The OpenAPI schemas (openapi.json) stay public: clients generate code from them.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from zorgsleutel.core.errors import DomainError

DOCS_URL = "/docs" if settings.API_DOCS else None

api = NinjaAPI(
    title="Zorgsleutel API",
    version="1",
    urls_namespace="api",
    docs_url=DOCS_URL,
)


@api.exception_handler(DomainError)
def domain_error(request: HttpRequest, exc: DomainError):
    response = api.create_response(request, exc.as_dict(), status=exc.status)
    for name, value in exc.headers().items():  # Retry-After of a rate limit
        response[name] = value
    return response


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
        {"error": "invalid_request", "message": _("The request is not valid."), "fields": fields},
        status=400,
    )


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError):
    return api.create_response(
        request, {"error": "unauthenticated", "message": _("Log in first.")}, status=401
    )


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError):
    return api.create_response(
        request, {"error": "http_error", "message": str(exc)}, status=exc.status_code
    )


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404):
    return api.create_response(
        request, {"error": "not_found", "message": _("Not found.")}, status=404
    )


@api.get("/health", auth=None, tags=["meta"])
def health(request: HttpRequest) -> dict:
    """Liveness of the API itself (see /healthz for database and vault)."""
    return {"status": "ok"}


def _register_routers() -> None:
    from zorgsleutel.accounts.api.members import router as members_router

    api.add_router("/", members_router)


def _docs_everywhere_alike() -> None:
    """The app and card protocols' APIs follow the same docs rule as this one (read before
    urls.py asks any of them for its URL patterns)."""
    from zorgsleutel.cards.api import api as card_api
    from zorgsleutel.mobileapp.api import api as app_api

    for other in (app_api, card_api):
        other.docs_url = DOCS_URL


_register_routers()
_docs_everywhere_alike()
