"""OpenID Connect Back-Channel Logout 1.0: telling an application that a session it signed in
through has ended (docs/oidc.md, "Logout").

**The outbox.** logout.end_sign_ins writes a `LogoutDelivery` row and queues `deliver_logout`
(django-tasks' database backend) in the transaction that ended the session: a change that
rolls back tells nobody, one that commits is never lost, and the person's request never waits
for an application. The worker claims the row (pending → sending, a row lock), POSTs outside
any transaction, and writes the outcome: `sso.logout_sent`, or a retry planned after
policies.logout_retry_delay, or after policies.OIDC_LOGOUT_MAX_ATTEMPTS `sso.logout_failed`
(in the log of the sign-in's organisation).

**The logout token** (section 2.4), made at each attempt so a retry is never stale: a JWT
signed with the key that signs ID tokens now (keys.py), header `typ: logout+jwt` (section 2.4,
against its use as an ID token), claims `iss`, `aud` (the client ID), `iat`, `exp`
(policies.OIDC_LOGOUT_TOKEN_TTL), `jti` (random), `sub` (as that application knows the person:
claims.subject), `sid` (the session's, logout.py), `events` with the back-channel logout event,
and never a `nonce` (section 2.4: so it cannot pass for an ID token).

**The POST** (section 2.5): `logout_token` as a form field to the registered back-channel URI.
The URI was registered by an operator, but the request leaves from inside our network, so:
no redirect is followed (a 3xx is a failure), short timeouts (policies.OIDC_LOGOUT_*_TIMEOUT),
no proxy or .netrc from the environment, no cookies, and the destination's every address must
be public (not private, loopback, link-local, reserved or multicast) — loopback is allowed only
in development (settings.OIDC_LOOPBACK_HTTP_REDIRECTS, as for redirect URIs). The name is
resolved once for the check and again by the HTTP client; a DNS answer that changes in between
(rebinding) remains possible, and the registration by an operator is what stands against it.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django_tasks import task
from jwcrypto import jwt

from zorgsleutel import policies
from zorgsleutel.core import audit, clock
from zorgsleutel.oidc import keys
from zorgsleutel.oidc.models import LogoutDelivery
from zorgsleutel.oidc.validator import issuer

logger = logging.getLogger(__name__)

EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOOPBACK_HOSTS = ("127.0.0.1", "::1", "localhost")


class DeliveryError(Exception):
    """The application was not told (its answer, or why we did not ask)."""


# --- The token --------------------------------------------------------------------------------


def logout_token(delivery: LogoutDelivery, now: datetime) -> str:
    """The signed logout token for this delivery, made at `now`."""
    payload = {
        "iss": issuer(),
        "aud": delivery.client.application.client_id,
        "iat": int(now.timestamp()),
        "exp": int((now + policies.OIDC_LOGOUT_TOKEN_TTL).timestamp()),
        "jti": str(uuid.uuid4()),
        "sub": delivery.sub,
        "events": {EVENT: {}},
    }
    if delivery.sid:
        payload["sid"] = delivery.sid
    key = keys.signing_key()
    signed = jwt.JWT(
        header=json.dumps({"typ": "logout+jwt", "alg": key.algorithm, "kid": key.kid}),
        claims=json.dumps(payload),
    )
    signed.make_signed_token(key.key)
    return signed.serialize()


# --- The destination --------------------------------------------------------------------------


def _loopback_allowed() -> bool:
    return bool(settings.OIDC_LOOPBACK_HTTP_REDIRECTS)


def check_destination(uri: str) -> None:
    """Raise DeliveryError unless `uri` may be POSTed to: https (http only to loopback in
    development), and every address its host resolves to public (loopback in development)."""
    parts = urlsplit(uri)
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise DeliveryError("not an http(s) URI")
    if parts.scheme == "http" and not (_loopback_allowed() and host in LOOPBACK_HOSTS):
        raise DeliveryError("plain http is for loopback in development only")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (OSError, ValueError) as error:
        raise DeliveryError(f"cannot resolve {host}: {error}") from None
    for *_rest, address in found:
        ip = ipaddress.ip_address(address[0].split("%")[0])
        if ip.is_loopback and _loopback_allowed():
            continue
        if not ip.is_global or ip.is_multicast:
            raise DeliveryError(f"{host} resolves to an address that is not public ({ip})")


def post(uri: str, token: str) -> None:
    """POST the logout token; raise DeliveryError unless the application answers 200 (or
    204)."""
    check_destination(uri)
    with requests.Session() as http:
        http.trust_env = False  # no proxy, no .netrc from the environment
        try:
            response = http.post(
                uri,
                data={"logout_token": token},
                headers={"Cache-Control": "no-store"},
                timeout=(policies.OIDC_LOGOUT_CONNECT_TIMEOUT, policies.OIDC_LOGOUT_READ_TIMEOUT),
                allow_redirects=False,
            )
        except requests.RequestException as error:
            raise DeliveryError(type(error).__name__) from None
    if response.status_code not in (200, 204):
        raise DeliveryError(f"HTTP {response.status_code}")


# --- The outbox -------------------------------------------------------------------------------


def queue(delivery: LogoutDelivery, *, run_after: datetime | None = None) -> None:
    """Queue the delivery's task in the caller's transaction (django-tasks' database backend)."""
    (deliver_logout.using(run_after=run_after) if run_after else deliver_logout).enqueue(
        delivery.pk
    )


def _claim(delivery_id: int) -> LogoutDelivery | None:
    with transaction.atomic():
        delivery = (
            LogoutDelivery.objects.select_for_update(of=("self",))
            .select_related("client__application")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status != LogoutDelivery.PENDING:
            return None
        delivery.status = LogoutDelivery.SENDING
        delivery.attempts += 1
        delivery.claimed_at = clock.now()
        delivery.save(update_fields=["status", "attempts", "claimed_at"])
        return delivery


@task()
def deliver_logout(delivery_id: int) -> str:
    """One attempt at one back-channel logout."""
    delivery = _claim(delivery_id)
    if delivery is None:
        return "skipped"
    try:
        post(delivery.client.backchannel_logout_uri, logout_token(delivery, clock.now()))
    except DeliveryError as error:
        return _failed(delivery, str(error))
    with transaction.atomic():
        LogoutDelivery.objects.filter(pk=delivery.pk).update(
            status=LogoutDelivery.SENT, sent_at=clock.now(), last_error="", next_attempt_at=None
        )
        _record("sso.logout_sent", delivery)
    return LogoutDelivery.SENT


def _failed(delivery: LogoutDelivery, error: str) -> str:
    with transaction.atomic():
        if delivery.attempts >= policies.OIDC_LOGOUT_MAX_ATTEMPTS:
            status, next_at = LogoutDelivery.FAILED, None
            _record("sso.logout_failed", delivery, outcome=audit.FAILURE)
            logger.error(
                "back-channel logout %s given up after %s attempts: %s",
                delivery.public_id,
                delivery.attempts,
                error,
            )
        else:
            status = LogoutDelivery.PENDING
            next_at = clock.now() + policies.logout_retry_delay(delivery.attempts)
            queue(delivery, run_after=next_at)
            logger.warning(
                "back-channel logout %s attempt %s failed: %s",
                delivery.public_id,
                delivery.attempts,
                error,
            )
        LogoutDelivery.objects.filter(pk=delivery.pk).update(
            status=status, next_attempt_at=next_at, last_error=error[:300]
        )
    return status


def requeue_stranded(*, older_than: timedelta = timedelta(minutes=15)) -> int:
    """Queue again the deliveries whose task was lost, and return how many: a worker that died
    after claiming one (left `sending`) or before (left `pending` with no planned attempt).
    A second task for a delivery that still has one is harmless: only one claims it (a row
    lock, pending → sending), the other skips it. (`zorgsleutel oidc requeue-logouts`.)"""
    cutoff = clock.now() - older_than
    count = 0
    with transaction.atomic():
        stuck = LogoutDelivery.objects.select_for_update().filter(
            status=LogoutDelivery.SENDING, claimed_at__lt=cutoff
        )
        stuck_ids = list(stuck.values_list("pk", flat=True))
        LogoutDelivery.objects.filter(pk__in=stuck_ids).update(status=LogoutDelivery.PENDING)
        waiting = LogoutDelivery.objects.filter(
            status=LogoutDelivery.PENDING, created_at__lt=cutoff
        ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lt=cutoff))
        for delivery_id in sorted(set(stuck_ids) | set(waiting.values_list("pk", flat=True))):
            deliver_logout.enqueue(delivery_id)
            count += 1
    return count


def _record(action: str, delivery: LogoutDelivery, **options) -> None:
    audit.record(
        action,
        actor=delivery.client,
        organisation=delivery.organisation,
        target=delivery.user,
        details={
            "client_id": delivery.client.application.client_id,
            "reason": delivery.reason,
            "attempts": delivery.attempts,
        },
        **options,
    )
