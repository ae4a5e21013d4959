"""Test-only URLconf: a stand-in for the UZI view that shows what clientcert extracted."""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes
from django.http import HttpRequest, JsonResponse
from django.urls import path

from zorgsleutel.core import clientcert


def echo_certificate(request: HttpRequest, challenge_id: str) -> JsonResponse:
    seen = {
        "challenge_id": challenge_id,
        "remote_addr": request.META.get("REMOTE_ADDR"),
        "forwarded_proto": request.META.get("HTTP_X_FORWARDED_PROTO"),
        "secure": request.is_secure(),
        "absolute_uri": request.build_absolute_uri(),
        "header_present": clientcert.header_key() in request.META,
    }
    try:
        certificate = clientcert.client_certificate(request)
    except clientcert.ClientCertificateError as error:
        return JsonResponse({**seen, **error.as_dict()}, status=error.status)
    if certificate is None:
        return JsonResponse({**seen, "certificate": None})
    return JsonResponse(
        {
            **seen,
            "certificate": {
                "subject": certificate.subject.rfc4514_string(),
                "sha256": certificate.fingerprint(hashes.SHA256()).hex(),
            },
        }
    )


urlpatterns = [
    path("uzi/tls/<str:challenge_id>", echo_certificate),
    path("elsewhere/<str:challenge_id>", echo_certificate),
]
