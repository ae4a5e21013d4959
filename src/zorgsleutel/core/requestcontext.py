"""Who is asking, from where: kept per request so audit events can name IP and user agent."""

from __future__ import annotations

import contextvars
import ipaddress
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest

from zorgsleutel import policies
from zorgsleutel.core import proxies


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    user_agent: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "zs_request_context",
    default=RequestContext(),  # noqa: B039 (a frozen dataclass: immutable)
)


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or the nearest X-Forwarded-For hop when the peer is a trusted proxy."""
    remote = request.META.get("REMOTE_ADDR") or None
    if remote and proxies.peer_in(remote, settings.TRUSTED_PROXIES, setting="TRUSTED_PROXIES"):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            candidate = hops[-1]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                return remote
    return remote


def limit_key(ip: str | None) -> str:
    """What a limit "per address" counts: the address, or for IPv6 its network
    (policies.IPV6_LIMIT_PREFIX), so a client cannot walk its own /64 to get fresh budgets."""
    if not ip:
        return "-"
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        prefix = policies.IPV6_LIMIT_PREFIX
        return str(ipaddress.IPv6Network(f"{address}/{prefix}", strict=False))
    return str(address)


def from_request(request: HttpRequest) -> RequestContext:
    agent = request.META.get("HTTP_USER_AGENT", "")[:400]
    return RequestContext(ip=client_ip(request), user_agent=agent)


def current() -> RequestContext:
    return _current.get()


def activate(context: RequestContext) -> contextvars.Token:
    return _current.set(context)


def reset(token: contextvars.Token) -> None:
    _current.reset(token)
