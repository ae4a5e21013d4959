"""The smartcard CA's published status: the CRL and the OCSP answers relying parties fetch
(docs/smartcards.md, "Status: CRL and OCSP").

The Smartcard table is the truth: ACTIVE is good, BLOCKED on hold (certificateHold), REVOKED
revoked with its reason. What is published follows it:

- `card_changed(card)`, called inside the transaction that changed a card's state (or issued
  it), publishes after commit: a new CRL (its number one higher, kept in PublishedStatus) and
  the card's answer without a nonce (RFC 5019), signed once and kept in Django's cache until
  its nextUpdate. The card's old answer leaves the cache first, so a failure to sign (the token
  unavailable) leaves no stale answer behind, only a CRL marked stale.
- `answer(request_der)`: an OCSP request with a nonce gets a freshly signed answer (RFC 6960),
  the card's state from this process's mirror of the table when it has one (statemirror.py);
  one without gets the cached answer, signed now from the table and cached when missing.
- `current_crl()`: the stored CRL, made again when missing or past its nextUpdate, one
  regeneration at a time (the PublishedStatus row is locked while it is made).

Publications are serialised by the lock on the PublishedStatus row, and each reads the card's
state under it, so the last one to publish writes the latest state. A cache fill by a request
only `add`s (never overwrites), so it cannot replace an answer a later change published.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils.http import http_date

from zorgsleutel import policies
from zorgsleutel.core import clock
from zorgsleutel.core.errors import ServiceUnavailable
from zorgsleutel.smartcards import responder, runtime, statemirror, status
from zorgsleutel.smartcards.ca import ISSUING
from zorgsleutel.smartcards.models import PublishedStatus, Smartcard

logger = logging.getLogger(__name__)

PUBLISHED = 1  # the primary key of the one PublishedStatus row
CACHE_PREFIX = "smartcards:ocsp"
# The CertID hashes a request may use: RFC 5019 asks SHA-1; answers to SHA-256 ones are cached
# too when asked for, and leave the cache with the card's change like the others.
CERT_ID_HASHES = (hashes.SHA1(), hashes.SHA256())  # noqa: S303 (RFC 5019's CertID)
_REASONS = {flag.name: flag for flag in x509.ReasonFlags}


# --- the status of a serial ------------------------------------------------------------------


def _entry(serial: int, state: str, changed_at: datetime, reason: str) -> str | status.Revoked:
    changed_at = changed_at.replace(microsecond=0)  # X.509 and OCSP times are whole seconds
    if state == Smartcard.ACTIVE:
        return status.GOOD
    if state == Smartcard.BLOCKED:
        return status.Revoked(serial, changed_at, x509.ReasonFlags.certificate_hold)
    return status.Revoked(serial, changed_at, _REASONS.get(reason, x509.ReasonFlags.unspecified))


@functools.cache
def _status_statement() -> str:
    """One card's state by serial, with table and column names from `_meta`. Through the ORM's
    query building this lookup took 0.39 ms, through `QuerySet.raw()` 0.11 ms, on a cursor
    0.02 ms, of an answer with a nonce of about 0.6 ms (docs/benchmarks.md, OCSP)."""
    quote = connection.ops.quote_name
    table = quote(Smartcard._meta.db_table)
    columns = ", ".join(
        quote(Smartcard._meta.get_field(name).column)
        for name in ("state", "state_changed_at", "revocation_reason")
    )
    serial = quote(Smartcard._meta.get_field("serial").column)
    return f"SELECT {columns} FROM {table} WHERE {serial} = %s"  # noqa: S608 (names from _meta)


def status_of(serial: int) -> str | status.Revoked | None:
    """What the Smartcard table says of the certificate with this serial: status.GOOD, a
    Revoked entry (on hold or revoked for good), or None for a serial the CA never issued. From
    this process's mirror of the table when one is ready and holds the serial (statemirror.py:
    `smartcard-ca serve` on PostgreSQL), else from the table."""
    if serial < 0:
        return None
    held = statemirror.state_of(serial)
    if held is None:
        return status_in_table(serial)
    state, changed_at, reason = held
    return _entry(serial, state, changed_at, reason)


def status_in_table(serial: int) -> str | status.Revoked | None:
    """As status_of, read from the table itself: for answers kept in a cache (an hour), which
    must never come from a mirror that a change's notification has not reached yet."""
    if serial < 0:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_status_statement(), [f"{serial:x}"])
        row = cursor.fetchone()
    if row is None:
        return None
    state, changed_at, reason = row
    if changed_at.tzinfo is None:  # SQLite's: stored in UTC (USE_TZ), read without a zone
        changed_at = changed_at.replace(tzinfo=UTC)
    return _entry(serial, state, changed_at, reason)


# --- OCSP --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """An OCSP response (DER) and, for one a cache may keep (signed, no nonce), its times."""

    body: bytes
    this_update: datetime | None = None
    next_update: datetime | None = None

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:32] + '"'

    def headers(self, now: datetime) -> dict[str, str]:
        """RFC 5019 section 6 for a cacheable answer (until its nextUpdate); else no-store."""
        headers = {"Content-Type": "application/ocsp-response"}
        if self.next_update is None or self.this_update is None:
            return headers | {"Cache-Control": "no-store"}
        seconds = max(int((self.next_update - now).total_seconds()), 0)
        return headers | {
            "Cache-Control": f"max-age={seconds}, public, no-transform, must-revalidate",
            "Last-Modified": http_date(self.this_update.timestamp()),
            "Expires": http_date(self.next_update.timestamp()),
            "ETag": self.etag,
        }


def _unsuccessful(response_status: ocsp.OCSPResponseStatus) -> Answer:
    return Answer(
        ocsp.OCSPResponseBuilder.build_unsuccessful(response_status).public_bytes(
            serialization.Encoding.DER
        )
    )


MALFORMED = _unsuccessful(ocsp.OCSPResponseStatus.MALFORMED_REQUEST)
TRY_LATER = _unsuccessful(ocsp.OCSPResponseStatus.TRY_LATER)
UNAUTHORIZED = _unsuccessful(ocsp.OCSPResponseStatus.UNAUTHORIZED)


def _cache_key(algorithm: str, name_hash: bytes, key_hash: bytes, serial: int) -> str:
    """The cached answer for this CertID (hash algorithm, issuer's name and key, serial)."""
    return f"{CACHE_PREFIX}:{algorithm}:{name_hash.hex()}:{key_hash.hex()}:{serial:x}"


def _cache_keys(issuer: x509.Certificate, serial: int) -> list[str]:
    return [
        _cache_key(algorithm.name, *status.issuer_hashes(issuer, type(algorithm)), serial)
        for algorithm in CERT_ID_HASHES
    ]


def _now() -> datetime:
    return clock.now().replace(microsecond=0)  # the answers' times are whole seconds


def _signed(request: ocsp.OCSPRequest, nonce: bytes | None) -> tuple[bytes, bool, datetime]:
    """The answer signed now by this process's responder, whether it is a successful answer
    about a card we issued (worth caching: not unauthorized, another CA's certificate, nor
    unknown), and its thisUpdate. ServiceUnavailable when no responder can be certified. An
    answer with a nonce serves one request and may read the mirror; one without is kept in the
    cache for an hour and reads the table."""
    signer = responder.current()  # certifying the first takes a moment: the time comes after
    now = _now()
    if not status.ours(signer, request):
        return UNAUTHORIZED.body, False, now
    read = status_of if nonce is not None else status_in_table
    found = read(request.serial_number)
    return status.signed(signer, request, found, nonce=nonce, now=now), found is not None, now


def answer(request_der: bytes) -> Answer:
    """The answer to one OCSP request (DER): malformedRequest for bytes that are none, tryLater
    while the CA cannot sign, else a signed answer: fresh for a request with a nonce, from the
    cache for one without (signed now and cached when missing)."""
    try:
        request = ocsp.load_der_ocsp_request(request_der)
        nonce = status.nonce_of(request)  # a malformed extension raises here, not later
    except ValueError:
        return MALFORMED
    if nonce is not None:
        try:
            body, _, _ = _signed(request, nonce)
        except ServiceUnavailable:
            return TRY_LATER
        return Answer(body)
    key = _cache_key(
        request.hash_algorithm.name,
        request.issuer_name_hash,
        request.issuer_key_hash,
        request.serial_number,
    )
    cached = cache.get(key)
    if cached is not None:
        body, this_update, next_update = cached
        return Answer(body, this_update, next_update)
    try:
        body, known, now = _signed(request, None)
    except ServiceUnavailable:
        return TRY_LATER
    if not known:  # unauthorized, or a serial never issued: answered, never cached
        return Answer(body)
    fresh = Answer(body, now, now + policies.SMARTCARD_OCSP_NEXT_UPDATE)
    _keep(key, fresh, now, add=True)
    return fresh


def _keep(key: str, fresh: Answer, now: datetime, *, add: bool) -> None:
    seconds = int((fresh.next_update - now).total_seconds())
    value = (fresh.body, fresh.this_update, fresh.next_update)
    if add:
        cache.add(key, value, seconds)
    else:
        cache.set(key, value, seconds)


def _presigned(signer: responder.Responder, serial: int, now: datetime) -> tuple[str, Answer]:
    """The card's RFC 5019 answer (SHA-1 CertID, no nonce), signed now, and its cache key."""
    sha1 = hashes.SHA1()  # noqa: S303 (RFC 5019's CertID)
    name_hash, key_hash = status.issuer_hashes(signer.issuer, hashes.SHA1)
    request = (
        ocsp.OCSPRequestBuilder()
        .add_certificate_by_hash(name_hash, key_hash, serial, sha1)
        .build()
        .public_bytes(serialization.Encoding.DER)
    )
    body = status.ocsp_answer(signer, request, status_in_table, now=now)
    return _cache_key(sha1.name, name_hash, key_hash, serial), Answer(
        body, now, now + policies.SMARTCARD_OCSP_NEXT_UPDATE
    )


# --- the CRL -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Crl:
    der: bytes
    number: int
    this_update: datetime
    next_update: datetime

    @property
    def etag(self) -> str:
        return f'"crl-{self.number}"'

    def headers(self, now: datetime) -> dict[str, str]:
        seconds = max(int((self.next_update - now).total_seconds()), 0)
        return {
            "Content-Type": "application/pkix-crl",
            "Cache-Control": f"max-age={seconds}, public, no-transform, must-revalidate",
            "Last-Modified": http_date(self.this_update.timestamp()),
            "Expires": http_date(self.next_update.timestamp()),
            "ETag": self.etag,
        }


def _listed(now: datetime) -> list[status.Revoked]:
    """The cards on the CRL: blocked or revoked, their certificates not yet expired."""
    rows = (
        Smartcard.objects.filter(
            state__in=(Smartcard.BLOCKED, Smartcard.REVOKED), not_after__gt=now
        )
        .order_by("state_changed_at", "pk")
        .values_list("serial", "state", "state_changed_at", "revocation_reason")
    )
    return [_entry(int(serial, 16), state, at, reason) for serial, state, at, reason in rows]


def _crl_of(row: PublishedStatus) -> Crl:
    return Crl(bytes(row.crl), row.crl_number, row.changed_at, row.crl_next_update)


def _fresh(row: PublishedStatus | None, now: datetime) -> bool:
    return bool(row and row.crl and row.crl_next_update and row.crl_next_update > now)


def publish_crl(*, only_if_stale: bool = False) -> Crl:
    """Sign a new CRL (its number one higher) and store it; with `only_if_stale`, only when the
    stored one is missing or past its nextUpdate. The PublishedStatus row stays locked while
    the CRL is made: one regeneration at a time. ServiceUnavailable when the CA cannot sign."""
    with transaction.atomic():
        PublishedStatus.objects.get_or_create(pk=PUBLISHED)
        row = PublishedStatus.objects.select_for_update().get(pk=PUBLISHED)
        if only_if_stale and _fresh(row, clock.now()):
            return _crl_of(row)  # another request made it while this one waited for the lock
        now = _now()
        number = row.crl_number + 1
        entries = _listed(now)
        row.crl = runtime.with_ca(lambda ca: status.crl(ca, entries, number=number, now=now))
        row.crl_number = number
        row.changed_at = now
        row.crl_next_update = now + policies.SMARTCARD_CRL_NEXT_UPDATE
        row.save()
        return _crl_of(row)


def current_crl() -> Crl:
    """The CRL to serve: the stored one, made again when missing or past its nextUpdate."""
    row = PublishedStatus.objects.filter(pk=PUBLISHED).first()
    if _fresh(row, clock.now()):
        return _crl_of(row)
    return publish_crl(only_if_stale=True)


# --- after a change -----------------------------------------------------------------------------


def card_changed(card: Smartcard) -> None:
    """Publish `card`'s new state once the transaction that changed it (or issued it) commits:
    a new CRL, the card's pre-signed answer, and the news to the responders' mirrors of the
    table (statemirror.py: a NOTIFY, delivered on commit). Call it inside that transaction."""
    serial = int(card.serial, 16)
    statemirror.announce(card.serial)
    transaction.on_commit(lambda: _publish(serial), robust=True)


def _publish(serial: int) -> None:
    """After commit: the card's old answers out of the cache, then a new CRL and the card's
    answer, signed under the PublishedStatus lock. When the CA cannot sign, the CRL is marked
    stale (the next fetch makes it again) and the card's answer is signed when it is asked for."""
    cache.delete_many(_cache_keys(issuing_certificate(), serial))
    try:
        signer = responder.current()  # outside the transaction: its event stays
        with transaction.atomic():
            publish_crl()
            now = _now()
            key, fresh = _presigned(signer, serial, now)
            _keep(key, fresh, now, add=False)
    except ServiceUnavailable:
        PublishedStatus.objects.filter(pk=PUBLISHED).update(crl_next_update=clock.now())
        logger.error("smartcard %x changed; its CRL and answer are made when next asked", serial)


# --- the CA certificate ------------------------------------------------------------------------


def issuing_certificate() -> x509.Certificate:
    """The issuing CA's certificate, read from SMARTCARD_CA_DIR (no token needed: relying
    parties fetch it, and a change's old answers leave the cache even while the token is
    unavailable). ServiceUnavailable when the file is missing."""
    path = Path(settings.SMARTCARD_CA_DIR) / f"{ISSUING}.pem"
    try:
        changed = path.stat().st_mtime_ns
    except OSError:
        logger.error("the smartcard CA's certificate %s is missing", path)
        raise runtime.unavailable() from None
    return _load_certificate(str(path), changed)


@functools.lru_cache(maxsize=4)
def _load_certificate(path: str, changed: int) -> x509.Certificate:
    return x509.load_pem_x509_certificate(Path(path).read_bytes())
