"""Which TCP peers are our own reverse proxies, so that headers they set may be believed.

A client can send any header; only the socket peer (REMOTE_ADDR) is not the client's to choose.
So X-Forwarded-Proto (core.middleware.ForwardedProtoMiddleware, settings.TRUSTED_PROXIES) and
the client-certificate header (core.clientcert, settings.UZI_TRUSTED_PROXIES) are read only when
that peer lies in the configured list. Never decide this on X-Forwarded-For: the client writes it.
"""

from __future__ import annotations

import ipaddress

from django.core.exceptions import ImproperlyConfigured

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(entries: list[str], *, setting: str) -> list[Network]:
    """IP addresses or CIDR networks; an entry that is neither is a configuration error."""
    result = []
    for entry in entries:
        try:
            result.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ImproperlyConfigured(
                f"{setting}: {entry!r} is not an IP address or network."
            ) from None
    return result


def peer_in(address: str, entries: list[str], *, setting: str) -> bool:
    """Whether a socket peer address lies in `entries` (the value of the setting named)."""
    try:
        peer = ipaddress.ip_address(address)
    except ValueError:
        return False  # "" from a unix socket, or garbage: never trusted
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped:
        peer = peer.ipv4_mapped  # ::ffff:127.0.0.1 from a dual-stack listener
    return any(peer in network for network in networks(entries, setting=setting))
