"""The smartcard CA's status endpoints as a small WSGI application in front of the portal's
(docs/smartcards.md, "Status: CRL and OCSP"; docs/benchmarks.md, OCSP).

    application = status_app.mount(get_wsgi_application())   # zorgsleutel/wsgi.py

Relying parties ask these four addresses often, with no cookie and nothing to protect by a
session, CSRF token or page headers: Django's middleware would cost them more than the answer
(and would add `Vary: Cookie, Accept-Language`, which keeps shared caches from holding RFC 5019
answers). So the exact paths below are answered here, by the same functions as the portal's
views (smartcards/status_views.py, publication.py), and every other request goes to Django
untouched. Django's request signals are sent, so database connections are handled as for a
view. A request body is read only up to its Content-Length, at most MAX_REQUEST_BYTES.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Iterable

from cryptography.hazmat.primitives import serialization
from django.core import signals

from zorgsleutel.core import clock
from zorgsleutel.core.errors import ServiceUnavailable

# publication (and the views' constant) import the models: they are imported when the first
# request comes, so that `mount` may wrap the portal before Django's apps are loaded.

logger = logging.getLogger(__name__)

OCSP, OCSP_GET, CRL, CA_CERTIFICATE = (
    "/smartcards/ocsp",
    "/smartcards/ocsp/",
    "/smartcards/ca.crl",
    "/smartcards/ca.cer",
)
MAX_REQUEST_BYTES = 10_000  # an OCSP request for one certificate is about 100 bytes
_REASONS = {
    200: "200 OK",
    304: "304 Not Modified",
    400: "400 Bad Request",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    413: "413 Content Too Large",
    500: "500 Internal Server Error",
    503: "503 Service Unavailable",
}

Response = tuple[int, dict[str, str], bytes]


def _plain(status: int, text: str, **headers: str) -> Response:
    return status, {"Content-Type": "text/plain; charset=utf-8", **headers}, text.encode()


def _published(environ: dict, body: bytes, headers: dict[str, str]) -> Response:
    """A cacheable answer, or 304 when the client holds it already (If-None-Match)."""
    etag = headers.get("ETag")
    if etag and environ.get("HTTP_IF_NONE_MATCH", "") in (etag, "*"):
        return 304, {k: v for k, v in headers.items() if k != "Content-Type"}, b""
    return 200, headers, body


def _ocsp(environ: dict, request_der: bytes) -> Response:
    from zorgsleutel.smartcards import publication

    answer = publication.answer(request_der)
    headers = answer.headers(clock.now())
    if answer.this_update is None or environ["REQUEST_METHOD"] == "POST":
        return 200, headers, answer.body
    return _published(environ, answer.body, headers)


def _posted(environ: dict) -> bytes | Response:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _plain(400, "Invalid Content-Length.")
    if length > MAX_REQUEST_BYTES:
        return _plain(413, "Request body too large.")
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _from_path(path: str) -> bytes:
    """The request in a GET's path: base64 of its DER, URL-encoded (RFC 6960 appendix A.1: the
    server decoded that); empty (answered malformedRequest) when it is not base64."""
    try:
        return base64.b64decode(path[len(OCSP_GET) :], validate=True)
    except (binascii.Error, ValueError):
        return b""


def _answer(environ: dict, path: str) -> Response:
    from zorgsleutel.smartcards import publication
    from zorgsleutel.smartcards.status_views import CA_CERTIFICATE_MAX_AGE

    method = environ["REQUEST_METHOD"]
    if path == OCSP:
        if method != "POST":
            return _plain(405, "Method not allowed.", Allow="POST")
        posted = _posted(environ)
        return posted if isinstance(posted, tuple) else _ocsp(environ, posted)
    if method not in ("GET", "HEAD"):
        return _plain(405, "Method not allowed.", Allow="GET, HEAD")
    if path.startswith(OCSP_GET):
        return _ocsp(environ, _from_path(path))
    try:
        if path == CRL:
            crl = publication.current_crl()
            return _published(environ, crl.der, crl.headers(clock.now()))
        certificate = publication.issuing_certificate()
    except ServiceUnavailable as error:
        return _plain(503, str(error.message), **{"Retry-After": "60"})
    return (
        200,
        {
            "Content-Type": "application/pkix-cert",
            "Cache-Control": f"max-age={CA_CERTIFICATE_MAX_AGE}, public",
        },
        certificate.public_bytes(serialization.Encoding.DER),
    )


def ours(path: str) -> bool:
    return path in (OCSP, CRL, CA_CERTIFICATE) or path.startswith(OCSP_GET)


def application(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """The status endpoints alone (gunicorn can serve this on its own as well)."""
    # The WSGI server decoded the path from latin-1 bytes; base64 and our paths are ASCII.
    path = environ.get("PATH_INFO", "")
    signals.request_started.send(sender=__name__, environ=environ)
    try:
        if not ours(path):
            status, headers, body = _plain(404, "Not found.")
        else:
            status, headers, body = _answer(environ, path)
    except Exception:
        logger.exception("the smartcard status endpoint %s failed", path)
        status, headers, body = _plain(500, "Internal error.")
    finally:
        signals.request_finished.send(sender=__name__)
    headers = {**headers, "Content-Length": str(len(body)), "X-Content-Type-Options": "nosniff"}
    start_response(_REASONS[status], list(headers.items()))
    return [b"" if environ["REQUEST_METHOD"] == "HEAD" else body]


def mount(portal: Callable) -> Callable:
    """`portal` (Django's WSGI application) with the status paths answered here first."""

    def dispatch(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if ours(environ.get("PATH_INFO", "")):
            return application(environ, start_response)
        return portal(environ, start_response)

    return dispatch
