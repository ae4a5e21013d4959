"""The smartcard CA's status over HTTP, for relying parties (docs/smartcards.md): the CRL, the
issuing CA's certificate and the OCSP responder (RFC 6960 appendix A: POST, or GET with the
request base64-encoded in the path). No session and no CSRF token: these answers are public,
the same for everyone, and change nothing; a cacheable one carries the headers of RFC 5019
section 6 and answers a conditional GET with 304."""

from __future__ import annotations

import base64
import binascii

from cryptography.hazmat.primitives import serialization
from django.http import HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from zorgsleutel.core import clock
from zorgsleutel.core.errors import ServiceUnavailable
from zorgsleutel.smartcards import publication

CA_CERTIFICATE_MAX_AGE = 24 * 3600  # the certificate changes only with a new issuing CA


def _conditional(request: HttpRequest, response: HttpResponse, published) -> HttpResponse:
    return (
        get_conditional_response(
            request,
            etag=published.etag,
            last_modified=int(published.this_update.timestamp()),
            response=response,
        )
        or response
    )


def _ocsp(request: HttpRequest, request_der: bytes) -> HttpResponse:
    answer = publication.answer(request_der)
    response = HttpResponse(answer.body, headers=answer.headers(clock.now()))
    if answer.this_update is None or request.method != "GET":
        return response
    return _conditional(request, response, answer)


@csrf_exempt
@require_POST
def ocsp_post(request: HttpRequest) -> HttpResponse:
    return _ocsp(request, request.body)


@require_safe
def ocsp_get(request: HttpRequest, encoded: str) -> HttpResponse:
    """The request in the path: base64 of its DER, URL-encoded (the server decoded that)."""
    try:
        request_der = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        request_der = b""  # answered malformedRequest
    return _ocsp(request, request_der)


def _unavailable(error: ServiceUnavailable) -> HttpResponse:
    response = HttpResponse(str(error.message), status=503, content_type="text/plain")
    response["Retry-After"] = "60"
    return response


@require_safe
def crl(request: HttpRequest) -> HttpResponse:
    try:
        published = publication.current_crl()
    except ServiceUnavailable as error:
        return _unavailable(error)
    response = HttpResponse(published.der, headers=published.headers(clock.now()))
    return _conditional(request, response, published)


@require_safe
def ca_certificate(request: HttpRequest) -> HttpResponse:
    try:
        certificate = publication.issuing_certificate()
    except ServiceUnavailable as error:
        return _unavailable(error)
    return HttpResponse(
        certificate.public_bytes(serialization.Encoding.DER),
        headers={
            "Content-Type": "application/pkix-cert",
            "Cache-Control": f"max-age={CA_CERTIFICATE_MAX_AGE}, public",
        },
    )
