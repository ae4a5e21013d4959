"""Portal-wide middleware: the scheme behind a proxy, security headers, request size limits,
request context for audit."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from zorgsleutel.core import proxies, requestcontext

FORWARDED_PROTO = "HTTP_X_FORWARDED_PROTO"


class ForwardedProtoMiddleware:
    """Believe X-Forwarded-Proto only from our own reverse proxy (settings.TRUSTED_PROXIES).

    Replaces Django's SECURE_PROXY_SSL_HEADER, which believes the header from any peer: a client
    that reaches gunicorn directly over plain HTTP could say "https" and be treated as a TLS
    request (no redirect to https, an HSTS header, https in links built from the request).
    From a trusted peer the header sets the WSGI scheme (request.is_secure() reads it); from any
    other peer it is removed, so nothing later can read it. Must come first in MIDDLEWARE.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        proto = request.META.get(FORWARDED_PROTO)
        if proto is not None:
            peer = request.META.get("REMOTE_ADDR") or ""
            if settings.BEHIND_TLS_PROXY and proxies.peer_in(
                peer, settings.TRUSTED_PROXIES, setting="TRUSTED_PROXIES"
            ):
                scheme = proto.strip().lower()
                if scheme in ("http", "https"):  # nginx sends exactly $scheme; else ignore it
                    request.META["wsgi.url_scheme"] = scheme
            else:
                del request.META[FORWARDED_PROTO]
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """Content-Security-Policy (no 'unsafe-inline', frame-ancestors 'none') and friends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        response.headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        return response


def allow_form_answers_to(response: HttpResponse, origin: str) -> HttpResponse:
    """Let this page's forms be answered with a redirect to `origin` (a checked origin, e.g. an
    application's registered redirect URI's): browsers apply the CSP's form-action to the
    redirects that answer a form too, so `form-action 'self'` alone blocks them."""
    widened = f"form-action 'self' {origin}"
    policy = response.get("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
    if widened not in policy:
        response["Content-Security-Policy"] = policy.replace("form-action 'self'", widened, 1)
    return response


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.META.get(
        "HTTP_ACCEPT", ""
    )


class RequestLimitsMiddleware:
    """Refuse oversized bodies with 413 before any view reads them."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return self._refuse(request, 400, "bad_content_length", "Invalid Content-Length.")
        if length > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
            return self._refuse(request, 413, "body_too_large", "Request body too large.")
        return self.get_response(request)

    def _refuse(self, request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
        if wants_json(request):
            return JsonResponse({"error": code, "message": message}, status=status)
        response = TemplateResponse(
            request, "errors/error.html", {"status": status, "message": message}, status=status
        )
        return response


class RequestContextMiddleware:
    """Make IP and user agent available to audit.record() for the length of the request."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = requestcontext.activate(requestcontext.from_request(request))
        try:
            return self.get_response(request)
        finally:
            requestcontext.reset(token)
