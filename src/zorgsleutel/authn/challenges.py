"""Cross-device challenges: a browser shows one, another device answers it, the browser collects.

The app's QR login, the app's enrolment and the UZI card's presentation are the same shape, and
whatever comes next (a smartcard login, single sign-on on a phone) will be too:

  1. `start()` makes a challenge bound to the browser session that asked (by a hash of its key)
     and to the host, with random bytes for the answering device to sign;
  2. the capability that owns the kind verifies the answer and calls `answer()` inside its
     transaction: accepted (with what it found) or refused (with why, in each language);
  3. the browser's page polls one view (views.status). Most polls read one cache key: no
     session, no row lock. Once answered, the session that asked collects the outcome exactly
     once (`collect()`), and the finisher registered for its purpose turns it into the next
     page: a login (sessions.complete_login), a validated applicant, a linked app.

`kind` says who answers (the app, a card); `purpose` what an accepted answer does. Capabilities
register a purpose's finisher from their AppConfig.ready (`register_finisher`); authn imports
no capability.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from zorgsleutel.authn.models import Challenge
from zorgsleutel.core import clock
from zorgsleutel.core.errors import DomainError, NotFound, PermissionDenied

# (kind, purpose) → its finisher: (request, Collected) → {"status": "ok", "next": url}, or
# {"status": "refused", "message": ...}.
_FINISHERS: dict[tuple[str, str], Callable] = {}


def register_finisher(kind: str, purpose: str, finish: Callable) -> None:
    held = _FINISHERS.get((kind, purpose))
    if held is not None and held is not finish:
        raise ValueError(f"challenge purpose {purpose!r} of {kind!r} has a finisher already")
    _FINISHERS[(kind, purpose)] = finish


def finisher(kind: str, purpose: str) -> Callable:
    return _FINISHERS[(kind, purpose)]


def session_hash(session_key: str) -> str:
    return hashlib.sha256(("zs-challenge-session:" + session_key).encode()).hexdigest()


def invalid() -> NotFound:
    return NotFound(
        "challenge_invalid", _("This code is not valid (any more). Start again on the page.")
    )


def start(
    *,
    kind: str,
    session_key: str,
    host: str,
    ttl: timedelta,
    prefix: str,
    browser: str = "",
    purpose: str = "",
    subject: str = "",
    code_alphabet: str = "",
) -> Challenge:
    """A challenge for this browser session. With `code_alphabet`, also an 8-character code
    to type into a client (a collision, 1 in 31^8, draws another)."""
    now = clock.now()
    for _attempt in range(5):
        code = "".join(secrets.choice(code_alphabet) for _ in range(8)) if code_alphabet else None
        try:
            with transaction.atomic():
                return Challenge.objects.create(
                    kind=kind,
                    public_id=prefix + secrets.token_urlsafe(16),
                    code=code,
                    challenge=secrets.token_bytes(32),
                    session_hash=session_hash(session_key),
                    host=host[:200],
                    browser=browser[:200],
                    purpose=purpose,
                    subject=subject,
                    created_at=now,
                    expires_at=now + ttl,
                )
        except IntegrityError:
            continue
    raise DomainError("try_again", _("Please try again."))  # pragma: no cover - 5 collisions


@functools.cache
def _pending_statement(column: str, lock: bool, vendor: str) -> str:
    quote = connection.ops.quote_name
    table = quote(Challenge._meta.db_table)
    kind = quote(Challenge._meta.get_field("kind").column)
    key = quote(
        Challenge._meta.pk.column if column == "pk" else Challenge._meta.get_field(column).column
    )
    statement = f"SELECT * FROM {table} WHERE {kind} = %s AND {key} = %s"  # noqa: S608
    # FOR UPDATE where the database has it (PostgreSQL); SQLite's write transaction, begun
    # IMMEDIATE (settings), already keeps every other writer out, as select_for_update() knows.
    if lock and connection.features.has_select_for_update:
        statement += " FOR UPDATE"
    return statement


def pending(kind: str, *, lock: bool = False, invalid_error=invalid, **lookup) -> Challenge:
    """The open challenge of this kind (`public_id=`, `code=` or `pk=`), else `invalid_error()`.

    One statement through `QuerySet.raw()` (Django's documented way to run SQL into model
    instances; names from the model's `_meta`, values as parameters): every card login asks
    this three times, and the ORM's query building cost three times the statement's own CPU
    (docs/benchmarks.md, "Smartcards: complete logins per second").
    tests/authn/test_challenges.py pins what it must keep: its kind, open, not expired, and
    the row lock (which, as with select_for_update(), only a transaction may ask for)."""
    [(field, value)] = lookup.items()
    if field not in ("public_id", "code", "pk"):
        raise TypeError(f"a pending challenge is found by public_id, code or pk, not {field!r}")
    if lock and not connection.in_atomic_block:
        raise TransactionManagementError("a locked challenge needs a transaction")
    statement = _pending_statement(field, lock, connection.vendor)
    challenge = next(iter(Challenge.objects.raw(statement, [kind, value])), None)
    if (
        challenge is None
        or challenge.status != Challenge.PENDING
        or clock.now() >= challenge.expires_at
    ):
        raise invalid_error()
    return challenge


def _held_digest(value: str) -> str:
    return hashlib.sha256(("zs-challenge-held:" + value).encode()).hexdigest()


def hold(kind: str, *, public_id: str, held: dict, invalid_error=invalid) -> str:
    """Keep an answer presented where the asking browser's session is not (the UZI host is
    another origin: the portal's cookies never reach it) on the open challenge, and return a
    one-time value for the presenting browser's way back to the portal.

    Only `release()` turns it into an answer, for the session that started the challenge and
    brings this value: both at once, so a link to the UZI host that the one who started the
    challenge relays to someone else's browser ends there (that browser has the value but not
    the session, the starter has the session but never sees the value). The value is 32 random
    bytes, stored only as a SHA-256 hash, single use, and dies with the challenge; a later
    presentation replaces the earlier one and its value."""
    value = secrets.token_urlsafe(32)
    with transaction.atomic():
        challenge = pending(kind, lock=True, public_id=public_id, invalid_error=invalid_error)
        challenge.held, challenge.held_hash = held, _held_digest(value)
        challenge.save(update_fields=["held", "held_hash"])
    return value


def other_browser() -> PermissionDenied:
    return PermissionDenied(
        "other_browser",
        _(
            "This can only be finished in the browser where it was started, right after "
            "presenting the card. Start again on the page in that browser."
        ),
    )


def release(
    kind: str, *, public_id: str, session_key: str, value: str, invalid_error=invalid
) -> dict:
    """What `hold()` kept, once: only for the session that started the challenge, bringing the
    value `hold()` handed out. Otherwise `other_browser()`, and the held answer stays for the
    right browser. Commits on its own: the value is used up whatever the answer becomes."""
    with transaction.atomic():
        challenge = pending(kind, lock=True, public_id=public_id, invalid_error=invalid_error)
        own_session = bool(session_key) and hmac.compare_digest(
            challenge.session_hash, session_hash(session_key)
        )
        own_value = bool(challenge.held_hash and value) and hmac.compare_digest(
            challenge.held_hash, _held_digest(value)
        )
        if not (own_session and own_value):
            raise other_browser()
        held = challenge.held
        challenge.held, challenge.held_hash = {}, ""
        challenge.save(update_fields=["held", "held_hash"])
    return held


def messages_in_each_language(message) -> dict:
    """A refusal as the browser's page will show it, whichever language it asks in."""
    from django.conf import settings

    out = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            out[language] = str(message)
    return out


def answer(challenge: Challenge, *, result: dict, person=None, refusal=None) -> None:
    """Record the answer, inside the caller's transaction (which holds the row lock): accepted,
    or refused with `refusal` (a DomainError). The waiting page learns of it after the commit."""
    if refusal is not None:
        challenge.status = Challenge.REFUSED
        challenge.result = {
            "error": refusal.code,
            "message": messages_in_each_language(refusal.message),
        }
    else:
        challenge.status = Challenge.ACCEPTED
        challenge.result = result
        challenge.person = person
    challenge.save(update_fields=["status", "result", "person"])
    ttl = max(int((challenge.expires_at - clock.now()).total_seconds()), 0) + 60
    done = challenge.public_id
    transaction.on_commit(lambda: cache.set(_flag(done), "answered", ttl))


def _flag(public_id: str) -> str:
    return f"challenge-answered:{public_id}"


def maybe_answered(public_id: str) -> bool:
    """The waiting page's cheap poll: one cache read. False means "still waiting"."""
    return cache.get(_flag(public_id)) is not None


@dataclass(frozen=True)
class Collected:
    status: str  # "waiting" | "accepted" | "refused"
    public_id: str = ""
    kind: str = ""
    result: dict | None = None
    purpose: str = ""
    subject: str = ""
    person: object = None

    def refusal_message(self) -> str:
        messages = (self.result or {}).get("message") or {}
        return messages.get(translation.get_language() or "nl") or messages.get("nl", "")


def collect(*, session_key: str, public_id: str) -> Collected:
    """The browser that asked: the outcome, once (an accepted challenge is then used up); a
    refusal stays readable. Another session, or a used challenge, is told it is invalid."""
    with transaction.atomic():
        challenge = (
            Challenge.objects.select_for_update(of=("self",))
            .select_related("person")
            .filter(public_id=public_id[:40], session_hash=session_hash(session_key))
            .first()
        )
        if challenge is None or challenge.status == Challenge.CONSUMED:
            raise invalid()
        if challenge.status == Challenge.PENDING:
            if clock.now() >= challenge.expires_at:
                raise NotFound("challenge_expired", _("The code has expired. Reload the page."))
            return Collected("waiting", challenge.public_id, challenge.kind)
        if challenge.status == Challenge.ACCEPTED and clock.now() >= challenge.expires_at:
            # Answered, but not collected in time: what the answer proved may no longer hold
            # (an app blocked since, an organisation suspended).
            raise NotFound("challenge_expired", _("The code has expired. Reload the page."))
        facts = (
            challenge.public_id,
            challenge.kind,
            challenge.result,
            challenge.purpose,
            challenge.subject,
            challenge.person,
        )
        if challenge.status == Challenge.ACCEPTED:
            challenge.status = Challenge.CONSUMED
            challenge.save(update_fields=["status"])
            return Collected("accepted", *facts)
        return Collected("refused", *facts)


def finish(request, public_id: str) -> dict:
    """Collect the outcome for this request's session and let the finisher registered for the
    challenge's kind and purpose make the next page, in the transaction that used the challenge
    up: {"status": "ok", "next": url}, "refused", "waiting", "expired" (with its code,
    challenge_expired or challenge_invalid, and a message) or "invalid" (no session). The one
    polling view and a page the browser returns to (the TLS path) both end here."""
    key = request.session.session_key
    if not key:
        return {"status": "invalid"}
    try:
        with transaction.atomic():
            collected = collect(session_key=key, public_id=public_id)
            if collected.status == "waiting":
                return {"status": "waiting"}
            return finisher(collected.kind, collected.purpose)(request, collected)
    except DomainError as error:
        return {"status": "expired", "error": error.code, "message": str(error.message)}
