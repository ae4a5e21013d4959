"""The TLS client certificate the reverse proxy saw (UZI cards over TLS, see deploy/nginx).

nginx asks for the certificate on the UZI host and passes it URL-escaped
(`$ssl_client_escaped_cert`) in the header settings.UZI_CLIENT_CERT_HEADER. Any client can send
that header, so it is believed only when the TCP peer is one of settings.UZI_TRUSTED_PROXIES.
The peer is REMOTE_ADDR, the socket's address: never X-Forwarded-For, which the client writes
(core.requestcontext uses that one for the audit IP, not for trust). nginx always overwrites the
header, so a client cannot pass its own through the proxy; the header arriving from any other
peer is an attack or a misconfiguration, refused and logged.

This module only reads the certificate. nginx runs with `ssl_verify_client optional_no_ca` and
checks nothing: the caller verifies chain, validity, policy and revocation with zorgsleutel.uzi.
"""

from __future__ import annotations

import logging
import urllib.parse

from cryptography import x509
from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from zorgsleutel.core import proxies
from zorgsleutel.core.errors import DomainError

security_log = logging.getLogger("zorgsleutel.security")

PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


class ClientCertificateError(DomainError):
    """The certificate header cannot be used; `code` says why, for the caller's audit event."""


class UntrustedProxy(ClientCertificateError):
    """The header came from a peer that is not a trusted proxy: forged, or a misconfiguration."""

    status = 403

    def __init__(self, peer: str):
        super().__init__(
            "untrusted_proxy",
            _("A client certificate is only accepted through the portal's own proxy."),
        )
        self.peer = peer


class MalformedCertificate(ClientCertificateError):
    """A trusted proxy passed a value that is not exactly one PEM certificate."""

    def __init__(self, peer: str):
        super().__init__(
            "malformed_certificate",
            _("The certificate of your card could not be read. Please try again."),
        )
        self.peer = peer


def client_certificate(request: HttpRequest) -> x509.Certificate | None:
    """The certificate a trusted proxy passed on, or None when the client presented none.

    Raises UntrustedProxy (logged) when the header comes from any other peer, and
    MalformedCertificate when a trusted proxy passed something that is not one certificate.
    """
    value = request.META.get(header_key(), "")
    if not value:
        return None
    peer = request.META.get("REMOTE_ADDR") or ""
    if not is_trusted_proxy(peer):
        security_log.warning(
            "client certificate header from untrusted address %r refused: %s %r",
            peer,
            request.method,
            request.path,
        )
        raise UntrustedProxy(peer)
    try:
        return parse_escaped_pem(value)
    except ValueError:
        security_log.warning("unreadable client certificate header from proxy %r", peer)
        raise MalformedCertificate(peer) from None


def header_key() -> str:
    """The request.META key of settings.UZI_CLIENT_CERT_HEADER (X-SSL-Client-Cert → HTTP_X_…)."""
    return "HTTP_" + settings.UZI_CLIENT_CERT_HEADER.upper().replace("-", "_")


def is_trusted_proxy(address: str) -> bool:
    """Whether a socket peer address lies in settings.UZI_TRUSTED_PROXIES (IPs or networks)."""
    return proxies.peer_in(address, settings.UZI_TRUSTED_PROXIES, setting="UZI_TRUSTED_PROXIES")


def trusted_proxy_networks() -> list[proxies.Network]:
    """settings.UZI_TRUSTED_PROXIES as networks; an entry that is not an IP or CIDR is an error."""
    return proxies.networks(settings.UZI_TRUSTED_PROXIES, setting="UZI_TRUSTED_PROXIES")


def parse_escaped_pem(value: str) -> x509.Certificate:
    """One certificate from nginx's URL-escaped PEM; ValueError for anything else."""
    try:
        pem = urllib.parse.unquote(value, errors="strict").strip()
        data = pem.encode("ascii")
    except UnicodeError as error:
        raise ValueError("not ASCII PEM") from error
    if pem.count(PEM_BEGIN) != 1 or not pem.startswith(PEM_BEGIN):
        raise ValueError("not exactly one PEM certificate")
    return x509.load_pem_x509_certificate(data)
